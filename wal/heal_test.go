package wal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultSet fails the file operations it is told to, until cleared.
type faultSet struct {
	mu   sync.Mutex
	errs map[string]error
}

func (f *faultSet) set(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[string]error{}
	}
	f.errs[op] = err
}

func (f *faultSet) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = nil
}

func (f *faultSet) fail(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[op]
}

// waitHealthy waits, up to a deadline, for the log to write again.
func waitHealthy(t *testing.T, l *Log) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for l.Health() != nil {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("still unhealthy after 10 s: %v", l.Health())
		}
	}
}

func TestHeal(t *testing.T) {
	tests := []struct {
		name     string
		ops      []string
		err      error
		sentinel error
		state    string
	}{
		{"DiskFullOnWrite", []string{"write"}, syscall.ENOSPC, ErrNoSpace, "no_space"},
		{"QuotaOnWrite", []string{"write"}, syscall.EDQUOT, ErrNoSpace, "no_space"},
		{"IOErrorOnFsync", []string{"sync"}, syscall.EIO, ErrFailed, "failed"},
		{"DiskFullThenCutFails", []string{"write", "truncate"}, syscall.ENOSPC, ErrNoSpace, "no_space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var faults faultSet
			var logs logBuffer
			o := Options{SegmentSize: 2048, RetryInterval: 2 * time.Millisecond, Log: logs.logger(), faults: faults.fail}
			l := openLog(t, dir, o)
			want := fill(t, l, 10, 5)

			for _, op := range tt.ops {
				faults.set(op, tt.err)
			}
			for i := range 5 {
				_, err := l.Append(context.Background(), []byte(fmt.Sprintf("refused %d", i)))
				if !errors.Is(err, tt.sentinel) || !errors.Is(err, tt.err) {
					t.Fatalf("Append on a failing disk = %v, want %v wrapping %v", err, tt.sentinel, tt.err)
				}
			}
			if err := l.Health(); !errors.Is(err, tt.sentinel) {
				t.Fatalf("Health = %v, want %v", err, tt.sentinel)
			}
			if st := l.Status(); st.State() != tt.state {
				t.Fatalf("State = %q, want %q", st.State(), tt.state)
			}
			// Reads go on while writes are refused.
			checkEntries(t, replayAll(t, l, 1), want)
			if n := logs.count("WARN", "cannot write"); n != 1 {
				t.Fatalf("%d WARN lines for one failure, want 1:\n%s", n, logs.String())
			}

			faults.clear()
			waitHealthy(t, l)
			if n := logs.count("INFO", "writes again"); n != 1 {
				t.Fatalf("%d INFO lines on recovery, want 1:\n%s", n, logs.String())
			}
			// The refused appends gave no LSN and left nothing behind.
			more := fill(t, l, 20, 5)
			if more[0].lsn != 51 {
				t.Fatalf("first LSN after recovery = %d, want 51", more[0].lsn)
			}
			l.Close()
			l = openLog(t, dir, Options{SegmentSize: 2048})
			got := replayAll(t, l, 1)
			checkEntries(t, got, append(want, more...))
		})
	}
}

// A disk that fills while a new segment is started: the log goes on in
// the same segment once it can.
func TestHealDuringRotation(t *testing.T) {
	dir := t.TempDir()
	var faults faultSet
	o := Options{SegmentSize: 1024, RetryInterval: time.Millisecond, Log: (&logBuffer{}).logger(), faults: faults.fail}
	l := openLog(t, dir, o)
	var want []entry
	for i := range 200 {
		if i%7 == 3 {
			faults.set("write", syscall.ENOSPC)
		}
		rec := fmt.Sprintf("record %d %s", i, "padding padding padding padding")
		lsn, err := l.Append(context.Background(), []byte(rec))
		if err != nil {
			if !errors.Is(err, ErrNoSpace) {
				t.Fatal(err)
			}
			faults.clear()
			waitHealthy(t, l)
			continue
		}
		want = append(want, entry{lsn, rec})
	}
	segs, _ := listSegments(dir)
	if len(segs) < 5 {
		t.Fatalf("%d segments, want rotations", len(segs))
	}
	l.Close()
	l = openLog(t, dir, Options{SegmentSize: 1024})
	checkEntries(t, replayAll(t, l, 1), want)
	for i, e := range want {
		if e.lsn != uint64(i)+1 {
			t.Fatalf("entry %d has LSN %d, want %d", i, e.lsn, i+1)
		}
	}
}
