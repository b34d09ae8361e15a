package series

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// snapshotMagic starts a snapshot; the number is its format.
const snapshotMagic = "onemap-series-1"

// errSnapshot is returned for bytes AppendSnapshot did not write.
var errSnapshot = errors.New("series: malformed snapshot")

// AppendSnapshot appends every series to dst, its compressed chunks as they
// are and its open readings, and returns the extended slice. Each shard is
// copied under its lock; call it while no reading is being added for the
// snapshot to be of one moment.
func (s *Store) AppendSnapshot(dst []byte) []byte {
	dst = append(dst, snapshotMagic...)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, se := range sh.m {
			dst = binary.AppendUvarint(dst, se.key.Sensor)
			dst = appendString(dst, se.key.Metric)
			dst = binary.AppendVarint(dst, se.openStart)
			dst = binary.AppendVarint(dst, se.lastT)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(se.lastV))
			dst = binary.AppendUvarint(dst, uint64(len(se.closed)))
			for _, c := range se.closed {
				dst = binary.AppendVarint(dst, c.start)
				dst = appendString(dst, c.data)
			}
			dst = binary.AppendUvarint(dst, uint64(len(se.open)))
			for _, p := range se.open {
				dst = binary.AppendVarint(dst, p.t)
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.v))
			}
		}
		sh.mu.Unlock()
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// LoadSnapshot adds the series of a snapshot to the store, replacing series
// of the same key.
func (s *Store) LoadSnapshot(b []byte) error {
	if len(b) < len(snapshotMagic) || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("%w: no header", errSnapshot)
	}
	r := snapReader{b: b[len(snapshotMagic):]}
	for len(r.b) > 0 && r.err == nil {
		key := Key{Sensor: r.uvarint(), Metric: r.string()}
		se := &series{openStart: r.varint(), lastT: r.varint(), lastV: r.float()}
		n := r.count()
		se.closed = make([]chunk, 0, n)
		for range n {
			c := chunk{start: r.varint(), data: r.string()}
			se.closed = append(se.closed, c)
			se.dataBytes += int64(len(c.data))
		}
		n = r.count()
		se.open = make([]sample, 0, n)
		for range n {
			se.open = append(se.open, sample{t: r.varint(), v: r.float()})
		}
		if r.err != nil {
			break
		}
		key.Metric = s.internMetric(key.Metric)
		se.key = key
		sh := s.shard(key)
		sh.mu.Lock()
		if old := sh.m[key]; old != nil {
			sh.bytes -= old.footprint()
		}
		sh.m[key] = se
		sh.bytes += se.footprint()
		sh.mu.Unlock()
	}
	return r.err
}

// snapReader reads a snapshot, keeping the first error.
type snapReader struct {
	b   []byte
	err error
}

func (r *snapReader) fail() {
	if r.err == nil {
		r.err = errSnapshot
	}
	r.b = nil
}

func (r *snapReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *snapReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length that the rest of the snapshot can hold.
func (r *snapReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *snapReader) string() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *snapReader) float() float64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}
