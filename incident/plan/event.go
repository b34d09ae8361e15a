package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/onemap/onemap/incident/attach"
)

// ErrRefused is matched by errors.Is for every *Error.
var ErrRefused = errors.New("plan: refused")

// Error is why an event or a request was refused; Code is stable (such
// as "bad_task", "not_assignee", "bad_position", "too_many",
// "bad_transition").
type Error struct {
	Code   string
	Reason string
}

func (e *Error) Error() string { return "plan: " + e.Code + ": " + e.Reason }

// Is makes every Error match ErrRefused, and an Error match another with
// the same Code (so errors.Is(err, ErrNotFound) works).
func (e *Error) Is(target error) bool {
	if t, ok := target.(*Error); ok {
		return t.Code == e.Code
	}
	return target == ErrRefused
}

// ErrNotFound is matched by errors.Is when an incident has no plan open.
var ErrNotFound = &Error{Code: "not_found", Reason: "no plan is open for the incident"}

// ErrForbidden is matched by errors.Is when the actor's role may not do
// what it asks.
var ErrForbidden = &Error{Code: "forbidden", Reason: "the role may not do this"}

func refuse(code, format string, args ...any) error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Kind is what an event records.
type Kind string

// The kinds of event.
const (
	KindOpened    Kind = "plan_opened"    // a plan linked to an incident, its tasks made
	KindAssigned  Kind = "task_assigned"  // a task given to a login (again, to re-assign)
	KindAccepted  Kind = "task_accepted"  // the assignee takes it on
	KindEnRoute   Kind = "task_en_route"  // the assignee sets off
	KindArrived   Kind = "task_arrived"   // the assignee is on site
	KindDone      Kind = "task_done"      // the task is done
	KindCancelled Kind = "task_cancelled" // the task is called off
	KindOverdue   Kind = "task_overdue"   // a late task escalated one step
	KindFeedback  Kind = "feedback"       // a field report (现场反馈)
	KindPosition  Kind = "position"       // where a responder is
	KindAdded     Kind = "task_added"     // a task of its own, such as a site check before a warning
)

// Kinds lists every kind of event.
var Kinds = []Kind{KindOpened, KindAssigned, KindAccepted, KindEnRoute, KindArrived, KindDone,
	KindCancelled, KindOverdue, KindFeedback, KindPosition, KindAdded}

// Point is a position, longitude and latitude in degrees (WGS 84).
type Point struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// Check refuses a point that is not finite or out of range (bad_position).
func (p Point) Check() error {
	if math.IsNaN(p.Lon) || math.IsNaN(p.Lat) || math.IsInf(p.Lon, 0) || math.IsInf(p.Lat, 0) {
		return refuse("bad_position", "a position is finite")
	}
	if p.Lon < -180 || p.Lon > 180 || p.Lat < -90 || p.Lat > 90 {
		return refuse("bad_position", "lon %v, lat %v is not within ±180, ±90", p.Lon, p.Lat)
	}
	return nil
}

// Event is one step of the linked response of an incident's plan, as
// journalled. What a kind does not use is left zero.
type Event struct {
	Kind     Kind      `json:"kind"`
	Incident string    `json:"incident"`
	Task     string    `json:"task,omitempty"` // a task's id
	At       time.Time `json:"at"`
	By       string    `json:"by,omitempty"`   // login; "" for the system
	Role     string    `json:"role,omitempty"` // the role it acted in
	// Plan, Published, Location and Tasks: plan_opened. The tasks are the
	// plan's as it was, so that a later change of the plans file does not
	// change the history.
	Plan      string     `json:"plan,omitempty"`
	Published time.Time  `json:"published,omitzero"`
	Location  *Point     `json:"location,omitempty"`
	Tasks     []TaskSpec `json:"tasks,omitempty"`
	// EscalateEveryMin: plan_opened, the plan's minutes between the
	// escalation steps of a late task.
	EscalateEveryMin int `json:"escalate_every_min,omitempty"`
	// Assignee: task_assigned, and task_added when given at once. A
	// task_added carries its one task in Tasks, where it is to be done in
	// Location and what to look at in Text; its deadline counts from At.
	Assignee string `json:"assignee,omitempty"`
	// Step: task_overdue, from 1.
	Step int `json:"step,omitempty"`
	// Text, Photos and Position: feedback, position, and what a task's
	// steps report (a cancellation's reason is its Text).
	Text     string   `json:"text,omitempty"`
	Photos   []string `json:"photos,omitempty"` // attachment ids
	Position *Point   `json:"position,omitempty"`
}

// Limits on what an event carries.
const (
	MaxText        = 4000 // bytes of a text
	MaxPhotos      = 10   // photos of one report
	MaxLogin       = 128
	MaxIncidentID  = 64
	MaxFeedback    = 2000 // reports on one incident
	MaxEscalations = 3    // escalation steps of a late task
	MaxEventSize   = 1 << 20
)

func checkLogin(s string, need bool) bool {
	return len(s) <= MaxLogin && (!need || s != "")
}

// checkEvent checks what an event carries on its own, whatever the state.
func checkEvent(ev *Event) error {
	if !slices.Contains(Kinds, ev.Kind) {
		return refuse("bad_kind", "%q is not a kind of event", ev.Kind)
	}
	if ev.Incident == "" || len(ev.Incident) > MaxIncidentID {
		return refuse("bad_id", "an incident id is 1 to %d bytes", MaxIncidentID)
	}
	if ev.At.IsZero() {
		return refuse("bad_time", "an event needs a time")
	}
	if !checkLogin(ev.By, false) || len(ev.Role) > 64 || !checkLogin(ev.Assignee, false) {
		return refuse("bad_who", "a login is at most %d bytes, a role 64", MaxLogin)
	}
	if len(ev.Task) > MaxIncidentID+8 || len(ev.Plan) > 64 {
		return refuse("bad_task", "a task id is at most %d bytes, a plan id 64", MaxIncidentID+8)
	}
	if len(ev.Text) > MaxText {
		return refuse("too_long", "a text is at most %d bytes", MaxText)
	}
	if len(ev.Photos) > MaxPhotos {
		return refuse("too_many", "at most %d photos in a report", MaxPhotos)
	}
	for _, id := range ev.Photos {
		if err := attach.CheckID(id); err != nil {
			return refuse("bad_attachment", "photo %.80q: not an attachment id", id)
		}
	}
	if len(ev.Tasks) > MaxTasks {
		return refuse("too_many", "at most %d tasks in a plan", MaxTasks)
	}
	for _, p := range []*Point{ev.Position, ev.Location} {
		if p != nil {
			if err := p.Check(); err != nil {
				return err
			}
		}
	}
	if ev.EscalateEveryMin < 0 || ev.EscalateEveryMin > MaxEscalateEveryMin {
		return refuse("bad_plan", "an escalation interval is 0 to %d minutes", MaxEscalateEveryMin)
	}
	if ev.Step < 0 || ev.Step > MaxEscalations {
		return refuse("bad_step", "an escalation step is 1 to %d", MaxEscalations)
	}
	return nil
}

// DecodeEvent reads one event from its JSON, as journalled, refusing
// unknown fields, anything larger than MaxEventSize and what an event
// cannot carry.
func DecodeEvent(data []byte) (Event, error) {
	if len(data) > MaxEventSize {
		return Event{}, refuse("too_large", "an event is at most %d bytes", MaxEventSize)
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return Event{}, &Error{Code: "bad_json", Reason: err.Error()}
	}
	if dec.More() {
		return Event{}, refuse("bad_json", "more than one event")
	}
	if err := checkEvent(&ev); err != nil {
		return Event{}, err
	}
	if ev.Kind == KindOpened {
		if err := checkSpecs(ev.Tasks); err != nil {
			return Event{}, err
		}
	}
	return ev, nil
}
