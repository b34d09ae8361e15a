package live

import (
	"math"
	"time"
)

// Reading is one value a sensor reported for one metric.
type Reading struct {
	Sensor uint64
	Metric string
	Value  float64
	Unit   string // empty for the metric's default unit
	Time   time.Time
}

// Health is whether a sensor's data can be trusted: a state shown apart from
// alarms, never a danger alarm itself.
type Health uint8

// The health states of a sensor's metric.
const (
	Online  Health = iota // reporting plausible values
	Offline               // silent for longer than the rule's stale limit
	Fault                 // outside the instrument's range, or stuck at one value
)

func (h Health) String() string {
	switch h {
	case Online:
		return "online"
	case Offline:
		return "offline"
	case Fault:
		return "fault"
	}
	return "unknown"
}

// TransitionKind is what a reading did to an alarm.
type TransitionKind uint8

// The kinds of transition.
const (
	None        TransitionKind = iota // no change of level
	Ignored                           // the reading was older than the state's last one and was not applied
	Raised                            // normal → an alarm level
	Escalated                         // to a more severe level
	DeEscalated                       // to a less severe level, still an alarm
	Cleared                           // back to normal
)

func (k TransitionKind) String() string {
	switch k {
	case None:
		return "none"
	case Ignored:
		return "ignored"
	case Raised:
		return "raised"
	case Escalated:
		return "escalated"
	case DeEscalated:
		return "de-escalated"
	case Cleared:
		return "cleared"
	}
	return "unknown"
}

// Transition is what applying a reading (or a staleness check) changed.
type Transition struct {
	Kind     TransitionKind
	From, To Level
	Reading  Reading // the reading applied; zero for a staleness check
	// PrevHealth and Health differ when the sensor went offline, came back,
	// became faulty or recovered.
	PrevHealth, Health Health
	// First and Peak are the first and the most severe value of the alarm
	// open after the transition (or of the one just cleared).
	First, Peak float64
}

// Changed reports whether the transition changed the alarm level or the health.
func (t Transition) Changed() bool {
	return t.From != t.To || t.PrevHealth != t.Health
}

// HealthChanged reports whether the sensor's health changed.
func (t Transition) HealthChanged() bool { return t.PrevHealth != t.Health }

// State is the alarm state of one (sensor, metric). Its zero value is a
// sensor never heard from, at level 0. Times are kept as Unix milliseconds,
// which keeps a State at 64 bytes.
type State struct {
	last       int64   // time of the last applied reading
	since      int64   // start of the breach of the pending level
	since0     int64   // start of the breach of any level more severe than the current one
	constSince int64   // since when the value has not changed
	value      float64 // last value
	first      float64 // first value of the open alarm
	peak       float64 // most severe value of the open alarm
	level      level8
	pending    level8 // level whose breach is being timed, 0 for none
	flags      uint8
}

// level8 is a Level stored in one byte.
type level8 = int8

const (
	flagSeen    uint8 = 1 << iota // a reading was applied
	flagOffline                   // health is Offline
	flagFault                     // health is Fault
	flagPeakLow                   // the alarm's peak is its lowest value
)

// Level returns the current alarm level, 0 when normal.
func (s *State) Level() Level { return Level(s.level) }

// Health returns the sensor's health.
func (s *State) Health() Health {
	switch {
	case s.flags&flagOffline != 0:
		return Offline
	case s.flags&flagFault != 0:
		return Fault
	}
	return Online
}

// LastTime returns the time of the last applied reading, zero if none.
func (s *State) LastTime() time.Time {
	if s.flags&flagSeen == 0 {
		return time.Time{}
	}
	return time.UnixMilli(s.last)
}

// LastValue returns the last applied value.
func (s *State) LastValue() float64 { return s.value }

// First returns the first value of the open alarm.
func (s *State) First() float64 { return s.first }

// Peak returns the most severe value of the open alarm: its highest, or its
// lowest for an alarm on a low threshold or a drop.
func (s *State) Peak() float64 { return s.peak }

// Pending returns the level whose breach is being timed against the rule's
// minimum duration and since when, or 0 when none is.
func (s *State) Pending() (Level, time.Time) {
	if s.pending == 0 {
		return 0, time.Time{}
	}
	return Level(s.pending), time.UnixMilli(s.since)
}

func (s *State) setHealth(h Health) {
	s.flags &^= flagOffline | flagFault
	switch h {
	case Offline:
		s.flags |= flagOffline
	case Fault:
		s.flags |= flagFault
	}
}

// figure turns a value into what the thresholds compare; ok is false when
// the attribute the rule is relative to is missing or, for a percentage, zero.
func (r *Rule) figure(v float64, attrs map[string]float64) (x, a float64, ok bool) {
	if r.Relative == Absolute {
		return v, 0, true
	}
	a, ok = attrs[r.RelativeTo]
	if !ok || r.Relative.percentage() && a == 0 {
		return 0, 0, false
	}
	switch r.Relative {
	case Percent:
		x = v / a * 100
	case Deviation:
		x = (v - a) / a * 100
	case AbsDeviation:
		x = math.Abs(v-a) / a * 100
	case Difference:
		x = v - a
	case Below:
		x = a - v
	}
	return x, a, true
}

// inHours reports whether local time t (Unix ms) falls in th's hour window.
func (r *Rule) inHours(th *Threshold, t int64) bool {
	if th.FromHour < 0 {
		return true
	}
	sec := (t/1000 + r.utcOffset) % 86400
	if sec < 0 {
		sec += 86400
	}
	h := int8(sec / 3600)
	if th.FromHour < th.ToHour {
		return h >= th.FromHour && h < th.ToHour
	}
	return h >= th.FromHour || h < th.ToHour
}

// Evaluate applies one reading to the state and returns what changed. attrs
// holds the asset attributes and caller-derived flags the rule refers to
// (RelativeTo, When); it may be nil for absolute rules.
//
// A reading older than the last applied one, or at the same time, is
// ignored. A value outside the instrument's range, or one that has not
// changed for the rule's Stuck time, makes the health Fault and leaves the
// alarm level as it was; a value resting at the instrument's lower bound
// (0 %LEL, no rain) is never called stuck. A reading on an offline sensor
// brings it back online.
func (r *Rule) Evaluate(s *State, v Reading, attrs map[string]float64) (tr Transition) {
	t := v.Time.UnixMilli()
	prevHealth := s.Health()
	tr = Transition{From: Level(s.level), To: Level(s.level), Reading: v, PrevHealth: prevHealth, Health: prevHealth}
	seen := s.flags&flagSeen != 0
	if seen && t <= s.last {
		tr.Kind = Ignored
		tr.First, tr.Peak = s.first, s.peak
		return tr
	}
	prev, dt := s.value, t-s.last
	defer func() {
		s.value, s.last = v.Value, t
		s.flags |= flagSeen
		tr.Health = s.Health()
		tr.To = Level(s.level)
		tr.First, tr.Peak = s.first, s.peak
	}()

	// Fault: out of the instrument's range, or stuck.
	if math.IsNaN(v.Value) || v.Value < r.InstMin || v.Value > r.InstMax {
		s.setHealth(Fault)
		s.pending = 0
		s.constSince = t
		return tr
	}
	if !seen || v.Value != prev {
		s.constSince = t
	} else if r.Stuck > 0 && v.Value != r.InstMin && t-s.constSince >= r.Stuck.Milliseconds() {
		s.setHealth(Fault)
		s.pending = 0
		return tr
	}
	s.setHealth(Online)

	x, a, ok := r.figure(v.Value, attrs)
	if !ok || len(r.Levels) == 0 {
		return tr
	}
	// rate: change of the figure per RateWindow since the previous reading.
	rate, haveRate := 0.0, false
	if r.hasRate && seen && dt > 0 {
		d := v.Value - prev
		if r.Relative.percentage() {
			d = d / a * 100
		}
		rate = d * float64(r.RateWindow.Milliseconds()) / float64(dt)
		haveRate = true
	}

	c := Level(s.level)
	p := Level(s.pending)
	// b: the most severe level breached now.
	var b Level
	var bth *Threshold
	neutral := false // a level being held or timed is outside its hour window
	for i := range r.Levels {
		th := &r.Levels[i]
		if th.When != "" && attrs[th.When] == 0 {
			continue
		}
		if !r.inHours(th, t) {
			neutral = neutral || th.Level == c || th.Level == p
			continue
		}
		if x >= th.High || x < th.Low || haveRate && (-rate >= th.Drop || rate >= th.Rise) {
			b, bth = th.Level, th
			break
		}
	}
	if neutral && !worse(b, c) {
		return tr // the reading says nothing about the level it would change
	}

	if worse(b, c) {
		switch {
		case p == 0 || !worse(p, c):
			s.pending, s.since, s.since0 = level8(b), t, t
		case worse(b, p):
			s.pending, s.since = level8(b), t
		case worse(p, b):
			// Back from a more severe breach: b has been breached since the
			// whole breach began (exactly so when b is the least severe level).
			s.pending, s.since = level8(b), s.since0
		}
		// Raise to the most severe level at most b whose breach has lasted
		// its duration. b itself is timed from since; less severe levels,
		// from the start of the whole breach (since0).
		for i := range r.Levels {
			th := &r.Levels[i]
			if worse(th.Level, b) {
				continue
			}
			if !worse(th.Level, c) {
				break
			}
			if th.When != "" && attrs[th.When] == 0 || !r.inHours(th, t) {
				continue
			}
			start := s.since0
			if th.Level == b {
				start = s.since
			}
			if t-start >= th.Duration.Milliseconds() {
				r.raise(s, th.Level, b, v.Value, x, a, rate, bth, c)
				if c == 0 {
					tr.Kind = Raised
				} else {
					tr.Kind = Escalated
				}
				break
			}
		}
	} else {
		s.pending = 0
		if c != 0 {
			// Hold the most severe level at most c still within hysteresis.
			var h Level
			for i := range r.Levels {
				th := &r.Levels[i]
				if worse(th.Level, c) {
					continue
				}
				if th.When != "" && attrs[th.When] == 0 {
					continue
				}
				if !r.inHours(th, t) {
					if th.Level == c {
						h = c // outside its hours a level neither rises nor clears
						break
					}
					continue
				}
				hy := r.Hysteresis
				if x >= th.High-hy || x < th.Low+hy || haveRate && (-rate >= th.Drop || rate >= th.Rise) {
					h = th.Level
					break
				}
			}
			if h != c {
				s.level = level8(h)
				if h == 0 {
					tr.Kind = Cleared
				} else {
					tr.Kind = DeEscalated
				}
			}
		}
	}
	if c != 0 || s.level != 0 {
		if s.flags&flagPeakLow != 0 {
			s.peak = min(s.peak, v.Value)
		} else {
			s.peak = max(s.peak, v.Value)
		}
	}
	return tr
}

// raise moves the state to level l (from c) because th at level b is breached.
func (r *Rule) raise(s *State, l, b Level, v, x, a, rate float64, th *Threshold, c Level) {
	if c == 0 {
		// Which side of the value is the severe one decides the peak.
		low := false
		switch {
		case x >= th.High:
		case x < th.Low:
			low = true
		default:
			low = rate < 0
		}
		switch r.Relative {
		case Below:
			low = !low
		case AbsDeviation:
			low = v < a
		}
		s.flags &^= flagPeakLow
		if low {
			s.flags |= flagPeakLow
		}
		s.first, s.peak = v, v
	}
	s.level = level8(l)
	if l == b {
		s.pending = 0
	} else {
		s.since0 = s.since
	}
}

// CheckStale marks the state offline when no reading came for the rule's
// StaleIntervals × interval (interval ≤ 0 means DefaultInterval). The alarm
// level is left as it is: offline is a state, not a danger alarm. A state that
// never had a reading is left alone; a reading brings an offline one back.
func (r *Rule) CheckStale(s *State, now time.Time, interval time.Duration) Transition {
	h := s.Health()
	tr := Transition{From: Level(s.level), To: Level(s.level), PrevHealth: h, Health: h, First: s.first, Peak: s.peak}
	if s.flags&flagSeen == 0 || h == Offline {
		return tr
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	n := r.StaleIntervals
	if n <= 0 {
		n = DefaultStaleIntervals
	}
	if now.UnixMilli()-s.last > int64(n)*interval.Milliseconds() {
		s.setHealth(Offline)
		s.pending = 0
		tr.Health = Offline
	}
	return tr
}
