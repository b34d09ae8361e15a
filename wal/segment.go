package wal

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// segmentExt ends the name of every segment file.
const segmentExt = ".wal"

// segment is one file of the log.
type segment struct {
	first uint64 // LSN of its first record, also its name
	path  string
}

// segmentPath names the segment whose first record has LSN first; zero-padded so
// that names sort in LSN order in a directory listing.
func segmentPath(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", first, segmentExt))
}

// listSegments returns the segments in dir in LSN order.
func listSegments(dir string) ([]segment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list %s: %w", dir, err)
	}
	var segs []segment
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segmentExt) || e.IsDir() {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 10, 64)
		if err != nil || first == 0 {
			return nil, fmt.Errorf("wal: %s: not a segment name", filepath.Join(dir, name))
		}
		segs = append(segs, segment{first: first, path: filepath.Join(dir, name)})
	}
	slices.SortFunc(segs, func(a, b segment) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	return segs, nil
}

// recoverSegment scans the last segment of the log, open in f, and returns the
// length of its prefix of whole, intact writes and the LSN that follows it. A
// write torn by a crash at the end is left beyond that length for the caller to
// cut off; damage followed by an intact record of a later write is acknowledged
// data lost, and is returned as a *CorruptError.
func recoverSegment(f *os.File, seg segment) (end int64, next uint64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("wal: recover %s: %w", seg.path, err)
	}
	size := st.Size()
	rr := newRecordReader(f, size)
	next = seg.first
	lsn := seg.first // LSN of the next record read
	for {
		h, _, err := rr.next()
		if err == io.EOF {
			// Records after end, if any, are a write cut short between two records.
			return end, next, nil
		}
		if err == nil && h.lsn != lsn {
			err = fmt.Errorf("%w: lsn %d where %d was expected", errLSN, h.lsn, lsn)
			rr.off -= headerSize + int64(h.size)
		}
		if err != nil {
			if !isDamage(err) {
				return 0, 0, fmt.Errorf("wal: recover %s: %w", seg.path, err)
			}
			return end, next, checkTail(f, seg, rr.off, size, lsn, err)
		}
		lsn++
		if h.last {
			end, next = rr.off, lsn
		}
	}
}

// checkTail looks at the bytes from the damaged record at off to the end of the
// segment, and returns a *CorruptError if they hold a later write than the
// damaged record's, which proves that record had been acknowledged.
func checkTail(f *os.File, seg segment, off, size int64, lsn uint64, reason error) error {
	rest := make([]byte, size-off)
	if _, err := f.ReadAt(rest, off); err != nil && err != io.EOF {
		return fmt.Errorf("wal: recover %s: %w", seg.path, err)
	}
	if len(rest) == 0 {
		return nil
	}
	if i := findLaterWrite(rest[1:], lsn); i >= 0 {
		return &CorruptError{
			Segment: seg.path,
			Offset:  off,
			LSN:     lsn,
			Reason:  fmt.Sprintf("%v, and an intact later record at offset %d", reason, off+1+int64(i)),
		}
	}
	return nil
}

// syncDir fsyncs a directory so that files created in or removed from it stay
// created or removed after a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
