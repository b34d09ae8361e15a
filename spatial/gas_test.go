package spatial

import (
	"context"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

func TestGasNeighbourhood(t *testing.T) {
	line := func(id uint64, layer string, x0, y0, x1, y1 float64) *layers.Feature {
		return &layers.Feature{ID: id, Layer: layer, Geometry: orb.LineString{at(x0, y0), at(x1, y1)}, Props: map[string]any{}}
	}
	box := func(id uint64, basement bool, x0, y0, x1, y1 float64) *layers.Feature {
		return &layers.Feature{ID: id, Layer: layers.Building, Props: map[string]any{"basement": basement},
			Geometry: orb.Polygon{{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)}}}
	}
	src := sliceSource{
		line(1, layers.GasPipe, 0, 0, 300, 0),
		line(10, layers.PowerDuct, 0, 12.4, 300, 12.4),     // inside
		line(11, layers.TelecomDuct, 0, -12.6, 300, -12.6), // outside
		line(12, layers.DrainPipe, 150, -50, 150, 50),      // crosses: 0 m
		pt(13, layers.DrainNode, 310, 5),                   // manhole past the end: √(10²+5²)
		box(14, true, 50, 5, 80, 40),                       // basement 5 m off
		box(15, false, 100, 3, 130, 40),                    // no basement: not a space
		line(16, layers.WaterPipe, 0, 1, 300, 1),           // not an underground space layer
		line(17, layers.UtilityTunnel, -100, 8, -1, 8),     // 8 m from the pipe's start, diagonally √(1+64)
	}
	src[4].Props = map[string]any{"kind": "manhole"}
	got, err := GasNeighbourhood(context.Background(), src, orb.Bound{Min: at(-500, -500), Max: at(500, 500)}, GasDistance)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id   uint64
		dist float64
	}{{12, 0}, {14, 5}, {17, 8.0622577}, {13, 11.1803399}, {10, 12.4}}
	if len(got) != len(want) {
		for _, a := range got {
			t.Logf("%d %.3f", a.Space.ID, a.Distance)
		}
		t.Fatalf("%d adjacent spaces, want %d", len(got), len(want))
	}
	for i, w := range want {
		// Laid out on a plane, measured on the ellipsoid: within 0.1 mm.
		if got[i].Space.ID != w.id || !near(got[i].Distance, w.dist, 1e-4) || got[i].Pipe.ID != 1 {
			t.Errorf("#%d: space %d at %.7f m, want %d at %v", i, got[i].Space.ID, got[i].Distance, w.id, w.dist)
		}
	}
}
