package incident

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/onemap/onemap/internal/jsonerr"
	"sort"
	"strconv"
	"strings"
)

//go:embed level.json
var defaultLevelJSON []byte

// DefaultLevelRulesJSON returns a copy of the default level rules file.
func DefaultLevelRulesJSON() []byte { return bytes.Clone(defaultLevelJSON) }

// TargetRule is how protective targets of one kind near an alarm raise
// the warning level.
type TargetRule struct {
	Kind      string `json:"kind"`       // protective target kind, e.g. "school"
	Zh        string `json:"zh"`         // its Chinese name, e.g. "学校"
	ZhMeasure string `json:"zh_measure"` // the measure word, e.g. "所"
	En        string `json:"en"`         // English singular
	EnPlural  string `json:"en_plural"`  // English plural
	Min       int    `json:"min"`        // how many raise the level
	Raise     int    `json:"raise"`      // by how many levels
}

// PeopleRule raises the level by Raise when at least Min people are in
// the area; the highest Min met applies.
type PeopleRule struct {
	Min   int `json:"min"`
	Raise int `json:"raise"`
}

// Name is a domain's name in both languages.
type Name struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// ScenarioRule bounds the level of a scenario (the impact analysis's
// scenario id): the level is at least as severe as MostLenient. Its names
// and instructions (警示事项) go into the warnings drafted for it.
type ScenarioRule struct {
	MostLenient    Level  `json:"most_lenient"`
	Zh             string `json:"zh"`
	En             string `json:"en"`
	InstructionsZh string `json:"instructions_zh"`
	InstructionsEn string `json:"instructions_en"`
}

// LevelRules is the rule SuggestLevel grades with (format in
// docs/incidents.md): a base level from the alarm level, raised by
// protective targets (at most MaxTargetRaise in all) and by the people in
// the area, then made at least as severe as the scenario asks.
type LevelRules struct {
	RadiusM        float64                 `json:"radius_m"`
	Base           map[string]Level        `json:"base"` // alarm level "1"–"4" → warning level
	Domains        map[string]Name         `json:"domains"`
	Targets        []TargetRule            `json:"targets"`
	MaxTargetRaise int                     `json:"max_target_raise"`
	People         []PeopleRule            `json:"people"`
	Scenarios      map[string]ScenarioRule `json:"scenarios"`
}

// ErrLevelRules is matched by errors.Is for every *LevelRuleError.
var ErrLevelRules = errors.New("incident: invalid level rules")

// LevelRuleError is why a level rules file was refused: the field (a JSON
// path such as "targets[2].raise") or the line of a syntax error, and the
// reason.
type LevelRuleError struct {
	Field  string
	Line   int
	Reason string
}

func (e *LevelRuleError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("incident: level rules line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("incident: level rules %s: %s", e.Field, e.Reason)
}

// Is makes every LevelRuleError match ErrLevelRules.
func (e *LevelRuleError) Is(target error) bool { return target == ErrLevelRules }

// MaxLevelRulesSize bounds a level rules file.
const MaxLevelRulesSize = 1 << 20

// DefaultLevelRules returns the parsed default rules.
func DefaultLevelRules() *LevelRules {
	r, err := ParseLevelRules(defaultLevelJSON)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return r
}

// ParseLevelRules parses and validates a level rules file; any error
// refuses the whole file with a *LevelRuleError.
func ParseLevelRules(data []byte) (*LevelRules, error) {
	bad := func(field, format string, args ...any) error {
		return &LevelRuleError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxLevelRulesSize {
		return nil, bad("file", "larger than %d bytes", MaxLevelRulesSize)
	}
	var r LevelRules
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		if line, ok := jsonerr.Line(data, err); ok {
			return nil, &LevelRuleError{Line: line, Reason: jsonerr.Reason(err)}
		}
		return nil, bad("file", "%s", jsonerr.Reason(err))
	}
	if dec.More() {
		return nil, bad("file", "more than one JSON value")
	}
	if !(r.RadiusM > 0 && r.RadiusM <= 10000) {
		return nil, bad("radius_m", "%v is not in (0, 10000] m", r.RadiusM)
	}
	for _, k := range []string{"1", "2", "3", "4"} {
		l, ok := r.Base[k]
		if !ok {
			return nil, bad("base", "no warning level for alarm level %s", k)
		}
		if !l.Valid() {
			return nil, bad("base."+k, "level %d is not 1–4 (I–IV)", l)
		}
	}
	if len(r.Base) != 4 {
		return nil, bad("base", "only alarm levels 1 to 4 are graded")
	}
	for k, n := range r.Domains {
		if k == "" || n.Zh == "" || n.En == "" {
			return nil, bad("domains."+k, "a domain has an id and both names")
		}
	}
	seen := map[string]bool{}
	for i, t := range r.Targets {
		f := fmt.Sprintf("targets[%d]", i)
		switch {
		case t.Kind == "":
			return nil, bad(f+".kind", "missing")
		case seen[t.Kind]:
			return nil, bad(f+".kind", "%q is listed twice", t.Kind)
		case t.Zh == "" || t.ZhMeasure == "" || t.En == "" || t.EnPlural == "":
			return nil, bad(f, "zh, zh_measure, en and en_plural are all needed")
		case t.Min < 1:
			return nil, bad(f+".min", "%d is less than 1", t.Min)
		case t.Raise < 0 || t.Raise > 3:
			return nil, bad(f+".raise", "%d is not 0–3", t.Raise)
		}
		seen[t.Kind] = true
	}
	if r.MaxTargetRaise < 0 || r.MaxTargetRaise > 3 {
		return nil, bad("max_target_raise", "%d is not 0–3", r.MaxTargetRaise)
	}
	for i, p := range r.People {
		f := fmt.Sprintf("people[%d]", i)
		if p.Min < 1 || p.Raise < 0 || p.Raise > 3 {
			return nil, bad(f, "min is at least 1 and raise 0–3")
		}
		if i > 0 && p.Min <= r.People[i-1].Min {
			return nil, bad(f+".min", "steps go up: %d after %d", p.Min, r.People[i-1].Min)
		}
	}
	for k, s := range r.Scenarios {
		if k == "" || !s.MostLenient.Valid() {
			return nil, bad("scenarios."+k, "most_lenient %d is not 1–4", s.MostLenient)
		}
		if s.Zh == "" || s.En == "" || s.InstructionsZh == "" || s.InstructionsEn == "" {
			return nil, bad("scenarios."+k, "zh, en, instructions_zh and instructions_en are all needed")
		}
		if len(s.InstructionsZh) > MaxText || len(s.InstructionsEn) > MaxText {
			return nil, bad("scenarios."+k, "instructions are at most %d bytes", MaxText)
		}
	}
	return &r, nil
}

// LevelInput is what SuggestLevel grades: the alarm, its domain and
// scenario, and what is within the rules' radius.
type LevelInput struct {
	AlarmLevel int            // 1 most severe to 4
	Domain     string         // e.g. "gas"
	Scenario   string         // scenario id, may be empty
	Targets    map[string]int // protective targets by kind
	People     int            // people in the area
}

// Suggestion is a suggested warning level and why, in Chinese and English.
type Suggestion struct {
	Level    Level  `json:"level"`
	ReasonZh string `json:"reason_zh"`
	ReasonEn string `json:"reason_en"`
}

// SuggestLevel grades a warning from in by the rules r.
func (r *LevelRules) SuggestLevel(in LevelInput) (Suggestion, error) {
	if in.AlarmLevel < 1 || in.AlarmLevel > 4 {
		return Suggestion{}, &EventError{Code: "bad_level", Reason: fmt.Sprintf("alarm level %d is not 1–4", in.AlarmLevel)}
	}
	l := r.Base[strconv.Itoa(in.AlarmLevel)]
	raise := 0
	type hit struct {
		t TargetRule
		n int
	}
	var hits []hit
	for _, t := range r.Targets {
		if n := in.Targets[t.Kind]; n > 0 {
			hits = append(hits, hit{t, n})
			if n >= t.Min {
				raise = max(raise, min(t.Raise, r.MaxTargetRaise))
			}
		}
	}
	people := 0
	for _, p := range r.People {
		if in.People >= p.Min {
			people = p.Raise
		}
	}
	l = max(LevelI, l-Level(raise+people))
	if s, ok := r.Scenarios[in.Scenario]; ok && s.MostLenient < l {
		l = s.MostLenient
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].n > hits[j].n })
	dom, ok := r.Domains[in.Domain]
	if !ok {
		dom = Name{Zh: in.Domain, En: in.Domain}
	}
	var zh, en []string
	for _, h := range hits {
		zh = append(zh, fmt.Sprintf("%d %s%s", h.n, h.t.ZhMeasure, h.t.Zh))
		name := h.t.EnPlural
		if h.n == 1 {
			name = h.t.En
		}
		en = append(en, fmt.Sprintf("%d %s", h.n, name))
	}
	if in.People > 0 {
		zh = append(zh, "约 "+thousands(roundPeople(in.People))+" 人")
		en = append(en, "about "+thousands(roundPeople(in.People))+" people")
	}
	radius := strconv.FormatFloat(r.RadiusM, 'f', -1, 64)
	s := Suggestion{Level: l}
	s.ReasonZh = fmt.Sprintf("%s 级：%d 级%s报警", l, in.AlarmLevel, dom.Zh)
	s.ReasonEn = fmt.Sprintf("level %s: %d-level %s alarm", l, in.AlarmLevel, dom.En)
	if len(zh) > 0 {
		s.ReasonZh += "，" + radius + " m 内有 " + strings.Join(zh, "、")
		s.ReasonEn += ", " + joinEn(en) + " within " + radius + " m"
	}
	return s, nil
}

func joinEn(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// roundPeople rounds a head count of 1,000 or more to two significant
// figures; smaller counts are kept.
func roundPeople(n int) int {
	step := 1
	for v := n; v >= 100; v /= 10 {
		step *= 10
	}
	if n >= 1000 {
		return (n + step/2) / step * step
	}
	return n
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
