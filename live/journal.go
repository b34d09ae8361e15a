package live

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/onemap/onemap/wal"
)

// WALJournal keeps the journal in a write-ahead log: one record a reading
// or acknowledgement, each append fsynced before it returns.
type WALJournal struct{ Log *wal.Log }

var _ QueueJournal = WALJournal{}

// Journal record kinds.
const (
	recReading byte = 1
	recAck     byte = 2
)

var errRecord = errors.New("live: malformed journal record")

// AppendReadings writes the readings as one group-committed append.
func (j WALJournal) AppendReadings(ctx context.Context, rs []Reading) error {
	wait, err := j.QueueReadings(ctx, rs)
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
	wait, err := j.Log.Enqueue(ctx, recs...)
	if err != nil {
		return nil, err
	}
	return func() error { _, err := wait(); return err }, nil
}

// AppendAck writes an acknowledgement.
func (j WALJournal) AppendAck(ctx context.Context, alarm uint64, a Ack) error {
	_, err := j.Log.Append(ctx, encodeAck(alarm, a))
	return err
}

// Replay reads the log from its first record.
func (j WALJournal) Replay(_ context.Context, onReading func(Reading) error, onAck func(uint64, Ack) error) error {
	return j.Log.Replay(j.Log.FirstLSN(), func(lsn uint64, rec []byte) error {
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
		case recAck:
			id, a, err := decodeAck(rec)
			if err != nil {
				return fmt.Errorf("record %d: %w", lsn, err)
			}
			return onAck(id, a)
		}
		return fmt.Errorf("record %d: %w", lsn, errRecord)
	})
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

func encodeAck(id uint64, a Ack) []byte {
	b := []byte{recAck}
	b = binary.LittleEndian.AppendUint64(b, id)
	b = binary.LittleEndian.AppendUint64(b, uint64(a.At.UnixMilli()))
	b = binary.AppendUvarint(b, uint64(len(a.By)))
	b = append(b, a.By...)
	return append(b, a.Note...)
}

func decodeAck(rec []byte) (uint64, Ack, error) {
	if len(rec) < 17 {
		return 0, Ack{}, errRecord
	}
	id := binary.LittleEndian.Uint64(rec[1:])
	at := time.UnixMilli(int64(binary.LittleEndian.Uint64(rec[9:]))).UTC()
	n, k := binary.Uvarint(rec[17:])
	if k <= 0 || 17+k+int(n) > len(rec) {
		return 0, Ack{}, errRecord
	}
	by := string(rec[17+k : 17+k+int(n)])
	return id, Ack{By: by, At: at, Note: string(rec[17+k+int(n):])}, nil
}
