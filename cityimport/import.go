package cityimport

import (
	"context"
	"fmt"
	"math"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

// Import reads every source of the mapping, maps its features to onemap's
// layers and builds the networks' topology where the survey has none. It
// collects every problem of every source in one pass: with any, the city
// is nil and the error is a *city.RefusedError holding them all.
func Import(ctx context.Context, m *Mapping, cat *layers.Catalog) (*city.City, error) {
	c := &city.City{Features: map[string][]*layers.Feature{}}
	var ps city.Problems
	for _, lr := range m.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, _ := cat.Layer(lr.Layer)
		recs, err := m.readSource(ctx, lr)
		if err != nil {
			ps = append(ps, problem(city.KindUnreadable, lr.Layer, lr.Source, -1, "", err.Error(), ""))
			continue
		}
		c.Features[l.ID] = append(c.Features[l.ID], convert(lr, l, recs, &ps)...)
	}
	ids := map[uint64]string{}
	for _, l := range cat.Layers() {
		for _, f := range c.Features[l.ID] {
			if other, dup := ids[f.ID]; dup {
				ps = append(ps, problem(city.KindDuplicateID, l.ID, l.ID, -1, "", fmt.Sprintf("id %d is in %s and in %s: two sources of one layer number their features alike", f.ID, other, l.ID), ""))
			}
			ids[f.ID] = l.ID
		}
	}
	if err := ps.Err(); err != nil {
		return nil, err
	}
	b, ok := bound(c)
	if !ok {
		return nil, city.Problems{problem(city.KindNoFeatures, "", "", -1, "", "the sources hold no features", "")}.Err()
	}
	pl := spatial.NewPlane(b.Center())
	for _, l := range cat.Layers() {
		if l.Nodes == "" || len(c.Features[l.ID]) == 0 {
			continue
		}
		nodes, _ := cat.Layer(l.Nodes)
		c.Features[l.ID], c.Features[l.Nodes] = buildTopology(l, nodes, c.Features[l.ID], c.Features[l.Nodes], m.snap(), pl)
	}
	b, _ = bound(c)
	zoom := m.City.Zoom
	if zoom == 0 {
		zoom = fitZoom(b)
	}
	c.Meta = city.Meta{Name: m.City.Name, NameEn: m.City.NameEn, Bounds: [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]},
		Center: [2]float64{round7(b.Center()[0]), round7(b.Center()[1])}, Zoom: zoom}
	return c, nil
}

// bound is the bound of every feature; false when there is none.
func bound(c *city.City) (orb.Bound, bool) {
	var b orb.Bound
	n := 0
	for _, fs := range c.Features {
		for _, f := range fs {
			if n == 0 {
				b = f.Geometry.Bound()
			} else {
				b = b.Union(f.Geometry.Bound())
			}
			n++
		}
	}
	return b, n > 0
}

// fitZoom is the web map zoom at which b fills about 1,000 pixels.
func fitZoom(b orb.Bound) float64 {
	w := max(b.Max[0]-b.Min[0], (b.Max[1]-b.Min[1])*1.2, 1e-6)
	return math.Max(1, math.Min(16, math.Floor(math.Log2(360/w*1000/256))))
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }
