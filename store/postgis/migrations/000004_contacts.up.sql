-- The duty contacts of targets, hazards and bridges: personal data, which
-- tiles never carry. Made from the layer catalog
-- (store/postgis/schema.go); TestMigrationMatchesCatalog keeps it so.

ALTER TABLE "bridge" ADD COLUMN "contact" text, ADD COLUMN "contact_phone" text;
UPDATE "bridge" SET "contact" = (extra->>'contact')::text, "contact_phone" = (extra->>'contact_phone')::text,
    extra = NULLIF(extra - ARRAY['contact', 'contact_phone'], '{}'::jsonb)
    WHERE extra ?| ARRAY['contact', 'contact_phone'];

ALTER TABLE "protective_target" ADD COLUMN "contact" text, ADD COLUMN "contact_phone" text;
UPDATE "protective_target" SET "contact" = (extra->>'contact')::text, "contact_phone" = (extra->>'contact_phone')::text,
    extra = NULLIF(extra - ARRAY['contact', 'contact_phone'], '{}'::jsonb)
    WHERE extra ?| ARRAY['contact', 'contact_phone'];

ALTER TABLE "hazard" ADD COLUMN "contact" text, ADD COLUMN "contact_phone" text;
UPDATE "hazard" SET "contact" = (extra->>'contact')::text, "contact_phone" = (extra->>'contact_phone')::text,
    extra = NULLIF(extra - ARRAY['contact', 'contact_phone'], '{}'::jsonb)
    WHERE extra ?| ARRAY['contact', 'contact_phone'];
