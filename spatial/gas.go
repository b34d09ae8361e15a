package spatial

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// GasDistance is the guide's neighbourhood of a gas pipe (§四.一.1(5)):
// underground spaces within 12.5 m of it are where leaked gas gathers, and
// where combustible-gas sensors belong.
const GasDistance = 12.5

// AdjacentLayers are the layers of underground spaces that can neighbour a
// gas pipe: drains and manholes, power and telecom ducts, utility tunnel
// compartments and buildings with a basement.
var AdjacentLayers = []string{layers.DrainPipe, layers.DrainNode, layers.PowerDuct, layers.TelecomDuct, layers.UtilityTunnel, layers.Building}

// Adjacency is an underground space within reach of a gas pipe.
type Adjacency struct {
	Pipe     *layers.Feature // the gas pipe
	Space    *layers.Feature // the drain, manhole, duct, compartment or basement
	Distance float64         // metres between them
	Closest  orb.Point       // the space's point closest to the pipe
}

// IsUndergroundSpace reports whether a feature of an adjacent layer is a
// closed or semi-closed space: every drain, duct and compartment, and the
// buildings with a basement. A compartment of gas itself is the pipe's own
// space and is counted too: that is where tunnel gas detectors belong.
func IsUndergroundSpace(f *layers.Feature) bool {
	if f.Layer == layers.Building {
		b, _ := f.Props["basement"].(bool)
		return b
	}
	return slices.Contains(AdjacentLayers, f.Layer)
}

// NeighbourhoodFinder is a Source that finds gas neighbourhoods itself
// (PostGIS, in SQL); it must answer as GasNeighbourhood does.
type NeighbourhoodFinder interface {
	GasNeighbourhood(ctx context.Context, b orb.Bound, distance float64) ([]Adjacency, error)
}

// CompareAdjacency orders adjacencies by pipe id, then distance, then
// space id: the order GasNeighbourhood answers in.
func CompareAdjacency(a, b Adjacency) int {
	if c := cmp.Compare(a.Pipe.ID, b.Pipe.ID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
		return c
	}
	return cmp.Compare(a.Space.ID, b.Space.ID)
}

// GasNeighbourhood returns, for every gas pipe whose bounds meet b, the
// underground spaces within distance metres of it, by pipe id and then by
// distance. A space near several pipes appears once per pipe.
func GasNeighbourhood(ctx context.Context, src Source, b orb.Bound, distance float64) ([]Adjacency, error) {
	if f, ok := src.(NeighbourhoodFinder); ok {
		return f.GasNeighbourhood(ctx, b, distance)
	}
	if !(distance > 0 && distance <= 500) {
		return nil, fmt.Errorf("%w: %v m is not in (0, 500]", ErrRadius, distance)
	}
	var pipes []*layers.Feature
	err := src.Features(ctx, layers.GasPipe, b, layers.MaxZoom, func(f *layers.Feature) error {
		pipes = append(pipes, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(pipes, func(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) })
	// A space near several pipes is kept once: a store that makes its
	// features for each call (the memory store's columns) would otherwise
	// give a copy of it for each pipe.
	seen := map[uint64]*layers.Feature{}
	var out []Adjacency
	for i, p := range pipes {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		pb := p.Geometry.Bound()
		pl := NewPlane(pb.Center())
		q := pl.Bound(pb, distance)
		start := len(out)
		for _, l := range AdjacentLayers {
			err := src.Features(ctx, l, q, layers.MaxZoom, func(f *layers.Feature) error {
				if !IsUndergroundSpace(f) {
					return nil
				}
				c, d := pl.Distance(p.Geometry, f.Geometry)
				if d <= distance {
					if s, ok := seen[f.ID]; ok {
						f = s
					} else {
						seen[f.ID] = f
					}
					out = append(out, Adjacency{Pipe: p, Space: f, Distance: d, Closest: c})
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		slices.SortFunc(out[start:], CompareAdjacency)
	}
	return out, nil
}
