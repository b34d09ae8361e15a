package wal

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by calls on a closed Log.
	ErrClosed = errors.New("wal: log closed")
	// ErrNoSpace is returned by Append while the disk is full (ENOSPC or
	// EDQUOT), wrapping the cause. Nothing of the refused append is kept; the
	// log cuts what a failed write left, tries again by itself every
	// Options.RetryInterval, and takes appends again once a write fits.
	ErrNoSpace = errors.New("wal: no space left on device")
	// ErrFailed is returned by Append while the log cannot write for another
	// reason than a full disk (an I/O error on write or fsync), wrapping the
	// cause. As with ErrNoSpace, the log refuses rather than acknowledge
	// records it cannot vouch for, and tries again by itself.
	ErrFailed = errors.New("wal: log failed")
	// ErrCorrupt is matched (with errors.Is) by every *CorruptError.
	ErrCorrupt = errors.New("wal: corrupt log")
	// ErrTruncated is returned by Replay when records it was asked for have been
	// removed by Truncate.
	ErrTruncated = errors.New("wal: records truncated")
	// ErrLocked is returned by Open, Check and Repair while another process
	// has the log open.
	ErrLocked = errors.New("wal: locked by another process")
	// ErrTooLarge is returned by Append for a record longer than MaxRecordSize.
	ErrTooLarge = errors.New("wal: record too large")
)

// CorruptError reports damaged data in a part of the log that had been
// acknowledged: a bad checksum, an impossible length, or a gap in the LSNs.
type CorruptError struct {
	Segment string // path of the segment file
	Offset  int64  // byte offset of the damaged record in the segment
	LSN     uint64 // LSN the record at Offset should have had
	Reason  string // what is wrong, e.g. "checksum mismatch"
}

// Error describes where the log is damaged.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("wal: corrupt log: %s: offset %d (lsn %d): %s", e.Segment, e.Offset, e.LSN, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
