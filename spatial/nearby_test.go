package spatial

import (
	"context"
	"errors"
	"github.com/paulmach/orb/geo"
	"slices"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// sliceSource is a Source over a list of features, searched by brute force.
type sliceSource []*layers.Feature

func (s sliceSource) Features(_ context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error {
	for _, f := range s {
		if f.Layer == layer && b.Intersects(f.Geometry.Bound()) {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func pt(id uint64, layer string, dx, dy float64) *layers.Feature {
	return &layers.Feature{ID: id, Layer: layer, Geometry: at(dx, dy)}
}

func TestNearby(t *testing.T) {
	src := sliceSource{
		pt(1, layers.ProtectiveTarget, 99.99, 0),  // just inside 100 m
		pt(2, layers.ProtectiveTarget, 0, 100.01), // just outside
		pt(3, layers.Hazard, -30, 40),             // 50 m
		pt(4, layers.Hazard, 30, -40),             // 50 m, a tie broken by id
		pt(5, layers.Sensor, 10, 0),               // a layer not asked for
		{ID: 6, Layer: layers.Hazard, Geometry: orb.Polygon{{at(200, -10), at(300, -10), at(300, 10), at(200, 10), at(200, -10)}}}, // 200 m
	}
	hits, err := Nearby(context.Background(), src, at(0, 0), 100, []string{layers.ProtectiveTarget, layers.Hazard})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, h := range hits {
		ids = append(ids, h.Feature.ID)
	}
	if want := []uint64{3, 4, 1}; !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	// Laid out on the origin's plane, measured on the ellipsoid: within
	// a tenth of a millimetre.
	if !near(hits[0].Distance, 50, 1e-4) || !near(hits[2].Distance, 99.99, 1e-4) {
		t.Errorf("distances %v, %v", hits[0].Distance, hits[2].Distance)
	}
	// The polygon is measured from its edge, not its centre.
	hits, _ = Nearby(context.Background(), src, at(0, 0), 201, []string{layers.Hazard})
	if last := hits[len(hits)-1]; last.Feature.ID != 6 || !near(last.Distance, 200, 1e-6) || geoDist(last.Closest, at(200, 0)) > 1e-6 {
		t.Errorf("polygon hit %+v", last)
	}
}

func TestNearbyFromALine(t *testing.T) {
	// Distance from a 400 m pipe, not from its middle: the school by its end
	// is 30 m away though 230 m from the centroid.
	pipe := orb.LineString{at(0, 0), at(400, 0)}
	src := sliceSource{pt(1, layers.ProtectiveTarget, 430, 0), pt(2, layers.ProtectiveTarget, 200, 31)}
	hits, err := Nearby(context.Background(), src, pipe, 30.5, []string{layers.ProtectiveTarget})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Feature.ID != 1 || !near(hits[0].Distance, 30, 1e-6) {
		t.Errorf("hits %+v", hits)
	}
}

func TestNearbyBadRadius(t *testing.T) {
	for _, r := range []float64{0, -5, MaxRadius + 1} {
		if _, err := Nearby(context.Background(), sliceSource{}, at(0, 0), r, []string{layers.Hazard}); !errors.Is(err, ErrRadius) {
			t.Errorf("radius %v: err = %v", r, err)
		}
	}
}

func geoDist(a, b orb.Point) float64 { return geo.Distance(a, b) }

func TestNearbyAny(t *testing.T) {
	src := sliceSource{pt(1, layers.Hazard, 0, 50), pt(2, layers.Hazard, 100, 20), pt(3, layers.Hazard, 300, 0), pt(4, layers.Road, 0, 10)}
	// Two points 100 m apart: hazard 2 is 20 m from the second and 102 m
	// from the first, and is counted once, at 20 m.
	hits, err := NearbyAny(context.Background(), src, []orb.Geometry{at(0, 0), at(100, 0)}, 60, []string{layers.Hazard})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, h := range hits {
		ids = append(ids, h.Feature.ID)
	}
	if !slices.Equal(ids, []uint64{2, 1}) || !near(hits[0].Distance, 20, 0.01) || !near(hits[1].Distance, 50, 0.01) {
		t.Errorf("hits %v at %v, %v m; want [2 1] at 20, 50 m", ids, hits[0].Distance, hits[1].Distance)
	}
	if geoDist(hits[0].Closest, at(100, 20)) > 0.01 {
		t.Errorf("closest point of 2: %v", hits[0].Closest)
	}
	if _, err := NearbyAny(context.Background(), src, []orb.Geometry{at(0, 0)}, MaxRadius+1, []string{layers.Hazard}); !errors.Is(err, ErrRadius) {
		t.Errorf("radius too large: err = %v", err)
	}
}
