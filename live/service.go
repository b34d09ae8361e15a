package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"
)

// Journal keeps what the live state is rebuilt from after a restart: the
// accepted readings and the acknowledgements, in the order they came. The
// embedded default keeps it in a write-ahead log (WALJournal), PostGIS in
// its tables.
type Journal interface {
	// AppendReadings makes readings durable before it returns.
	AppendReadings(ctx context.Context, rs []Reading) error
	// AppendAck makes an acknowledgement durable before it returns.
	AppendAck(ctx context.Context, alarm uint64, a Ack) error
	// Replay calls onReading and onAck for everything kept, in order.
	Replay(ctx context.Context, onReading func(Reading) error, onAck func(alarm uint64, a Ack) error) error
}

// QueueJournal is a Journal that can queue readings and be waited on
// later: the order is fixed when they are queued, the fsync shared by what
// is queued meanwhile.
type QueueJournal interface {
	Journal
	// QueueReadings queues readings; wait returns once they are durable
	// and must be called.
	QueueReadings(ctx context.Context, rs []Reading) (wait func() error, err error)
}

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
	Attrs     func(s *Sensor) map[string]float64
	Retention time.Duration
	Now       func() time.Time
	Log       *slog.Logger
	// OnEvent, if set, hears every change; it must not block.
	OnEvent func(Event)
}

// Service is the live state of a city: ingest, the alarm engine, the
// alarms. It is safe for concurrent use.
type Service struct {
	opt Options

	mu        sync.Mutex
	rules     *RuleSet
	rulesJSON []byte // the file rules came from; nil for the defaults
	states    map[seriesKey]*seriesState
	alarms    map[uint64]*Alarm
	order     []uint64 // alarm ids in the order raised
	nextID    uint64
	byAsset   map[uint64]uint64 // asset → id of its latest incident's first alarm
	version   uint64            // grows with every change of any alarm
	stats     Stats

	// Batches queued to a QueueJournal are applied in turn: queued counts
	// those queued, applied those applied (or failed); turnDone, on mu, is
	// signalled as each is.
	queued, applied uint64
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
}

// NewService returns the live state of the sensors, rebuilt from the
// journal when it has records.
func NewService(o Options) (*Service, error) {
	if o.Rules == nil {
		o.Rules = DefaultRules()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Retention == 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	s := &Service{opt: o, rules: o.Rules, rulesJSON: o.RulesJSON, states: map[seriesKey]*seriesState{}, alarms: map[uint64]*Alarm{}, byAsset: map[uint64]uint64{},
		pending: map[readingKey]bool{}}
	s.turnDone = sync.NewCond(&s.mu)
	if o.Journal != nil {
		n := 0
		err := o.Journal.Replay(context.Background(), func(r Reading) error {
			n++
			s.replayReading(r)
			return nil
		}, func(alarm uint64, a Ack) error {
			n++
			if al, ok := s.alarms[alarm]; ok {
				al.Ack = &a
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("live: replay the journal: %w", err)
		}
		if n > 0 {
			o.Log.Info("live state rebuilt", "records", n, "alarms", len(s.alarms))
		}
	}
	return s, nil
}

// replayReading applies a journalled reading as it was applied when it came.
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
	Accepted int       `json:"accepted"`
	Refused  []Refusal `json:"refused"`
}

// Ingest checks a batch of readings, makes the good ones durable, then
// applies them to the alarm engine. One bad reading never refuses the good
// ones; a reading already accepted (same sensor, metric and time) is
// accepted again and changes nothing. allowed, if not nil, says whether the
// sender may report for a sensor.
func (s *Service) Ingest(ctx context.Context, body io.Reader, allowed func(*Sensor) bool) (*IngestResult, error) {
	now := s.opt.Now()
	res := &IngestResult{Refused: []Refusal{}}
	var good []Reading
	var goodSensors []*Sensor
	refuse := func(i int, code, msg string) { res.Refused = append(res.Refused, Refusal{i, code, msg}) }
	refused, _, err := DecodeBatch(body, func(i int, raw *RawReading) {
		sn, ok := s.opt.Sensors.Resolve(raw.Sensor)
		if !ok {
			refuse(i, CodeUnknownSensor, fmt.Sprintf("no sensor %s", string(raw.Sensor)))
			return
		}
		if allowed != nil && !allowed(sn) {
			refuse(i, CodeForbidden, fmt.Sprintf("this token may not report for sensor %s", sn.Code))
			return
		}
		if !sn.Measures(raw.Metric) {
			refuse(i, CodeUnknownMetric, fmt.Sprintf("sensor %s does not measure %q (it measures %v)", sn.Code, raw.Metric, sn.Metrics))
			return
		}
		m := LookupMetric(raw.Metric)
		if m == nil {
			refuse(i, CodeUnknownMetric, fmt.Sprintf("metric %q is not in the catalog", raw.Metric))
			return
		}
		v, ref := ParseValue(raw.Value)
		if ref != nil {
			refuse(i, ref.Code, ref.Message)
			return
		}
		u, ok := m.Unit(raw.Unit)
		if !ok {
			refuse(i, CodeUnitMismatch, fmt.Sprintf("%s is reported in %s, not %q", m.ID, unitSymbols(m), raw.Unit))
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
			refuse(i, CodeTooOld, fmt.Sprintf("ts %s is older than the retention of %s", t.Format(time.RFC3339), s.opt.Retention))
			return
		}
		good = append(good, Reading{Sensor: sn.ID, Metric: m.ID, Value: v, Unit: u.Symbol, Time: t})
		goodSensors = append(goodSensors, sn)
	})
	res.Refused = append(res.Refused, refused...)
	slices.SortFunc(res.Refused, func(a, b Refusal) int { return a.Index - b.Index })
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
	apply := func() {
		for _, i := range fresh {
			r := good[i]
			if s.opt.Series != nil {
				s.opt.Series.Add(r.Sensor, r.Metric, r.Time, r.Value)
			}
			s.apply(goodSensors[i], r, true)
		}
		s.stats.Accepted += uint64(len(good))
		s.stats.Refused += uint64(len(res.Refused))
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

// journalThenApply makes rs durable, then calls apply; s.mu is held when it
// is called and released when it returns. A journal that can queue
// (QueueJournal) is waited on without the lock, so that batches share its
// fsyncs and readers of the state do not wait on them; the batches are
// applied in the order they were queued, which is the journal's.
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
		return nil
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
	defer s.mu.Unlock()
	for s.applied != turn {
		s.turnDone.Wait()
	}
	for k := range keys {
		delete(s.pending, k)
	}
	if err == nil {
		apply()
	}
	s.applied++
	s.turnDone.Broadcast()
	if err != nil {
		return fmt.Errorf("live: journal: %w", err)
	}
	return nil
}

func unitSymbols(m *Metric) []string {
	var out []string
	for _, u := range m.Units {
		out = append(out, u.Symbol)
	}
	return out
}

// apply runs a reading through its rule and updates the alarm; s.mu is held.
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
	s.transition(sn, st, tr, r.Time, live)
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

// transition records a transition on the alarm of a series; s.mu is held.
func (s *Service) transition(sn *Sensor, st *seriesState, tr Transition, at time.Time, live bool) {
	var a *Alarm
	switch tr.Kind {
	case Raised:
		s.nextID++
		a = &Alarm{
			ID: s.nextID, Sensor: sn.ID, SensorCode: sn.Code, Metric: tr.Reading.Metric, Unit: tr.Reading.Unit,
			Asset: sn.Asset, AssetLayer: sn.AssetLayer, Location: [2]float64(sn.Location), Domain: sn.Domain, District: sn.District,
			State: Active, Started: at,
		}
		// One incident for alarms on one asset close in time.
		a.Incident = a.ID
		if first, ok := s.byAsset[sn.Asset]; ok && sn.Asset != 0 {
			if f := s.alarms[first]; f != nil && at.Sub(f.Started) <= IncidentWindow && (f.State == Active || f.Cleared != nil && at.Sub(*f.Cleared) <= IncidentWindow) {
				a.Incident = f.Incident
			}
		}
		if a.Incident == a.ID {
			s.byAsset[sn.Asset] = a.ID
		}
		s.alarms[a.ID] = a
		s.order = append(s.order, a.ID)
		st.alarm = a.ID
	case Escalated, DeEscalated, Cleared:
		a = s.alarms[st.alarm]
	case None:
		if st.alarm != 0 {
			a = s.alarms[st.alarm]
			a.Last, a.Updated = tr.Reading.Value, at
			a.Peak = tr.Peak
		}
	}
	if a != nil && tr.Kind != None {
		s.version++
		a.Level, a.First, a.Peak, a.Last, a.Updated = tr.To, tr.First, tr.Peak, tr.Reading.Value, at
		if a.MaxLevel == 0 || (tr.To != 0 && tr.To < a.MaxLevel) {
			a.MaxLevel = tr.To
		}
		a.Changes = append(a.Changes, Change{Kind: tr.Kind.String(), From: tr.From, To: tr.To, Value: tr.Reading.Value, At: at})
		if tr.Kind == Cleared {
			a.Level = 0
			a.State = ClearedState
			c := at
			a.Cleared = &c
			st.alarm = 0
		}
	}
	if !live || s.opt.OnEvent == nil {
		return
	}
	if a != nil && tr.Kind != None {
		cp := *a
		s.opt.OnEvent(Event{Kind: "alarm", Alarm: &cp, At: at})
	}
	if tr.Changed() || tr.Kind == None {
		s.opt.OnEvent(Event{Kind: "sensor", Sensor: sn.ID, Metric: tr.Reading.Metric, Level: tr.To, Health: tr.Health.String(),
			Value: st.state.value, Unit: unitOf(tr.Reading.Metric), Time: st.state.LastTime(), Changed: tr.Changed(), At: at})
	}
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
		if tr.HealthChanged() && s.opt.OnEvent != nil {
			s.opt.OnEvent(Event{Kind: "sensor", Sensor: sn.ID, Metric: k.metric, Level: tr.To, Health: tr.Health.String(),
				Value: st.state.value, Unit: unitOf(k.metric), Time: st.state.LastTime(), Changed: true, At: now})
		}
	}
}

// ErrNoAlarm is returned for an alarm id that does not exist.
var ErrNoAlarm = errors.New("live: no such alarm")

// Acknowledge records that an operator has seen an alarm.
func (s *Service) Acknowledge(ctx context.Context, id uint64, by, note string) (*Alarm, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alarms[id]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrNoAlarm, id)
	}
	ack := Ack{By: by, At: s.opt.Now().UTC().Truncate(time.Millisecond), Note: note}
	if s.opt.Journal != nil {
		if err := s.opt.Journal.AppendAck(ctx, id, ack); err != nil {
			return nil, fmt.Errorf("live: journal: %w", err)
		}
	}
	a.Ack = &ack
	cp := *a
	if s.opt.OnEvent != nil {
		s.opt.OnEvent(Event{Kind: "alarm", Alarm: &cp, At: ack.At})
	}
	return &cp, nil
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
			!f.To.IsZero() && a.Started.After(f.To):
			continue
		}
		cp := *a
		cp.Changes = nil
		out = append(out, cp)
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
	cp := *a
	cp.Changes = slices.Clone(a.Changes)
	return &cp, nil
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
	return s.stats
}

// SetRules replaces the rules; each series keeps its state and takes its
// rule from the new set. raw is the file the set was parsed from.
func (s *Service) SetRules(rs *RuleSet, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules, s.rulesJSON = rs, raw
	for k, st := range s.states {
		if sn, ok := s.opt.Sensors.Get(k.sensor); ok {
			st.rule = rs.Lookup(k.metric, sn.AssetLayer, sn.AssetKind, sn.ID)
		}
	}
}

// RulesJSON returns the rules file in force.
func (s *Service) RulesJSON() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rulesJSON == nil {
		return DefaultRulesJSON()
	}
	return s.rulesJSON
}
