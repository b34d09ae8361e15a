package spatial

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

func TestGasPIR(t *testing.T) {
	// DN300 at 0.4 MPa: 0.69 × 11.81 in × √58.0 psig = 62.1 ft = 18.9 m.
	if r := GasPIR(300, 0.4); math.Abs(r-18.93) > 0.05 {
		t.Errorf("PIR(300 mm, 0.4 MPa) = %.2f m, want 18.93", r)
	}
	// DN500 at 1.6 MPa (sub-high A): 0.69 × 19.69 × √232.1 = 207.0 ft = 63.1 m.
	if r := GasPIR(500, 1.6); math.Abs(r-63.09) > 0.1 {
		t.Errorf("PIR(500 mm, 1.6 MPa) = %.2f m, want 63.09", r)
	}
	if GasPIR(0, 1) != 0 || GasPIR(100, -1) != 0 {
		t.Error("no pipe, no radius")
	}
}

func TestExplosionRadius(t *testing.T) {
	// A 3 m³ manhole: 0.204 kg methane × 0.427 = 0.0873 kg TNT; 18 × ∛ = 7.97 m.
	if r := ExplosionRadius(3); math.Abs(r-7.97) > 0.05 {
		t.Errorf("3 m³: %.2f m, want 7.97", r)
	}
	if ExplosionRadius(1500) <= ExplosionRadius(60) {
		t.Error("a larger space must reach farther")
	}
}

func TestImpactScenario(t *testing.T) {
	main := &layers.Feature{Layer: layers.GasPipe, Props: map[string]any{"diameter_mm": 500.0, "pressure_mpa": 1.6}}
	manhole := &layers.Feature{Layer: layers.DrainNode, Props: map[string]any{"kind": "manhole"}}
	if sc := ImpactScenario("gas", "ch4_lel", manhole, main); sc.ID != "gas_explosion_confined" || math.Abs(sc.Radius-63.09) > 0.1 {
		t.Errorf("gas in a manhole beside a sub-high main: %+v", sc)
	}
	if sc := ImpactScenario("gas", "ch4_lel", manhole, nil); sc.Radius != minRadius {
		t.Errorf("gas in a manhole, no pipe: %+v", sc)
	}
	water := &layers.Feature{Layer: layers.WaterPipe, Props: map[string]any{"diameter_mm": 800.0}}
	if sc := ImpactScenario("water", "pressure", water, water); sc.ID != "water_main_burst" || sc.Radius != 110 {
		t.Errorf("water main: %+v", sc)
	}
	for _, d := range []string{"drainage", "bridge", "tunnel", "heating", "other"} {
		if sc := ImpactScenario(d, "level", nil, nil); sc.Radius < minRadius || sc.Source == "" {
			t.Errorf("%s: %+v", d, sc)
		}
	}
}

func TestAssessImpact(t *testing.T) {
	school := &layers.Feature{ID: 1, Layer: layers.ProtectiveTarget, Geometry: at(40, 0), Props: map[string]any{"name": "第一小学", "kind": "school"}}
	far := &layers.Feature{ID: 2, Layer: layers.ProtectiveTarget, Geometry: at(400, 0), Props: map[string]any{"kind": "hospital"}}
	station := &layers.Feature{ID: 3, Layer: layers.Hazard, Geometry: at(0, 50), Props: map[string]any{"kind": "gas_station"}}
	homes := &layers.Feature{ID: 4, Layer: layers.Building, Props: map[string]any{"use": "residential", "population": 200.0},
		Geometry: orb.Polygon{{at(-30, -30), at(-10, -30), at(-10, -10), at(-30, -10), at(-30, -30)}}}
	office := &layers.Feature{ID: 5, Layer: layers.Building, Props: map[string]any{"use": "office", "population": 100.0},
		Geometry: orb.Polygon{{at(10, 10), at(30, 10), at(30, 30), at(10, 30), at(10, 10)}}}
	road := &layers.Feature{ID: 6, Layer: layers.Road, Geometry: orb.LineString{at(-200, 5), at(200, 5)}, Props: map[string]any{"name": "长江路"}}
	src := sliceSource{school, far, station, homes, office, road}
	sc := Scenario{ID: "x", Radius: 60}
	night := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC) // 23:00 in China
	im, err := AssessImpact(context.Background(), src, sc, at(0, 0), night)
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Targets) != 1 || im.Targets[0].Feature.ID != 1 || len(im.Hazards) != 1 || len(im.Buildings) != 2 {
		t.Fatalf("targets %d hazards %d buildings %d", len(im.Targets), len(im.Hazards), len(im.Buildings))
	}
	if im.People != 200*0.9+100*0.05 {
		t.Errorf("people at night %v, want %v", im.People, 200*0.9+100*0.05)
	}
	if len(im.Roads) != 1 || im.Roads[0] != "长江路" {
		t.Errorf("roads %v", im.Roads)
	}
	day := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC) // 10:00 in China
	im, _ = AssessImpact(context.Background(), src, sc, at(0, 0), day)
	if im.People != 200*0.35+100*0.9 {
		t.Errorf("people by day %v", im.People)
	}
	if len(im.Area[0]) != 65 {
		t.Errorf("area ring of %d points", len(im.Area[0]))
	}
}
