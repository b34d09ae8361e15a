package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Options left at zero.
const (
	// DefaultSegmentSize is the size at which a new segment is started: 64 MiB.
	DefaultSegmentSize = 64 << 20
	// DefaultGroupWindow is how long a commit waits for concurrent appenders: 2 ms.
	DefaultGroupWindow = 2 * time.Millisecond
)

// Options tune a Log; the zero value is the production setting.
type Options struct {
	// SegmentSize is the size at which a new segment file is started (default
	// 64 MiB). A single write larger than it makes one larger segment.
	SegmentSize int64
	// GroupWindow is how long a commit waits for appenders that are on their way
	// once concurrent appends have been seen, so that they share one fsync
	// (default 2 ms; negative: never wait). A lone appender never waits.
	GroupWindow time.Duration
	// NoSync skips every fsync: records survive a crash of the process but not
	// of the machine. For tests that do not test durability.
	NoSync bool
}

func (o Options) withDefaults() Options {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.GroupWindow == 0 {
		o.GroupWindow = DefaultGroupWindow
	}
	return o
}

// Stats counts the work a Log has done since Open.
type Stats struct {
	Appends uint64 // Append calls that succeeded
	Records uint64 // records those calls appended
	Writes  uint64 // writes to segment files, each holding one or more Appends
	Syncs   uint64 // fsyncs of segment files
	Bytes   uint64 // bytes written to segment files
}

// Log is a write-ahead log in a directory. Its methods are safe for concurrent use.
type Log struct {
	dir  string
	opts Options
	lock *os.File

	// Owned by the commit goroutine.
	f       *os.File
	size    int64  // bytes in the active segment
	next    uint64 // LSN of the next record
	buf     []byte
	failure error // sticky: set once a write or fsync fails

	mu      sync.Mutex // guards the fields below
	segs    []segment  // oldest first; the last one is active
	durable int64      // bytes of the active segment written and fsynced
	last    uint64     // LSN of the last durable record, 0 if none

	closeMu sync.RWMutex // held for reading while sending on reqs
	closed  bool
	reqs    chan *request
	exited  chan struct{}

	// inflight counts requests between Append's decision to send and the commit
	// that finishes them; the commit goroutine waits for those it has not seen.
	inflight atomic.Int64

	appends, records, writes, syncs, bytes atomic.Uint64
}

// request is one Append waiting for its commit.
type request struct {
	recs  [][]byte
	first uint64     // LSN of recs[0], set by the commit
	done  chan error // buffered: the commit never blocks on it
}

// Open opens the log in dir, creating the directory and a first segment if
// needed. It cuts off a write torn by a crash at the end of the last segment and
// returns a *CorruptError if data that had been acknowledged is damaged there.
// Older segments are checked as Replay reads them.
func Open(dir string, o Options) (*Log, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	l := &Log{dir: dir, opts: o, lock: lock, reqs: make(chan *request, 64), exited: make(chan struct{})}
	if err := l.recover(); err != nil {
		if l.f != nil {
			l.f.Close()
		}
		lock.Close()
		return nil, err
	}
	go l.run()
	return l, nil
}

// recover finds the segments, repairs the last one and positions the log at its end.
func (l *Log) recover() error {
	segs, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		f, err := l.createSegment(1)
		if err != nil {
			return err
		}
		l.f, l.segs, l.next = f, []segment{{first: 1, path: segmentPath(l.dir, 1)}}, 1
		return nil
	}
	seg := segs[len(segs)-1]
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", seg.path, err)
	}
	l.f = f
	end, next, err := recoverSegment(f, seg)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", seg.path, err)
	}
	if st.Size() > end {
		// A write torn by a crash: it was never acknowledged.
		if err := f.Truncate(end); err != nil {
			return fmt.Errorf("wal: cut torn write from %s at offset %d: %w", seg.path, end, err)
		}
		if !l.opts.NoSync {
			if err := syncData(f); err != nil {
				return fmt.Errorf("wal: cut torn write from %s: fsync: %w", seg.path, err)
			}
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("wal: open %s: %w", seg.path, err)
	}
	l.segs, l.size, l.durable, l.next, l.last = segs, end, end, next, next-1
	return nil
}

// createSegment creates the segment starting at first and makes its name durable.
func (l *Log) createSegment(first uint64) (*os.File, error) {
	path := segmentPath(l.dir, first)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	if !l.opts.NoSync {
		if err := syncDir(l.dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("wal: create segment %s: fsync directory: %w", path, err)
		}
	}
	return f, nil
}

// Append adds records to the log and returns the LSN of the first; record i has
// LSN lsn+i. It returns once the records are written and fsynced, sharing the
// write and the fsync with concurrent appenders. After a crash an Append's
// records are in the log all or none. The log reads the records until
// Append returns, so once they are queued Append waits for the commit even if ctx
// is cancelled. Appending no records returns 0 and does nothing.
func (l *Log) Append(ctx context.Context, records ...[]byte) (lsn uint64, err error) {
	wait, err := l.Enqueue(ctx, records...)
	if err != nil {
		return 0, err
	}
	return wait()
}

// Enqueue queues records to be appended and returns at once: appends are
// written in the order they were queued, so a caller that queues under its
// own lock fixes their order without holding the lock through the fsync.
// wait returns, as Append does, once the records are written and fsynced;
// it must be called. Queueing no records gives a wait that returns 0.
func (l *Log) Enqueue(ctx context.Context, records ...[]byte) (wait func() (lsn uint64, err error), err error) {
	if len(records) == 0 {
		return func() (uint64, error) { return 0, nil }, nil
	}
	for i, rec := range records {
		if len(rec) > MaxRecordSize {
			return nil, fmt.Errorf("wal: append: record %d of %d bytes: %w", i, len(rec), ErrTooLarge)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &request{recs: records, done: make(chan error, 1)}
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		return nil, ErrClosed
	}
	l.inflight.Add(1)
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		l.inflight.Add(-1)
		l.closeMu.RUnlock()
		return nil, ctx.Err()
	}
	l.closeMu.RUnlock()
	return func() (uint64, error) {
		if err := <-r.done; err != nil {
			return 0, err
		}
		return r.first, nil
	}, nil
}

// run is the commit goroutine: it takes the queued appends, writes them as one,
// fsyncs, and answers them, until Close closes the queue.
func (l *Log) run() {
	defer close(l.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var group []*request
	lastGroup := 1
	for {
		r, ok := <-l.reqs
		if !ok {
			return
		}
		group = l.gather(append(group[:0], r), lastGroup, timer)
		l.commit(group)
		lastGroup = len(group)
		clear(group)
	}
}

// gather adds to group the appends queued now, and, while appenders are known
// or expected to be on their way, those that arrive within the group window.
// Appenders are expected when the previous commit held several: they are
// usually the same goroutines, back with their next batch.
func (l *Log) gather(group []*request, lastGroup int, timer *time.Timer) []*request {
	waiting := false
	defer func() {
		if waiting {
			timer.Stop()
		}
	}()
	for {
		select {
		case r, ok := <-l.reqs:
			if !ok {
				return group
			}
			group = append(group, r)
			continue
		default:
		}
		want := max(int(l.inflight.Load()), lastGroup)
		if l.opts.GroupWindow < 0 || len(group) >= want {
			return group
		}
		if !waiting {
			waiting = true
			timer.Reset(l.opts.GroupWindow)
		}
		select {
		case r, ok := <-l.reqs:
			if !ok {
				return group
			}
			group = append(group, r)
		case <-timer.C:
			return group
		}
	}
}

// commit writes a group of appends as one write, fsyncs it and answers them.
func (l *Log) commit(group []*request) {
	err := l.failure
	if err == nil {
		err = l.write(group)
		if err != nil {
			l.failure = fmt.Errorf("%w: %w", ErrFailed, err)
			err = l.failure
		}
	}
	for _, r := range group {
		l.inflight.Add(-1)
		r.done <- err
	}
}

// write encodes the group, starting a new segment first if it would overflow
// the active one, writes and fsyncs it, and publishes the new durable end.
func (l *Log) write(group []*request) error {
	first := l.next
	buf := l.buf[:0]
	n := 0
	for _, r := range group {
		n += len(r.recs)
	}
	last := first + uint64(n) - 1
	for _, r := range group {
		r.first = l.next
		for _, rec := range r.recs {
			buf = appendRecord(buf, l.next, uint32(l.next-first), l.next == last, rec)
			l.next++
		}
	}
	// Keep the buffer for the next group unless one exceptional group made it huge.
	if cap(buf) <= 16<<20 {
		l.buf = buf
	} else {
		l.buf = nil
	}

	if l.size > 0 && l.size+int64(len(buf)) > l.opts.SegmentSize {
		if err := l.rotate(first); err != nil {
			return err
		}
	}
	if _, err := l.f.Write(buf); err != nil {
		return fmt.Errorf("wal: write %s: %w", l.f.Name(), err)
	}
	l.size += int64(len(buf))
	if !l.opts.NoSync {
		if err := syncData(l.f); err != nil {
			return fmt.Errorf("wal: fsync %s: %w", l.f.Name(), err)
		}
		l.syncs.Add(1)
	}
	l.mu.Lock()
	l.durable, l.last = l.size, l.next-1
	l.mu.Unlock()
	l.writes.Add(1)
	l.bytes.Add(uint64(len(buf)))
	l.appends.Add(uint64(len(group)))
	l.records.Add(uint64(n))
	return nil
}

// rotate closes the active segment, every byte of which is already fsynced, and
// starts a new one at LSN first.
func (l *Log) rotate(first uint64) error {
	f, err := l.createSegment(first)
	if err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		f.Close()
		return fmt.Errorf("wal: close %s: %w", l.f.Name(), err)
	}
	l.f, l.size = f, 0
	l.mu.Lock()
	l.segs = append(l.segs, segment{first: first, path: f.Name()})
	l.durable = 0
	l.mu.Unlock()
	return nil
}

// Close waits for the appends already queued, then closes the log. Appends that
// come later return ErrClosed.
func (l *Log) Close() error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return ErrClosed
	}
	l.closed = true
	close(l.reqs)
	l.closeMu.Unlock()
	<-l.exited
	err := l.f.Close()
	if err != nil {
		err = fmt.Errorf("wal: close %s: %w", l.f.Name(), err)
	}
	return errors.Join(err, l.lock.Close())
}

// isClosed reports whether Close has been called.
func (l *Log) isClosed() bool {
	l.closeMu.RLock()
	defer l.closeMu.RUnlock()
	return l.closed
}

// FirstLSN is the LSN of the first record the log may still hold: records below
// it have been removed by Truncate.
func (l *Log) FirstLSN() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.segs[0].first
}

// LastLSN is the LSN of the last durable record, or 0 if none was ever appended.
func (l *Log) LastLSN() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Stats returns the counts of work done since Open.
func (l *Log) Stats() Stats {
	return Stats{
		Appends: l.appends.Load(),
		Records: l.records.Load(),
		Writes:  l.writes.Load(),
		Syncs:   l.syncs.Load(),
		Bytes:   l.bytes.Load(),
	}
}
