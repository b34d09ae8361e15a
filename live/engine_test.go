package live

import (
	"testing"
	"time"
	"unsafe"

	"github.com/onemap/onemap/layers"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type step struct {
	at    float64 // seconds after t0
	v     float64
	kind  TransitionKind
	level Level
}

// rule returns the rule of a one-rule file.
func rule(t testing.TB, js string) *Rule {
	t.Helper()
	rs, err := ParseRules([]byte(`{"rules": [` + js + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	return rs.Rules()[0]
}

func run(t *testing.T, r *Rule, attrs map[string]float64, steps []step) *State {
	t.Helper()
	var s State
	for i, st := range steps {
		tr := r.Evaluate(&s, Reading{Sensor: 1, Metric: r.Metric, Value: st.v, Time: t0.Add(seconds(st.at))}, attrs)
		if tr.Kind != st.kind || s.Level() != st.level || tr.To != st.level {
			t.Fatalf("step %d (t=%vs v=%v): got %v to level %d (state %d), want %v to level %d",
				i, st.at, st.v, tr.Kind, tr.To, s.Level(), st.kind, st.level)
		}
	}
	return &s
}

const gasRule = `{"metric": "ch4_lel", "levels": [
	{"level": 3, "high": 5, "duration_s": 60}, {"level": 2, "high": 25, "duration_s": 0},
	{"level": 1, "high": 50, "duration_s": 0}], "hysteresis": 2}`

const waterRule = `{"metric": "pressure", "levels": [
	{"level": 3, "low": 0.14}, {"level": 2, "low": 0.10}, {"level": 1, "low": 0.05}],
	"hysteresis": 0.01, "instrument": [0, 2.5]}`

func TestEvaluateEdges(t *testing.T) {
	high := rule(t, `{"metric": "ch4_lel", "levels": [{"level": 3, "high": 5}, {"level": 2, "high": 25}, {"level": 1, "high": 50}]}`)
	low := rule(t, waterRule)
	for _, tc := range []struct {
		name string
		r    *Rule
		v    float64
		want Level
	}{
		{"HighBelow3", high, 4.999, 0}, {"HighAt3", high, 5, 3}, {"HighAbove3", high, 5.001, 3},
		{"HighBelow2", high, 24.999, 3}, {"HighAt2", high, 25, 2}, {"HighAbove2", high, 25.001, 2},
		{"HighBelow1", high, 49.999, 2}, {"HighAt1", high, 50, 1}, {"HighAbove1", high, 99, 1},
		{"LowAbove3", low, 0.1401, 0}, {"LowAt3", low, 0.14, 0}, {"LowBelow3", low, 0.1399, 3},
		{"LowAt2", low, 0.10, 3}, {"LowBelow2", low, 0.0999, 2},
		{"LowAt1", low, 0.05, 2}, {"LowBelow1", low, 0.0499, 1}, {"LowZero", low, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s State
			tr := tc.r.Evaluate(&s, Reading{Value: tc.v, Time: t0}, nil)
			if s.Level() != tc.want || tr.To != tc.want {
				t.Fatalf("value %v: level %d, want %d", tc.v, s.Level(), tc.want)
			}
			if tc.want != 0 && (tr.Kind != Raised || tr.First != tc.v || tr.Peak != tc.v) {
				t.Fatalf("value %v: %+v", tc.v, tr)
			}
		})
	}
}

func TestEvaluateSequences(t *testing.T) {
	gas := rule(t, gasRule)
	water := rule(t, waterRule)
	o2 := rule(t, `{"metric": "o2", "levels": [{"level": 3, "low": 19.5, "high": 23.5}, {"level": 2, "low": 18},
		{"level": 1, "low": 16}], "hysteresis": 0.3}`)
	for _, tc := range []struct {
		name  string
		r     *Rule
		steps []step
	}{
		{"HysteresisNoFlapping", gas, []step{
			{0, 10, None, 0}, {30, 10, None, 0}, {60, 10, Raised, 3},
			{70, 4.5, None, 3}, {80, 5.5, None, 3}, {90, 3.01, None, 3}, {100, 4.9, None, 3},
			{110, 3, None, 3}, {120, 2.99, Cleared, 0}, {130, 4.9, None, 0},
		}},
		{"ShortSpikeRaisesNothing", gas, []step{
			{0, 0, None, 0}, {10, 12, None, 0}, {20, 20, None, 0}, {30, 1, None, 0}, {80, 10, None, 0}, {139, 10, None, 0},
		}},
		{"SustainedBreachAtItsDuration", gas, []step{
			{0, 6, None, 0}, {59, 6, None, 0}, {60, 6, Raised, 3},
		}},
		{"LevelTwoImmediately", gas, []step{{0, 1, None, 0}, {10, 30, Raised, 2}}},
		{"EscalateDeEscalateClear", gas, []step{
			{0, 30, Raised, 2}, {10, 60, Escalated, 1}, {20, 48.5, None, 1}, {30, 47.9, DeEscalated, 2},
			{40, 23.5, None, 2}, {50, 22.9, DeEscalated, 3}, {60, 3.5, None, 3}, {70, 2.5, Cleared, 0},
		}},
		{"DropFromOneStraightToNormal", gas, []step{{0, 80, Raised, 1}, {10, 0, Cleared, 0}}},
		{"LevelThreeTimerKeptThroughLevelTwoFlicker", rule(t, `{"metric": "ch4_lel", "levels": [
			{"level": 3, "high": 5}, {"level": 2, "high": 25}], "duration_s": 60}`), []step{
			{0, 10, None, 0}, {30, 30, None, 0}, {40, 10, None, 0}, {60, 10, Raised, 3}, {100, 30, None, 3}, {160, 30, Escalated, 2},
		}},
		{"LowHysteresis", water, []step{
			{0, 0.3, None, 0}, {60, 0.13, Raised, 3}, {120, 0.145, None, 3}, {180, 0.149, None, 3}, {240, 0.151, Cleared, 0},
		}},
		{"LowEscalation", water, []step{
			{0, 0.09, Raised, 2}, {60, 0.04, Escalated, 1}, {120, 0.055, None, 1}, {180, 0.061, DeEscalated, 2},
		}},
		{"BothSides", o2, []step{
			{0, 20.9, None, 0}, {60, 23.6, Raised, 3}, {120, 23.3, None, 3}, {180, 23.1, Cleared, 0},
			{240, 19.4, Raised, 3}, {300, 17.9, Escalated, 2}, {360, 15.9, Escalated, 1}, {420, 16.2, None, 1},
			{480, 16.31, DeEscalated, 2}, {540, 20, Cleared, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.r, nil, tc.steps) })
	}
}

func TestEvaluatePeak(t *testing.T) {
	s := run(t, rule(t, waterRule), nil, []step{{0, 0.12, Raised, 3}, {60, 0.04, Escalated, 1}, {120, 0.07, DeEscalated, 2}})
	if s.First() != 0.12 || s.Peak() != 0.04 || s.LastValue() != 0.07 {
		t.Fatalf("first %v peak %v last %v", s.First(), s.Peak(), s.LastValue())
	}
	s = run(t, rule(t, gasRule), nil, []step{{0, 30, Raised, 2}, {10, 70, Escalated, 1}, {20, 40, DeEscalated, 2}})
	if s.First() != 30 || s.Peak() != 70 {
		t.Fatalf("first %v peak %v", s.First(), s.Peak())
	}
}

func TestEvaluateRate(t *testing.T) {
	water := rule(t, `{"metric": "pressure", "levels": [{"level": 3, "low": 0.14}, {"level": 1, "low": 0.05, "drop": 0.1}],
		"rate_window_s": 60}`)
	heat := rule(t, `{"metric": "pressure", "levels": [{"level": 3, "drop": 0.05}, {"level": 2, "drop": 0.1},
		{"level": 1, "drop": 0.2}], "rate_window_s": 600}`)
	for _, tc := range []struct {
		name  string
		r     *Rule
		steps []step
	}{
		{"DropPerMinute", water, []step{{0, 0.40, None, 0}, {60, 0.31, None, 0}, {120, 0.21, Raised, 1}, {180, 0.20, Cleared, 0}}},
		{"DropOverHalfAMinute", water, []step{{0, 0.40, None, 0}, {30, 0.35, Raised, 1}}},
		{"RiseIsNoDrop", water, []step{{0, 0.20, None, 0}, {60, 0.50, None, 0}}},
		{"HeatingPer10Min", heat, []step{
			{0, 1.0, None, 0}, {300, 0.98, None, 0}, {600, 0.955, Raised, 3}, {900, 0.90, Escalated, 2},
			{1200, 0.75, Escalated, 1}, {1500, 0.75, Cleared, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.r, nil, tc.steps) })
	}
}

func TestEvaluateRelative(t *testing.T) {
	gas := rule(t, `{"metric": "pressure", "relative_to": "pressure_mpa", "relative": "abs_deviation_percent",
		"levels": [{"level": 3, "high": 10}, {"level": 2, "high": 20}, {"level": 1, "high": 30, "drop": 10}],
		"hysteresis": 2, "rate_window_s": 60}`)
	nominal := map[string]float64{"pressure_mpa": 0.3}
	run(t, gas, nominal, []step{
		{0, 0.3, None, 0}, {60, 0.328, None, 0}, {120, 0.331, Raised, 3}, {180, 0.37, Escalated, 2},
		{240, 0.395, Escalated, 1}, {300, 0.392, None, 1}, {360, 0.385, None, 1}, {420, 0.383, DeEscalated, 2},
		{480, 0.36, None, 2}, {540, 0.34, DeEscalated, 3}, {600, 0.32, Cleared, 0},
		// a drop of 0.03 MPa (10 % of 0.3) within a minute is level 1 on its own
		{660, 0.319, None, 0}, {720, 0.285, Raised, 1},
	})
	// the same rule on a 0.01 MPa pipe: relative, so 0.012 is already 20 %
	run(t, gas, map[string]float64{"pressure_mpa": 0.01}, []step{{0, 0.012, Raised, 2}})
	// without the attribute no level can be judged
	run(t, gas, nil, []step{{0, 5, None, 0}})

	bridge := rule(t, `{"metric": "vehicle_weight", "relative_to": "rated_load_t", "relative": "percent",
		"levels": [{"level": 3, "high": 100}, {"level": 2, "high": 130}, {"level": 1, "high": 150}]}`)
	run(t, bridge, map[string]float64{"rated_load_t": 55}, []step{
		{0, 54, None, 0}, {1, 55, Raised, 3}, {2, 71.4, None, 3}, {3, 71.5, Escalated, 2}, {4, 82.5, Escalated, 1}, {5, 20, Cleared, 0},
	})
	heat := rule(t, `{"metric": "temperature", "relative_to": "setpoint_c", "relative": "below",
		"levels": [{"level": 3, "high": 10}, {"level": 2, "high": 20}], "hysteresis": 2}`)
	s := run(t, heat, map[string]float64{"setpoint_c": 95}, []step{
		{0, 90, None, 0}, {60, 85, Raised, 3}, {120, 74, Escalated, 2}, {180, 76, None, 2}, {240, 77.1, DeEscalated, 3}, {300, 88, Cleared, 0},
	})
	_ = s
	flow := rule(t, `{"metric": "flow", "relative_to": "flow_last_week", "relative": "deviation_percent",
		"levels": [{"level": 3, "high": 30}, {"level": 1, "high": 100, "when": "pressure_drop"}]}`)
	run(t, flow, map[string]float64{"flow_last_week": 100}, []step{{0, 250, Raised, 3}})
	run(t, flow, map[string]float64{"flow_last_week": 100, "pressure_drop": 1}, []step{{0, 250, Raised, 1}})
}

func TestEvaluateHours(t *testing.T) {
	noise := rule(t, `{"metric": "leak_noise", "levels": [{"level": 3, "high": 35, "hours": [2, 5], "duration_s": 172800},
		{"level": 2, "high": 45}], "hysteresis": 3, "duration_s": 600}`)
	// t0 is 12:00 UTC = 20:00 in UTC+8; 02:00 local is 6 h later.
	night := 6 * 3600.0
	run(t, noise, nil, []step{
		{0, 50, None, 0}, {600, 50, Raised, 2}, {1200, 40, Cleared, 0}, {1800, 30, None, 0},
		{night, 38, None, 0}, {night + 3600, 38, None, 0}, {night + 12*3600, 40, None, 0},
		{night + 86400, 37, None, 0}, {night + 2*86400 - 60, 37, None, 0}, {night + 2*86400, 36, Raised, 3},
		{night + 2*86400 + 12*3600, 20, None, 3}, {night + 3*86400, 31, Cleared, 0},
	})
}

func TestEvaluateOutOfOrder(t *testing.T) {
	r := rule(t, gasRule)
	var s State
	r.Evaluate(&s, Reading{Value: 30, Time: t0}, nil)
	for _, at := range []time.Duration{-time.Second, 0} {
		tr := r.Evaluate(&s, Reading{Value: 0, Time: t0.Add(at)}, nil)
		if tr.Kind != Ignored || s.Level() != 2 || s.LastValue() != 30 {
			t.Fatalf("reading at %v: %v, level %d, last %v", at, tr.Kind, s.Level(), s.LastValue())
		}
	}
	if tr := r.Evaluate(&s, Reading{Value: 0, Time: t0.Add(time.Second)}, nil); tr.Kind != Cleared {
		t.Fatalf("newer reading: %v", tr.Kind)
	}
}

func TestStaleAndFault(t *testing.T) {
	r := rule(t, gasRule)
	var s State
	if tr := r.CheckStale(&s, t0, 0); tr.Changed() {
		t.Fatal("a sensor never heard from went offline")
	}
	r.Evaluate(&s, Reading{Value: 30, Time: t0}, nil)
	for _, tc := range []struct {
		after time.Duration
		want  Health
	}{{179 * time.Second, Online}, {180 * time.Second, Online}, {181 * time.Second, Offline}, {time.Hour, Offline}} {
		tr := r.CheckStale(&s, t0.Add(tc.after), 0)
		if s.Health() != tc.want || tr.Health != tc.want {
			t.Fatalf("after %v: %v, want %v", tc.after, s.Health(), tc.want)
		}
		if tc.want == Offline && tc.after == 181*time.Second && (!tr.HealthChanged() || tr.PrevHealth != Online) {
			t.Fatalf("went offline without saying so: %+v", tr)
		}
	}
	if s.Level() != 2 {
		t.Fatalf("offline changed the alarm level to %d", s.Level())
	}
	tr := r.Evaluate(&s, Reading{Value: 60, Time: t0.Add(2 * time.Hour)}, nil)
	if tr.PrevHealth != Offline || tr.Health != Online || tr.Kind != Escalated {
		t.Fatalf("back online: %+v", tr)
	}
	// a sensor with a 300 s interval and a rule of 5 intervals
	r5 := rule(t, `{"metric": "ch4_lel", "levels": [], "stale_intervals": 5}`)
	var s5 State
	r5.Evaluate(&s5, Reading{Value: 0, Time: t0}, nil)
	if r5.CheckStale(&s5, t0.Add(1500*time.Second), 300*time.Second); s5.Health() != Online {
		t.Fatal("offline too early")
	}
	if r5.CheckStale(&s5, t0.Add(1501*time.Second), 300*time.Second); s5.Health() != Offline {
		t.Fatal("not offline")
	}

	t.Run("OutOfRange", func(t *testing.T) {
		var s State
		r.Evaluate(&s, Reading{Value: 30, Time: t0}, nil)
		tr := r.Evaluate(&s, Reading{Value: 120, Time: t0.Add(time.Second)}, nil)
		if tr.Health != Fault || !tr.HealthChanged() || s.Level() != 2 {
			t.Fatalf("over range: %+v", tr)
		}
		tr = r.Evaluate(&s, Reading{Value: -1, Time: t0.Add(2 * time.Second)}, nil)
		if tr.Health != Fault || tr.HealthChanged() {
			t.Fatalf("under range: %+v", tr)
		}
		tr = r.Evaluate(&s, Reading{Value: 1, Time: t0.Add(3 * time.Second)}, nil)
		if tr.Health != Online || tr.Kind != Cleared {
			t.Fatalf("back in range: %+v", tr)
		}
	})
	t.Run("Stuck", func(t *testing.T) {
		var s State
		var tr Transition
		for m := 0; m <= 24*60; m++ {
			tr = r.Evaluate(&s, Reading{Value: 3.2, Time: t0.Add(time.Duration(m) * time.Minute)}, nil)
			if m < 24*60 && s.Health() != Online {
				t.Fatalf("fault after %d min", m)
			}
		}
		if s.Health() != Fault || !tr.HealthChanged() {
			t.Fatalf("not stuck after 24 h: %v", s.Health())
		}
		if tr = r.Evaluate(&s, Reading{Value: 3.3, Time: t0.Add(25 * time.Hour)}, nil); tr.Health != Online {
			t.Fatalf("a changed value did not recover: %+v", tr)
		}
		// zero gas for days is a clean reading, not a stuck one
		var z State
		for h := 0; h <= 72; h++ {
			r.Evaluate(&z, Reading{Value: 0, Time: t0.Add(time.Duration(h) * time.Hour)}, nil)
		}
		if z.Health() != Online {
			t.Fatal("0 %LEL called stuck")
		}
	})
}

func TestStateSize(t *testing.T) {
	n := unsafe.Sizeof(State{})
	t.Logf("State: %d bytes", n)
	if n > 64 {
		t.Errorf("State grew to %d bytes", n)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	rs := DefaultRules()
	gas := rs.Lookup("ch4_lel", layers.GasNode, "valve", 0)
	rel := rs.Lookup("pressure", layers.GasPipe, "", 0)
	attrs := map[string]float64{"pressure_mpa": 0.3}
	b.Run("Absolute", func(b *testing.B) {
		states := make([]State, 1000)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			v := float64(i%97) * 0.6 // sweeps through all levels
			gas.Evaluate(&states[i%len(states)], Reading{Sensor: 1, Metric: "ch4_lel", Value: v, Time: t0.Add(time.Duration(i) * time.Second)}, nil)
		}
	})
	b.Run("RelativeWithRate", func(b *testing.B) {
		states := make([]State, 1000)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			v := 0.3 + float64(i%41-20)*0.006
			rel.Evaluate(&states[i%len(states)], Reading{Sensor: 1, Metric: "pressure", Value: v, Time: t0.Add(time.Duration(i) * time.Second)}, attrs)
		}
	})
}
