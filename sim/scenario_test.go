package sim

import (
	"errors"
	"fmt"
	"testing"
	"testing/fstest"
	"time"
)

func TestSampleScenarios(t *testing.T) {
	scs := sampleScenarios(t)
	want := []string{"bridge-overload", "gas-leak-school", "tunnel-methane", "water-main-burst", "waterlogging-rainstorm"}
	if len(scs) != len(want) {
		t.Fatalf("%d scenarios, want %d", len(scs), len(want))
	}
	for i, s := range scs {
		if s.ID != want[i] || s.Title == "" || s.Description == "" || len(s.Expect) == 0 {
			t.Errorf("scenario %d: id %q, title %q, %d expected alarms", i, s.ID, s.Title, len(s.Expect))
		}
	}
}

// TestScenarioAlarms plays each sample scenario in the sample city and checks,
// with the guide's thresholds (rules_test.go), that each target
// reaches exactly its expected level, that targets without an expectation
// and every other sensor raise nothing, and that the scenario ends normal.
func TestScenarioAlarms(t *testing.T) {
	c := sampleCity(t)
	for _, sc := range sampleScenarios(t) {
		t.Run(sc.ID, func(t *testing.T) {
			ids, err := sc.Resolve(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range sc.Targets {
				if len(ids[tg.Name]) == 0 {
					t.Fatalf("target %s selects no sensor", tg.Name)
				}
			}
			start := t0.Add(10 * time.Hour)
			g, err := NewGenerator(Options{City: c, Seed: 1, Start: start, Scenarios: []*Scenario{sc}})
			if err != nil {
				t.Fatal(err)
			}
			end := start.Add(time.Duration(sc.Delay) + sc.Length() + 5*time.Minute)
			type key struct {
				s *sensor
				j int
			}
			byID := map[uint64]*sensor{}
			for _, s := range g.sensors {
				byID[s.id] = s
			}
			series := map[key][]pt{}
			for r := range g.Readings(start, end) {
				s := byID[r.Sensor]
				k := key{s, s.metricIndex(r.Metric)}
				series[k] = append(series[k], pt{r.Time.UnixMilli(), r.Value})
			}
			want := map[string]int{} // sensor id and metric → expected level
			played := map[string]bool{}
			for _, tg := range sc.Targets {
				for _, id := range ids[tg.Name] {
					for m := range tg.Metrics {
						played[fmt.Sprint(id, m)] = true
					}
				}
			}
			for _, e := range sc.Expect {
				for _, id := range ids[e.Target] {
					want[fmt.Sprint(id, e.Metric)] = e.Level
				}
			}
			for k, ser := range series {
				m := k.s.metrics[k.j].id
				base := func(t int64) float64 { return g.value(k.s, k.j, t-7*day) }
				pressureLow := func(t int64) bool {
					j := k.s.metricIndex("pressure")
					return j >= 0 && g.value(k.s, j, t) < 0.14
				}
				name := fmt.Sprint(k.s.id, m)
				got, ok := levelOf(k.s, m, ser, !played[name], base, pressureLow)
				if !ok {
					if want[name] != 0 {
						t.Errorf("no reference rule for expected alarm on %s", m)
					}
					continue
				}
				if got != want[name] {
					t.Errorf("sensor %d (%s) %s: level %d, want %d", k.s.id, k.s.kind, m, got, want[name])
				}
				if played[name] {
					last := ser[len(ser)-1]
					if l, _ := levelOf(k.s, m, []pt{last}, true, base, pressureLow); l != 0 {
						t.Errorf("sensor %d %s ends at %g, still level %d", k.s.id, m, last.v, l)
					}
				}
			}
			for name, l := range want {
				found := false
				for k := range series {
					found = found || fmt.Sprint(k.s.id, k.s.metrics[k.j].id) == name
				}
				if !found {
					t.Errorf("no readings for %s, expected level %d", name, l)
				}
			}
		})
	}
}

// TestScenarioProfile checks the shape of each step on a hand-made profile.
func TestScenarioProfile(t *testing.T) {
	b := []byte(`{"targets": [{"name": "a", "select": {}, "metrics": {"ch4_lel": {"steps": [
		{"op": "ramp", "to": 10, "for": "10s"},
		{"op": "hold", "for": "10s"},
		{"op": "step", "to": 20, "for": "10s"},
		{"op": "spike", "to": 40, "for": "40s"},
		{"op": "recover", "for": "10s", "at": "90s"}]}}}]}`)
	s, err := ParseScenario("x", b)
	if err != nil {
		t.Fatal(err)
	}
	segs := s.Targets[0].Metrics["ch4_lel"].segments()
	normal := func(int64) float64 { return 0 }
	for _, c := range []struct {
		at   time.Duration
		want float64
		ok   bool
	}{
		{0, 0, true}, {5 * time.Second, 5, true}, {15 * time.Second, 10, true}, {25 * time.Second, 20, true},
		{35 * time.Second, 30, true}, {50 * time.Second, 40, true}, {65 * time.Second, 30, true}, {75 * time.Second, 20, true},
		{85 * time.Second, 20, true}, {95 * time.Second, 10, true}, {100 * time.Second, 0, false},
	} {
		v, ok := valueAt(segs, c.at.Milliseconds(), normal)
		if ok != c.ok || abs(v-c.want) > 1e-9 {
			t.Errorf("at %v: %g %v, want %g %v", c.at, v, ok, c.want, c.ok)
		}
	}
	if s.Length() != 100*time.Second {
		t.Errorf("length %v", s.Length())
	}
}

func TestParseScenarioErrors(t *testing.T) {
	for name, body := range map[string]string{
		"NoTargets":     `{"targets": []}`,
		"UnknownField":  `{"targets": [{"name": "a", "select": {"colour": "red"}, "metrics": {}}]}`,
		"UnknownOp":     `{"targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "jump", "to": 1, "for": "1s"}]}}}]}`,
		"RampWithoutTo": `{"targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "ramp", "for": "1s"}]}}}]}`,
		"BadDuration":   `{"targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "soon"}]}}}]}`,
		"LaterTarget":   `{"targets": [{"name": "a", "select": {"exclude": ["b"]}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`,
		"ExpectLevel":   `{"targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}], "expect": [{"target": "a", "metric": "o2", "level": 4}]}`,
		"ExpectMetric":  `{"targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}], "expect": [{"target": "a", "metric": "h2s", "level": 1}]}`,
		"RecoverFirst":  `{"targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "recover", "for": "1s"}, {"op": "hold", "for": "1s"}]}}}]}`,
		"WrongID":       `{"id": "y", "targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseScenario("x", []byte(body)); !errors.Is(err, ErrScenario) {
				t.Errorf("err %v, want ErrScenario", err)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	c := sampleCity(t)
	for name, body := range map[string]string{
		"NoSensor":    `{"targets": [{"name": "a", "select": {"kind": "unicorn"}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`,
		"NotMeasured": `{"targets": [{"name": "a", "select": {"kind": "rain_gauge"}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`,
		"NoNear":      `{"targets": [{"name": "a", "select": {"kind": "rain_gauge", "near": {"layer": "hazard", "where": {"kind": "volcano"}}}, "metrics": {"rainfall": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`,
		"PlayedTwice": `{"targets": [{"name": "a", "select": {"kind": "rain_gauge"}, "metrics": {"rainfall": {"steps": [{"op": "hold", "for": "1s"}]}}}, {"name": "b", "select": {"kind": "rain_gauge"}, "metrics": {"rainfall": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`,
		"NoAttribute": `{"targets": [{"name": "a", "select": {"kind": "rain_gauge"}, "metrics": {"rainfall": {"of": "rated_load_t", "steps": [{"op": "hold", "for": "1s"}]}}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			s, err := ParseScenario("x", []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := NewGenerator(Options{City: c, Scenarios: []*Scenario{s}}); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestLoadScenarios(t *testing.T) {
	fsys := fstest.MapFS{
		"b.json":    {Data: []byte(`{"targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`)},
		"a.json":    {Data: []byte(`{"id": "a", "targets": [{"name": "a", "select": {}, "metrics": {"o2": {"steps": [{"op": "hold", "for": "1s"}]}}}]}`)},
		"README.md": {Data: []byte("not a scenario")},
	}
	scs, err := LoadScenarios(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) != 2 || scs[0].ID != "a" || scs[1].ID != "b" {
		t.Errorf("got %d scenarios", len(scs))
	}
	if _, err := Pick(scs, "b", "nope"); err == nil {
		t.Error("Pick of an unknown id: no error")
	}
}
