-- The one map's layers: a table per catalog layer. Made from the layer
-- catalog (store/postgis/schema.go); TestMigrationMatchesCatalog keeps it so.
CREATE EXTENSION IF NOT EXISTS postgis;

-- layer_version counts the changes of each layer; tiles and their ETags carry
-- it, and onemap hears of changes through NOTIFY onemap_layer.
CREATE TABLE layer_version (
    layer text PRIMARY KEY,
    version bigint NOT NULL DEFAULT 1
);

CREATE FUNCTION onemap_layer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE layer_version SET version = version + 1 WHERE layer = TG_TABLE_NAME;
    PERFORM pg_notify('onemap_layer', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

-- city holds the city's description (city.json).
CREATE TABLE city (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    meta jsonb NOT NULL
);

CREATE TABLE "gas_node" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 14 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "kind" text NOT NULL,
    "name" text,
    "depth_m" double precision,
    "pressure_class" text,
    "valve_well" boolean,
    extra jsonb
);
CREATE INDEX ON "gas_node" USING gist (geom);
CREATE TRIGGER "gas_node_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "gas_node"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('gas_node');

CREATE TABLE "water_node" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 14 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "kind" text NOT NULL,
    "name" text,
    "depth_m" double precision,
    extra jsonb
);
CREATE INDEX ON "water_node" USING gist (geom);
CREATE TRIGGER "water_node_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "water_node"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('water_node');

CREATE TABLE "drain_node" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 14 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "kind" text NOT NULL,
    "name" text,
    "depth_m" double precision,
    "ground_elev_m" double precision,
    "system" text,
    extra jsonb
);
CREATE INDEX ON "drain_node" USING gist (geom);
CREATE TRIGGER "drain_node_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "drain_node"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('drain_node');

CREATE TABLE "heat_node" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 14 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "kind" text NOT NULL,
    "name" text,
    "depth_m" double precision,
    extra jsonb
);
CREATE INDEX ON "heat_node" USING gist (geom);
CREATE TRIGGER "heat_node_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "heat_node"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('heat_node');

CREATE TABLE "district" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 8 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND NOT ST_IsEmpty(geom)),
    "name" text NOT NULL,
    "name_en" text,
    "code" text,
    "population" integer,
    "area_km2" double precision,
    extra jsonb
);
CREATE INDEX ON "district" USING gist (geom);
CREATE TRIGGER "district_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "district"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('district');

CREATE TABLE "water" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 8 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND NOT ST_IsEmpty(geom)),
    "name" text,
    "name_en" text,
    "kind" text NOT NULL,
    extra jsonb
);
CREATE INDEX ON "water" USING gist (geom);
CREATE TRIGGER "water_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "water"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('water');

CREATE TABLE "road" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 10 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "name" text,
    "name_en" text,
    "class" text NOT NULL,
    "lanes" integer,
    "width_m" double precision,
    extra jsonb
);
CREATE INDEX ON "road" USING gist (geom);
CREATE TRIGGER "road_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "road"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('road');

CREATE TABLE "building" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 13 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND NOT ST_IsEmpty(geom)),
    "name" text,
    "use" text NOT NULL,
    "height_m" double precision NOT NULL,
    "floors" integer,
    "population" integer,
    "basement" boolean,
    extra jsonb
);
CREATE INDEX ON "building" USING gist (geom);
CREATE TRIGGER "building_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "building"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('building');

CREATE TABLE "label" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 8 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "name" text NOT NULL,
    "name_en" text,
    "kind" text NOT NULL,
    "rank" integer,
    extra jsonb
);
CREATE INDEX ON "label" USING gist (geom);
CREATE TRIGGER "label_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "label"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('label');

CREATE TABLE "gas_pipe" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 10 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "pressure_class" text NOT NULL,
    "pressure_mpa" double precision NOT NULL,
    "diameter_mm" double precision NOT NULL,
    "material" text NOT NULL,
    "install_year" integer NOT NULL,
    "depth_m" double precision,
    "length_m" double precision,
    "from_node" bigint NOT NULL REFERENCES "gas_node" (id),
    "to_node" bigint NOT NULL REFERENCES "gas_node" (id),
    "road" text,
    "owner" text,
    "in_tunnel" boolean,
    extra jsonb
);
CREATE INDEX ON "gas_pipe" USING gist (geom);
CREATE INDEX ON "gas_pipe" (from_node);
CREATE INDEX ON "gas_pipe" (to_node);
CREATE TRIGGER "gas_pipe_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "gas_pipe"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('gas_pipe');

CREATE TABLE "water_pipe" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 10 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "class" text NOT NULL,
    "diameter_mm" double precision NOT NULL,
    "material" text NOT NULL,
    "install_year" integer NOT NULL,
    "depth_m" double precision,
    "length_m" double precision,
    "from_node" bigint NOT NULL REFERENCES "water_node" (id),
    "to_node" bigint NOT NULL REFERENCES "water_node" (id),
    "road" text,
    "owner" text,
    extra jsonb
);
CREATE INDEX ON "water_pipe" USING gist (geom);
CREATE INDEX ON "water_pipe" (from_node);
CREATE INDEX ON "water_pipe" (to_node);
CREATE TRIGGER "water_pipe_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "water_pipe"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('water_pipe');

CREATE TABLE "drain_pipe" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 11 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "system" text NOT NULL,
    "diameter_mm" double precision NOT NULL,
    "material" text NOT NULL,
    "install_year" integer NOT NULL,
    "depth_m" double precision,
    "length_m" double precision,
    "from_node" bigint NOT NULL REFERENCES "drain_node" (id),
    "to_node" bigint NOT NULL REFERENCES "drain_node" (id),
    "road" text,
    "owner" text,
    "up_invert_m" double precision,
    "down_invert_m" double precision,
    extra jsonb
);
CREATE INDEX ON "drain_pipe" USING gist (geom);
CREATE INDEX ON "drain_pipe" (from_node);
CREATE INDEX ON "drain_pipe" (to_node);
CREATE TRIGGER "drain_pipe_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "drain_pipe"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('drain_pipe');

CREATE TABLE "heat_pipe" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 11 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "line" text NOT NULL,
    "diameter_mm" double precision NOT NULL,
    "material" text NOT NULL,
    "install_year" integer NOT NULL,
    "depth_m" double precision,
    "length_m" double precision,
    "from_node" bigint NOT NULL REFERENCES "heat_node" (id),
    "to_node" bigint NOT NULL REFERENCES "heat_node" (id),
    "road" text,
    "owner" text,
    "leak_count" integer,
    extra jsonb
);
CREATE INDEX ON "heat_pipe" USING gist (geom);
CREATE INDEX ON "heat_pipe" (from_node);
CREATE INDEX ON "heat_pipe" (to_node);
CREATE TRIGGER "heat_pipe_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "heat_pipe"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('heat_pipe');

CREATE TABLE "power_duct" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 12 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "voltage_kv" double precision,
    "width_m" double precision,
    "depth_m" double precision,
    "install_year" integer NOT NULL,
    "length_m" double precision,
    "road" text,
    "owner" text,
    extra jsonb
);
CREATE INDEX ON "power_duct" USING gist (geom);
CREATE TRIGGER "power_duct_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "power_duct"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('power_duct');

CREATE TABLE "telecom_duct" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 12 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "holes" integer,
    "depth_m" double precision,
    "install_year" integer NOT NULL,
    "length_m" double precision,
    "road" text,
    "owner" text,
    extra jsonb
);
CREATE INDEX ON "telecom_duct" USING gist (geom);
CREATE TRIGGER "telecom_duct_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "telecom_duct"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('telecom_duct');

CREATE TABLE "bridge" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 10 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND NOT ST_IsEmpty(geom)),
    "name" text NOT NULL,
    "name_en" text,
    "structure" text NOT NULL,
    "main_span_m" double precision NOT NULL,
    "length_m" double precision NOT NULL,
    "width_m" double precision,
    "build_year" integer,
    "condition" text,
    "rated_load_t" double precision,
    "road" text,
    "design_strain_ue" double precision,
    "design_deflection_mm" double precision,
    "design_displacement_mm" double precision,
    "design_tilt_deg" double precision,
    "design_cable_force_kn" double precision,
    "baseline_frequency_hz" double precision,
    extra jsonb
);
CREATE INDEX ON "bridge" USING gist (geom);
CREATE TRIGGER "bridge_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "bridge"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('bridge');

CREATE TABLE "utility_tunnel" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 10 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING') AND NOT ST_IsEmpty(geom)),
    "name" text NOT NULL,
    "name_en" text,
    "compartment" text NOT NULL,
    "fire_zone" integer NOT NULL,
    "carries" text,
    "width_m" double precision,
    "depth_m" double precision,
    "length_m" double precision,
    "install_year" integer NOT NULL,
    "owner" text,
    extra jsonb
);
CREATE INDEX ON "utility_tunnel" USING gist (geom);
CREATE TRIGGER "utility_tunnel_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "utility_tunnel"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('utility_tunnel');

CREATE TABLE "protective_target" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 11 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "name" text NOT NULL,
    "name_en" text,
    "kind" text NOT NULL,
    "people_day" integer,
    "people_night" integer,
    "building" bigint,
    extra jsonb
);
CREATE INDEX ON "protective_target" USING gist (geom);
CREATE TRIGGER "protective_target_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "protective_target"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('protective_target');

CREATE TABLE "hazard" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 11 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "name" text NOT NULL,
    "name_en" text,
    "kind" text NOT NULL,
    "substance" text,
    "quantity_t" double precision,
    extra jsonb
);
CREATE INDEX ON "hazard" USING gist (geom);
CREATE TRIGGER "hazard_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "hazard"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('hazard');

CREATE TABLE "sensor" (
    id bigint PRIMARY KEY CHECK (id > 0),
    minzoom smallint NOT NULL DEFAULT 14 CHECK (minzoom BETWEEN 0 AND 24),
    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('POINT') AND NOT ST_IsEmpty(geom)),
    "code" text NOT NULL,
    "domain" text NOT NULL,
    "kind" text NOT NULL,
    "metrics" text NOT NULL,
    "asset" bigint NOT NULL,
    "asset_layer" text NOT NULL,
    "interval_s" integer,
    "installed" text,
    extra jsonb
);
CREATE INDEX ON "sensor" USING gist (geom);
CREATE TRIGGER "sensor_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "sensor"
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();
INSERT INTO layer_version (layer) VALUES ('sensor');
