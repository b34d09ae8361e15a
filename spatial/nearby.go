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

// Searcher finds the features of some layers within a radius of a geometry,
// or of any of several. A store that can do it faster than Nearby and
// NearbyAny (PostGIS, with its indexes) implements it; it must answer as
// they do.
type Searcher interface {
	Nearby(ctx context.Context, from orb.Geometry, radius float64, layerIDs []string) ([]Hit, error)
	NearbyAny(ctx context.Context, from []orb.Geometry, radius float64, layerIDs []string) ([]Hit, error)
}

// Nearby returns the features of the layers within radius metres of from,
// nearest first (ties by id), measured from from's geometry, not its
// centroid. It reads candidates by bound and measures each exactly.
func Nearby(ctx context.Context, src Source, from orb.Geometry, radius float64, layerIDs []string) ([]Hit, error) {
	if s, ok := src.(Searcher); ok {
		return s.Nearby(ctx, from, radius, layerIDs)
	}
	if err := CheckRadius(radius); err != nil {
		return nil, err
	}
	var hits []Hit
	for _, l := range layerIDs {
		err := scan(ctx, src, from, radius, l, func(h Hit) { hits = append(hits, h) })
		if err != nil {
			return nil, err
		}
	}
	SortHits(hits)
	return hits, nil
}

// NearbyAny returns the features of the layers within radius metres of any
// of the geometries in from, each once with its distance to the nearest of
// them and its point closest to that one, nearest first (ties by id): the
// buildings along a set of pipes, in one search rather than one per pipe.
func NearbyAny(ctx context.Context, src Source, from []orb.Geometry, radius float64, layerIDs []string) ([]Hit, error) {
	if s, ok := src.(Searcher); ok {
		return s.NearbyAny(ctx, from, radius, layerIDs)
	}
	if err := CheckRadius(radius); err != nil {
		return nil, err
	}
	best := map[uint64]Hit{}
	for _, l := range layerIDs {
		for _, g := range from {
			err := scan(ctx, src, g, radius, l, func(h Hit) {
				if b, ok := best[h.Feature.ID]; !ok || h.Distance < b.Distance {
					best[h.Feature.ID] = h
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	hits := make([]Hit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	SortHits(hits)
	return hits, nil
}

// CheckRadius returns ErrRadius, wrapped, for a radius not in
// (0, MaxRadius].
func CheckRadius(radius float64) error {
	if !(radius > 0 && radius <= MaxRadius) {
		return fmt.Errorf("%w: %v m is not in (0, %d]", ErrRadius, radius, MaxRadius)
	}
	return nil
}

// scan calls hit for each feature of a layer within radius metres of from:
// it reads candidates by bound and measures each exactly.
func scan(ctx context.Context, src Source, from orb.Geometry, radius float64, layer string, hit func(Hit)) error {
	b := from.Bound()
	pl := NewPlane(b.Center())
	return src.Features(ctx, layer, pl.Bound(b, radius), layers.MaxZoom, func(f *layers.Feature) error {
		if c, d := pl.Distance(from, f.Geometry); d <= radius {
			hit(Hit{Feature: f, Distance: d, Closest: c})
		}
		return nil
	})
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
