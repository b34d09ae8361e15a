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
	// Lost counts the records that cannot be read: the LSNs the segment
	// should hold (up to the next segment's first; in the last one, up to
	// its last intact record) that no intact record has. Past damage the
	// segment is read on, byte by byte, for the intact records that follow.
	Lost uint64
	// TornBytes is, in the last segment, the bytes of a write torn by a
	// crash: never acknowledged, and cut by Open.
	TornBytes int64
	// Quarantined is where the damaged original is kept, when the segment
	// was (or has been) quarantined.
	Quarantined string

	keepBytes int64  // bytes to keep of the last segment, without a torn write
	spans     []span // the intact records of a damaged segment
	next      uint64 // the LSN that follows the segment's records
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

// span is a run of bytes of a segment file.
type span struct{ off, n int64 }

// segmentScan is the state of reading one segment.
type segmentScan struct {
	seg  segment
	next uint64 // first LSN of the next segment; 0 for the last one
	gaps bool   // LSNs may skip forward: the segment lost records before
	rep  SegmentReport
	lsn  uint64 // the LSN the next record should have, at least
	// At the end of the last whole write read: offset, records and last LSN.
	writeEnd               int64
	writeRecords, writeLSN uint64
}

// keep counts an intact record, and as lost the LSNs it skips.
func (s *segmentScan) keep(h header) {
	s.rep.Lost += h.lsn - s.lsn
	s.rep.Records++
	if s.rep.FirstLSN == 0 {
		s.rep.FirstLSN = h.lsn
	}
	s.rep.LastLSN, s.lsn = h.lsn, h.lsn+1
	if h.last {
		s.writeRecords, s.writeLSN = s.rep.Records, h.lsn
	}
}

// finish accounts for the end of the segment: the LSNs up to the next
// segment that it lacks, or in the last one a write cut short.
func (s *segmentScan) finish(size int64) SegmentReport {
	r := &s.rep
	if s.next == 0 {
		if r.Records > s.writeRecords {
			// Records after the last whole write: a write cut short.
			r.Records, r.LastLSN = s.writeRecords, s.writeLSN
			if r.Records == 0 {
				r.FirstLSN = 0
			}
		}
		r.TornBytes = size - s.writeEnd
		r.keepBytes = s.writeEnd
		r.next = max(r.LastLSN+1, s.seg.first)
		return *r
	}
	if s.lsn < s.next {
		r.Lost += s.next - s.lsn
		if r.Damage == nil && !s.gaps {
			r.Damage = &CorruptError{Segment: s.seg.path, Offset: size, LSN: s.lsn,
				Reason: fmt.Sprintf("segment ends before lsn %d, but the log continues at %d", s.lsn, s.next)}
			r.spans = []span{{0, size}}
		}
	}
	r.keepBytes, r.next = size, s.next
	return *r
}

// scanSegment reads one segment. next is the first LSN of the segment after
// it, 0 for the last one; twin is its original in quarantine, if any.
func scanSegment(seg segment, next uint64, twin string) (SegmentReport, error) {
	s := &segmentScan{seg: seg, next: next, gaps: twin != "", lsn: seg.first,
		rep: SegmentReport{Path: seg.path, Quarantined: twin}, writeLSN: seg.first - 1}
	f, err := os.Open(seg.path)
	if err != nil {
		return s.rep, fmt.Errorf("wal: check %s: %w", seg.path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return s.rep, fmt.Errorf("wal: check %s: %w", seg.path, err)
	}
	size := st.Size()
	s.rep.Bytes = size
	rr := newRecordReader(f, size)
	for {
		h, _, err := rr.next()
		if err == io.EOF {
			return s.finish(size), nil
		}
		if err == nil && (h.lsn < s.lsn || h.lsn > s.lsn && !s.gaps || next > 0 && h.lsn >= next) {
			err = fmt.Errorf("%w: lsn %d where %d was expected", errLSN, h.lsn, s.lsn)
			rr.off -= headerSize + int64(h.size)
		}
		if err != nil {
			if !isDamage(err) {
				return s.rep, fmt.Errorf("wal: check %s: %w", seg.path, err)
			}
			return s.salvage(f, rr.off, size, err)
		}
		s.keep(h)
		if h.last {
			s.writeEnd = rr.off
		}
	}
}

// salvage reads past damage at off: it finds, byte by byte, the intact
// records that follow, and keeps those whose LSNs go on increasing. In the
// last segment the damage is acknowledged data only if a record of a later
// write follows it; otherwise it is a write torn by a crash, cut whole.
func (s *segmentScan) salvage(f *os.File, off, size int64, reason error) (SegmentReport, error) {
	rest := make([]byte, size-off)
	if _, err := f.ReadAt(rest, off); err != nil && err != io.EOF {
		return s.rep, fmt.Errorf("wal: check %s: %w", s.seg.path, err)
	}
	damaged := s.lsn
	type found struct {
		h   header
		off int64
		n   int
	}
	var got []found
	later := false
	expect := damaged
	for i := 1; i+headerSize <= len(rest); {
		h, _, n, err := decodeRecord(rest[i:])
		if err != nil || h.lsn < expect || s.next > 0 && h.lsn >= s.next {
			i++
			continue
		}
		got = append(got, found{h, off + int64(i), n})
		later = later || h.groupStart() > damaged
		expect = h.lsn + 1
		i += n
	}
	if s.next == 0 && !later {
		return s.finish(size), nil // torn: the last whole write ends the log
	}
	s.rep.Damage = &CorruptError{Segment: s.seg.path, Offset: off, LSN: damaged, Reason: reason.Error()}
	if len(got) > 0 {
		s.rep.Damage.Reason += fmt.Sprintf("; intact records follow from offset %d", got[0].off)
	}
	if s.next == 0 {
		// Keep whole writes only at the end: a write cut short was never
		// acknowledged.
		for len(got) > 0 && !got[len(got)-1].h.last {
			got = got[:len(got)-1]
		}
	}
	s.rep.spans = []span{{0, off}}
	for _, g := range got {
		s.keep(g.h)
		s.rep.spans = append(s.rep.spans, span{g.off, int64(g.n)})
	}
	if s.next == 0 {
		s.rep.keepBytes, s.rep.next = size, max(s.rep.LastLSN+1, s.seg.first)
		return s.rep, nil
	}
	return s.finish(size), nil
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
		if err := copySpans(rep.Path, dst, []span{{0, rep.Bytes}}, noSync); err != nil {
			return fmt.Errorf("wal: quarantine %s: %w", rep.Path, err)
		}
		break
	}
	tmp := rep.Path + tmpExt
	if err := copySpans(rep.Path, tmp, rep.spans, noSync); err != nil {
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
	rep.Bytes = 0
	for _, sp := range rep.spans {
		rep.Bytes += sp.n
	}
	return nil
}

// copySpans copies spans of src, one after another, to a new file dst, durably.
func copySpans(src, dst string, spans []span, noSync bool) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	for _, sp := range spans {
		if _, err := io.Copy(out, io.NewSectionReader(in, sp.off, sp.n)); err != nil {
			out.Close()
			return err
		}
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
		l.opts.Log.Warn("journal segment damaged: moved aside, its intact records kept, the log goes on",
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
		if err := l.f.Truncate(r.keepBytes); err != nil {
			return fmt.Errorf("wal: cut torn write from %s at offset %d: %w", seg.path, r.keepBytes, err)
		}
		if !l.opts.NoSync {
			if err := syncData(l.f); err != nil {
				return fmt.Errorf("wal: cut torn write from %s: fsync: %w", seg.path, err)
			}
		}
		l.opts.Log.Warn("journal: cut a write torn by a crash; it had not been acknowledged",
			"segment", seg.path, "offset", r.keepBytes, "bytes", r.TornBytes)
	}
	l.name, l.segs, l.size, l.durable = seg.path, segs, r.keepBytes, r.keepBytes
	l.next, l.last = r.next, r.next-1
	l.opened = Report{Dir: l.dir, Segments: reps}
	return nil
}
