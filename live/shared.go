package live

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Shared joins a Service to the other instances of a cluster. They share
// two logs that every instance follows in order: the readings accepted by
// any of them, and the decisions taken on them (alarm transitions,
// acknowledgements, versions of the rules). Each sensor's rules run on the
// one instance that owns it at the time; the others apply its readings to
// their state and take its decisions from the log, so that every instance
// answers with the same alarms and states. The Service writes the logs;
// the caller follows them into ApplyReadings and ApplyEvents.
type Shared interface {
	// PublishReadings stores readings in the readings log; it returns once
	// every instance can read them.
	PublishReadings(ctx context.Context, rs []Reading) error
	// PublishEvents stores decisions in the decisions log, in order; it
	// returns once every instance can read them.
	PublishEvents(ctx context.Context, evs []HistoryEvent) error
	// Owns reports whether this instance runs the rules of a sensor now.
	Owns(sensor uint64) bool
	// AlarmID returns an alarm id above after for an alarm of a sensor
	// that no other owner can give: the owners of other sensors give
	// others.
	AlarmID(sensor, after uint64) uint64
}

// ErrShared is returned by the calls a shared Service does not take.
var ErrShared = errors.New("live: the live state is shared")

// ApplyReadings applies readings followed from the readings log, once
// each: those the state has already are left. With owned, the batch's
// sensors are this instance's and their rules decide: the decisions are
// stored in the decisions log before the changes are told (Options.OnEvent);
// without, the readings move the state and the curves only, the decisions
// coming from the log. seq is the message's number in the log, kept with
// the state (SharedCheckpoint). Call it in the log's order, from one
// goroutine.
func (s *Service) ApplyReadings(ctx context.Context, seq uint64, rs []Reading, owned bool) error {
	s.mu.Lock()
	s.sharedPos.Readings = max(s.sharedPos.Readings, seq)
	s.holdNotes = true
	for _, r := range rs {
		sn, ok := s.opt.Sensors.Get(r.Sensor)
		if !ok {
			continue // a sensor since removed from the city
		}
		k := seriesKey{r.Sensor, r.Metric}
		if s.kept(k, r.Time.UnixMilli(), r.Time) {
			s.stats.Duplicates++
			continue
		}
		if s.opt.Series != nil {
			s.opt.Series.Add(r.Sensor, r.Metric, r.Time, r.Value)
		}
		s.apply(sn, r, owned)
	}
	return s.publishDecisions(ctx)
}

// publishDecisions stores the decisions taken under s.mu, then tells the
// changes they made; s.mu is held and holdNotes set, and both are released.
func (s *Service) publishDecisions(ctx context.Context) error {
	s.holdNotes = false
	evs, notes := s.outbox, s.notes
	s.outbox, s.notes = nil, nil
	s.mu.Unlock()
	var err error
	if len(evs) > 0 {
		if err = s.opt.Shared.PublishEvents(ctx, evs); err != nil {
			err = fmt.Errorf("live: store %d decisions: %w", len(evs), err)
		}
	}
	for _, e := range notes {
		s.opt.OnEvent(e)
	}
	return err
}

// ApplyEvents applies decisions followed from the decisions log; own says
// this instance took them, and so has applied them already; seq is the
// message's number in the log. Call it in the log's order, from one
// goroutine.
func (s *Service) ApplyEvents(seq uint64, evs []HistoryEvent, own bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sharedPos.Decisions = max(s.sharedPos.Decisions, seq)
	if own {
		return nil
	}
	var errs []error
	for _, ev := range evs {
		if err := s.applyEvent(ev, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Reconcile decides, for the series of the sensors owns admits, what their
// readings decided and no decision in the log says: what an owner that
// died between a reading and its decision left undone. Call it when this
// instance takes sensors over, once it has followed the decisions log to
// its end.
func (s *Service) Reconcile(ctx context.Context, owns func(sensor uint64) bool) error {
	s.mu.Lock()
	s.holdNotes = true
	s.reconcileOnly(owns)
	return s.publishDecisions(ctx)
}

// SharedPos is where a shared state stands in the two logs: the number of
// the last message of each applied.
type SharedPos struct {
	Readings, Decisions uint64
}

// SharedCheckpoint encodes the state and where it stands in the logs, so
// that a restart reads it back (RestoreShared) and follows the logs from
// there instead of from their first messages.
func (s *Service) SharedCheckpoint() ([]byte, SharedPos, error) {
	s.mu.Lock()
	pos := s.sharedPos
	encode := s.copyState()
	s.mu.Unlock()
	data, err := encode()
	return data, pos, err
}

// RestoreShared puts a shared state back from SharedCheckpoint's data,
// before the logs are followed, and returns where to follow them from.
func (s *Service) RestoreShared(data []byte) (SharedPos, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.decodeState(data); err != nil {
		return SharedPos{}, fmt.Errorf("live: checkpoint: %w", err)
	}
	return s.sharedPos, nil
}

// Joined puts in force, once the decisions log has been followed to its
// end, the rules Options asked for when the log's latest differ, or the
// defaults on a log that has none.
func (s *Service) Joined(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putStartRules(ctx)
}

// Position returns where a shared state stands in the two logs.
func (s *Service) Position() SharedPos {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sharedPos
}

// emit tells a change: now, or, while holdNotes is set, once the decisions
// behind it are stored. s.mu is held.
func (s *Service) emit(e Event) {
	if s.opt.OnEvent == nil {
		return
	}
	if s.holdNotes {
		s.notes = append(s.notes, e)
		return
	}
	s.opt.OnEvent(e)
}

// readingsFormat is the first byte of an encoded batch of readings.
const readingsFormat byte = 1

// MaxSharedReadings bounds the readings of one encoded batch.
const MaxSharedReadings = 100_000

// EncodeReadings encodes readings for the readings log.
func EncodeReadings(rs []Reading) []byte {
	b := make([]byte, 0, 1+len(rs)*40)
	b = append(b, readingsFormat)
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for _, r := range rs {
		rec := encodeReading(r)
		b = binary.AppendUvarint(b, uint64(len(rec)))
		b = append(b, rec...)
	}
	return b
}

// ErrBatch is returned for an encoded batch that cannot be read.
var ErrBatch = errors.New("live: malformed batch")

// DecodeReadings reads a batch EncodeReadings wrote.
func DecodeReadings(b []byte) ([]Reading, error) {
	if len(b) == 0 || b[0] != readingsFormat {
		return nil, fmt.Errorf("%w: not a batch of readings of format %d", ErrBatch, readingsFormat)
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > MaxSharedReadings || n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad count", ErrBatch)
	}
	b = b[k:]
	rs := make([]Reading, 0, n)
	for i := range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: reading %d is cut short", ErrBatch, i)
		}
		r, err := decodeReading(b[k : k+int(l)])
		if err != nil || b[k] != recReading {
			return nil, fmt.Errorf("%w: reading %d", ErrBatch, i)
		}
		rs = append(rs, r)
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last reading", ErrBatch, len(b))
	}
	return rs, nil
}

// EncodeEvents encodes decisions for the decisions log.
func EncodeEvents(evs []HistoryEvent) ([]byte, error) {
	b, err := json.Marshal(evs)
	if err != nil {
		return nil, fmt.Errorf("live: encode decisions: %w", err)
	}
	return b, nil
}

// DecodeEvents reads decisions EncodeEvents wrote.
func DecodeEvents(b []byte) ([]HistoryEvent, error) {
	var evs []HistoryEvent
	if err := json.Unmarshal(b, &evs); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBatch, err)
	}
	return evs, nil
}
