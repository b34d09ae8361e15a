package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// entry is one replayed record.
type entry struct {
	lsn uint64
	rec string
}

func openLog(t *testing.T, dir string, o Options) *Log {
	t.Helper()
	l, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func replayAll(t *testing.T, l *Log, from uint64) []entry {
	t.Helper()
	var got []entry
	if err := l.Replay(from, func(lsn uint64, rec []byte) error {
		got = append(got, entry{lsn, string(rec)})
		return nil
	}); err != nil {
		t.Fatalf("Replay(%d): %v", from, err)
	}
	return got
}

func appendStrings(t *testing.T, l *Log, recs ...string) uint64 {
	t.Helper()
	bs := make([][]byte, len(recs))
	for i, r := range recs {
		bs[i] = []byte(r)
	}
	lsn, err := l.Append(context.Background(), bs...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return lsn
}

// fill appends n batches of size records, numbered from 1, and returns what it appended.
func fill(t *testing.T, l *Log, n, size int) []entry {
	t.Helper()
	var want []entry
	for b := range n {
		recs := make([]string, size)
		for i := range recs {
			recs[i] = fmt.Sprintf("batch %d record %d %s", b, i, bytes.Repeat([]byte{'x'}, (b*7+i)%40))
		}
		lsn := appendStrings(t, l, recs...)
		for i, r := range recs {
			want = append(want, entry{lsn + uint64(i), r})
		}
	}
	return want
}

func checkEntries(t *testing.T, got, want []entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil || len(segs) == 0 {
		t.Fatalf("listSegments: %v, %d segments", err, len(segs))
	}
	return segs[len(segs)-1].path
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	if lsn, err := l.Append(context.Background()); lsn != 0 || err != nil {
		t.Fatalf("empty Append = %d, %v", lsn, err)
	}
	var want []entry
	for _, batch := range [][]string{{"a"}, {"", "b", "cc"}, {string(bytes.Repeat([]byte{0xff}, 5000))}} {
		lsn := appendStrings(t, l, batch...)
		for i, r := range batch {
			want = append(want, entry{lsn + uint64(i), r})
		}
	}
	if want[0].lsn != 1 || want[len(want)-1].lsn != 5 {
		t.Fatalf("LSNs %d..%d, want 1..5", want[0].lsn, want[len(want)-1].lsn)
	}
	checkEntries(t, replayAll(t, l, 0), want)
	checkEntries(t, replayAll(t, l, 3), want[2:])
	if got := l.LastLSN(); got != 5 {
		t.Fatalf("LastLSN = %d, want 5", got)
	}
	st := l.Stats()
	if st.Appends != 3 || st.Records != 5 || st.Syncs != 3 {
		t.Fatalf("Stats = %+v", st)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, dir, Options{})
	checkEntries(t, replayAll(t, l, 1), want)
	if lsn := appendStrings(t, l, "after reopen"); lsn != 6 {
		t.Fatalf("LSN after reopen = %d, want 6", lsn)
	}
}

func TestConcurrentAppend(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	const workers, appends = 16, 40
	var mu sync.Mutex
	want := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for a := range appends {
				recs := make([]string, 1+rng.IntN(20))
				for i := range recs {
					recs[i] = fmt.Sprintf("w%d a%d r%d", w, a, i)
				}
				bs := make([][]byte, len(recs))
				for i := range recs {
					bs[i] = []byte(recs[i])
				}
				lsn, err := l.Append(context.Background(), bs...)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, r := range recs {
					if old, dup := want[lsn+uint64(i)]; dup {
						t.Errorf("LSN %d given to %q and %q", lsn+uint64(i), old, r)
					}
					want[lsn+uint64(i)] = r
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := replayAll(t, l, 1)
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, appended %d", len(got), len(want))
	}
	for i, e := range got {
		if e.lsn != uint64(i+1) || want[e.lsn] != e.rec {
			t.Fatalf("record %d: got %+v, want lsn %d %q", i, e, i+1, want[e.lsn])
		}
	}
	if st := l.Stats(); st.Syncs >= st.Appends {
		t.Logf("no group commit happened: %+v", st)
	} else {
		t.Logf("%d appends in %d fsyncs", st.Appends, st.Syncs)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 4096})
	want := fill(t, l, 150, 7)
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 10 {
		t.Fatalf("%d segments, want many", len(segs))
	}
	for i, s := range segs {
		st, err := os.Stat(s.path)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(segs)-1 && st.Size() > 4096 {
			t.Errorf("%s: %d bytes, over the segment size", s.path, st.Size())
		}
	}
	check := func(l *Log) {
		t.Helper()
		for _, from := range []uint64{0, 1, 2, segs[3].first - 1, segs[3].first, segs[3].first + 1, uint64(len(want)), uint64(len(want)) + 1} {
			checkEntries(t, replayAll(t, l, from), want[min(max(from, 1)-1, uint64(len(want))):])
		}
	}
	check(l)
	// Replay stops at the callback's error and returns it as it is.
	stop := errors.New("stop")
	n := 0
	if err := l.Replay(1, func(uint64, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("Replay with failing callback = %v after %d calls", err, n)
	}
	l.Close()
	l = openLog(t, dir, Options{SegmentSize: 4096})
	check(l)
	want = append(want, entry{appendStrings(t, l, "next"), "next"})
	checkEntries(t, replayAll(t, l, 1), want)
}

func TestTornTail(t *testing.T) {
	tests := []struct {
		name string
		tail func(next uint64) []byte // bytes a crash left after the acknowledged ones
	}{
		{"PartialHeader", func(next uint64) []byte { return appendRecord(nil, next, 0, true, []byte("lost"))[:7] }},
		{"PartialPayload", func(next uint64) []byte { return appendRecord(nil, next, 0, true, []byte("lost record"))[:25] }},
		{"Zeros", func(uint64) []byte { return make([]byte, 4096) }},
		{"Garbage", func(uint64) []byte {
			rng := rand.New(rand.NewPCG(1, 2))
			b := make([]byte, 300)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		}},
		{"SmallLengthGarbage", func(uint64) []byte {
			return []byte{1, 2, 3, 4, 5, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 'e'}
		}},
		{"HoleInLastWrite", func(next uint64) []byte {
			// A whole write of five records reached the file except for a
			// damaged second record, as a power loss can leave it.
			var b []byte
			for i := range uint64(5) {
				b = appendRecord(b, next+i, uint32(i), i == 4, []byte(fmt.Sprintf("lost %d", i)))
			}
			b[headerSize+6+headerSize+3] ^= 0x40
			return b
		}},
		{"WriteCutBetweenRecords", func(next uint64) []byte {
			// Two whole records of a three-record write: a write cut short.
			b := appendRecord(nil, next, 0, false, []byte("lost 0"))
			return appendRecord(b, next+1, 1, false, []byte("lost 1"))
		}},
		{"BadChecksumAtEnd", func(next uint64) []byte {
			b := appendRecord(nil, next, 0, true, []byte("lost"))
			b[len(b)-1] ^= 1
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, Options{SegmentSize: 8192})
			want := fill(t, l, 20, 5)
			next := l.LastLSN() + 1
			l.Close()
			path := lastSegment(t, dir)
			before, _ := os.ReadFile(path)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(tt.tail(next)); err != nil {
				t.Fatal(err)
			}
			f.Close()

			var logs logBuffer
			l = openLog(t, dir, Options{SegmentSize: 8192, Log: logs.logger()})
			if want := fmt.Sprintf("bytes=%d", len(tt.tail(next))); !logs.has("WARN", want) {
				t.Errorf("no WARN with %s among:\n%s", want, logs.String())
			}
			if r := l.Report(); r.Damaged() != 0 || r.Segments[len(r.Segments)-1].TornBytes != int64(len(tt.tail(next))) {
				t.Errorf("Report = %+v, want no damage and the torn bytes", r)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Fatalf("segment after recovery: %d bytes, want the %d intact ones", len(after), len(before))
			}
			checkEntries(t, replayAll(t, l, 1), want)
			lsn := appendStrings(t, l, "after crash")
			if lsn != next {
				t.Fatalf("LSN after recovery = %d, want %d", lsn, next)
			}
			want = append(want, entry{lsn, "after crash"})
			l.Close()
			l = openLog(t, dir, Options{SegmentSize: 8192})
			checkEntries(t, replayAll(t, l, 1), want)
		})
	}
}

func TestTruncate(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 2048})
	want := fill(t, l, 40, 5)
	segs, _ := listSegments(dir)
	before := segs[4].first + 3
	if err := l.Truncate(before); err != nil {
		t.Fatal(err)
	}
	left, _ := listSegments(dir)
	if len(left) != len(segs)-4 || left[0].first != segs[4].first {
		t.Fatalf("after Truncate(%d): %d segments from %d, want %d from %d", before, len(left), left[0].first, len(segs)-4, segs[4].first)
	}
	if got := l.FirstLSN(); got != segs[4].first {
		t.Fatalf("FirstLSN = %d, want %d", got, segs[4].first)
	}
	if err := l.Replay(1, func(uint64, []byte) error { return nil }); !errors.Is(err, ErrTruncated) {
		t.Fatalf("Replay(1) after Truncate = %v, want ErrTruncated", err)
	}
	checkEntries(t, replayAll(t, l, before), want[before-1:])
	checkEntries(t, replayAll(t, l, l.FirstLSN()), want[l.FirstLSN()-1:])

	// Truncating everything keeps the active segment and the LSNs going.
	if err := l.Truncate(1 << 62); err != nil {
		t.Fatal(err)
	}
	if left, _ := listSegments(dir); len(left) != 1 {
		t.Fatalf("%d segments left, want the active one", len(left))
	}
	lsn := appendStrings(t, l, "after truncate")
	if lsn != uint64(len(want))+1 {
		t.Fatalf("LSN after Truncate = %d, want %d", lsn, len(want)+1)
	}
	first := l.FirstLSN()
	l.Close()
	l = openLog(t, dir, Options{SegmentSize: 2048})
	want = append(want, entry{lsn, "after truncate"})
	checkEntries(t, replayAll(t, l, first), want[first-1:])
}

func TestClosed(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{NoSync: true})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append = %v, want ErrClosed", err)
	}
	if err := l.Replay(1, func(uint64, []byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Replay = %v, want ErrClosed", err)
	}
	if err := l.Truncate(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Truncate = %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestAppendErrors(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{NoSync: true})
	t.Run("ErrTooLarge", func(t *testing.T) {
		_, err := l.Append(context.Background(), []byte("ok"), make([]byte, MaxRecordSize+1))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Append = %v, want ErrTooLarge", err)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := l.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Append = %v, want context.Canceled", err)
		}
	})
	if got := l.LastLSN(); got != 0 {
		t.Fatalf("LastLSN = %d after refused appends, want 0", got)
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	openLog(t, dir, Options{NoSync: true})
	if l, err := Open(dir, Options{NoSync: true}); err == nil {
		l.Close()
		t.Skip("this system does not lock the directory")
	} else {
		t.Log(err)
	}
}

func TestSegmentNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"00000000000000000010.wal", "00000000000000000002.wal", "LOCK", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := []uint64{}
	for _, s := range segs {
		got = append(got, s.first)
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i] < got[j] }) || len(got) != 2 || got[0] != 2 {
		t.Fatalf("segments %v, want [2 10]", got)
	}
	os.WriteFile(filepath.Join(dir, "x.wal"), nil, 0o644)
	if _, err := listSegments(dir); err == nil {
		t.Fatal("a badly named segment was accepted")
	}
}

func TestReplayWhileAppending(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{NoSync: true, SegmentSize: 4096})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			if _, err := l.Append(context.Background(), []byte(fmt.Sprintf("r%d", i)), []byte(fmt.Sprintf("s%d", i))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 20 {
		var n uint64
		if err := l.Replay(1, func(lsn uint64, rec []byte) error {
			n++
			want := fmt.Sprintf("r%d", (lsn-1)/2)
			if lsn%2 == 0 {
				want = fmt.Sprintf("s%d", (lsn-1)/2)
			}
			if lsn != n || string(rec) != want {
				return fmt.Errorf("lsn %d %q, want lsn %d %q", lsn, rec, n, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n%2 != 0 {
			t.Fatalf("replay saw half an append: %d records", n)
		}
	}
	<-done
}

func TestEmptyLastSegment(t *testing.T) {
	// A crash right after a new segment was created leaves it empty.
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 1024})
	want := fill(t, l, 20, 3)
	next := l.LastLSN() + 1
	l.Close()
	if err := os.WriteFile(segmentPath(dir, next), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, Options{SegmentSize: 1024})
	checkEntries(t, replayAll(t, l, 1), want)
	if lsn := appendStrings(t, l, "next"); lsn != next {
		t.Fatalf("LSN = %d, want %d", lsn, next)
	}
}

// Appends queued one after another are written in that order, whichever
// waits first, and may share one fsync.
func TestEnqueueOrder(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	ctx := context.Background()
	var waits []func() (uint64, error)
	for _, r := range []string{"a", "b", "c"} {
		w, err := l.Enqueue(ctx, []byte(r))
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	var lsns []uint64
	for i := len(waits) - 1; i >= 0; i-- {
		lsn, err := waits[i]()
		if err != nil {
			t.Fatal(err)
		}
		lsns = append([]uint64{lsn}, lsns...)
	}
	if lsns[0] != 1 || lsns[1] != 2 || lsns[2] != 3 {
		t.Errorf("LSNs %v, want 1, 2, 3 in the order queued", lsns)
	}
	checkEntries(t, replayAll(t, l, 0), []entry{{1, "a"}, {2, "b"}, {3, "c"}})
	if w, err := l.Enqueue(ctx); err != nil {
		t.Fatal(err)
	} else if lsn, err := w(); lsn != 0 || err != nil {
		t.Errorf("an empty Enqueue waits to %d, %v", lsn, err)
	}
}
