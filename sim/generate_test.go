package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
)

// t0 is a Monday midnight in the city's time zone.
var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

func collect(t *testing.T, o Options, from, to time.Time) []Reading {
	t.Helper()
	seq, err := Generate(o, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Collect(seq)
}

func TestDeterminism(t *testing.T) {
	c := sampleCity(t)
	o := Options{City: c, Seed: 7, Scenarios: sampleScenarios(t), Start: t0}
	from, mid, to := t0, t0.Add(3*time.Minute+123*time.Millisecond), t0.Add(6*time.Minute)
	a := collect(t, o, from, to)
	b := collect(t, o, from, to)
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("two runs with the same seed differ (%d and %d readings)", len(a), len(b))
	}
	split := append(collect(t, o, from, mid), collect(t, o, mid, to)...)
	if !slices.Equal(a, split) {
		t.Errorf("a window split in two gives %d readings, whole %d, or they differ", len(split), len(a))
	}
	for i := 1; i < len(a); i++ {
		if a[i].Time.Before(a[i-1].Time) {
			t.Fatalf("reading %d is earlier than the one before", i)
		}
	}
	o.Seed = 8
	c8 := collect(t, o, from, to)
	same := 0
	for i := range min(len(a), len(c8)) {
		if a[i] == c8[i] {
			same++
		}
	}
	if same > len(a)/2 {
		t.Errorf("seeds 7 and 8 agree on %d of %d readings", same, len(a))
	}
}

// TestEverySensorEveryMetric checks that in six hours every sensor of the
// sample city reports each of its metrics, with the right unit.
func TestEverySensorEveryMetric(t *testing.T) {
	c := sampleCity(t)
	g, err := NewGenerator(Options{City: c, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for r := range g.Readings(t0, t0.Add(6*time.Hour)) {
		seen[fmt.Sprint(r.Sensor, r.Metric, r.Unit)] = true
	}
	n := 0
	for _, f := range c.Features[layers.Sensor] {
		dom, _ := f.Props["domain"].(string)
		for _, m := range metricsOf(f) {
			n++
			if !seen[fmt.Sprint(f.ID, m, unitOf(m, dom))] {
				t.Errorf("sensor %v (%v) never reports %s in %s", f.Props["code"], f.Props["kind"], m, unitOf(m, dom))
			}
		}
	}
	if n < 4000 {
		t.Errorf("only %d sensor metrics in the sample city", n)
	}
}

// TestNormalDay checks that a whole normal day (with showers, peaks and
// dropouts) raises no alarm: no single value reaches a level-3 threshold of
// the guide's thresholds (docs/rules.md), and relative metrics stay well inside their bands.
func TestNormalDay(t *testing.T) {
	c := sampleCity(t)
	for seed, span := range map[uint64]time.Duration{1: 24 * time.Hour, 2: 6 * time.Hour} {
		if testing.Short() {
			span = 3 * time.Hour
		}
		g, err := NewGenerator(Options{City: c, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		idx := map[uint64]int{}
		for i, s := range g.sensors {
			idx[s.id] = i
		}
		series := map[[2]int][]pt{}
		for r := range g.Readings(t0, t0.Add(span)) {
			i := idx[r.Sensor]
			j := g.sensors[i].metricIndex(r.Metric)
			k := [2]int{i, j}
			series[k] = append(series[k], pt{r.Time.UnixMilli(), r.Value})
		}
		checked := map[string]int{}
		for k, ser := range series {
			s := g.sensors[k[0]]
			m := s.metrics[k[1]].id
			base := func(t int64) float64 { return g.value(s, k[1], t-7*day) }
			l, ok := levelOf(s, m, ser, true, base, nil)
			if !ok {
				continue
			}
			checked[m]++
			if l != 0 {
				lo, hi := ser[0].v, ser[0].v
				for _, p := range ser {
					lo, hi = min(lo, p.v), max(hi, p.v)
				}
				t.Errorf("seed %d: sensor %d (%s on %s) %s reaches level %d on a normal day (values %g to %g)",
					seed, s.id, s.kind, s.assetLayer, m, l, lo, hi)
			}
		}
		if len(checked) < 20 {
			t.Errorf("only %d metrics checked: %v", len(checked), checked)
		}
	}
}

// TestNormalBands checks the bands the brief names, tighter than alarms.
func TestNormalBands(t *testing.T) {
	c := sampleCity(t)
	g, err := NewGenerator(Options{City: c, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uint64]*sensor{}
	for _, s := range g.sensors {
		byID[s.id] = s
	}
	type band struct{ lo, hi float64 }
	var water, lel, drainLevel, depth band = band{1, 0}, band{1, 0}, band{1, 0}, band{1, 0}
	widen := func(b *band, v float64) {
		if b.lo > b.hi {
			*b = band{v, v}
		}
		b.lo, b.hi = min(b.lo, v), max(b.hi, v)
	}
	for r := range g.Readings(t0, t0.Add(24*time.Hour)) {
		s := byID[r.Sensor]
		switch {
		case r.Metric == "pressure" && s.domain == "water":
			widen(&water, r.Value)
		case r.Metric == "ch4_lel":
			widen(&lel, r.Value)
		case r.Metric == "level":
			widen(&drainLevel, r.Value)
		case r.Metric == "water_depth":
			widen(&depth, r.Value)
		case r.Metric == "pressure" && s.domain == "gas":
			nom, ok := num(s.asset, "pressure_mpa")
			if ok && abs(r.Value-nom)/nom > 0.05 {
				t.Errorf("gas pressure %g on a %g MPa pipe", r.Value, nom)
			}
		}
	}
	for _, c := range []struct {
		name   string
		got    band
		lo, hi float64
	}{
		{"water pressure", water, 0.25, 0.35},
		{"ch4_lel", lel, 0, 2},
		{"drain level", drainLevel, 0, 60},
		{"water depth", depth, 0, 5},
	} {
		if c.got.lo < c.lo || c.got.hi > c.hi {
			t.Errorf("%s from %g to %g, want within %g–%g", c.name, c.got.lo, c.got.hi, c.lo, c.hi)
		}
	}
	if water.hi-water.lo < 0.03 {
		t.Errorf("water pressure hardly moves over a day: %g to %g", water.lo, water.hi)
	}
}

// TestDailyCycle checks that water pressure dips and flow rises at the
// morning peak, and that bridge temperature follows the day.
func TestDailyCycle(t *testing.T) {
	c := sampleCity(t)
	g, err := NewGenerator(Options{City: c, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	mean := func(metric, domain string, at time.Time) float64 {
		sum, n := 0.0, 0
		for _, s := range g.sensors {
			if s.domain != domain || strings.Contains(s.kind, "hydrant") {
				continue
			}
			if j := s.metricIndex(metric); j >= 0 {
				sum += g.value(s, j, at.UnixMilli())
				n++
			}
		}
		return sum / float64(n)
	}
	night, peak := t0.Add(3*time.Hour), t0.Add(7*time.Hour+30*time.Minute)
	if p3, p7 := mean("pressure", "water", night), mean("pressure", "water", peak); p7 >= p3-0.02 {
		t.Errorf("water pressure at 3 h %.3f, at 7:30 %.3f: want a dip at the peak", p3, p7)
	}
	if f3, f7 := mean("flow", "water", night), mean("flow", "water", peak); f7 < 2*f3 {
		t.Errorf("water flow at 3 h %.3f, at 7:30 %.3f: want it to rise", f3, f7)
	}
	if a, b := mean("temperature", "bridge", t0.Add(5*time.Hour)), mean("temperature", "bridge", t0.Add(16*time.Hour)); b < a+8 {
		t.Errorf("bridge temperature at 5 h %.1f, at 16 h %.1f", a, b)
	}
}

// TestDropouts checks that some sensors go silent for a while on a normal
// day, and that batteries fall.
func TestDropouts(t *testing.T) {
	c := sampleCity(t)
	g, err := NewGenerator(Options{City: c, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	gaps := 0
	for _, s := range g.sensors {
		if g.dropped(s, t0.Add(12*time.Hour).UnixMilli()) {
			gaps++
		}
	}
	if gaps == 0 || gaps > len(g.sensors)/20 {
		t.Errorf("%d of %d sensors silent at noon", gaps, len(g.sensors))
	}
	for _, s := range g.sensors {
		if j := s.metricIndex("battery"); j >= 0 {
			a, b := g.value(s, j, t0.UnixMilli()), g.value(s, j, t0.Add(24*time.Hour).UnixMilli())
			if !(b < a && a-b < 1) && b < 90 {
				t.Errorf("battery of sensor %d from %g to %g in a day", s.id, a, b)
			}
			return
		}
	}
}
