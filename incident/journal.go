package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/onemap/onemap/wal"
)

// Record is one entry of the incident journal: a step of an incident
// (Kind KindStep, Data its Event), or what another part of the loop keeps
// with the incident (a delivery and its receipts, a task, a field report).
// Records are numbered by Seq in the order they were taken and are never
// changed or removed: the archive of an incident is its records.
type Record struct {
	Seq      uint64          `json:"seq"`
	Incident string          `json:"incident"`
	Kind     string          `json:"kind"`
	At       time.Time       `json:"at"`
	Data     json.RawMessage `json:"data"`
	// Remote marks a record another instance kept, as Sync tells it; it is
	// not journalled.
	Remote bool `json:"-"`
}

// ErrTaken is returned by a shared journal for a record whose Seq another
// writer took first; the Book reads what it kept and tries again.
var ErrTaken = errors.New("incident: the record's number is taken")

// KindStep is the kind of a record that holds an incident's Event.
const KindStep = "step"

// MaxRecordSize bounds the JSON data of one record.
const MaxRecordSize = MaxEventSize

// Journal keeps the incident records durably, in the order appended; the
// embedded default keeps them in a write-ahead log of their own
// (WALJournal), PostGIS in a table. Both pass incident/journaltest.
type Journal interface {
	// AppendRecords makes recs durable before it returns.
	AppendRecords(ctx context.Context, recs []Record) error
	// ReplayRecords calls fn for every record whose Seq is above after,
	// in order.
	ReplayRecords(ctx context.Context, after uint64, fn func(Record) error) error
}

// CheckRecords returns why the first of recs a journal must refuse is
// malformed (an *EventError), or nil; every journal checks the same way.
func CheckRecords(recs []Record) error {
	for i := range recs {
		if err := checkRecord(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkRecord(r *Record) error {
	switch {
	case r.Seq == 0:
		return refuse("bad_seq", "a record is numbered from 1")
	case r.Incident == "" || len(r.Incident) > 64:
		return refuse("bad_id", "an incident id is 1 to 64 bytes")
	case r.Kind == "" || len(r.Kind) > 32:
		return refuse("bad_kind", "a record's kind is 1 to 32 bytes")
	case r.At.IsZero():
		return refuse("bad_time", "a record needs a time")
	case len(r.Data) > MaxRecordSize:
		return refuse("too_large", "a record's data is at most %d bytes", MaxRecordSize)
	case !json.Valid(r.Data):
		return refuse("bad_json", "a record's data is not JSON")
	}
	return nil
}

// MemoryJournal keeps records in memory: for tests, and for a server that
// keeps nothing across a restart. It is safe for concurrent use.
type MemoryJournal struct {
	mu   sync.Mutex
	recs []Record
	// Fail, when set, is returned by every append.
	Fail error
}

// AppendRecords keeps copies of recs; one whose Seq is not above the last
// kept is refused, and with it the rest, with ErrTaken, as a journal
// shared by several Books refuses it.
func (j *MemoryJournal) AppendRecords(_ context.Context, recs []Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Fail != nil {
		return j.Fail
	}
	if err := CheckRecords(recs); err != nil {
		return err
	}
	last := uint64(0)
	if n := len(j.recs); n > 0 {
		last = j.recs[n-1].Seq
	}
	for _, r := range recs {
		if r.Seq <= last {
			return fmt.Errorf("incident record %d: %w", r.Seq, ErrTaken)
		}
		last = r.Seq
	}
	for _, r := range recs {
		r.Data = bytes.Clone(r.Data)
		j.recs = append(j.recs, r)
	}
	return nil
}

// ReplayRecords calls fn for the records after after.
func (j *MemoryJournal) ReplayRecords(_ context.Context, after uint64, fn func(Record) error) error {
	j.mu.Lock()
	recs := slices.Clone(j.recs)
	j.mu.Unlock()
	for _, r := range recs {
		if r.Seq <= after {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// WALJournal keeps the incident records in a write-ahead log of their
// own, one record an entry, each append fsynced before it returns. Unlike
// the live journal it is never pruned.
type WALJournal struct {
	Log *wal.Log
}

// recVersion is the first byte of a WAL entry: the encoding that follows.
const recVersion byte = 1

var errRecord = errors.New("incident: malformed journal record")

// AppendRecords writes recs as one group-committed append.
func (j WALJournal) AppendRecords(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := CheckRecords(recs); err != nil {
		return err
	}
	entries := make([][]byte, len(recs))
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			return fmt.Errorf("incident: journal record: %w", err)
		}
		entries[i] = append([]byte{recVersion}, b...)
	}
	if _, err := j.Log.Append(ctx, entries...); err != nil {
		return fmt.Errorf("incident: journal: %w", err)
	}
	return nil
}

// ReplayRecords reads the log from its start.
func (j WALJournal) ReplayRecords(_ context.Context, after uint64, fn func(Record) error) error {
	return j.Log.Replay(j.Log.FirstLSN(), func(lsn uint64, entry []byte) error {
		if len(entry) == 0 || entry[0] != recVersion {
			return fmt.Errorf("incident: journal entry %d: %w", lsn, errRecord)
		}
		var r Record
		if err := json.Unmarshal(entry[1:], &r); err != nil {
			return fmt.Errorf("incident: journal entry %d: %w: %v", lsn, errRecord, err)
		}
		if r.Seq <= after {
			return nil
		}
		return fn(r)
	})
}
