package spatial

import (
	"context"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

func TestAdjacentSpaces(t *testing.T) {
	pipe := &layers.Feature{ID: 1, Layer: layers.GasPipe, Geometry: orb.LineString{at(0, 0), at(300, 0)},
		Props: map[string]any{"pressure_class": "medium_a", "install_year": 1995.0}}
	watched := &layers.Feature{ID: 2, Layer: layers.DrainNode, Geometry: at(50, 5), Props: map[string]any{"kind": "manhole"}}
	unwatched := &layers.Feature{ID: 3, Layer: layers.DrainNode, Geometry: at(250, 3), Props: map[string]any{"kind": "manhole"}}
	nearSensor := &layers.Feature{ID: 4, Layer: layers.PowerDuct, Geometry: orb.LineString{at(100, 10), at(200, 10)}, Props: map[string]any{}}
	sensorOn := &layers.Feature{ID: 10, Layer: layers.Sensor, Geometry: at(50, 5), Props: map[string]any{"metrics": "ch4_lel,battery", "asset": 2.0}}
	sensorBy := &layers.Feature{ID: 11, Layer: layers.Sensor, Geometry: at(150, 20), Props: map[string]any{"metrics": "ch4_lel", "asset": 99.0}}
	pressure := &layers.Feature{ID: 12, Layer: layers.Sensor, Geometry: at(250, 3), Props: map[string]any{"metrics": "pressure", "asset": 3.0}}
	crowd := &layers.Feature{ID: 20, Layer: layers.Building, Props: map[string]any{"population": 1500.0, "basement": false},
		Geometry: orb.Polygon{{at(240, 20), at(260, 20), at(260, 40), at(240, 40), at(240, 20)}}}
	src := sliceSource{pipe, watched, unwatched, nearSensor, sensorOn, sensorBy, pressure, crowd}

	got, err := AdjacentSpaces(context.Background(), src, orb.Bound{Min: at(-100, -100), Max: at(400, 100)}, GasDistance, 15, 2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d spaces, want 3", len(got))
	}
	// The unwatched manhole has 1,500 people beside it: the riskiest.
	if got[0].Space.ID != 3 || got[0].Sensor != nil || got[0].People != 1500 {
		t.Errorf("first %+v, want the unwatched manhole with its 1,500 people", got[0])
	}
	byID := map[uint64]Space{}
	for _, s := range got {
		byID[s.Space.ID] = s
	}
	if s := byID[2]; s.Sensor == nil || s.Sensor.ID != 10 || s.SensorDistance != 0 {
		t.Errorf("watched manhole: sensor %+v at %v m, want sensor 10 on it", s.Sensor, s.SensorDistance)
	}
	if s := byID[4]; s.Sensor == nil || s.Sensor.ID != 11 || !near(s.SensorDistance, 10, 1e-6) {
		t.Errorf("duct: sensor %+v at %v m, want sensor 11 at 10 m", s.Sensor, s.SensorDistance)
	}
	// A pressure sensor does not watch for gas.
	want := Risk(pipe, 3, GasDistance, 1500, 2026)
	if byID[3].Risk != want || want <= byID[2].Risk {
		t.Errorf("risks %v (want %v) and %v", byID[3].Risk, want, byID[2].Risk)
	}
}

func TestRisk(t *testing.T) {
	old := &layers.Feature{Props: map[string]any{"pressure_class": "high_a", "install_year": 1980.0}}
	young := &layers.Feature{Props: map[string]any{"pressure_class": "low", "install_year": 2024.0}}
	if r := Risk(old, 0, 12.5, 5000, 2026); r != 1 {
		t.Errorf("old high-pressure pipe beside a crowd: %v, want 1", r)
	}
	if r := Risk(young, 12.5, 12.5, 0, 2026); !near(r, 0.5*(0.4*0.4+0.3*2.0/40), 1e-3) {
		t.Errorf("new low-pressure pipe at the edge: %v", r)
	}
}
