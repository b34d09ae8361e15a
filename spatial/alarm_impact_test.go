package spatial

import (
	"context"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// alarmCity has a gas main along y = 0, a water main along x = 0, a heat
// pipe far off, a manhole 20 m from the gas main, a bridge and a tunnel
// section, and a school 40 m from the bridge.
func alarmCity() *featureStore {
	fs := sliceSource{
		{ID: 1, Layer: layers.GasPipe, Geometry: orb.LineString{at(-300, 0), at(300, 0)}, Props: map[string]any{"diameter_mm": 500.0, "pressure_mpa": 1.6}},
		{ID: 2, Layer: layers.WaterPipe, Geometry: orb.LineString{at(0, -300), at(0, 300)}, Props: map[string]any{"diameter_mm": 800.0}},
		{ID: 3, Layer: layers.HeatPipe, Geometry: orb.LineString{at(2000, 0), at(2100, 0)}, Props: map[string]any{"diameter_mm": 400.0}},
		{ID: 4, Layer: layers.DrainNode, Geometry: at(100, 20), Props: map[string]any{"kind": "manhole"}},
		{ID: 5, Layer: layers.Bridge, Geometry: orb.LineString{at(500, 500), at(700, 500)}},
		{ID: 6, Layer: layers.UtilityTunnel, Geometry: orb.LineString{at(-100, 30), at(-100, 230)}},
		{ID: 7, Layer: layers.ProtectiveTarget, Geometry: at(600, 540), Props: map[string]any{"kind": "school"}},
	}
	return &featureStore{versioned{fs, map[string]uint64{}}}
}

func TestLocateAlarm(t *testing.T) {
	ctx := context.Background()
	st := alarmCity()
	tests := []struct {
		name     string
		site     AlarmSite
		scenario string
		pipe     uint64
		place    orb.Geometry
	}{
		// Gas in a manhole: the gas main 20 m off sizes it by its PIR.
		{"GasInManhole", AlarmSite{Domain: "gas", Metric: "ch4_lel", Asset: 4, Location: at(100, 20)}, "gas_explosion_confined", 1, at(100, 20)},
		// Gas in a drain comes from the gas network too.
		{"DrainGas", AlarmSite{Domain: "drainage", Metric: "ch4_vol", Location: at(100, 20)}, "gas_explosion_confined", 1, at(100, 20)},
		// A water alarm on the main itself: the asset is the pipe.
		{"WaterMain", AlarmSite{Domain: "water", Metric: "pressure", Asset: 2, Location: at(10, 100)}, "water_main_burst", 2, at(10, 100)},
		// No heat pipe within 50 m: the scenario is sized without one.
		{"HeatingNoPipe", AlarmSite{Domain: "heating", Metric: "temperature", Location: at(0, 100)}, "heating_burst", 0, at(0, 100)},
		// A bridge alarm is centred on the bridge, not its sensor.
		{"Bridge", AlarmSite{Domain: "bridge", Metric: "strain", Asset: 5, Location: at(600, 500)}, "bridge_damage", 0, orb.LineString{at(500, 500), at(700, 500)}},
		// Tunnel gas: centred on the section, sized by the gas main.
		{"TunnelGas", AlarmSite{Domain: "tunnel", Metric: "ch4_vol", Asset: 6, Location: at(-100, 40)}, "tunnel_gas", 1, orb.LineString{at(-100, 30), at(-100, 230)}},
		// An asset the store does not have is left out.
		{"UnknownAsset", AlarmSite{Domain: "bridge", Metric: "strain", Asset: 99, Location: at(600, 500)}, "bridge_damage", 0, at(600, 500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := LocateAlarm(ctx, st, tt.site)
			var pipe uint64
			if p.Pipe != nil {
				pipe = p.Pipe.ID
			}
			if p.Scenario.ID != tt.scenario || pipe != tt.pipe || !orb.Equal(p.Place, tt.place) {
				t.Errorf("scenario %s pipe %d place %v, want %s %d %v", p.Scenario.ID, pipe, p.Place, tt.scenario, tt.pipe, tt.place)
			}
		})
	}
}

func TestAssessAlarm(t *testing.T) {
	st := alarmCity()
	im, err := AssessAlarm(context.Background(), st, AlarmSite{Domain: "bridge", Metric: "strain", Asset: 5, Location: at(600, 500)}, time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// The school is 40 m from the bridge's deck, inside its 50 m.
	if im.Scenario.ID != "bridge_damage" || im.Pipe != nil || len(im.Targets) != 1 || im.Targets[0].Feature.ID != 7 || !near(im.Targets[0].Distance, 40, 0.01) {
		t.Errorf("impact %+v targets %+v", im.Scenario, im.Targets)
	}
}

func TestAlarmZones(t *testing.T) {
	st := alarmCity()
	zs := AlarmZones(context.Background(), st, []AlarmSite{
		{ID: 11, Level: 1, Domain: "bridge", Metric: "strain", Asset: 5, Location: at(600, 500)},
		{ID: 12, Level: 3, Domain: "water", Metric: "pressure", Asset: 2, Location: at(10, 100)},
	})
	if len(zs) != 2 {
		t.Fatalf("%d zones, want 2", len(zs))
	}
	// The bridge's zone is centred on the bridge with its scenario's radius.
	z := zs[0]
	if z.Alarm != 11 || z.Level != 1 || z.Domain != "bridge" || z.Scenario.ID != "bridge_damage" {
		t.Errorf("zone %+v", z)
	}
	if c := z.Area.Bound().Center(); geoDist(c, at(600, 500)) > 0.5 {
		t.Errorf("bridge zone centred %.1f m from the bridge", geoDist(c, at(600, 500)))
	}
	if d := geoDist(z.Area[0][0], at(600, 500)); !near(d, 50, 0.5) {
		t.Errorf("bridge zone radius %.1f m, want 50", d)
	}
	if zs[1].Scenario.ID != "water_main_burst" || zs[1].Scenario.Radius != 110 {
		t.Errorf("water zone %+v", zs[1].Scenario)
	}
}
