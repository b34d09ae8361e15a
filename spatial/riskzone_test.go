package spatial

import (
	"context"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

func TestRiskZoneLayer(t *testing.T) {
	old := &layers.Feature{ID: 1, Layer: layers.GasPipe, Geometry: orb.LineString{at(0, 0), at(200, 0)},
		Props: map[string]any{"pressure_class": "high_a", "pressure_mpa": 3.0, "diameter_mm": 500.0, "install_year": 1980.0}}
	young := &layers.Feature{ID: 2, Layer: layers.GasPipe, Geometry: orb.LineString{at(0, 500), at(200, 500)},
		Props: map[string]any{"pressure_class": "low", "pressure_mpa": 0.003, "diameter_mm": 100.0, "install_year": 2024.0}}
	crowd := &layers.Feature{ID: 3, Layer: layers.Building, Props: map[string]any{"population": 3000.0},
		Geometry: orb.Polygon{{at(50, 10), at(80, 10), at(80, 40), at(50, 40), at(50, 10)}}}
	src := &versioned{sliceSource{old, young, crowd}, map[string]uint64{layers.GasPipe: 1, layers.Building: 1}}
	var zones []AlarmZone
	alarmsV := uint64(0)
	r, err := NewRiskZoneLayer(layers.Default(), src, func() []AlarmZone { return zones }, func() uint64 { return alarmsV },
		func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	read := func() map[string]*layers.Feature {
		got := map[string]*layers.Feature{}
		err := r.Features(context.Background(), RiskZoneLayerID, orb.Bound{Min: at(-2000, -2000), Max: at(2000, 2000)}, 16, func(f *layers.Feature) error {
			got[f.Props["source"].(string)+"/"+f.Props["grade"].(string)] = f
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := read()
	if len(got) != 1 || got["gas_pipe/I"] == nil {
		t.Fatalf("zones %v, want the old high-pressure pipe's corridor at grade I alone", got)
	}
	// Its corridor is the pipe's potential impact radius around it.
	pir := GasPIR(500, 3.0)
	c := got["gas_pipe/I"].Geometry.(orb.Polygon)
	pl := NewPlane(at(0, 0))
	if _, d := pl.Closest(c, at(100, pir-1)); d != 0 {
		t.Errorf("a point %.0f m off the pipe is outside its corridor", pir-1)
	}
	if _, d := pl.Closest(c, at(100, pir+1)); d == 0 {
		t.Errorf("a point %.0f m off the pipe is inside its corridor", pir+1)
	}
	v := r.Version(RiskZoneLayerID)
	zones = []AlarmZone{{Alarm: 9, Level: 1, Domain: "gas", Scenario: Scenario{ID: "gas_explosion_confined", Radius: 40}, Area: Circle(at(0, 500), 40)}}
	alarmsV++
	if r.Version(RiskZoneLayerID) == v {
		t.Error("the version did not move with the alarms")
	}
	got = read()
	if z := got["alarm/I"]; z == nil || z.Props["alarm"] != 9.0 || z.Props["radius_m"] != 40.0 {
		t.Errorf("alarm zone %v", got)
	}
}
