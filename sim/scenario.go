package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/onemap/onemap/data"
)

// Scenario is an incident played over the normal readings: the sensors it
// drives (targets), what each of their metrics does over time, and the
// alarms it is expected to raise. Scenarios are kept as JSON files.
type Scenario struct {
	ID          string `json:"id"`          // the file name without .json, such as "gas-leak-school"
	Title       string `json:"title"`       // one line for people
	Description string `json:"description"` // what happens, in a few sentences
	// Delay is how long after the simulation's start the scenario begins.
	Delay Duration `json:"delay"`
	// ReportEvery is how often the targeted sensors report while the
	// scenario plays (devices report faster once they sense an anomaly);
	// a sensor that reports more often than this keeps its own interval.
	ReportEvery Duration `json:"report_every"`
	// Assumes names design values the expected alarms rely on that the
	// city does not carry (such as a bridge's design strain), by name.
	Assumes map[string]float64 `json:"assumes,omitempty"`
	Targets []*Target          `json:"targets"`
	Expect  []Expect           `json:"expect"`
}

// Target is a set of sensors chosen by a selector and the value profile of
// each metric they play.
type Target struct {
	Name        string              `json:"name"`        // referred to by later selectors and by Expect
	Description string              `json:"description"` // which sensors, in words
	Select      Selector            `json:"select"`
	Metrics     map[string]*Profile `json:"metrics"`
}

// Expect is one alarm a scenario should raise: on every sensor of a target,
// the metric reaches this level (1 most severe, 3 least) and no higher.
// Sensors and metrics the scenario drives without an Expect raise nothing.
type Expect struct {
	Target string `json:"target"`
	Metric string `json:"metric"`
	Level  int    `json:"level"`
	Why    string `json:"why,omitempty"` // the guide's threshold it crosses
}

// Profile is the timeline of one metric: steps played one after the other
// from the scenario's start. Before its first step and after its last the
// metric is normal.
type Profile struct {
	// Of scales every value: "" for absolute values in the metric's unit,
	// "normal" for multiples of the normal value at that moment, or the name
	// of a numeric attribute of the sensor's asset (such as "rated_load_t"
	// or "pressure_mpa") for fractions of it.
	Of    string  `json:"of,omitempty"`
	Steps []*Step `json:"steps"`
}

// Step is one part of a profile. Op is one of:
//
//	ramp     go linearly to To over For
//	step     jump to To, then hold it for For (which may be 0)
//	hold     keep the value for For
//	spike    rise to To in the first quarter of For, hold it for half, fall back
//	recover  go back linearly to the normal value over For; the profile ends
//
// At, when given, starts the step at that offset from the scenario's start
// (the value holds until then); otherwise it follows the previous step.
type Step struct {
	Op  string    `json:"op"`
	To  *float64  `json:"to,omitempty"`
	For Duration  `json:"for"`
	At  *Duration `json:"at,omitempty"`
}

// Duration is a time.Duration written in JSON as a string such as "90s" or "5m".
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"90s\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Length returns how long the scenario plays after its delay: the end of its
// longest profile.
func (s *Scenario) Length() time.Duration {
	var n time.Duration
	for _, t := range s.Targets {
		for _, p := range t.Metrics {
			n = max(n, p.length())
		}
	}
	return n
}

func (p *Profile) length() time.Duration {
	var at time.Duration
	for _, st := range p.Steps {
		if st.At != nil {
			at = time.Duration(*st.At)
		}
		at += time.Duration(st.For)
	}
	return at
}

// ErrScenario is wrapped by every error about a scenario's content.
var ErrScenario = errors.New("sim: bad scenario")

// ParseScenario reads one scenario from JSON and checks it; id is its name
// (the file name without .json), which the id inside must match if given.
func ParseScenario(id string, b []byte) (*Scenario, error) {
	var s Scenario
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrScenario, id, err)
	}
	if s.ID == "" {
		s.ID = id
	}
	if s.ID != id {
		return nil, fmt.Errorf("%w %s: id %q does not match the file name", ErrScenario, id, s.ID)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrScenario, id, err)
	}
	return &s, nil
}

var ops = []string{"ramp", "step", "hold", "spike", "recover"}

func (s *Scenario) check() error {
	if len(s.Targets) == 0 {
		return errors.New("no targets")
	}
	names := map[string]*Target{}
	for i, t := range s.Targets {
		if t.Name == "" {
			return fmt.Errorf("target %d has no name", i)
		}
		if names[t.Name] != nil {
			return fmt.Errorf("two targets named %q", t.Name)
		}
		for _, ref := range t.Select.refs() {
			if names[ref] == nil {
				return fmt.Errorf("target %q: selector names %q, which is not an earlier target", t.Name, ref)
			}
		}
		names[t.Name] = t
		if len(t.Metrics) == 0 {
			return fmt.Errorf("target %q plays no metric", t.Name)
		}
		for m, p := range t.Metrics {
			if units[m] == "" && m != "flow" {
				return fmt.Errorf("target %q: unknown metric %q", t.Name, m)
			}
			if err := p.check(); err != nil {
				return fmt.Errorf("target %q, metric %s: %w", t.Name, m, err)
			}
		}
	}
	for i, e := range s.Expect {
		t := names[e.Target]
		if t == nil {
			return fmt.Errorf("expect %d: no target %q", i, e.Target)
		}
		if t.Metrics[e.Metric] == nil {
			return fmt.Errorf("expect %d: target %q does not play %q", i, e.Target, e.Metric)
		}
		if e.Level < 1 || e.Level > 3 {
			return fmt.Errorf("expect %d: level %d is not 1, 2 or 3", i, e.Level)
		}
	}
	return nil
}

func (p *Profile) check() error {
	if len(p.Steps) == 0 {
		return errors.New("no steps")
	}
	var at time.Duration
	for i, st := range p.Steps {
		if !slices.Contains(ops, st.Op) {
			return fmt.Errorf("step %d: op %q is not one of %v", i, st.Op, ops)
		}
		needTo := st.Op == "ramp" || st.Op == "step" || st.Op == "spike"
		if needTo != (st.To != nil) {
			if needTo {
				return fmt.Errorf("step %d: %s needs to", i, st.Op)
			}
			return fmt.Errorf("step %d: %s takes no to", i, st.Op)
		}
		if st.For <= 0 && st.Op != "step" {
			return fmt.Errorf("step %d: %s needs a positive for", i, st.Op)
		}
		if st.At != nil {
			if time.Duration(*st.At) < at {
				return fmt.Errorf("step %d: at %v is before the previous step ends (%v)", i, time.Duration(*st.At), at)
			}
			at = time.Duration(*st.At)
		}
		at += time.Duration(st.For)
		if st.Op == "recover" && i != len(p.Steps)-1 {
			return fmt.Errorf("step %d: recover must be the last step", i)
		}
	}
	return nil
}

// LoadScenarios reads every *.json file at the root of fsys as a scenario,
// sorted by id.
func LoadScenarios(fsys fs.FS) ([]*Scenario, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		s, err := ParseScenario(strings.TrimSuffix(path.Base(n), ".json"), b)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Scenario) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// SampleScenarios returns the scenarios of the embedded sample city
// (data/sample-city/scenarios).
func SampleScenarios() ([]*Scenario, error) {
	sub, err := fs.Sub(data.SampleCity(), "scenarios")
	if err != nil {
		return nil, err
	}
	return LoadScenarios(sub)
}

// Pick returns the scenarios with the given ids, in that order; an unknown
// id is an error that lists the known ones.
func Pick(all []*Scenario, ids ...string) ([]*Scenario, error) {
	var out []*Scenario
	for _, id := range ids {
		i := slices.IndexFunc(all, func(s *Scenario) bool { return s.ID == id })
		if i < 0 {
			known := make([]string, len(all))
			for j, s := range all {
				known[j] = s.ID
			}
			return nil, fmt.Errorf("sim: no scenario %q (have %s)", id, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// segment is a step placed on the timeline, in milliseconds from the
// scenario's start.
type segment struct {
	op     string
	t0, t1 int64
	to     float64
}

func (p *Profile) segments() []segment {
	var out []segment
	var at int64
	for _, st := range p.Steps {
		if st.At != nil {
			at = time.Duration(*st.At).Milliseconds()
		}
		seg := segment{op: st.Op, t0: at, t1: at + time.Duration(st.For).Milliseconds()}
		if st.To != nil {
			seg.to = *st.To
		}
		out = append(out, seg)
		at = seg.t1
	}
	return out
}

// valueAt returns the profile's value at t ms after the scenario's start, in
// the profile's own units (see Of), and false when the metric is normal
// then. normal gives the normal value in the same units at a time.
func valueAt(segs []segment, t int64, normal func(t int64) float64) (float64, bool) {
	if len(segs) == 0 || t < segs[0].t0 {
		return 0, false
	}
	v := normal(segs[0].t0)
	for _, s := range segs {
		if t < s.t0 {
			return v, true // between steps: hold
		}
		in := t < s.t1
		f := 1.0
		if s.t1 > s.t0 {
			f = float64(t-s.t0) / float64(s.t1-s.t0)
		}
		switch s.op {
		case "ramp":
			if in {
				return v + (s.to-v)*f, true
			}
			v = s.to
		case "step":
			v = s.to
			if in {
				return v, true
			}
		case "hold":
			if in {
				return v, true
			}
		case "spike":
			if in {
				switch {
				case f < 0.25:
					return v + (s.to-v)*f/0.25, true
				case f < 0.75:
					return s.to, true
				default:
					return s.to + (v-s.to)*(f-0.75)/0.25, true
				}
			}
		case "recover":
			if in {
				return v + (normal(t)-v)*f, true
			}
			return 0, false
		}
	}
	return 0, false // after the last step
}
