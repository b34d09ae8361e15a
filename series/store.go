package series

import (
	"hash/maphash"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// Key names one series: a sensor and one of its metrics.
type Key struct {
	Sensor uint64
	Metric string
}

// Options configure a Store; zero fields take their defaults.
type Options struct {
	// Retention is how long readings are kept (default 30 days); older ones are
	// refused by Append and dropped by Prune.
	Retention time.Duration
	// ChunkSpan is the window chunks begin and end on (default 2 h, at least 1 s). A
	// chunk takes whole windows until it holds 120 readings or spans 12 windows, and
	// stays uncompressed until the series moves past it.
	ChunkSpan time.Duration
	// Now tells the time Append measures retention against (default time.Now).
	Now func() time.Time
}

// Default option values.
const (
	DefaultRetention = 30 * 24 * time.Hour
	DefaultChunkSpan = 2 * time.Hour
)

// shards spreads series over independent locks; 256 makes two appenders on two cores
// meet on one lock rarely, and costs 256 small maps.
const shards = 256

// A chunk closes at the first window boundary after it holds minChunkReadings, or
// once it spans maxChunkWindows windows. Each chunk costs about 40 bytes of header,
// bookkeeping and allocation slack whatever it holds, so a series reporting every
// 300 s would pay 1.6 bytes a reading in 2-hour chunks of 24; at 120 the overhead is
// a fifth of that and the open chunk of such a series stays under 2 KB.
const (
	minChunkReadings = 120
	maxChunkWindows  = 12
)

// Store keeps the recent readings of many series in memory, compressed. It is safe for
// concurrent use.
type Store struct {
	retention int64 // ms
	span      int64 // ms
	now       func() time.Time
	seed      maphash.Seed
	shards    [shards]shard

	internMu sync.Mutex
	intern   map[string]string
}

type shard struct {
	mu      sync.Mutex
	m       map[Key]*series
	bytes   int64
	scratch []byte // encoder output, reused under mu
	_       [64]byte
}

// series holds one key's readings: closed chunks in window order, then the open one.
type series struct {
	key Key
	// closed chunks, sorted by start; chunk i holds the readings in
	// [closed[i].start, closed[i+1].start), the last one those before openStart.
	// Readers share this slice without the lock, so an element is never changed in
	// place: an insertion or a re-encoded chunk makes a new slice.
	closed []chunk
	// open holds the readings from openStart on, sorted by time, uncompressed.
	open      []sample
	openStart int64 // a window start
	lastT     int64
	lastV     float64
	dataBytes int64 // sum of len(closed[i].data)
}

// Fixed memory of one series: the struct, its map entry and key, its pointer.
const seriesOverhead = int64(unsafe.Sizeof(series{})) + int64(unsafe.Sizeof(Key{})) + 8 + 16

const (
	sampleSize = int64(unsafe.Sizeof(sample{}))
	chunkSize  = int64(unsafe.Sizeof(chunk{}))
)

// chunkEnd returns the end of closed chunk i's range.
func (s *series) chunkEnd(i int) int64 {
	if i+1 < len(s.closed) {
		return s.closed[i+1].start
	}
	return s.openStart
}

func (s *series) footprint() int64 {
	return seriesOverhead + int64(cap(s.open))*sampleSize + int64(cap(s.closed))*chunkSize + s.dataBytes
}

// New returns an empty Store.
func New(o Options) *Store {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.ChunkSpan <= 0 {
		o.ChunkSpan = DefaultChunkSpan
	}
	if o.ChunkSpan < time.Second {
		o.ChunkSpan = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{
		retention: o.Retention.Milliseconds(),
		span:      o.ChunkSpan.Milliseconds(),
		now:       o.Now,
		seed:      maphash.MakeSeed(),
		intern:    make(map[string]string),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[Key]*series)
	}
	return s
}

func (s *Store) shard(k Key) *shard {
	h := maphash.String(s.seed, k.Metric) ^ (k.Sensor * 0x9e3779b97f4a7c15)
	h ^= h >> 29
	return &s.shards[h%shards]
}

// internMetric returns the one copy of a metric name the store keeps.
func (s *Store) internMetric(m string) string {
	s.internMu.Lock()
	defer s.internMu.Unlock()
	if c, ok := s.intern[m]; ok {
		return c
	}
	m = string([]byte(m)) // do not keep a caller's larger buffer alive
	s.intern[m] = m
	return m
}

// windowStart returns the start of the chunk window holding t.
func (s *Store) windowStart(t int64) int64 {
	w := t - t%s.span
	if t%s.span < 0 {
		w -= s.span
	}
	return w
}

// Append stores one reading. Timestamps are kept to the millisecond; a reading with the
// same timestamp as a stored one replaces it; a reading older than the retention is
// dropped. Readings may arrive in any order, but in time order per series is cheapest.
func (s *Store) Append(key Key, t time.Time, v float64) {
	ts := t.UnixMilli()
	if ts < s.now().UnixMilli()-s.retention {
		return
	}
	sh := s.shard(key)
	sh.mu.Lock()
	se := sh.m[key]
	if se == nil {
		key.Metric = s.internMetric(key.Metric)
		se = &series{key: key, openStart: s.windowStart(ts), lastT: ts, lastV: v}
		sh.m[key] = se
		sh.bytes += se.footprint()
	}
	before := se.footprint()
	s.appendLocked(sh, se, ts, v)
	sh.bytes += se.footprint() - before
	sh.mu.Unlock()
}

func (s *Store) appendLocked(sh *shard, se *series, ts int64, v float64) {
	if ts >= se.lastT {
		se.lastT, se.lastV = ts, v
	}
	w := s.windowStart(ts)
	switch {
	case w < se.openStart:
		s.insertClosed(sh, se, w, sample{ts, v})
	case len(se.open) == 0:
		se.openStart = w
		se.open = append(se.open, sample{ts, v})
	case w > s.windowStart(se.open[len(se.open)-1].t) &&
		(len(se.open) >= minChunkReadings || w-se.openStart >= maxChunkWindows*s.span):
		// The reading opens a window after the open chunk's last, and that chunk is
		// full enough: close it.
		s.seal(sh, se)
		se.openStart = w
		se.open = append(se.open, sample{ts, v})
	default:
		se.open = insertSample(se.open, sample{ts, v})
	}
}

// insertSample puts p into the sorted pts, replacing a reading with the same time.
func insertSample(pts []sample, p sample) []sample {
	n := len(pts)
	if n == 0 || pts[n-1].t < p.t {
		return append(pts, p)
	}
	i := sort.Search(n, func(i int) bool { return pts[i].t >= p.t })
	if pts[i].t == p.t {
		pts[i] = p
		return pts
	}
	return slices.Insert(pts, i, p)
}

// seal compresses the open chunk into a closed one.
func (s *Store) seal(sh *shard, se *series) {
	if len(se.open) == 0 {
		return
	}
	sh.scratch = encodeChunk(sh.scratch[:0], se.openStart, se.open)
	c := chunk{start: se.openStart, data: string(sh.scratch)}
	se.closed = append(se.closed, c)
	se.dataBytes += int64(len(c.data))
	se.open = se.open[:0]
	// A series that slows down keeps its big buffer otherwise.
	if cap(se.open) > 64 && cap(se.open) > 4*len(se.open) {
		se.open = nil
	}
}

// insertClosed adds a late reading of window w, before the open chunk, to the closed
// chunk whose range holds it, re-encoding that chunk, or to a new chunk at the front.
func (s *Store) insertClosed(sh *shard, se *series, w int64, p sample) {
	// The last chunk starting at or before w holds it.
	i := sort.Search(len(se.closed), func(i int) bool { return se.closed[i].start > w }) - 1
	var pts []sample
	old, replace := 0, i >= 0
	if !replace {
		i = 0
	} else {
		w = se.closed[i].start
		var err error
		pts, err = decodeChunk(nil, se.closed[i].data, w)
		if err != nil {
			// Our own encoding does not fail to decode; keep the reading rather
			// than lose it with the rest.
			pts = pts[:0]
		}
		old = len(se.closed[i].data)
	}
	pts = insertSample(pts, p)
	sh.scratch = encodeChunk(sh.scratch[:0], w, pts)
	c := chunk{start: w, data: string(sh.scratch)}
	// Copy on write: readers may hold the old slice.
	closed := make([]chunk, 0, len(se.closed)+1)
	closed = append(closed, se.closed[:i]...)
	closed = append(closed, c)
	if replace {
		closed = append(closed, se.closed[i+1:]...)
	} else {
		closed = append(closed, se.closed[i:]...)
	}
	se.closed = closed
	se.dataBytes += int64(len(c.data) - old)
}

// Prune drops the chunks whose readings are all older than now minus the retention,
// and series left with no readings; it also compresses the open chunk of a series
// silent for a whole chunk window, so that its last readings do not stay uncompressed.
// Call it every few minutes.
func (s *Store) Prune(now time.Time) {
	nowMs := now.UnixMilli()
	cutoff := nowMs - s.retention
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, se := range sh.m {
			before := se.footprint()
			if len(se.open) > 0 {
				// A series silent for a whole window after its last reading's.
				next := s.windowStart(se.open[len(se.open)-1].t) + s.span
				if next+s.span <= nowMs {
					s.seal(sh, se)
					se.openStart = next
				}
			}
			n := 0
			for n < len(se.closed) && se.chunkEnd(n) <= cutoff {
				se.dataBytes -= int64(len(se.closed[n].data))
				n++
			}
			if n > 0 {
				// Readers may hold the old slice; a fresh one also frees the dropped
				// chunks' slots.
				se.closed = slices.Clone(se.closed[n:])
			}
			if len(se.closed) == 0 && len(se.open) == 0 {
				delete(sh.m, k)
				sh.bytes -= before
				continue
			}
			sh.bytes += se.footprint() - before
		}
		sh.mu.Unlock()
	}
}

// Last returns the reading with the latest timestamp of a series.
func (s *Store) Last(key Key) (t time.Time, v float64, ok bool) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	se := sh.m[key]
	if se == nil {
		return time.Time{}, 0, false
	}
	return time.UnixMilli(se.lastT), se.lastV, true
}

// Len returns the number of series held.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// Bytes returns an estimate of the memory the store holds: compressed chunks, open
// chunk buffers and per-series bookkeeping.
func (s *Store) Bytes() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.bytes + int64(cap(sh.scratch))
		sh.mu.Unlock()
	}
	return n
}

// Keys returns the keys of all series, sorted by sensor then metric.
func (s *Store) Keys() []Key {
	var keys []Key
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k := range sh.m {
			keys = append(keys, k)
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(keys, func(a, b Key) int {
		switch {
		case a.Sensor < b.Sensor:
			return -1
		case a.Sensor > b.Sensor:
			return 1
		}
		switch {
		case a.Metric < b.Metric:
			return -1
		case a.Metric > b.Metric:
			return 1
		}
		return 0
	})
	return keys
}
