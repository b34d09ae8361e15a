package memory

import (
	"sync"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/tiles"
)

// render is the reused space of one tile being written.
type render struct {
	writers []*tiles.LayerWriter
	hits    []int32
	geom    scratch
	buf     []uint32
	// Per column of the layer being written: its key's index in the
	// layer, and what its dictionary codes are in the layer's values.
	keys  []uint32
	codes []codeIndex
	// personal says which columns tiles never carry.
	personal []bool
}

// codeIndex maps the dictionary codes of one column to the index of their
// values in the layer being written: a dense array stamped with the layer's
// turn. A large dictionary (names, codes, lengths) has no index: its values
// are mostly one to a feature, and the writer's own dictionary finds the
// rest.
type codeIndex struct {
	stamp []uint32
	index []uint32
	turn  uint32
}

// denseCodes is the largest dictionary indexed by an array.
const denseCodes = 1 << 16

var renders = sync.Pool{New: func() any { return new(render) }}

// pooledHits is the most features a render may have held and still go back
// to the pool whole; past it, what grew is dropped for the collector.
const pooledHits = 1 << 14

// release gives the render back to the pool, without what a dense tile
// made it grow.
func (r *render) release() {
	if cap(r.hits) > pooledHits {
		r.hits, r.buf = nil, nil
	}
	renders.Put(r)
}

// start readies the render for a layer written to w.
func (r *render) start(li *layer, l *layers.Layer, w *tiles.LayerWriter) {
	n := len(li.cols)
	r.keys = r.keys[:0]
	r.personal = r.personal[:0]
	for j := range n {
		fd := li.cols[j].field
		hide := fd.Personal
		if f, ok := l.Field(fd.Name); ok && f.Personal {
			hide = true
		}
		r.personal = append(r.personal, hide)
		k := uint32(0)
		if !hide {
			k = w.Key(fd.Name)
		}
		r.keys = append(r.keys, k)
	}
	for len(r.codes) < n {
		r.codes = append(r.codes, codeIndex{})
	}
	for j := range n {
		c := &r.codes[j]
		size := li.cols[j].size()
		if size > denseCodes {
			continue
		}
		if cap(c.stamp) < size+1 {
			c.stamp, c.index, c.turn = make([]uint32, size+1), make([]uint32, size+1), 0
		}
		c.stamp, c.index = c.stamp[:size+1], c.index[:size+1]
		c.turn++
		if c.turn == 0 { // wrapped: no stamp may look current
			clear(c.stamp)
			c.turn = 1
		}
	}
}

// value returns the index in w of the column's value with the code.
func (c *codeIndex) value(w *tiles.LayerWriter, col *column, code uint32) uint32 {
	if col.size() > denseCodes {
		return col.write(w, code)
	}
	if c.stamp[code] == c.turn {
		return c.index[code]
	}
	v := col.write(w, code)
	c.stamp[code], c.index[code] = c.turn, v
	return v
}

// write adds the column's value with the code to w, typed by the field.
func (col *column) write(w *tiles.LayerWriter, code uint32) uint32 {
	if col.nums != nil {
		return w.Number(col.nums[code-1], col.whole)
	}
	return w.String(col.strs[code-1])
}

// tags returns feature i's attributes as pairs of key and value indexes
// in w: the columns in catalog order, then the extra ones.
func (r *render) tags(w *tiles.LayerWriter, li *layer, i int32) []uint32 {
	t := r.buf[:0]
	for j := range li.cols {
		if r.personal[j] {
			continue
		}
		col := &li.cols[j]
		var v uint32
		if col.flag != nil {
			f := col.flag[i]
			if f == 0 {
				continue
			}
			v = w.Bool(f == 2)
		} else {
			code := col.code[i]
			if code == 0 {
				continue
			}
			v = r.codes[j].value(w, col, code)
		}
		t = append(t, r.keys[j], v)
	}
	for _, p := range li.extra[i] {
		if p.named {
			continue
		}
		// A key whose value MVT cannot hold is kept with no value, as
		// PostGIS keeps it.
		k := w.Key(p.key)
		if v, ok := w.Value(p.value); ok {
			t = append(t, k, v)
		}
	}
	r.buf = t
	return t
}
