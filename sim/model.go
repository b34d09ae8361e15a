package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onemap/onemap/layers"
)

// Time in the simulator is milliseconds since the Unix epoch.
const (
	second = int64(1000)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
)

// tzOffset puts the daily cycles on the sample city's local time (China
// Standard Time, UTC+8, no daylight saving).
const tzOffset = 8 * hour

// Design values that the sample city's bridges do not carry, which bridge
// rules measure strain, deflection and the like against. Normal values stay
// well under half of them; the overload scenario names the same figures.
const (
	// StrainLimit is the assumed design strain of every bridge, in με.
	StrainLimit = 500.0
	// DeflectionSpanRatio is the assumed design deflection as a fraction of
	// the bridge's main span (L/600).
	DeflectionSpanRatio = 1.0 / 600
)

// units are the unit symbols of the metrics; flow depends on the domain.
var units = map[string]string{
	"ch4_lel": "%LEL", "ch4_vol": "%VOL", "leak_scan": "ppm·m", "pressure": "MPa",
	"leak_noise": "dB", "vibration": "score", "level": "%", "water_depth": "cm", "rainfall": "mm/h",
	"river_level": "m", "h2s": "mg/m³", "o2": "%VOL", "temperature": "°C", "humidity": "%RH",
	"strain": "με", "deflection": "mm", "displacement": "mm", "tilt": "°", "crack_width": "mm",
	"acceleration": "g", "cable_force": "kN", "vehicle_weight": "t", "wind_speed": "m/s", "battery": "%",
}

// unitOf returns the unit symbol of a metric reported by a sensor of a domain.
func unitOf(metric, domain string) string {
	if metric == "flow" {
		if domain == "gas" || domain == "heating" {
			return "m³/h"
		}
		return "m/s"
	}
	return units[metric]
}

// nominalMPa is the nominal pressure of each gas pressure class, as the
// sample city's pipes carry them in pressure_mpa.
var nominalMPa = map[string]float64{"high_b": 2.0, "subhigh_a": 1.2, "medium_a": 0.3, "medium_b": 0.15, "low": 0.003}

// model is how one metric of one sensor behaves on a normal day.
type model struct {
	mean  func(t int64) float64         // the expected value: daily cycle and drift
	noise float64                       // standard deviation of the measurement noise
	extra func(t int64, r *rng) float64 // random events on top of the mean (traffic), or nil
	lo    float64                       // normal values are clamped into [lo, hi]
	hi    float64
	floor float64 // scenario values are clamped at or above floor (physical minimum)
	scale float64 // values are rounded to multiples of 1/scale
}

// value returns the normal value at t, drawing noise from r.
func (m *model) value(t int64, r *rng) float64 {
	v := m.mean(t) + m.noise*r.norm()
	if m.extra != nil {
		v += m.extra(t, r)
	}
	return min(max(v, m.lo), m.hi)
}

func (m *model) round(v float64) float64 { return math.Round(v*m.scale) / m.scale }

// hourOf returns the local hour of day of t, from 0 to 24.
func hourOf(t int64) float64 {
	ms := (t + tzOffset) % day
	if ms < 0 {
		ms += day
	}
	return float64(ms) / float64(hour)
}

// bump is a bell around hour c of width w, wrapping around midnight.
func bump(h, c, w float64) float64 {
	d := math.Abs(h - c)
	if d > 12 {
		d = 24 - d
	}
	return math.Exp(-d * d / (2 * w * w))
}

// demand is water and gas use through the day: about 0.35 at night, 0.95 at
// the morning and evening peaks.
func demand(t int64) float64 {
	h := hourOf(t)
	return 0.35 + 0.6*bump(h, 7.5, 1.3) + 0.35*bump(h, 12, 1.5) + 0.6*bump(h, 19, 2)
}

// cooking is restaurant activity: lunch and dinner.
func cooking(t int64) float64 {
	h := hourOf(t)
	return bump(h, 11.8, 0.8) + bump(h, 18.3, 1)
}

// airTemp is the air temperature in °C: coolest before dawn, warmest at 15 h.
func airTemp(t int64) float64 { return 15 + 6*math.Cos(2*math.Pi*(hourOf(t)-15)/24) }

// daytime is 1 from 8 to 18 h and 0 at night, with soft edges.
func daytime(t int64) float64 {
	h := hourOf(t)
	return 1 / (1 + math.Exp(-(h-8)*3)) / (1 + math.Exp((h-18)*3))
}

// drift is a slow wander of amplitude a with a period of 9 to 23 days.
func drift(r *rand.Rand, a float64) func(t int64) float64 {
	period := float64(9*day) + r.Float64()*float64(14*day)
	phase := r.Float64() * 2 * math.Pi
	return func(t int64) float64 { return a * math.Sin(2*math.Pi*float64(t)/period+phase) }
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

func num(f *layers.Feature, key string) (float64, bool) {
	if f == nil {
		return 0, false
	}
	v, ok := f.Props[key].(float64)
	return v, ok
}

func str(f *layers.Feature, key string) string {
	if f == nil {
		return ""
	}
	v, _ := f.Props[key].(string)
	return v
}

// newModel returns the normal behaviour of a sensor's metric. r holds the
// sensor's own random parameters; g gives city-wide weather.
func (g *Generator) newModel(s *sensor, metric string, r *rand.Rand) (model, error) {
	m := model{noise: 0, lo: 0, hi: math.Inf(1), scale: 100}
	a := s.asset
	switch metric {
	case "ch4_lel":
		base, d := uniform(r, 0.1, 0.5), drift(r, 0.15)
		cook := 0.0
		if s.assetLayer == layers.Hazard && str(a, "kind") == "restaurant" {
			cook = uniform(r, 0.3, 0.7)
		}
		m.mean = func(t int64) float64 { return base + d(t) + cook*cooking(t) }
		m.noise, m.hi = 0.08, 1.9
	case "ch4_vol":
		base := uniform(r, 0, 0.02)
		m.mean = func(int64) float64 { return base }
		m.noise, m.hi, m.scale = 0.003, 0.08, 1000
	case "leak_scan":
		base, d := uniform(r, 10, 60), drift(r, 5)
		m.mean = func(t int64) float64 { return base + d(t) }
		m.noise, m.hi, m.scale = 8, 200, 1
	case "pressure":
		switch s.domain {
		case "gas":
			nom, ok := num(a, "pressure_mpa")
			if !ok {
				nom, ok = nominalMPa[str(a, "pressure_class")]
			}
			if !ok {
				// A regulator or station without a class: the sub-high ring it feeds.
				nom = nominalMPa["subhigh_a"]
			}
			d := drift(r, 0.008)
			set := uniform(r, 0.005, 0.015)
			m.mean = func(t int64) float64 { return nom * (1 + set - 0.03*(demand(t)-0.35) + d(t)) }
			m.noise, m.lo, m.hi = nom*0.003, nom*0.95, nom*1.05
			m.scale = 1e4
			if nom < 0.1 {
				m.scale = 1e6
			}
		case "water":
			base, d := uniform(r, 0.315, 0.33), drift(r, 0.004)
			m.mean = func(t int64) float64 { return base - 0.05*(demand(t)-0.35)/0.6 + d(t) }
			m.noise, m.lo, m.hi, m.scale = 0.002, 0.25, 0.35, 1e4
		case "heating":
			nom := 0.8
			if str(a, "line") == "return" {
				nom = 0.3
			} else if s.assetLayer == layers.HeatNode {
				nom = 0.7
			}
			nom += uniform(r, -0.03, 0.03)
			m.mean = func(t int64) float64 { return nom * (1 - 0.01*demand(t)) }
			m.noise, m.lo, m.hi, m.scale = 0.002, nom*0.9, nom*1.1, 1e4
		default:
			return m, fmt.Errorf("no pressure model for domain %q", s.domain)
		}
	case "flow":
		d := drift(r, 0.02)
		switch s.domain {
		case "gas":
			nom, _ := num(a, "pressure_mpa")
			if c, ok := nominalMPa[str(a, "pressure_class")]; ok {
				nom = c
			}
			base := 800.0
			if nom >= 1.6 {
				base = 8000
			} else if nom >= 0.8 || nom == 0 {
				base = 3000
			}
			base *= uniform(r, 0.8, 1.2)
			m.mean = func(t int64) float64 { return base * demand(t) / 0.95 * (1 + d(t)) }
			m.noise, m.scale = base*0.01, 10
		case "water":
			switch str(a, "kind") {
			case "hydrant":
				// A closed hydrant: only the meter's zero offset.
				m.mean = func(t int64) float64 { return 0.02 * (1 + d(t)) }
				m.noise, m.scale = 0.0006, 1e4
			default:
				base := uniform(r, 0.9, 1.5)
				if str(a, "kind") == "large_user" {
					base = uniform(r, 0.4, 0.9)
				}
				m.mean = func(t int64) float64 { return base * demand(t) * (1 + d(t)) }
				m.noise, m.scale = base*0.006, 1e3
			}
		case "drainage":
			base := uniform(r, 0.3, 0.7)
			m.mean = func(t int64) float64 {
				return base*(0.6+0.4*demand(t-hour))*(1+d(t)) + 0.02*g.rain(t)
			}
			m.noise, m.scale = base*0.01, 1e3
		case "heating":
			q := 300.0
			if dm, ok := num(a, "diameter_mm"); ok {
				// The area of the pipe at 1.2 m/s, so that a supply pipe and its
				// return twin carry the same flow.
				q = math.Pi * (dm / 2000) * (dm / 2000) * 1.2 * 3600
			} else if str(a, "kind") == "plant" {
				q = 3000
			}
			m.mean = func(t int64) float64 { return q * (0.85 + 0.15*bump(hourOf(t), 6.5, 3)) }
			m.noise, m.scale = q*0.003, 10
		default:
			return m, fmt.Errorf("no flow model for domain %q", s.domain)
		}
	case "leak_noise":
		base, d := uniform(r, 14, 20), drift(r, 1)
		m.mean = func(t int64) float64 { return base + 4*demand(t) + d(t) }
		m.noise, m.lo, m.hi, m.scale = 1.2, 5, 30, 10
	case "vibration":
		base, work := uniform(r, 2, 6), uniform(r, 5, 14)
		m.mean = func(t int64) float64 { return base + work*daytime(t) }
		m.noise, m.hi, m.scale = 2.5, 35, 1
	case "level":
		var base, wet float64
		sewage := false
		switch str(a, "kind") {
		case "pump_station":
			base, wet = uniform(r, 35, 48), 2
		case "storage_tank":
			base, wet = uniform(r, 10, 20), 3
		case "outfall":
			base, wet = uniform(r, 15, 25), 2
		default:
			switch str(a, "system") {
			case "sewage":
				base, wet, sewage = uniform(r, 18, 30), 0.5, true
			case "combined":
				base, wet, sewage = uniform(r, 18, 30), 2, true
			default:
				base, wet = uniform(r, 5, 12), 2
			}
		}
		m.mean = func(t int64) float64 {
			v := base
			if sewage {
				v *= 0.7 + 0.45*demand(t-hour)
			}
			return v + wet*g.rain(t)
		}
		m.noise, m.hi, m.scale = 0.8, 60, 10
	case "water_depth":
		m.mean = func(t int64) float64 { return 0.2 + 0.3*g.rain(t) }
		m.noise, m.hi, m.scale = 0.15, 5, 10
	case "rainfall":
		m.mean = func(int64) float64 { return 0 }
		m.extra = func(t int64, r *rng) float64 {
			if v := g.rain(t); v > 0.05 {
				return v * (1 + 0.08*r.norm())
			}
			return 0
		}
		m.hi, m.scale = 15, 10
	case "river_level":
		base := uniform(r, -2.2, -1.8)
		m.mean = func(t int64) float64 {
			return base + 0.15*math.Sin(2*math.Pi*float64(t)/float64(4*day)) + 0.02*g.rain(t)
		}
		m.noise, m.lo, m.hi, m.floor = 0.01, -3, -1, math.Inf(-1)
	case "h2s":
		if s.domain == "tunnel" {
			base := uniform(r, 0, 0.15)
			m.mean = func(int64) float64 { return base }
			m.noise, m.hi = 0.03, 1
		} else {
			base := uniform(r, 0.3, 1.2)
			m.mean = func(t int64) float64 { return base * (0.8 + 0.4*demand(t-hour)) }
			m.noise, m.hi = 0.15, 3
		}
	case "o2":
		base := 20.9 + uniform(r, -0.1, 0.1)
		m.mean = func(int64) float64 { return base }
		m.noise, m.lo, m.hi = 0.05, 20.3, 21.3
	case "temperature":
		m.scale = 10
		switch s.domain {
		case "heating":
			nom := 88.0
			if str(a, "line") == "return" {
				nom = 55
			} else if str(a, "kind") == "plant" {
				nom = 95
			}
			m.mean = func(t int64) float64 { return nom + bump(hourOf(t), 6.5, 3) }
			m.noise, m.lo, m.hi = 0.3, nom-4, nom+4
		case "tunnel":
			base, d := 20+uniform(r, -1, 1), drift(r, 0.5)
			m.mean = func(t int64) float64 { return base + 1.5*math.Cos(2*math.Pi*(hourOf(t)-16)/24) + d(t) }
			m.noise, m.lo, m.hi = 0.15, 15, 28
		default:
			off := uniform(r, -1, 1)
			lag := int64(0)
			if s.kind == "strain_gauge" {
				lag = 2 * hour // the deck warms after the air
			}
			m.mean = func(t int64) float64 { return airTemp(t-lag) + off }
			m.noise, m.lo, m.hi, m.floor = 0.2, -5, 34, math.Inf(-1)
		}
	case "humidity":
		m.scale = 10
		if s.domain == "tunnel" {
			base := 62 + uniform(r, -5, 5)
			m.mean = func(t int64) float64 { return base + 0.5*g.rain(t) }
			m.noise, m.lo, m.hi = 1, 45, 78
		} else {
			base := 65 + uniform(r, -5, 5)
			m.mean = func(t int64) float64 {
				return base - 15*math.Cos(2*math.Pi*(hourOf(t)-15)/24) + 2*g.rain(t)
			}
			m.noise, m.lo, m.hi = 1.5, 30, 84
		}
	case "strain":
		base := uniform(r, 60, 140)
		m.mean = func(t int64) float64 { return base + 2.5*(airTemp(t-2*hour)-15) }
		m.extra = traffic(10, 30, 90)
		m.noise, m.lo, m.hi, m.scale, m.floor = 2, -50, 0.5*StrainLimit, 10, math.Inf(-1)
	case "deflection":
		span, _ := num(a, "main_span_m")
		limit := max(span, 20) * 1000 * DeflectionSpanRatio
		m.mean = func(t int64) float64 {
			return limit * (0.04 + 0.015*math.Cos(2*math.Pi*(hourOf(t)-17)/24))
		}
		m.extra = traffic(limit*0.01, limit*0.03, limit*0.12)
		m.noise, m.lo, m.hi, m.floor = limit*0.003, -0.05*limit, 0.3*limit, math.Inf(-1)
	case "displacement":
		off := uniform(r, -5, 5)
		m.mean = func(t int64) float64 { return off + 0.6*(airTemp(t-2*hour)-15) }
		m.noise, m.lo, m.hi, m.floor = 0.1, -40, 40, math.Inf(-1)
	case "tilt":
		off := uniform(r, -0.05, 0.05)
		m.mean = func(t int64) float64 { return off + 0.005*math.Cos(2*math.Pi*(hourOf(t)-15)/24) }
		m.noise, m.lo, m.hi, m.scale, m.floor = 0.002, -0.2, 0.2, 1e4, math.Inf(-1)
	case "crack_width":
		base := uniform(r, 0.08, 0.14)
		m.mean = func(t int64) float64 { return base - 0.002*(airTemp(t-2*hour)-15) }
		m.noise, m.lo, m.hi, m.scale = 0.003, 0.02, 0.18, 1e3
	case "acceleration":
		m.mean = func(int64) float64 { return 0.002 }
		m.extra = traffic(0.008, 0.01, 0.06)
		m.hi, m.scale = 0.2, 1e4
	case "cable_force":
		base := uniform(r, 1800, 3200)
		m.mean = func(t int64) float64 { return base * (1 - 0.0005*(airTemp(t-2*hour)-15)) }
		m.extra = traffic(base*0.003, base*0.005, base*0.02)
		m.noise, m.lo, m.hi, m.scale = base*0.002, base*0.9, base*1.1, 10
	case "vehicle_weight":
		rated, ok := num(a, "rated_load_t")
		if !ok {
			rated = 55
		}
		m.mean = func(int64) float64 { return 0 }
		m.extra = func(t int64, r *rng) float64 { return vehicle(t, r, rated) }
		m.lo, m.hi, m.scale = 0.8, 0.85*rated, 10
	case "wind_speed":
		base, d := uniform(r, 3, 4), drift(r, 1)
		m.mean = func(t int64) float64 { return base + 1.5*math.Cos(2*math.Pi*(hourOf(t)-14)/24) + d(t) }
		m.extra = func(_ int64, r *rng) float64 { return math.Abs(r.norm()) * 1.5 }
		m.hi, m.scale = 15, 10
	case "battery":
		// A sawtooth: from 100 % down to 30 % over the battery's life, then a
		// fresh battery.
		life := float64(int64(uniform(r, 180, 300)) * day)
		phase := r.Float64() * life
		m.mean = func(t int64) float64 {
			f := math.Mod(float64(t)+phase, life) / life
			return 100 - 70*f
		}
		m.lo, m.hi, m.scale = 25, 100, 10
	default:
		return m, fmt.Errorf("no model for metric %q", metric)
	}
	if m.floor == 0 && m.lo < 0 {
		m.floor = math.Inf(-1)
	}
	return m, nil
}

// traffic is the load effect of passing vehicles: a small random part of
// size small, and one reading in 16 a truck adding between lo and hi.
func traffic(small, lo, hi float64) func(t int64, r *rng) float64 {
	return func(_ int64, r *rng) float64 {
		v := math.Abs(r.norm()) * small
		if r.float() < 1.0/16 {
			v += lo + r.float()*(hi-lo)
		}
		return v
	}
}

// vehicle is the gross weight of one vehicle crossing a weigh-in-motion
// station: mostly cars, some light trucks, heavy trucks more often at night
// (the city lets them in after 22 h), never over 85 % of the rated load.
func vehicle(t int64, r *rng, rated float64) float64 {
	heavy := 0.08
	if h := hourOf(t); h >= 22 || h < 6 {
		heavy = 0.25
	}
	switch u := r.float(); {
	case u < heavy:
		return 15 + r.float()*(min(49, 0.85*rated)-15)
	case u < heavy+0.2:
		return 4 + r.float()*8
	default:
		return 1.2 + r.float()*1.3
	}
}

// rain is the city's rainfall in mm/h at t on a normal day: on about a third
// of days a light shower of up to 6 mm/h lasting half an hour to three hours.
func (g *Generator) rain(t int64) float64 {
	d := t / day
	if t < 0 && t%day != 0 {
		d--
	}
	v := 0.0
	for dd := d - 1; dd <= d; dd++ {
		r := newRNG(g.seed, 0x7261696e, dd*day, 0)
		if r.float() >= 0.35 {
			continue
		}
		start := dd*day + int64(r.float()*float64(22*hour))
		dur := int64((0.5 + r.float()*2.5) * float64(hour))
		peak := 0.5 + r.float()*5.5
		if t >= start && t < start+dur {
			v += peak * math.Sin(math.Pi*float64(t-start)/float64(dur))
		}
	}
	return v
}

// rng is the deterministic random source of one reading: a PCG seeded from
// the simulation's seed, the sensor, the time and the metric, so that a
// reading's value does not depend on which other readings were made.
type rng struct{ p rand.PCG }

func newRNG(seed, id uint64, t int64, slot int) rng {
	var r rng
	r.p.Seed(mix(seed^mix(id)), mix(uint64(t)^uint64(slot)<<56))
	return r
}

// mix is splitmix64's finaliser: it spreads nearby seeds apart.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.p.Uint64()>>11) / (1 << 53) }

// norm returns a standard normal number (Box–Muller).
func (r *rng) norm() float64 {
	u := 1 - r.float()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}
