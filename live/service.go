package live

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
)

// SeriesStore keeps readings for the curves.
type SeriesStore interface {
	Add(sensor uint64, metric string, t time.Time, v float64)
}

// History answers what rules ask of the past: the figures of a series over
// a span of time. The curves store answers it.
type History interface {
	Stats(sensor uint64, metric string, from, to time.Time) (min, max, avg float64, n int)
}

// Attributes the engine derives from history when a rule refers to them.
const (
	// AttrFlowLastWeek is the mean flow of the same hour a week before.
	AttrFlowLastWeek = "flow_last_week"
	// AttrPressureDrop is 1 while the sensor's pressure has fallen by
	// PressureDropMPa or more within the last 10 minutes.
	AttrPressureDrop = "pressure_drop"
	// PressureDropMPa is the fall that counts as a pressure drop.
	PressureDropMPa = 0.05
)

// Event is a change the live map shows: an alarm raised, changed, cleared or
// acknowledged, or a sensor metric's new reading, level or health.
type Event struct {
	Kind   string  `json:"kind"` // "alarm", "sensor"
	Alarm  *Alarm  `json:"alarm,omitempty"`
	Sensor uint64  `json:"sensor,omitempty"`
	Metric string  `json:"metric,omitempty"`
	Level  Level   `json:"level"`
	Health string  `json:"health,omitempty"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	// Time is the time of the sensor's latest reading.
	Time time.Time `json:"time"`
	// Changed says the sensor metric's level or health changed, not only
	// its value.
	Changed bool      `json:"changed"`
	At      time.Time `json:"at"`
}

// Options configure a Service.
type Options struct {
	Sensors *Sensors
	Rules   *RuleSet
	// RulesJSON is the file Rules was parsed from; nil for the defaults.
	RulesJSON []byte
	Journal   Journal     // nil keeps nothing across restarts
	Series    SeriesStore // nil keeps no curves
	// History, if set, gives rules that compare with the past (flow against
	// the same hour last week, flow with a pressure drop) what they need.
	History History
	// Attrs returns the attributes of a sensor's asset that relative rules
	// refer to (nominal pressure, design limits).
	Attrs func(s *Sensor) map[string]float64
	// Retention is how long readings are kept (default DefaultRetention).
	Retention time.Duration
	// AlarmRetention is how long a cleared alarm is kept in the live
	// state (default three times Retention); the journal keeps its events.
	AlarmRetention time.Duration
	Now            func() time.Time
	Log            *slog.Logger
	// OnEvent, if set, hears every change; it must not block.
	OnEvent func(Event)
	// Shared, if set, shares the live state with the other instances of a
	// cluster (see Shared); Journal is then nil, the logs being the
	// journal, and the rules come from the decisions log (see Joined).
	Shared Shared
}

// Service is the live state of a city: ingest, the alarm engine, the
// alarms. It is safe for concurrent use.
//
// Every decision the engine or a person takes — an alarm raised, changed,
// cleared, acknowledged, a new version of the rules — is a HistoryEvent,
// journalled and then applied to the state by one function, at ingest and
// at replay alike: a restart rebuilds the alarms from their events and
// never judges the past again. Readings replayed move only the engine's
// per-series state and the curves.
type Service struct {
	opt Options

	mu        sync.Mutex
	rules     *RuleSet
	rulesJSON []byte // the file rules came from; nil for the defaults
	// versions are the versions of the rules, oldest first; versionJSON
	// their files (nil for the defaults).
	versions    []RulesVersion
	versionJSON map[uint64][]byte
	states      map[seriesKey]*seriesState
	alarms      map[uint64]*Alarm
	order       []uint64 // alarm ids in the order raised
	nextID      uint64
	byAsset     map[uint64]uint64 // asset → id of its latest incident's first alarm
	version     uint64            // grows with every change of any alarm
	stats       Stats

	// outbox holds the events applied under mu and not yet journalled.
	outbox []HistoryEvent
	// While holdNotes is set, the changes told to OnEvent wait in notes
	// for the decisions behind them to be stored (Shared).
	holdNotes bool
	notes     []Event
	// sharedPos is the last message of each log applied (Shared).
	sharedPos SharedPos

	// Batches queued to a QueueJournal are applied in turn: queued counts
	// those queued, applied those applied (or failed); turnDone, on mu, is
	// signalled as each is. While hold is above 0 no batch is queued, so
	// that a rules change or a checkpoint sees every batch applied.
	queued, applied uint64
	hold            int
	turnDone        *sync.Cond
	pending         map[readingKey]bool // readings queued, not yet applied
}

type seriesKey struct {
	sensor uint64
	metric string
}

type seriesState struct {
	state State
	rule  *Rule
	alarm uint64 // the open alarm, 0 for none
}

// Stats counts what ingest has done.
type Stats struct {
	Accepted   uint64 `json:"accepted"`
	Refused    uint64 `json:"refused"`
	Duplicates uint64 `json:"duplicates"`
	// RefusedByCode splits Refused by refusal code.
	RefusedByCode map[string]uint64 `json:"refused_by_code,omitempty"`
}

// NewService returns the live state of the sensors, rebuilt from the
// journal's last checkpoint and what came after it. Options.Rules, when
// set, is put in force as a new version if it differs from the journal's
// latest; without it the journal's latest version stays in force.
func NewService(o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.AlarmRetention == 0 {
		o.AlarmRetention = 3 * o.Retention
	}
	s := &Service{opt: o, rules: DefaultRules(), states: map[seriesKey]*seriesState{}, alarms: map[uint64]*Alarm{}, byAsset: map[uint64]uint64{},
		pending: map[readingKey]bool{}, versionJSON: map[uint64][]byte{}}
	s.turnDone = sync.NewCond(&s.mu)
	if o.Shared != nil {
		if o.Journal != nil {
			return nil, fmt.Errorf("live: a shared live state keeps no journal of its own")
		}
		return s, nil
	}
	ctx := context.Background()
	if o.Journal != nil {
		if err := s.restore(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.putStartRules(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// putStartRules puts the rules Options asked for in force as a version of
// their own when they differ from the latest kept, or the defaults when
// none is kept; s.mu is held, or the service is not yet shared.
func (s *Service) putStartRules(ctx context.Context) error {
	want, wantJSON := s.opt.Rules, s.opt.RulesJSON
	if want == nil && len(s.versions) == 0 {
		want = DefaultRules()
	}
	if want != nil && (len(s.versions) == 0 || !bytes.Equal(wantJSON, s.rulesJSON)) {
		if _, err := s.putRules(ctx, want, wantJSON, "", "start"); err != nil {
			return err
		}
	}
	return nil
}

// restore reads the last checkpoint and replays the journal after it, then
// makes the alarms agree with the engine's state where a crash came
// between a reading and its decision.
func (s *Service) restore(ctx context.Context) error {
	j := s.opt.Journal
	start := time.Now()
	var after uint64
	cp, err := j.LastCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("live: read the last checkpoint: %w", err)
	}
	if cp != nil {
		if err := s.decodeState(cp.Data); err != nil {
			return fmt.Errorf("live: checkpoint at %d: %w", cp.Pos, err)
		}
		after = cp.Pos
	}
	readings, events := 0, 0
	err = j.Replay(ctx, after, func(r Reading) error {
		readings++
		s.replayReading(r)
		return nil
	}, func(ev HistoryEvent) error {
		events++
		return s.applyEvent(ev, false)
	})
	if err != nil {
		return fmt.Errorf("live: replay the journal: %w", err)
	}
	s.reconcile()
	if len(s.outbox) > 0 {
		s.opt.Log.Warn("alarms reconciled with the readings journalled before a crash", "events", len(s.outbox))
		if err := j.AppendEvents(ctx, s.outbox); err != nil {
			return fmt.Errorf("live: journal: %w", err)
		}
		s.outbox = s.outbox[:0]
	}
	if cp != nil || readings+events > 0 {
		s.opt.Log.Info("live state rebuilt", "checkpoint", after, "readings", readings, "events", events,
			"alarms", len(s.alarms), "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// reconcile makes each open alarm agree with its series' level: the
// journal keeps readings before the decisions they led to, and a crash
// between the two leaves the decision out. s.mu is held, or the service is
// not yet shared.
func (s *Service) reconcile() { s.reconcileOnly(nil) }

// reconcileOnly reconciles the series of the sensors owns admits, all
// with nil. Shared, the changes are told as they are made; s.mu is held.
func (s *Service) reconcileOnly(owns func(sensor uint64) bool) {
	keys := make([]seriesKey, 0, len(s.states))
	for k := range s.states {
		if owns == nil || owns(k.sensor) {
			keys = append(keys, k)
		}
	}
	// A fixed order gives the same ids on every run.
	slices.SortFunc(keys, func(a, b seriesKey) int {
		if a.sensor != b.sensor {
			return cmp.Compare(a.sensor, b.sensor)
		}
		return strings.Compare(a.metric, b.metric)
	})
	for _, k := range keys {
		st := s.states[k]
		sn, ok := s.opt.Sensors.Get(k.sensor)
		if !ok || st.rule == nil || st.state.flags&flagSeen == 0 {
			continue // no reading replayed: nothing to say against the events
		}
		if st.alarm != 0 && st.state.last <= s.alarms[st.alarm].Updated.UnixMilli() {
			continue // the alarm's last decision came after the last reading
		}
		at := st.state.LastTime()
		from := len(s.outbox)
		s.decide(sn, st, Transition{Kind: None, To: st.state.Level(), First: st.state.first, Peak: st.state.peak,
			Reading: Reading{Sensor: k.sensor, Metric: k.metric, Value: st.state.value, Time: at}}, at, s.opt.Shared != nil, true)
		for i := from; i < len(s.outbox); i++ {
			s.outbox[i].Reconciled = true
		}
	}
}

// replayReading applies a journalled reading to the engine's state and the
// curves; the decisions it led to follow it in the journal.
func (s *Service) replayReading(r Reading) {
	sn, ok := s.opt.Sensors.Get(r.Sensor)
	if !ok {
		return // a sensor since removed from the city
	}
	if s.opt.Series != nil {
		s.opt.Series.Add(r.Sensor, r.Metric, r.Time, r.Value)
	}
	s.apply(sn, r, false)
}

// IngestResult is the answer to a batch.
type IngestResult struct {
	Accepted int `json:"accepted"`
	// Refused lists the first MaxRefusals refusals; RefusedTotal and
	// RefusedByCode count them all.
	Refused       []Refusal      `json:"refused"`
	RefusedTotal  int            `json:"refused_total"`
	RefusedByCode map[string]int `json:"refused_by_code"`
}

// Ingest checks a batch of readings, makes the good ones durable, then
// applies them to the alarm engine. One bad reading never refuses the good
// ones; a reading already accepted (same sensor, metric and time) is
// accepted again and changes nothing. allowed, if not nil, says whether the
// sender may report for a sensor.
func (s *Service) Ingest(ctx context.Context, body io.Reader, allowed func(*Sensor) bool) (*IngestResult, error) {
	now := s.opt.Now()
	res := &IngestResult{}
	var refused Refusals
	var good []Reading
	var goodSensors []*Sensor
	refuse := func(i int, code, msg string) { refused.Add(i, code, func() string { return msg }) }
	_, err := DecodeBatch(body, func(i int, raw *RawReading) {
		sn, ok := s.opt.Sensors.Resolve(raw.Sensor)
		if !ok {
			refuse(i, CodeUnknownSensor, fmt.Sprintf("no sensor %s", Clip(string(raw.Sensor))))
			return
		}
		if allowed != nil && !allowed(sn) {
			refuse(i, CodeForbidden, fmt.Sprintf("this token may not report for sensor %s", sn.Code))
			return
		}
		if !sn.Measures(raw.Metric) {
			refuse(i, CodeUnknownMetric, fmt.Sprintf("sensor %s does not measure %q (it measures %v)", sn.Code, Clip(raw.Metric), sn.Metrics))
			return
		}
		m := LookupMetric(raw.Metric)
		if m == nil {
			refuse(i, CodeUnknownMetric, fmt.Sprintf("metric %q is not in the catalog", Clip(raw.Metric)))
			return
		}
		v, ref := ParseValue(raw.Value)
		if ref != nil {
			refuse(i, ref.Code, ref.Message)
			return
		}
		u, ok := m.Unit(raw.Unit)
		if !ok {
			refuse(i, CodeUnitMismatch, fmt.Sprintf("%s is reported in %s, not %q", m.ID, unitSymbols(m), Clip(raw.Unit)))
			return
		}
		if v < u.Min || v > u.Max {
			refuse(i, CodeOutOfRange, fmt.Sprintf("%v %s is outside what %s can be (%v to %v)", v, u.Symbol, m.ID, u.Min, u.Max))
			return
		}
		t, ref := ParseTime(raw.TS)
		if ref != nil {
			refuse(i, ref.Code, ref.Message)
			return
		}
		if t.After(now.Add(MaxFuture)) {
			refuse(i, CodeFuture, fmt.Sprintf("ts %s is more than %s ahead of the server's clock", t.Format(time.RFC3339), MaxFuture))
			return
		}
		if t.Before(now.Add(-s.opt.Retention)) {
			refuse(i, CodeTooOld, fmt.Sprintf("ts %s is older than the retention of %s", t.Format(time.RFC3339), Span(s.opt.Retention)))
			return
		}
		good = append(good, Reading{Sensor: sn.ID, Metric: m.ID, Value: v, Unit: u.Symbol, Time: t})
		goodSensors = append(goodSensors, sn)
	}, &refused)
	res.setRefused(&refused)
	bodyErr := err

	// Durable before acknowledged: journal first, then the state.
	s.mu.Lock()
	var fresh []int
	seen := map[readingKey]bool{}
	for i, r := range good {
		k := seriesKey{r.Sensor, r.Metric}
		rk := readingKey{k, r.Time.UnixMilli()}
		if seen[rk] || s.pending[rk] || s.kept(k, rk.ms, r.Time) {
			s.stats.Duplicates++
			continue
		}
		seen[rk] = true
		fresh = append(fresh, i)
	}
	rs := make([]Reading, len(fresh))
	for j, i := range fresh {
		rs[j] = good[i]
	}
	if s.opt.Shared != nil {
		return s.publishReadings(ctx, res, rs, len(good), bodyErr)
	}
	apply := func() {
		for _, i := range fresh {
			r := good[i]
			if s.opt.Series != nil {
				s.opt.Series.Add(r.Sensor, r.Metric, r.Time, r.Value)
			}
			s.apply(goodSensors[i], r, true)
		}
		s.count(len(good), res)
	}
	if err := s.journalThenApply(ctx, rs, seen, apply); err != nil {
		return nil, err
	}
	res.Accepted = len(good)
	if bodyErr != nil {
		return res, bodyErr
	}
	return res, nil
}

// publishReadings stores a batch's new readings rs in the readings log
// (Shared), where every instance, this one too, follows them into its
// state; good counts the batch's good readings. s.mu is held and released.
func (s *Service) publishReadings(ctx context.Context, res *IngestResult, rs []Reading, good int, bodyErr error) (*IngestResult, error) {
	s.mu.Unlock()
	if len(rs) > 0 {
		if err := s.opt.Shared.PublishReadings(ctx, rs); err != nil {
			return nil, fmt.Errorf("live: store readings: %w", err)
		}
	}
	s.mu.Lock()
	s.count(good, res)
	s.mu.Unlock()
	res.Accepted = good
	return res, bodyErr
}

// count adds a batch's accepted and refused readings to the counters;
// s.mu is held.
func (s *Service) count(accepted int, res *IngestResult) {
	s.stats.Accepted += uint64(accepted)
	s.stats.Refused += uint64(res.RefusedTotal)
	for code, n := range res.RefusedByCode {
		if s.stats.RefusedByCode == nil {
			s.stats.RefusedByCode = map[string]uint64{}
		}
		s.stats.RefusedByCode[code] += uint64(n)
	}
}

// kept reports whether a reading of series k at ms was applied already:
// it is the latest, or, when it is older, the curves hold it. s.mu is held.
func (s *Service) kept(k seriesKey, ms int64, t time.Time) bool {
	st, ok := s.states[k]
	if !ok || st.state.flags&flagSeen == 0 || ms > st.state.last {
		return false
	}
	if ms == st.state.last {
		return true
	}
	h, ok := s.opt.Series.(interface {
		Has(sensor uint64, metric string, t time.Time) bool
	})
	return ok && h.Has(k.sensor, k.metric, t)
}

// readingKey names one reading: its series and time.
type readingKey struct {
	seriesKey
	ms int64
}

// journalThenApply makes rs durable, then calls apply, then makes the
// decisions apply took durable too; s.mu is held when it is called and
// released when it returns. A journal that can queue (QueueJournal) is
// waited on without the lock, so that batches share its fsyncs and readers
// of the state do not wait on them; the batches are applied in the order
// they were queued, which is the journal's, and their decisions queued as
// they are applied.
func (s *Service) journalThenApply(ctx context.Context, rs []Reading, keys map[readingKey]bool, apply func()) error {
	qj, queues := s.opt.Journal.(QueueJournal)
	if s.opt.Journal == nil || len(rs) == 0 || !queues {
		defer s.mu.Unlock()
		if s.opt.Journal != nil && len(rs) > 0 {
			if err := s.opt.Journal.AppendReadings(ctx, rs); err != nil {
				return fmt.Errorf("live: journal: %w", err)
			}
		}
		apply()
		return s.flushEvents(ctx)
	}
	for s.hold > 0 {
		s.turnDone.Wait()
	}
	wait, err := qj.QueueReadings(ctx, rs)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("live: journal: %w", err)
	}
	// Until applied, the readings are pending: a batch that brings them
	// again meanwhile is a duplicate.
	for k := range keys {
		s.pending[k] = true
	}
	turn := s.queued
	s.queued++
	s.mu.Unlock()

	err = wait()

	s.mu.Lock()
	for s.applied != turn {
		s.turnDone.Wait()
	}
	for k := range keys {
		delete(s.pending, k)
	}
	var waitEvents func() error
	if err == nil {
		apply()
		if len(s.outbox) > 0 {
			waitEvents, err = qj.QueueEvents(ctx, s.outbox)
			s.outbox = s.outbox[:0]
		}
	}
	s.applied++
	s.turnDone.Broadcast()
	s.mu.Unlock()
	if err == nil && waitEvents != nil {
		err = waitEvents()
	}
	if err != nil {
		return fmt.Errorf("live: journal: %w", err)
	}
	return nil
}

// flushEvents journals the decisions applied and not yet journalled; s.mu
// is held.
func (s *Service) flushEvents(ctx context.Context) error {
	if len(s.outbox) == 0 || s.opt.Journal == nil {
		s.outbox = s.outbox[:0]
		return nil
	}
	err := s.opt.Journal.AppendEvents(ctx, s.outbox)
	s.outbox = s.outbox[:0]
	if err != nil {
		return fmt.Errorf("live: journal: %w", err)
	}
	return nil
}

// quiesce waits, s.mu held, until every batch queued is applied, and keeps
// new ones from being queued until release.
func (s *Service) quiesce() {
	s.hold++
	for s.applied != s.queued {
		s.turnDone.Wait()
	}
}

// release undoes quiesce; s.mu is held.
func (s *Service) release() {
	s.hold--
	s.turnDone.Broadcast()
}

func unitSymbols(m *Metric) []string {
	var out []string
	for _, u := range m.Units {
		out = append(out, u.Symbol)
	}
	return out
}

// apply runs a reading through its rule and updates the alarm; s.mu is held.
// Live, what the rule decides is an event, applied and queued for the
// journal; replayed, the decision is read from the journal instead.
func (s *Service) apply(sn *Sensor, r Reading, live bool) {
	k := seriesKey{r.Sensor, r.Metric}
	st, ok := s.states[k]
	if !ok {
		st = &seriesState{rule: s.rules.Lookup(r.Metric, sn.AssetLayer, sn.AssetKind, sn.ID)}
		s.states[k] = st
	}
	if st.rule == nil {
		return // a metric with no rule: kept for curves only
	}
	var attrs map[string]float64
	if s.opt.Attrs != nil && st.rule.RelativeTo != "" {
		attrs = s.opt.Attrs(sn)
	}
	attrs = s.historyAttrs(st.rule, sn, r, attrs)
	tr := st.rule.Evaluate(&st.state, r, attrs)
	s.decide(sn, st, tr, r.Time, live, live)
}

// historyAttrs adds to attrs what the rule asks of the past, in a new map
// (attrs may be shared); without History it adds nothing.
func (s *Service) historyAttrs(rule *Rule, sn *Sensor, r Reading, attrs map[string]float64) map[string]float64 {
	if s.opt.History == nil {
		return attrs
	}
	needDrop := false
	for _, th := range rule.Levels {
		needDrop = needDrop || th.When == AttrPressureDrop
	}
	if rule.RelativeTo != AttrFlowLastWeek && !needDrop {
		return attrs
	}
	out := make(map[string]float64, len(attrs)+2)
	for k, v := range attrs {
		out[k] = v
	}
	if rule.RelativeTo == AttrFlowLastWeek {
		week := r.Time.Add(-7 * 24 * time.Hour)
		if _, _, avg, n := s.opt.History.Stats(sn.ID, r.Metric, week.Add(-30*time.Minute), week.Add(30*time.Minute)); n > 0 {
			out[AttrFlowLastWeek] = avg
		}
	}
	if needDrop && sn.Measures("pressure") {
		if st, ok := s.states[seriesKey{sn.ID, "pressure"}]; ok && st.state.flags&flagSeen != 0 {
			_, hi, _, n := s.opt.History.Stats(sn.ID, "pressure", r.Time.Add(-10*time.Minute), r.Time.Add(time.Millisecond))
			if n > 0 && hi-st.state.value >= PressureDropMPa {
				out[AttrPressureDrop] = 1
			}
		}
	}
	return out
}

// decide turns what a reading (or reconciliation) did to a series into the
// alarm's events; s.mu is held. With record, a change of level becomes an
// event, applied now and queued for the journal; without, only the open
// alarm's latest value follows the reading, since replay reads the events
// from the journal. live publishes the changes.
func (s *Service) decide(sn *Sensor, st *seriesState, tr Transition, at time.Time, live, record bool) {
	// The event is what the level does to the open alarm, whatever state
	// the engine started from (one rebuilt from part of the readings may
	// raise what is open already).
	var cur Level
	if st.alarm != 0 {
		cur = s.alarms[st.alarm].Level
	}
	var kind TransitionKind
	switch {
	case tr.Kind == Ignored || tr.To == cur:
	case cur == 0:
		kind = Raised
	case tr.To == 0:
		kind = Cleared
	case worse(tr.To, cur):
		kind = Escalated
	default:
		kind = DeEscalated
	}
	if kind != None && record {
		ev := HistoryEvent{Kind: EventKind(kind.String()), At: at.UTC(), Alarm: st.alarm, Sensor: sn.ID, Metric: tr.Reading.Metric,
			RuleVersion: s.ruleVersion(), From: cur, To: tr.To, Value: tr.Reading.Value, First: tr.First, Peak: tr.Peak, Reconciled: !live}
		if kind == Raised {
			if s.opt.Shared != nil {
				s.nextID = s.opt.Shared.AlarmID(sn.ID, s.nextID)
			} else {
				s.nextID++
			}
			ev.Alarm = s.nextID
			// One incident for alarms on one asset close in time.
			ev.Incident = ev.Alarm
			if first, ok := s.byAsset[sn.Asset]; ok && sn.Asset != 0 {
				if f := s.alarms[first]; f != nil && at.Sub(f.Started) <= IncidentWindow && (f.State == Active || f.Cleared != nil && at.Sub(*f.Cleared) <= IncidentWindow) {
					ev.Incident = f.Incident
				}
			}
		}
		s.applyEvent(ev, live)
		s.outbox = append(s.outbox, ev)
	} else if kind == None && tr.Kind != Ignored && st.alarm != 0 {
		a := s.alarms[st.alarm]
		a.Last, a.Updated = tr.Reading.Value, at
		a.Peak = tr.Peak
	}
	if live && (tr.Changed() || tr.Kind == None) {
		s.emit(Event{Kind: "sensor", Sensor: sn.ID, Metric: tr.Reading.Metric, Level: tr.To, Health: tr.Health.String(),
			Value: st.state.value, Unit: unitOf(tr.Reading.Metric), Time: st.state.LastTime(), Changed: tr.Changed(), At: at})
	}
}

// ruleVersion returns the number of the rules in force; s.mu is held.
func (s *Service) ruleVersion() uint64 {
	if len(s.versions) == 0 {
		return 0
	}
	return s.versions[len(s.versions)-1].Version
}

// applyEvent applies one history event to the state, at ingest (live: the
// change is published) and at replay alike; s.mu is held.
func (s *Service) applyEvent(ev HistoryEvent, live bool) error {
	if ev.Kind == EventRules {
		return s.applyRules(ev)
	}
	if ev.Kind == EventRaised {
		s.raise(ev)
	}
	a := s.alarms[ev.Alarm]
	if a == nil {
		return nil // an alarm the retention has let go
	}
	switch ev.Kind {
	case EventRaised, EventEscalated, EventDeEscalated, EventCleared:
		s.version++
		a.Level, a.First, a.Peak, a.Last, a.Updated = ev.To, ev.First, ev.Peak, ev.Value, ev.At
		if a.MaxLevel == 0 || (ev.To != 0 && ev.To < a.MaxLevel) {
			a.MaxLevel = ev.To
		}
		a.Changes = append(a.Changes, Change{Kind: string(ev.Kind), From: ev.From, To: ev.To, Value: ev.Value, At: ev.At, RuleVersion: ev.RuleVersion})
		st := s.states[seriesKey{a.Sensor, a.Metric}]
		if ev.Kind == EventCleared {
			a.Level = 0
			a.State = ClearedState
			c := ev.At
			a.Cleared = &c
			if st != nil && st.alarm == a.ID {
				st.alarm = 0
			}
		} else if !live && st != nil && st.alarm == a.ID && st.state.last > ev.At.UnixMilli() {
			// Readings of the same batch came after the change; they move
			// the open alarm's latest value as they did when they came.
			a.Last, a.Updated, a.Peak = st.state.value, st.state.LastTime(), st.state.peak
		}
	case EventAcknowledged:
		ack := Ack{By: ev.By, At: ev.At, Note: ev.Note}
		a.Acks = append(a.Acks, ack)
		a.Ack = &a.Acks[len(a.Acks)-1]
	default:
		return nil // a kind this version does not know is kept, not applied
	}
	if live {
		s.emit(Event{Kind: "alarm", Alarm: a.clone(false), At: ev.At})
	}
	return nil
}

// raise makes the alarm a raised event names; s.mu is held.
func (s *Service) raise(ev HistoryEvent) {
	if _, ok := s.alarms[ev.Alarm]; ok {
		return
	}
	a := &Alarm{ID: ev.Alarm, Sensor: ev.Sensor, Metric: ev.Metric, Unit: unitOf(ev.Metric), State: Active, Started: ev.At,
		Incident: ev.Incident, RuleVersion: ev.RuleVersion}
	if a.Incident == 0 {
		a.Incident = a.ID
	}
	sn, ok := s.opt.Sensors.Get(ev.Sensor)
	if ok {
		a.SensorCode, a.Asset, a.AssetLayer, a.Location, a.Domain, a.District = sn.Code, sn.Asset, sn.AssetLayer, [2]float64(sn.Location), sn.Domain, sn.District
		if a.Incident == a.ID && sn.Asset != 0 {
			s.byAsset[sn.Asset] = a.ID
		}
	}
	s.alarms[a.ID] = a
	s.order = append(s.order, a.ID)
	s.nextID = max(s.nextID, a.ID)
	k := seriesKey{ev.Sensor, ev.Metric}
	st := s.states[k]
	if st == nil && ok {
		st = &seriesState{rule: s.rules.Lookup(ev.Metric, sn.AssetLayer, sn.AssetKind, sn.ID)}
		s.states[k] = st
	}
	if st != nil {
		st.alarm = a.ID
	}
}

// clone copies the alarm; with changes, its changes and acknowledgements
// too.
func (a *Alarm) clone(changes bool) *Alarm {
	cp := *a
	cp.Acks = slices.Clone(a.Acks)
	if len(cp.Acks) > 0 {
		cp.Ack = &cp.Acks[len(cp.Acks)-1]
	}
	if changes {
		cp.Changes = slices.Clone(a.Changes)
	} else {
		cp.Changes = nil
	}
	return &cp
}

// CheckStale marks silent sensors offline; call it every few seconds.
func (s *Service) CheckStale() {
	now := s.opt.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.states {
		if st.rule == nil {
			continue
		}
		sn, ok := s.opt.Sensors.Get(k.sensor)
		if !ok {
			continue
		}
		tr := st.rule.CheckStale(&st.state, now, sn.Interval)
		// Shared, the sensor's owner tells the change, once.
		if tr.HealthChanged() && (s.opt.Shared == nil || s.opt.Shared.Owns(sn.ID)) {
			s.emit(Event{Kind: "sensor", Sensor: sn.ID, Metric: k.metric, Level: tr.To, Health: tr.Health.String(),
				Value: st.state.value, Unit: unitOf(k.metric), Time: st.state.LastTime(), Changed: true, At: now})
		}
	}
}

// ErrNoAlarm is returned for an alarm id that does not exist.
var ErrNoAlarm = errors.New("live: no such alarm")

// Acknowledge records that an operator has seen an alarm. Every
// acknowledgement is kept, in order; the alarm's Ack is the latest.
func (s *Service) Acknowledge(ctx context.Context, id uint64, by, note string) (*Alarm, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alarms[id]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrNoAlarm, id)
	}
	ev := HistoryEvent{Kind: EventAcknowledged, Alarm: id, By: by, Note: note, At: s.opt.Now().UTC().Truncate(time.Millisecond)}
	if err := s.keep(ctx, ev); err != nil {
		return nil, err
	}
	s.applyEvent(ev, true)
	return a.clone(true), nil
}

// AlarmFilter selects alarms; zero fields select all.
type AlarmFilter struct {
	State    AlarmState
	Level    Level // this level or more severe
	Domain   Domain
	District string
	BBox     *orb.Bound
	From, To time.Time // started within
	// Overlap selects by From and To the alarms active at some time between
	// them instead: started by To and not cleared before From.
	Overlap bool
	Limit   int
	// Sensor, if set, admits only the alarms of the sensors it admits (a
	// user limited to some units or districts).
	Sensor func(id uint64) bool
}

// Alarms returns the alarms the filter selects, newest first.
func (s *Service) Alarms(f AlarmFilter) []Alarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Alarm
	for i := len(s.order) - 1; i >= 0; i-- {
		a := s.alarms[s.order[i]]
		switch {
		case f.State != "" && a.State != f.State,
			f.Level != 0 && (a.MaxLevel == 0 || a.MaxLevel > f.Level),
			f.Domain != "" && a.Domain != f.Domain,
			f.District != "" && a.District != f.District,
			f.BBox != nil && !f.BBox.Contains(orb.Point(a.Location)),
			!f.Overlap && !f.From.IsZero() && a.Started.Before(f.From),
			f.Overlap && !f.From.IsZero() && a.Cleared != nil && a.Cleared.Before(f.From),
			!f.To.IsZero() && a.Started.After(f.To),
			f.Sensor != nil && !f.Sensor(a.Sensor):
			continue
		}
		out = append(out, *a.clone(false))
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out
}

// Alarm returns one alarm with its changes.
func (s *Service) Alarm(id uint64) (*Alarm, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alarms[id]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrNoAlarm, id)
	}
	return a.clone(true), nil
}

// MetricState is the latest state of one metric of a sensor.
type MetricState struct {
	Metric string    `json:"metric"`
	Value  float64   `json:"value"`
	Unit   string    `json:"unit"`
	Time   time.Time `json:"time"`
	Level  Level     `json:"level"`
	Health string    `json:"health"`
	Alarm  uint64    `json:"alarm,omitempty"`
}

// SensorState returns the latest state of each metric a sensor has reported.
func (s *Service) SensorState(sn *Sensor) []MetricState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MetricState
	for _, m := range sn.Metrics {
		st, ok := s.states[seriesKey{sn.ID, m}]
		if !ok || st.state.flags&flagSeen == 0 {
			continue
		}
		out = append(out, MetricState{Metric: m, Value: st.state.value, Unit: unitOf(m), Time: st.state.LastTime(), Level: st.state.Level(), Health: st.state.Health().String(), Alarm: st.alarm})
	}
	return out
}

// StatesIn calls fn with the latest state of each metric reported by the
// sensors within b; with abnormal, only of metrics at an alarm level or not
// online.
func (s *Service) StatesIn(b orb.Bound, abnormal bool, fn func(sn *Sensor, m MetricState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opt.Sensors.In(b, func(sn *Sensor) bool {
		for _, m := range sn.Metrics {
			st, ok := s.states[seriesKey{sn.ID, m}]
			if !ok || st.state.flags&flagSeen == 0 {
				continue
			}
			lv, h := st.state.Level(), st.state.Health()
			if abnormal && lv == 0 && h == Online {
				continue
			}
			fn(sn, MetricState{Metric: m, Value: st.state.value, Unit: unitOf(m), Time: st.state.LastTime(), Level: lv, Health: h.String(), Alarm: st.alarm})
		}
		return true
	})
}

func unitOf(metric string) string {
	if md := LookupMetric(metric); md != nil {
		return md.Units[0].Symbol
	}
	return ""
}

// Version grows whenever an alarm is raised, changes level or clears.
func (s *Service) Version() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// Stats returns the ingest counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.RefusedByCode = maps.Clone(st.RefusedByCode)
	return st
}

// ErrNoVersion is returned for a rules version that does not exist.
var ErrNoVersion = errors.New("live: no such rules version")

// PutRules puts a new version of the rules in force, journalled with its
// time and author; each series keeps its state and takes its rule from the
// new set. raw is the file the set was parsed from. Batches of readings
// accepted before are judged under the rules they came under.
func (s *Service) PutRules(ctx context.Context, rs *RuleSet, raw []byte, by string) (RulesVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quiesce()
	defer s.release()
	return s.putRules(ctx, rs, raw, by, "")
}

// putRules journals and applies a new version; s.mu is held, or the service
// is not yet shared.
func (s *Service) putRules(ctx context.Context, rs *RuleSet, raw []byte, by, note string) (RulesVersion, error) {
	ev := HistoryEvent{Kind: EventRules, At: s.opt.Now().UTC().Truncate(time.Millisecond), By: by, Note: note,
		RuleVersion: s.ruleVersion() + 1, Rules: raw}
	if err := s.keep(ctx, ev); err != nil {
		return RulesVersion{}, err
	}
	s.setRules(rs, raw, ev)
	return s.versions[len(s.versions)-1], nil
}

// keep makes a decision a person took durable: in the journal, or shared,
// in the decisions log; s.mu is held.
func (s *Service) keep(ctx context.Context, ev HistoryEvent) error {
	var err error
	switch {
	case s.opt.Shared != nil:
		err = s.opt.Shared.PublishEvents(ctx, []HistoryEvent{ev})
	case s.opt.Journal != nil:
		err = s.opt.Journal.AppendEvents(ctx, []HistoryEvent{ev})
	}
	if err != nil {
		return fmt.Errorf("live: journal: %w", err)
	}
	return nil
}

// applyRules applies a journalled version of the rules; s.mu is held.
func (s *Service) applyRules(ev HistoryEvent) error {
	if raw, ok := s.versionJSON[ev.RuleVersion]; ok && string(raw) == string(ev.Rules) {
		// Put by two instances starting at once, and stored once.
		return nil
	}
	rs := DefaultRules()
	if ev.Rules != nil {
		var err error
		if rs, err = ParseRulesWithin(ev.Rules, keptRulesWithin); err != nil {
			return fmt.Errorf("rules version %d: %w", ev.RuleVersion, err)
		}
	}
	s.setRules(rs, ev.Rules, ev)
	return nil
}

func (s *Service) setRules(rs *RuleSet, raw []byte, ev HistoryEvent) {
	s.rules, s.rulesJSON = rs, raw
	for k, st := range s.states {
		if sn, ok := s.opt.Sensors.Get(k.sensor); ok {
			st.rule = rs.Lookup(k.metric, sn.AssetLayer, sn.AssetKind, sn.ID)
		}
	}
	s.versions = append(s.versions, RulesVersion{Version: ev.RuleVersion, At: ev.At, By: ev.By, Default: raw == nil})
	s.versionJSON[ev.RuleVersion] = raw
}

// RulesVersions returns every version of the rules, oldest first.
func (s *Service) RulesVersions() []RulesVersion {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.versions)
}

// RulesJSON returns the rules file of a version, or of the one in force
// when version is 0.
func (s *Service) RulesJSON(version uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := s.rulesJSON
	if version != 0 {
		var ok bool
		if raw, ok = s.versionJSON[version]; !ok {
			return nil, fmt.Errorf("%w: %d", ErrNoVersion, version)
		}
	}
	if raw == nil {
		return DefaultRulesJSON(), nil
	}
	return raw, nil
}
