// Package memory is the embedded store: a whole city held in memory, each
// layer in columns and indexed by an R-tree. It needs no service and is
// what onemap runs on by default.
//
// A layer keeps no map or object per feature: ids, minimum zooms and each
// catalog attribute are columns (numbers as float64, strings as codes into
// the layer's dictionary, booleans as bytes), and geometry is one array of
// points with the offsets of each feature's parts, beside the same points
// projected once to Web Mercator world units, so that a tile scales them
// and needs no trigonometry. The collector has a few dozen arrays to mark,
// not millions of maps. Tiles are written straight from the columns (the
// store is a tiles.Renderer); features are made whole only for the callers
// that ask for them.
package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
)

var (
	_ store.Store    = (*Store)(nil)
	_ tiles.Renderer = (*Store)(nil)
)

// Store holds a city in memory. It is safe for concurrent readers.
type Store struct {
	meta   city.Meta
	layers map[string]*layer
	byCode map[uint8]*layer
}

// New holds the city's features in columns of the default catalog's
// attributes. The store copies what it keeps; the city may be dropped.
func New(c *city.City) *Store { return NewWith(c, layers.Default()) }

// NewWith holds the city's features in columns of the catalog's attributes.
func NewWith(c *city.City, cat *layers.Catalog) *Store {
	s := &Store{meta: c.Meta, layers: map[string]*layer{}, byCode: map[uint8]*layer{}}
	for id, fs := range c.Features {
		l, _ := cat.Layer(id)
		s.add(build(id, l, fs))
	}
	return s
}

// add indexes a built layer.
func (s *Store) add(li *layer) {
	s.layers[li.id] = li
	if code, ok := li.code(); ok {
		s.byCode[code] = li
	}
}

// Features calls fn for each feature of the layer whose bounds intersect b
// and whose minimum zoom is at most z. The feature is made for the call.
func (s *Store) Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error {
	li, ok := s.layers[layer]
	if !ok {
		return nil // a catalog layer the city has no data for
	}
	var err error
	n := 0
	li.search(b, z, func(i int32) bool {
		if n++; n%1024 == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		err = fn(li.feature(i))
		return err == nil
	})
	return err
}

// Items returns a page of the layer's features that meet q, in id order,
// and how many meet it in all.
func (s *Store) Items(ctx context.Context, layer string, q layers.Query) ([]*layers.Feature, int, error) {
	li, ok := s.layers[layer]
	if !ok {
		return nil, 0, nil
	}
	var cands []int32
	if q.Bound != nil {
		li.search(*q.Bound, layers.MaxZoom, func(i int32) bool {
			cands = append(cands, i)
			return true
		})
		slices.Sort(cands) // features are held in id order
	}
	n := len(li.ids)
	if q.Bound != nil {
		n = len(cands)
	}
	var page []*layers.Feature
	matched, skip := 0, q.Offset
	for k := range n {
		if k%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		i := int32(k)
		if q.Bound != nil {
			i = cands[k]
		}
		if !li.matches(i, &q) {
			continue
		}
		matched++
		if li.ids[i] <= q.After {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(page) < q.Limit {
			page = append(page, li.feature(i))
		}
	}
	return page, matched, nil
}

// Version returns the layer's data version.
func (s *Store) Version(layer string) uint64 {
	if _, ok := s.layers[layer]; ok {
		return 1
	}
	return 0
}

// Feature returns the feature with the given id.
func (s *Store) Feature(_ context.Context, id uint64) (*layers.Feature, error) {
	if li, ok := s.byCode[layers.CodeOf(id)]; ok {
		if i, ok := li.index(id); ok {
			return li.feature(i), nil
		}
	}
	// A layer whose ids do not all carry its code.
	for _, li := range s.layers {
		if _, ok := li.code(); ok {
			continue
		}
		if i, ok := li.index(id); ok {
			return li.feature(i), nil
		}
	}
	return nil, fmt.Errorf("feature %d: %w", id, store.ErrNotFound)
}

// Count returns the number of features of a layer.
func (s *Store) Count(_ context.Context, layer string) (int, error) {
	if li, ok := s.layers[layer]; ok {
		return len(li.ids), nil
	}
	return 0, nil
}

// Bounds returns the box that holds every feature of a layer.
func (s *Store) Bounds(_ context.Context, layer string) (orb.Bound, bool, error) {
	if li, ok := s.layers[layer]; ok && len(li.ids) > 0 {
		return li.bound, true, nil
	}
	return orb.Bound{}, false, nil
}

// Meta describes the city.
func (s *Store) Meta() city.Meta { return s.meta }

// Close does nothing; the memory is the garbage collector's.
func (s *Store) Close() error { return nil }

// RenderTile writes tile t of the layers from their columns, by the
// encoder's rules and in PostGIS's layout: features in id order, the
// catalog's attributes in catalog order and typed by the catalog, the
// others after them in jsonb order, so that both stores give the same
// bytes for the same features.
func (s *Store) RenderTile(ctx context.Context, ls []*layers.Layer, t tiles.Tile) ([]byte, error) {
	p := tiles.NewWorldProjection(t)
	r := renders.Get().(*render)
	defer r.release()
	ws := r.writers[:0]
	defer func() {
		for _, w := range ws {
			w.Release()
		}
		r.writers = ws[:0]
	}()
	size := 0
	for _, l := range ls {
		li, ok := s.layers[l.ID]
		if !ok {
			continue
		}
		r.hits = r.hits[:0]
		query := tiles.QueryBound(t, l)
		li.search(query, t.Z, func(i int32) bool {
			r.hits = append(r.hits, i)
			return true
		})
		if len(r.hits) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		slices.Sort(r.hits)
		w := tiles.NewLayerWriter(l)
		ws = append(ws, w)
		r.start(li, l, w)
		var i int32
		tags := func() []uint32 { return r.tags(w, li, i) }
		for _, i = range r.hits {
			li.addTile(w, p, i, &r.geom, tags)
		}
		size += w.Size()
	}
	// The tile is the caller's: one allocation of its size.
	var out []byte
	if size > 0 {
		out = make([]byte, 0, size)
	}
	for _, w := range ws {
		if w.Len() > 0 {
			out = w.AppendTo(out)
		}
	}
	return out, ctx.Err()
}
