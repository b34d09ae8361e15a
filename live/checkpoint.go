package live

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"maps"
	"slices"
	"time"
)

// SeriesSnapshotter is a SeriesStore that a checkpoint can hold: the
// curves are saved with the state instead of being replayed.
type SeriesSnapshotter interface {
	// SnapshotFunc copies the curves cheaply and returns the copy's
	// encoder, which may run while readings are added again.
	SnapshotFunc() func(dst []byte) []byte
	LoadSnapshot(b []byte) error
}

// checkpointFormat is the version of the encoding below.
const checkpointFormat = 1

// snapshot is the live state as a checkpoint keeps it.
type snapshot struct {
	Format      int
	NextID      uint64
	Version     uint64
	Stats       Stats
	Alarms      []*Alarm // in the order raised
	ByAsset     map[uint64]uint64
	Versions    []RulesVersion
	VersionJSON map[uint64][]byte
	States      []stateRecord
	Curves      []byte
	// Shared is where a shared state stood in its logs (SharedCheckpoint).
	Shared SharedPos
}

// stateRecord is one series' engine state.
type stateRecord struct {
	Sensor                          uint64
	Metric                          string
	Alarm                           uint64
	Last, Since, Since0, ConstSince int64
	Value, First, Peak              float64
	Level, Pending                  int8
	Flags                           uint8
}

// copyState copies the state, s.mu held, and returns the copy's encoder,
// which runs without the lock: the pause ingest sees is the copy's.
func (s *Service) copyState() func() ([]byte, error) {
	sn := snapshot{Format: checkpointFormat, NextID: s.nextID, Version: s.version, Stats: s.stats, ByAsset: maps.Clone(s.byAsset),
		Versions: slices.Clone(s.versions), VersionJSON: maps.Clone(s.versionJSON), Shared: s.sharedPos}
	sn.Alarms = make([]*Alarm, 0, len(s.order))
	for _, id := range s.order {
		sn.Alarms = append(sn.Alarms, s.alarms[id].clone(true))
	}
	sn.States = make([]stateRecord, 0, len(s.states))
	for k, st := range s.states {
		x := &st.state
		sn.States = append(sn.States, stateRecord{Sensor: k.sensor, Metric: k.metric, Alarm: st.alarm, Last: x.last, Since: x.since, Since0: x.since0,
			ConstSince: x.constSince, Value: x.value, First: x.first, Peak: x.peak, Level: x.level, Pending: x.pending, Flags: x.flags})
	}
	var curves func([]byte) []byte
	if ss, ok := s.opt.Series.(SeriesSnapshotter); ok {
		curves = ss.SnapshotFunc()
	}
	return func() ([]byte, error) {
		if curves != nil {
			sn.Curves = curves(nil)
		}
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(&sn); err != nil {
			return nil, fmt.Errorf("live: encode the checkpoint: %w", err)
		}
		return b.Bytes(), nil
	}
}

// decodeState replaces the state with a checkpoint's; the service is not
// yet shared.
func (s *Service) decodeState(data []byte) error {
	var sn snapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&sn); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if sn.Format != checkpointFormat {
		return fmt.Errorf("format %d is not one this version reads (%d)", sn.Format, checkpointFormat)
	}
	s.nextID, s.version, s.stats, s.sharedPos = sn.NextID, sn.Version, sn.Stats, sn.Shared
	s.alarms, s.order = make(map[uint64]*Alarm, len(sn.Alarms)), make([]uint64, 0, len(sn.Alarms))
	for _, a := range sn.Alarms {
		if len(a.Acks) > 0 {
			a.Ack = &a.Acks[len(a.Acks)-1]
		}
		s.alarms[a.ID] = a
		s.order = append(s.order, a.ID)
	}
	if sn.ByAsset != nil {
		s.byAsset = sn.ByAsset
	}
	s.versions = sn.Versions
	if sn.VersionJSON != nil {
		s.versionJSON = sn.VersionJSON
	}
	if n := len(s.versions); n > 0 {
		raw := s.versionJSON[s.versions[n-1].Version]
		rs := DefaultRules()
		if raw != nil {
			var err error
			if rs, err = ParseRulesWithin(raw, keptRulesWithin); err != nil {
				return fmt.Errorf("rules version %d: %w", s.versions[n-1].Version, err)
			}
		}
		s.rules, s.rulesJSON = rs, raw
	}
	for _, r := range sn.States {
		st := &seriesState{alarm: r.Alarm, state: State{last: r.Last, since: r.Since, since0: r.Since0, constSince: r.ConstSince,
			value: r.Value, first: r.First, peak: r.Peak, level: r.Level, pending: r.Pending, flags: r.Flags}}
		if sensor, ok := s.opt.Sensors.Get(r.Sensor); ok {
			st.rule = s.rules.Lookup(r.Metric, sensor.AssetLayer, sensor.AssetKind, sensor.ID)
		}
		s.states[seriesKey{r.Sensor, r.Metric}] = st
	}
	if ss, ok := s.opt.Series.(SeriesSnapshotter); ok && sn.Curves != nil {
		if err := ss.LoadSnapshot(sn.Curves); err != nil {
			return fmt.Errorf("curves: %w", err)
		}
	}
	return nil
}

// CheckpointInfo says what a checkpoint took.
type CheckpointInfo struct {
	Pos   uint64        `json:"pos"`
	Bytes int           `json:"bytes"`
	Pause time.Duration `json:"pause"` // how long ingest waited
	Took  time.Duration `json:"took"`
	// Alarms is the number of cleared alarms let go as past their retention.
	Alarms int `json:"alarms_pruned"`
}

// Checkpoint saves the live state in the journal and prunes what it
// covers: the journal behind it, readings and cleared alarms older than
// the retention. Ingest waits while the state is copied, not while it is
// encoded and written.
func (s *Service) Checkpoint(ctx context.Context) (CheckpointInfo, error) {
	j := s.opt.Journal
	if j == nil {
		return CheckpointInfo{}, nil
	}
	start := time.Now()
	now := s.opt.Now()
	s.mu.Lock()
	s.quiesce()
	pruned := s.pruneAlarms(now.Add(-s.opt.AlarmRetention))
	pos, err := j.Mark(ctx)
	var encode func() ([]byte, error)
	if err == nil {
		encode = s.copyState()
	}
	s.release()
	s.mu.Unlock()
	info := CheckpointInfo{Pos: pos, Pause: time.Since(start), Alarms: pruned}
	var data []byte
	if err == nil {
		data, err = encode()
		info.Bytes = len(data)
	}
	if err != nil {
		return info, fmt.Errorf("live: checkpoint: %w", err)
	}
	if err := j.SaveCheckpoint(ctx, Checkpoint{Pos: pos, At: now.UTC(), Data: data}); err != nil {
		return info, fmt.Errorf("live: checkpoint: %w", err)
	}
	if err := j.Prune(ctx, pos, now.Add(-s.opt.Retention)); err != nil {
		return info, fmt.Errorf("live: checkpoint: %w", err)
	}
	info.Took = time.Since(start)
	return info, nil
}

// pruneAlarms lets go of the alarms cleared before cutoff; s.mu is held.
func (s *Service) pruneAlarms(cutoff time.Time) int {
	keep := s.order[:0]
	n := 0
	for _, id := range s.order {
		a := s.alarms[id]
		if a.State == ClearedState && a.Cleared != nil && a.Cleared.Before(cutoff) {
			delete(s.alarms, id)
			if s.byAsset[a.Asset] == id {
				delete(s.byAsset, a.Asset)
			}
			n++
			continue
		}
		keep = append(keep, id)
	}
	clear(s.order[len(keep):])
	s.order = keep
	return n
}
