package wal

import (
	"fmt"
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
	// gap: the segment may end before the next one starts, the records
	// between having been lost to damage (its original is in quarantine/).
	gap bool
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
