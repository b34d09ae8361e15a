UPDATE "sensor" SET extra = COALESCE(extra, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('owner', "owner"))
    WHERE "owner" IS NOT NULL;
ALTER TABLE "sensor" DROP COLUMN "owner";
