package memory

import (
	"cmp"
	"math"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Geometry kinds, one per feature.
const (
	kindPoint uint8 = iota + 1
	kindLine
	kindLines
	kindPolygon
	kindPolygons
)

// newPolygon marks, in a part's end, the first ring of a polygon of a
// MultiPolygon.
const newPolygon = 1 << 31

// layer is one layer's features in columns, held in id order, and R-trees
// of their lon/lat bounds over their indexes, one per minimum zoom.
type layer struct {
	id string
	// trees index the features by minimum zoom, lowest first: a tile
	// searches only those drawn at its zoom, so that a low-zoom tile of a
	// province does not walk its service pipes.
	trees []zoomTree

	ids     []uint64
	minZoom []uint8
	kind    []uint8
	// Feature i's parts (a line, or a ring) are parts[partAt[i]:partAt[i+1]];
	// each part's points end at its partEnd (newPolygon masked off), and
	// start where the part before it ends.
	partAt  []int32
	partEnd []uint32
	ll      []orb.Point // longitude and latitude
	xy      []orb.Point // the same points in world units (tiles.World)

	cols []column // the catalog's attributes, in catalog order
	// extra holds, by feature, the attributes the catalog does not name
	// and the values of a type their field does not have, in jsonb order.
	extra map[int32][]prop
	bound orb.Bound // of every feature; meaningless when there is none
}

// zoomTree is the R-tree of a layer's features of one minimum zoom.
type zoomTree struct {
	minZoom uint8
	tree    rtree.RTreeGN[float64, int32]
}

// search calls fn with the index of each feature drawn at zoom z whose
// bounds meet b, until fn returns false.
func (li *layer) search(b orb.Bound, z int, fn func(i int32) bool) {
	for k := range li.trees {
		zt := &li.trees[k]
		if int(zt.minZoom) > z {
			return
		}
		more := true
		zt.tree.Search(b.Min, b.Max, func(_, _ [2]float64, i int32) bool {
			more = fn(i)
			return more
		})
		if !more {
			return
		}
	}
}

// column is one catalog attribute of every feature of a layer. Numbers and
// strings are codes into the column's dictionary of values, so that a
// tile looks each distinct value up once.
type column struct {
	field layers.Field
	whole bool     // the field is Whole: tiles carry integers
	code  []uint32 // Number and String: a code into nums or strs, 0 where absent
	nums  []float64
	strs  []string
	flag  []uint8 // Boolean: 0 absent, 1 false, 2 true
}

// size is the number of values in the column's dictionary.
func (c *column) size() int { return max(len(c.nums), len(c.strs)) }

// prop is one attribute outside the columns.
type prop struct {
	key   string
	value any
	// named is true of a catalog attribute whose value has another type
	// than its field: kept for the feature, never written to a tile.
	named bool
}

// build puts a layer's features into columns. l is nil for a layer the
// catalog does not hold: all its attributes are then extra.
func build(id string, l *layers.Layer, fs []*layers.Feature) *layer {
	fs = slices.Clone(fs)
	slices.SortFunc(fs, func(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) })
	n := len(fs)
	li := &layer{id: id, ids: make([]uint64, n), minZoom: make([]uint8, n), kind: make([]uint8, n),
		partAt: make([]int32, n+1), extra: map[int32][]prop{}}
	var fields []layers.Field
	if l != nil {
		fields = l.Fields
	}
	dicts := make([]map[any]uint32, len(fields))
	for j, fd := range fields {
		c := column{field: fd, whole: fd.Whole()}
		switch fd.Type {
		case layers.Number, layers.String:
			c.code = make([]uint32, n)
			dicts[j] = map[any]uint32{}
		case layers.Boolean:
			c.flag = make([]uint8, n)
		}
		li.cols = append(li.cols, c)
	}
	known := make(map[string]int, len(fields))
	for j, fd := range fields {
		known[fd.Name] = j
	}
	for k, f := range fs {
		i := int32(k)
		li.ids[i], li.minZoom[i] = f.ID, f.MinZoom
		li.addGeometry(i, f.Geometry)
		for j := range li.cols {
			c := &li.cols[j]
			v, ok := f.Props[c.field.Name]
			if !ok {
				continue
			}
			if !c.set(i, v, dicts[j]) {
				li.extra[i] = append(li.extra[i], prop{c.field.Name, v, true})
			}
		}
		for key, v := range f.Props {
			if _, ok := known[key]; !ok {
				li.extra[i] = append(li.extra[i], prop{key: key, value: v})
			}
		}
		if ps := li.extra[i]; len(ps) > 1 {
			slices.SortFunc(ps, func(a, b prop) int { return tiles.CompareJSONBKeys(a.key, b.key) })
		}
	}
	li.xy = make([]orb.Point, len(li.ll))
	for m, p := range li.ll {
		li.xy[m] = tiles.World(p)
	}
	li.buildIndex()
	return li
}

// set keeps v in the column; false when v has another type than the field.
func (c *column) set(i int32, v any, dict map[any]uint32) bool {
	switch c.field.Type {
	case layers.Number:
		x, ok := v.(float64)
		if !ok || math.IsNaN(x) {
			return false
		}
		code, seen := dict[x]
		if !seen {
			c.nums = append(c.nums, x)
			code = uint32(len(c.nums))
			dict[x] = code
		}
		c.code[i] = code
	case layers.String:
		s, ok := v.(string)
		if !ok {
			return false
		}
		code, seen := dict[s]
		if !seen {
			c.strs = append(c.strs, s)
			code = uint32(len(c.strs))
			dict[s] = code
		}
		c.code[i] = code
	case layers.Boolean:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		c.flag[i] = 1
		if b {
			c.flag[i] = 2
		}
	default:
		return false
	}
	return true
}

// addGeometry appends feature i's geometry to the point arrays.
func (li *layer) addGeometry(i int32, g orb.Geometry) {
	part := func(ps []orb.Point, first bool) {
		li.ll = append(li.ll, ps...)
		end := uint32(len(li.ll))
		if first {
			end |= newPolygon
		}
		li.partEnd = append(li.partEnd, end)
	}
	switch g := g.(type) {
	case orb.Point:
		li.kind[i] = kindPoint
		part([]orb.Point{g}, false)
	case orb.LineString:
		li.kind[i] = kindLine
		part(g, false)
	case orb.MultiLineString:
		li.kind[i] = kindLines
		for _, l := range g {
			part(l, false)
		}
	case orb.Polygon:
		li.kind[i] = kindPolygon
		for _, r := range g {
			part(r, false)
		}
	case orb.MultiPolygon:
		li.kind[i] = kindPolygons
		for _, p := range g {
			for k, r := range p {
				part(r, k == 0)
			}
		}
	}
	li.partAt[i+1] = int32(len(li.partEnd))
}

// code returns the layer code every id of the layer carries; false when
// they do not all carry one.
func (li *layer) code() (uint8, bool) {
	if len(li.ids) == 0 {
		return 0, false
	}
	c := layers.CodeOf(li.ids[0])
	return c, layers.CodeOf(li.ids[len(li.ids)-1]) == c
}

// index returns the index of the feature with the id.
func (li *layer) index(id uint64) (int32, bool) {
	i, ok := slices.BinarySearch(li.ids, id)
	return int32(i), ok
}

// part returns the points of part j, from pts (ll or xy), capped so that
// an append by a caller copies them.
func (li *layer) part(pts []orb.Point, j int32) []orb.Point {
	start := uint32(0)
	if j > 0 {
		start = li.partEnd[j-1] &^ newPolygon
	}
	end := li.partEnd[j] &^ newPolygon
	return pts[start:end:end]
}

// geometry returns feature i's geometry made of pts (ll or xy). Points and
// lines are views of pts; the others need slices of their parts.
func (li *layer) geometry(pts []orb.Point, i int32) orb.Geometry {
	from, to := li.partAt[i], li.partAt[i+1]
	switch li.kind[i] {
	case kindPoint:
		return li.part(pts, from)[0]
	case kindLine:
		return orb.LineString(li.part(pts, from))
	case kindLines:
		mls := make(orb.MultiLineString, 0, to-from)
		for j := from; j < to; j++ {
			mls = append(mls, li.part(pts, j))
		}
		return mls
	case kindPolygon:
		return li.polygon(pts, from, to)
	case kindPolygons:
		var mp orb.MultiPolygon
		start := from
		for j := from + 1; j <= to; j++ {
			if j == to || li.partEnd[j]&newPolygon != 0 {
				mp = append(mp, li.polygon(pts, start, j))
				start = j
			}
		}
		return mp
	}
	return nil
}

func (li *layer) polygon(pts []orb.Point, from, to int32) orb.Polygon {
	p := make(orb.Polygon, 0, to-from)
	for j := from; j < to; j++ {
		p = append(p, li.part(pts, j))
	}
	return p
}

// scratch is reused space for the geometry of one tile's features.
type scratch struct {
	lines orb.MultiLineString
	rings []orb.Ring
	polys orb.MultiPolygon
}

// addTile writes feature i to w in tile units, clipped and simplified,
// unless nothing of it is in the tile; tags gives its attributes.
func (li *layer) addTile(w *tiles.LayerWriter, p *tiles.Projection, i int32, sc *scratch, tags func() []uint32) {
	from, to := li.partAt[i], li.partAt[i+1]
	var g orb.Geometry
	switch li.kind[i] {
	case kindPoint:
		if q, ok := p.Point(li.part(li.xy, from)[0]); ok {
			w.AddPoint(li.ids[i], tags(), q)
		}
		return
	case kindLine:
		l, other := p.Line(li.part(li.xy, from))
		if l != nil {
			w.AddLine(li.ids[i], tags(), l)
			return
		}
		g = other
	case kindLines:
		sc.lines = sc.lines[:0]
		for j := from; j < to; j++ {
			sc.lines = append(sc.lines, li.part(li.xy, j))
		}
		g = p.Geometry(sc.lines)
	case kindPolygon, kindPolygons:
		sc.rings, sc.polys = sc.rings[:0], sc.polys[:0]
		for j := from; j < to; j++ {
			sc.rings = append(sc.rings, li.part(li.xy, j))
		}
		start := 0
		for k := 1; k <= len(sc.rings); k++ {
			if k == len(sc.rings) || li.partEnd[from+int32(k)]&newPolygon != 0 {
				sc.polys = append(sc.polys, orb.Polygon(sc.rings[start:k:k]))
				start = k
			}
		}
		g = p.Geometry(sc.polys)
	}
	if g != nil {
		w.AddTagged(li.ids[i], tags(), g)
	}
}

// value returns the value of feature i; false when absent.
func (c *column) value(i int32) (any, bool) {
	switch {
	case c.flag != nil:
		if f := c.flag[i]; f > 0 {
			return f == 2, true
		}
	case c.code != nil:
		code := c.code[i]
		if code == 0 {
			return nil, false
		}
		if c.nums != nil {
			return c.nums[code-1], true
		}
		return c.strs[code-1], true
	}
	return nil, false
}

// feature makes feature i whole. Its geometry shares the store's points;
// the caller must not change it.
func (li *layer) feature(i int32) *layers.Feature {
	props := make(map[string]any, len(li.cols)+len(li.extra[i]))
	for j := range li.cols {
		if v, ok := li.cols[j].value(i); ok {
			props[li.cols[j].field.Name] = v
		}
	}
	for _, p := range li.extra[i] {
		props[p.key] = p.value
	}
	return &layers.Feature{ID: li.ids[i], Layer: li.id, Geometry: li.geometry(li.ll, i), MinZoom: li.minZoom[i], Props: props}
}

// attr returns the attribute of feature i named k, from its column or its
// extra; false when the feature has none.
func (li *layer) attr(i int32, k string) (any, bool) {
	for _, p := range li.extra[i] {
		if p.key == k {
			return p.value, true
		}
	}
	for j := range li.cols {
		if li.cols[j].field.Name == k {
			return li.cols[j].value(i)
		}
	}
	return nil, false
}

// matches reports whether feature i meets the query, as
// layers.Query.Matches says, reading the columns.
func (li *layer) matches(i int32, q *layers.Query) bool {
	for k, v := range q.Equal {
		if got, ok := li.attr(i, k); !ok || got != v {
			return false
		}
	}
	if q.Time != nil {
		v, _ := li.attr(i, q.Time.Field)
		if !q.Time.Meets(v) {
			return false
		}
	}
	return q.Bound == nil || layers.Intersects(*q.Bound, li.geometry(li.ll, i))
}
