package wal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// logBuffer collects what a Log logs, for tests to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// count counts the lines at level that contain every one of words.
func (b *logBuffer) count(level string, words ...string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.Contains(line, "level="+level) {
			continue
		}
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			n++
		}
	}
	return n
}

func (b *logBuffer) has(level string, words ...string) bool { return b.count(level, words...) > 0 }

// recordAt returns the LSN of the record of segment file b that holds byte
// off, decoding the file from its start.
func recordAt(t *testing.T, b []byte, first uint64, off int) uint64 {
	t.Helper()
	lsn := first
	for at := 0; ; lsn++ {
		_, _, n, err := decodeRecord(b[at:])
		if err != nil {
			t.Fatalf("decode at %d: %v", at, err)
		}
		if off < at+n {
			return lsn
		}
		at += n
	}
}

// flipFile flips one bit of byte off of a file.
func flipFile(t *testing.T, path string, off int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// without returns want without the entries with LSNs in [from, to).
func without(want []entry, from, to uint64) []entry {
	var out []entry
	for _, e := range want {
		if e.lsn < from || e.lsn >= to {
			out = append(out, e)
		}
	}
	return out
}

func TestQuarantine(t *testing.T) {
	t.Run("FlippedByteInMiddleSegment", func(t *testing.T) {
		dir := t.TempDir()
		o := Options{SegmentSize: 2048}
		l := openLog(t, dir, o)
		want := fill(t, l, 30, 5)
		l.Close()
		segs, _ := listSegments(dir)
		if len(segs) < 4 {
			t.Fatalf("%d segments, want at least 4", len(segs))
		}
		st, _ := os.Stat(segs[1].path)
		off := int(st.Size() / 2)
		orig, _ := os.ReadFile(segs[1].path)
		lsn := recordAt(t, orig, segs[1].first, off)
		damaged := flipFile(t, segs[1].path, off)
		const lost = 1 // the damaged record; those after it are read on

		var logs logBuffer
		o.Log = logs.logger()
		l = openLog(t, dir, o)
		checkEntries(t, replayAll(t, l, 1), without(want, lsn, lsn+1))
		rep := l.Report()
		s := rep.Segments[1]
		if kept := segs[2].first - segs[1].first - lost; s.Damage == nil || s.Damage.LSN != lsn || s.Lost != lost || s.Records != kept {
			t.Fatalf("segment report %+v, want damage at lsn %d, %d lost, %d kept", s, lsn, lost, kept)
		}
		q := filepath.Join(dir, QuarantineDir, filepath.Base(segs[1].path))
		if s.Quarantined != q {
			t.Fatalf("quarantined as %q, want %q", s.Quarantined, q)
		}
		if b, _ := os.ReadFile(q); !bytes.Equal(b, damaged) {
			t.Fatal("the quarantined file is not the damaged original")
		}
		if !logs.has("WARN", "damaged", filepath.Base(segs[1].path), fmt.Sprintf("records_lost=%d", lost)) {
			t.Fatalf("no WARN naming the segment and %d records lost:\n%s", lost, logs.String())
		}
		if st := l.Status(); len(st.Quarantined) != 1 || st.Quarantined[0].Lost != lost {
			t.Fatalf("Status = %+v, want the quarantined segment", st)
		}

		// The log goes on, and the gap stays accepted after a restart.
		next := uint64(len(want)) + 1
		if got := appendStrings(t, l, "after"); got != next {
			t.Fatalf("LSN after quarantine = %d, want %d", got, next)
		}
		want = append(without(want, lsn, lsn+1), entry{next, "after"})
		l.Close()
		logs = logBuffer{}
		o.Log = logs.logger()
		l = openLog(t, dir, o)
		checkEntries(t, replayAll(t, l, 1), want)
		if logs.has("WARN") {
			t.Errorf("a second start warned again:\n%s", logs.String())
		}
		if st := l.Status(); len(st.Quarantined) != 1 || st.Quarantined[0].Lost != lost || st.Quarantined[0].Quarantined != q {
			t.Fatalf("Status after restart = %+v, want the quarantined segment with %d lost", st, lost)
		}
	})
	t.Run("FlippedByteInLastSegment", func(t *testing.T) {
		dir := t.TempDir()
		l := openLog(t, dir, Options{})
		want := fill(t, l, 10, 10)
		l.Close()
		path := lastSegment(t, dir)
		b, _ := os.ReadFile(path)
		// Flip a byte of record 35's payload: 65 acknowledged records follow,
		// and are kept.
		off := 0
		for range 34 {
			_, _, n, _ := decodeRecord(b[off:])
			off += n
		}
		flipFile(t, path, off+headerSize+3)

		l = openLog(t, dir, Options{})
		checkEntries(t, replayAll(t, l, 1), without(want, 35, 36))
		r := l.Report().Segments[0]
		if r.Damage == nil || r.Damage.LSN != 35 || r.Damage.Offset != int64(off) || r.Lost != 1 || r.Records != 99 {
			t.Fatalf("report %+v, want damage at lsn 35, offset %d, 1 record lost, 99 kept", r, off)
		}
		// LSNs are never given twice: the next one follows the last acknowledged.
		if lsn := appendStrings(t, l, "next"); lsn != 101 {
			t.Fatalf("LSN after quarantine = %d, want 101", lsn)
		}
	})
	t.Run("OlderSegmentCut", func(t *testing.T) {
		dir := t.TempDir()
		l := openLog(t, dir, Options{SegmentSize: 2048})
		want := fill(t, l, 30, 5)
		l.Close()
		segs, _ := listSegments(dir)
		// Cut exactly one record off the end of the second segment.
		b, _ := os.ReadFile(segs[1].path)
		off := 0
		for {
			_, _, n, err := decodeRecord(b[off:])
			if err != nil {
				t.Fatal(err)
			}
			if off+n == len(b) {
				break
			}
			off += n
		}
		os.Truncate(segs[1].path, int64(off))

		l = openLog(t, dir, Options{SegmentSize: 2048})
		checkEntries(t, replayAll(t, l, 1), without(want, segs[2].first-1, segs[2].first))
		if r := l.Report().Segments[1]; r.Damage == nil || r.Lost != 1 {
			t.Fatalf("report %+v, want one record lost", r)
		}
	})
	t.Run("DamagedSinceOpen", func(t *testing.T) {
		// Damage that comes after Open is Replay's to report, not to hide.
		dir := t.TempDir()
		l := openLog(t, dir, Options{SegmentSize: 2048})
		fill(t, l, 30, 5)
		segs, _ := listSegments(dir)
		st, _ := os.Stat(segs[1].path)
		flipFile(t, segs[1].path, int(st.Size()/2))
		err := l.Replay(1, func(uint64, []byte) error { return nil })
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Segment != segs[1].path {
			t.Fatalf("Replay = %v, want a *CorruptError in %s", err, segs[1].path)
		}
	})
}

func TestCheckRepair(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 2048})
	want := fill(t, l, 30, 5)
	if _, err := Check(dir); err == nil {
		t.Error("Check ran while the log was open")
	}
	if _, err := Repair(dir, Options{}); err == nil {
		t.Error("Repair ran while the log was open")
	}
	l.Close()

	r, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if records, lost, _ := r.Totals(); r.Damaged() != 0 || records != uint64(len(want)) || lost != 0 {
		t.Fatalf("Check of an intact log: %d damaged, %d records, %d lost", r.Damaged(), records, lost)
	}
	segs, _ := listSegments(dir)
	st, _ := os.Stat(segs[2].path)
	damaged := flipFile(t, segs[2].path, int(st.Size()/3))
	r, err = Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Damaged() != 1 || r.Segments[2].Damage == nil {
		t.Fatalf("Check found %d damaged segments, want the third", r.Damaged())
	}
	if b, _ := os.ReadFile(segs[2].path); !bytes.Equal(b, damaged) {
		t.Fatal("Check changed the segment")
	}

	r, err = Repair(dir, Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Segments[2].Quarantined == "" {
		t.Fatalf("Repair did not quarantine: %+v", r.Segments[2])
	}
	r, err = Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, lost, _ := r.Totals(); r.Damaged() != 0 || lost == 0 || r.Segments[2].Quarantined == "" {
		t.Fatalf("Check after Repair: %d damaged, %d lost, %+v", r.Damaged(), lost, r.Segments[2])
	}
	if _, err := Check(filepath.Join(dir, "nope")); err == nil {
		t.Error("Check of a missing directory succeeded")
	}
	if _, err := Repair(filepath.Join(dir, "nope"), Options{}); err == nil {
		t.Error("Repair of a missing directory succeeded")
	}
}

// recordsIn returns the LSNs of the records of segment file b (first LSN
// first) that overlap the bytes [from, to).
func recordsIn(t *testing.T, b []byte, first uint64, from, to int) map[uint64]bool {
	t.Helper()
	out := map[uint64]bool{}
	lsn := first
	for at := 0; at < len(b); lsn++ {
		_, _, n, err := decodeRecord(b[at:])
		if err != nil {
			t.Fatalf("decode at %d: %v", at, err)
		}
		if at < to && from < at+n {
			out[lsn] = true
		}
		at += n
	}
	return out
}

// Damage of several shapes, in a middle segment and in the last one: every
// record it touches is lost and counted, every other one replays, and the
// next start finds nothing new to warn of.
func TestQuarantineDamageShapes(t *testing.T) {
	shapes := []struct {
		name   string
		ranges func(size int) [][2]int // byte ranges to overwrite
	}{
		{"FirstHeader", func(int) [][2]int { return [][2]int{{2, 3}} }},
		{"TwoPlaces", func(size int) [][2]int { return [][2]int{{size / 4, size/4 + 1}, {size / 2, size/2 + 1}} }},
		{"ZeroedRun", func(size int) [][2]int { return [][2]int{{size / 3, size/3 + 300}} }},
		{"LengthField", func(size int) [][2]int { return [][2]int{{headerSize + 30 + 5, headerSize + 30 + 7}} }},
	}
	for _, last := range []bool{false, true} {
		for _, sh := range shapes {
			t.Run(fmt.Sprintf("%s/Last=%v", sh.name, last), func(t *testing.T) {
				dir := t.TempDir()
				o := Options{SegmentSize: 4096, Log: slog.New(slog.DiscardHandler)}
				l := openLog(t, dir, o)
				want := fill(t, l, 40, 4)
				l.Close()
				segs, _ := listSegments(dir)
				k := 1
				if last {
					// Damage the last segment, away from its last write.
					k = len(segs) - 1
				}
				orig, _ := os.ReadFile(segs[k].path)
				b := append([]byte(nil), orig...)
				lost := map[uint64]bool{}
				for _, r := range sh.ranges(len(b)) {
					for i := r[0]; i < r[1]; i++ {
						b[i] ^= 0xff
					}
					for lsn := range recordsIn(t, orig, segs[k].first, r[0], r[1]) {
						lost[lsn] = true
					}
				}
				if last {
					// The last write must stay whole for the damage to be
					// told from a torn write.
					lastLSN := want[len(want)-1].lsn
					if lost[lastLSN] {
						t.Skip("the damage reaches the last write")
					}
				}
				os.WriteFile(segs[k].path, b, 0o644)

				l2, err := Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				var kept []entry
				for _, e := range want {
					if !lost[e.lsn] {
						kept = append(kept, e)
					}
				}
				checkEntries(t, replayAll(t, l2, 1), kept)
				r := l2.Report().Segments[k]
				if r.Damage == nil || r.Lost != uint64(len(lost)) || r.Quarantined == "" {
					t.Fatalf("report %+v, want %d lost and a quarantine", r, len(lost))
				}
				next := appendStrings(t, l2, "after")
				if next != want[len(want)-1].lsn+1 {
					t.Fatalf("next LSN %d, want %d", next, want[len(want)-1].lsn+1)
				}
				l2.Close()
				var logs logBuffer
				o.Log = logs.logger()
				l3 := openLog(t, dir, o)
				checkEntries(t, replayAll(t, l3, 1), append(kept, entry{next, "after"}))
				if logs.has("WARN") {
					t.Fatalf("the second start warned:\n%s", logs.String())
				}
				if st := l3.Status(); len(st.Quarantined) != 1 || st.Quarantined[0].Lost != uint64(len(lost)) {
					t.Fatalf("status %+v, want %d lost", st, len(lost))
				}
			})
		}
	}
}
