package spatial

import (
	"context"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// versioned is a sliceSource with layer versions a test can bump.
type versioned struct {
	sliceSource
	v map[string]uint64
}

func (s *versioned) Version(layer string) uint64 { return s.v[layer] }

func TestAdjacentSpaceLayer(t *testing.T) {
	pipe := &layers.Feature{ID: 1, Layer: layers.GasPipe, Geometry: orb.LineString{at(0, 0), at(300, 0)}, Props: map[string]any{"pressure_class": "low"}}
	manhole := &layers.Feature{ID: 2, Layer: layers.DrainNode, Geometry: at(100, 6), Props: map[string]any{"kind": "manhole"}}
	src := &versioned{sliceSource{pipe, manhole}, map[string]uint64{layers.GasPipe: 1, layers.DrainNode: 1}}
	a, err := NewAdjacentSpaceLayer(layers.Default(), src, 15, func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	all := orb.Bound{Min: at(-1000, -1000), Max: at(1000, 1000)}
	var got []*layers.Feature
	read := func() {
		got = nil
		if err := a.Features(context.Background(), AdjacentSpaceLayerID, all, 16, func(f *layers.Feature) error { got = append(got, f); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if len(got) != 1 || got[0].Props["space"] != 2.0 || got[0].Props["status"] != "unmonitored" || got[0].Props["distance_m"] != 6.0 {
		t.Fatalf("features %+v", got)
	}
	if p := got[0].Geometry.(orb.Point); geoDist(p, at(100, 6)) > 1e-6 {
		t.Errorf("point %v, want the manhole", p)
	}
	v1 := a.Version(AdjacentSpaceLayerID)
	if a.Version(AdjacentSpaceLayerID) != v1 {
		t.Error("version moved with nothing changed")
	}
	// A gas sensor is installed on the manhole: the layer follows.
	src.sliceSource = append(src.sliceSource, &layers.Feature{ID: 3, Layer: layers.Sensor, Geometry: at(100, 6), Props: map[string]any{"metrics": "ch4_lel", "asset": 2.0}})
	src.v[layers.Sensor]++
	if a.Version(AdjacentSpaceLayerID) == v1 {
		t.Error("version did not move after the sensor layer changed")
	}
	read()
	if len(got) != 1 || got[0].Props["status"] != "monitored" || got[0].Props["sensor"] != 3.0 {
		t.Errorf("after the sensor: %+v", got[0].Props)
	}
	read()
	if got := a.Version(AdjacentSpaceLayerID); got != v1+1 {
		t.Errorf("version %d after one change, want %d", got, v1+1)
	}
}
