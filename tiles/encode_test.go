package tiles

import (
	"context"
	"errors"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/planar"
)

// sliceSource is a Source over a list of features, searched by brute force.
type sliceSource []*layers.Feature

func (s sliceSource) Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error {
	for _, f := range s {
		if f.Layer == layer && int(f.MinZoom) <= z && b.Intersects(f.Geometry.Bound()) {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s sliceSource) Version(string) uint64 { return 1 }

// testTile is the z14 tile over the sample city's centre, and helpers to
// place points in it by fraction of its width.
var testTile = Tile{Z: 14, X: 13530, Y: 6660}

func at(fx, fy float64) orb.Point {
	b := testTile.Bound(0)
	return orb.Point{b.Min[0] + fx*(b.Max[0]-b.Min[0]), b.Max[1] - fy*(b.Max[1]-b.Min[1])}
}

// fid reads a decoded feature id, which orb gives as a float64.
func fid(v any) uint64 {
	f, _ := v.(float64)
	return uint64(f)
}

func decode(t *testing.T, data []byte) map[string]*mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(data)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		out[l.Name] = l
	}
	return out
}

func TestEncode(t *testing.T) {
	cat := layers.Default()
	pipe := &layers.Feature{ID: layers.MakeID(10, 1), Layer: layers.GasPipe, MinZoom: 10,
		Geometry: orb.LineString{at(0.5, 0.5), at(1.5, 0.5)}, // runs off the east edge
		Props:    map[string]any{"pressure_class": "medium_a", "diameter_mm": 200.0, "material": "steel"}}
	service := &layers.Feature{ID: layers.MakeID(10, 2), Layer: layers.GasPipe, MinZoom: 15,
		Geometry: orb.LineString{at(0.2, 0.2), at(0.3, 0.2)}, Props: map[string]any{}}
	valve := &layers.Feature{ID: layers.MakeID(11, 7), Layer: layers.GasNode, MinZoom: 14,
		Geometry: at(0.25, 0.75), Props: map[string]any{"kind": "valve"}}
	outside := &layers.Feature{ID: layers.MakeID(11, 8), Layer: layers.GasNode, MinZoom: 14,
		Geometry: at(1.001, 0.75), Props: map[string]any{"kind": "valve"}}
	// A building drawn clockwise in lon/lat, which MVT wants the other way.
	building := &layers.Feature{ID: layers.MakeID(4, 3), Layer: layers.Building, MinZoom: 13,
		Geometry: orb.Polygon{{at(0.1, 0.1), at(0.2, 0.1), at(0.2, 0.2), at(0.1, 0.2), at(0.1, 0.1)}},
		Props:    map[string]any{"use": "school", "height_m": 18.0}}
	enc := NewEncoder(cat, sliceSource{pipe, service, valve, outside, building})

	data, err := enc.Encode(context.Background(), []string{layers.GasPipe, layers.GasNode, layers.Building}, testTile)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, data)
	if len(got) != 3 {
		t.Fatalf("layers = %d, want 3", len(got))
	}

	t.Run("MinZoom", func(t *testing.T) {
		if n := len(got[layers.GasPipe].Features); n != 1 {
			t.Fatalf("gas_pipe features = %d, want 1 (the service pipe waits for z15)", n)
		}
	})
	t.Run("IDAndAttributes", func(t *testing.T) {
		f := got[layers.GasPipe].Features[0]
		if id := fid(f.ID); id != pipe.ID {
			t.Errorf("id = %v, want %d", f.ID, pipe.ID)
		}
		if f.Properties["pressure_class"] != "medium_a" || f.Properties["diameter_mm"] != 200.0 {
			t.Errorf("properties = %v", f.Properties)
		}
		if _, dup := f.Properties["id"]; dup {
			t.Error("the id is repeated as a property")
		}
	})
	t.Run("ClippedToBuffer", func(t *testing.T) {
		ls := got[layers.GasPipe].Features[0].Geometry.(orb.LineString)
		b := ls.Bound()
		if b.Min[0] != 2048 || b.Max[0] != Extent+Buffer {
			t.Errorf("line spans x %v–%v, want 2048–%d", b.Min[0], b.Max[0], Extent+Buffer)
		}
	})
	t.Run("PointsOnlyInTile", func(t *testing.T) {
		fs := got[layers.GasNode].Features
		if len(fs) != 1 || fid(fs[0].ID) != valve.ID {
			t.Fatalf("gas_node features = %v, want the valve alone", fs)
		}
		p := fs[0].Geometry.(orb.Point)
		if p[0] != 1024 || p[1] != 3072 {
			t.Errorf("valve at %v, want [1024 3072]", p)
		}
	})
	t.Run("PolygonWinding", func(t *testing.T) {
		poly := got[layers.Building].Features[0].Geometry.(orb.Polygon)
		if a := ringArea(poly[0]); a <= 0 {
			t.Errorf("outer ring area %v; MVT wants it positive", a)
		}
		if a := planar.Area(poly); a < 400*400*0.99 {
			t.Errorf("area %v, want about %v", a, 409.6*409.6)
		}
	})
}

func TestEncodeEmptyAndErrors(t *testing.T) {
	cat := layers.Default()
	enc := NewEncoder(cat, sliceSource{})
	data, err := enc.Encode(context.Background(), []string{layers.GasPipe}, testTile)
	if err != nil || data != nil {
		t.Errorf("empty tile = %d bytes, %v; want nil, nil", len(data), err)
	}
	if _, err := enc.Encode(context.Background(), []string{layers.GasPipe, "nope"}, testTile); !errors.Is(err, layers.ErrUnknownLayer) {
		t.Errorf("unknown layer: err = %v", err)
	}
	// Below a layer's minimum zoom the layer is left out, not an error.
	f := &layers.Feature{ID: 1 << layers.IDBits * 4, Layer: layers.Building, MinZoom: 13, Geometry: orb.Polygon{{at(0.1, 0.1), at(0.2, 0.1), at(0.2, 0.2), at(0.1, 0.1)}}}
	enc = NewEncoder(cat, sliceSource{f})
	if data, err := enc.Encode(context.Background(), []string{layers.Building}, Tile{Z: 10, X: testTile.X >> 4, Y: testTile.Y >> 4}); data != nil || err != nil {
		t.Errorf("building at z10 = %d bytes, %v; want nothing", len(data), err)
	}
}

func TestEncodeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	enc := NewEncoder(layers.Default(), sliceSource{})
	if _, err := enc.Encode(ctx, []string{layers.Road}, testTile); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestSimplifyKeepsSegmentEnds(t *testing.T) {
	// A pipe of two vertices keeps both ends at every zoom: the nodes it joins
	// must stay on it.
	pipe := &layers.Feature{ID: layers.MakeID(10, 1), Layer: layers.GasPipe, MinZoom: 10,
		Geometry: orb.LineString{at(0.3, 0.3), at(0.31, 0.3)}}
	enc := NewEncoder(layers.Default(), sliceSource{pipe})
	for z := 10; z <= 16; z++ {
		tl := Covering(pipe.Geometry.Bound(), z)[0]
		data, err := enc.Encode(context.Background(), []string{layers.GasPipe}, tl)
		if err != nil {
			t.Fatal(err)
		}
		if data == nil {
			t.Errorf("z%d: the pipe vanished", z)
			continue
		}
		ls := decode(t, data)[layers.GasPipe].Features[0].Geometry
		if l, ok := ls.(orb.LineString); !ok || len(l) != 2 {
			t.Errorf("z%d: geometry %v, want a two-point line", z, ls)
		}
	}
}
