package spatial

import (
	"context"
	"fmt"
	"sync"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// VersionedSource is a Source that says when a layer's data changed.
type VersionedSource interface {
	Source
	Version(layer string) uint64
}

// world is a bound that holds every feature.
var world = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}

// Networks builds the graph of each pipe network once and again only after
// its pipes or nodes change.
type Networks struct {
	cat *layers.Catalog
	src VersionedSource

	mu    sync.Mutex
	built map[string]builtNetwork
}

type builtNetwork struct {
	pipes, nodes uint64 // the layer versions it was built from
	net          *Network
}

// NewNetworks returns the networks of the catalog's layers read from src.
func NewNetworks(cat *layers.Catalog, src VersionedSource) *Networks {
	return &Networks{cat: cat, src: src, built: map[string]builtNetwork{}}
}

// IsSource says which nodes feed a network: plants and gate stations.
func IsSource(f *layers.Feature) bool {
	switch f.Props["kind"] {
	case "plant", "station":
		return true
	}
	return false
}

// Get returns the network of a pipe layer (gas_pipe, water_pipe …).
func (ns *Networks) Get(ctx context.Context, pipeLayer string) (*Network, error) {
	l, err := ns.cat.Layer(pipeLayer)
	if err != nil {
		return nil, err
	}
	if l.Nodes == "" {
		return nil, fmt.Errorf("%w: %s is not a pipe network", ErrNotPipe, pipeLayer)
	}
	pv, nv := ns.src.Version(l.ID), ns.src.Version(l.Nodes)
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if b, ok := ns.built[l.ID]; ok && b.pipes == pv && b.nodes == nv {
		return b.net, nil
	}
	var pipes, nodes []*layers.Feature
	collect := func(dst *[]*layers.Feature) func(*layers.Feature) error {
		return func(f *layers.Feature) error { *dst = append(*dst, f); return nil }
	}
	if err := ns.src.Features(ctx, l.ID, world, layers.MaxZoom, collect(&pipes)); err != nil {
		return nil, err
	}
	if err := ns.src.Features(ctx, l.Nodes, world, layers.MaxZoom, collect(&nodes)); err != nil {
		return nil, err
	}
	n, err := NewNetwork(l.ID, l.Nodes, pipes, nodes, IsSource)
	if err != nil {
		return nil, err
	}
	ns.built[l.ID] = builtNetwork{pv, nv, n}
	return n, nil
}
