UPDATE "hazard" SET extra = COALESCE(extra, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('contact', "contact", 'contact_phone', "contact_phone"))
    WHERE "contact" IS NOT NULL OR "contact_phone" IS NOT NULL;
ALTER TABLE "hazard" DROP COLUMN "contact", DROP COLUMN "contact_phone";
UPDATE "protective_target" SET extra = COALESCE(extra, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('contact', "contact", 'contact_phone', "contact_phone"))
    WHERE "contact" IS NOT NULL OR "contact_phone" IS NOT NULL;
ALTER TABLE "protective_target" DROP COLUMN "contact", DROP COLUMN "contact_phone";
UPDATE "bridge" SET extra = COALESCE(extra, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('contact', "contact", 'contact_phone', "contact_phone"))
    WHERE "contact" IS NOT NULL OR "contact_phone" IS NOT NULL;
ALTER TABLE "bridge" DROP COLUMN "contact", DROP COLUMN "contact_phone";
