package live_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/sim"
	"github.com/onemap/onemap/store/memory"
)

// TestScenariosRaiseTheirAlarms plays each sample scenario over a normal
// day of the whole sample city, through ingest and the default rules, and
// checks that it raises the alarms it names, at their level, and no others.
func TestScenariosRaiseTheirAlarms(t *testing.T) {
	c, err := sim.SampleCity()
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(c)
	scs, err := sim.SampleScenarios()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		t.Run(sc.ID, func(t *testing.T) {
			start := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
			end := start.Add(sc.Length() + 10*time.Minute)
			o := sim.Options{City: c, Scenarios: []*sim.Scenario{sc}, Start: start, Seed: 7}
			g, err := sim.NewGenerator(o)
			if err != nil {
				t.Fatal(err)
			}
			sensors := live.NewSensors(c.Features[layers.Sensor])
			sensors.Describe(context.Background(), st, c.Features[layers.District])
			now := end
			curves := series.New(series.Options{Now: func() time.Time { return now }})
			svc, err := live.NewService(live.Options{Sensors: sensors, Attrs: live.AssetAttrs(st), Series: curves, History: curves, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			// A week of history is too much for a test; the hour around the
			// same time a week before is what rules against last week read.
			normal, err := sim.NewGenerator(sim.Options{City: c, Start: start, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			week := 7 * 24 * time.Hour
			for r := range normal.Readings(start.Add(-week-time.Hour), end.Add(-week+time.Hour)) {
				if r.Metric == "flow" {
					curves.Add(r.Sensor, r.Metric, r.Time, r.Value)
				}
			}
			var batch []byte
			n := 0
			flush := func() {
				if n == 0 {
					return
				}
				res, err := svc.Ingest(context.Background(), strings.NewReader("["+string(batch)+"]"), nil)
				if err != nil || len(res.Refused) > 0 {
					t.Fatalf("ingest: %v %+v", err, res.Refused)
				}
				batch, n = batch[:0], 0
			}
			for r := range g.Readings(start, end) {
				if n > 0 {
					batch = append(batch, ',')
				}
				batch = r.AppendJSON(batch)
				if n++; n == 2000 {
					flush()
				}
			}
			flush()

			// What the scenario expects, by sensor and metric.
			targets := g.Targets(0)
			want := map[string]live.Level{}
			for _, e := range sc.Expect {
				for _, id := range targets[e.Target] {
					want[fmt.Sprintf("%d/%s", id, e.Metric)] = live.Level(e.Level)
				}
			}
			got := map[string]live.Level{}
			for _, a := range svc.Alarms(live.AlarmFilter{}) {
				k := fmt.Sprintf("%d/%s", a.Sensor, a.Metric)
				if l, ok := got[k]; !ok || a.MaxLevel < l {
					got[k] = a.MaxLevel
				}
			}
			for k, l := range want {
				if got[k] != l {
					t.Errorf("%s: most severe level %d, want %d", k, got[k], l)
				}
			}
			var extra []string
			for k, l := range got {
				if _, ok := want[k]; !ok {
					extra = append(extra, fmt.Sprintf("%s (level %d)", k, l))
				}
			}
			slices.Sort(extra)
			if len(extra) > 0 {
				t.Errorf("alarms the scenario does not name: %v", extra)
			}
		})
	}
}
