package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Replay calls fn, in LSN order, for every durable record with an LSN of at
// least from, as of the moment Replay starts; appends made meanwhile are not
// seen. rec is valid only during the call. The LSNs increase, with gaps where
// Open quarantined damaged records. Replay stops at fn's first error and
// returns it unchanged. It returns a *CorruptError for data damaged since
// Open, and an error matching ErrTruncated if records at or above from were
// removed.
func (l *Log) Replay(from uint64, fn func(lsn uint64, rec []byte) error) error {
	if l.isClosed() {
		return ErrClosed
	}
	from = max(from, 1)

	// Open the files while holding the lock, so that a concurrent Truncate
	// cannot remove one before it is open.
	l.mu.Lock()
	segs := l.segs
	durable, last := l.durable, l.last
	if from < segs[0].first {
		l.mu.Unlock()
		return fmt.Errorf("wal: replay from %d: log starts at %d: %w", from, segs[0].first, ErrTruncated)
	}
	i := len(segs) - 1
	for i > 0 && segs[i].first > from {
		i--
	}
	segs = segs[i:]
	files := make([]*os.File, 0, len(segs))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, s := range segs {
		f, err := os.Open(s.path)
		if err != nil {
			l.mu.Unlock()
			return fmt.Errorf("wal: replay: %w", err)
		}
		files = append(files, f)
	}
	l.mu.Unlock()

	for j, s := range segs {
		// A segment holds the LSNs up to the next one's first; the active one
		// those up to the last durable record.
		end, limit := last+1, durable
		if j < len(segs)-1 {
			st, err := files[j].Stat()
			if err != nil {
				return fmt.Errorf("wal: replay %s: %w", s.path, err)
			}
			end, limit = segs[j+1].first, st.Size()
		}
		if err := replaySegment(files[j], s, limit, end, from, fn); err != nil {
			return err
		}
	}
	return nil
}

// replaySegment replays the first limit bytes of one segment, which must hold
// exactly the LSNs from s.first up to end (exclusive), or fewer for a segment
// that lost records to damage.
func replaySegment(f *os.File, s segment, limit int64, end, from uint64, fn func(uint64, []byte) error) error {
	rr := newRecordReader(f, limit)
	next := s.first
	for {
		h, rec, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !isDamage(err) {
				return fmt.Errorf("wal: replay %s: %w", s.path, err)
			}
			return &CorruptError{Segment: s.path, Offset: rr.off, LSN: next, Reason: err.Error()}
		}
		if h.lsn != next && !(s.gap && h.lsn > next && h.lsn < end) {
			return &CorruptError{Segment: s.path, Offset: rr.off - headerSize - int64(h.size), LSN: next,
				Reason: fmt.Sprintf("lsn %d where %d was expected", h.lsn, next)}
		}
		if h.lsn >= from {
			if err := fn(h.lsn, rec); err != nil {
				return err
			}
		}
		next = h.lsn + 1
	}
	if next != end && !(s.gap && next < end) {
		return &CorruptError{Segment: s.path, Offset: rr.off, LSN: next,
			Reason: fmt.Sprintf("segment ends before lsn %d, but the log continues at %d", next, end)}
	}
	return nil
}

// isDamage reports whether a decoding error means damaged data rather than a
// failure to read it.
func isDamage(err error) bool {
	return errors.Is(err, errShort) || errors.Is(err, errChecksum) || errors.Is(err, errLength) || errors.Is(err, errPos) || errors.Is(err, errLSN)
}

// Truncate removes the segments all of whose records have LSNs below before,
// oldest first, so that a crash in the middle leaves the log whole. The active
// segment is never removed, so records below before may remain.
func (l *Log) Truncate(before uint64) error {
	if l.isClosed() {
		return ErrClosed
	}
	l.mu.Lock()
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1].first <= before {
		n++
	}
	removed := l.segs[:n:n]
	l.segs = append([]segment(nil), l.segs[n:]...)
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	for _, s := range removed {
		if err := os.Remove(s.path); err != nil {
			return fmt.Errorf("wal: truncate before %d: %w", before, err)
		}
	}
	if !l.opts.NoSync {
		if err := syncDir(l.dir); err != nil {
			return fmt.Errorf("wal: truncate before %d: fsync directory: %w", before, err)
		}
	}
	return nil
}
