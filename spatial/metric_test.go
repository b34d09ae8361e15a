package spatial

import (
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

var origin = orb.Point{117.26, 31.84}

// east and north give the point dx, dy metres from origin on its plane.
func at(dx, dy float64) orb.Point { return NewPlane(origin).Unproject(orb.Point{dx, dy}) }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestPlaneScale(t *testing.T) {
	// Metres in a degree on the WGS84 ellipsoid, from the geodesy tables.
	for _, tt := range []struct{ lat, east, north float64 }{
		{0, 111319.49, 110574.39},
		{30, 96486.29, 110852.46},
		{45, 78846.84, 111132.95},
	} {
		pl := NewPlane(orb.Point{117, tt.lat})
		if !near(pl.kx, tt.east, 2) || !near(pl.ky, tt.north, 2) { // tables give a whole degree's length
			t.Errorf("lat %v: %.2f m east, %.2f m north per degree; want %.2f, %.2f", tt.lat, pl.kx, pl.ky, tt.east, tt.north)
		}
	}
}

func TestClosest(t *testing.T) {
	pl := NewPlane(origin)
	pipe := orb.LineString{at(0, 0), at(200, 0), at(200, 200)}
	square := orb.Polygon{{at(0, 0), at(100, 0), at(100, 100), at(0, 100), at(0, 0)}}
	tests := []struct {
		name    string
		g       orb.Geometry
		p       orb.Point
		dist    float64
		closest orb.Point
	}{
		{"PointToPoint", at(30, 40), at(0, 0), 50, at(30, 40)},
		{"BesideSegment", pipe, at(100, 12.5), 12.5, at(100, 0)},
		{"PastTheEnd", pipe, at(-30, -40), 50, at(0, 0)},
		{"BesideSecondSegment", pipe, at(210, 150), 10, at(200, 150)},
		{"InsidePolygon", square, at(50, 50), 0, at(50, 50)},
		{"OutsidePolygon", square, at(150, 50), 50, at(100, 50)},
		{"OffTheCorner", square, at(130, 140), 50, at(100, 100)},
		{"InHole", orb.Polygon{square[0], {at(25, 25), at(75, 25), at(75, 75), at(25, 75), at(25, 25)}}, at(40, 50), 15, at(25, 50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, d := pl.Closest(tt.g, tt.p)
			// Laid out on the origin's plane, measured on the ellipsoid:
			// the two differ by a fraction of a millimetre here.
			if !near(d, tt.dist, 1e-3) {
				t.Errorf("distance %.9f m, want %v", d, tt.dist)
			}
			if tt.dist > 0 && !near(d, Metres(tt.p, tt.closest), 1e-6) {
				t.Errorf("distance %.9f m, but %.9f m on the ellipsoid to the closest point", d, Metres(tt.p, tt.closest))
			}
			if e := geo.Distance(c, tt.closest); e > 1e-6 {
				t.Errorf("closest %v is %.9f m from %v", c, e, tt.closest)
			}
		})
	}
}

func TestDistanceBetweenGeometries(t *testing.T) {
	pl := NewPlane(origin)
	gas := orb.LineString{at(0, 0), at(300, 0)}
	tests := []struct {
		name string
		g    orb.Geometry
		want float64
	}{
		{"ParallelDuct", orb.LineString{at(50, 12.5), at(250, 12.5)}, 12.5},
		{"DuctJustOutside", orb.LineString{at(50, 12.51), at(250, 12.51)}, 12.51},
		{"CrossingDrain", orb.LineString{at(100, -20), at(100, 20)}, 0},
		{"ManholeBeyondEnd", at(305, 12), 13},
		{"BasementOverPipe", orb.Polygon{{at(10, -5), at(40, -5), at(40, 5), at(10, 5), at(10, -5)}}, 0},
		{"BasementBeside", orb.Polygon{{at(10, 8), at(40, 8), at(40, 30), at(10, 30), at(10, 8)}}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, d := pl.Distance(tt.g, gas)
			// The fixtures are laid out on the origin's plane; measured on
			// the ellipsoid they differ from it by micrometres.
			if !near(d, tt.want, 1e-5) {
				t.Errorf("distance %.9f m, want %v", d, tt.want)
			}
		})
	}
}

func ExamplePlane_Closest() {
	pl := NewPlane(orb.Point{117.26, 31.84})
	pipe := orb.LineString{pl.Unproject(orb.Point{0, 0}), pl.Unproject(orb.Point{100, 0})}
	_, d := pl.Closest(pipe, pl.Unproject(orb.Point{40, 12.5}))
	fmt.Printf("%.1f m\n", d)
	// Output: 12.5 m
}
