package postgis_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/geo"
)

// The memory store's metres agree with PostGIS's geography (the geodesic
// on the WGS84 ellipsoid) to the millimetre within 5 km and 2 cm within
// 25 km, wherever the two points are from the query's centre; a
// line's length too.
func TestMetresOnTheEllipsoid(t *testing.T) {
	ctx := context.Background()
	s, err := postgis.Open(ctx, pgtest.URL(t), layers.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	geodesic := func(a, b orb.Geometry, length bool) float64 {
		t.Helper()
		q := fmt.Sprintf(`SELECT ST_Length(ST_GeogFromText('SRID=4326;%s'), true)`, wkt.MarshalString(a))
		if !length {
			q = fmt.Sprintf(`SELECT ST_Distance(ST_GeogFromText('SRID=4326;%s'), ST_GeogFromText('SRID=4326;%s'), true)`, wkt.MarshalString(a), wkt.MarshalString(b))
		}
		var d float64
		if err := s.Pool().QueryRow(ctx, q).Scan(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	centre := orb.Point{117.25, 31.84}
	pl := spatial.NewPlane(centre)
	for _, off := range []float64{0, 1000, 5000, 10000} {
		for _, d := range []float64{12.5, 300, 1000, 5000, 25000} {
			for _, bearing := range []float64{0, 45, 90, 135} {
				a := geo.PointAtBearingAndDistance(centre, 30, off)
				b := geo.PointAtBearingAndDistance(a, bearing, d)
				want := geodesic(a, b, false)
				tol := 0.001
				if d > 5000 {
					tol = 0.02
				}
				if got := spatial.Metres(a, b); math.Abs(got-want) > tol {
					t.Errorf("%.0f m from the centre, %.1f m at %.0f°: Metres %.4f, the geodesic %.4f", off, d, bearing, got, want)
				}
				if _, got := pl.Closest(b, a); math.Abs(got-want) > tol {
					t.Errorf("%.0f m from the centre, %.1f m at %.0f°: Closest %.4f, the geodesic %.4f", off, d, bearing, got, want)
				}
			}
		}
	}
	line := orb.LineString{centre, geo.PointAtBearingAndDistance(centre, 80, 3000), geo.PointAtBearingAndDistance(centre, 10, 7000)}
	if got, want := spatial.Length(line), geodesic(line, nil, true); math.Abs(got-want) > 0.01 {
		t.Errorf("a pipe's length %.4f m, the geodesic %.4f m", got, want)
	}
}
