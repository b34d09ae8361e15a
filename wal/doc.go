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
// a crash is found on Open and cut off, while damage to data that had already
// been acknowledged is reported as a *CorruptError and never silently dropped.
// One case cannot be told apart: damage confined to the very last write looks
// like a torn write, and is cut off like one.
//
// The package knows nothing of what the records mean, and it does not take
// snapshots: a caller that has saved its state up to some LSN calls Truncate to
// remove the segments it no longer needs.
package wal
