package spatial

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// MaxRadius bounds a radius search: beyond a few kilometres "nearby" is the
// whole city, and the answer is a table, not a search.
const MaxRadius = 5000

// ErrRadius is returned for a radius that is not in (0, MaxRadius].
var ErrRadius = errors.New("spatial: radius out of range")

// Source gives the search the features of a layer in a bound. A store
// implements it (layers.Source has the same method).
type Source interface {
	Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error
}

// Hit is one feature within reach: how far it is and its point closest to
// what was searched from.
type Hit struct {
	Feature  *layers.Feature
	Distance float64   // metres
	Closest  orb.Point // longitude, latitude
}

// Searcher finds the features of some layers within a radius of a geometry.
// A store that can do it faster than Nearby (PostGIS, with its indexes)
// implements it.
type Searcher interface {
	Nearby(ctx context.Context, from orb.Geometry, radius float64, layerIDs []string) ([]Hit, error)
}

// Nearby returns the features of the layers within radius metres of from,
// nearest first (ties by id), measured from from's geometry, not its
// centroid. It reads candidates by bound and measures each exactly.
func Nearby(ctx context.Context, src Source, from orb.Geometry, radius float64, layerIDs []string) ([]Hit, error) {
	if s, ok := src.(Searcher); ok {
		return s.Nearby(ctx, from, radius, layerIDs)
	}
	if !(radius > 0 && radius <= MaxRadius) {
		return nil, fmt.Errorf("%w: %v m is not in (0, %d]", ErrRadius, radius, MaxRadius)
	}
	b := from.Bound()
	pl := NewPlane(b.Center())
	q := pl.Bound(b, radius)
	var hits []Hit
	for _, l := range layerIDs {
		err := src.Features(ctx, l, q, layers.MaxZoom, func(f *layers.Feature) error {
			c, d := pl.Distance(from, f.Geometry)
			if d <= radius {
				hits = append(hits, Hit{Feature: f, Distance: d, Closest: c})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	SortHits(hits)
	return hits, nil
}

// SortHits orders hits nearest first, ties by feature id.
func SortHits(hits []Hit) {
	slices.SortFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		return cmp.Compare(a.Feature.ID, b.Feature.ID)
	})
}
