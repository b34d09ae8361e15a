package postgis_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protowire"
)

// sampleTiles are tiles over the sample city: every tile at zooms 10–13,
// and those of the middle ninth at 14 and 16.
func sampleTiles(c *city.City) []tiles.Tile {
	b := c.Meta.Bounds
	all := orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
	w, h := (b[2]-b[0])/3, (b[3]-b[1])/3
	mid := orb.Bound{Min: orb.Point{b[0] + w, b[1] + h}, Max: orb.Point{b[2] - w, b[3] - h}}
	var ts []tiles.Tile
	for z := 10; z <= 13; z++ {
		ts = append(ts, tiles.Covering(all, z)...)
	}
	for _, z := range []int{14, 16} {
		ts = append(ts, tiles.Covering(mid, z)...)
	}
	return ts
}

// mvtFeature is one feature of a decoded layer, its fields as written.
type mvtFeature struct {
	id        uint64
	tags, typ string
	geom      string
}

// mvtLayer is one layer of a tile, decoded as far as comparing needs.
type mvtLayer struct {
	name     string
	keys     []string
	values   []string
	features []mvtFeature
}

func decodeTile(t *testing.T, b []byte) []mvtLayer {
	t.Helper()
	var out []mvtLayer
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 3 || typ != protowire.BytesType {
			t.Fatalf("tile: field %d type %d", num, typ)
		}
		b = b[n:]
		lb, n := protowire.ConsumeBytes(b)
		b = b[n:]
		var l mvtLayer
		for len(lb) > 0 {
			num, typ, n := protowire.ConsumeTag(lb)
			lb = lb[n:]
			n = protowire.ConsumeFieldValue(num, typ, lb)
			v := lb[:n]
			lb = lb[n:]
			switch num {
			case 1:
				s, _ := protowire.ConsumeString(v)
				l.name = s
			case 3:
				s, _ := protowire.ConsumeString(v)
				l.keys = append(l.keys, s)
			case 4:
				s, _ := protowire.ConsumeBytes(v)
				l.values = append(l.values, fmt.Sprintf("%x", s))
			case 2:
				fb, _ := protowire.ConsumeBytes(v)
				var f mvtFeature
				for len(fb) > 0 {
					num, typ, n := protowire.ConsumeTag(fb)
					fb = fb[n:]
					n = protowire.ConsumeFieldValue(num, typ, fb)
					fv := fb[:n]
					fb = fb[n:]
					switch num {
					case 1:
						f.id, _ = protowire.ConsumeVarint(fv)
					case 2:
						tb, _ := protowire.ConsumeBytes(fv)
						f.tags = fmt.Sprintf("%x", tb)
					case 3:
						f.typ = fmt.Sprintf("%x", fv)
					case 4:
						f.geom = fmt.Sprintf("%x", fv)
					}
				}
				l.features = append(l.features, f)
			}
		}
		out = append(out, l)
	}
	return out
}

// Both stores write a tile byte for byte the same for the same features:
// every tile of a point or line layer of the sample city at zooms 10–16, and
// the composite of the six pipe layers. Polygons are clipped and snapped by
// different code (GEOS in PostGIS, orb here) and may start their rings at
// another vertex; their attributes are still the same, feature by feature.
func TestTilesSameBytesBothStores(t *testing.T) {
	ctx := context.Background()
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	pg := open(t, c)
	defer pg.Close()
	mem := memory.New(c)
	cat := layers.Default()
	var sets [][]*layers.Layer
	var pipes []*layers.Layer
	for _, l := range cat.Layers() {
		if l.Derived {
			continue
		}
		sets = append(sets, []*layers.Layer{l})
		if l.Nodes != "" || l.ID == layers.PowerDuct || l.ID == layers.TelecomDuct {
			pipes = append(pipes, l)
		}
	}
	sets = append(sets, pipes)
	same, polygons, features, only := 0, 0, 0, 0
	for _, tl := range sampleTiles(c) {
		for _, ls := range sets {
			if tl.Z < ls[0].MinZoom {
				continue
			}
			a, err := mem.RenderTile(ctx, ls, tl)
			if err != nil {
				t.Fatal(err)
			}
			b, err := pg.RenderTile(ctx, ls, tl)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(a, b) {
				same++
				continue
			}
			if len(ls) > 1 || ls[0].Geometry != layers.Polygon {
				t.Errorf("%s %s: %d bytes from memory, %d from PostGIS", tl, ls[0].ID, len(a), len(b))
				continue
			}
			polygons++
			da, db := decodeTile(t, a), decodeTile(t, b)
			if len(da) != len(db) {
				t.Errorf("%s %s: %d layers from memory, %d from PostGIS", tl, ls[0].ID, len(da), len(db))
				continue
			}
			for k := range da {
				la, lb := da[k], db[k]
				if fmt.Sprint(la.keys) != fmt.Sprint(lb.keys) {
					t.Errorf("%s %s: keys %v from memory, %v from PostGIS", tl, la.name, la.keys, lb.keys)
				}
				byID := map[uint64]mvtFeature{}
				for _, f := range lb.features {
					byID[f.id] = f
				}
				for _, f := range la.features {
					features++
					g, ok := byID[f.id]
					if !ok {
						only++
						continue
					}
					delete(byID, f.id)
					va, vb := values(la, f.tags), values(lb, g.tags)
					if va != vb || f.typ != g.typ {
						t.Errorf("%s %s feature %d: %s from memory, %s from PostGIS", tl, la.name, f.id, va, vb)
					}
				}
				only += len(byID)
			}
		}
	}
	t.Logf("%d tiles the same; %d polygon tiles differ in geometry, %d of their %d features drawn by one store only", same, polygons, only, features)
	if only*100 > features {
		t.Errorf("%d of %d polygons drawn by one store only, want under 1 %%", only, features)
	}
}

// values returns a feature's attributes, from the packed tags, as text.
func values(l mvtLayer, tags string) string {
	var b []byte
	fmt.Sscanf(tags, "%x", &b)
	out := ""
	for len(b) > 0 {
		k, n := protowire.ConsumeVarint(b)
		b = b[n:]
		v, n := protowire.ConsumeVarint(b)
		b = b[n:]
		out += l.keys[k] + "=" + l.values[v] + " "
	}
	return out
}
