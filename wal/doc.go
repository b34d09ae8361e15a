// Package wal is a write-ahead log of opaque records kept in a directory: the
// embedded store appends readings and alarm history to it before it acknowledges
// them, and replays it at start to rebuild its state.
//
// Append returns only after its records are written and fsynced. Appenders that
// arrive together share one write and one fsync (group commit), so a batch of a
// thousand readings costs one fsync, and so do eight such batches from eight
// goroutines. Every record gets a sequence number (LSN), starting at 1 and
// increasing by one per record.
//
// On disk the log is a run of segment files named after the LSN of their first
// record (00000000000000000001.wal, ...). A new segment is started when the
// current one reaches Options.SegmentSize. Each record carries its length, its
// LSN, its place in the write it was part of, and a CRC-32C, so a write torn by
// a crash is found on Open and cut off (logged as a WARN with the bytes cut),
// while damage to data that had already been acknowledged is never silently
// dropped. One case cannot be told apart: damage confined to the very last
// write looks like a torn write, and is cut off like one.
//
// Open reads every segment. A segment with damaged acknowledged data is
// quarantined: the damaged original is kept in the quarantine directory, the
// segment is replaced by its records before the damage, and the log goes on
// with the next segment. The records after the damage are lost, and counted:
// the LSNs from the damaged record to the segment's last (the one before the
// next segment's first; in the last segment, the highest LSN of an intact
// record found past the damage). A segment whose original is in quarantine
// may end before the next one starts: Replay's LSNs skip the gap. Check and
// Repair do the same offline.
//
// A write or fsync that fails (a full disk, an I/O error) does not stop the
// log: it cuts what the write may have left back to the last good offset,
// refuses appends with ErrNoSpace or ErrFailed while it cannot write, probes
// every Options.RetryInterval, and takes appends again once a write fits.
// Nothing acknowledged is lost and no LSN is given to a refused append.
// Health and Status tell the log's state.
//
// The package knows nothing of what the records mean, and it does not take
// snapshots: a caller that has saved its state up to some LSN calls Truncate to
// remove the segments it no longer needs.
package wal
