package tiles

import (
	"context"
	"fmt"
	"math"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/simplify"
)

// Extent is the size of a tile in MVT units.
const Extent = 4096

// Buffer is how far, in MVT units, geometry reaches past the tile's edge, so
// that lines and polygon outlines join up across tiles. 64 units is 4 px on a
// 256 px tile: wider than any line the style draws.
const Buffer = 64

// Renderer is a layers.Source that makes whole tiles itself, as PostGIS does in
// one SQL statement. It must follow the encoder's rules: the same layer
// names, ids, attributes, buffer, zoom ranges and simplification.
type Renderer interface {
	// RenderTile returns tile t of the layers (all drawn at t's zoom) as an
	// uncompressed MVT, or nil when it has no features.
	RenderTile(ctx context.Context, ls []*layers.Layer, t Tile) ([]byte, error)
}

// Tolerance is how far, in MVT units, simplification may move a line at zoom
// z: a unit or two below zoom 15, where a unit is more than a few
// centimetres on the ground, and nothing above.
func Tolerance(z int) float64 {
	switch {
	case z < 12:
		return 2
	case z < 15:
		return 1
	}
	return 0
}

// Encoder encodes the features of one or more layers into a vector tile.
type Encoder struct {
	cat *layers.Catalog
	src layers.Source
	// own are sources of single layers that the store does not hold, such
	// as the derived layers of analyses.
	own map[string]layers.Source
}

// NewEncoder returns an encoder of the catalog's layers read from src.
func NewEncoder(cat *layers.Catalog, src layers.Source) *Encoder {
	return &Encoder{cat: cat, src: src, own: map[string]layers.Source{}}
}

// With makes the encoder read one layer from its own source. Call it
// before the encoder is used.
func (e *Encoder) With(layer string, src layers.Source) *Encoder {
	e.own[layer] = src
	return e
}

// Version returns the data version of a layer, from whichever source holds it.
func (e *Encoder) Version(layer string) uint64 {
	if s, ok := e.own[layer]; ok {
		return s.Version(layer)
	}
	return e.src.Version(layer)
}

// Encode returns tile t of the named layers as an uncompressed MVT, one MVT
// layer per catalog layer in the order given. Layers outside their zoom range
// are left out. It returns nil for a tile with no features.
func (e *Encoder) Encode(ctx context.Context, ids []string, t Tile) ([]byte, error) {
	var ls []*layers.Layer
	for _, id := range ids {
		l, err := e.cat.Layer(id)
		if err != nil {
			return nil, err
		}
		if t.Z >= l.MinZoom {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return nil, ctx.Err()
	}
	// A Tile message is a list of layers, so tiles made apart and joined
	// are one tile: the store's layers (in SQL where it can) and then
	// the encoder's own.
	var base, own []*layers.Layer
	for _, l := range ls {
		if _, ok := e.own[l.ID]; ok {
			own = append(own, l)
		} else {
			base = append(base, l)
		}
	}
	var out []byte
	if r, ok := e.src.(Renderer); ok && len(base) > 0 {
		b, err := r.RenderTile(ctx, base, t)
		if err != nil {
			return nil, err
		}
		out, base = b, nil
	}
	out, err := e.encode(ctx, out, append(base, own...), t)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out, nil
}

// encode appends the layers, encoded in Go, to a tile.
func (e *Encoder) encode(ctx context.Context, out []byte, ls []*layers.Layer, t Tile) ([]byte, error) {
	if len(ls) == 0 {
		return out, nil
	}
	p := NewProjection(t)
	for _, l := range ls {
		query := QueryBound(t, l)
		src := e.src
		if s, ok := e.own[l.ID]; ok {
			src = s
		}
		w := NewLayerWriter(l)
		err := src.Features(ctx, l.ID, query, t.Z, func(f *layers.Feature) error {
			if g := p.Geometry(f.Geometry); g != nil {
				w.Add(f.ID, f.Props, g)
			}
			return nil
		})
		if err != nil {
			w.Release()
			return nil, fmt.Errorf("tile %s layer %s: %w", t, l.ID, err)
		}
		if w.n > 0 {
			out = w.AppendTo(out)
		}
		w.Release()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Projection maps geometry to the units of one tile and clips and
// simplifies it there, as every tile is made: lines and polygons clipped to
// the tile and its buffer, points to the tile alone, simplified by
// Tolerance. Its input is longitude and latitude, or, from NewWorldProjection,
// points already in world units (World).
type Projection struct {
	worldSize  float64
	minX, minY float64
	lonLat     bool
	clipBox    orb.Bound // the tile and its buffer
	tileBox    orb.Bound // the tile alone, for points
	simplifier *simplify.DouglasPeuckerSimplifier
	// scratch holds the last projected line; the geometry Geometry returns
	// is good until its next call, which is all a layer writer needs.
	scratch []orb.Point
}

// NewProjection returns the projection of longitude and latitude to tile t.
func NewProjection(t Tile) *Projection {
	p := NewWorldProjection(t)
	p.lonLat = true
	return p
}

// NewWorldProjection returns the projection to tile t of points in world
// units, as World gives them.
func NewWorldProjection(t Tile) *Projection {
	p := &Projection{
		worldSize: Extent * math.Exp2(float64(t.Z)),
		minX:      float64(t.X) * Extent,
		minY:      float64(t.Y) * Extent,
		clipBox:   orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}},
		tileBox:   orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{Extent, Extent}},
	}
	// Dropping vertices closer than a unit or two to the line changes nothing
	// visible and keeps low-zoom tiles small. Pipes are mostly two-vertex
	// segments, so their topology (shared end nodes) is never moved.
	if tol := Tolerance(t.Z); tol > 0 {
		p.simplifier = simplify.DouglasPeucker(tol)
	}
	return p
}

// QueryBound is the box in longitude and latitude whose features tile t
// of layer l draws: the tile and its buffer for lines and polygons, the
// tile alone for points. A point within half a unit of the tile's far edge
// is drawn on that edge, as PostGIS draws it, not in the next tile.
func QueryBound(t Tile, l *layers.Layer) orb.Bound {
	if l.Geometry == layers.Point {
		return t.Bound(0)
	}
	return t.Bound(float64(Buffer) / Extent)
}

// World returns a longitude and latitude in world units: Web Mercator
// scaled so that the world is the square from 0 to 1, y down. A store that
// keeps its points so projects each one once, not once a tile.
func World(ll orb.Point) orb.Point {
	sin := math.Sin(ll[1] * math.Pi / 180)
	return orb.Point{(ll[0] + 180) / 360, 0.5 - math.Log((1+sin)/(1-sin))/(4*math.Pi)}
}

func (p *Projection) point(pt orb.Point) orb.Point {
	if p.lonLat {
		pt = World(pt)
	}
	// worldSize is a power of two: a point projected here and one kept in
	// world units land on the same unit.
	return orb.Point{math.Round(pt[0]*p.worldSize - p.minX), math.Round(pt[1]*p.worldSize - p.minY)}
}

// points projects a run of points, dropping repeats that rounding made.
func (p *Projection) points(in []orb.Point) []orb.Point {
	return p.appendPoints(make([]orb.Point, 0, len(in)), in)
}

func (p *Projection) appendPoints(out, in []orb.Point) []orb.Point {
	for _, ll := range in {
		q := p.point(ll)
		if n := len(out); n > 0 && out[n-1] == q {
			continue
		}
		out = append(out, q)
	}
	return out
}

// Geometry returns g in tile units, clipped to the tile and its buffer and
// simplified for the zoom, or nil when nothing of it is left to draw. What
// it returns is good until its next call.
func (p *Projection) Geometry(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		if q, ok := p.Point(g); ok {
			return q
		}
		return nil
	case orb.LineString:
		if l, other := p.Line(g); l != nil {
			return orb.LineString(l)
		} else if other != nil {
			return other
		}
		return nil
	case orb.MultiLineString:
		return p.lines(g)
	case orb.Polygon:
		return p.polygons(orb.MultiPolygon{g})
	case orb.MultiPolygon:
		return p.polygons(g)
	}
	return nil
}

// Point returns a point in tile units; false when it lies outside the
// tile (edges included).
func (p *Projection) Point(pt orb.Point) (orb.Point, bool) {
	q := p.point(pt)
	return q, p.tileBox.Contains(q)
}

// Line returns a line in tile units, simplified: whole, when it lies
// within the tile and its buffer (most pipe segments), in scratch space
// good until the next call; else clipped, as other, which is nil when
// nothing of the line is left.
func (p *Projection) Line(g []orb.Point) (whole []orb.Point, other orb.Geometry) {
	pl := p.appendPoints(p.scratch[:0], g)
	p.scratch = pl
	if len(pl) < 2 {
		return nil, nil
	}
	if b := orb.LineString(pl).Bound(); p.clipBox.Contains(b.Min) && p.clipBox.Contains(b.Max) {
		if p.simplifier != nil && len(pl) > 2 {
			return p.simplifier.LineString(orb.LineString(pl)), nil
		}
		return pl, nil
	}
	return nil, p.lines(orb.MultiLineString{g})
}

func (p *Projection) lines(mls orb.MultiLineString) orb.Geometry {
	var out orb.MultiLineString
	for _, ls := range mls {
		pl := orb.LineString(p.points(ls))
		if len(pl) < 2 || !p.clipBox.Intersects(pl.Bound()) {
			continue
		}
		for _, part := range clip.LineString(p.clipBox, pl) {
			part = snap(part)
			if p.simplifier != nil && len(part) > 2 {
				part = p.simplifier.LineString(part)
			}
			if len(part) >= 2 {
				out = append(out, part)
			}
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

// snap rounds a clipped line to whole units, where the clip's new ends
// fall between them, and drops the repeats that makes, in place: a line
// that only touches the buffer's edge is left a single point, not drawn.
func snap(l orb.LineString) orb.LineString {
	out := l[:0]
	for _, q := range l {
		q = orb.Point{math.Round(q[0]), math.Round(q[1])}
		if n := len(out); n > 0 && out[n-1] == q {
			continue
		}
		out = append(out, q)
	}
	return out
}

func (p *Projection) polygons(mp orb.MultiPolygon) orb.Geometry {
	var out orb.MultiPolygon
	for _, poly := range mp {
		var rings orb.Polygon
		for i, r := range poly {
			pr := orb.Ring(p.points(r))
			if len(pr) < 4 || !p.clipBox.Intersects(pr.Bound()) {
				if i == 0 {
					break // no outer ring: no polygon
				}
				continue
			}
			pr = clip.Ring(p.clipBox, pr)
			if p.simplifier != nil && len(pr) > 4 {
				pr = p.simplifier.Ring(pr)
			}
			if len(pr) < 4 || math.Abs(ringArea(pr)) < 1 {
				if i == 0 {
					break
				}
				continue
			}
			// MVT wants the outer ring with positive area in tile units
			// (clockwise on screen) and holes negative.
			if a := ringArea(pr); (i == 0) != (a > 0) {
				pr.Reverse()
			}
			rings = append(rings, pr)
		}
		if len(rings) > 0 {
			out = append(out, rings)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

// ringArea is the signed area by the surveyor's formula.
func ringArea(r orb.Ring) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}
