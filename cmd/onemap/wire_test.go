package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

// wire gives the server the derived layers to draw and analyses that agree
// with the spatial package asked directly.
func TestWire(t *testing.T) {
	ctx := context.Background()
	cat := layers.Default()
	c, _, err := readCity("", cat, city.Options{}, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(c)
	sv := wire(ctx, cat, st, nil, nil, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if sv.analyses == nil || sv.tiles == nil || sv.riskVersion == nil {
		t.Fatalf("services %+v", sv)
	}
	m := st.Meta()
	city := orb.Bound{Min: orb.Point{m.Bounds[0], m.Bounds[1]}, Max: orb.Point{m.Bounds[2], m.Bounds[3]}}
	kept, err := sv.analyses.GasSpaces(ctx, spatial.GasQuery{Bound: city, City: true, Distance: spatial.GasDistance, SensorDistance: spatial.DefaultSensorDistance})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := spatial.AdjacentSpaces(ctx, st, city, spatial.GasDistance, spatial.DefaultSensorDistance, time.Now().Year())
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) == 0 || len(kept) != len(direct) {
		t.Errorf("the kept gas neighbourhood has %d spaces, asked directly %d", len(kept), len(direct))
	}
	drawn := map[string]int{}
	for _, tl := range tiles.Covering(city, 13) {
		data, err := sv.tiles.Encode(ctx, []string{layers.RiskZone, layers.GasAdjacentSpace}, tl)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := mvt.Unmarshal(data)
		if err != nil {
			t.Fatalf("tile %s: %v", tl, err)
		}
		for _, l := range ls {
			drawn[l.Name] += len(l.Features)
		}
	}
	if drawn[layers.RiskZone] == 0 || drawn[layers.GasAdjacentSpace] == 0 {
		t.Errorf("derived features drawn %v, want both layers", drawn)
	}
}
