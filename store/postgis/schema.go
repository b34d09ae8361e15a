package postgis

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/onemap/onemap/layers"
)

// columnType is the SQL type of an attribute's column.
func columnType(f layers.Field) string {
	switch f.Type {
	case layers.String:
		return "text"
	case layers.Boolean:
		return "boolean"
	}
	switch {
	case layers.IDFields[f.Name]:
		return "bigint"
	case f.Whole():
		return "integer"
	}
	return "double precision"
}

// geomTypes are the PostGIS geometry types a layer's rows may have.
func geomTypes(l *layers.Layer) []string {
	switch l.Geometry {
	case layers.Point:
		return []string{"POINT"}
	case layers.LineString:
		return []string{"LINESTRING", "MULTILINESTRING"}
	}
	return []string{"POLYGON", "MULTIPOLYGON"}
}

// qi quotes an identifier; identifiers come only from the catalog.
func qi(s string) string { return pgx.Identifier{s}.Sanitize() }

// laterFields are the catalog attributes that came after the first
// migration, by layer, with the migration that adds their columns. The
// first migration leaves them out; that one adds them and moves the values
// that extra held for them into them.
var laterFields = map[string]map[string]uint{
	layers.Bridge:           {"contact": 4, "contact_phone": 4},
	layers.ProtectiveTarget: {"contact": 4, "contact_phone": 4},
	layers.Hazard:           {"contact": 4, "contact_phone": 4},
	layers.Sensor:           {"owner": 6},
}

// fieldsSince returns the layer's attributes that migration v adds.
func fieldsSince(l *layers.Layer, v uint) []layers.Field {
	var out []layers.Field
	for _, f := range l.Fields {
		if laterFields[l.ID][f.Name] == v {
			out = append(out, f)
		}
	}
	return out
}

// tableDDL is the CREATE TABLE of a layer: the id, the minimum zoom, the
// geometry, a typed column per catalog attribute of the first migration and
// extra, a jsonb of the attributes the catalog does not name.
func tableDDL(l *layers.Layer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", qi(l.ID))
	fmt.Fprintf(&b, "    id bigint PRIMARY KEY CHECK (id > 0),\n")
	fmt.Fprintf(&b, "    minzoom smallint NOT NULL DEFAULT %d CHECK (minzoom BETWEEN 0 AND 24),\n", l.MinZoom)
	fmt.Fprintf(&b, "    geom geometry(Geometry, 4326) NOT NULL CHECK (GeometryType(geom) IN ('%s') AND NOT ST_IsEmpty(geom)),\n", strings.Join(geomTypes(l), "', '"))
	nodes := l.Nodes
	for _, f := range fieldsSince(l, 0) {
		fmt.Fprintf(&b, "    %s %s", qi(f.Name), columnType(f))
		if f.Required {
			b.WriteString(" NOT NULL")
		}
		if nodes != "" && (f.Name == layers.FromNode || f.Name == layers.ToNode) {
			fmt.Fprintf(&b, " REFERENCES %s (id)", qi(nodes))
		}
		b.WriteString(",\n")
	}
	b.WriteString("    extra jsonb\n);\n")
	fmt.Fprintf(&b, "CREATE INDEX ON %s USING gist (geom);\n", qi(l.ID))
	if nodes != "" {
		for _, end := range []string{layers.FromNode, layers.ToNode} {
			fmt.Fprintf(&b, "CREATE INDEX ON %s (%s);\n", qi(l.ID), end)
		}
	}
	fmt.Fprintf(&b, "CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s\n    FOR EACH STATEMENT EXECUTE FUNCTION onemap_layer_changed();\n", qi(l.ID+"_changed"), qi(l.ID))
	fmt.Fprintf(&b, "INSERT INTO layer_version (layer) VALUES ('%s');\n", l.ID)
	return b.String()
}

// loadOrder is the catalog's layers with node layers before the pipes that
// refer to them.
func loadOrder(cat *layers.Catalog) []*layers.Layer {
	var first, rest []*layers.Layer
	for _, l := range cat.Layers() {
		if l.Derived {
			continue // computed, not stored
		}
		if isNodeLayer(cat, l.ID) {
			first = append(first, l)
		} else {
			rest = append(rest, l)
		}
	}
	return append(first, rest...)
}

func isNodeLayer(cat *layers.Catalog, id string) bool {
	for _, l := range cat.Layers() {
		if l.Nodes == id {
			return true
		}
	}
	return false
}

// schemaSQL is the first migration, made from the catalog.
func schemaSQL(cat *layers.Catalog) string {
	var b strings.Builder
	b.WriteString(`-- The one map's layers: a table per catalog layer. Made from the layer
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
`)
	for _, l := range loadOrder(cat) {
		b.WriteString("\n")
		b.WriteString(tableDDL(l))
	}
	return b.String()
}

// dropSQL undoes schemaSQL.
func dropSQL(cat *layers.Catalog) string {
	var b strings.Builder
	ls := loadOrder(cat)
	for i := len(ls) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "DROP TABLE IF EXISTS %s;\n", qi(ls[i].ID))
	}
	b.WriteString("DROP TABLE IF EXISTS city;\nDROP FUNCTION IF EXISTS onemap_layer_changed();\nDROP TABLE IF EXISTS layer_version;\n")
	return b.String()
}

// fieldsSQL is migration v (after the first), made from the catalog: a
// column for each attribute that laterFields gives it, filled from the
// values extra held under the attribute's name.
func fieldsSQL(cat *layers.Catalog, v uint, title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s. Made from the layer catalog\n-- (store/postgis/schema.go); TestMigrationMatchesCatalog keeps it so.\n", title)
	for _, l := range loadOrder(cat) {
		fs := fieldsSince(l, v)
		if len(fs) == 0 {
			continue
		}
		var add, set, names []string
		for _, f := range fs {
			add = append(add, fmt.Sprintf("ADD COLUMN %s %s", qi(f.Name), columnType(f)))
			set = append(set, fmt.Sprintf("%s = (extra->>'%s')::%s", qi(f.Name), f.Name, columnType(f)))
			names = append(names, "'"+f.Name+"'")
		}
		fmt.Fprintf(&b, "\nALTER TABLE %s %s;\n", qi(l.ID), strings.Join(add, ", "))
		fmt.Fprintf(&b, "UPDATE %s SET %s,\n    extra = NULLIF(extra - ARRAY[%s], '{}'::jsonb)\n    WHERE extra ?| ARRAY[%s];\n",
			qi(l.ID), strings.Join(set, ", "), strings.Join(names, ", "), strings.Join(names, ", "))
	}
	return b.String()
}

// dropFieldsSQL undoes fieldsSQL: the values go back into extra.
func dropFieldsSQL(cat *layers.Catalog, v uint) string {
	var b strings.Builder
	ls := loadOrder(cat)
	for i := len(ls) - 1; i >= 0; i-- {
		l := ls[i]
		fs := fieldsSince(l, v)
		if len(fs) == 0 {
			continue
		}
		var obj, some, drop []string
		for _, f := range fs {
			obj = append(obj, fmt.Sprintf("'%s', %s", f.Name, qi(f.Name)))
			some = append(some, qi(f.Name)+" IS NOT NULL")
			drop = append(drop, "DROP COLUMN "+qi(f.Name))
		}
		fmt.Fprintf(&b, "UPDATE %s SET extra = COALESCE(extra, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object(%s))\n    WHERE %s;\n",
			qi(l.ID), strings.Join(obj, ", "), strings.Join(some, " OR "))
		fmt.Fprintf(&b, "ALTER TABLE %s %s;\n", qi(l.ID), strings.Join(drop, ", "))
	}
	return b.String()
}
