package sim

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// Selector chooses sensors of a city. Every field given must hold; the
// sensors left are ordered (by distance to Near, else by OrderBy, else by
// id) and the first Count of them kept. Resolution is deterministic: ties
// go to the lower sensor id.
type Selector struct {
	Domain     string `json:"domain,omitempty"`      // the sensor's domain, such as "gas"
	Kind       string `json:"kind,omitempty"`        // the sensor's kind, such as "combustible_gas"
	Metric     string `json:"metric,omitempty"`      // a metric the sensor measures
	AssetLayer string `json:"asset_layer,omitempty"` // the layer of the sensor's asset
	// Asset holds attributes of the sensor's asset and the value each must
	// have; a list of values means any of them.
	Asset map[string]any `json:"asset,omitempty"`
	// NetworkOf names an earlier target: only sensors on the pipes and nodes
	// within Hops pipes of its sensors' assets, in the same network, are kept.
	NetworkOf string `json:"network_of,omitempty"`
	Hops      int    `json:"hops,omitempty"`
	// Near orders the sensors by distance to the nearest of some features.
	Near *Near `json:"near,omitempty"`
	// WithinM keeps only sensors at most this many metres from Near.
	WithinM float64 `json:"within_m,omitempty"`
	// OrderBy orders by a numeric attribute of the asset, ascending, or
	// descending with a leading "-".
	OrderBy string `json:"order_by,omitempty"`
	// Count keeps the first n sensors; 0 keeps all.
	Count int `json:"count,omitempty"`
	// Exclude leaves out the sensors of earlier targets.
	Exclude []string `json:"exclude,omitempty"`
}

// Near is a set of features to measure distance to: the features of a layer
// with the given attributes, or the sensors of an earlier target.
type Near struct {
	Layer  string         `json:"layer,omitempty"`
	Where  map[string]any `json:"where,omitempty"`
	Target string         `json:"target,omitempty"`
}

func (s *Selector) refs() []string {
	out := slices.Clone(s.Exclude)
	if s.NetworkOf != "" {
		out = append(out, s.NetworkOf)
	}
	if s.Near != nil && s.Near.Target != "" {
		out = append(out, s.Near.Target)
	}
	return out
}

// index is what selectors need of a city, built once.
type index struct {
	c       *city.City
	byID    map[uint64]*layers.Feature
	sensors []*layers.Feature // sorted by id
	pipes   map[uint64][]*layers.Feature
}

func newIndex(c *city.City) *index {
	x := &index{c: c, byID: map[uint64]*layers.Feature{}, pipes: map[uint64][]*layers.Feature{}}
	for _, fs := range c.Features {
		for _, f := range fs {
			x.byID[f.ID] = f
			for _, end := range []string{layers.FromNode, layers.ToNode} {
				if n, ok := f.Props[end].(float64); ok {
					x.pipes[uint64(n)] = append(x.pipes[uint64(n)], f)
				}
			}
		}
	}
	x.sensors = slices.Clone(c.Features[layers.Sensor])
	slices.SortFunc(x.sensors, func(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) })
	return x
}

func (x *index) assetOf(s *layers.Feature) *layers.Feature {
	id, _ := s.Props["asset"].(float64)
	return x.byID[uint64(id)]
}

func metricsOf(s *layers.Feature) []string {
	m, _ := s.Props["metrics"].(string)
	if m == "" {
		return nil
	}
	return strings.Split(m, ",")
}

// matches reports whether every attribute in want has the wanted value (or
// one of the wanted values) in props.
func matches(props map[string]any, want map[string]any) bool {
	for k, w := range want {
		v, ok := props[k]
		if !ok {
			return false
		}
		if list, isList := w.([]any); isList {
			if !slices.Contains(list, v) {
				return false
			}
		} else if v != w {
			return false
		}
	}
	return true
}

// resolve returns the sensors a selector chooses; done holds the sensors
// of the targets resolved before.
func (x *index) resolve(sel *Selector, done map[string][]*layers.Feature) ([]*layers.Feature, error) {
	excluded := map[uint64]bool{}
	for _, name := range sel.Exclude {
		for _, s := range done[name] {
			excluded[s.ID] = true
		}
	}
	var inNet map[uint64]bool
	if sel.NetworkOf != "" {
		inNet = x.network(done[sel.NetworkOf], sel.Hops)
	}
	var cands []*layers.Feature
	for _, s := range x.sensors {
		p := s.Props
		switch {
		case excluded[s.ID],
			sel.Domain != "" && p["domain"] != sel.Domain,
			sel.Kind != "" && p["kind"] != sel.Kind,
			sel.AssetLayer != "" && p["asset_layer"] != sel.AssetLayer,
			sel.Metric != "" && !slices.Contains(metricsOf(s), sel.Metric):
			continue
		}
		a := x.assetOf(s)
		if len(sel.Asset) > 0 && (a == nil || !matches(a.Props, sel.Asset)) {
			continue
		}
		if inNet != nil && (a == nil || !inNet[a.ID]) {
			continue
		}
		cands = append(cands, s)
	}
	switch {
	case sel.Near != nil:
		var refs []orb.Geometry
		if sel.Near.Target != "" {
			for _, s := range done[sel.Near.Target] {
				refs = append(refs, s.Geometry)
			}
		} else {
			for _, f := range x.c.Features[sel.Near.Layer] {
				if matches(f.Props, sel.Near.Where) {
					refs = append(refs, f.Geometry)
				}
			}
		}
		if len(refs) == 0 {
			return nil, errors.New("near: no such features")
		}
		dist := make(map[uint64]float64, len(cands))
		for _, s := range cands {
			p, _ := s.Geometry.(orb.Point)
			d := math.Inf(1)
			for _, g := range refs {
				d = min(d, distance(p, g))
			}
			dist[s.ID] = d
		}
		if sel.WithinM > 0 {
			cands = slices.DeleteFunc(cands, func(s *layers.Feature) bool { return dist[s.ID] > sel.WithinM })
		}
		slices.SortStableFunc(cands, func(a, b *layers.Feature) int { return cmp.Compare(dist[a.ID], dist[b.ID]) })
	case sel.OrderBy != "":
		key, sign := strings.TrimPrefix(sel.OrderBy, "-"), 1.0
		if key != sel.OrderBy {
			sign = -1
		}
		val := func(s *layers.Feature) float64 {
			v, ok := num(x.assetOf(s), key)
			if !ok {
				return math.Inf(1)
			}
			return sign * v
		}
		slices.SortStableFunc(cands, func(a, b *layers.Feature) int { return cmp.Compare(val(a), val(b)) })
	}
	if sel.Count > 0 && len(cands) > sel.Count {
		cands = cands[:sel.Count]
	}
	if len(cands) == 0 {
		return nil, errors.New("selects no sensor")
	}
	return cands, nil
}

// network returns the ids of the pipes and nodes within hops pipes of the
// assets of the given sensors.
func (x *index) network(sensors []*layers.Feature, hops int) map[uint64]bool {
	seen := map[uint64]bool{}
	var frontier []uint64 // nodes
	addPipe := func(p *layers.Feature) {
		seen[p.ID] = true
		for _, end := range []string{layers.FromNode, layers.ToNode} {
			if n, ok := p.Props[end].(float64); ok && !seen[uint64(n)] {
				seen[uint64(n)] = true
				frontier = append(frontier, uint64(n))
			}
		}
	}
	for _, s := range sensors {
		a := x.assetOf(s)
		if a == nil {
			continue
		}
		if _, isPipe := a.Props[layers.FromNode]; isPipe {
			addPipe(a)
		} else if !seen[a.ID] {
			seen[a.ID] = true
			frontier = append(frontier, a.ID)
		}
	}
	for range hops {
		nodes := frontier
		frontier = nil
		for _, n := range nodes {
			for _, p := range x.pipes[n] {
				if !seen[p.ID] {
					addPipe(p)
				}
			}
		}
	}
	return seen
}

// distance returns the distance in metres from p to the nearest point of g,
// on a local flat projection (good to a fraction of a percent over a city).
func distance(p orb.Point, g orb.Geometry) float64 {
	kx := 111320 * math.Cos(p[1]*math.Pi/180)
	const ky = 110540.0
	xy := func(q orb.Point) (float64, float64) { return (q[0] - p[0]) * kx, (q[1] - p[1]) * ky }
	line := func(ls []orb.Point) float64 {
		d := math.Inf(1)
		for i := range ls {
			ax, ay := xy(ls[i])
			if i == 0 {
				d = math.Hypot(ax, ay)
				continue
			}
			bx, by := xy(ls[i-1])
			dx, dy := ax-bx, ay-by
			t := 0.0
			if l := dx*dx + dy*dy; l > 0 {
				t = min(max(-(bx*dx+by*dy)/l, 0), 1)
			}
			d = min(d, math.Hypot(bx+t*dx, by+t*dy))
		}
		return d
	}
	switch g := g.(type) {
	case orb.Point:
		return line([]orb.Point{g})
	case orb.LineString:
		return line(g)
	case orb.MultiLineString:
		d := math.Inf(1)
		for _, ls := range g {
			d = min(d, line(ls))
		}
		return d
	case orb.Polygon:
		if len(g) > 0 {
			return line(g[0])
		}
	case orb.MultiPolygon:
		d := math.Inf(1)
		for _, pg := range g {
			if len(pg) > 0 {
				d = min(d, line(pg[0]))
			}
		}
		return d
	}
	return line([]orb.Point{g.Bound().Center()})
}

// Resolve returns, for each target of the scenario by name, the ids of the
// sensors of c it drives.
func (s *Scenario) Resolve(c *city.City) (map[string][]uint64, error) {
	done, err := s.resolve(newIndex(c))
	if err != nil {
		return nil, err
	}
	out := make(map[string][]uint64, len(done))
	for name, fs := range done {
		for _, f := range fs {
			out[name] = append(out[name], f.ID)
		}
	}
	return out, nil
}

func (s *Scenario) resolve(x *index) (map[string][]*layers.Feature, error) {
	done := map[string][]*layers.Feature{}
	played := map[string]string{} // sensor id and metric → target
	for _, t := range s.Targets {
		fs, err := x.resolve(&t.Select, done)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: target %s: %w", s.ID, t.Name, err)
		}
		for _, f := range fs {
			ms := metricsOf(f)
			for m := range t.Metrics {
				if !slices.Contains(ms, m) {
					return nil, fmt.Errorf("scenario %s: target %s: sensor %d does not measure %s", s.ID, t.Name, f.ID, m)
				}
				k := fmt.Sprint(f.ID, m)
				if other, dup := played[k]; dup {
					return nil, fmt.Errorf("scenario %s: targets %s and %s both play %s of sensor %d", s.ID, other, t.Name, m, f.ID)
				}
				played[k] = t.Name
			}
		}
		done[t.Name] = fs
	}
	return done, nil
}
