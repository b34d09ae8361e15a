package spatial

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// The WGS84 ellipsoid (CGCS2000's differs from it by 0.1 mm).
const (
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
)

// Plane is a local metric plane: metres east and north of an origin, with
// the ellipsoid's radii of curvature at the origin's latitude, as PostGIS's
// geography measures. Within 5 km of the origin it errs by less than 0.05 %;
// queries make a plane at their centre.
type Plane struct {
	origin orb.Point
	kx, ky float64 // metres per degree east and north
}

// NewPlane returns the plane around origin.
func NewPlane(origin orb.Point) Plane {
	phi := origin[1] * math.Pi / 180
	w := 1 - wgs84E2*math.Sin(phi)*math.Sin(phi)
	m := wgs84A * (1 - wgs84E2) / (w * math.Sqrt(w)) // meridian
	n := wgs84A / math.Sqrt(w)                       // prime vertical
	return Plane{origin: origin, kx: n * math.Cos(phi) * math.Pi / 180, ky: m * math.Pi / 180}
}

// Project returns p in metres on the plane.
func (pl Plane) Project(p orb.Point) orb.Point {
	return orb.Point{(p[0] - pl.origin[0]) * pl.kx, (p[1] - pl.origin[1]) * pl.ky}
}

// Unproject returns the longitude and latitude of a point of the plane.
func (pl Plane) Unproject(p orb.Point) orb.Point {
	return orb.Point{pl.origin[0] + p[0]/pl.kx, pl.origin[1] + p[1]/pl.ky}
}

// Bound returns the longitude/latitude bound that holds every point within
// r metres of the geometry bound b.
func (pl Plane) Bound(b orb.Bound, r float64) orb.Bound {
	// A degree east is shortest at the bound's poleward edge, where r
	// spans the most of them; a degree north varies by less than 1 %.
	dy := r / pl.ky * 1.01
	lat := max(math.Abs(b.Min[1]-dy), math.Abs(b.Max[1]+dy))
	dx := r / min(pl.kx, NewPlane(orb.Point{pl.origin[0], min(lat, 89.9)}).kx)
	return orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
}

// Closest returns the point of g closest to p (both longitude/latitude) and
// the distance between them in metres; inside a polygon the distance is 0
// and the closest point is p itself. The point is found on the plane; the
// distance to it is measured on the ellipsoid (Metres), so that it does not
// drift with the point's distance from the plane's origin.
func (pl Plane) Closest(g orb.Geometry, p orb.Point) (orb.Point, float64) {
	at, d := pl.closestOnPlane(g, p)
	if d == 0 || math.IsInf(d, 1) {
		return at, d
	}
	return at, Metres(p, at)
}

// closestOnPlane is Closest with the distance measured on the plane: good
// for choosing among candidates, which Metres then measures once.
func (pl Plane) closestOnPlane(g orb.Geometry, p orb.Point) (orb.Point, float64) {
	c, d := closest(pl, g, pl.Project(p))
	return pl.Unproject(c), d
}

// Metres is the distance in metres between two points (longitude,
// latitude) on the WGS84 ellipsoid, by the mean-latitude formula: the
// plane of the ellipsoid's radii of curvature at the points' mean
// latitude. Against the geodesic it errs by under a millimetre within 5 km
// and under 2 cm within 25 km, the reach of a city's queries.
func Metres(a, b orb.Point) float64 {
	pl := NewPlane(orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2})
	return planar.Distance(pl.Project(a), pl.Project(b))
}

// Length is the length in metres of a line on the ellipsoid, segment by
// segment (Metres); 0 for what is not a line.
func Length(g orb.Geometry) float64 {
	line := func(ls []orb.Point) float64 {
		l := 0.0
		for i := 0; i+1 < len(ls); i++ {
			l += Metres(ls[i], ls[i+1])
		}
		return l
	}
	switch g := g.(type) {
	case orb.LineString:
		return line(g)
	case orb.MultiLineString:
		l := 0.0
		for _, ls := range g {
			l += line(ls)
		}
		return l
	}
	return 0
}

// closest works in plane coordinates; q is projected, g is not.
func closest(pl Plane, g orb.Geometry, q orb.Point) (orb.Point, float64) {
	best, bestD := orb.Point{}, math.Inf(1)
	try := func(c orb.Point) {
		if d := planar.Distance(c, q); d < bestD {
			best, bestD = c, d
		}
	}
	line := func(ls []orb.Point) {
		if len(ls) == 1 {
			try(pl.Project(ls[0]))
		}
		for i := 0; i+1 < len(ls); i++ {
			try(closestOnSegment(pl.Project(ls[i]), pl.Project(ls[i+1]), q))
		}
	}
	polygon := func(p orb.Polygon) {
		if len(p) == 0 {
			return
		}
		if planar.PolygonContains(p, pl.Unproject(q)) {
			best, bestD = q, 0
			return
		}
		for _, r := range p {
			line(r)
		}
	}
	switch g := g.(type) {
	case orb.Point:
		try(pl.Project(g))
	case orb.MultiPoint:
		for _, p := range g {
			try(pl.Project(p))
		}
	case orb.LineString:
		line(g)
	case orb.MultiLineString:
		for _, ls := range g {
			line(ls)
		}
	case orb.Ring:
		line(g)
	case orb.Polygon:
		polygon(g)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygon(p); bestD == 0 {
				break
			}
		}
	case orb.Bound:
		polygon(g.ToPolygon())
	case orb.Collection:
		for _, x := range g {
			if c, d := closest(pl, x, q); d < bestD {
				best, bestD = c, d
			}
		}
	}
	return best, bestD
}

// closestOnSegment returns the point of segment ab closest to q.
func closestOnSegment(a, b, q orb.Point) orb.Point {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return a
	}
	t := ((q[0]-a[0])*dx + (q[1]-a[1])*dy) / l2
	t = max(0, min(1, t))
	return orb.Point{a[0] + t*dx, a[1] + t*dy}
}

// Distance returns the least distance in metres between two geometries, and
// the point of b closest to a. For a point it is exact; for two lines or
// polygons it is measured from the vertices and edges of each to the other.
func (pl Plane) Distance(a, b orb.Geometry) (orb.Point, float64) {
	if p, ok := a.(orb.Point); ok {
		return pl.Closest(b, p)
	}
	// Every vertex of a against b, and every vertex of b against a: the
	// closest pair of two non-crossing polylines has a vertex at one end.
	// The pair is chosen on the plane and measured once on the ellipsoid.
	from, best, bestD := orb.Point{}, orb.Point{}, math.Inf(1)
	for _, p := range vertices(a) {
		if c, d := pl.closestOnPlane(b, p); d < bestD {
			from, best, bestD = p, c, d
		}
	}
	for _, p := range vertices(b) {
		if c, d := pl.closestOnPlane(a, p); d < bestD {
			from, best, bestD = c, p, d
		}
	}
	if bestD > 0 && intersects(pl, a, b) {
		return pl.crossing(a, b), 0
	}
	if bestD == 0 || math.IsInf(bestD, 1) {
		return best, bestD
	}
	return best, Metres(from, best)
}

// vertices lists every vertex of g.
func vertices(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.MultiPoint:
		out = append(out, g...)
	case orb.LineString:
		out = append(out, g...)
	case orb.MultiLineString:
		for _, ls := range g {
			out = append(out, ls...)
		}
	case orb.Ring:
		out = append(out, g...)
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				out = append(out, r...)
			}
		}
	case orb.Collection:
		for _, x := range g {
			out = append(out, vertices(x)...)
		}
	}
	return out
}

// segments lists every edge of g in plane coordinates.
func segments(pl Plane, g orb.Geometry) [][2]orb.Point {
	var out [][2]orb.Point
	add := func(ls []orb.Point) {
		for i := 0; i+1 < len(ls); i++ {
			out = append(out, [2]orb.Point{pl.Project(ls[i]), pl.Project(ls[i+1])})
		}
	}
	switch g := g.(type) {
	case orb.LineString:
		add(g)
	case orb.MultiLineString:
		for _, ls := range g {
			add(ls)
		}
	case orb.Ring:
		add(g)
	case orb.Polygon:
		for _, r := range g {
			add(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				add(r)
			}
		}
	case orb.Collection:
		for _, x := range g {
			out = append(out, segments(pl, x)...)
		}
	}
	return out
}

// intersects reports whether an edge of a crosses an edge of b.
func intersects(pl Plane, a, b orb.Geometry) bool {
	_, ok := firstCrossing(pl, a, b)
	return ok
}

func (pl Plane) crossing(a, b orb.Geometry) orb.Point {
	p, _ := firstCrossing(pl, a, b)
	return pl.Unproject(p)
}

func firstCrossing(pl Plane, a, b orb.Geometry) (orb.Point, bool) {
	sb := segments(pl, b)
	for _, s := range segments(pl, a) {
		for _, t := range sb {
			if p, ok := segmentCrossing(s[0], s[1], t[0], t[1]); ok {
				return p, true
			}
		}
	}
	return orb.Point{}, false
}

// segmentCrossing returns where segments pq and rs cross, if they do.
func segmentCrossing(p, q, r, s orb.Point) (orb.Point, bool) {
	d := (q[0]-p[0])*(s[1]-r[1]) - (q[1]-p[1])*(s[0]-r[0])
	if d == 0 {
		return orb.Point{}, false
	}
	t := ((r[0]-p[0])*(s[1]-r[1]) - (r[1]-p[1])*(s[0]-r[0])) / d
	u := ((r[0]-p[0])*(q[1]-p[1]) - (r[1]-p[1])*(q[0]-p[0])) / d
	if t < 0 || t > 1 || u < 0 || u > 1 {
		return orb.Point{}, false
	}
	return orb.Point{p[0] + t*(q[0]-p[0]), p[1] + t*(q[1]-p[1])}, true
}
