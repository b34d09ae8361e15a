package postgis

import (
	"flag"
	"os"
	"testing"

	"github.com/onemap/onemap/layers"
)

var update = flag.Bool("update", false, "rewrite the migrations made from the catalog")

// The first migration is made from the layer catalog; a catalog change that
// the migrations do not follow fails here (go test -update rewrites it, for
// a migration that has not shipped yet; otherwise add a new migration).
func TestMigrationMatchesCatalog(t *testing.T) {
	cat := layers.Default()
	for name, want := range map[string]string{
		"migrations/000001_layers.up.sql":         schemaSQL(cat),
		"migrations/000001_layers.down.sql":       dropSQL(cat),
		"migrations/000004_contacts.up.sql":       fieldsSQL(cat, 4, "The duty contacts of targets, hazards and bridges: personal data, which\n-- tiles never carry"),
		"migrations/000004_contacts.down.sql":     dropFieldsSQL(cat, 4),
		"migrations/000006_sensor_owner.up.sql":   fieldsSQL(cat, 6, "The owning unit of each monitoring point, which a unit's users are\n-- limited to"),
		"migrations/000006_sensor_owner.down.sql": dropFieldsSQL(cat, 6),
	} {
		if *update {
			if err := os.WriteFile(name, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s does not match the catalog; run go test ./store/postgis -run TestMigrationMatchesCatalog -update", name)
		}
	}
}
