package spatial

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// gasMetrics are the sensor metrics that detect leaked gas in a space.
var gasMetrics = []string{"ch4_lel", "ch4_vol"}

// IsGasSensor reports whether a sensor measures combustible gas.
func IsGasSensor(f *layers.Feature) bool {
	ms, _ := f.Props["metrics"].(string)
	for _, m := range strings.Split(ms, ",") {
		if slices.Contains(gasMetrics, strings.TrimSpace(m)) {
			return true
		}
	}
	return false
}

// Space is an underground space in a gas pipe's neighbourhood, with what
// watches it and how much its being unwatched matters.
type Space struct {
	Space    *layers.Feature
	Pipe     *layers.Feature // the nearest gas pipe
	Distance float64         // metres to it
	Closest  orb.Point       // the space's point nearest the pipe
	// Sensor is the nearest combustible-gas sensor on the space or within
	// the sensor distance of it; nil for an unmonitored space.
	Sensor         *layers.Feature
	SensorDistance float64
	People         float64 // people in the buildings within PeopleRadius
	Risk           float64 // 0–1; see Risk
}

// PeopleRadius is how far from a space its people are counted.
const PeopleRadius = 50.0

// pressureWeight ranks pressure classes: a leak from a high-pressure line
// fills a space faster and farther.
var pressureWeight = map[string]float64{
	"high_a": 1, "high_b": 1, "subhigh_a": 0.9, "subhigh_b": 0.85,
	"medium_a": 0.7, "medium_b": 0.6, "low": 0.4,
}

// Risk scores an adjacent space from 0 to 1 for ranking where sensors are
// placed next: 0.4 × the pipe's pressure class, 0.3 × its age (0 when new,
// 1 at 40 years or more), 0.3 × the people around (1 at 2,000 or more),
// all scaled by closeness (1 beside the pipe, 0.5 at the edge of the
// neighbourhood). The weights follow the guide's gas model (§五): pressure,
// age, crowding and the size of the space; they are a ranking, not a
// probability.
func Risk(pipe *layers.Feature, distance, limit, people float64, year int) float64 {
	pc, _ := pipe.Props["pressure_class"].(string)
	pw, ok := pressureWeight[pc]
	if !ok {
		pw = 0.5
	}
	age := 0.0
	if y, ok := pipe.Props["install_year"].(float64); ok && y > 0 {
		age = min(max(float64(year)-y, 0)/40, 1)
	}
	crowd := min(people/2000, 1)
	closeness := 1 - 0.5*min(distance/limit, 1)
	return math.Round((0.4*pw+0.3*age+0.3*crowd)*closeness*1000) / 1000
}

// AdjacentSpaces returns each underground space within distance metres of
// a gas pipe whose bounds meet b, once, with its nearest pipe, its nearest
// gas sensor within sensorDistance, the people around and its risk, the
// riskiest first. year is the current year, for pipe ages.
func AdjacentSpaces(ctx context.Context, src Source, b orb.Bound, distance, sensorDistance float64, year int) ([]Space, error) {
	pairs, err := GasNeighbourhood(ctx, src, b, distance)
	if err != nil {
		return nil, err
	}
	// Each space asks for the sensors and buildings around it. A store that
	// answers searches itself (PostGIS) would be asked once per space: read
	// those layers around the pairs once instead.
	if _, remote := src.(Searcher); remote && len(pairs) > 0 {
		around := pairs[0].Space.Geometry.Bound()
		for _, a := range pairs {
			around = around.Union(a.Space.Geometry.Bound())
		}
		pad := NewPlane(around.Center()).Bound(around, max(sensorDistance, PeopleRadius)*1.1)
		if src, err = readLayers(ctx, src, pad, layers.Sensor, layers.Building); err != nil {
			return nil, err
		}
	}
	byID := map[uint64]*Space{}
	var order []uint64
	for _, a := range pairs {
		s, ok := byID[a.Space.ID]
		if !ok {
			order = append(order, a.Space.ID)
			byID[a.Space.ID] = &Space{Space: a.Space, Pipe: a.Pipe, Distance: a.Distance, Closest: a.Closest}
			continue
		}
		if a.Distance < s.Distance {
			s.Pipe, s.Distance, s.Closest = a.Pipe, a.Distance, a.Closest
		}
	}
	out := make([]Space, 0, len(order))
	for _, id := range order {
		s := byID[id]
		// A sensor on the space itself, or within reach of any part of it.
		sb := s.Space.Geometry.Bound()
		pl := NewPlane(sb.Center())
		q := pl.Bound(sb, sensorDistance)
		err := src.Features(ctx, layers.Sensor, q, layers.MaxZoom, func(f *layers.Feature) error {
			if !IsGasSensor(f) {
				return nil
			}
			d := 0.0
			if asset, _ := f.Props["asset"].(float64); uint64(asset) != s.Space.ID {
				_, d = pl.Distance(f.Geometry, s.Space.Geometry)
			}
			// The nearest, and of sensors as near, the first by id: the same
			// whichever store is asked.
			if d <= sensorDistance && (s.Sensor == nil || d < s.SensorDistance || d == s.SensorDistance && f.ID < s.Sensor.ID) {
				s.Sensor, s.SensorDistance = f, d
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		hits, err := Nearby(ctx, src, s.Space.Geometry, PeopleRadius, []string{layers.Building})
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			p, _ := h.Feature.Props["population"].(float64)
			s.People += p
		}
		s.Risk = Risk(s.Pipe, s.Distance, distance, s.People, year)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Space) int {
		if c := cmp.Compare(b.Risk, a.Risk); c != 0 {
			return c
		}
		return cmp.Compare(a.Space.ID, b.Space.ID)
	})
	return out, nil
}

// layerIndex holds the features of some layers within a bound in memory:
// a Source for the many small searches of one analysis.
type layerIndex map[string]*rtree.RTreeG[*layers.Feature]

// readLayers reads the features of the layers within b from src, once.
func readLayers(ctx context.Context, src Source, b orb.Bound, ids ...string) (layerIndex, error) {
	x := layerIndex{}
	for _, id := range ids {
		tree := &rtree.RTreeG[*layers.Feature]{}
		err := src.Features(ctx, id, b, layers.MaxZoom, func(f *layers.Feature) error {
			fb := f.Geometry.Bound()
			tree.Insert(fb.Min, fb.Max, f)
			return nil
		})
		if err != nil {
			return nil, err
		}
		x[id] = tree
	}
	return x, nil
}

// Features calls fn for the features of a layer the index holds whose
// bounds meet b.
func (x layerIndex) Features(ctx context.Context, layer string, b orb.Bound, _ int, fn func(*layers.Feature) error) error {
	tree := x[layer]
	if tree == nil {
		return nil
	}
	var err error
	tree.Search(b.Min, b.Max, func(_, _ [2]float64, f *layers.Feature) bool {
		err = fn(f)
		return err == nil
	})
	return err
}
