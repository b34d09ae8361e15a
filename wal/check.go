package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// QuarantineDir is the directory, inside the log's, where damaged segments
// are moved aside.
const QuarantineDir = "quarantine"

// tmpExt ends the name of a segment's replacement while it is written.
const tmpExt = ".tmp"

// SegmentReport is what reading one segment file found.
type SegmentReport struct {
	Path     string // the segment file
	Bytes    int64  // its size when read
	Records  uint64 // intact records, which replay
	FirstLSN uint64 // LSN of the first intact record, 0 if none
	LastLSN  uint64 // LSN of the last intact record, 0 if none
	// Damage is the first damage found in acknowledged data; nil if none.
	Damage *CorruptError
	// Lost counts the records after the damage that cannot be read: the LSNs
	// from the damaged record to the last the segment held (the one before
	// the next segment's first, or, in the last segment, the highest LSN of
	// an intact record found past the damage).
	Lost uint64
	// TornBytes is, in the last segment, the bytes of a write torn by a
	// crash: never acknowledged, and cut by Open.
	TornBytes int64
	// Quarantined is where the damaged original is kept, when the segment
	// was (or has been) quarantined.
	Quarantined string

	keep int64  // bytes to keep: the intact prefix
	next uint64 // the LSN that follows the segment's records
}

// Report is what reading a whole log found.
type Report struct {
	Dir      string
	Segments []SegmentReport // in LSN order
}

// Damaged counts the segments with damage in acknowledged data.
func (r Report) Damaged() int {
	n := 0
	for _, s := range r.Segments {
		if s.Damage != nil {
			n++
		}
	}
	return n
}

// Totals sums the intact records and bytes of every segment and the records lost.
func (r Report) Totals() (records, lost uint64, bytes int64) {
	for _, s := range r.Segments {
		records, lost, bytes = records+s.Records, lost+s.Lost, bytes+s.Bytes
	}
	return records, lost, bytes
}

// Check reads every segment of the log in dir and reports what is intact and
// what is damaged, changing nothing. It takes the directory's lock, so it
// fails while another process has the log open.
func Check(dir string) (Report, error) {
	if _, err := os.Stat(dir); err != nil {
		return Report{}, fmt.Errorf("wal: check: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return Report{}, fmt.Errorf("wal: check %s: %w", dir, err)
	}
	defer lock.Close()
	_, reps, err := scanLog(dir)
	if err != nil {
		return Report{}, err
	}
	return Report{Dir: dir, Segments: reps}, nil
}

// Repair does what Open does, offline: it cuts a torn write and quarantines
// each damaged segment — the segment is hard-linked (or copied) into the
// quarantine directory, then replaced by its intact prefix, and the log
// accepts the missing LSNs as a gap. It returns what it found and did.
func Repair(dir string, o Options) (Report, error) {
	if _, err := os.Stat(dir); err != nil {
		return Report{}, fmt.Errorf("wal: repair: %w", err)
	}
	l, err := Open(dir, o)
	if err != nil {
		return Report{}, err
	}
	rep := l.Report()
	return rep, l.Close()
}

// scanLog lists the segments of the log in dir and reads each.
func scanLog(dir string) ([]segment, []SegmentReport, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, nil, err
	}
	twins, err := listQuarantine(dir)
	if err != nil {
		return nil, nil, err
	}
	reps := make([]SegmentReport, len(segs))
	for i, s := range segs {
		var next uint64
		if i+1 < len(segs) {
			next = segs[i+1].first
		}
		if reps[i], err = scanSegment(s, next, twins[filepath.Base(s.path)]); err != nil {
			return nil, nil, err
		}
		segs[i].gap = reps[i].Quarantined != ""
	}
	return segs, reps, nil
}

// listQuarantine maps each segment name to its last original kept in the
// quarantine directory (named after it, with ".N" when quarantined again).
func listQuarantine(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, QuarantineDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wal: list quarantine: %w", err)
	}
	twins := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if i := strings.Index(name, segmentExt); i > 0 {
			twins[name[:i+len(segmentExt)]] = filepath.Join(dir, QuarantineDir, name)
		}
	}
	return twins, nil
}

// scanSegment reads one segment. next is the first LSN of the segment after
// it, 0 for the last one; twin is its original in quarantine, if any.
func scanSegment(seg segment, next uint64, twin string) (SegmentReport, error) {
	rep := SegmentReport{Path: seg.path, Quarantined: twin}
	f, err := os.Open(seg.path)
	if err != nil {
		return rep, fmt.Errorf("wal: check %s: %w", seg.path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return rep, fmt.Errorf("wal: check %s: %w", seg.path, err)
	}
	size := st.Size()
	rep.Bytes = size
	rr := newRecordReader(f, size)
	lsn := seg.first // LSN the next record should have
	var writeEnd int64
	var writeNext uint64 = seg.first // after the last whole write
	done := func(keep int64, nextLSN uint64) (SegmentReport, error) {
		rep.keep, rep.next = keep, nextLSN
		if rep.Records = nextLSN - seg.first; rep.Records > 0 {
			rep.FirstLSN, rep.LastLSN = seg.first, nextLSN-1
		}
		return rep, nil
	}
	for {
		h, _, err := rr.next()
		if err == io.EOF {
			break
		}
		if err == nil && (h.lsn != lsn || next > 0 && h.lsn >= next) {
			err = fmt.Errorf("%w: lsn %d where %d was expected", errLSN, h.lsn, lsn)
			rr.off -= headerSize + int64(h.size)
		}
		if err != nil {
			if !isDamage(err) {
				return rep, fmt.Errorf("wal: check %s: %w", seg.path, err)
			}
			if next > 0 {
				// Every write in a segment before the last was acknowledged.
				rep.Damage = &CorruptError{Segment: seg.path, Offset: rr.off, LSN: lsn, Reason: err.Error()}
				if next > lsn {
					rep.Lost = next - lsn
				}
				return done(rr.off, lsn)
			}
			// In the last segment, damage is acknowledged data only if a
			// later write follows it; otherwise it is a torn write.
			rest := make([]byte, size-rr.off)
			if _, err := f.ReadAt(rest, rr.off); err != nil && err != io.EOF {
				return rep, fmt.Errorf("wal: check %s: %w", seg.path, err)
			}
			if len(rest) > 1 {
				if at, maxLSN := findLaterWrite(rest[1:], lsn); at >= 0 {
					rep.Damage = &CorruptError{Segment: seg.path, Offset: rr.off, LSN: lsn,
						Reason: fmt.Sprintf("%v, and an intact later record at offset %d", err, rr.off+1+int64(at))}
					rep.Lost = maxLSN - lsn + 1
					r, _ := done(rr.off, lsn)
					r.next = maxLSN + 1
					return r, nil
				}
			}
			break
		}
		lsn++
		if h.last {
			writeEnd, writeNext = rr.off, lsn
		}
	}
	if next == 0 {
		// Keep whole writes only: records after the last one are a write
		// cut short.
		rep.TornBytes = size - writeEnd
		return done(writeEnd, writeNext)
	}
	if lsn < next {
		rep.Lost = next - lsn
		if twin == "" {
			rep.Damage = &CorruptError{Segment: seg.path, Offset: rr.off, LSN: lsn,
				Reason: fmt.Sprintf("segment ends before lsn %d, but the log continues at %d", lsn, next)}
		}
	}
	return done(rr.off, lsn)
}

// quarantine moves a damaged segment aside: its original is hard-linked (or
// copied) into the quarantine directory, then the segment is replaced,
// atomically, by its intact prefix. A crash at any point leaves either the
// damaged segment, which the next Open quarantines again, or the prefix.
func quarantine(dir string, rep *SegmentReport, noSync bool) error {
	qdir := filepath.Join(dir, QuarantineDir)
	if err := os.MkdirAll(qdir, 0o755); err != nil {
		return fmt.Errorf("wal: quarantine %s: %w", rep.Path, err)
	}
	name := filepath.Base(rep.Path)
	dst := filepath.Join(qdir, name)
	for i := 2; ; i++ {
		err := os.Link(rep.Path, dst)
		if err == nil {
			break
		}
		if errors.Is(err, os.ErrExist) {
			a, aerr := os.Stat(dst)
			b, berr := os.Stat(rep.Path)
			if aerr == nil && berr == nil && os.SameFile(a, b) {
				break // an earlier quarantine of this segment, cut short
			}
			dst = filepath.Join(qdir, fmt.Sprintf("%s.%d", name, i))
			continue
		}
		// No hard links here: copy.
		if err := copyPrefix(rep.Path, dst, rep.Bytes, noSync); err != nil {
			return fmt.Errorf("wal: quarantine %s: %w", rep.Path, err)
		}
		break
	}
	tmp := rep.Path + tmpExt
	if err := copyPrefix(rep.Path, tmp, rep.keep, noSync); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("wal: quarantine %s: keep its intact records: %w", rep.Path, err)
	}
	if err := os.Rename(tmp, rep.Path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("wal: quarantine %s: %w", rep.Path, err)
	}
	if !noSync {
		if err := errors.Join(syncDir(qdir), syncDir(dir)); err != nil {
			return fmt.Errorf("wal: quarantine %s: fsync directory: %w", rep.Path, err)
		}
	}
	rep.Quarantined = dst
	rep.Bytes = rep.keep
	return nil
}

// copyPrefix copies the first n bytes of src to a new file dst, durably.
func copyPrefix(src, dst string, n int64, noSync bool) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(in, n)); err != nil {
		out.Close()
		return err
	}
	if !noSync {
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}

// removeLeftovers removes the replacements of segments that a crash left
// half-written during a quarantine.
func removeLeftovers(dir string) error {
	tmps, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt+tmpExt))
	if err != nil {
		return err
	}
	for _, p := range tmps {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("wal: remove %s: %w", p, err)
		}
	}
	return nil
}

// recover reads every segment, quarantines the damaged ones, cuts a torn
// write from the last one and positions the log at its end.
func (l *Log) recover() error {
	if err := removeLeftovers(l.dir); err != nil {
		return err
	}
	segs, reps, err := scanLog(l.dir)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		f, err := l.createSegment(1)
		if err != nil {
			return err
		}
		l.f, l.name, l.segs, l.next = f, f.Name(), []segment{{first: 1, path: f.Name()}}, 1
		l.opened = Report{Dir: l.dir, Segments: []SegmentReport{{Path: f.Name()}}}
		return nil
	}
	if last := reps[len(reps)-1]; last.Damage != nil {
		// Acknowledged records follow the damage: go on in a new segment
		// past every LSN given, so that none is given twice.
		f, err := l.createSegment(last.next)
		if err != nil {
			return err
		}
		l.f = f
		segs = append(segs, segment{first: last.next, path: f.Name()})
		reps = append(reps, SegmentReport{Path: f.Name(), next: last.next})
	}
	for i := range reps {
		r := &reps[i]
		if r.Damage == nil {
			continue
		}
		if err := quarantine(l.dir, r, l.opts.NoSync); err != nil {
			return err
		}
		segs[i].gap = true
		l.opts.Log.Warn("journal segment damaged: moved aside, its intact records kept, the log goes on with the next segment",
			"segment", r.Path, "quarantined", r.Quarantined, "offset", r.Damage.Offset, "lsn", r.Damage.LSN,
			"reason", r.Damage.Reason, "records_kept", r.Records, "records_lost", r.Lost)
	}
	seg, r := segs[len(segs)-1], &reps[len(reps)-1]
	if l.f == nil {
		f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("wal: open %s: %w", seg.path, err)
		}
		l.f = f
	}
	if r.TornBytes > 0 {
		// A write torn by a crash: it was never acknowledged.
		if err := l.f.Truncate(r.keep); err != nil {
			return fmt.Errorf("wal: cut torn write from %s at offset %d: %w", seg.path, r.keep, err)
		}
		if !l.opts.NoSync {
			if err := syncData(l.f); err != nil {
				return fmt.Errorf("wal: cut torn write from %s: fsync: %w", seg.path, err)
			}
		}
		l.opts.Log.Warn("journal: cut a write torn by a crash; it had not been acknowledged",
			"segment", seg.path, "offset", r.keep, "bytes", r.TornBytes)
	}
	l.name, l.segs, l.size, l.durable = seg.path, segs, r.keep, r.keep
	l.next, l.last = r.next, r.next-1
	l.opened = Report{Dir: l.dir, Segments: reps}
	return nil
}
