package plan

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/onemap/onemap/internal/jsonerr"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/onemap/onemap/incident"
)

//go:embed plans.json
var defaultPlansJSON []byte

// DefaultPlansJSON returns a copy of the default plans file.
func DefaultPlansJSON() []byte { return bytes.Clone(defaultPlansJSON) }

// Text is a text in Chinese and English.
type Text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// TaskSpec is a task of a plan: what is to be done, by whom and how soon.
type TaskSpec struct {
	Title Text `json:"title"`
	// Role is the login role the task falls to (responder, unit, operator,
	// analyst, commander); UnitKind the kind of unit (owner, department,
	// district, emergency). A task has one or both.
	Role     string `json:"role,omitempty"`
	UnitKind string `json:"unit_kind,omitempty"`
	// DeadlineMin is the minutes from the warning's publication by which
	// the task is to be done.
	DeadlineMin int `json:"deadline_min"`
	// NeedsPhoto and NeedsPosition: done only with a photo, or with the
	// position it was done at.
	NeedsPhoto    bool `json:"needs_photo,omitempty"`
	NeedsPosition bool `json:"needs_position,omitempty"`
}

// Plan is a response plan (预案) for an incident type over a range of
// warning levels: its tasks and its knowledge points, the measures
// (措施要点) and cautions (注意事项).
type Plan struct {
	ID   string `json:"id"`
	Type string `json:"type"` // an incident type, one of Types
	// Also are the other types the plan serves, such as both scenarios of
	// a gas leak.
	Also   []string `json:"also,omitempty"`
	Title  Text     `json:"title"`
	Domain string   `json:"domain"` // one of Domains
	// MinLevel and MaxLevel bound the levels the plan applies to: 1 (I,
	// the most severe) to 4 (IV); MinLevel ≤ MaxLevel.
	MinLevel incident.Level `json:"min_level"`
	MaxLevel incident.Level `json:"max_level"`
	// EscalateEveryMin is the minutes between the escalation steps of a
	// late task; 0 means DefaultEscalateEveryMin.
	EscalateEveryMin int        `json:"escalate_every_min,omitempty"`
	Tasks            []TaskSpec `json:"tasks"`
	Measures         []Text     `json:"measures"`
	Cautions         []Text     `json:"cautions"`
}

// Plans is a parsed plans file.
type Plans struct {
	Plans []Plan `json:"plans"`
	byID  map[string]int
}

// Roles lists the login roles a task may fall to (auth/roles.json).
var Roles = []string{"responder", "unit", "operator", "analyst", "commander"}

// UnitKinds lists the kinds of unit a task may fall to.
var UnitKinds = []string{"owner", "department", "district", "emergency"}

// Domains lists the domains of the guide (incident/level.json).
var Domains = []string{"gas", "water", "drainage", "heating", "bridge", "utility_tunnel"}

// Types are the incident types a plan may be for, with their domain.
var Types = map[string]string{
	// The scenarios of the impact analysis, which warnings are drafted as.
	"gas_pipe_rupture":       "gas",
	"gas_explosion_confined": "gas",
	"water_main_burst":       "water",
	"heating_burst":          "heating",
	"tunnel_incident":        "utility_tunnel",
	// Types a person may give a warning besides.
	"gas_leak":          "gas",
	"gas_explosion":     "gas",
	"pipe_burst":        "water",
	"water_quality":     "water",
	"waterlogging":      "drainage",
	"drainage_overflow": "drainage",
	"road_collapse":     "drainage",
	"heating_leak":      "heating",
	"bridge_damage":     "bridge",
	"tunnel_gas":        "utility_tunnel",
	"tunnel_fire":       "utility_tunnel",
}

// Limits of a plans file.
const (
	MaxPlansSize            = 1 << 20 // bytes of a file
	MaxPlans                = 200
	MaxTasks                = 50 // tasks of a plan
	MaxPoints               = 50 // measures, and cautions, of a plan
	MaxPlanText             = 1000
	MaxDeadlineMin          = 7 * 24 * 60
	DefaultEscalateEveryMin = 15
	MaxEscalateEveryMin     = 24 * 60
)

// ErrPlans is matched by errors.Is for every *PlanError.
var ErrPlans = errors.New("plan: invalid plans file")

// PlanError is why a plans file was refused: the entry (a plan's id, or
// its index when it has none), the field (a JSON path such as
// "plans[2].tasks[0].role") or the line of a syntax error, and the reason.
// Its Code is "bad_plans".
type PlanError struct {
	Entry  string
	Field  string
	Line   int
	Reason string
}

// Code is the stable code of every PlanError.
func (e *PlanError) Code() string { return "bad_plans" }

func (e *PlanError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("plan: plans file line %d: %s", e.Line, e.Reason)
	case e.Entry != "":
		return fmt.Sprintf("plan: plan %s: %s: %s", e.Entry, e.Field, e.Reason)
	}
	return fmt.Sprintf("plan: plans file %s: %s", e.Field, e.Reason)
}

// Is makes every PlanError match ErrPlans.
func (e *PlanError) Is(target error) bool { return target == ErrPlans }

// Default returns the parsed default plans (plans.json).
func Default() *Plans {
	p, err := Parse(defaultPlansJSON)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return p
}

// Read reads and checks a plans file of at most MaxPlansSize bytes.
func Read(r io.Reader) (*Plans, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPlansSize+1))
	if err != nil {
		return nil, fmt.Errorf("plan: read plans: %w", err)
	}
	return Parse(data)
}

// Parse parses and checks a plans file; any error refuses the whole file
// with a *PlanError.
func Parse(data []byte) (*Plans, error) {
	if len(data) > MaxPlansSize {
		return nil, &PlanError{Field: "file", Reason: fmt.Sprintf("larger than %d bytes", MaxPlansSize)}
	}
	var p Plans
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		if line, ok := jsonerr.Line(data, err); ok {
			return nil, &PlanError{Line: line, Reason: jsonerr.Reason(err)}
		}
		return nil, &PlanError{Field: "file", Reason: jsonerr.Reason(err)}
	}
	if dec.More() {
		return nil, &PlanError{Field: "file", Reason: "more than one JSON value"}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

func checkText(t Text, need bool) string {
	switch {
	case need && (strings.TrimSpace(t.Zh) == "" || strings.TrimSpace(t.En) == ""):
		return "needs zh and en"
	case len(t.Zh) > MaxPlanText || len(t.En) > MaxPlanText:
		return fmt.Sprintf("a text is longer than %d bytes", MaxPlanText)
	}
	return ""
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (p *Plans) check() error {
	if len(p.Plans) == 0 {
		return &PlanError{Field: "plans", Reason: "no plans"}
	}
	if len(p.Plans) > MaxPlans {
		return &PlanError{Field: "plans", Reason: fmt.Sprintf("more than %d plans", MaxPlans)}
	}
	p.byID = map[string]int{}
	for i := range p.Plans {
		pl := &p.Plans[i]
		entry := pl.ID
		if !validID(pl.ID) {
			entry = fmt.Sprintf("#%d", i+1)
		}
		bad := func(field, format string, args ...any) error {
			return &PlanError{Entry: entry, Field: fmt.Sprintf("plans[%d]", i) + field, Reason: fmt.Sprintf(format, args...)}
		}
		if !validID(pl.ID) {
			return bad(".id", "%q is not 1 to 64 of a-z, 0-9, _ and -", pl.ID)
		}
		if j, dup := p.byID[pl.ID]; dup {
			return bad(".id", "also the id of plans[%d]", j)
		}
		dom, ok := Types[pl.Type]
		if !ok {
			return bad(".type", "%q is not a known incident type", pl.Type)
		}
		if pl.Domain != dom {
			return bad(".domain", "%q is not the domain of %s (%s)", pl.Domain, pl.Type, dom)
		}
		if r := checkText(pl.Title, true); r != "" {
			return bad(".title", "%s", r)
		}
		if !pl.MinLevel.Valid() || !pl.MaxLevel.Valid() || pl.MinLevel > pl.MaxLevel {
			return bad(".min_level", "levels %d to %d are not a range within 1 (I) to 4 (IV)", pl.MinLevel, pl.MaxLevel)
		}
		if pl.EscalateEveryMin < 0 || pl.EscalateEveryMin > MaxEscalateEveryMin {
			return bad(".escalate_every_min", "%d is not 0 to %d", pl.EscalateEveryMin, MaxEscalateEveryMin)
		}
		if len(pl.Also) > 10 {
			return bad(".also", "at most 10 other types")
		}
		for _, t := range pl.Also {
			if d, ok := Types[t]; !ok || d != pl.Domain {
				return bad(".also", "%q is not a known incident type of domain %s", t, pl.Domain)
			}
		}
		for j, q := range p.Plans[:i] {
			for _, t := range pl.types() {
				if q.serves(t) && q.MinLevel <= pl.MaxLevel && pl.MinLevel <= q.MaxLevel {
					return bad(".min_level", "levels %s–%s of %s overlap plan %s (plans[%d])", pl.MinLevel, pl.MaxLevel, t, q.ID, j)
				}
			}
		}
		if len(pl.Tasks) == 0 || len(pl.Tasks) > MaxTasks {
			return bad(".tasks", "%d tasks, not 1 to %d", len(pl.Tasks), MaxTasks)
		}
		for k, t := range pl.Tasks {
			if field, reason := checkSpec(t); reason != "" {
				return bad(fmt.Sprintf(".tasks[%d]", k)+field, "%s", reason)
			}
		}
		for name, pts := range map[string][]Text{".measures": pl.Measures, ".cautions": pl.Cautions} {
			if len(pts) == 0 || len(pts) > MaxPoints {
				return bad(name, "%d points, not 1 to %d", len(pts), MaxPoints)
			}
			for k, t := range pts {
				if r := checkText(t, true); r != "" {
					return bad(fmt.Sprintf("%s[%d]", name, k), "%s", r)
				}
			}
		}
		p.byID[pl.ID] = i
	}
	return nil
}

// checkSpec returns the field of t that is wrong and why, or "", "".
func checkSpec(t TaskSpec) (field, reason string) {
	if r := checkText(t.Title, true); r != "" {
		return ".title", r
	}
	if t.Role == "" && t.UnitKind == "" {
		return "", "a task needs a role, a unit kind or both"
	}
	if t.Role != "" && !slices.Contains(Roles, t.Role) {
		return ".role", fmt.Sprintf("%q is not one of %s", t.Role, strings.Join(Roles, ", "))
	}
	if t.UnitKind != "" && !slices.Contains(UnitKinds, t.UnitKind) {
		return ".unit_kind", fmt.Sprintf("%q is not one of %s", t.UnitKind, strings.Join(UnitKinds, ", "))
	}
	if t.DeadlineMin < 1 || t.DeadlineMin > MaxDeadlineMin {
		return ".deadline_min", fmt.Sprintf("%d is not 1 to %d", t.DeadlineMin, MaxDeadlineMin)
	}
	return "", ""
}

// checkSpecs checks the tasks an event carries (bad_task).
func checkSpecs(ts []TaskSpec) error {
	if len(ts) == 0 {
		return refuse("bad_task", "a plan has at least one task")
	}
	for i, t := range ts {
		if field, reason := checkSpec(t); reason != "" {
			return refuse("bad_task", "tasks[%d]%s: %s", i, field, reason)
		}
	}
	return nil
}

// Get returns the plan with id.
func (p *Plans) Get(id string) (*Plan, bool) {
	i, ok := p.byID[id]
	if !ok {
		return nil, false
	}
	return &p.Plans[i], true
}

// Select returns the plan for incidents of type typ at level (1 to 4);
// plans of one type never overlap, so at most one applies.
func (p *Plans) Select(typ string, level int) (*Plan, bool) {
	for i := range p.Plans {
		pl := &p.Plans[i]
		if pl.serves(typ) && incident.Level(level) >= pl.MinLevel && incident.Level(level) <= pl.MaxLevel {
			return pl, true
		}
	}
	return nil, false
}

// types are the type and the others the plan serves.
func (pl *Plan) types() []string { return append([]string{pl.Type}, pl.Also...) }

// serves reports whether the plan is for incidents of type typ.
func (pl *Plan) serves(typ string) bool { return pl.Type == typ || slices.Contains(pl.Also, typ) }

// IDs lists the plans' ids, sorted.
func (p *Plans) IDs() []string {
	ids := make([]string, 0, len(p.Plans))
	for _, pl := range p.Plans {
		ids = append(ids, pl.ID)
	}
	sort.Strings(ids)
	return ids
}

// EscalateEvery is the plan's minutes between escalation steps.
func (pl *Plan) EscalateEvery() int {
	if pl.EscalateEveryMin == 0 {
		return DefaultEscalateEveryMin
	}
	return pl.EscalateEveryMin
}
