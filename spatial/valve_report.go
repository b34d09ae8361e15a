package spatial

import (
	"cmp"
	"context"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// ValveNetworks are the pressurised networks that valves close; drainage
// flows by gravity and has none.
var ValveNetworks = []string{layers.GasPipe, layers.WaterPipe, layers.HeatPipe}

// ServiceDistance is how far from a pipe, in metres, a building is taken to
// hang on it: service connections run from the street main to the facade.
const ServiceDistance = 40.0

// IsLargeUser reports whether a node of a network is a large user, whose
// loss of supply is reported by name: a large consumer, a substation or a
// pressure regulator feeding a district.
func IsLargeUser(f *layers.Feature) bool {
	switch f.Props["kind"] {
	case "large_user", "substation", "regulator":
		return true
	}
	return false
}

// NoValvesError is returned for a valve closure asked of a feature that is
// not a pipe of a network with valves.
type NoValvesError struct {
	// Layer is the feature's layer.
	Layer string
}

func (e *NoValvesError) Error() string {
	return "feature is a " + e.Layer + "; valve closure takes a gas, water or heating pipe"
}

// FeatureSource is a Source that also finds a feature by id.
type FeatureSource interface {
	Source
	Feature(ctx context.Context, id uint64) (*layers.Feature, error)
}

// FeatureStore is a FeatureSource that says when a layer's data changed:
// what a store offers.
type FeatureStore interface {
	FeatureSource
	Version(layer string) uint64
}

// ValveReport is a valve closure and whom it leaves without supply.
type ValveReport struct {
	// Network is the pipe layer closed.
	Network string
	Closure *Closure
	// Valves are the nodes of Closure.Valves, in its order.
	Valves []*layers.Feature
	// LargeUsers are the large users among the isolated nodes, then among
	// the cut-off nodes, in the closure's order; nil when there are none.
	LargeUsers []*layers.Feature
	// Buildings are those within ServiceDistance of an isolated or cut-off
	// pipe, by id.
	Buildings []*layers.Feature
	// People is the sum of the buildings' population.
	People float64
}

// ValveClosureReport closes the valves around a burst pipe of a network with
// valves (with the valves in failed stuck open) and reports who loses
// supply. It returns the store's error for an unknown pipe, a
// *NoValvesError for a feature of another layer, and ErrNotValve for a
// failed valve that is not one.
func ValveClosureReport(ctx context.Context, st FeatureStore, ns *Networks, pipe uint64, failed []uint64) (*ValveReport, error) {
	f, err := st.Feature(ctx, pipe)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ValveNetworks, f.Layer) {
		return nil, &NoValvesError{Layer: f.Layer}
	}
	net, err := ns.Get(ctx, f.Layer)
	if err != nil {
		return nil, err
	}
	c, err := net.ValveClosure(pipe, failed)
	if err != nil {
		return nil, err
	}
	return NewValveReport(ctx, st, net, c)
}

// NewValveReport finds who a closure of the network leaves without supply:
// the large users among its isolated and cut-off nodes, and the buildings
// within ServiceDistance of its isolated and cut-off pipes, read from src
// in one search.
func NewValveReport(ctx context.Context, src Source, net *Network, c *Closure) (*ValveReport, error) {
	r := &ValveReport{Network: net.Layer, Closure: c, Valves: make([]*layers.Feature, 0, len(c.Valves)), Buildings: []*layers.Feature{}}
	for _, id := range c.Valves {
		if n, ok := net.Node(id); ok {
			r.Valves = append(r.Valves, n)
		}
	}
	for _, id := range append(slices.Clone(c.IsolatedNodes), c.CutOffNodes...) {
		if n, ok := net.Node(id); ok && IsLargeUser(n) {
			r.LargeUsers = append(r.LargeUsers, n)
		}
	}
	pipes := append(slices.Clone(c.IsolatedPipes), c.CutOffPipes...)
	hits, err := buildingsAlong(ctx, src, net, pipes)
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		r.Buildings = append(r.Buildings, h.Feature)
	}
	slices.SortFunc(r.Buildings, func(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) })
	for _, b := range r.Buildings {
		pop, _ := b.Props["population"].(float64)
		r.People += pop
	}
	return r, nil
}

// buildingsAlong finds the buildings within ServiceDistance of the pipes,
// each once, in one search.
func buildingsAlong(ctx context.Context, src Source, net *Network, pipes []uint64) ([]Hit, error) {
	if len(pipes) == 0 {
		return nil, nil
	}
	geoms := make([]orb.Geometry, 0, len(pipes))
	for _, id := range pipes {
		if p, ok := net.Pipe(id); ok {
			geoms = append(geoms, p.Geometry)
		}
	}
	return NearbyAny(ctx, src, geoms, ServiceDistance, []string{layers.Building})
}
