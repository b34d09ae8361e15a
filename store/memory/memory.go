// Package memory is the embedded store: a whole city held in memory, each
// layer indexed by an R-tree. It needs no service and is what onemap runs on
// by default.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

var _ store.Store = (*Store)(nil)

// Store holds a city in memory. It is safe for concurrent readers.
type Store struct {
	meta   city.Meta
	layers map[string]*layerIndex
	byID   map[uint64]*layers.Feature
}

// layerIndex is one layer's features in an R-tree of their lon/lat bounds.
type layerIndex struct {
	tree rtree.RTreeGN[float64, *layers.Feature]
	// byID holds the features in id order, for the pages of Items.
	byID    []*layers.Feature
	count   int
	version uint64
	bound   orb.Bound // of every feature; meaningless when count is 0
}

// New indexes the city's features. The store keeps the features; the caller
// must not change them afterwards.
func New(c *city.City) *Store {
	s := &Store{meta: c.Meta, layers: map[string]*layerIndex{}, byID: make(map[uint64]*layers.Feature, c.Count())}
	for id, fs := range c.Features {
		li := &layerIndex{count: len(fs), version: 1, byID: slices.Clone(fs)}
		for i, f := range fs {
			b := f.Geometry.Bound()
			if i == 0 {
				li.bound = b
			} else {
				li.bound = li.bound.Union(b)
			}
			li.tree.Insert(b.Min, b.Max, f)
			s.byID[f.ID] = f
		}
		slices.SortFunc(li.byID, byID)
		s.layers[id] = li
	}
	return s
}

// Features calls fn for each feature of the layer whose bounds intersect b
// and whose minimum zoom is at most z.
func (s *Store) Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error {
	li, ok := s.layers[layer]
	if !ok {
		return nil // a catalog layer the city has no data for
	}
	var err error
	n := 0
	li.tree.Search(b.Min, b.Max, func(_, _ [2]float64, f *layers.Feature) bool {
		if int(f.MinZoom) > z {
			return true
		}
		if n++; n%1024 == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		err = fn(f)
		return err == nil
	})
	return err
}

func byID(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) }

// Items returns a page of the layer's features that meet q, in id order,
// and how many meet it in all.
func (s *Store) Items(ctx context.Context, layer string, q layers.Query) ([]*layers.Feature, int, error) {
	li, ok := s.layers[layer]
	if !ok {
		return nil, 0, nil
	}
	cands := li.byID
	if q.Bound != nil {
		cands = nil
		li.tree.Search(q.Bound.Min, q.Bound.Max, func(_, _ [2]float64, f *layers.Feature) bool {
			cands = append(cands, f)
			return true
		})
		slices.SortFunc(cands, byID)
	}
	var page []*layers.Feature
	matched, skip := 0, q.Offset
	for i, f := range cands {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		if !q.Matches(f) {
			continue
		}
		matched++
		if f.ID <= q.After {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(page) < q.Limit {
			page = append(page, f)
		}
	}
	return page, matched, nil
}

// Version returns the layer's data version.
func (s *Store) Version(layer string) uint64 {
	if li, ok := s.layers[layer]; ok {
		return li.version
	}
	return 0
}

// Feature returns the feature with the given id.
func (s *Store) Feature(_ context.Context, id uint64) (*layers.Feature, error) {
	f, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("feature %d: %w", id, store.ErrNotFound)
	}
	return f, nil
}

// Count returns the number of features of a layer.
func (s *Store) Count(_ context.Context, layer string) (int, error) {
	if li, ok := s.layers[layer]; ok {
		return li.count, nil
	}
	return 0, nil
}

// Bounds returns the box that holds every feature of a layer.
func (s *Store) Bounds(_ context.Context, layer string) (orb.Bound, bool, error) {
	if li, ok := s.layers[layer]; ok && li.count > 0 {
		return li.bound, true, nil
	}
	return orb.Bound{}, false, nil
}

// Meta describes the city.
func (s *Store) Meta() city.Meta { return s.meta }

// Close does nothing; the memory is the garbage collector's.
func (s *Store) Close() error { return nil }
