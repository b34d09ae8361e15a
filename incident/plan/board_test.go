package plan_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/incident/attach"
	"github.com/onemap/onemap/incident/plan"
)

var (
	ctx       = context.Background()
	published = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	commander = plan.Actor{Login: "chen.zhihui", Role: "commander"}
	li        = plan.Actor{Login: "li.qiang", Role: "responder"}
	wang      = plan.Actor{Login: "wang.fang", Role: "responder"}
	analyst   = plan.Actor{Login: "zhou.fenxi", Role: "analyst"}
	site      = &plan.Point{Lon: 116.4, Lat: 39.9}
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// journal keeps events in memory; fail makes Record fail.
type journal struct {
	mu   sync.Mutex
	evs  []plan.Event
	fail bool
}

func (j *journal) Record(_ context.Context, incident string, ev plan.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail {
		return errors.New("disk full")
	}
	if incident != ev.Incident {
		return errors.New("recorded under another incident")
	}
	j.evs = append(j.evs, ev)
	return nil
}

func newBoard(t *testing.T) (*plan.Board, *journal, *clock) {
	t.Helper()
	j := &journal{}
	c := &clock{t: published.Add(time.Minute)}
	return plan.NewBoard(j, nil, c.Now), j, c
}

// open opens the major gas leak plan on incident INC-1.
func open(t *testing.T, b *plan.Board) plan.Response {
	t.Helper()
	r, err := b.Open(ctx, plan.Opening{Incident: "INC-1", Type: "gas_leak", Level: 1, Published: published, Location: site})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func code(err error) string {
	var e *plan.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return "nil"
	}
	return "not a *plan.Error: " + err.Error()
}

func photo(n byte) string { return attach.ID([]byte{n}) }

func TestOpen(t *testing.T) {
	b, j, _ := newBoard(t)
	r := open(t, b)
	pl, _ := plan.Default().Get("gas-leak-major")
	if r.Plan != pl.ID || len(r.Tasks) != len(pl.Tasks) || !r.Published.Equal(published) || r.EscalateEveryMin != 10 {
		t.Fatalf("opened %+v", r)
	}
	for i, task := range r.Tasks {
		want := published.Add(time.Duration(pl.Tasks[i].DeadlineMin) * time.Minute)
		if task.ID != plan.TaskID("INC-1", i) || task.State != plan.Pending || !task.Deadline.Equal(want) || task.Title != pl.Tasks[i].Title {
			t.Errorf("task %d: %+v", i, task)
		}
	}
	if r.Tasks[0].ID != "INC-1.t1" {
		t.Errorf("the first task's id is %s", r.Tasks[0].ID)
	}
	if len(j.evs) != 1 || j.evs[0].Kind != plan.KindOpened || len(j.evs[0].Tasks) != len(pl.Tasks) {
		t.Errorf("journalled %+v", j.evs)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: "INC-1", Plan: "gas-leak", Published: published}); code(err) != "already_open" {
		t.Errorf("opening twice: %v", err)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: "INC-2", Type: "volcano", Level: 1, Published: published}); code(err) != "no_plan" {
		t.Errorf("no plan for the type: %v", err)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: "INC-2", Plan: "nope", Published: published}); code(err) != "no_plan" {
		t.Errorf("an unknown plan id: %v", err)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: "INC-2", Plan: "pipe-burst"}); code(err) != "bad_plan" {
		t.Errorf("without a publication time: %v", err)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: strings.Repeat("x", 65), Plan: "pipe-burst", Published: published}); code(err) != "bad_id" {
		t.Errorf("a long incident id: %v", err)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: "INC-2", Plan: "pipe-burst", Published: published, Location: &plan.Point{Lon: math.NaN()}}); code(err) != "bad_position" {
		t.Errorf("a NaN location: %v", err)
	}
	// An explicit plan id wins over the type and level.
	r2, err := b.Open(ctx, plan.Opening{Incident: "INC-2", Plan: "gas-leak", Type: "gas_leak", Level: 1, Published: published})
	if err != nil || r2.Plan != "gas-leak" {
		t.Errorf("explicit plan: %v %v", r2.Plan, err)
	}
	if _, ok := b.Response("INC-3"); ok {
		t.Error("a response for an incident never opened")
	}
}

func TestTaskSteps(t *testing.T) {
	b, j, _ := newBoard(t)
	open(t, b)
	id := "INC-1.t1" // close the valves: needs a photo and a position
	if _, err := b.Advance(ctx, li, id, plan.Accepted, plan.Report{}); code(err) != "bad_transition" {
		t.Errorf("accepting a pending task: %v", err)
	}
	if _, err := b.Assign(ctx, analyst, id, li.Login); !errors.Is(err, plan.ErrForbidden) {
		t.Errorf("an analyst assigns: %v", err)
	}
	if _, err := b.Assign(ctx, commander, id, ""); code(err) != "bad_assignee" {
		t.Errorf("assigning to no one: %v", err)
	}
	if _, err := b.Assign(ctx, commander, "INC-1.t99", li.Login); code(err) != "bad_task" {
		t.Errorf("assigning a task that is not there: %v", err)
	}
	task, err := b.Assign(ctx, commander, id, li.Login)
	if err != nil || task.State != plan.Assigned || task.Assignee != li.Login {
		t.Fatalf("assign: %+v %v", task, err)
	}
	if _, err := b.Advance(ctx, wang, id, plan.Accepted, plan.Report{}); code(err) != "not_assignee" {
		t.Errorf("another responder accepts: %v", err)
	}
	if _, err := b.Advance(ctx, li, id, plan.EnRoute, plan.Report{}); code(err) != "bad_transition" {
		t.Errorf("en route before accepting: %v", err)
	}
	if _, err := b.Advance(ctx, li, id, "flying", plan.Report{}); code(err) != "bad_transition" {
		t.Errorf("an unknown state: %v", err)
	}
	if _, err := b.Advance(ctx, li, id, plan.Cancelled, plan.Report{}); code(err) != "bad_transition" {
		t.Errorf("the assignee cancels through Advance: %v", err)
	}
	for _, to := range []plan.TaskState{plan.Accepted, plan.EnRoute, plan.Arrived} {
		if task, err = b.Advance(ctx, li, id, to, plan.Report{}); err != nil || task.State != to {
			t.Fatalf("to %s: %+v %v", to, task, err)
		}
	}
	if _, err := b.Advance(ctx, li, id, plan.Done, plan.Report{Position: site}); code(err) != "needs_photo" {
		t.Errorf("done without a photo: %v", err)
	}
	if _, err := b.Advance(ctx, li, id, plan.Done, plan.Report{Photos: []string{photo(1)}}); code(err) != "needs_position" {
		t.Errorf("done without a position: %v", err)
	}
	if _, err := b.Advance(ctx, li, id, plan.Done, plan.Report{Photos: []string{"IMG_0001.JPG"}, Position: site}); code(err) != "bad_attachment" {
		t.Errorf("done with a file name for a photo: %v", err)
	}
	task, err = b.Advance(ctx, li, id, plan.Done, plan.Report{Photos: []string{photo(1)}, Position: site, Text: "上游阀门已关闭"})
	if err != nil || task.State != plan.Done || len(task.Photos) != 1 || task.Position == nil {
		t.Fatalf("done: %+v %v", task, err)
	}
	if _, err := b.Assign(ctx, commander, id, wang.Login); code(err) != "bad_transition" {
		t.Errorf("re-assigning a done task: %v", err)
	}
	if _, err := b.Cancel(ctx, commander, id, "x"); code(err) != "bad_transition" {
		t.Errorf("cancelling a done task: %v", err)
	}
	// One event for each change, none for the refusals.
	var kinds []string
	for _, ev := range j.evs {
		kinds = append(kinds, string(ev.Kind))
	}
	if got := strings.Join(kinds, " "); got != "plan_opened task_assigned task_accepted task_en_route task_arrived task_done" {
		t.Errorf("events: %s", got)
	}
	if last := j.evs[len(j.evs)-1]; last.By != li.Login || last.Role != "responder" || last.Text != "上游阀门已关闭" {
		t.Errorf("the done event: %+v", last)
	}
}

func TestReassignAndCancel(t *testing.T) {
	b, _, _ := newBoard(t)
	open(t, b)
	id := "INC-1.t7" // assess the spread: an analyst's task at a desk
	if _, err := b.Assign(ctx, commander, id, li.Login); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Advance(ctx, li, id, plan.Accepted, plan.Report{}); err != nil {
		t.Fatal(err)
	}
	task, err := b.Assign(ctx, commander, id, analyst.Login)
	if err != nil || task.State != plan.Assigned || task.Assignee != analyst.Login {
		t.Fatalf("re-assign: %+v %v", task, err)
	}
	if _, err := b.Advance(ctx, li, id, plan.EnRoute, plan.Report{}); code(err) != "not_assignee" && code(err) != "bad_transition" {
		t.Errorf("the former assignee goes on: %v", err)
	}
	if _, err := b.Advance(ctx, li, id, plan.Accepted, plan.Report{}); code(err) != "not_assignee" {
		t.Errorf("the former assignee accepts: %v", err)
	}
	if _, err := b.Advance(ctx, analyst, id, plan.Accepted, plan.Report{}); err != nil {
		t.Fatal(err)
	}
	// Done from accepted: the task needs no photo and no trip.
	if task, err := b.Advance(ctx, analyst, id, plan.Done, plan.Report{}); err != nil || task.State != plan.Done {
		t.Errorf("done at a desk: %+v %v", task, err)
	}
	if got := b.Assigned(analyst.Login); len(got) != 0 {
		t.Errorf("a done task is still listed: %v", got)
	}
	if _, err := b.Cancel(ctx, li, "INC-1.t2", "x"); !errors.Is(err, plan.ErrForbidden) {
		t.Errorf("a responder cancels: %v", err)
	}
	task, err = b.Cancel(ctx, commander, "INC-1.t2", "人员已自行撤离")
	if err != nil || task.State != plan.Cancelled || task.Reason != "人员已自行撤离" {
		t.Errorf("cancel: %+v %v", task, err)
	}
	if _, err := b.Cancel(ctx, commander, "INC-1.t3", strings.Repeat("x", plan.MaxText+1)); code(err) != "too_long" {
		t.Errorf("a long reason: %v", err)
	}
	b.Assign(ctx, commander, "INC-1.t4", li.Login)
	b.Assign(ctx, commander, "INC-1.t3", li.Login)
	got := b.Assigned(li.Login)
	if len(got) != 2 || got[0].ID != "INC-1.t3" || got[1].ID != "INC-1.t4" {
		t.Errorf("li's tasks, the earliest deadline first: %v", got)
	}
}

func TestOverdue(t *testing.T) {
	b, j, c := newBoard(t)
	open(t, b)
	b.Assign(ctx, commander, "INC-1.t3", li.Login) // the cordon: 15 minutes
	late, err := b.Overdue(ctx)
	if err != nil || len(late) != 0 {
		t.Fatalf("a minute after publication: %v %v", late, err)
	}
	c.add(15 * time.Minute) // 16 min: the cordon (15) is late
	late, _ = b.Overdue(ctx)
	if len(late) != 1 || late[0].Task.ID != "INC-1.t3" || late[0].Late != time.Minute || len(late[0].Escalated) != 1 || late[0].Escalated[0] != 1 {
		t.Fatalf("at 16 min: %+v", late)
	}
	late, _ = b.Overdue(ctx)
	if len(late) != 1 || len(late[0].Escalated) != 0 || late[0].Task.Escalations != 1 {
		t.Errorf("asked again: %+v", late)
	}
	// 50 min: the cordon (15) is 35 min late, its steps 2 (at 25) and 3
	// (at 35) due; the 20-minute tasks 30 min late, the 30-minute ones 20
	// (all three steps each: every 10 min); the 45-minute one 5 (step 1).
	c.add(34 * time.Minute)
	late, _ = b.Overdue(ctx)
	ids := map[string][]int{}
	for _, l := range late {
		ids[l.Task.ID] = l.Escalated
	}
	if len(late) != 6 || late[0].Task.ID != "INC-1.t3" || late[len(late)-1].Task.ID != "INC-1.t5" {
		t.Errorf("at 50 min: %v", ids)
	}
	if got := ids["INC-1.t3"]; len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("the cordon's steps at 50 min: %v", got)
	}
	if got := ids["INC-1.t4"]; len(got) != 3 {
		t.Errorf("the measurement's steps: %v", got)
	}
	if got := ids["INC-1.t5"]; len(got) != 1 || got[0] != 1 {
		t.Errorf("the ventilation's steps: %v", got)
	}
	c.add(time.Hour)
	late, _ = b.Overdue(ctx)
	for _, l := range late {
		if l.Task.ID == "INC-1.t3" && (len(l.Escalated) != 0 || l.Task.Escalations != plan.MaxEscalations) {
			t.Errorf("beyond the last step: %+v", l)
		}
	}
	n := 0
	for _, ev := range j.evs {
		if ev.Kind == plan.KindOverdue && ev.Task == "INC-1.t3" {
			n++
			if ev.Step != n || ev.By != "" {
				t.Errorf("escalation %d: %+v", n, ev)
			}
		}
	}
	if n != plan.MaxEscalations {
		t.Errorf("%d escalations of the cordon, want %d", n, plan.MaxEscalations)
	}
	// A cancelled or done task is no longer late.
	b.Cancel(ctx, commander, "INC-1.t3", "")
	late, _ = b.Overdue(ctx)
	for _, l := range late {
		if l.Task.ID == "INC-1.t3" {
			t.Error("a cancelled task is listed late")
		}
	}
}

func TestFeedback(t *testing.T) {
	b, j, c := newBoard(t)
	open(t, b)
	b.Assign(ctx, commander, "INC-1.t4", li.Login)
	at := &plan.Point{Lon: 116.401, Lat: 39.9}
	f, err := b.Feedback(ctx, li, "INC-1", "INC-1.t4", plan.Report{Text: "2 号雨水井 18 %LEL", Photos: []string{photo(1), photo(2)}, Position: at})
	if err != nil || f.ID != "INC-1.f1" || f.By != li.Login || len(f.Photos) != 2 || f.Task != "INC-1.t4" || !f.At.Equal(c.Now()) {
		t.Fatalf("report on a task: %+v %v", f, err)
	}
	f, err = b.Feedback(ctx, wang, "INC-1", "", plan.Report{Text: "学校已停课，学生撤离完毕"})
	if err != nil || f.ID != "INC-1.f2" {
		t.Fatalf("report on the incident: %+v %v", f, err)
	}
	many := make([]string, plan.MaxPhotos+1)
	for i := range many {
		many[i] = photo(byte(i))
	}
	for _, c := range []struct {
		name     string
		by       plan.Actor
		incident string
		task     string
		rep      plan.Report
		code     string
	}{
		{"a commander", commander, "INC-1", "", plan.Report{Text: "x"}, "forbidden"},
		{"not the assignee", wang, "INC-1", "INC-1.t4", plan.Report{Text: "x"}, "not_assignee"},
		{"unknown task", li, "INC-1", "INC-1.t40", plan.Report{Text: "x"}, "bad_task"},
		{"unknown incident", li, "INC-9", "", plan.Report{Text: "x"}, "not_found"},
		{"empty", li, "INC-1", "", plan.Report{Text: "  "}, "bad_feedback"},
		{"long text", li, "INC-1", "", plan.Report{Text: strings.Repeat("字", plan.MaxText)}, "too_long"},
		{"too many photos", li, "INC-1", "", plan.Report{Photos: many}, "too_many"},
		{"bad photo id", li, "INC-1", "", plan.Report{Photos: []string{"../etc/passwd"}}, "bad_attachment"},
		{"NaN", li, "INC-1", "", plan.Report{Position: &plan.Point{Lon: math.NaN(), Lat: 39}}, "bad_position"},
		{"infinite", li, "INC-1", "", plan.Report{Position: &plan.Point{Lon: 116, Lat: math.Inf(1)}}, "bad_position"},
		{"out of range", li, "INC-1", "", plan.Report{Position: &plan.Point{Lon: 200, Lat: 39}}, "bad_position"},
		{"no login", plan.Actor{Role: "responder"}, "INC-1", "", plan.Report{Text: "x"}, "bad_who"},
	} {
		if _, err := b.Feedback(ctx, c.by, c.incident, c.task, c.rep); code(err) != c.code && !(c.code == "forbidden" && errors.Is(err, plan.ErrForbidden)) {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	r, _ := b.Response("INC-1")
	if len(r.Feedback) != 2 || r.Feedback[1].Text != "学校已停课，学生撤离完毕" {
		t.Errorf("reports kept: %+v", r.Feedback)
	}
	if n := len(j.evs); n != 4 {
		t.Errorf("%d events, want 4 (open, assign, two reports)", n)
	}
	// The reporter's position is their last.
	fix := b.Positions()
	if len(fix) != 1 || fix[0].Login != li.Login || fix[0].Position != *at || fix[0].Task != "INC-1.t4" {
		t.Errorf("positions: %+v", fix)
	}
}

func TestPositionsAndDistance(t *testing.T) {
	b, _, c := newBoard(t)
	open(t, b)
	b.Assign(ctx, commander, "INC-1.t1", li.Login)
	if _, ok := b.Distance("INC-1.t1"); ok {
		t.Error("a distance before any position")
	}
	if _, err := b.Position(ctx, commander, "INC-1", "", *site); !errors.Is(err, plan.ErrForbidden) {
		t.Errorf("a commander's position: %v", err)
	}
	if _, err := b.Position(ctx, li, "INC-1", "", plan.Point{Lon: 116, Lat: 91}); code(err) != "bad_position" {
		t.Errorf("latitude 91: %v", err)
	}
	// 0.01° of latitude north of the incident.
	if _, err := b.Position(ctx, li, "INC-1", "INC-1.t1", plan.Point{Lon: 116.4, Lat: 39.91}); err != nil {
		t.Fatal(err)
	}
	d, ok := b.Distance("INC-1.t1")
	want := 0.01 * math.Pi / 180 * 6378137 // the great circle on orb's sphere
	if !ok || math.Abs(d-want) > 0.5 {
		t.Errorf("distance %v %v, want about %.1f m", d, ok, want)
	}
	c.add(time.Minute)
	b.Advance(ctx, li, "INC-1.t1", plan.Accepted, plan.Report{})
	b.Advance(ctx, li, "INC-1.t1", plan.EnRoute, plan.Report{})
	b.Advance(ctx, li, "INC-1.t1", plan.Arrived, plan.Report{Position: site})
	if d, ok := b.Distance("INC-1.t1"); !ok || d > 0.01 {
		t.Errorf("on arrival: %v %v", d, ok)
	}
	fix := b.Positions()
	if len(fix) != 1 || !fix[0].At.Equal(c.Now()) {
		t.Errorf("the last position: %+v", fix)
	}
	if _, ok := b.Distance("INC-1.t2"); ok {
		t.Error("a distance for an unassigned task")
	}
}

func TestJournalFailureChangesNothing(t *testing.T) {
	b, j, _ := newBoard(t)
	open(t, b)
	j.fail = true
	if _, err := b.Assign(ctx, commander, "INC-1.t1", li.Login); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("assign with a failing journal: %v", err)
	}
	if task, _ := b.Task("INC-1.t1"); task.State != plan.Pending || task.Assignee != "" {
		t.Errorf("after a failed journal: %+v", task)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: "INC-2", Plan: "pipe-burst", Published: published}); err == nil {
		t.Error("open with a failing journal")
	}
	if _, ok := b.Response("INC-2"); ok {
		t.Error("a plan opened though not journalled")
	}
}

// TestLoadRebuilds checks that the events, through their JSON, rebuild
// the same state.
func TestLoadRebuilds(t *testing.T) {
	b, j, c := newBoard(t)
	open(t, b)
	b.Open(ctx, plan.Opening{Incident: "INC-2", Type: "pipe_burst", Level: 3, Published: published})
	b.Assign(ctx, commander, "INC-1.t1", li.Login)
	b.Assign(ctx, commander, "INC-2.t1", wang.Login)
	b.Advance(ctx, li, "INC-1.t1", plan.Accepted, plan.Report{})
	b.Position(ctx, wang, "INC-2", "INC-2.t1", plan.Point{Lon: 116.3, Lat: 39.8})
	b.Feedback(ctx, li, "INC-1", "INC-1.t1", plan.Report{Text: "阀门井被车辆压住", Photos: []string{photo(3)}})
	b.Cancel(ctx, commander, "INC-1.t2", "由街道办负责")
	c.add(time.Hour)
	if _, err := b.Overdue(ctx); err != nil {
		t.Fatal(err)
	}
	var evs []plan.Event
	for _, ev := range j.evs {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := plan.DecodeEvent(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		evs = append(evs, back)
	}
	// Another plans file: the history keeps the tasks it was opened with.
	other, err := plan.Parse(edit(t, func(pl map[string]any, all []any) []any { return all[2:3] }))
	if err != nil {
		t.Fatal(err)
	}
	b2 := plan.NewBoard(&journal{}, other, c.Now)
	if err := b2.Load(evs...); err != nil {
		t.Fatal(err)
	}
	for _, inc := range []string{"INC-1", "INC-2"} {
		r1, _ := b.Response(inc)
		r2, _ := b2.Response(inc)
		j1, _ := json.Marshal(r1)
		j2, _ := json.Marshal(r2)
		if string(j1) != string(j2) {
			t.Errorf("%s rebuilt:\n%s\nwant\n%s", inc, j2, j1)
		}
	}
	p1, _ := json.Marshal(b.Positions())
	p2, _ := json.Marshal(b2.Positions())
	if string(p1) != string(p2) {
		t.Errorf("positions rebuilt %s, want %s", p2, p1)
	}
	// Overdue after Load records nothing new: the steps were taken.
	late, _ := b2.Overdue(ctx)
	for _, l := range late {
		if len(l.Escalated) != 0 {
			t.Errorf("escalated again after Load: %+v", l)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	at := published.Add(time.Minute)
	opened := plan.Event{Kind: plan.KindOpened, Incident: "INC-1", At: at, Plan: "p", Published: published,
		Tasks: []plan.TaskSpec{{Title: plan.Text{Zh: "关阀", En: "close"}, Role: "responder", DeadlineMin: 10}}}
	for _, c := range []struct {
		name string
		evs  []plan.Event
		code string
	}{
		{"accept unassigned", []plan.Event{opened, {Kind: plan.KindAccepted, Incident: "INC-1", Task: "INC-1.t1", At: at, By: "li"}}, "bad_transition"},
		{"task of another incident", []plan.Event{opened, {Kind: plan.KindAssigned, Incident: "INC-2", Task: "INC-1.t1", At: at, Assignee: "li"}}, "not_found"},
		{"escalation too early", []plan.Event{opened, {Kind: plan.KindOverdue, Incident: "INC-1", Task: "INC-1.t1", At: at, Step: 1}}, "bad_step"},
		{"escalation skipped", []plan.Event{opened, {Kind: plan.KindOverdue, Incident: "INC-1", Task: "INC-1.t1", At: at.Add(time.Hour), Step: 2}}, "bad_step"},
		{"before opening", []plan.Event{{Kind: plan.KindFeedback, Incident: "INC-1", At: at, By: "li", Text: "x"}}, "not_found"},
		{"opened twice", []plan.Event{opened, opened}, "already_open"},
		{"no time", []plan.Event{{Kind: plan.KindOpened, Incident: "INC-1", Plan: "p", Published: published, Tasks: opened.Tasks}}, "bad_time"},
		{"bad task spec", []plan.Event{{Kind: plan.KindOpened, Incident: "INC-1", At: at, Plan: "p", Published: published,
			Tasks: []plan.TaskSpec{{Title: plan.Text{Zh: "x", En: "x"}, Role: "mayor", DeadlineMin: 1}}}}, "bad_task"},
	} {
		b := plan.NewBoard(&journal{}, nil, nil)
		if err := b.Load(c.evs...); code(err) != c.code && !errors.Is(err, &plan.Error{Code: c.code}) {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
}

// TestEventNames pins the JSON names of an event, as journalled.
func TestEventNames(t *testing.T) {
	ev := plan.Event{Kind: plan.KindDone, Incident: "INC-1", Task: "INC-1.t1", At: published, By: "li", Role: "responder",
		Text: "ok", Photos: []string{photo(1)}, Position: &plan.Point{Lon: 116.4, Lat: 39.9}}
	data, _ := json.Marshal(ev)
	want := `{"kind":"task_done","incident":"INC-1","task":"INC-1.t1","at":"2026-03-01T08:00:00Z","by":"li","role":"responder","text":"ok","photos":["` +
		photo(1) + `"],"position":{"lon":116.4,"lat":39.9}}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	opened := plan.Event{Kind: plan.KindOpened, Incident: "INC-1", At: published, Plan: "p", Published: published,
		EscalateEveryMin: 10, Tasks: []plan.TaskSpec{{Title: plan.Text{Zh: "关阀", En: "close"}, Role: "responder", UnitKind: "owner", DeadlineMin: 10, NeedsPhoto: true}}}
	data, _ = json.Marshal(opened)
	want = `{"kind":"plan_opened","incident":"INC-1","at":"2026-03-01T08:00:00Z","plan":"p","published":"2026-03-01T08:00:00Z",` +
		`"tasks":[{"title":{"zh":"关阀","en":"close"},"role":"responder","unit_kind":"owner","deadline_min":10,"needs_photo":true}],"escalate_every_min":10}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
}

func TestDecodeEventRefusals(t *testing.T) {
	ok := `{"kind":"position","incident":"INC-1","at":"2026-03-01T08:00:00Z","by":"li","position":{"lon":116,"lat":39}}`
	if _, err := plan.DecodeEvent([]byte(ok)); err != nil {
		t.Fatalf("a good event: %v", err)
	}
	for _, c := range []struct{ name, data, code string }{
		{"unknown field", `{"kind":"position","incident":"I","at":"2026-03-01T08:00:00Z","colour":1}`, "bad_json"},
		{"unknown kind", `{"kind":"task_exploded","incident":"I","at":"2026-03-01T08:00:00Z"}`, "bad_kind"},
		{"two values", ok + ok, "bad_json"},
		{"no incident", `{"kind":"position","at":"2026-03-01T08:00:00Z"}`, "bad_id"},
		{"no time", `{"kind":"position","incident":"I"}`, "bad_time"},
		{"latitude", `{"kind":"position","incident":"I","at":"2026-03-01T08:00:00Z","position":{"lon":1,"lat":-91}}`, "bad_position"},
		{"step", `{"kind":"task_overdue","incident":"I","at":"2026-03-01T08:00:00Z","step":9}`, "bad_step"},
		{"opened without tasks", `{"kind":"plan_opened","incident":"I","at":"2026-03-01T08:00:00Z","plan":"p"}`, "bad_task"},
		{"too large", `{"kind":"feedback","text":"` + strings.Repeat("x", plan.MaxEventSize) + `"}`, "too_large"},
	} {
		if _, err := plan.DecodeEvent([]byte(c.data)); code(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
}

// A site check is a task of its own, given to a responder while the alarm
// is verified: it is theirs at once, due from when it was added, done by
// their steps like any task; the plan opened later adds its tasks after
// it, and the journal rebuilds the same.
func TestAddSiteCheck(t *testing.T) {
	b, j, c := newBoard(t)
	spec := plan.TaskSpec{Title: plan.Text{Zh: "现场核查", En: "Site check"}, Role: "responder", DeadlineMin: 30, NeedsPosition: true}
	if _, err := b.Add(ctx, plan.Actor{}, "INC-1", spec, "li.qiang", "", site); code(err) != "bad_who" {
		t.Fatalf("added by nobody: %v", err)
	}
	bad := spec
	bad.DeadlineMin = 0
	if _, err := b.Add(ctx, commander, "INC-1", bad, "li.qiang", "", site); code(err) != "bad_task" {
		t.Fatalf("a task without a deadline: %v", err)
	}
	added := c.Now()
	tk, err := b.Add(ctx, plan.Actor{Login: "wang.op", Role: "operator"}, "INC-1", spec, "li.qiang", "看管网东侧阀井", site)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != "INC-1.t1" || tk.State != plan.Assigned || tk.Assignee != "li.qiang" || tk.Plan != "" || tk.Brief != "看管网东侧阀井" || !tk.Deadline.Equal(added.Add(30*time.Minute)) {
		t.Fatalf("site check %+v", tk)
	}
	if mine := b.Assigned("li.qiang"); len(mine) != 1 || mine[0].ID != tk.ID {
		t.Fatalf("li's tasks %+v", mine)
	}
	if _, err := b.Advance(ctx, wang, tk.ID, plan.Accepted, plan.Report{}); code(err) != "not_assignee" {
		t.Fatalf("another responder steps it: %v", err)
	}
	for _, to := range []plan.TaskState{plan.Accepted, plan.EnRoute, plan.Arrived} {
		if _, err := b.Advance(ctx, li, tk.ID, to, plan.Report{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Advance(ctx, li, tk.ID, plan.Done, plan.Report{Text: "燃气味明显"}); code(err) != "needs_position" {
		t.Fatalf("done without the position: %v", err)
	}
	if _, err := b.Advance(ctx, li, tk.ID, plan.Done, plan.Report{Text: "燃气味明显", Position: site}); err != nil {
		t.Fatal(err)
	}
	r := open(t, b)
	if r.Plan == "" || len(r.Tasks) < 2 || r.Tasks[0].ID != tk.ID || r.Tasks[0].State != plan.Done || r.Tasks[1].ID != "INC-1.t2" || r.Tasks[1].Plan != r.Plan {
		t.Fatalf("after the plan opened: plan %q, tasks %+v", r.Plan, r.Tasks)
	}
	if !r.Tasks[1].Deadline.Equal(published.Add(time.Duration(r.Tasks[1].DeadlineMin) * time.Minute)) {
		t.Errorf("a plan task's deadline %v does not count from the publication", r.Tasks[1].Deadline)
	}
	if _, err := b.Open(ctx, plan.Opening{Incident: "INC-1", Type: "gas_leak", Level: 1, Published: published}); code(err) != "already_open" {
		t.Fatalf("a second plan: %v", err)
	}
	again := plan.NewBoard(&journal{}, nil, c.Now)
	if err := again.Load(j.evs...); err != nil {
		t.Fatal(err)
	}
	got, _ := again.Response("INC-1")
	if g, w := jsonString(t, got), jsonString(t, r); g != w {
		t.Fatalf("rebuilt\n%s\nwant\n%s", g, w)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
