package live

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Level is an alarm level: 1 is the most severe, then 2, 3 (and 4 where a
// rule grades four levels); 0 means normal, no alarm.
type Level int

// MaxLevel is the least severe level a rule may grade.
const MaxLevel Level = 4

// worse reports whether level a is more severe than level b.
func worse(a, b Level) bool { return a != 0 && (b == 0 || a < b) }

// Relative says how a rule turns a reading into the figure its thresholds
// compare, using an asset attribute A named by the rule's RelativeTo.
type Relative uint8

// The ways a threshold can be relative to an asset attribute A.
const (
	Absolute     Relative = iota // the value itself
	Percent                      // value / A × 100: % of a design limit or rated load
	Deviation                    // (value − A) / A × 100: signed % change from a baseline
	AbsDeviation                 // |value − A| / A × 100: % deviation either way
	Difference                   // value − A
	Below                        // A − value: how far below a setpoint
)

var relativeNames = map[string]Relative{
	"": Absolute, "percent": Percent, "deviation_percent": Deviation,
	"abs_deviation_percent": AbsDeviation, "difference": Difference, "below": Below,
}

// percentage reports whether rates are counted in % of the attribute.
func (m Relative) percentage() bool { return m == Percent || m == Deviation || m == AbsDeviation }

// Threshold is one level of a rule. Unset bounds are infinite, so that they
// never trip: High is +Inf, Low is −Inf, Drop and Rise are +Inf.
type Threshold struct {
	Level Level
	High  float64 // breached when the figure is ≥ High
	Low   float64 // breached when the figure is < Low
	Drop  float64 // breached when the figure falls by ≥ Drop per the rule's RateWindow
	Rise  float64 // breached when it rises by ≥ Rise per RateWindow
	// Duration is how long the breach must last before the level is raised.
	Duration time.Duration
	// FromHour and ToHour limit the level to local hours [FromHour, ToHour)
	// (e.g. a night-time leak-noise level); both −1 when the level always applies.
	FromHour, ToHour int8
	// When names a caller-supplied attribute that must be non-zero for the
	// level to apply (e.g. "pressure_drop" for a flow surge with falling pressure).
	When string
}

// Rule is the alarm rule of one metric, for every sensor or for an asset
// class or a single sensor. Its zero-valued Layer, Kind and Sensor make it the
// metric's base rule.
type Rule struct {
	Metric string
	Layer  string // asset layer of an asset-class override, e.g. "hazard"
	Kind   string // asset kind within Layer, e.g. "restaurant"
	Sensor uint64 // sensor id of a per-sensor override

	Unit       string   // unit of absolute thresholds
	RelativeTo string   // asset attribute that relative thresholds refer to
	Relative   Relative // how the figure is made from value and attribute

	// Levels are ordered most severe first (level 1 first).
	Levels     []Threshold
	Hysteresis float64 // a level clears only past its threshold ∓ Hysteresis
	RateWindow time.Duration

	// StaleIntervals × the sensor's interval without a reading makes it offline.
	StaleIntervals int
	// Stuck is how long one unchanged value makes a fault; 0 disables it.
	Stuck time.Duration
	// InstMin and InstMax bound the instrument's range; outside it is a fault.
	InstMin, InstMax float64

	Source string // where the figures come from: "standard: …" or "default: …"

	utcOffset int64 // seconds east of UTC for hour windows
	hasRate   bool
	line      int
}

// RuleSet is a parsed rules file: a base rule per metric and the overrides.
type RuleSet struct {
	rules []*Rule
	index map[ruleKey]*Rule
}

type ruleKey struct {
	metric, layer, kind string
	sensor              uint64
}

// Lookup returns the most specific rule for a metric on a sensor: the
// sensor's own, else its asset's layer and kind, else the layer, else the
// metric's base rule; nil when the set has no rule for the metric.
func (rs *RuleSet) Lookup(metric, assetLayer, assetKind string, sensorID uint64) *Rule {
	if sensorID != 0 {
		if r := rs.index[ruleKey{metric: metric, sensor: sensorID}]; r != nil {
			return r
		}
	}
	if assetLayer != "" {
		if assetKind != "" {
			if r := rs.index[ruleKey{metric: metric, layer: assetLayer, kind: assetKind}]; r != nil {
				return r
			}
		}
		if r := rs.index[ruleKey{metric: metric, layer: assetLayer}]; r != nil {
			return r
		}
	}
	return rs.index[ruleKey{metric: metric}]
}

// Rules returns every rule of the set in file order.
func (rs *RuleSet) Rules() []*Rule { return append([]*Rule(nil), rs.rules...) }

//go:embed rules/default.json
var defaultJSON []byte

var defaultRules = func() *RuleSet {
	rs, err := ParseRules(defaultJSON)
	if err != nil {
		panic("live: embedded default rules: " + err.Error())
	}
	return rs
}()

// DefaultRules returns the rules onemap ships, the guide's thresholds. The set is
// shared: treat it and its rules as read-only.
func DefaultRules() *RuleSet { return defaultRules }

// DefaultRulesJSON returns the text of the embedded default rules file.
func DefaultRulesJSON() []byte { return bytes.Clone(defaultJSON) }

// RuleError is why a rules file was refused: the 1-based line and the reason.
type RuleError struct {
	Line   int
	Reason string
}

func (e *RuleError) Error() string { return fmt.Sprintf("live: rules line %d: %s", e.Line, e.Reason) }

// ErrRules is matched by errors.Is for every error of ParseRules.
var ErrRules = errors.New("live: invalid rules")

// Is makes every RuleError match ErrRules.
func (e *RuleError) Is(target error) bool { return target == ErrRules }

type fileJSON struct {
	UTCOffsetH *float64          `json:"utc_offset_h"`
	Rules      []json.RawMessage `json:"rules"`
}

type ruleJSON struct {
	Metric         string      `json:"metric"`
	Layer          string      `json:"layer"`
	Kind           string      `json:"kind"`
	Sensor         uint64      `json:"sensor"`
	Unit           string      `json:"unit"`
	RelativeTo     string      `json:"relative_to"`
	Relative       string      `json:"relative"`
	Levels         []levelJSON `json:"levels"`
	Hysteresis     float64     `json:"hysteresis"`
	DurationS      float64     `json:"duration_s"`
	RateWindowS    float64     `json:"rate_window_s"`
	StaleIntervals *int        `json:"stale_intervals"`
	StuckS         *float64    `json:"stuck_s"`
	Instrument     *[2]float64 `json:"instrument"`
	Source         string      `json:"source"`
	Note           string      `json:"note"`
}

type levelJSON struct {
	Level     Level       `json:"level"`
	High      *float64    `json:"high"`
	Low       *float64    `json:"low"`
	Drop      *float64    `json:"drop"`
	Rise      *float64    `json:"rise"`
	DurationS *float64    `json:"duration_s"`
	Hours     *[2]float64 `json:"hours"`
	When      string      `json:"when"`
}

// The guide's defaults for what a rule leaves out.
const (
	DefaultStaleIntervals = 3
	DefaultInterval       = 60 * time.Second
	DefaultStuck          = 24 * time.Hour
)

// ParseRules parses and validates a rules file (its format is in
// docs/rules.md) for the default retention of 30 days. Any error refuses
// the whole file; the error is a *RuleError naming the line and the reason.
func ParseRules(data []byte) (*RuleSet, error) {
	return ParseRulesWithin(data, DefaultRetention)
}

// ParseRulesWithin is ParseRules for a server keeping readings for
// retention: no duration of a rule may be longer, since no breach could be
// seen to last beyond the readings kept.
func ParseRulesWithin(data []byte, retention time.Duration) (*RuleSet, error) {
	if retention <= 0 {
		retention = DefaultRetention
	}
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		return 1 + bytes.Count(data[:max(off, 0)], []byte{'\n'})
	}
	fail := func(off int64, format string, args ...any) error {
		return &RuleError{Line: lineAt(off), Reason: fmt.Sprintf(format, args...)}
	}
	jsonErr := func(base int64, raw []byte, err error) error {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail(base+se.Offset, "%s", strings.TrimPrefix(se.Error(), "json: "))
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "value"
			}
			return fail(base+te.Offset, "%s: %s where %s is expected", field, te.Value, te.Type)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return fail(base+int64(len(raw)), "unexpected end of input")
		}
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
			if i := bytes.Index(raw, []byte(name)); i >= 0 {
				return fail(base+int64(i), "unknown field %s", name)
			}
		}
		return fail(base, "%s", msg)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fail(0, "empty rules file")
	}
	var f fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, jsonErr(0, data, err)
	}
	if dec.More() {
		return nil, fail(dec.InputOffset(), "text after the rules object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "text after the rules object")
	}
	if f.Rules == nil {
		return nil, fail(0, "no \"rules\" array")
	}
	var offset int64 = 8 * 3600
	if f.UTCOffsetH != nil {
		h := *f.UTCOffsetH
		if h < -12 || h > 14 {
			return nil, fail(int64(bytes.Index(data, []byte(`"utc_offset_h"`))), "utc_offset_h %v outside −12…14", h)
		}
		offset = int64(h * 3600)
	}
	rs := &RuleSet{index: make(map[ruleKey]*Rule, len(f.Rules))}
	// Find where each rule starts: RawMessage keeps no offsets, so walk the
	// "rules" array with a second decoder.
	starts, err := elementOffsets(data, "rules")
	if err != nil || len(starts) != len(f.Rules) {
		return nil, fail(0, "cannot locate the rules in the file")
	}
	for i, raw := range f.Rules {
		base := starts[i]
		var rj ruleJSON
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&rj); err != nil {
			return nil, jsonErr(base, raw, err)
		}
		r, off, reason := compileRule(&rj, raw, retention)
		if reason != "" {
			return nil, fail(base+off, "%s", reason)
		}
		r.utcOffset = offset
		r.line = lineAt(base)
		k := ruleKey{r.Metric, r.Layer, r.Kind, r.Sensor}
		if prev := rs.index[k]; prev != nil {
			return nil, fail(base, "duplicate rule for %s (first at line %d)", describe(r), prev.line)
		}
		rs.index[k] = r
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}

func describe(r *Rule) string {
	switch {
	case r.Sensor != 0:
		return fmt.Sprintf("metric %q on sensor %d", r.Metric, r.Sensor)
	case r.Kind != "":
		return fmt.Sprintf("metric %q on %s/%s", r.Metric, r.Layer, r.Kind)
	case r.Layer != "":
		return fmt.Sprintf("metric %q on layer %s", r.Metric, r.Layer)
	}
	return fmt.Sprintf("metric %q", r.Metric)
}

// elementOffsets returns the byte offset where each element of the
// top-level array named key begins.
func elementOffsets(data []byte, key string) ([]int64, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if t != key {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil, errors.New("not an array")
		}
		var offs []int64
		for dec.More() {
			off := dec.InputOffset()
			for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
				off++
			}
			offs = append(offs, off)
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
		return offs, nil
	}
	return nil, errors.New("no array")
}

// compileRule validates one decoded rule and builds it; on failure it
// returns the offset within raw to blame and the reason.
func compileRule(rj *ruleJSON, raw []byte, retention time.Duration) (r *Rule, off int64, reason string) {
	maxS := retention.Seconds()
	at := func(key string) int64 {
		if i := bytes.Index(raw, []byte(`"`+key+`"`)); i >= 0 {
			return int64(i)
		}
		return 0
	}
	// levelAt finds the i-th "level" key after "levels".
	levelAt := func(i int) int64 {
		start := bytes.Index(raw, []byte(`"levels"`))
		if start < 0 {
			return 0
		}
		pos := start + len(`"levels"`)
		for n := 0; ; n++ {
			j := bytes.Index(raw[pos:], []byte(`"level"`))
			if j < 0 {
				return int64(start)
			}
			if n == i {
				return int64(pos + j)
			}
			pos += j + len(`"level"`)
		}
	}
	m := LookupMetric(rj.Metric)
	if rj.Metric == "" {
		return nil, 0, "rule without a metric"
	}
	if m == nil {
		return nil, at("metric"), fmt.Sprintf("unknown metric %q", rj.Metric)
	}
	if rj.Kind != "" && rj.Layer == "" {
		return nil, at("kind"), "kind without a layer"
	}
	if rj.Sensor != 0 && rj.Layer != "" {
		return nil, at("sensor"), "a sensor override names no layer or kind"
	}
	r = &Rule{
		Metric: rj.Metric, Layer: rj.Layer, Kind: rj.Kind, Sensor: rj.Sensor,
		Unit: rj.Unit, RelativeTo: rj.RelativeTo, Hysteresis: rj.Hysteresis,
		StaleIntervals: DefaultStaleIntervals, Stuck: DefaultStuck, Source: rj.Source,
	}
	u, ok := m.Unit(rj.Unit)
	if !ok {
		return nil, at("unit"), fmt.Sprintf("metric %q is not measured in %q", rj.Metric, rj.Unit)
	}
	r.Unit = u.Symbol
	r.InstMin, r.InstMax = u.InstMin, u.InstMax
	rel, ok := relativeNames[rj.Relative]
	switch {
	case !ok:
		return nil, at("relative"), fmt.Sprintf("unknown relative %q (percent, deviation_percent, abs_deviation_percent, difference, below)", rj.Relative)
	case rel != Absolute && rj.RelativeTo == "":
		return nil, at("relative"), "relative without relative_to"
	case rel == Absolute && rj.RelativeTo != "":
		return nil, at("relative_to"), "relative_to without relative"
	}
	r.Relative = rel
	span := spanOf(rel, u)
	if !finite(rj.Hysteresis) || rj.Hysteresis < 0 || rj.Hysteresis > span {
		return nil, at("hysteresis"), fmt.Sprintf("hysteresis %v outside 0…%v: a level could never clear", rj.Hysteresis, span)
	}
	if !finite(rj.DurationS) || rj.DurationS < 0 || rj.DurationS > maxS {
		return nil, at("duration_s"), fmt.Sprintf("duration_s %v outside 0…%d (the retention of %s)", rj.DurationS, int64(maxS), Span(retention))
	}
	if !finite(rj.RateWindowS) || rj.RateWindowS < 0 || rj.RateWindowS > 86400 {
		return nil, at("rate_window_s"), fmt.Sprintf("rate_window_s %v outside 0…86400", rj.RateWindowS)
	}
	r.RateWindow = seconds(rj.RateWindowS)
	if rj.StaleIntervals != nil {
		if *rj.StaleIntervals < 1 || *rj.StaleIntervals > 10000 {
			return nil, at("stale_intervals"), fmt.Sprintf("stale_intervals %d outside 1…10000", *rj.StaleIntervals)
		}
		r.StaleIntervals = *rj.StaleIntervals
	}
	if rj.StuckS != nil {
		if !finite(*rj.StuckS) || *rj.StuckS < 0 || *rj.StuckS > maxS {
			return nil, at("stuck_s"), fmt.Sprintf("stuck_s %v outside 0…%d (the retention of %s)", *rj.StuckS, int64(maxS), Span(retention))
		}
		r.Stuck = seconds(*rj.StuckS)
	}
	if in := rj.Instrument; in != nil {
		if !finite(in[0]) || !finite(in[1]) || in[0] >= in[1] {
			return nil, at("instrument"), fmt.Sprintf("instrument range [%v, %v] is empty", in[0], in[1])
		}
		if in[0] < u.Min || in[1] > u.Max {
			return nil, at("instrument"), fmt.Sprintf("instrument range [%v, %v] exceeds the physical range [%v, %v] of %s",
				in[0], in[1], u.Min, u.Max, rj.Metric)
		}
		r.InstMin, r.InstMax = in[0], in[1]
	}
	if len(rj.Levels) > int(MaxLevel) {
		return nil, at("levels"), fmt.Sprintf("%d levels, at most %d", len(rj.Levels), MaxLevel)
	}
	for i, lj := range rj.Levels {
		lo := levelAt(i)
		if lj.Level < 1 || lj.Level > MaxLevel {
			return nil, lo, fmt.Sprintf("level %d outside 1…%d", lj.Level, MaxLevel)
		}
		if i > 0 && lj.Level >= rj.Levels[i-1].Level {
			return nil, lo, fmt.Sprintf("levels out of order: level %d after level %d (list the least severe first)",
				lj.Level, rj.Levels[i-1].Level)
		}
		th := Threshold{Level: lj.Level, High: math.Inf(1), Low: math.Inf(-1), Drop: math.Inf(1), Rise: math.Inf(1),
			Duration: seconds(rj.DurationS), FromHour: -1, ToHour: -1, When: lj.When}
		for _, b := range []struct {
			name string
			p    *float64
			dst  *float64
		}{{"high", lj.High, &th.High}, {"low", lj.Low, &th.Low}, {"drop", lj.Drop, &th.Drop}, {"rise", lj.Rise, &th.Rise}} {
			if b.p == nil {
				continue
			}
			if !finite(*b.p) {
				return nil, lo, fmt.Sprintf("level %d: %s is not a finite number", lj.Level, b.name)
			}
			if (b.name == "drop" || b.name == "rise") && *b.p <= 0 {
				return nil, lo, fmt.Sprintf("level %d: %s %v must be positive", lj.Level, b.name, *b.p)
			}
			if why := senseless(rel, u, rj.Metric, b.name, *b.p); why != "" {
				return nil, lo, fmt.Sprintf("level %d: %s", lj.Level, why)
			}
			*b.dst = *b.p
		}
		if lj.High == nil && lj.Low == nil && lj.Drop == nil && lj.Rise == nil {
			return nil, lo, fmt.Sprintf("level %d has no high, low, drop or rise", lj.Level)
		}
		if lj.High != nil && lj.Low != nil && *lj.Low > *lj.High {
			return nil, lo, fmt.Sprintf("level %d: low %v above high %v", lj.Level, *lj.Low, *lj.High)
		}
		if (lj.Drop != nil || lj.Rise != nil) && rj.RateWindowS == 0 {
			return nil, lo, fmt.Sprintf("level %d: drop or rise without rate_window_s", lj.Level)
		}
		if lj.DurationS != nil {
			if !finite(*lj.DurationS) || *lj.DurationS < 0 || *lj.DurationS > maxS {
				return nil, lo, fmt.Sprintf("level %d: duration_s %v outside 0…%d (the retention of %s)", lj.Level, *lj.DurationS, int64(maxS), Span(retention))
			}
			th.Duration = seconds(*lj.DurationS)
		}
		if h := lj.Hours; h != nil {
			if h[0] != math.Trunc(h[0]) || h[1] != math.Trunc(h[1]) || h[0] < 0 || h[0] > 23 || h[1] < 0 || h[1] > 24 || h[0] == h[1] {
				return nil, lo, fmt.Sprintf("level %d: hours [%v, %v] is not a window of whole hours 0…24", lj.Level, h[0], h[1])
			}
			th.FromHour, th.ToHour = int8(h[0]), int8(h[1])
		}
		if i > 0 {
			// A more severe level lies beyond a less severe one, so that
			// breaching it breaches the other too.
			p := rj.Levels[i-1]
			if bad := outOfOrder(p, lj); bad != "" {
				return nil, lo, fmt.Sprintf("levels out of order: level %d %s", lj.Level, bad)
			}
		}
		r.Levels = append(r.Levels, th)
		r.hasRate = r.hasRate || lj.Drop != nil || lj.Rise != nil
	}
	// Most severe first for evaluation.
	sort.Slice(r.Levels, func(i, j int) bool { return r.Levels[i].Level < r.Levels[j].Level })
	return r, 0, ""
}

// outOfOrder compares the bounds a less severe level p and a more severe
// level l both set.
func outOfOrder(p, l levelJSON) string {
	switch {
	case p.High != nil && l.High != nil && *l.High < *p.High:
		return fmt.Sprintf("high %v is below level %d's %v", *l.High, p.Level, *p.High)
	case p.Low != nil && l.Low != nil && *l.Low > *p.Low:
		return fmt.Sprintf("low %v is above level %d's %v", *l.Low, p.Level, *p.Low)
	case p.Drop != nil && l.Drop != nil && *l.Drop < *p.Drop:
		return fmt.Sprintf("drop %v is below level %d's %v", *l.Drop, p.Level, *p.Drop)
	case p.Rise != nil && l.Rise != nil && *l.Rise < *p.Rise:
		return fmt.Sprintf("rise %v is below level %d's %v", *l.Rise, p.Level, *p.Rise)
	}
	return ""
}

// maxPercent bounds the thresholds of percentage rules: a figure of a
// million per cent of a design limit is no threshold but a typing error.
const maxPercent = 1e6

// spanOf is how far the figure of a rule can move: the unit's physical
// range, or maxPercent for the percentage forms.
func spanOf(rel Relative, u Unit) float64 {
	if rel.percentage() {
		return maxPercent
	}
	return u.Max - u.Min
}

// senseless says why the bound name = v of a level can never fire or always
// fires, or "" when it can do either. Absolute thresholds must lie within
// the unit's physical range: a high at or below its minimum is always
// breached, above its maximum never; a low the other way round.
func senseless(rel Relative, u Unit, metric, name string, v float64) string {
	span := spanOf(rel, u)
	if name == "drop" || name == "rise" {
		if v > span {
			return fmt.Sprintf("%s %v is more than %s can move (%v): it would never fire", name, v, metric, span)
		}
		return ""
	}
	if rel != Absolute {
		if math.Abs(v) > span {
			return fmt.Sprintf("%s %v is outside ±%v: it would never or always fire", name, v, span)
		}
		return ""
	}
	switch {
	case name == "high" && v > u.Max:
		return fmt.Sprintf("high %v is above what %s can be (%v %s): it would never fire", v, metric, u.Max, u.Symbol)
	case name == "high" && v <= u.Min:
		return fmt.Sprintf("high %v is at or below the least %s can be (%v %s): it would always fire", v, metric, u.Min, u.Symbol)
	case name == "low" && v <= u.Min:
		return fmt.Sprintf("low %v is at or below the least %s can be (%v %s): it would never fire", v, metric, u.Min, u.Symbol)
	case name == "low" && v > u.Max:
		return fmt.Sprintf("low %v is above what %s can be (%v %s): it would always fire", v, metric, u.Max, u.Symbol)
	}
	return ""
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// DefaultRetention is how long readings are kept unless told otherwise.
const DefaultRetention = 30 * 24 * time.Hour

// keptRulesWithin bounds the durations of rules read back from the
// journal: a version accepted under a longer retention stays valid after
// the retention is shortened.
const keptRulesWithin = 3650 * 24 * time.Hour

// ParseRules parses a rules file for this server's retention (see
// ParseRulesWithin).
func (s *Service) ParseRules(data []byte) (*RuleSet, error) {
	return ParseRulesWithin(data, s.opt.Retention)
}

// Span writes a duration as people do: "30 days", "36 hours", "90 s".
func Span(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	case d >= time.Second:
		return fmt.Sprintf("%.4g s", d.Seconds())
	}
	return fmt.Sprintf("%.4g ms", float64(d)/float64(time.Millisecond))
}
