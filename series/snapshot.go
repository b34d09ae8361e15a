package series

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// snapshotMagic starts a snapshot; the number is its format.
const snapshotMagic = "onemap-series-1"

// errSnapshot is returned for bytes AppendSnapshot did not write.
var errSnapshot = errors.New("series: malformed snapshot")

// Snapshot is a copy of what a Store holds, made cheaply: closed chunks
// are immutable and shared, open readings copied.
type Snapshot struct {
	series []snapSeries
}

type snapSeries struct {
	key              Key
	openStart, lastT int64
	lastV            float64
	closed           []chunk
	open             []sample
}

// Snapshot copies every series, each shard under its lock; call it while no
// reading is being added for the copy to be of one moment. Encoding the
// copy (AppendTo) needs no lock.
func (s *Store) Snapshot() *Snapshot {
	sn := &Snapshot{}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, se := range sh.m {
			// Readers share se.closed without the lock: its elements are
			// never changed in place, so the slice may be kept as it is.
			sn.series = append(sn.series, snapSeries{key: se.key, openStart: se.openStart, lastT: se.lastT, lastV: se.lastV,
				closed: se.closed[:len(se.closed):len(se.closed)], open: slices.Clone(se.open)})
		}
		sh.mu.Unlock()
	}
	return sn
}

// SnapshotFunc copies the store (Snapshot) and returns the copy's encoder.
func (s *Store) SnapshotFunc() func(dst []byte) []byte { return s.Snapshot().AppendTo }

// AppendSnapshot appends the encoding of a snapshot of the store to dst.
func (s *Store) AppendSnapshot(dst []byte) []byte { return s.Snapshot().AppendTo(dst) }

// AppendTo appends the snapshot to dst, each series' compressed chunks as
// they are and its open readings, and returns the extended slice.
func (sn *Snapshot) AppendTo(dst []byte) []byte {
	dst = append(dst, snapshotMagic...)
	for i := range sn.series {
		se := &sn.series[i]
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
