-- The owning unit of each monitoring point, which a unit's users are
-- limited to. Made from the layer catalog
-- (store/postgis/schema.go); TestMigrationMatchesCatalog keeps it so.

ALTER TABLE "sensor" ADD COLUMN "owner" text;
UPDATE "sensor" SET "owner" = (extra->>'owner')::text,
    extra = NULLIF(extra - ARRAY['owner'], '{}'::jsonb)
    WHERE extra ?| ARRAY['owner'];
