package tiles

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protowire"
)

// The MVT (vector tile 2.1) protobuf, written field by field with protowire:
// a layer's features go straight from tile coordinates to bytes, with each
// layer's keys and values kept in dictionaries, and no intermediate message
// structs. Field numbers are those of vector_tile.proto.
const (
	tileLayers = 3

	layerName     = 1
	layerFeatures = 2
	layerKeys     = 3
	layerValues   = 4
	layerExtent   = 5
	layerVersion  = 15

	featureID       = 1
	featureTags     = 2
	featureType     = 3
	featureGeometry = 4

	valueString = 1
	valueDouble = 3
	valueUint   = 5
	valueSint   = 6
	valueBool   = 7

	geomPoint   = 1
	geomLine    = 2
	geomPolygon = 3

	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

// LayerWriter builds one MVT layer, feature by feature, laid out as
// PostGIS's ST_AsMVT lays it out: features; the keys, first every catalog
// attribute but the personal ones, in catalog order (the k-th is key k),
// then the others in the order features first use them; the values in
// that order; the extent and the version. Values are
// kept once each, by type and value. A store that keeps attributes typed
// writes them through it directly; Add writes a feature's attribute map.
type LayerWriter struct {
	name string
	// fields are the layer's catalog attributes but the personal ones, in
	// catalog order; hide names the personal ones, which tiles never carry.
	fields   []layers.Field
	known    map[string]bool
	keys     []string
	keyIndex map[string]uint32
	values   []byte // the encoded Value messages, one after another
	valueEnd []int  // where each value ends in values
	strIndex map[string]uint32
	dblIndex map[uint64]uint32
	intIndex map[int64]uint32
	boolIdx  [2]int32 // index+1 of false and true, 0 when absent
	features []byte
	n        int

	// scratch space reused for each feature
	tags  []uint32
	geom  []uint32
	buf   []byte
	extra []string
}

// writers keeps layer writers with their dictionaries' memory between
// tiles: a tile's garbage is most of its cost.
var writers = sync.Pool{New: func() any {
	return &LayerWriter{known: map[string]bool{}, keyIndex: map[string]uint32{}, strIndex: map[string]uint32{},
		dblIndex: map[uint64]uint32{}, intIndex: map[int64]uint32{}}
}}

// NewLayerWriter returns an empty writer of one layer of a tile; Release
// gives it back.
func NewLayerWriter(l *layers.Layer) *LayerWriter {
	w := writers.Get().(*LayerWriter)
	w.name = l.ID
	for _, f := range l.Fields {
		w.known[f.Name] = true
		if !f.Personal {
			w.fields = append(w.fields, f)
			// PostGIS names every column in the keys, used or not: the
			// k-th field's key is k.
			w.Key(f.Name)
		}
	}
	return w
}

// pooledValues is the most values a writer may hold and still go back to
// the pool: the dictionaries of a dense low-zoom tile would otherwise stay
// with every pooled writer, and the pool would hold gigabytes.
const pooledValues = 1 << 14

// Release empties the writer and gives it back to the pool, unless a dense
// tile made it too large to keep.
func (w *LayerWriter) Release() {
	if len(w.valueEnd) > pooledValues || cap(w.features) > 64*pooledValues {
		return
	}
	w.fields = w.fields[:0]
	clear(w.known)
	w.keys = w.keys[:0]
	clear(w.keyIndex)
	clear(w.strIndex)
	clear(w.dblIndex)
	clear(w.intIndex)
	w.values, w.valueEnd = w.values[:0], w.valueEnd[:0]
	w.boolIdx = [2]int32{}
	w.features = w.features[:0]
	w.n = 0
	writers.Put(w)
}

// Len returns the number of features written.
func (w *LayerWriter) Len() int { return w.n }

// Key returns the index of an attribute name, adding it.
func (w *LayerWriter) Key(k string) uint32 {
	if i, ok := w.keyIndex[k]; ok {
		return i
	}
	i := uint32(len(w.keys))
	w.keys = append(w.keys, k)
	w.keyIndex[k] = i
	return i
}

// String returns the index of a string value, adding it.
func (w *LayerWriter) String(v string) uint32 {
	if i, ok := w.strIndex[v]; ok {
		return i
	}
	w.values = protowire.AppendTag(w.values, valueString, protowire.BytesType)
	w.values = protowire.AppendString(w.values, v)
	i := w.endValue()
	w.strIndex[v] = i
	return i
}

// Double returns the index of a double value, adding it.
func (w *LayerWriter) Double(v float64) uint32 {
	bits := math.Float64bits(v)
	if i, ok := w.dblIndex[bits]; ok {
		return i
	}
	w.values = protowire.AppendTag(w.values, valueDouble, protowire.Fixed64Type)
	w.values = protowire.AppendFixed64(w.values, bits)
	i := w.endValue()
	w.dblIndex[bits] = i
	return i
}

// Int returns the index of an integer value, adding it: a uint value when
// it is not negative, a sint value when it is, as PostGIS writes them.
func (w *LayerWriter) Int(v int64) uint32 {
	if i, ok := w.intIndex[v]; ok {
		return i
	}
	if v >= 0 {
		w.values = appendVarintField(w.values, valueUint, uint64(v))
	} else {
		w.values = appendVarintField(w.values, valueSint, protowire.EncodeZigZag(v))
	}
	i := w.endValue()
	w.intIndex[v] = i
	return i
}

// Bool returns the index of a boolean value, adding it.
func (w *LayerWriter) Bool(v bool) uint32 {
	b := 0
	if v {
		b = 1
	}
	if w.boolIdx[b] == 0 {
		w.values = appendVarintField(w.values, valueBool, uint64(b))
		w.boolIdx[b] = int32(w.endValue()) + 1
	}
	return uint32(w.boolIdx[b] - 1)
}

// Number returns the index of a number, adding it: an integer when whole
// is set and the number is whole, else a double. PostGIS writes a Whole
// field's integer column so, and a jsonb number: whole is set for them and
// for the attributes the catalog does not name.
func (w *LayerWriter) Number(v float64, whole bool) uint32 {
	if whole && v == math.Trunc(v) && math.Abs(v) < 1<<63 {
		return w.Int(int64(v))
	}
	return w.Double(v)
}

// value returns the index of an attribute value of any type, adding it; ok
// is false for a value MVT cannot hold (nil, lists, objects).
func (w *LayerWriter) value(v any, whole bool) (uint32, bool) {
	switch v := v.(type) {
	case string:
		return w.String(v), true
	case float64:
		return w.Number(v, whole), true
	case int:
		return w.Int(int64(v)), true
	case int64:
		return w.Int(v), true
	case bool:
		return w.Bool(v), true
	}
	return 0, false
}

// Value returns the index of the value of an attribute the catalog does
// not name, adding it, typed as PostGIS types a jsonb's values; ok is false
// for a value MVT cannot hold (nil, lists, objects).
func (w *LayerWriter) Value(v any) (uint32, bool) { return w.value(v, true) }

// endValue closes the value just appended and returns its index.
func (w *LayerWriter) endValue() uint32 {
	w.valueEnd = append(w.valueEnd, len(w.values))
	return uint32(len(w.valueEnd) - 1)
}

// Add writes one feature from its attribute map: the catalog's attributes
// in catalog order, typed by the catalog, then the others in the order
// PostGIS keeps the keys of a jsonb (shorter first, then bytewise), as
// ST_AsMVT writes a row of typed columns and a jsonb. The geometry is in
// tile units already.
func (w *LayerWriter) Add(id uint64, props map[string]any, g orb.Geometry) {
	tags := w.tags[:0]
	named := 0
	for _, f := range w.fields {
		v, ok := props[f.Name]
		if !ok {
			continue
		}
		named++
		if vi, ok := w.value(v, f.Whole()); ok {
			tags = append(tags, w.Key(f.Name), vi)
		}
	}
	if len(props) > named {
		extra := w.extra[:0]
		for k := range props {
			if !w.known[k] {
				extra = append(extra, k)
			}
		}
		SortJSONBKeys(extra)
		for _, k := range extra {
			// A key whose value MVT cannot hold is kept with no value, as
			// PostGIS keeps it.
			ki := w.Key(k)
			if vi, ok := w.Value(props[k]); ok {
				tags = append(tags, ki, vi)
			}
		}
		w.extra = extra
	}
	w.tags = tags
	w.AddTagged(id, tags, g)
}

// SortJSONBKeys sorts attribute names as a PostgreSQL jsonb keeps its keys
// (CompareJSONBKeys).
func SortJSONBKeys(ks []string) { slices.SortFunc(ks, CompareJSONBKeys) }

// CompareJSONBKeys orders attribute names as a PostgreSQL jsonb keeps its
// keys: shorter first, names of one length bytewise.
func CompareJSONBKeys(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// AddTagged writes one feature whose attributes are given as pairs of key
// and value indexes. The geometry is in tile units already.
func (w *LayerWriter) AddTagged(id uint64, tags []uint32, g orb.Geometry) {
	w.geom = w.geom[:0]
	var typ uint64
	var cx, cy int32
	switch g := g.(type) {
	case orb.Point:
		typ = geomPoint
		w.geom, _, _ = w.appendPath(w.geom, []orb.Point{g}, false, 0, 0)
	case orb.LineString:
		typ = geomLine
		w.geom, _, _ = w.appendPath(w.geom, g, false, 0, 0)
	case orb.MultiLineString:
		typ = geomLine
		for _, ls := range g {
			w.geom, cx, cy = w.appendPath(w.geom, ls, false, cx, cy)
		}
	case orb.Polygon:
		typ = geomPolygon
		for _, r := range g {
			w.geom, cx, cy = w.appendPath(w.geom, r, true, cx, cy)
		}
	case orb.MultiPolygon:
		typ = geomPolygon
		for _, p := range g {
			for _, r := range p {
				w.geom, cx, cy = w.appendPath(w.geom, r, true, cx, cy)
			}
		}
	default:
		return
	}
	w.addFeature(id, tags, typ)
}

// AddPoint writes one point feature, in tile units already.
func (w *LayerWriter) AddPoint(id uint64, tags []uint32, p orb.Point) {
	w.geom, _, _ = w.appendPath(w.geom[:0], []orb.Point{p}, false, 0, 0)
	w.addFeature(id, tags, geomPoint)
}

// AddLine writes one line feature, in tile units already.
func (w *LayerWriter) AddLine(id uint64, tags []uint32, l []orb.Point) {
	w.geom, _, _ = w.appendPath(w.geom[:0], l, false, 0, 0)
	w.addFeature(id, tags, geomLine)
}

// appendPath appends the commands of a point, a line or a ring (closed
// when ring is set, its repeated last point left out), from the cursor at
// cx, cy, and returns where the cursor ends.
func (w *LayerWriter) appendPath(geom []uint32, ps []orb.Point, ring bool, cx, cy int32) ([]uint32, int32, int32) {
	x, y := int32(ps[0][0]), int32(ps[0][1])
	geom = append(geom, command(cmdMoveTo, 1), zigzag32(x-cx), zigzag32(y-cy))
	cx, cy = x, y
	rest := ps[1:]
	if ring && len(ps) > 1 && ps[0] == ps[len(ps)-1] {
		rest = ps[1 : len(ps)-1]
	}
	if len(rest) > 0 {
		geom = append(geom, command(cmdLineTo, len(rest)))
		for _, p := range rest {
			x, y := int32(p[0]), int32(p[1])
			geom = append(geom, zigzag32(x-cx), zigzag32(y-cy))
			cx, cy = x, y
		}
	}
	if ring {
		geom = append(geom, command(cmdClosePath, 1))
	}
	return geom, cx, cy
}

// addFeature writes the feature whose geometry w.geom holds.
func (w *LayerWriter) addFeature(id uint64, tags []uint32, typ uint64) {
	b := w.buf[:0]
	b = appendVarintField(b, featureID, id)
	b = appendPacked(b, featureTags, tags)
	b = appendVarintField(b, featureType, typ)
	b = appendPacked(b, featureGeometry, w.geom)
	w.buf = b
	w.features = appendBytesField(w.features, layerFeatures, b)
	w.n++
}

// Size returns the number of bytes AppendTo appends.
func (w *LayerWriter) Size() int { return sizeBytesField(tileLayers, w.layerSize()) }

// layerSize is the size of the Layer message.
func (w *LayerWriter) layerSize() int {
	n := sizeBytesField(layerName, len(w.name)) + len(w.features)
	for _, k := range w.keys {
		n += sizeBytesField(layerKeys, len(k))
	}
	start := 0
	for _, end := range w.valueEnd {
		n += sizeBytesField(layerValues, end-start)
		start = end
	}
	return n + protowire.SizeTag(layerExtent) + protowire.SizeVarint(Extent) + protowire.SizeTag(layerVersion) + protowire.SizeVarint(2)
}

// AppendTo appends the layer as a field of a Tile message, growing tile
// once.
func (w *LayerWriter) AppendTo(tile []byte) []byte {
	n := w.layerSize()
	tile = slices.Grow(tile, sizeBytesField(tileLayers, n))
	tile = protowire.AppendVarint(protowire.AppendTag(tile, tileLayers, protowire.BytesType), uint64(n))
	tile = protowire.AppendTag(tile, layerName, protowire.BytesType)
	tile = protowire.AppendString(tile, w.name)
	tile = append(tile, w.features...)
	for _, k := range w.keys {
		tile = protowire.AppendTag(tile, layerKeys, protowire.BytesType)
		tile = protowire.AppendString(tile, k)
	}
	start := 0
	for _, end := range w.valueEnd {
		tile = appendBytesField(tile, layerValues, w.values[start:end])
		start = end
	}
	tile = appendVarintField(tile, layerExtent, Extent)
	return appendVarintField(tile, layerVersion, 2)
}

// sizeBytesField is the size of a length-delimited field of n bytes.
func sizeBytesField(field protowire.Number, n int) int {
	return protowire.SizeTag(field) + protowire.SizeBytes(n)
}

func command(id, count int) uint32 { return uint32(id&7) | uint32(count)<<3 }

// zigzag32 is the zigzag encoding of a geometry parameter, which MVT keeps
// in 32 bits.
func zigzag32(v int32) uint32 { return uint32(protowire.EncodeZigZag(int64(v))) }

func appendVarintField(b []byte, field protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, field, protowire.VarintType), v)
}

func appendBytesField(b []byte, field protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, field, protowire.BytesType), v)
}

// appendPacked appends vs as a packed repeated uint32 field.
func appendPacked(b []byte, field protowire.Number, vs []uint32) []byte {
	n := 0
	for _, v := range vs {
		if v < 0x80 {
			n++
		} else {
			n += protowire.SizeVarint(uint64(v))
		}
	}
	b = protowire.AppendVarint(protowire.AppendTag(b, field, protowire.BytesType), uint64(n))
	b = slices.Grow(b, n)
	for _, v := range vs {
		if v < 0x80 {
			b = append(b, byte(v))
		} else {
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	return b
}
