package memory

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// A snapshot is a loaded city as the store holds it, so that a large city
// starts without reading its GeoJSON again: a magic and a format version, a
// JSON header (the city's description, what it was made from, its
// problems, each layer's columns) and its CRC-32C, then each layer's arrays little-endian
// in large blocks, and a CRC-32C of everything before it. The R-trees are
// built again on reading.
const (
	snapshotMagic   = "ONEMAPSN"
	snapshotVersion = 1
	// maxHeader bounds the header a snapshot may claim.
	maxHeader = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrSnapshot is returned for a file that is not a snapshot this onemap
// can read: another format version, damaged, or made with another catalog.
var ErrSnapshot = errors.New("memory: unusable snapshot")

// SnapshotInfo is what a snapshot keeps beside the city.
type SnapshotInfo struct {
	// Source says what the city was read from, so that a snapshot of files
	// that changed since can be told apart.
	Source string `json:"source"`
	// Problems are the city's problems found when it was read.
	Problems city.Problems `json:"problems,omitempty"`
}

type snapshotHeader struct {
	SnapshotInfo
	Meta   city.Meta       `json:"meta"`
	Layers []snapshotLayer `json:"layers"`
}

type snapshotLayer struct {
	ID      string          `json:"id"`
	N       int             `json:"n"`
	Points  int             `json:"points"`
	Parts   int             `json:"parts"`
	Columns []snapshotField `json:"columns"`
}

type snapshotField struct {
	Name string           `json:"name"`
	Type layers.FieldType `json:"type"`
	Dict int              `json:"dict"`
}

// SaveSnapshot writes the store's snapshot to path, whole or not at all: to
// a file beside it, synced, then renamed over it.
func (s *Store) SaveSnapshot(path string, info SnapshotInfo) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := s.WriteSnapshot(bw, info); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// WriteSnapshot writes the store's snapshot to w.
func (s *Store) WriteSnapshot(w io.Writer, info SnapshotInfo) error {
	sw := &snapWriter{w: w, h: crc32.New(castagnoli)}
	ids := make([]string, 0, len(s.layers))
	for id := range s.layers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	hd := snapshotHeader{SnapshotInfo: info, Meta: s.meta}
	for _, id := range ids {
		li := s.layers[id]
		sl := snapshotLayer{ID: id, N: len(li.ids), Points: len(li.ll), Parts: len(li.partEnd)}
		for _, c := range li.cols {
			sl.Columns = append(sl.Columns, snapshotField{Name: c.field.Name, Type: c.field.Type, Dict: c.size()})
		}
		hd.Layers = append(hd.Layers, sl)
	}
	head, err := json.Marshal(hd)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	sw.bytes([]byte(snapshotMagic))
	sw.u32s([]uint32{snapshotVersion, uint32(len(head))})
	sw.bytes(head)
	sw.u32s([]uint32{crc32.Checksum(head, castagnoli)})
	for _, id := range ids {
		li := s.layers[id]
		sw.u64s(li.ids)
		sw.bytes(li.minZoom)
		sw.bytes(li.kind)
		sw.u32s(int32sAsUint32s(li.partAt))
		sw.u32s(li.partEnd)
		sw.f64s(pointsAsFloats(li.ll))
		sw.f64s(pointsAsFloats(li.xy))
		for j := range li.cols {
			c := &li.cols[j]
			if c.flag != nil {
				sw.bytes(c.flag)
				continue
			}
			sw.u32s(c.code)
			if c.field.Type == layers.Number {
				sw.f64s(c.nums)
			} else {
				sw.strings(c.strs)
			}
		}
		extra := make([][4]any, 0, len(li.extra))
		for _, i := range sortedKeys(li.extra) {
			for _, p := range li.extra[i] {
				extra = append(extra, [4]any{i, p.key, p.value, p.named})
			}
		}
		b, err := json.Marshal(extra)
		if err != nil {
			return fmt.Errorf("snapshot: layer %s: %w", id, err)
		}
		sw.u32s([]uint32{uint32(len(b))})
		sw.bytes(b)
	}
	if sw.err != nil {
		return fmt.Errorf("snapshot: %w", sw.err)
	}
	sum := sw.h.Sum32()
	if err := binary.Write(w, binary.LittleEndian, sum); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// OpenSnapshot reads the snapshot at path; its columns must be the
// catalog's.
func OpenSnapshot(path string, cat *layers.Catalog) (*Store, SnapshotInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	return ReadSnapshot(bufio.NewReaderSize(f, 4<<20), fi.Size(), cat)
}

// ReadSnapshot reads a snapshot of size bytes; its columns must be the
// catalog's. Nothing is allocated for arrays the size cannot hold.
func ReadSnapshot(r io.Reader, size int64, cat *layers.Catalog) (*Store, SnapshotInfo, error) {
	sr := &snapReader{r: r, h: crc32.New(castagnoli)}
	fail := func(format string, a ...any) (*Store, SnapshotInfo, error) {
		return nil, SnapshotInfo{}, fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, a...)...)
	}
	magic := make([]byte, len(snapshotMagic))
	sr.bytes(magic)
	if sr.err != nil || string(magic) != snapshotMagic {
		return fail("not a onemap snapshot")
	}
	var vh [2]uint32
	sr.u32s(vh[:])
	if sr.err != nil {
		return fail("cut short: %v", sr.err)
	}
	if vh[0] != snapshotVersion {
		return fail("format version %d; this onemap reads version %d: make it again", vh[0], snapshotVersion)
	}
	if vh[1] > maxHeader || int64(vh[1]) > size {
		return fail("header of %d bytes", vh[1])
	}
	head := make([]byte, vh[1])
	sr.bytes(head)
	var hd snapshotHeader
	if sr.err != nil {
		return fail("cut short: %v", sr.err)
	}
	var headSum [1]uint32
	sr.u32s(headSum[:])
	if sr.err != nil {
		return fail("cut short: %v", sr.err)
	}
	if headSum[0] != crc32.Checksum(head, castagnoli) {
		return fail("damaged: the checksum of its header does not match")
	}
	if err := json.Unmarshal(head, &hd); err != nil {
		return fail("header: %v", err)
	}
	claimed := int64(0)
	for _, sl := range hd.Layers {
		if sl.N < 0 || sl.Points < 0 || sl.Parts < 0 || sl.N > math.MaxInt32 || sl.Points > math.MaxInt32 || sl.Parts > math.MaxInt32 {
			return fail("layer %s: sizes %d, %d, %d", sl.ID, sl.N, sl.Points, sl.Parts)
		}
		claimed += int64(sl.N)*14 + int64(sl.Parts)*4 + int64(sl.Points)*32
		for _, c := range sl.Columns {
			if c.Dict < 0 || c.Dict > sl.N {
				return fail("layer %s column %s: %d values", sl.ID, c.Name, c.Dict)
			}
			claimed += int64(sl.N) + int64(c.Dict)*4
		}
	}
	if claimed > size {
		return fail("it claims %d bytes of arrays and holds %d", claimed, size)
	}
	s := &Store{meta: hd.Meta, layers: map[string]*layer{}, byCode: map[uint8]*layer{}}
	for _, sl := range hd.Layers {
		l, _ := cat.Layer(sl.ID)
		var fields []layers.Field
		if l != nil {
			fields = l.Fields
		}
		if len(fields) != len(sl.Columns) {
			return fail("layer %s has %d columns, the catalog %d: made by another version of onemap; make it again", sl.ID, len(sl.Columns), len(fields))
		}
		li := &layer{id: sl.ID, extra: map[int32][]prop{}}
		li.ids = make([]uint64, sl.N)
		li.minZoom = make([]uint8, sl.N)
		li.kind = make([]uint8, sl.N)
		li.partAt = make([]int32, sl.N+1)
		li.partEnd = make([]uint32, sl.Parts)
		li.ll = make([]orb.Point, sl.Points)
		li.xy = make([]orb.Point, sl.Points)
		sr.u64s(li.ids)
		sr.bytes(li.minZoom)
		sr.bytes(li.kind)
		sr.u32s(int32sAsUint32s(li.partAt))
		sr.u32s(li.partEnd)
		sr.f64s(pointsAsFloats(li.ll))
		sr.f64s(pointsAsFloats(li.xy))
		for j, sf := range sl.Columns {
			fd := fields[j]
			if fd.Name != sf.Name || fd.Type != sf.Type || sf.Dict < 0 || sf.Dict > sl.N {
				return fail("layer %s column %s (%s) is %s (%s) in the catalog: made by another version of onemap; make it again", sl.ID, sf.Name, sf.Type, fd.Name, fd.Type)
			}
			c := column{field: fd, whole: fd.Whole()}
			switch fd.Type {
			case layers.Boolean:
				c.flag = make([]uint8, sl.N)
				sr.bytes(c.flag)
			case layers.Number:
				c.code = make([]uint32, sl.N)
				c.nums = make([]float64, sf.Dict)
				sr.u32s(c.code)
				sr.f64s(c.nums)
			default:
				c.code = make([]uint32, sl.N)
				sr.u32s(c.code)
				c.strs = sr.strings(sf.Dict)
			}
			li.cols = append(li.cols, c)
		}
		var n [1]uint32
		sr.u32s(n[:])
		if sr.err != nil {
			return fail("layer %s cut short: %v", sl.ID, sr.err)
		}
		if n[0] > maxHeader {
			return fail("layer %s: %d bytes of attributes outside the catalog", sl.ID, n[0])
		}
		b := make([]byte, n[0])
		sr.bytes(b)
		var extra [][4]json.RawMessage
		if err := json.Unmarshal(b, &extra); err != nil {
			return fail("layer %s: attributes outside the catalog: %v", sl.ID, err)
		}
		for _, e := range extra {
			var i int32
			var p prop
			if json.Unmarshal(e[0], &i) != nil || json.Unmarshal(e[1], &p.key) != nil || json.Unmarshal(e[2], &p.value) != nil || json.Unmarshal(e[3], &p.named) != nil || i < 0 || int(i) >= sl.N {
				return fail("layer %s: an attribute outside the catalog of feature %d", sl.ID, i)
			}
			li.extra[i] = append(li.extra[i], p)
		}
		if sr.err != nil {
			return fail("layer %s cut short: %v", sl.ID, sr.err)
		}
		s.add(li)
	}
	want := sr.h.Sum32()
	var sum uint32
	if err := binary.Read(r, binary.LittleEndian, &sum); err != nil {
		return fail("cut short: %v", err)
	}
	if sum != want {
		return fail("damaged: its checksum does not match")
	}
	// Checked once the checksum says the file is whole, so that damage is
	// told as damage.
	for _, li := range s.layers {
		if err := li.check(); err != nil {
			return fail("layer %s: %v", li.id, err)
		}
		li.buildIndex()
	}
	return s, hd.SnapshotInfo, nil
}

// check makes sure every offset and code of a layer read from a snapshot
// points inside its arrays, so that a damaged file that passed the
// checksum still cannot make a tile read out of bounds.
func (li *layer) check() error {
	if !slices.IsSorted(li.ids) {
		return errors.New("ids out of order")
	}
	if li.partAt[0] != 0 || int(li.partAt[len(li.partAt)-1]) != len(li.partEnd) {
		return errors.New("parts out of range")
	}
	for i := range li.ids {
		if li.partAt[i+1] <= li.partAt[i] || li.kind[i] < kindPoint || li.kind[i] > kindPolygons {
			return fmt.Errorf("feature %d: no geometry", li.ids[i])
		}
	}
	prev := uint32(0)
	for _, e := range li.partEnd {
		end := e &^ newPolygon
		if end <= prev || int(end) > len(li.ll) {
			return errors.New("points out of range")
		}
		prev = end
	}
	if int(prev) != len(li.ll) {
		return errors.New("points left over")
	}
	for _, c := range li.cols {
		n := uint32(c.size())
		for _, code := range c.code {
			if code > n {
				return fmt.Errorf("column %s: code %d of %d", c.field.Name, code, n)
			}
		}
	}
	return nil
}

// buildIndex builds the R-trees and the bound of a layer.
func (li *layer) buildIndex() {
	var byZoom [256]*zoomTree
	var zooms []uint8
	for _, z := range li.minZoom {
		if byZoom[z] == nil {
			byZoom[z] = &zoomTree{minZoom: z}
			zooms = append(zooms, z)
		}
	}
	for k := range li.ids {
		i := int32(k)
		b := li.geometry(li.ll, i).Bound()
		if k == 0 {
			li.bound = b
		} else {
			li.bound = li.bound.Union(b)
		}
		byZoom[li.minZoom[i]].tree.Insert(b.Min, b.Max, i)
	}
	slices.Sort(zooms)
	li.trees = make([]zoomTree, 0, len(zooms))
	for _, z := range zooms {
		li.trees = append(li.trees, *byZoom[z])
	}
}

func sortedKeys(m map[int32][]prop) []int32 {
	ks := make([]int32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// pointsAsFloats views points as the floats they are made of.
func pointsAsFloats(ps []orb.Point) []float64 {
	if len(ps) == 0 {
		return nil
	}
	return unsafe.Slice(&ps[0][0], 2*len(ps))
}

// int32sAsUint32s views int32s as the uint32s of the same bits.
func int32sAsUint32s(v []int32) []uint32 {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&v[0])), len(v))
}

// block is how many values go through the buffer at once.
const block = 1 << 16

// snapWriter writes arrays little-endian, hashing them; the first error
// stops it.
type snapWriter struct {
	w   io.Writer
	h   hash.Hash32
	buf []byte
	err error
}

func (sw *snapWriter) bytes(b []byte) {
	if sw.err != nil {
		return
	}
	sw.h.Write(b)
	_, sw.err = sw.w.Write(b)
}

func (sw *snapWriter) u32s(v []uint32) {
	for len(v) > 0 {
		n := min(len(v), block)
		sw.buf = sw.buf[:0]
		for _, x := range v[:n] {
			sw.buf = binary.LittleEndian.AppendUint32(sw.buf, x)
		}
		sw.bytes(sw.buf)
		v = v[n:]
	}
}

func (sw *snapWriter) u64s(v []uint64) {
	for len(v) > 0 {
		n := min(len(v), block)
		sw.buf = sw.buf[:0]
		for _, x := range v[:n] {
			sw.buf = binary.LittleEndian.AppendUint64(sw.buf, x)
		}
		sw.bytes(sw.buf)
		v = v[n:]
	}
}

func (sw *snapWriter) f64s(v []float64) {
	for len(v) > 0 {
		n := min(len(v), block)
		sw.buf = sw.buf[:0]
		for _, x := range v[:n] {
			sw.buf = binary.LittleEndian.AppendUint64(sw.buf, math.Float64bits(x))
		}
		sw.bytes(sw.buf)
		v = v[n:]
	}
}

// strings writes the lengths of the strings, then their bytes.
func (sw *snapWriter) strings(ss []string) {
	ls := make([]uint32, len(ss))
	for i, s := range ss {
		ls[i] = uint32(len(s))
	}
	sw.u32s(ls)
	for _, s := range ss {
		sw.bytes([]byte(s))
	}
}

// snapReader reads what snapWriter wrote, hashing it; the first error
// stops it.
type snapReader struct {
	r   io.Reader
	h   hash.Hash32
	buf []byte
	err error
}

func (sr *snapReader) bytes(b []byte) {
	if sr.err != nil {
		return
	}
	if _, sr.err = io.ReadFull(sr.r, b); sr.err == nil {
		sr.h.Write(b)
	}
}

func (sr *snapReader) next(n int) []byte {
	if cap(sr.buf) < n {
		sr.buf = make([]byte, n)
	}
	b := sr.buf[:n]
	sr.bytes(b)
	return b
}

func (sr *snapReader) u32s(v []uint32) {
	for len(v) > 0 && sr.err == nil {
		n := min(len(v), block)
		b := sr.next(4 * n)
		for i := range v[:n] {
			v[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		v = v[n:]
	}
}

func (sr *snapReader) u64s(v []uint64) {
	for len(v) > 0 && sr.err == nil {
		n := min(len(v), block)
		b := sr.next(8 * n)
		for i := range v[:n] {
			v[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
		v = v[n:]
	}
}

func (sr *snapReader) f64s(v []float64) {
	for len(v) > 0 && sr.err == nil {
		n := min(len(v), block)
		b := sr.next(8 * n)
		for i := range v[:n] {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		v = v[n:]
	}
}

// strings reads n strings as strings wrote them.
func (sr *snapReader) strings(n int) []string {
	ls := make([]uint32, n)
	sr.u32s(ls)
	out := make([]string, n)
	for i, l := range ls {
		if sr.err != nil {
			return out
		}
		if l > maxHeader {
			sr.err = fmt.Errorf("a string of %d bytes", l)
			return out
		}
		out[i] = string(sr.next(int(l)))
	}
	return out
}
