package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// Generator makes the readings of a city's sensors and its scenarios. It is
// built once from Options and then only read, so it is safe for concurrent
// use; Readings of a window is a pure function of the options and the window.
type Generator struct {
	seed    uint64
	sensors []*sensor
	plays   []*play
}

type sensor struct {
	id         uint64
	domain     string
	kind       string
	assetLayer string
	asset      *layers.Feature
	metrics    []metricGen
	period     int64   // ms between reports
	phase      int64   // ms; reports fall at phase + k·period
	plays      []int   // indexes into Generator.plays of the scenarios driving it
	overrides  [][]ovr // by metric index
}

type metricGen struct {
	id, unit string
	m        model
}

// ovr is a scenario's profile applied to one metric of one sensor.
type ovr struct {
	play  int
	segs  []segment
	of    string
	scale float64 // the asset attribute's value when of names one
}

// play is a scenario placed on the timeline.
type play struct {
	sc         *Scenario
	start, end int64 // ms; end leaves time after the profiles to see alarms clear
	every      int64 // ms between reports of the driven sensors
	targets    map[string][]uint64
}

// clearTime is how long driven sensors keep reporting fast after a
// scenario's last step, and are spared dropouts.
const clearTime = 5 * minute

// NewGenerator prepares the sensors of o.City and resolves o.Scenarios
// against it. Scenarios start at o.Start plus their delay.
func NewGenerator(o Options) (*Generator, error) {
	if o.City == nil {
		return nil, errors.New("sim: no city")
	}
	x := newIndex(o.City)
	g := &Generator{seed: o.Seed}
	total := 0
	for _, f := range x.sensors {
		_, ok := f.Geometry.(orb.Point)
		if !ok {
			return nil, fmt.Errorf("sim: sensor %d: geometry is not a point", f.ID)
		}
		s := &sensor{id: f.ID, asset: x.assetOf(f)}
		s.domain, _ = f.Props["domain"].(string)
		s.kind, _ = f.Props["kind"].(string)
		s.assetLayer, _ = f.Props["asset_layer"].(string)
		iv, _ := f.Props["interval_s"].(float64)
		if iv <= 0 {
			iv = 60 // the guide's default reporting interval
		}
		s.period = int64(iv * 1000)
		r := rand.New(rand.NewPCG(o.Seed, f.ID))
		s.phase = r.Int64N(s.period)
		for _, m := range metricsOf(f) {
			md, err := g.newModel(s, m, r)
			if err != nil {
				return nil, fmt.Errorf("sim: sensor %d: %w", f.ID, err)
			}
			s.metrics = append(s.metrics, metricGen{m, unitOf(m, s.domain), md})
		}
		s.overrides = make([][]ovr, len(s.metrics))
		total += len(s.metrics)
		g.sensors = append(g.sensors, s)
	}
	if o.Rate > 0 && len(g.sensors) > 0 {
		// Every sensor in turn, so that the whole city's readings come at
		// Rate per second of wall time; Speed stretches it into sim time.
		period := max(int64(float64(total)/o.Rate*speedOf(o)*1000), 1)
		for i, s := range g.sensors {
			s.period = period
			s.phase = int64(i) * period / int64(len(g.sensors))
		}
	}
	byID := make(map[uint64]*sensor, len(g.sensors))
	for _, s := range g.sensors {
		byID[s.id] = s
	}
	start := o.Start.UnixMilli()
	for pi, sc := range o.Scenarios {
		done, err := sc.resolve(x)
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		p := &play{sc: sc, start: start + time.Duration(sc.Delay).Milliseconds(), targets: map[string][]uint64{}}
		p.end = p.start + sc.Length().Milliseconds() + clearTime
		p.every = time.Duration(sc.ReportEvery).Milliseconds()
		if p.every <= 0 {
			p.every = 10 * second
		}
		for _, t := range sc.Targets {
			for _, f := range done[t.Name] {
				p.targets[t.Name] = append(p.targets[t.Name], f.ID)
				s := byID[f.ID]
				if len(s.plays) == 0 || s.plays[len(s.plays)-1] != pi {
					s.plays = append(s.plays, pi)
				}
				for m, prof := range t.Metrics {
					j := s.metricIndex(m)
					o := ovr{play: pi, segs: prof.segments(), of: prof.Of, scale: 1}
					if prof.Of != "" && prof.Of != "normal" {
						v, ok := num(s.asset, prof.Of)
						if !ok || v == 0 {
							return nil, fmt.Errorf("sim: scenario %s: target %s: the asset of sensor %d has no attribute %q",
								sc.ID, t.Name, s.id, prof.Of)
						}
						o.scale = v
					}
					s.overrides[j] = append(s.overrides[j], o)
				}
			}
		}
		g.plays = append(g.plays, p)
	}
	return g, nil
}

func (s *sensor) metricIndex(m string) int {
	for j, mg := range s.metrics {
		if mg.id == m {
			return j
		}
	}
	return -1
}

// Sensors returns the number of sensors the generator reports for.
func (g *Generator) Sensors() int { return len(g.sensors) }

// Targets returns the sensor ids each target of the i-th scenario drives.
func (g *Generator) Targets(i int) map[string][]uint64 { return g.plays[i].targets }

// Generate returns the readings of o's city from from (inclusive) to to
// (exclusive) in time order, as Generator.Readings does. A zero o.Start
// starts the scenarios at from.
func Generate(o Options, from, to time.Time) (iter.Seq[Reading], error) {
	if o.Start.IsZero() {
		o.Start = from
	}
	g, err := NewGenerator(o)
	if err != nil {
		return nil, err
	}
	return g.Readings(from, to), nil
}

// Readings returns every reading made from from (inclusive) to to
// (exclusive), in time order (sensors by id at the same millisecond, each
// sensor's metrics in the order it lists them). Windows that follow one
// another give exactly the readings of the window that spans them.
func (g *Generator) Readings(from, to time.Time) iter.Seq[Reading] {
	f, t := from.UnixMilli(), to.UnixMilli()
	return func(yield func(Reading) bool) {
		h := make(ticks, 0, len(g.sensors))
		for i := range g.sensors {
			if n := g.next(i, f); n < t {
				h = append(h, tick{n, i})
			}
		}
		heap.Init(&h)
		for len(h) > 0 {
			tk := h[0]
			if !g.emit(tk.i, tk.t, yield) {
				return
			}
			if n := g.next(tk.i, tk.t+1); n < t {
				h[0].t = n
				heap.Fix(&h, 0)
			} else {
				heap.Pop(&h)
			}
		}
	}
}

// next returns the first time at or after t at which sensor i reports.
func (g *Generator) next(i int, t int64) int64 {
	s := g.sensors[i]
	n := s.phase + ceilDiv(t-s.phase, s.period)*s.period
	for _, pi := range s.plays {
		p := g.plays[pi]
		if t >= p.end || p.every >= s.period {
			continue
		}
		tt := max(t, p.start)
		c := p.start + ceilDiv(tt-p.start, p.every)*p.every
		if c < p.end {
			n = min(n, c)
		}
	}
	return n
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

// emit yields the readings of sensor i at t, unless it is in a dropout.
func (g *Generator) emit(i int, t int64, yield func(Reading) bool) bool {
	s := g.sensors[i]
	if g.dropped(s, t) {
		return true
	}
	ts := time.UnixMilli(t)
	for j := range s.metrics {
		mg := &s.metrics[j]
		if !yield(Reading{Sensor: s.id, Metric: mg.id, Value: g.value(s, j, t), Unit: mg.unit, Time: ts}) {
			return false
		}
	}
	return true
}

// value returns the value of metric j of sensor s at t.
func (g *Generator) value(s *sensor, j int, t int64) float64 {
	m := &s.metrics[j].m
	r := newRNG(g.seed, s.id, t, j)
	v := m.value(t, &r)
	// The last scenario in the options wins where two drive the same metric.
	for k := len(s.overrides[j]) - 1; k >= 0; k-- {
		o := &s.overrides[j][k]
		p := g.plays[o.play]
		if t < p.start || t >= p.end {
			continue
		}
		scale := func(t int64) float64 {
			if o.of == "normal" {
				if v := m.mean(t); v != 0 {
					return v
				}
			}
			return o.scale
		}
		normal := func(tt int64) float64 { return m.mean(p.start+tt) / scale(p.start+tt) }
		if u, ok := valueAt(o.segs, t-p.start, normal); ok {
			v = max(u*scale(t)+m.noise*r.norm(), m.floor)
		}
		break
	}
	return m.round(v)
}

// dropped reports whether sensor s is silent at t: on about one day in
// fifty a sensor drops out for ten minutes to two hours (a flat battery
// contact, a lost radio link), never while a scenario drives it.
func (g *Generator) dropped(s *sensor, t int64) bool {
	for _, pi := range s.plays {
		p := g.plays[pi]
		if t >= p.start-hour && t < p.end+hour {
			return false
		}
	}
	d := t / day
	if t < 0 && t%day != 0 {
		d--
	}
	for dd := d - 1; dd <= d; dd++ {
		r := newRNG(g.seed, s.id, dd*day, 0x3f)
		if r.float() >= 0.02 {
			continue
		}
		start := dd*day + int64(r.float()*float64(day))
		dur := int64((10 + r.float()*110) * float64(minute))
		if t >= start && t < start+dur {
			return true
		}
	}
	return false
}

type tick struct {
	t int64
	i int
}

// ticks is a min-heap of the next report of each sensor, earliest first,
// lower sensor index first at the same time.
type ticks []tick

func (h ticks) Len() int { return len(h) }
func (h ticks) Less(a, b int) bool {
	return h[a].t < h[b].t || h[a].t == h[b].t && h[a].i < h[b].i
}
func (h ticks) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *ticks) Push(x any)   { *h = append(*h, x.(tick)) }
func (h *ticks) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func speedOf(o Options) float64 {
	if o.Speed <= 0 || math.IsNaN(o.Speed) {
		return 1
	}
	return o.Speed
}
