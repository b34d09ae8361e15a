package series

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// t0 is a fixed "now" for tests, on a chunk boundary plus a bit.
var t0 = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func newTestStore(span time.Duration, now *time.Time) *Store {
	return New(Options{ChunkSpan: span, Now: func() time.Time { return *now }})
}

// collect returns every reading of key via Raw.
func collect(s *Store, key Key, from, to time.Time) []sample {
	var out []sample
	s.Raw(key, from, to, func(t time.Time, v float64) bool {
		out = append(out, sample{t.UnixMilli(), v})
		return true
	})
	return out
}

// model is the brute-force reference: the last value written per ms.
type model map[Key]map[int64]float64

func (m model) put(k Key, t time.Time, v float64) {
	if m[k] == nil {
		m[k] = make(map[int64]float64)
	}
	m[k][t.UnixMilli()] = v
}

func (m model) sorted(k Key, from, to int64) []sample {
	var out []sample
	for t, v := range m[k] {
		if t >= from && t < to {
			out = append(out, sample{t, v})
		}
	}
	slices.SortFunc(out, func(a, b sample) int { return int(a.t - b.t) })
	return out
}

func TestAppendInOrder(t *testing.T) {
	now := t0
	s := newTestStore(time.Hour, &now)
	k := Key{7, "pressure"}
	var want []sample
	for i := range 1000 {
		ts := t0.Add(-24 * time.Hour).Add(time.Duration(i) * 61 * time.Second)
		v := math.Round(math.Sin(float64(i)/50)*1000) / 1000
		s.Append(k, ts, v)
		want = append(want, sample{ts.UnixMilli(), v})
	}
	got := collect(s, k, t0.Add(-48*time.Hour), t0.Add(time.Hour))
	if !slices.Equal(got, want) {
		t.Fatalf("got %d readings, want %d; first diff at %d", len(got), len(want), firstDiff(got, want))
	}
	lt, lv, ok := s.Last(k)
	if !ok || !lt.Equal(time.UnixMilli(want[len(want)-1].t)) || lv != want[len(want)-1].v {
		t.Fatalf("Last = %v %v %v", lt, lv, ok)
	}
	if _, _, ok := s.Last(Key{8, "pressure"}); ok {
		t.Fatal("Last of an unknown key")
	}
}

func firstDiff(a, b []sample) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestAppendOutOfOrderAndDuplicates(t *testing.T) {
	now := t0
	s := newTestStore(time.Hour, &now)
	r := rand.New(rand.NewPCG(7, 8))
	m := model{}
	k := Key{1, "level"}
	start := t0.Add(-10 * 24 * time.Hour)
	// Mostly in order, with late readings both inside the open chunk and far back in
	// closed ones, and duplicates that must replace.
	for i := range 20000 {
		ts := start.Add(time.Duration(i) * 30 * time.Second)
		switch r.IntN(20) {
		case 0: // a little late, usually still in the open chunk
			ts = ts.Add(-time.Duration(r.IntN(600)) * time.Second)
		case 1: // hours late, in a closed chunk
			ts = ts.Add(-time.Duration(r.IntN(48*3600)) * time.Second)
		case 2: // a duplicate of an earlier reading
			ts = start.Add(time.Duration(r.IntN(i+1)) * 30 * time.Second)
		}
		if ts.Before(start) {
			ts = start
		}
		ts = ts.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		v := float64(r.IntN(10000)) / 100
		s.Append(k, ts, v)
		m.put(k, ts, v)
	}
	from, to := start.Add(-time.Hour), t0
	want := m.sorted(k, from.UnixMilli(), to.UnixMilli())
	got := collect(s, k, from, to)
	if !slices.Equal(got, want) {
		t.Fatalf("got %d readings, want %d; first diff at %d", len(got), len(want), firstDiff(got, want))
	}
	lt, lv, _ := s.Last(k)
	if w := want[len(want)-1]; lt.UnixMilli() != w.t || lv != w.v {
		t.Fatalf("Last = %v %v, want %v", lt, lv, w)
	}
}

func TestAppendSameTimestampIsIdempotent(t *testing.T) {
	now := t0
	s := newTestStore(time.Hour, &now)
	k := Key{2, "flow"}
	ts := t0.Add(-3 * time.Hour)
	for _, v := range []float64{1, 2, 3} {
		s.Append(k, ts, v)
	}
	s.Append(k, t0.Add(-time.Minute), 9) // closes the chunk holding ts
	s.Append(k, ts, 4)                   // replaces inside a closed chunk
	s.Append(k, ts, 4)
	got := collect(s, k, t0.Add(-time.Hour*24), t0)
	want := []sample{{ts.UnixMilli(), 4}, {t0.Add(-time.Minute).UnixMilli(), 9}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRetention(t *testing.T) {
	now := t0
	s := New(Options{Retention: 48 * time.Hour, ChunkSpan: time.Hour, Now: func() time.Time { return now }})
	k := Key{3, "strain"}
	s.Append(k, t0.Add(-49*time.Hour), 1) // too old
	if s.Len() != 0 {
		t.Fatal("a reading older than the retention made a series")
	}
	for i := range 48 * 60 {
		s.Append(k, t0.Add(-48*time.Hour).Add(time.Duration(i)*time.Minute), float64(i))
	}
	bytesBefore := s.Bytes()
	now = t0.Add(24 * time.Hour)
	s.Prune(now)
	got := collect(s, k, t0.Add(-100*time.Hour), now)
	// Whole chunks go: every reading inside the retention stays, and what stays
	// before it is less than a chunk.
	cutoff := now.Add(-48 * time.Hour)
	if len(got) == 0 || got[0].t < cutoff.Add(-maxChunkWindows*time.Hour).UnixMilli() {
		t.Fatalf("after prune the oldest reading is %v", time.UnixMilli(got[0].t))
	}
	kept := 0
	for _, p := range got {
		if p.t >= cutoff.UnixMilli() {
			kept++
		}
	}
	if want := int(t0.Sub(cutoff) / time.Minute); kept != want {
		t.Fatalf("%d readings inside the retention, want %d", kept, want)
	}
	if s.Bytes() >= bytesBefore {
		t.Fatalf("Bytes %d after prune, %d before", s.Bytes(), bytesBefore)
	}
	// The open chunk was sealed by Prune since its window ended.
	if q := s.Query(k, t0.Add(-time.Hour), t0, time.Hour); len(q) != 1 || q[0].Count != 60 {
		t.Fatalf("last hour after sealing: %+v", q)
	}
	// A late reading into the sealed window still lands.
	s.Append(k, t0.Add(-30*time.Minute).Add(time.Second), -1)
	if q := s.Query(k, t0.Add(-time.Hour), t0, time.Hour); len(q) != 1 || q[0].Count != 61 || q[0].Min != -1 {
		t.Fatalf("last hour after a late reading: %+v", q)
	}
	now = t0.Add(72 * time.Hour)
	s.Prune(now)
	if s.Len() != 0 || len(s.Keys()) != 0 {
		t.Fatalf("Len %d after everything expired", s.Len())
	}
}

func TestChunkSizes(t *testing.T) {
	now := t0
	s := newTestStore(2*time.Hour, &now)
	tests := []struct {
		name     string
		interval time.Duration
		min, max int // readings per closed chunk
	}{
		{"Every10s", 10 * time.Second, 720, 720},   // one window each
		{"Every60s", time.Minute, 120, 120},        // one window each
		{"Every300s", 300 * time.Second, 120, 120}, // five windows each
		{"Every3600s", time.Hour, 24, 24},          // capped at twelve windows
		{"Every7h", 7 * time.Hour, 3, 4},           // what falls within 24 h
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := Key{uint64(i), "x"}
			start := t0.Add(-20 * 24 * time.Hour)
			for ts := start; ts.Before(t0); ts = ts.Add(tt.interval) {
				s.Append(k, ts, 1)
			}
			sh := s.shard(k)
			se := sh.m[k]
			for j, c := range se.closed[:len(se.closed)-1] { // the last may be cut by the 20 days
				if n := c.points(); n < tt.min || n > tt.max {
					t.Fatalf("chunk %d holds %d readings, want %d to %d", j, n, tt.min, tt.max)
				}
			}
		})
	}
}

func TestKeysAndInterning(t *testing.T) {
	now := t0
	s := newTestStore(time.Hour, &now)
	for _, k := range []Key{{2, "b"}, {1, "z"}, {1, "a"}, {2, "b"}} {
		m := string([]byte(k.Metric)) // a fresh string each time, as a decoder makes
		s.Append(Key{k.Sensor, m}, t0, 1)
	}
	want := []Key{{1, "a"}, {1, "z"}, {2, "b"}}
	if got := s.Keys(); !slices.Equal(got, want) {
		t.Fatalf("Keys = %v, want %v", got, want)
	}
	if s.Len() != 3 {
		t.Fatalf("Len = %d", s.Len())
	}
	if len(s.intern) != 3 {
		t.Fatalf("%d interned metrics", len(s.intern))
	}
}

func TestConcurrent(t *testing.T) {
	now := t0
	s := newTestStore(10*time.Minute, &now)
	const writers, sensors, readings = 4, 50, 400
	var wg, writing sync.WaitGroup
	for w := range writers {
		writing.Go(func() {
			for i := range readings {
				for sn := range sensors {
					k := Key{uint64(sn), fmt.Sprintf("m%d", w%2)}
					// Writers 0 and 2 share keys, and so do 1 and 3: same
					// timestamps, same values, so the result is well defined.
					s.Append(k, t0.Add(-time.Duration(readings-i)*time.Minute), float64(i))
				}
			}
		})
	}
	done := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				for sn := range sensors {
					k := Key{uint64(sn), "m0"}
					bs := s.Query(k, t0.Add(-readings*time.Minute), t0, 7*time.Minute)
					for _, b := range bs {
						if b.Count == 0 || b.Min > b.Max {
							panic(fmt.Sprintf("bad bucket %+v", b))
						}
					}
					s.Last(k)
				}
				s.Bytes()
				s.Prune(now)
			}
		})
	}
	// The readers read for as long as the writers write.
	writing.Wait()
	close(done)
	wg.Wait()
	if s.Len() != 2*sensors {
		t.Fatalf("Len = %d", s.Len())
	}
	for _, k := range s.Keys() {
		bs := s.Query(k, t0.Add(-24*time.Hour), t0, 24*time.Hour)
		if len(bs) != 1 || bs[0].Count != readings || bs[0].Min != 0 || bs[0].Max != readings-1 {
			t.Fatalf("%v: %+v", k, bs)
		}
	}
}
