package plan

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// Journal keeps plan events durably, in the order appended; the
// incident's Book satisfies it.
type Journal interface {
	// Record makes ev durable before it returns; incident is the
	// incident it belongs to.
	Record(ctx context.Context, incident string, ev Event) error
}

// TaskState is where a task stands.
type TaskState string

// The states of a task. A task is pending until it is first assigned.
const (
	Pending   TaskState = "pending"
	Assigned  TaskState = "assigned"
	Accepted  TaskState = "accepted"
	EnRoute   TaskState = "en_route"
	Arrived   TaskState = "arrived"
	Done      TaskState = "done"
	Cancelled TaskState = "cancelled"
)

// TaskTransitions is the table of a task's steps: from each state, the
// states the assignee's steps may take it to. A task done without going
// anywhere (at a desk) goes from accepted to done. Besides these a
// commander may assign (or re-assign) and cancel a task in any state but
// done and cancelled, which are final.
var TaskTransitions = map[TaskState][]TaskState{
	Pending:   nil,
	Assigned:  {Accepted},
	Accepted:  {EnRoute, Done},
	EnRoute:   {Arrived},
	Arrived:   {Done},
	Done:      nil,
	Cancelled: nil,
}

// Final reports whether a task in state s is finished.
func (s TaskState) Final() bool { return s == Done || s == Cancelled }

var stepKinds = map[TaskState]Kind{Accepted: KindAccepted, EnRoute: KindEnRoute, Arrived: KindArrived, Done: KindDone}

// Task is a task of an incident's plan, with where it stands.
type Task struct {
	ID       string `json:"id"` // <incident>.t<index+1>
	Incident string `json:"incident"`
	Plan     string `json:"plan"`  // "" for a task added on its own
	Index    int    `json:"index"` // in the incident's tasks, from 0
	TaskSpec
	Deadline time.Time `json:"deadline"`
	Assignee string    `json:"assignee,omitempty"`
	State    TaskState `json:"state"`
	Updated  time.Time `json:"updated"`
	// Escalations is how many escalation steps the task has had.
	Escalations int `json:"escalations,omitempty"`
	// Photos and Position are what the task was reported done with.
	Photos   []string `json:"photos,omitempty"`
	Position *Point   `json:"position,omitempty"`
	Reason   string   `json:"reason,omitempty"` // why it was cancelled
	// Note is what the assignee said at its latest step.
	Note string `json:"note,omitempty"`
	// Brief is what to look at or do, from whoever added the task.
	Brief string `json:"brief,omitempty"`
}

// TaskID is the id of the task at index of the plan of incident.
func TaskID(incident string, index int) string { return fmt.Sprintf("%s.t%d", incident, index+1) }

// Feedback is a field report (现场反馈) on an incident or one of its tasks.
type Feedback struct {
	ID       string    `json:"id"` // <incident>.f<n>, n from 1
	Incident string    `json:"incident"`
	Task     string    `json:"task,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Text     string    `json:"text,omitempty"`
	Photos   []string  `json:"photos,omitempty"`
	Position *Point    `json:"position,omitempty"`
}

// Response is an incident's plan and how its tasks and reports stand.
type Response struct {
	Incident  string    `json:"incident"`
	Plan      string    `json:"plan"`
	Published time.Time `json:"published"`
	Location  *Point    `json:"location,omitempty"`
	// EscalateEveryMin is the minutes between escalation steps.
	EscalateEveryMin int        `json:"escalate_every_min"`
	Tasks            []Task     `json:"tasks"`
	Feedback         []Feedback `json:"feedback,omitempty"`
}

// Fix is the last position a login reported.
type Fix struct {
	Login    string    `json:"login"`
	Position Point     `json:"position"`
	At       time.Time `json:"at"`
	Incident string    `json:"incident"`
	Task     string    `json:"task,omitempty"`
}

// Actor is who asks: a login and the role it acts in.
type Actor struct {
	Login string
	Role  string
}

// The roles Board checks.
const (
	RoleCommander = "commander"
	RoleResponder = "responder"
	RoleUnit      = "unit"
)

// ReportRoles are the roles that may report from the field.
var ReportRoles = []string{RoleResponder, RoleUnit}

// Board holds the plans of incidents, their tasks, field reports and the
// last position of each login, rebuilt from events; every event is
// journalled before it is applied. It is safe for concurrent use.
type Board struct {
	j     Journal
	plans *Plans
	now   func() time.Time

	mu    sync.Mutex
	resp  map[string]*Response
	tasks map[string][2]int // task id → index of its response in order, of the task
	order []string          // incidents in the order opened
	fixes map[string]Fix
}

// NewBoard returns an empty Board journalling to j, choosing from plans
// (Default() when nil) and taking times from now (time.Now when nil).
func NewBoard(j Journal, plans *Plans, now func() time.Time) *Board {
	if plans == nil {
		plans = Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Board{j: j, plans: plans, now: now, resp: map[string]*Response{}, tasks: map[string][2]int{}, fixes: map[string]Fix{}}
}

// Plans returns the plans the Board chooses from.
func (b *Board) Plans() *Plans { return b.plans }

func (b *Board) task(id string) (*Response, *Task) {
	ix, ok := b.tasks[id]
	if !ok {
		return nil, nil
	}
	r := b.resp[b.order[ix[0]]]
	return r, &r.Tasks[ix[1]]
}

func (b *Board) taskIn(ev *Event) (*Task, error) {
	r, t := b.task(ev.Task)
	if t == nil || r.Incident != ev.Incident {
		return nil, refuse("bad_task", "incident %s has no task %q", ev.Incident, ev.Task)
	}
	return t, nil
}

// check says whether ev may be applied to the state: the rules that hold
// whatever the roles.
func (b *Board) check(ev *Event) error {
	if err := checkEvent(ev); err != nil {
		return err
	}
	r, open := b.resp[ev.Incident]
	switch ev.Kind {
	case KindOpened:
		if open && r.Plan != "" {
			return refuse("already_open", "incident %s has plan %s open", ev.Incident, r.Plan)
		}
		if !validID(ev.Plan) || ev.Published.IsZero() {
			return refuse("bad_plan", "opening a plan needs its id and the warning's publication time")
		}
		if open && len(r.Tasks)+len(ev.Tasks) > MaxTasks {
			return refuse("too_many", "at most %d tasks on an incident", MaxTasks)
		}
		return checkSpecs(ev.Tasks)
	case KindAdded:
		if len(ev.Tasks) != 1 {
			return refuse("bad_task", "a task is added one at a time")
		}
		if open && len(r.Tasks) >= MaxTasks {
			return refuse("too_many", "at most %d tasks on an incident", MaxTasks)
		}
		return checkSpecs(ev.Tasks)
	}
	if !open {
		return fmt.Errorf("incident %s: %w", ev.Incident, ErrNotFound)
	}
	switch ev.Kind {
	case KindAssigned:
		t, err := b.taskIn(ev)
		if err != nil {
			return err
		}
		if !checkLogin(ev.Assignee, true) {
			return refuse("bad_assignee", "a task is assigned to a login")
		}
		if t.State.Final() {
			return refuse("bad_transition", "task %s is %s: it cannot be assigned", t.ID, t.State)
		}
	case KindCancelled:
		t, err := b.taskIn(ev)
		if err != nil {
			return err
		}
		if t.State.Final() {
			return refuse("bad_transition", "task %s is %s already", t.ID, t.State)
		}
	case KindAccepted, KindEnRoute, KindArrived, KindDone:
		t, err := b.taskIn(ev)
		if err != nil {
			return err
		}
		to := stateOf(ev.Kind)
		if !slices.Contains(TaskTransitions[t.State], to) {
			return refuse("bad_transition", "task %s cannot go from %s to %s (allowed: %s)", t.ID, t.State, to, joinStates(TaskTransitions[t.State]))
		}
		if ev.By == "" || ev.By != t.Assignee {
			return refuse("not_assignee", "task %s is assigned to %s, not %s", t.ID, t.Assignee, ev.By)
		}
		if to == Done && t.NeedsPhoto && len(ev.Photos) == 0 {
			return refuse("needs_photo", "task %s is done with a photo", t.ID)
		}
		if to == Done && t.NeedsPosition && ev.Position == nil {
			return refuse("needs_position", "task %s is done with the position it was done at", t.ID)
		}
	case KindOverdue:
		t, err := b.taskIn(ev)
		if err != nil {
			return err
		}
		if t.State.Final() {
			return refuse("bad_transition", "task %s is %s: it cannot be late", t.ID, t.State)
		}
		if ev.Step != t.Escalations+1 {
			return refuse("bad_step", "task %s has had %d escalation steps, not %d", t.ID, t.Escalations, ev.Step-1)
		}
		if due := stepsDue(r, t, ev.At); due < ev.Step {
			return refuse("bad_step", "task %s is not due for escalation step %d at %s", t.ID, ev.Step, ev.At.Format(time.RFC3339))
		}
	case KindFeedback:
		if ev.By == "" {
			return refuse("bad_who", "a report needs who made it")
		}
		if ev.Task != "" {
			t, err := b.taskIn(ev)
			if err != nil {
				return err
			}
			if ev.By != t.Assignee {
				return refuse("not_assignee", "task %s is assigned to %s, not %s", t.ID, t.Assignee, ev.By)
			}
		}
		if strings.TrimSpace(ev.Text) == "" && len(ev.Photos) == 0 && ev.Position == nil {
			return refuse("bad_feedback", "a report carries a text, a photo or a position")
		}
		if len(r.Feedback) >= MaxFeedback {
			return refuse("too_many", "at most %d reports on an incident", MaxFeedback)
		}
	case KindPosition:
		if ev.By == "" || ev.Position == nil {
			return refuse("bad_position", "a position report needs who and where")
		}
		if ev.Task != "" {
			if _, err := b.taskIn(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

func stateOf(k Kind) TaskState {
	for s, kk := range stepKinds {
		if kk == k {
			return s
		}
	}
	return ""
}

func joinStates(ss []TaskState) string {
	if len(ss) == 0 {
		return "none"
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// stepsDue is how many escalation steps task t is due at time at: one at
// its deadline, one more each escalation interval of the plan after it, at
// most MaxEscalations.
func stepsDue(r *Response, t *Task, at time.Time) int {
	if !at.After(t.Deadline) {
		return 0
	}
	every := time.Duration(r.EscalateEveryMin) * time.Minute
	if every <= 0 {
		every = DefaultEscalateEveryMin * time.Minute
	}
	return min(MaxEscalations, 1+int(at.Sub(t.Deadline)/every))
}

// apply changes the state by ev, which check has passed.
func (b *Board) apply(ev *Event) {
	if ev.Kind == KindOpened || ev.Kind == KindAdded {
		r, ok := b.resp[ev.Incident]
		if !ok {
			r = &Response{Incident: ev.Incident}
			b.resp[ev.Incident] = r
			b.order = append(b.order, ev.Incident)
		}
		from, plan, state := ev.At, "", Pending
		if ev.Kind == KindOpened {
			r.Plan, r.Published, r.EscalateEveryMin = ev.Plan, ev.Published, ev.EscalateEveryMin
			from, plan = ev.Published, ev.Plan
		} else if ev.Assignee != "" {
			state = Assigned
		}
		if r.Location == nil {
			r.Location = clonePoint(ev.Location)
		}
		ix := slices.Index(b.order, ev.Incident)
		for _, spec := range ev.Tasks {
			i := len(r.Tasks)
			id := TaskID(ev.Incident, i)
			r.Tasks = append(r.Tasks, Task{ID: id, Incident: ev.Incident, Plan: plan, Index: i, TaskSpec: spec,
				Deadline: from.Add(time.Duration(spec.DeadlineMin) * time.Minute), Assignee: ev.Assignee, State: state, Updated: ev.At})
			if ev.Kind == KindAdded {
				r.Tasks[i].Brief = ev.Text
			}
			b.tasks[id] = [2]int{ix, i}
		}
		return
	}
	r := b.resp[ev.Incident]
	var t *Task
	if ev.Task != "" {
		_, t = b.task(ev.Task)
	}
	switch ev.Kind {
	case KindAssigned:
		t.Assignee, t.State = ev.Assignee, Assigned
	case KindAccepted, KindEnRoute, KindArrived, KindDone:
		t.State = stateOf(ev.Kind)
		if ev.Text != "" {
			t.Note = ev.Text
		}
		if ev.Kind == KindDone {
			t.Photos, t.Position = slices.Clone(ev.Photos), clonePoint(ev.Position)
		}
	case KindCancelled:
		t.State, t.Reason = Cancelled, ev.Text
	case KindOverdue:
		t.Escalations = ev.Step
	case KindFeedback:
		r.Feedback = append(r.Feedback, Feedback{ID: fmt.Sprintf("%s.f%d", ev.Incident, len(r.Feedback)+1),
			Incident: ev.Incident, Task: ev.Task, By: ev.By, At: ev.At, Text: ev.Text,
			Photos: slices.Clone(ev.Photos), Position: clonePoint(ev.Position)})
	}
	if t != nil && ev.Kind != KindFeedback && ev.Kind != KindPosition {
		t.Updated = ev.At
	}
	if ev.Position != nil && ev.By != "" {
		b.fixes[ev.By] = Fix{Login: ev.By, Position: *ev.Position, At: ev.At, Incident: ev.Incident, Task: ev.Task}
	}
}

// Load applies events read back from the journal, in order, without
// journalling them again. It checks the rules of the loop, not the roles.
func (b *Board) Load(evs ...Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range evs {
		ev := evs[i]
		ev.At, ev.Published = ev.At.UTC(), ev.Published.UTC()
		if err := b.check(&ev); err != nil {
			return fmt.Errorf("plan: load event %d of %d (%s of %s): %w", i+1, len(evs), ev.Kind, ev.Incident, err)
		}
		b.apply(&ev)
	}
	return nil
}

// do stamps ev with the Board's time, checks it, journals it and applies
// it; b.mu is held.
func (b *Board) do(ctx context.Context, ev Event) error {
	ev.At = b.now().UTC()
	if err := b.check(&ev); err != nil {
		return err
	}
	if err := b.j.Record(ctx, ev.Incident, ev); err != nil {
		return fmt.Errorf("plan: incident %s: journal: %w", ev.Incident, err)
	}
	b.apply(&ev)
	return nil
}

// Opening is what opening a plan on an incident needs: normally called
// when its warning is published.
type Opening struct {
	Incident string
	// Plan is the plan's id; when "", the plan Select finds for Type and
	// Level.
	Plan  string
	Type  string
	Level int
	// Published is when the warning was published: the tasks' deadlines
	// count from it.
	Published time.Time
	// Location is where the incident is, for the distance of responders.
	Location *Point
	By       Actor // "" login for the system
}

// Open links the plan to the incident and makes its tasks, each pending
// until assigned, with its deadline from the publication.
func (b *Board) Open(ctx context.Context, o Opening) (Response, error) {
	var pl *Plan
	var ok bool
	if o.Plan != "" {
		pl, ok = b.plans.Get(o.Plan)
	} else {
		pl, ok = b.plans.Select(o.Type, o.Level)
	}
	if !ok {
		return Response{}, refuse("no_plan", "no plan %q for %s at level %d", o.Plan, o.Type, o.Level)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := Event{Kind: KindOpened, Incident: o.Incident, By: o.By.Login, Role: o.By.Role, Plan: pl.ID,
		Published: o.Published.UTC(), Location: o.Location, Tasks: slices.Clone(pl.Tasks),
		EscalateEveryMin: pl.EscalateEvery()}
	if err := b.do(ctx, ev); err != nil {
		return Response{}, err
	}
	return b.resp[o.Incident].clone(), nil
}

// Add gives incident a task of its own, outside any plan — a site check
// while an alarm is verified, or a task a commander adds — assigned at once
// to assignee unless it is "", with its deadline counted from now and
// brief saying what to look at or do. The caller has checked that by may.
func (b *Board) Add(ctx context.Context, by Actor, incident string, spec TaskSpec, assignee, brief string, at *Point) (Task, error) {
	if by.Login == "" {
		return Task{}, refuse("bad_who", "a task is added by someone")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := Event{Kind: KindAdded, Incident: incident, By: by.Login, Role: by.Role, Tasks: []TaskSpec{spec}, Assignee: assignee, Text: brief, Location: at}
	if assignee != "" && !checkLogin(assignee, true) {
		return Task{}, refuse("bad_assignee", "a task is assigned to a login")
	}
	if err := b.do(ctx, ev); err != nil {
		return Task{}, err
	}
	r := b.resp[incident]
	return r.clone().Tasks[len(r.Tasks)-1], nil
}

func clonePoint(p *Point) *Point {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func (r *Response) clone() Response {
	c := *r
	c.Location = clonePoint(r.Location)
	c.Tasks = slices.Clone(r.Tasks)
	for i := range c.Tasks {
		c.Tasks[i].Photos = slices.Clone(c.Tasks[i].Photos)
		c.Tasks[i].Position = clonePoint(c.Tasks[i].Position)
	}
	c.Feedback = slices.Clone(r.Feedback)
	for i := range c.Feedback {
		c.Feedback[i].Photos = slices.Clone(c.Feedback[i].Photos)
		c.Feedback[i].Position = clonePoint(c.Feedback[i].Position)
	}
	return c
}

func (b *Board) taskEvent(ctx context.Context, ev Event) (Task, error) {
	r, t := b.task(ev.Task)
	if t == nil {
		return Task{}, refuse("bad_task", "no task %q", ev.Task)
	}
	ev.Incident = r.Incident
	if err := b.do(ctx, ev); err != nil {
		return Task{}, err
	}
	c := *t
	c.Photos = slices.Clone(t.Photos)
	return c, nil
}

// Assign gives a task to login, or gives it to another; only a commander
// may.
func (b *Board) Assign(ctx context.Context, by Actor, task, login string) (Task, error) {
	if by.Role != RoleCommander {
		return Task{}, fmt.Errorf("plan: %s assigns task %s: %w", by.Role, task, ErrForbidden)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.taskEvent(ctx, Event{Kind: KindAssigned, Task: task, By: by.Login, Role: by.Role, Assignee: login})
}

// Cancel calls a task off, saying why; only a commander may.
func (b *Board) Cancel(ctx context.Context, by Actor, task, reason string) (Task, error) {
	if by.Role != RoleCommander {
		return Task{}, fmt.Errorf("plan: %s cancels task %s: %w", by.Role, task, ErrForbidden)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.taskEvent(ctx, Event{Kind: KindCancelled, Task: task, By: by.Login, Role: by.Role, Text: reason})
}

// Report is what a step of a task or a field report carries.
type Report struct {
	Text     string
	Photos   []string // attachment ids
	Position *Point
}

// Advance takes a task to state to (accepted, en_route, arrived or done),
// as its assignee; done may need a photo and a position (the task's
// NeedsPhoto and NeedsPosition).
func (b *Board) Advance(ctx context.Context, by Actor, task string, to TaskState, rep Report) (Task, error) {
	k, ok := stepKinds[to]
	if !ok {
		return Task{}, refuse("bad_transition", "%q is not a step of a task (accepted, en_route, arrived, done)", to)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.taskEvent(ctx, Event{Kind: k, Task: task, By: by.Login, Role: by.Role,
		Text: rep.Text, Photos: slices.Clone(rep.Photos), Position: rep.Position})
}

// Feedback records a field report on incident, or on one of its tasks
// (task non-empty, by its assignee); the reporter is a responder or a unit.
func (b *Board) Feedback(ctx context.Context, by Actor, incident, task string, rep Report) (Feedback, error) {
	if !slices.Contains(ReportRoles, by.Role) {
		return Feedback{}, fmt.Errorf("plan: %s reports on %s: %w", by.Role, incident, ErrForbidden)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := Event{Kind: KindFeedback, Incident: incident, Task: task, By: by.Login, Role: by.Role,
		Text: rep.Text, Photos: slices.Clone(rep.Photos), Position: rep.Position}
	if err := b.do(ctx, ev); err != nil {
		return Feedback{}, err
	}
	r := b.resp[incident]
	f := r.Feedback[len(r.Feedback)-1]
	f.Photos = slices.Clone(f.Photos)
	return f, nil
}

// Position records where a responder or unit is, on incident (and task,
// when non-empty).
func (b *Board) Position(ctx context.Context, by Actor, incident, task string, p Point) (Fix, error) {
	if !slices.Contains(ReportRoles, by.Role) {
		return Fix{}, fmt.Errorf("plan: %s reports a position: %w", by.Role, ErrForbidden)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := Event{Kind: KindPosition, Incident: incident, Task: task, By: by.Login, Role: by.Role, Position: &p}
	if err := b.do(ctx, ev); err != nil {
		return Fix{}, err
	}
	return b.fixes[by.Login], nil
}

// Late is a task past its deadline and not done.
type Late struct {
	Task Task
	// Late is how long past the deadline.
	Late time.Duration
	// Escalated lists the escalation steps this call recorded (each a
	// task_overdue event); empty when the task had them already.
	Escalated []int
}

// Overdue returns every task past its deadline and neither done nor
// cancelled, most late first, and escalates each the steps now due: step 1
// at the deadline, then one more each escalation interval of its plan, at
// most MaxEscalations, each step once.
func (b *Board) Overdue(ctx context.Context) ([]Late, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now().UTC()
	var out []Late
	for _, inc := range b.order {
		r := b.resp[inc]
		for i := range r.Tasks {
			t := &r.Tasks[i]
			if t.State.Final() || !now.After(t.Deadline) {
				continue
			}
			l := Late{Late: now.Sub(t.Deadline)}
			for step := t.Escalations + 1; step <= stepsDue(r, t, now); step++ {
				if err := b.do(ctx, Event{Kind: KindOverdue, Incident: inc, Task: t.ID, Step: step}); err != nil {
					return out, err
				}
				l.Escalated = append(l.Escalated, step)
			}
			l.Task = *t
			l.Task.Photos = slices.Clone(t.Photos)
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Late > out[j].Late })
	return out, nil
}

// Response returns the plan of incident and how it stands.
func (b *Board) Response(incident string) (Response, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.resp[incident]
	if !ok {
		return Response{}, false
	}
	return r.clone(), true
}

// Task returns the task with id.
func (b *Board) Task(id string) (Task, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, t := b.task(id)
	if t == nil {
		return Task{}, false
	}
	c := *t
	c.Photos = slices.Clone(t.Photos)
	return c, true
}

// Assigned returns the tasks assigned to login that are not finished, the
// earliest deadline first.
func (b *Board) Assigned(login string) []Task {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Task
	for _, inc := range b.order {
		for _, t := range b.resp[inc].Tasks {
			if t.Assignee == login && !t.State.Final() {
				t.Photos = slices.Clone(t.Photos)
				out = append(out, t)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Deadline.Before(out[j].Deadline) })
	return out
}

// Positions returns the last position of every login that reported one,
// by login.
func (b *Board) Positions() []Fix {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Fix, 0, len(b.fixes))
	for _, f := range b.fixes {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out
}

// Distance returns the straight-line ground distance in metres from the
// last position of task's assignee to the incident's location (great
// circle, haversine): a measure of how far they are, not of the route.
// ok is false when the task, its assignee's position or the incident's
// location is unknown.
func (b *Board) Distance(task string) (metres float64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, t := b.task(task)
	if t == nil || r.Location == nil || t.Assignee == "" {
		return 0, false
	}
	f, ok := b.fixes[t.Assignee]
	if !ok {
		return 0, false
	}
	return geo.Distance(orb.Point{f.Position.Lon, f.Position.Lat}, orb.Point{r.Location.Lon, r.Location.Lat}), true
}
