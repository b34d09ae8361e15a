package wal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for Options left at zero.
const (
	// DefaultSegmentSize is the size at which a new segment is started: 64 MiB.
	DefaultSegmentSize = 64 << 20
	// DefaultGroupWindow is how long a commit waits for concurrent appenders: 2 ms.
	DefaultGroupWindow = 2 * time.Millisecond
	// DefaultRetryInterval is how often a log that could not write tries again: 1 s.
	DefaultRetryInterval = time.Second
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
	// RetryInterval is how often a log that could not write (a full disk, an
	// I/O error) tries again by itself (default 1 s).
	RetryInterval time.Duration
	// Log is told of what the log repairs and of its state changes: a segment
	// quarantined, a torn write cut (WARN), appends refused and taken again
	// (WARN, INFO), once per change. Nil is slog.Default().
	Log *slog.Logger
	// OnCommit, if set, is told of every group of appends made durable,
	// from the commit goroutine: it must be quick and must not block.
	OnCommit func(Commit)

	// faults, in tests, fails file operations ("write", "sync", "truncate")
	// on demand.
	faults func(op string) error
}

func (o Options) withDefaults() Options {
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
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

// Commit is one group of appends written and fsynced together.
type Commit struct {
	Appends, Records, Bytes int
	// Write is the time the write took, Sync the fsync's (0 with NoSync).
	Write, Sync time.Duration
}

// Log is a write-ahead log in a directory. Its methods are safe for concurrent use.
type Log struct {
	dir  string
	opts Options
	lock *os.File

	// Owned by the commit goroutine.
	f     *os.File // the active segment; nil while a repair could not reopen it
	name  string   // the active segment's path
	size  int64    // bytes of the active segment written and fsynced
	next  uint64   // LSN of the next record
	buf   []byte
	fault error // why appends are refused; nil while the log writes
	dirty bool  // a failed write may have left bytes past size
	want  int   // bytes of the write that failed, for the probe

	mu      sync.Mutex // guards the fields below
	segs    []segment  // oldest first; the last one is active
	durable int64      // bytes of the active segment written and fsynced
	last    uint64     // LSN of the last durable record, 0 if none
	health  error      // fault, as Health tells it
	since   time.Time  // when health last changed
	opened  Report     // what Open found and repaired

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
// needed. It reads every segment: it cuts off a write torn by a crash at the
// end of the last one, and quarantines a segment whose acknowledged data is
// damaged (see Repair), so that the log opens on what is intact. Report tells
// what it found.
func Open(dir string, o Options) (*Log, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	l := &Log{dir: dir, opts: o, lock: lock, reqs: make(chan *request, 64), exited: make(chan struct{}), since: time.Now()}
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

// createSegment creates the segment starting at first and makes its name durable.
func (l *Log) createSegment(first uint64) (*os.File, error) {
	path := segmentPath(l.dir, first)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		// An empty file is what an earlier attempt at this same segment left
		// when the disk was full; anything else is not ours to overwrite.
		if st, serr := os.Stat(path); serr == nil && st.Size() == 0 {
			f, err = os.OpenFile(path, os.O_RDWR, 0)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	if !l.opts.NoSync {
		if err := syncDir(l.dir); err != nil {
			f.Close()
			os.Remove(path)
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
// fsyncs, and answers them, until Close closes the queue. While the log cannot
// write it refuses appends at once and probes every RetryInterval.
func (l *Log) run() {
	defer close(l.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	var group []*request
	lastGroup := 1
	for {
		var r *request
		ok := true
		if l.fault == nil {
			r, ok = <-l.reqs
		} else {
			select {
			case r, ok = <-l.reqs:
			case <-retry.C:
				if l.probe(); l.fault != nil {
					retry.Reset(l.opts.RetryInterval)
				}
				continue
			}
		}
		if !ok {
			return
		}
		if l.fault != nil {
			l.answer(r, l.fault)
			continue
		}
		group = l.gather(append(group[:0], r), lastGroup, timer)
		if l.commit(group); l.fault != nil {
			retry.Reset(l.opts.RetryInterval)
		}
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
	first := l.next
	err := l.write(group)
	if err != nil {
		// Nothing of the group is acknowledged, so its LSNs are not given.
		l.next = first
		l.failed(err, len(l.buf))
		err = l.fault
	}
	for _, r := range group {
		l.answer(r, err)
	}
}

// answer finishes one append.
func (l *Log) answer(r *request, err error) {
	l.inflight.Add(-1)
	r.done <- err
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
	l.buf = buf

	if l.size > 0 && l.size+int64(len(buf)) > l.opts.SegmentSize {
		if err := l.rotate(first); err != nil {
			return err
		}
	}
	// Past size until the fsync succeeds: a failure cuts back to size.
	l.dirty = true
	began := time.Now()
	if err := l.writeAt(buf, l.size); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	written := time.Now()
	if err := l.sync(); err != nil {
		return fmt.Errorf("wal: fsync %s: %w", l.name, err)
	}
	if l.opts.OnCommit != nil {
		var synced time.Duration
		if !l.opts.NoSync {
			synced = time.Since(written)
		}
		l.opts.OnCommit(Commit{Appends: len(group), Records: n, Bytes: len(buf), Write: written.Sub(began), Sync: synced})
	}
	l.dirty = false
	l.size += int64(len(buf))
	// Keep the buffer for the next group unless one exceptional group made it huge.
	if cap(buf) > 16<<20 {
		l.buf = nil
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

// writeAt writes b at off in the active segment.
func (l *Log) writeAt(b []byte, off int64) error {
	if l.opts.faults != nil {
		if err := l.opts.faults("write"); err != nil {
			// As a full disk does: part of the write lands, then it fails.
			l.f.WriteAt(b[:len(b)/2], off)
			return err
		}
	}
	_, err := l.f.WriteAt(b, off)
	return err
}

// sync fsyncs the active segment, unless the options say not to.
func (l *Log) sync() error {
	if l.opts.faults != nil {
		if err := l.opts.faults("sync"); err != nil {
			return err
		}
	}
	if l.opts.NoSync {
		return nil
	}
	if err := syncData(l.f); err != nil {
		return err
	}
	l.syncs.Add(1)
	return nil
}

// failed records that a write of n bytes failed with err: appends are refused
// until a probe finds the log writable again. The state change is logged once.
func (l *Log) failed(err error, n int) {
	sentinel := ErrFailed
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		sentinel = ErrNoSpace
	}
	was := l.fault
	l.fault = fmt.Errorf("%w: %w", sentinel, err)
	l.want = max(l.want, n)
	l.mu.Lock()
	l.health = l.fault
	if was == nil {
		l.since = time.Now()
	}
	l.mu.Unlock()
	if was == nil {
		l.opts.Log.Warn("journal cannot write: appends are refused until it can, tried again every "+l.opts.RetryInterval.String(),
			"dir", l.dir, "err", err)
	}
}

// probe tries whether the log can write again: it cuts what a failed write
// left past the last good offset, then writes and fsyncs as many bytes as the
// write that failed, past the end, and cuts them again. A crash in between
// leaves zeros that Open cuts as a torn write.
func (l *Log) probe() {
	if err := l.repair(); err != nil {
		l.failed(err, 0)
		return
	}
	zeros := make([]byte, min(max(l.want, 4096), 16<<20))
	l.dirty = true
	if err := l.writeAt(zeros, l.size); err != nil {
		l.failed(fmt.Errorf("wal: probe: %w", err), 0)
		return
	}
	if err := l.sync(); err != nil {
		l.failed(fmt.Errorf("wal: probe %s: fsync: %w", l.name, err), 0)
		return
	}
	if err := l.repair(); err != nil {
		l.failed(err, 0)
		return
	}
	l.opts.Log.Info("journal writes again: appends are taken", "dir", l.dir, "after", time.Since(l.sinceTime()).Round(time.Millisecond))
	l.fault, l.want = nil, 0
	l.mu.Lock()
	l.health, l.since = nil, time.Now()
	l.mu.Unlock()
}

// repair reopens the active segment (a failed fsync may poison the old
// descriptor) and cuts it back to the last good offset, durably.
func (l *Log) repair() error {
	if !l.dirty && l.f != nil {
		return nil
	}
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	f, err := os.OpenFile(l.name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: reopen %s: %w", l.name, err)
	}
	l.f = f
	if l.opts.faults != nil {
		if err := l.opts.faults("truncate"); err != nil {
			return fmt.Errorf("wal: cut %s back to %d bytes: %w", l.name, l.size, err)
		}
	}
	if err := f.Truncate(l.size); err != nil {
		return fmt.Errorf("wal: cut %s back to %d bytes: %w", l.name, l.size, err)
	}
	if err := l.sync(); err != nil {
		return fmt.Errorf("wal: cut %s back to %d bytes: fsync: %w", l.name, l.size, err)
	}
	l.dirty = false
	return nil
}

func (l *Log) sinceTime() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.since
}

// rotate starts a new segment at LSN first and closes the active one, every
// byte of which is already fsynced.
func (l *Log) rotate(first uint64) error {
	f, err := l.createSegment(first)
	if err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		// Its data is durable already; only the descriptor is lost.
		l.opts.Log.Warn("journal: close a full segment", "segment", l.name, "err", err)
	}
	l.f, l.name, l.size = f, f.Name(), 0
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
	var err error
	if l.f != nil {
		if err = l.f.Close(); err != nil {
			err = fmt.Errorf("wal: close %s: %w", l.name, err)
		}
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

// Health is nil while the log takes appends, and otherwise the error it
// refuses them with: one matching ErrNoSpace while the disk is full, or
// ErrFailed after another write or fsync failure. The log tries again by
// itself every Options.RetryInterval, and Health is nil again once it writes.
// It is cheap and safe to call from a health or readiness check.
func (l *Log) Health() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.health
}

// Status is the log's health as an operator reads it.
type Status struct {
	// Err is Health: nil while the log takes appends.
	Err error
	// Since is when the log last became writable or unwritable.
	Since time.Time
	// TornBytes is how many bytes of a write torn by a crash Open cut.
	TornBytes int64
	// Quarantined are the segments kept in the quarantine directory whose
	// records the log lacks, with how many records each lost.
	Quarantined []SegmentReport
}

// State names the log's health: "ok", "no_space" or "failed".
func (s Status) State() string {
	switch {
	case s.Err == nil:
		return "ok"
	case errors.Is(s.Err, ErrNoSpace):
		return "no_space"
	}
	return "failed"
}

// Status returns the log's health, what Open cut and what is quarantined.
func (l *Log) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Status{Err: l.health, Since: l.since}
	for _, s := range l.opened.Segments {
		st.TornBytes += s.TornBytes
		if s.Quarantined != "" {
			st.Quarantined = append(st.Quarantined, s)
		}
	}
	return st
}

// Report returns what Open found in each segment and what it repaired.
func (l *Log) Report() Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.opened
	r.Segments = append([]SegmentReport(nil), r.Segments...)
	return r
}
