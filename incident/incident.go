package incident

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb/geojson"
)

// State is where an incident stands in the linked response.
type State string

// The states of an incident. New is the state before its first event.
const (
	New          State = ""
	Verifying    State = "verifying"     // alarms being verified (核实)
	Confirmed    State = "confirmed"     // verified as real
	WarningDraft State = "warning_draft" // a warning being written (申请)
	InReview     State = "in_review"     // the draft submitted for review (审核)
	Signed       State = "signed"        // the warning signed (签发)
	Published    State = "published"     // the warning pushed and public (发布)
	Responding   State = "responding"    // the linked response under way (联动处置)
	Resolved     State = "resolved"      // handled on site
	Released     State = "released"      // the warning released (解除)
	Archived     State = "archived"      // the full record kept (归档)
	FalseAlarm   State = "false_alarm"   // verified as a false alarm (误报)
	Merged       State = "merged"        // folded into another incident
)

// States lists every state but New, in the order of the loop.
var States = []State{Verifying, Confirmed, WarningDraft, InReview, Signed, Published,
	Responding, Resolved, Released, Archived, FalseAlarm, Merged}

// Transitions is the transition table: from each state, the states an
// event may take an incident to. A state going to itself records something
// without moving on: a site check while verifying, an edit of a draft, a
// review while in review, a re-issue of the warning (Update) while it is
// published or responded to, field feedback while responding. Archived and
// Merged are final.
var Transitions = map[State][]State{
	New:          {Verifying},
	Verifying:    {Verifying, Confirmed, FalseAlarm, Merged},
	Confirmed:    {WarningDraft, Responding, Merged},
	WarningDraft: {WarningDraft, InReview},
	InReview:     {InReview, WarningDraft, Signed},
	Signed:       {Published},
	Published:    {Published, Responding, Released},
	Responding:   {Responding, Resolved},
	Resolved:     {Released, Archived},
	Released:     {Archived},
	FalseAlarm:   {Archived},
	Archived:     nil,
	Merged:       nil,
}

// Allowed reports the states an incident in state s may go to.
func Allowed(s State) []State { return slices.Clone(Transitions[s]) }

// ErrBadTransition is matched by errors.Is for every *TransitionError.
var ErrBadTransition = errors.New("incident: bad transition")

// TransitionError is an event the transition table does not allow from the
// incident's state; the HTTP layer answers it with 409 bad_transition.
type TransitionError struct {
	ID      string
	From    State   // the incident's state
	To      State   // the state the event tried
	Allowed []State // the states it may go to
}

func (e *TransitionError) Error() string {
	from := string(e.From)
	if from == "" {
		from = "new"
	}
	al := make([]string, len(e.Allowed))
	for i, s := range e.Allowed {
		al[i] = string(s)
	}
	return fmt.Sprintf("incident %s: cannot go from %s to %s (allowed: %s)", e.ID, from, e.To, strings.Join(al, ", "))
}

// Is makes every TransitionError match ErrBadTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrBadTransition }

// ErrEvent is matched by errors.Is for an event that is malformed or
// breaks a rule of the loop (an *EventError).
var ErrEvent = errors.New("incident: invalid event")

// EventError is why an event was refused; Code is stable (such as
// "own_draft", "no_review", "bad_cause").
type EventError struct {
	Code   string
	Reason string
}

func (e *EventError) Error() string { return "incident: " + e.Code + ": " + e.Reason }

// Is makes every EventError match ErrEvent.
func (e *EventError) Is(target error) bool { return target == ErrEvent }

func refuse(code, format string, args ...any) error {
	return &EventError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Outcome is the result of verifying an incident's alarms.
type Outcome string

// The outcomes of verification.
const (
	OutcomeConfirmed  Outcome = "confirmed"
	OutcomeFalseAlarm Outcome = "false_alarm"
	OutcomeSiteCheck  Outcome = "site_check" // needs someone on site first
)

// Cause is why an alarm was false.
type Cause string

// The causes of a false alarm; Other needs a text.
const (
	CauseSensorFault  Cause = "sensor_fault"
	CauseMaintenance  Cause = "maintenance"
	CauseInterference Cause = "interference"
	CauseOther        Cause = "other"
)

// Causes lists the causes of a false alarm.
var Causes = []Cause{CauseSensorFault, CauseMaintenance, CauseInterference, CauseOther}

// Level is a warning level: 1 (I, red) is the most severe, 4 (IV, blue)
// the least.
type Level int

// The warning levels.
const (
	LevelI   Level = 1
	LevelII  Level = 2
	LevelIII Level = 3
	LevelIV  Level = 4
)

// Valid reports whether l is one of I–IV.
func (l Level) Valid() bool { return l >= LevelI && l <= LevelIV }

// String is the level as a Roman numeral, "I" to "IV"; "?" when invalid.
func (l Level) String() string {
	if !l.Valid() {
		return "?"
	}
	return [...]string{"I", "II", "III", "IV"}[l-1]
}

// Warning is one version of an incident's warning (§六 1: type, level,
// time, location, area, surroundings, instructions).
type Warning struct {
	Version int       `json:"version"` // 1 for the first, then one more each re-issue
	Level   Level     `json:"level"`
	Type    string    `json:"type"` // e.g. "gas_leak", "pipe_burst", "waterlogging"
	Time    time.Time `json:"time"` // when the risk was found
	// Location is a place name or address.
	Location string `json:"location"`
	// Area is the affected area, a GeoJSON geometry (lon, lat).
	Area         *geojson.Geometry `json:"area,omitempty"`
	Surroundings string            `json:"surroundings,omitempty"` // targets and people around
	Instructions string            `json:"instructions,omitempty"`
	Headline     string            `json:"headline,omitempty"`
	// HeadlineEn, SurroundingsEn and InstructionsEn are the English texts.
	HeadlineEn     string `json:"headline_en,omitempty"`
	SurroundingsEn string `json:"surroundings_en,omitempty"`
	InstructionsEn string `json:"instructions_en,omitempty"`
	// Drafter is the login that wrote this version.
	Drafter string `json:"drafter,omitempty"`
	// Suggested is the level the level rules suggested for it, and
	// SuggestedWhy (SuggestedWhyEn) why; a person may have chosen another.
	Suggested      Level  `json:"suggested,omitempty"`
	SuggestedWhy   string `json:"suggested_why,omitempty"`
	SuggestedWhyEn string `json:"suggested_why_en,omitempty"`
	// Issued is when this version was published, and Signer who signed it
	// (who re-issued it, for an update); zero until then.
	Issued time.Time `json:"issued,omitzero"`
	Signer string    `json:"signer,omitempty"`
}

// Limits on what an event carries.
const (
	MaxText        = 4000 // bytes of a free text
	MaxAlarms      = 1000
	MaxAttachments = 100
	MaxVersions    = 200
)

func (w *Warning) validate() error {
	if !w.Level.Valid() {
		return refuse("bad_level", "level %d is not I–IV", w.Level)
	}
	if w.Type == "" || w.Location == "" || w.Time.IsZero() {
		return refuse("bad_warning", "a warning needs a type, a location and a time")
	}
	for _, s := range []string{w.Type, w.Location, w.Surroundings, w.Instructions, w.Headline, w.HeadlineEn, w.SurroundingsEn, w.InstructionsEn, w.SuggestedWhy, w.SuggestedWhyEn} {
		if len(s) > MaxText {
			return refuse("too_long", "a text of the warning is longer than %d bytes", MaxText)
		}
	}
	if w.Area != nil && w.Area.Geometry() == nil {
		return refuse("bad_area", "the area is not a geometry")
	}
	return nil
}

// Event is one step of an incident, as journalled. What a step does not
// use is left zero.
type Event struct {
	Seq      uint64    `json:"seq"` // position in the Book, from 1
	Incident string    `json:"incident"`
	To       State     `json:"to"`
	Who      string    `json:"who"`  // login
	Role     string    `json:"role"` // the role it acted in
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
	// Attachments are ids of files kept elsewhere (photos, reports).
	Attachments []string `json:"attachments,omitempty"`
	// Alarms and Asset: the alarms an incident is opened with (to
	// Verifying from New) or that a merge brings.
	Alarms []uint64 `json:"alarms,omitempty"`
	Asset  uint64   `json:"asset,omitempty"`
	// Outcome, Cause, CauseText: a verification (to Verifying, Confirmed
	// or FalseAlarm).
	Outcome   Outcome `json:"outcome,omitempty"`
	Cause     Cause   `json:"cause,omitempty"`
	CauseText string  `json:"cause_text,omitempty"`
	// Warning: a draft or its edit (to WarningDraft), or a re-issue (to
	// Published from Published or Responding).
	Warning *Warning `json:"warning,omitempty"`
	// Into is the incident a merge folds this one into.
	Into string `json:"into,omitempty"`
}

// Incident is the state of one incident, rebuilt from its events.
type Incident struct {
	ID        string    `json:"id"`
	State     State     `json:"state"`
	Alarms    []uint64  `json:"alarms"`
	Asset     uint64    `json:"asset,omitempty"`
	Opened    time.Time `json:"opened"`
	Updated   time.Time `json:"updated"`
	LastSeq   uint64    `json:"last_seq"`
	Outcome   Outcome   `json:"outcome,omitempty"`
	Cause     Cause     `json:"cause,omitempty"`
	CauseText string    `json:"cause_text,omitempty"`
	Into      string    `json:"into,omitempty"`
	Reviewer  string    `json:"reviewer,omitempty"` // who reviewed the current draft
	Signer    string    `json:"signer,omitempty"`   // who signed the current draft
	// Draft is the warning being written, reviewed or signed; nil when none.
	Draft *Warning `json:"draft,omitempty"`
	// Versions are the published versions, oldest first.
	Versions    []Warning `json:"versions,omitempty"`
	Attachments []string  `json:"attachments,omitempty"`
	Events      int       `json:"events"`
	// ReleasedAt is when the warning was released (解除); zero before.
	ReleasedAt time.Time `json:"released_at,omitzero"`
	// Submitted is when the current draft was submitted for review.
	Submitted time.Time `json:"submitted,omitzero"`
}

// ApprovalDeadlines are how long the review and signature of a draft may
// take, by level, from its submission; a draft still unsigned or
// unpublished after it is late, and reminders follow.
var ApprovalDeadlines = map[Level]time.Duration{
	LevelI: 10 * time.Minute, LevelII: 15 * time.Minute, LevelIII: 30 * time.Minute, LevelIV: 60 * time.Minute,
}

// ApprovalDue is when in's draft must be signed and published by
// (ApprovalDeadlines); zero when no draft waits for approval.
func (in *Incident) ApprovalDue() time.Time {
	if (in.State != InReview && in.State != Signed) || in.Draft == nil || in.Submitted.IsZero() {
		return time.Time{}
	}
	return in.Submitted.Add(ApprovalDeadlines[in.Draft.Level])
}

// Current is the latest published warning, nil before the first.
func (in *Incident) Current() *Warning {
	if len(in.Versions) == 0 {
		return nil
	}
	return &in.Versions[len(in.Versions)-1]
}

// Level is the level of the draft or else of the current warning; 0 when
// there is neither.
func (in *Incident) Level() Level {
	if in.Draft != nil {
		return in.Draft.Level
	}
	if w := in.Current(); w != nil {
		return w.Level
	}
	return 0
}

func cloneWarning(w *Warning) *Warning {
	if w == nil {
		return nil
	}
	c := *w
	return &c
}

func (in Incident) clone() Incident {
	in.Alarms = slices.Clone(in.Alarms)
	in.Versions = slices.Clone(in.Versions)
	in.Attachments = slices.Clone(in.Attachments)
	in.Draft = cloneWarning(in.Draft)
	return in
}

func checkEvent(ev *Event) error {
	if ev.Incident == "" || len(ev.Incident) > 64 {
		return refuse("bad_id", "an incident id is 1 to 64 bytes")
	}
	if ev.Who == "" || len(ev.Who) > 128 || len(ev.Role) > 64 {
		return refuse("bad_who", "an event needs who did it")
	}
	if ev.At.IsZero() {
		return refuse("bad_time", "an event needs a time")
	}
	if len(ev.Reason) > MaxText || len(ev.CauseText) > MaxText {
		return refuse("too_long", "a text is longer than %d bytes", MaxText)
	}
	if len(ev.Attachments) > MaxAttachments || len(ev.Alarms) > MaxAlarms {
		return refuse("too_many", "at most %d attachments and %d alarms", MaxAttachments, MaxAlarms)
	}
	for _, a := range ev.Attachments {
		if a == "" || len(a) > 128 {
			return refuse("bad_attachment", "an attachment id is 1 to 128 bytes")
		}
	}
	return nil
}

// Apply returns the state after event ev, or an error and in unchanged:
// a *TransitionError when the table does not allow ev.To from in.State, an
// *EventError when ev is malformed or breaks a rule of the loop. It does not
// check roles (see Approvals); it never changes in.
func Apply(in Incident, ev Event) (Incident, error) {
	if err := checkEvent(&ev); err != nil {
		return in, err
	}
	if in.State != New && ev.Incident != in.ID {
		return in, refuse("wrong_incident", "event for %s applied to %s", ev.Incident, in.ID)
	}
	if !slices.Contains(Transitions[in.State], ev.To) {
		return in, &TransitionError{ID: ev.Incident, From: in.State, To: ev.To, Allowed: Allowed(in.State)}
	}
	if ev.Seq != 0 && ev.Seq <= in.LastSeq {
		return in, refuse("bad_seq", "event %d after %d", ev.Seq, in.LastSeq)
	}
	out := in.clone()
	self := in.State == ev.To
	switch ev.To {
	case Verifying:
		if in.State == New {
			if len(ev.Alarms) == 0 {
				return in, refuse("no_alarms", "an incident is opened with at least one alarm")
			}
			out.ID, out.Opened, out.Asset = ev.Incident, ev.At, ev.Asset
			out.Alarms = append(out.Alarms, ev.Alarms...)
		} else if ev.Outcome != OutcomeSiteCheck {
			return in, refuse("bad_outcome", "while verifying, an event records a site check")
		}
		if in.State != New {
			out.Outcome = OutcomeSiteCheck
		}
	case Confirmed:
		if ev.Outcome != "" && ev.Outcome != OutcomeConfirmed {
			return in, refuse("bad_outcome", "to confirmed with outcome %q", ev.Outcome)
		}
		out.Outcome = OutcomeConfirmed
	case FalseAlarm:
		if !slices.Contains(Causes, ev.Cause) {
			return in, refuse("bad_cause", "cause %q is not one of sensor_fault, maintenance, interference, other", ev.Cause)
		}
		if ev.Cause == CauseOther && strings.TrimSpace(ev.CauseText) == "" {
			return in, refuse("bad_cause", "cause other needs a text")
		}
		out.Outcome, out.Cause, out.CauseText = OutcomeFalseAlarm, ev.Cause, ev.CauseText
	case Merged:
		if ev.Into == "" || ev.Into == in.ID {
			return in, refuse("bad_merge", "a merge names another incident")
		}
		out.Into = ev.Into
	case WarningDraft:
		if ev.Warning == nil {
			if in.State == InReview && in.Draft != nil {
				out.Reviewer = "" // sent back for changes
				break
			}
			return in, refuse("no_warning", "a draft carries its warning")
		}
		w := cloneWarning(ev.Warning)
		if err := w.validate(); err != nil {
			return in, err
		}
		w.Drafter, w.Version = ev.Who, len(in.Versions)+1
		out.Draft, out.Reviewer, out.Signer = w, "", ""
	case InReview:
		if !self {
			if in.Draft == nil {
				return in, refuse("no_warning", "nothing to submit")
			}
			out.Submitted = ev.At
			break
		}
		// a review
		if ev.Who == in.Draft.Drafter {
			return in, refuse("own_draft", "%s cannot review their own draft", ev.Who)
		}
		out.Reviewer = ev.Who
	case Signed:
		if in.Reviewer == "" {
			return in, refuse("no_review", "a draft is reviewed before it is signed")
		}
		if ev.Who == in.Draft.Drafter {
			return in, refuse("own_draft", "%s cannot sign their own draft", ev.Who)
		}
		out.Signer = ev.Who
	case Published:
		if !self {
			w := *out.Draft
			w.Issued, w.Signer = ev.At, in.Signer
			out.Versions = append(out.Versions, w)
			out.Draft = nil
			break
		}
		fallthrough
	case Responding:
		if ev.Warning != nil {
			if len(in.Versions) == 0 {
				return in, refuse("no_warning", "nothing published to re-issue")
			}
			if len(in.Versions) >= MaxVersions {
				return in, refuse("too_many", "at most %d versions", MaxVersions)
			}
			w := *ev.Warning
			if err := w.validate(); err != nil {
				return in, err
			}
			w.Drafter, w.Version, w.Issued, w.Signer = ev.Who, len(in.Versions)+1, ev.At, ev.Who
			out.Versions = append(out.Versions, w)
		}
	}
	if len(out.Attachments)+len(ev.Attachments) > MaxAttachments*10 {
		return in, refuse("too_many", "at most %d attachments in an incident", MaxAttachments*10)
	}
	out.Attachments = append(out.Attachments, ev.Attachments...)
	if ev.To == Released {
		out.ReleasedAt = ev.At
	}
	out.State, out.Updated, out.Events = ev.To, ev.At, in.Events+1
	if ev.Seq != 0 {
		out.LastSeq = ev.Seq
	}
	return out, nil
}

// Rebuild returns the incident the events make, applied in order; the
// same events always make the same incident.
func Rebuild(events []Event) (Incident, error) {
	var in Incident
	for i, ev := range events {
		next, err := Apply(in, ev)
		if err != nil {
			return in, fmt.Errorf("incident: event %d of %d: %w", i+1, len(events), err)
		}
		in = next
	}
	return in, nil
}

// MaxEventSize bounds the JSON of one event DecodeEvent reads.
const MaxEventSize = 1 << 20

// DecodeEvent reads one event from its JSON, as journalled, refusing
// unknown fields and anything larger than MaxEventSize.
func DecodeEvent(data []byte) (Event, error) {
	var ev Event
	if len(data) > MaxEventSize {
		return ev, refuse("too_large", "an event is at most %d bytes", MaxEventSize)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return Event{}, &EventError{Code: "bad_json", Reason: err.Error()}
	}
	if dec.More() {
		return Event{}, refuse("bad_json", "more than one event")
	}
	if err := checkEvent(&ev); err != nil {
		return Event{}, err
	}
	return ev, nil
}
