package postgis

import (
	"encoding/binary"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/wkb"
)

// toGeom converts an orb geometry to go-geom.
func toGeom(g orb.Geometry) (geom.T, error) {
	coords := func(ps []orb.Point) []geom.Coord {
		cs := make([]geom.Coord, len(ps))
		for i, p := range ps {
			cs[i] = geom.Coord{p[0], p[1]}
		}
		return cs
	}
	rings := func(p orb.Polygon) [][]geom.Coord {
		rs := make([][]geom.Coord, len(p))
		for i, r := range p {
			rs[i] = coords(r)
		}
		return rs
	}
	switch g := g.(type) {
	case orb.Point:
		return geom.NewPoint(geom.XY).SetCoords(geom.Coord{g[0], g[1]})
	case orb.LineString:
		return geom.NewLineString(geom.XY).SetCoords(coords(g))
	case orb.MultiLineString:
		cs := make([][]geom.Coord, len(g))
		for i, ls := range g {
			cs[i] = coords(ls)
		}
		return geom.NewMultiLineString(geom.XY).SetCoords(cs)
	case orb.Polygon:
		return geom.NewPolygon(geom.XY).SetCoords(rings(g))
	case orb.MultiPolygon:
		cs := make([][][]geom.Coord, len(g))
		for i, p := range g {
			cs[i] = rings(p)
		}
		return geom.NewMultiPolygon(geom.XY).SetCoords(cs)
	}
	return nil, fmt.Errorf("geometry %T is not stored", g)
}

// fromGeom converts a go-geom geometry to orb.
func fromGeom(g geom.T) (orb.Geometry, error) {
	points := func(cs []geom.Coord) []orb.Point {
		ps := make([]orb.Point, len(cs))
		for i, c := range cs {
			ps[i] = orb.Point{c.X(), c.Y()}
		}
		return ps
	}
	polygon := func(cs [][]geom.Coord) orb.Polygon {
		p := make(orb.Polygon, len(cs))
		for i, r := range cs {
			p[i] = points(r)
		}
		return p
	}
	switch g := g.(type) {
	case *geom.Point:
		return orb.Point{g.X(), g.Y()}, nil
	case *geom.LineString:
		return orb.LineString(points(g.Coords())), nil
	case *geom.MultiLineString:
		cs := g.Coords()
		m := make(orb.MultiLineString, len(cs))
		for i, ls := range cs {
			m[i] = points(ls)
		}
		return m, nil
	case *geom.Polygon:
		return polygon(g.Coords()), nil
	case *geom.MultiPolygon:
		cs := g.Coords()
		m := make(orb.MultiPolygon, len(cs))
		for i, p := range cs {
			m[i] = polygon(p)
		}
		return m, nil
	}
	return nil, fmt.Errorf("geometry %T is not read", g)
}

// encodeWKB returns g as WKB.
func encodeWKB(g orb.Geometry) ([]byte, error) {
	gg, err := toGeom(g)
	if err != nil {
		return nil, err
	}
	return wkb.Marshal(gg, binary.LittleEndian)
}

// decodeWKB reads WKB into an orb geometry.
func decodeWKB(b []byte) (orb.Geometry, error) {
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	return fromGeom(g)
}
