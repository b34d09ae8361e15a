package live

import (
	"context"
	"sync"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// FeatureGetter finds a feature by id; a store is one.
type FeatureGetter interface {
	Feature(ctx context.Context, id uint64) (*layers.Feature, error)
}

// Describe fills in what each sensor's record does not say: its asset's
// kind (rules differ for a manhole and a restaurant) and the district it
// stands in.
func (r *Sensors) Describe(ctx context.Context, assets FeatureGetter, districts []*layers.Feature) {
	// A province has hundreds of districts: test a district's box before
	// its outline.
	bounds := make([]orb.Bound, len(districts))
	for i, d := range districts {
		bounds[i] = d.Geometry.Bound()
	}
	for _, sn := range r.list {
		if sn.Asset != 0 && sn.AssetKind == "" {
			if a, err := assets.Feature(ctx, sn.Asset); err == nil {
				sn.AssetKind, _ = a.Props["kind"].(string)
			}
		}
		for i, d := range districts {
			if bounds[i].Contains(sn.Location) && contains(d.Geometry, sn.Location) {
				sn.District, _ = d.Props["name"].(string)
				break
			}
		}
	}
}

func contains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}

// AssetAttrs returns Options.Attrs over a store: the numbers among each
// asset's attributes (nominal pressure, rated load), read once per asset.
func AssetAttrs(assets FeatureGetter) func(*Sensor) map[string]float64 {
	var cache sync.Map
	return func(sn *Sensor) map[string]float64 {
		if v, ok := cache.Load(sn.Asset); ok {
			return v.(map[string]float64)
		}
		attrs := map[string]float64{}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if f, err := assets.Feature(ctx, sn.Asset); err == nil {
			for k, v := range f.Props {
				if x, ok := v.(float64); ok {
					attrs[k] = x
				}
			}
		}
		cache.Store(sn.Asset, attrs)
		return attrs
	}
}
