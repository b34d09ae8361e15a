package server

import (
	"math"
	"strconv"
	"strings"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

// maxLat is the latitude limit of Web Mercator, which the map and the
// distances of the memory store work in.
const maxLat = 85.06

// quote quotes a client's value for a message, in at most 64 characters:
// clipped after quoting, since quoting may make one byte four.
func quote(s string) string {
	if len(s) > 4*maxEchoBytes {
		s = s[:4*maxEchoBytes] // a long value is clipped anyway: quote little of it
	}
	return live.Clip(strconv.Quote(s))
}

// maxEchoBytes bounds what quote reads of a value.
const maxEchoBytes = 64

// parseFinite reads a decimal number, refusing NaN, infinities and numbers
// too large for a float64, which strconv.ParseFloat lets through.
func parseFinite(q string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// parsePoint reads lon and lat in degrees.
func parsePoint(lonQ, latQ string) (orb.Point, error) {
	lon, ok1 := parseFinite(lonQ)
	lat, ok2 := parseFinite(latQ)
	if !ok1 || !ok2 || math.Abs(lon) > 180 || math.Abs(lat) > maxLat {
		return orb.Point{}, errorf(CodeBadPoint, "lon and lat must be finite numbers, lon in −180–180 and lat in −85.06–85.06 (got lon="+
			quote(lonQ)+", lat="+quote(latQ)+")")
	}
	return orb.Point{lon, lat}, nil
}

// parseRadius reads a search radius in metres, more than 0 and at most
// spatial.MaxRadius.
func parseRadius(q string) (float64, error) {
	r, ok := parseFinite(q)
	if !ok || !(r > 0 && r <= spatial.MaxRadius) {
		return 0, errorf(CodeBadRadius, "radius must be metres, more than 0 and at most "+strconv.Itoa(spatial.MaxRadius)+
			" (got "+quote(q)+")")
	}
	return r, nil
}

// parseMetres reads the distance parameter name: def when q is empty, else
// more than 0 (or at least 0 with zero) and at most max.
func parseMetres(q, name string, def float64, zero bool, max float64) (float64, error) {
	if q == "" {
		return def, nil
	}
	d, ok := parseFinite(q)
	if !ok || d < 0 || d == 0 && !zero || d > max {
		lo := "more than 0"
		if zero {
			lo = "from 0"
		}
		return 0, errorf(CodeBadRadius, name+" must be metres, "+lo+" and at most "+strconv.FormatFloat(max, 'f', -1, 64)+
			" (got "+quote(q)+")")
	}
	return d, nil
}

// parseLimit reads a limit, a whole number from 1 to max; def when q is empty.
func parseLimit(q string, def, max int) (int, error) {
	if q == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > max {
		return 0, errorf(CodeBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(max)+" (got "+quote(q)+")")
	}
	return n, nil
}

// parseBBox reads "minLon,minLat,maxLon,maxLat" in finite degrees.
func parseBBox(q string) (orb.Bound, error) {
	parts := strings.SplitN(q, ",", 5)
	bad := errorf(CodeBadBBox, "bbox is minLon,minLat,maxLon,maxLat in finite degrees, min below max (got "+quote(q)+")")
	if len(parts) != 4 {
		return orb.Bound{}, bad
	}
	var v [4]float64
	for i, p := range parts {
		x, ok := parseFinite(p)
		if !ok {
			return orb.Bound{}, bad
		}
		v[i] = x
	}
	if v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] > v[2] || v[1] > v[3] {
		return orb.Bound{}, bad
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}

// parseLayers reads a comma-separated list of layer ids: each known to the
// catalog, each kept once in the order first named. A list longer than the
// catalog is refused before it is split: naming a layer many times would
// only repeat the work.
func parseLayers(cat *layers.Catalog, q string) ([]string, error) {
	most := len(cat.Layers())
	if n := strings.Count(q, ",") + 1; n > most {
		return nil, errorf(CodeTooManyLayers, "at most "+strconv.Itoa(most)+" layers, the catalog's count; "+strconv.Itoa(n)+" were named")
	}
	names := strings.Split(q, ",")
	out := names[:0]
	for _, n := range names {
		if _, err := cat.Layer(n); err != nil {
			return nil, errorf(CodeUnknownLayer, "no layer "+quote(n)+" in the catalog")
		}
		dup := false
		for _, o := range out {
			dup = dup || o == n
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out, nil
}
