package spatial

import (
	"context"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// AdjacentSpaceLayer is the derived layer gas_adjacent_space: a point per
// underground space within 12.5 m of a gas pipe, where gas from the pipe
// would reach it, with whether a gas sensor watches it and its risk. It is
// computed from the city when first asked for and again after any layer it
// is made from changes.
type AdjacentSpaceLayer struct {
	cat            *layers.Catalog
	src            VersionedSource
	layer          *layers.Layer
	sensorDistance float64
	now            func() time.Time

	mu      sync.Mutex
	inputs  uint64 // a hash of the versions of the layers it was made from
	version uint64
	tree    rtree.RTreeGN[float64, *layers.Feature]
	count   int
	spaces  []Space // what the features were made from
}

// AdjacentSpaceLayerID is the id of the derived layer in the catalog.
const AdjacentSpaceLayerID = layers.GasAdjacentSpace

// NewAdjacentSpaceLayer returns the derived layer over src. A space counts
// as watched when a gas sensor is on it or within sensorDistance metres.
func NewAdjacentSpaceLayer(cat *layers.Catalog, src VersionedSource, sensorDistance float64, now func() time.Time) (*AdjacentSpaceLayer, error) {
	l, err := cat.Layer(AdjacentSpaceLayerID)
	if err != nil {
		return nil, err
	}
	return &AdjacentSpaceLayer{cat: cat, src: src, layer: l, sensorDistance: sensorDistance, now: now}, nil
}

// inputVersions hashes the versions of the layers the analysis reads.
func (a *AdjacentSpaceLayer) inputVersions() uint64 {
	h := fnv.New64a()
	for _, l := range append([]string{layers.GasPipe, layers.Sensor}, AdjacentLayers...) {
		h.Write(strconv.AppendUint(nil, a.src.Version(l), 10))
		h.Write([]byte{0})
	}
	// The risk counts the pipes' age in years.
	h.Write(strconv.AppendInt(nil, int64(a.now().Year()), 10))
	return h.Sum64()
}

// refresh recomputes the layer if what it is made from has changed.
func (a *AdjacentSpaceLayer) refresh(ctx context.Context) error {
	in := a.inputVersions()
	if a.version != 0 && in == a.inputs {
		return nil
	}
	spaces, err := AdjacentSpaces(ctx, a.src, world, GasDistance, a.sensorDistance, a.now().Year())
	if err != nil {
		return err
	}
	// The whole city's spaces stay in memory as long as the layers they
	// are made from: keep of their features what the layer and the
	// analysis's answers read, not every attribute.
	slims := map[uint64]*layers.Feature{}
	for i := range spaces {
		s := &spaces[i]
		s.Space = slim(slims, s.Space, "kind", "compartment", "name")
		s.Pipe = slim(slims, s.Pipe, "pressure_class", "install_year")
		if s.Sensor != nil {
			s.Sensor = slim(slims, s.Sensor)
		}
	}
	var tree rtree.RTreeGN[float64, *layers.Feature]
	for i, s := range spaces {
		status := "unmonitored"
		props := map[string]any{
			"space": float64(s.Space.ID), "space_layer": s.Space.Layer, "distance_m": round2(s.Distance),
			"pipe": float64(s.Pipe.ID), "people": s.People, "risk": s.Risk,
		}
		if s.Sensor != nil {
			status = "monitored"
			props["sensor"] = float64(s.Sensor.ID)
		}
		props["status"] = status
		if k, ok := s.Space.Props["kind"].(string); ok {
			props["kind"] = k
		} else if k, ok := s.Space.Props["compartment"].(string); ok {
			props["kind"] = k
		}
		if pc, ok := s.Pipe.Props["pressure_class"].(string); ok {
			props["pressure_class"] = pc
		}
		f := &layers.Feature{ID: layers.MakeID(a.layer.Code, uint64(i+1)), Layer: a.layer.ID, Geometry: s.Closest, MinZoom: uint8(a.layer.MinZoom), Props: props}
		tree.Insert(s.Closest, s.Closest, f)
	}
	a.tree, a.count, a.inputs, a.spaces = tree, len(spaces), in, spaces
	a.version++
	return nil
}

// slim returns a copy of f with only the attributes named, once per
// feature: seen holds the copies made.
func slim(seen map[uint64]*layers.Feature, f *layers.Feature, keep ...string) *layers.Feature {
	if c, ok := seen[f.ID]; ok {
		return c
	}
	c := *f
	c.Props = make(map[string]any, len(keep))
	for _, k := range keep {
		if v, ok := f.Props[k]; ok {
			c.Props[k] = v
		}
	}
	seen[f.ID] = &c
	return &c
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// Features calls fn for the derived features in b.
func (a *AdjacentSpaceLayer) Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error {
	if layer != a.layer.ID || z < a.layer.MinZoom {
		return nil
	}
	a.mu.Lock()
	if err := a.refresh(ctx); err != nil {
		a.mu.Unlock()
		return err
	}
	tree := a.tree
	a.mu.Unlock()
	var err error
	tree.Search(b.Min, b.Max, func(_, _ [2]float64, f *layers.Feature) bool {
		err = fn(f)
		return err == nil
	})
	return err
}

// SensorDistance is how near a gas sensor must be for a space to count as
// watched.
func (a *AdjacentSpaceLayer) SensorDistance() float64 { return a.sensorDistance }

// Spaces returns the whole city's spaces within GasDistance of a gas pipe,
// riskiest first: the analysis the layer is drawn from, made once for as
// long as the layers it reads stay as they are. Its features carry only
// the attributes the layer reads (the space's kind, compartment and name,
// the pipe's pressure class and year laid). The slice is shared: never
// change it.
func (a *AdjacentSpaceLayer) Spaces(ctx context.Context) ([]Space, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.refresh(ctx); err != nil {
		return nil, err
	}
	return a.spaces, nil
}

// Version changes whenever the layer's inputs have changed.
func (a *AdjacentSpaceLayer) Version(string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.version == 0 || a.inputVersions() != a.inputs {
		return a.version + 1 // what the next refresh will be
	}
	return a.version
}

// LayerID is the id of the layer it makes.
func (a *AdjacentSpaceLayer) LayerID() string { return a.layer.ID }

// Count is the number of features, once computed.
func (a *AdjacentSpaceLayer) Count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.count
}
