package live

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onemap/onemap/wal"
)

// WALJournal keeps the journal in a write-ahead log, one record a reading
// or event, each append fsynced before it returns, and its checkpoints as
// files in Dir. The two latest checkpoints are kept, and the log from the
// older of them on, so that a damaged checkpoint file is never the only one.
type WALJournal struct {
	Log *wal.Log
	// Dir holds the checkpoints; empty keeps none (Mark still works).
	Dir string
}

var _ QueueJournal = WALJournal{}

// Journal record kinds.
const (
	recReading byte = 1
	recAck     byte = 2 // an acknowledgement as journals before events kept it
	recEvent   byte = 3
	recMark    byte = 4
)

var errRecord = errors.New("live: malformed journal record")

// AppendReadings writes the readings as one group-committed append.
func (j WALJournal) AppendReadings(ctx context.Context, rs []Reading) error {
	return waitFor(j.QueueReadings(ctx, rs))
}

// AppendEvents writes the events as one group-committed append.
func (j WALJournal) AppendEvents(ctx context.Context, evs []HistoryEvent) error {
	return waitFor(j.QueueEvents(ctx, evs))
}

func waitFor(wait func() error, err error) error {
	if err != nil {
		return err
	}
	return wait()
}

// QueueReadings queues the readings as one group-committed append.
func (j WALJournal) QueueReadings(ctx context.Context, rs []Reading) (func() error, error) {
	recs := make([][]byte, len(rs))
	for i, r := range rs {
		recs[i] = encodeReading(r)
	}
	return j.enqueue(ctx, recs)
}

// QueueEvents queues the events as one group-committed append.
func (j WALJournal) QueueEvents(ctx context.Context, evs []HistoryEvent) (func() error, error) {
	recs := make([][]byte, len(evs))
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, fmt.Errorf("live: journal event: %w", err)
		}
		recs[i] = append([]byte{recEvent}, b...)
	}
	return j.enqueue(ctx, recs)
}

func (j WALJournal) enqueue(ctx context.Context, recs [][]byte) (func() error, error) {
	wait, err := j.Log.Enqueue(ctx, recs...)
	if err != nil {
		return nil, err
	}
	return func() error { _, err := wait(); return err }, nil
}

// Mark appends a mark record and returns its position: every record
// queued before it has a lower one.
func (j WALJournal) Mark(ctx context.Context) (uint64, error) {
	return j.Log.Append(ctx, []byte{recMark})
}

// Replay reads the log from the record after position after.
func (j WALJournal) Replay(_ context.Context, after uint64, onReading func(Reading) error, onEvent func(HistoryEvent) error) error {
	from := max(j.Log.FirstLSN(), after+1)
	return j.Log.Replay(from, func(lsn uint64, rec []byte) error {
		if len(rec) == 0 {
			return fmt.Errorf("record %d: %w", lsn, errRecord)
		}
		switch rec[0] {
		case recReading:
			r, err := decodeReading(rec)
			if err != nil {
				return fmt.Errorf("record %d: %w", lsn, err)
			}
			return onReading(r)
		case recEvent:
			var ev HistoryEvent
			if err := json.Unmarshal(rec[1:], &ev); err != nil {
				return fmt.Errorf("record %d: %w: %v", lsn, errRecord, err)
			}
			return onEvent(ev)
		case recAck:
			ev, err := decodeAck(rec)
			if err != nil {
				return fmt.Errorf("record %d: %w", lsn, err)
			}
			return onEvent(ev)
		case recMark:
			return nil
		}
		return fmt.Errorf("record %d: %w", lsn, errRecord)
	})
}

// A checkpoint file: magic, position, time (Unix ms), length and CRC-32C
// of the data, then the data.
const ckptMagic = "onemap-checkpoint-1\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (j WALJournal) ckptPath(pos uint64) string {
	return filepath.Join(j.Dir, fmt.Sprintf("%020d.checkpoint", pos))
}

// checkpoints lists the checkpoint files' positions, oldest first.
func (j WALJournal) checkpoints() ([]uint64, error) {
	if j.Dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(j.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live: checkpoints: %w", err)
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".checkpoint")
		if !ok {
			continue
		}
		if pos, err := strconv.ParseUint(name, 10, 64); err == nil {
			out = append(out, pos)
		}
	}
	slices.Sort(out)
	return out, nil
}

// SaveCheckpoint writes the checkpoint to a new file, fsynced and renamed
// into place, and removes all but the two latest.
func (j WALJournal) SaveCheckpoint(_ context.Context, c Checkpoint) error {
	if j.Dir == "" {
		return errors.New("live: checkpoint: the journal has no directory for checkpoints")
	}
	if err := os.MkdirAll(j.Dir, 0o755); err != nil {
		return fmt.Errorf("live: checkpoint: %w", err)
	}
	var h bytes.Buffer
	h.WriteString(ckptMagic)
	h.Write(binary.LittleEndian.AppendUint64(nil, c.Pos))
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(c.At.UnixMilli())))
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(c.Data))))
	h.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(c.Data, castagnoli)))
	path := j.ckptPath(c.Pos)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("live: checkpoint: %w", err)
	}
	_, err = f.Write(h.Bytes())
	if err == nil {
		_, err = f.Write(c.Data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(j.Dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("live: checkpoint: %w", err)
	}
	all, err := j.checkpoints()
	if err != nil {
		return err
	}
	for len(all) > 2 {
		if err := os.Remove(j.ckptPath(all[0])); err != nil {
			return fmt.Errorf("live: checkpoint: %w", err)
		}
		all = all[1:]
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LastCheckpoint reads the latest checkpoint file that is whole, nil when
// there is none.
func (j WALJournal) LastCheckpoint(context.Context) (*Checkpoint, error) {
	all, err := j.checkpoints()
	if err != nil {
		return nil, err
	}
	var firstErr error
	for i := len(all) - 1; i >= 0; i-- {
		c, err := readCheckpoint(j.ckptPath(all[i]))
		if err == nil {
			return c, nil
		}
		firstErr = cmp.Or(firstErr, err)
	}
	if firstErr != nil && len(all) > 0 {
		return nil, firstErr
	}
	return nil, nil
}

// ErrCheckpoint is returned for a checkpoint file that is damaged.
var ErrCheckpoint = errors.New("live: damaged checkpoint")

func readCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("live: checkpoint: %w", err)
	}
	n := len(ckptMagic)
	if len(b) < n+28 || string(b[:n]) != ckptMagic {
		return nil, fmt.Errorf("%w: %s: no checkpoint header", ErrCheckpoint, path)
	}
	c := &Checkpoint{
		Pos: binary.LittleEndian.Uint64(b[n:]),
		At:  time.UnixMilli(int64(binary.LittleEndian.Uint64(b[n+8:]))).UTC(),
	}
	size := binary.LittleEndian.Uint64(b[n+16:])
	sum := binary.LittleEndian.Uint32(b[n+24:])
	c.Data = b[n+28:]
	if uint64(len(c.Data)) != size || crc32.Checksum(c.Data, castagnoli) != sum {
		return nil, fmt.Errorf("%w: %s: its data does not match its checksum", ErrCheckpoint, path)
	}
	return c, nil
}

// Prune removes the log segments that the older of the two latest
// checkpoints covers whole. Readings past the retention go with them: a
// checkpoint keeps only the curves within it.
func (j WALJournal) Prune(_ context.Context, pos uint64, _ time.Time) error {
	all, err := j.checkpoints()
	if err != nil {
		return err
	}
	keep := pos
	if len(all) > 0 {
		keep = min(keep, all[0])
	}
	if err := j.Log.Truncate(keep + 1); err != nil {
		return fmt.Errorf("live: prune the journal: %w", err)
	}
	return nil
}

func encodeReading(r Reading) []byte {
	b := make([]byte, 0, 32+len(r.Metric)+len(r.Unit))
	b = append(b, recReading)
	b = binary.LittleEndian.AppendUint64(b, r.Sensor)
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Time.UnixMilli()))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Value))
	b = append(b, byte(len(r.Metric)))
	b = append(b, r.Metric...)
	b = append(b, byte(len(r.Unit)))
	return append(b, r.Unit...)
}

func decodeReading(b []byte) (Reading, error) {
	if len(b) < 26 {
		return Reading{}, errRecord
	}
	r := Reading{
		Sensor: binary.LittleEndian.Uint64(b[1:]),
		Time:   time.UnixMilli(int64(binary.LittleEndian.Uint64(b[9:]))),
		Value:  math.Float64frombits(binary.LittleEndian.Uint64(b[17:])),
	}
	n := int(b[25])
	if len(b) < 26+n+1 {
		return Reading{}, errRecord
	}
	r.Metric = string(b[26 : 26+n])
	u := int(b[26+n])
	if len(b) != 27+n+u {
		return Reading{}, errRecord
	}
	r.Unit = string(b[27+n:])
	return r, nil
}

// decodeAck reads an acknowledgement as journals before events wrote it.
func decodeAck(rec []byte) (HistoryEvent, error) {
	if len(rec) < 17 {
		return HistoryEvent{}, errRecord
	}
	id := binary.LittleEndian.Uint64(rec[1:])
	at := time.UnixMilli(int64(binary.LittleEndian.Uint64(rec[9:]))).UTC()
	n, k := binary.Uvarint(rec[17:])
	if k <= 0 || 17+k+int(n) > len(rec) {
		return HistoryEvent{}, errRecord
	}
	by := string(rec[17+k : 17+k+int(n)])
	return HistoryEvent{Kind: EventAcknowledged, Alarm: id, By: by, At: at, Note: string(rec[17+k+int(n):])}, nil
}
