package city

import (
	"fmt"
	"math"
	"strconv"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// checkGeometry checks a feature's geometry against the layer's type, its
// shape (points enough, rings closed, lines of some length) and its
// coordinates, and returns the problems and whether the geometry can be
// measured and drawn.
func (fr *featureReader) checkGeometry(g orb.Geometry) (Problems, bool) {
	want := fr.l.Geometry
	var lines [][]orb.Point // the lines, or the rings, of g
	ok := true
	var ps Problems
	invalid := func(format string, args ...any) {
		ps = append(ps, Problem{Kind: KindInvalidGeometry, Reason: fmt.Sprintf(format, args...)})
		ok = false
	}
	rings := func(p orb.Polygon, which string) {
		if len(p) == 0 {
			invalid("an empty %s", which)
		}
		for i, r := range p {
			switch {
			case len(r) < 4:
				invalid("ring %d of the %s has %d points; a ring needs at least 4, the last equal to the first", i, which, len(r))
			case r[0] != r[len(r)-1]:
				invalid("ring %d of the %s is not closed: its last point differs from its first", i, which)
			}
			lines = append(lines, r)
		}
	}
	switch g := g.(type) {
	case orb.Point:
		if want == layers.Point {
			lines = [][]orb.Point{{g}}
		}
	case orb.LineString:
		if want == layers.LineString {
			if len(g) < 2 {
				invalid("a LineString of %d point; a line needs at least 2", len(g))
			}
			lines = [][]orb.Point{g}
		}
	case orb.MultiLineString:
		if want == layers.LineString {
			if len(g) == 0 {
				invalid("an empty MultiLineString")
			}
			for i, ls := range g {
				if len(ls) < 2 {
					invalid("line %d of the MultiLineString has %d point; a line needs at least 2", i, len(ls))
				}
				lines = append(lines, ls)
			}
		}
	case orb.Polygon:
		if want == layers.Polygon {
			rings(g, "Polygon")
		}
	case orb.MultiPolygon:
		if want == layers.Polygon {
			if len(g) == 0 {
				invalid("an empty MultiPolygon")
			}
			for _, p := range g {
				rings(p, "MultiPolygon")
			}
		}
	}
	if lines == nil && ok {
		return Problems{{Kind: KindWrongGeometry, Reason: fmt.Sprintf("geometry %s where the layer takes %s", g.GeoJSONType(), want)}}, false
	}
	if p, bad := fr.checkCoordinates(lines); bad {
		return append(ps, p), false
	}
	if !ok {
		return ps, false
	}
	if want == layers.LineString {
		for _, l := range lines {
			if zeroLength(l) {
				ps = append(ps, Problem{Kind: KindZeroLength, Reason: fmt.Sprintf("a line of length 0: every point of it is %s", pt(l[0]))})
				return ps, false
			}
		}
	}
	if fr.hasBounds && !fr.o.Projected {
		if p, out := fr.checkBounds(g, lines); out {
			ps = append(ps, p)
		}
	}
	return ps, true
}

func zeroLength(l []orb.Point) bool {
	for _, p := range l[1:] {
		if p != l[0] {
			return false
		}
	}
	return true
}

// checkCoordinates checks that the coordinates are finite and, unless they
// are projected, longitudes and latitudes; it names the likely cause of
// those that are not.
func (fr *featureReader) checkCoordinates(lines [][]orb.Point) (Problem, bool) {
	for _, l := range lines {
		for _, p := range l {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
				return Problem{Kind: KindBadCoordinates, Reason: fmt.Sprintf("coordinate %s is not a finite number", pt(p))}, true
			}
		}
	}
	if fr.o.Projected {
		return Problem{}, false
	}
	var bad orb.Point
	found, swappedOK := false, true
	for _, l := range lines {
		for _, p := range l {
			if !validLonLat(p) && !found {
				bad, found = p, true
			}
			if !validLonLat(orb.Point{p[1], p[0]}) {
				swappedOK = false
			}
		}
	}
	if !found {
		return Problem{}, false
	}
	p := Problem{Kind: KindBadCoordinates}
	switch {
	case looksProjected(bad[0], bad[1]):
		p.Cause = CauseProjected
		p.Reason = fmt.Sprintf("coordinates %s are not a longitude and latitude: they look like metres of a projected CRS; a missing --srid? (onemap load --srid CODE reads projected coordinates)", pt(bad))
	case swappedOK:
		p.Cause = CauseSwapped
		p.Reason = fmt.Sprintf("coordinates %s are not a longitude and latitude, but %s would be: swapped axes? GeoJSON takes [longitude, latitude]", pt(bad), pt(orb.Point{bad[1], bad[0]}))
	case bad[0] < -180 || bad[0] > 180:
		p.Reason = fmt.Sprintf("longitude %s (of %s) is outside -180 to 180", num(bad[0]), pt(bad))
	case bad[1] < -90 || bad[1] > 90:
		p.Reason = fmt.Sprintf("latitude %s (of %s) is outside -90 to 90", num(bad[1]), pt(bad))
	default:
		p.Reason = fmt.Sprintf("latitude %s (of %s) is beyond ±%g, where web maps end", num(bad[1]), pt(bad), MaxLatitude)
	}
	return p, true
}

// checkBounds warns of a geometry that reaches past the city's bounds by
// more than BoundsMargin.
func (fr *featureReader) checkBounds(g orb.Geometry, lines [][]orb.Point) (Problem, bool) {
	if b := g.Bound(); fr.grown.Contains(b.Min) && fr.grown.Contains(b.Max) {
		return Problem{}, false
	}
	far, at := 0.0, orb.Point{}
	swappedIn := true
	for _, l := range lines {
		for _, p := range l {
			if d := geo.Distance(p, clamp(p, fr.bounds)); d > far {
				far, at = d, p
			}
			swappedIn = swappedIn && fr.grown.Contains(orb.Point{p[1], p[0]})
		}
	}
	p := Problem{Kind: KindOutsideBounds,
		Reason: fmt.Sprintf("%s lies %s outside the city's bounds (city.json)", pt(at), metres(far))}
	if swappedIn {
		p.Cause = CauseSwapped
		p.Reason += fmt.Sprintf("; swapped axes? %s is inside them, and GeoJSON takes [longitude, latitude]", pt(orb.Point{at[1], at[0]}))
	}
	return p, true
}

func clamp(p orb.Point, b orb.Bound) orb.Point {
	return orb.Point{min(max(p[0], b.Min[0]), b.Max[0]), min(max(p[1], b.Min[1]), b.Max[1])}
}

func validLonLat(p orb.Point) bool {
	return p[0] >= -180 && p[0] <= 180 && p[1] >= -MaxLatitude && p[1] <= MaxLatitude
}

// looksProjected reports whether a coordinate pair is far beyond any
// longitude or latitude, as metres of a projected CRS are.
func looksProjected(x, y float64) bool { return math.Abs(x) >= 1000 || math.Abs(y) >= 1000 }

func pt(p orb.Point) string { return "[" + num(p[0]) + ", " + num(p[1]) + "]" }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
