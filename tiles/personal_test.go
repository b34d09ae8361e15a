package tiles_test

import (
	"context"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

// The sample city's targets, hazards and bridges name contacts; the tiles
// of the whole city, which anonymous screens load, carry none of them
// while they carry the other attributes, and their TileJSON lists none.
func TestTilesCarryNoPersonalFields(t *testing.T) {
	c := sampleCity(t)
	cat := layers.Default()
	enc := tiles.NewEncoder(cat, memory.New(c))
	names := []string{layers.ProtectiveTarget, layers.Hazard, layers.Bridge}
	b := c.Meta.Bounds
	city := orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
	for _, z := range []int{12, 15} {
		seen := map[string]int{}
		for _, tl := range tiles.Covering(city, z) {
			data, err := enc.Encode(context.Background(), names, tl)
			if err != nil {
				t.Fatalf("tile %s: %v", tl, err)
			}
			if data == nil {
				continue
			}
			ls, err := mvt.Unmarshal(data)
			if err != nil {
				t.Fatalf("tile %s: %v", tl, err)
			}
			for _, l := range ls {
				for _, f := range l.Features {
					for _, k := range []string{"contact", "contact_phone"} {
						if v, ok := f.Properties[k]; ok {
							t.Fatalf("tile %s: %s %v carries %s %v", tl, l.Name, f.ID, k, v)
						}
					}
					if f.Properties["name"] != nil {
						seen[l.Name]++
					}
				}
			}
		}
		if z < 15 {
			continue // restaurants and housing blocks wait for zoom 15 and 14
		}
		// Points are in one tile each; bridges may be cut by tile edges.
		for _, id := range []string{layers.ProtectiveTarget, layers.Hazard} {
			if seen[id] != len(c.Features[id]) {
				t.Errorf("z%d: %d named %s features in the tiles, want %d", z, seen[id], id, len(c.Features[id]))
			}
		}
		if seen[layers.Bridge] < len(c.Features[layers.Bridge]) {
			t.Errorf("z%d: %d named bridge features in the tiles, want %d or more", z, seen[layers.Bridge], len(c.Features[layers.Bridge]))
		}
	}
	for _, id := range names {
		l, _ := cat.Layer(id)
		tj := tiles.NewTileJSON(l, "https://example.org", "1", c.Meta.Bounds, c.Meta.Center, c.Meta.Zoom)
		fields := tj.VectorLayers[0].Fields
		if _, ok := fields["contact"]; ok {
			t.Errorf("%s TileJSON lists contact", id)
		}
		if _, ok := fields["contact_phone"]; ok {
			t.Errorf("%s TileJSON lists contact_phone", id)
		}
		if fields["name"] != "String" {
			t.Errorf("%s TileJSON fields = %v", id, fields)
		}
	}
}
