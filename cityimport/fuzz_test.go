package cityimport_test

import (
	"os"
	"strings"
	"testing"

	"github.com/onemap/onemap/cityimport"
	"github.com/onemap/onemap/layers"
)

// FuzzReadMapping: any bytes give a mapping or an error, never a panic; a
// mapping taken names only layers and attributes the catalog has.
func FuzzReadMapping(f *testing.F) {
	if doc, err := os.ReadFile("../docs/import.md"); err == nil {
		if _, rest, ok := strings.Cut(string(doc), "```yaml\n"); ok {
			block, _, _ := strings.Cut(rest, "```")
			f.Add(block)
		}
	}
	f.Add("layers:\n  - source: a.shp\n    layer: gas_pipe\n    id: {field: ID}\n")
	f.Add("layers: [{source: x, layer: road, id: {key: [A, B]}, attributes: {class: {field: C, values: {主干路: arterial}}}}]")
	f.Add("topology: {snap_m: .nan}\n")
	f.Add("{")
	cat := layers.Default()
	f.Fuzz(func(t *testing.T, text string) {
		m, err := cityimport.ReadMapping(strings.NewReader(text), "", cat)
		if err != nil {
			return
		}
		for _, lr := range m.Layers {
			l, err := cat.Layer(lr.Layer)
			if err != nil {
				t.Fatalf("a mapping of layer %q was taken", lr.Layer)
			}
			for name := range lr.Attributes {
				found := false
				for _, fd := range l.Fields {
					found = found || fd.Name == name
				}
				if !found {
					t.Fatalf("attribute %q of %s was taken", name, l.ID)
				}
			}
		}
	})
}
