package tiles

import (
	"math"
	"slices"
	"sync"

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
	valueSint   = 6
	valueBool   = 7

	geomPoint   = 1
	geomLine    = 2
	geomPolygon = 3

	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

// layerWriter builds one MVT layer.
type layerWriter struct {
	name string
	// hide names attributes left out of every feature: the layer's
	// personal fields, which tiles never carry.
	hide     []string
	keys     []string
	keyIndex map[string]uint32
	values   []byte // the encoded Value messages, one after another
	valueEnd []int  // where each value ends in values
	strIndex map[string]uint32
	numIndex map[float64]uint32
	boolIdx  [2]int32 // index+1 of false and true, 0 when absent
	features []byte
	n        int

	// scratch space reused for each feature
	tags []uint32
	geom []uint32
	buf  []byte
}

// writers keeps layer writers with their dictionaries' memory between
// tiles: a tile's garbage is most of its cost.
var writers = sync.Pool{New: func() any {
	return &layerWriter{keyIndex: map[string]uint32{}, strIndex: map[string]uint32{}, numIndex: map[float64]uint32{}}
}}

func newLayerWriter(name string, hide []string) *layerWriter {
	w := writers.Get().(*layerWriter)
	w.name, w.hide = name, hide
	return w
}

// release empties the writer and gives it back to the pool.
func (w *layerWriter) release() {
	w.hide = nil
	w.keys = w.keys[:0]
	clear(w.keyIndex)
	clear(w.strIndex)
	clear(w.numIndex)
	w.values, w.valueEnd = w.values[:0], w.valueEnd[:0]
	w.boolIdx = [2]int32{}
	w.features = w.features[:0]
	w.n = 0
	writers.Put(w)
}

func (w *layerWriter) key(k string) uint32 {
	if i, ok := w.keyIndex[k]; ok {
		return i
	}
	i := uint32(len(w.keys))
	w.keys = append(w.keys, k)
	w.keyIndex[k] = i
	return i
}

// value returns the index of v in the layer's values, adding it; ok is
// false for a value MVT cannot hold (nil, nested objects).
func (w *layerWriter) value(v any) (uint32, bool) {
	switch v := v.(type) {
	case string:
		if i, ok := w.strIndex[v]; ok {
			return i, true
		}
		w.values = protowire.AppendTag(w.values, valueString, protowire.BytesType)
		w.values = protowire.AppendString(w.values, v)
		i := w.endValue()
		w.strIndex[v] = i
		return i, true
	case float64:
		if i, ok := w.numIndex[v]; ok {
			return i, true
		}
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			w.values = appendVarintField(w.values, valueSint, protowire.EncodeZigZag(int64(v)))
		} else {
			w.values = protowire.AppendTag(w.values, valueDouble, protowire.Fixed64Type)
			w.values = protowire.AppendFixed64(w.values, math.Float64bits(v))
		}
		i := w.endValue()
		w.numIndex[v] = i
		return i, true
	case int:
		return w.value(float64(v))
	case int64:
		return w.value(float64(v))
	case bool:
		b := 0
		if v {
			b = 1
		}
		if w.boolIdx[b] == 0 {
			w.values = appendVarintField(w.values, valueBool, uint64(b))
			w.boolIdx[b] = int32(w.endValue()) + 1
		}
		return uint32(w.boolIdx[b] - 1), true
	}
	return 0, false
}

// endValue closes the value just appended and returns its index.
func (w *layerWriter) endValue() uint32 {
	w.valueEnd = append(w.valueEnd, len(w.values))
	return uint32(len(w.valueEnd) - 1)
}

// add encodes one feature: its id, its attributes and its geometry, which
// is in tile units already.
func (w *layerWriter) add(id uint64, props map[string]any, g orb.Geometry) {
	w.tags = w.tags[:0]
	for k, v := range props {
		if len(w.hide) > 0 && slices.Contains(w.hide, k) {
			continue
		}
		vi, ok := w.value(v)
		if !ok {
			continue
		}
		w.tags = append(w.tags, w.key(k), vi)
	}
	w.geom = w.geom[:0]
	typ := uint64(0)
	var cx, cy int32
	moveTo := func(p orb.Point) {
		x, y := int32(p[0]), int32(p[1])
		w.geom = append(w.geom, command(cmdMoveTo, 1), zigzag32(x-cx), zigzag32(y-cy))
		cx, cy = x, y
	}
	lineTo := func(ps []orb.Point) {
		w.geom = append(w.geom, command(cmdLineTo, len(ps)))
		for _, p := range ps {
			x, y := int32(p[0]), int32(p[1])
			w.geom = append(w.geom, zigzag32(x-cx), zigzag32(y-cy))
			cx, cy = x, y
		}
	}
	line := func(ls orb.LineString) {
		moveTo(ls[0])
		lineTo(ls[1:])
	}
	ring := func(r orb.Ring) {
		moveTo(r[0])
		end := len(r)
		if r[0] == r[end-1] {
			end--
		}
		lineTo(r[1:end])
		w.geom = append(w.geom, command(cmdClosePath, 1))
	}
	switch g := g.(type) {
	case orb.Point:
		typ = geomPoint
		moveTo(g)
	case orb.LineString:
		typ = geomLine
		line(g)
	case orb.MultiLineString:
		typ = geomLine
		for _, ls := range g {
			line(ls)
		}
	case orb.Polygon:
		typ = geomPolygon
		for _, r := range g {
			ring(r)
		}
	case orb.MultiPolygon:
		typ = geomPolygon
		for _, p := range g {
			for _, r := range p {
				ring(r)
			}
		}
	default:
		return
	}
	b := w.buf[:0]
	b = appendVarintField(b, featureID, id)
	b = appendPacked(b, featureTags, w.tags)
	b = appendVarintField(b, featureType, typ)
	b = appendPacked(b, featureGeometry, w.geom)
	w.buf = b
	w.features = appendBytesField(w.features, layerFeatures, b)
	w.n++
}

// appendTo appends the layer as a field of a Tile message.
func (w *layerWriter) appendTo(tile []byte) []byte {
	var l []byte
	l = appendVarintField(l, layerVersion, 2)
	l = protowire.AppendTag(l, layerName, protowire.BytesType)
	l = protowire.AppendString(l, w.name)
	l = append(l, w.features...)
	for _, k := range w.keys {
		l = protowire.AppendTag(l, layerKeys, protowire.BytesType)
		l = protowire.AppendString(l, k)
	}
	start := 0
	for _, end := range w.valueEnd {
		l = appendBytesField(l, layerValues, w.values[start:end])
		start = end
	}
	l = appendVarintField(l, layerExtent, Extent)
	return appendBytesField(tile, tileLayers, l)
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
		n += protowire.SizeVarint(uint64(v))
	}
	b = protowire.AppendVarint(protowire.AppendTag(b, field, protowire.BytesType), uint64(n))
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}
