package sim

import (
	"github.com/onemap/onemap/layers"
	"time"
)

// The guide's thresholds, written out here as the reference the
// simulator is checked against (not read from any rules file, so that a
// change of the shipped rules does not silently change what "normal" means
// here).

type pt struct {
	t int64
	v float64
}

// rule is one metric's three levels: thr[0] raises level 3, thr[1] level 2,
// thr[2] level 1, each once it has held for dur.
type rule struct {
	thr [3]float64
	dur [3]time.Duration
	low bool // a breach is a value below thr
}

func durs(d time.Duration) [3]time.Duration { return [3]time.Duration{d, d, d} }

// level returns the most severe level (1–3) the series reaches, 0 for none.
// strict ignores durations: any single value at a threshold counts.
func (r rule) level(series []pt, strict bool) int {
	for li := 2; li >= 0; li-- {
		start := int64(-1)
		for _, p := range series {
			hit := p.v >= r.thr[li]
			if r.low {
				hit = p.v < r.thr[li]
			}
			if !hit {
				start = -1
				continue
			}
			if start < 0 {
				start = p.t
			}
			if strict || p.t-start >= r.dur[li].Milliseconds() {
				return 3 - li
			}
		}
	}
	return 0
}

func maxLevel(a, b int) int {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

var never = 1e300

// levelOf returns the level the series of one metric of one sensor raises
// by the guide's thresholds, and false for a metric it has no absolute rule for.
// baseline gives the same metric's value a week earlier (for flow).
func levelOf(s *sensor, metric string, series []pt, strict bool, baseline func(t int64) float64, pressureLow func(t int64) bool) (int, bool) {
	tr := func(f func(p pt) float64) []pt {
		out := make([]pt, len(series))
		for i, p := range series {
			out[i] = pt{p.t, f(p)}
		}
		return out
	}
	switch metric {
	case "ch4_lel":
		if s.assetLayer == layers.Hazard {
			return rule{thr: [3]float64{never, 10, 25}, dur: durs(10 * time.Second)}.level(series, strict), true
		}
		return rule{thr: [3]float64{5, 25, 50}, dur: [3]time.Duration{time.Minute, 0, 0}}.level(series, strict), true
	case "ch4_vol":
		return rule{thr: [3]float64{0.5, 1.0, 1.25}, dur: durs(10 * time.Second)}.level(series, strict), true
	case "leak_scan":
		return rule{thr: [3]float64{500, 2000, 10000}, dur: durs(30 * time.Second)}.level(series, strict), true
	case "vibration":
		return rule{thr: [3]float64{40, 70, 90}, dur: durs(30 * time.Second)}.level(series, strict), true
	case "pressure":
		switch s.domain {
		case "gas":
			nom, ok := num(s.asset, "pressure_mpa")
			if !ok {
				if nom, ok = nominalMPa[str(s.asset, "pressure_class")]; !ok {
					nom = nominalMPa["subhigh_a"]
				}
			}
			dev := tr(func(p pt) float64 { return 100 * abs(p.v-nom) / nom })
			return rule{thr: [3]float64{10, 20, 30}, dur: durs(2 * time.Minute)}.level(dev, strict), true
		case "water":
			thr := [3]float64{0.14, 0.10, 0.05}
			if str(s.asset, "kind") == "hydrant" {
				thr[0] = 0.15
			}
			l := rule{thr: thr, dur: durs(2 * time.Minute), low: true}.level(series, strict)
			// A drop of 0.1 MPa or more within a minute is level 1 at once.
			for i, p := range series {
				for j := i + 1; j < len(series) && series[j].t-p.t <= time.Minute.Milliseconds(); j++ {
					if p.v-series[j].v >= 0.1 {
						l = 1
					}
				}
			}
			return l, true
		case "heating":
			// Drop per 10 minutes.
			l := 0
			for i, p := range series {
				for j := i + 1; j < len(series) && series[j].t-p.t <= (10*time.Minute).Milliseconds(); j++ {
					l = maxLevel(l, rule{thr: [3]float64{0.05, 0.1, 0.2}}.level([]pt{{0, p.v - series[j].v}}, true))
				}
			}
			return l, true
		}
	case "flow":
		if baseline == nil || s.domain == "drainage" {
			return 0, false
		}
		change := tr(func(p pt) float64 {
			b := baseline(p.t)
			c := 100 * (p.v - b) / b
			if c >= 100 && (pressureLow == nil || !pressureLow(p.t)) {
				c = 99.9 // level 1 needs a pressure drop
			}
			return abs(c)
		})
		return rule{thr: [3]float64{30, 60, 100}, dur: durs(5 * time.Minute)}.level(change, strict), true
	case "leak_noise":
		// Level 3 is 35 dB at night over three nights; a normal day stays under it at any hour.
		return rule{thr: [3]float64{35, 45, 60}, dur: [3]time.Duration{0, 10 * time.Minute, 10 * time.Minute}}.level(series, strict), true
	case "level":
		return rule{thr: [3]float64{70, 90, 100}, dur: durs(2 * time.Minute)}.level(series, strict), true
	case "water_depth":
		return rule{thr: [3]float64{15, 25, 40}, dur: durs(time.Minute)}.level(series, strict), true
	case "rainfall":
		// Rolling 60-minute mean.
		mean := make([]pt, len(series))
		sum, j := 0.0, 0
		for i, p := range series {
			sum += p.v
			for series[j].t <= p.t-time.Hour.Milliseconds() {
				sum -= series[j].v
				j++
			}
			mean[i] = pt{p.t, sum / float64(i-j+1)}
		}
		return rule{thr: [3]float64{20, 30, 50}}.level(mean, true), true
	case "river_level":
		return rule{thr: [3]float64{-0.5, 0, 0.5}, dur: durs(5 * time.Minute)}.level(series, strict), true
	case "h2s":
		return rule{thr: [3]float64{5, 10, 20}, dur: durs(time.Minute)}.level(series, strict), true
	case "o2":
		l := rule{thr: [3]float64{19.5, 18, 16}, dur: durs(time.Minute), low: true}.level(series, strict)
		return maxLevel(l, rule{thr: [3]float64{23.5, never, never}, dur: durs(time.Minute)}.level(series, strict)), true
	case "temperature":
		if s.domain == "tunnel" {
			return rule{thr: [3]float64{35, 40, 50}, dur: durs(5 * time.Minute)}.level(series, strict), true
		}
	case "humidity":
		if s.domain == "tunnel" {
			return rule{thr: [3]float64{85, 95, never}, dur: durs(10 * time.Minute)}.level(series, strict), true
		}
	case "strain":
		pct := tr(func(p pt) float64 { return 100 * abs(p.v) / StrainLimit })
		return rule{thr: [3]float64{70, 85, 100}, dur: durs(10 * time.Second)}.level(pct, strict), true
	case "deflection":
		span, _ := num(s.asset, "main_span_m")
		limit := span * 1000 * DeflectionSpanRatio
		pct := tr(func(p pt) float64 { return 100 * abs(p.v) / limit })
		return rule{thr: [3]float64{70, 85, 100}, dur: durs(10 * time.Second)}.level(pct, strict), true
	case "crack_width":
		return rule{thr: [3]float64{0.2, 0.3, 0.5}, dur: durs(10 * time.Minute)}.level(series, strict), true
	case "vehicle_weight":
		rated, _ := num(s.asset, "rated_load_t")
		pct := tr(func(p pt) float64 { return 100 * p.v / rated })
		return rule{thr: [3]float64{100, 130, 150}}.level(pct, true), true
	case "wind_speed":
		return rule{thr: [3]float64{20, 25, 30}, dur: durs(time.Minute)}.level(series, strict), true
	case "acceleration":
		g := tr(func(p pt) float64 { return abs(p.v) })
		return rule{thr: [3]float64{0.5, 1, 2}}.level(g, true), true
	}
	return 0, false
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
