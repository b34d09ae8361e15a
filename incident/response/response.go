// Package response runs what follows each step of an incident (§六 联动处置
// of the national guide for city safety-risk monitoring platforms): a
// published warning, a re-issue or a release is pushed to the people the
// directory names for it, and a published warning opens the plan of its
// type and level with its tasks. It keeps the parts of the loop in one
// journal, the incident Book's: the deliveries and receipts of package
// notify and the tasks and field reports of package plan are records of
// their incidents.
package response

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/plan"
	"github.com/onemap/onemap/notify"
	"github.com/paulmach/orb"
)

// The kinds of the records the Book keeps for the other parts of the loop.
const (
	KindNotify = "notify" // a notify.Event
	KindPlan   = "plan"   // a plan.Event
)

// Site is what the push needs to know of an incident's place: the
// domain, owning unit and district of its first alarm's sensor, and where
// it is.
type Site struct {
	Domain   string
	Owner    string
	District string
	Location orb.Point
}

// Sites tell an incident's site, and the owning units of the assets inside
// an area.
type Sites interface {
	Site(in *incident.Incident) (Site, bool)
	OwnersIn(area orb.Geometry) []string
}

// Desk holds the loop's parts and runs what follows each step.
type Desk struct {
	Book   *incident.Book
	Board  *plan.Board
	Notify *notify.Dispatcher
	Dir    directory.Store
	Sites  Sites
	// Approvers, when set, are told in-app of each late approval.
	Approvers Approvers
	// Leading, when set, says whether this instance escalates what is
	// overdue: of the instances sharing a journal, one does (Start).
	Leading func() bool

	now func() time.Time
	log *slog.Logger
}

// Options are what New needs besides the Book.
type Options struct {
	// Directory says who is told; nil is the sample city's.
	Directory directory.Store
	// Channels deliver the messages; nil is in-app alone.
	Channels []notify.Channel
	// Plans are the plans opened; nil is the sample plans.
	Plans *plan.Plans
	Sites Sites // required
	// Approvers are who is told of a late approval; nil tells nobody, the
	// reminder is recorded all the same.
	Approvers Approvers
	// Now is the clock (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// New returns a Desk over Book b, its deliveries and tasks journalled as
// b's records. Call Load, then Start.
func New(b *incident.Book, o Options) (*Desk, error) {
	if o.Directory == nil {
		o.Directory = directory.FileStore{}
	}
	if o.Channels == nil {
		o.Channels = []notify.Channel{&notify.InApp{}}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	n, err := notify.New(notify.Options{Journal: NotifyJournal{Book: b}, Directory: o.Directory, Channels: o.Channels, Now: o.Now, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return &Desk{Book: b, Board: plan.NewBoard(PlanJournal{Book: b}, o.Plans, o.Now), Notify: n, Dir: o.Directory, Sites: o.Sites, Approvers: o.Approvers, now: o.Now, log: o.Logger}, nil
}

// Approvers says who may take the next step of in's draft — review it,
// sign it or publish it — as in-app recipients; never its drafter.
type Approvers func(ctx context.Context, in *incident.Incident) ([]directory.Recipient, error)

// TickEvery is how often Start looks for deliveries to escalate and tasks
// gone late.
const TickEvery = 30 * time.Second

// Start sends deliveries and, every TickEvery until ctx ends, escalates
// unread and unreplied ones (督办) and flags late tasks.
func (d *Desk) Start(ctx context.Context) {
	d.Notify.Start(ctx)
	go func() {
		t := time.NewTicker(TickEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if d.Leading == nil || d.Leading() {
					d.Tick(ctx)
				}
			}
		}
	}()
}

// Tick escalates what is overdue now, deliveries and tasks.
func (d *Desk) Tick(ctx context.Context) {
	if d.now == nil {
		d.now, d.log = time.Now, slog.Default()
	}
	if err := d.Notify.Tick(ctx, d.now()); err != nil {
		d.log.Warn("escalate deliveries", "err", err)
	}
	if _, err := d.Board.Overdue(ctx); err != nil {
		d.log.Warn("escalate late tasks", "err", err)
	}
	if err := d.RemindApprovals(ctx); err != nil {
		d.log.Warn("remind of late approvals", "err", err)
	}
}

// KindReminder is the kind of a record that a draft's approval is late.
const KindReminder = "reminder"

// Reminder says a draft waits for approval past its deadline: the Step-th
// reminder of the draft submitted at Submitted.
type Reminder struct {
	Step      int            `json:"step"`
	Submitted time.Time      `json:"submitted"`
	Due       time.Time      `json:"due"`
	Level     incident.Level `json:"level"`
	State     incident.State `json:"state"`
}

// MaxReminders bounds the reminders of one draft.
const MaxReminders = 3

// RemindApprovals records a reminder for each draft late for review,
// signature or publication: one at its deadline, then one each further
// deadline, at most MaxReminders.
func (d *Desk) RemindApprovals(ctx context.Context) error {
	now := time.Now()
	if d.now != nil {
		now = d.now()
	}
	var errs []error
	for _, in := range d.Book.List() {
		due := in.ApprovalDue()
		if due.IsZero() || !now.After(due) {
			continue
		}
		every := incident.ApprovalDeadlines[in.Draft.Level]
		want := min(MaxReminders, 1+int(now.Sub(due)/every))
		have := 0
		for _, r := range d.Book.Records(in.ID) {
			var rm Reminder
			if r.Kind == KindReminder && json.Unmarshal(r.Data, &rm) == nil && rm.Submitted.Equal(in.Submitted) {
				have = max(have, rm.Step)
			}
		}
		for step := have + 1; step <= want; step++ {
			rm := Reminder{Step: step, Submitted: in.Submitted, Due: due, Level: in.Draft.Level, State: in.State}
			if _, err := d.Book.Note(ctx, in.ID, KindReminder, rm); err != nil {
				errs = append(errs, err)
				break
			}
			if err := d.tellApprovers(ctx, &in, rm); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// tellApprovers pushes reminder rm of in to its approvers, in-app; the
// delivery ids count the incident's reminders, so a reminder is pushed
// once.
func (d *Desk) tellApprovers(ctx context.Context, in *incident.Incident, rm Reminder) error {
	if d.Approvers == nil {
		return nil
	}
	rec, err := d.Approvers(ctx, in)
	if err != nil || len(rec) == 0 {
		return err
	}
	nth := 0
	for _, r := range d.Book.Records(in.ID) {
		if r.Kind == KindReminder {
			nth++
		}
	}
	act, actEn := "审核", "review"
	if in.Reviewer != "" || in.State == incident.Signed {
		act, actEn = "签发", "signature"
	}
	due := rm.Due.In(reportZone).Format("15:04")
	n := notify.Notice{Incident: in.ID, Version: min(nth, notify.MaxVersion), Level: int(rm.Level), Kind: notify.KindReminder, Recipients: rec,
		TextZh: fmt.Sprintf("【审批督办】%s %s级预警草稿待%s，已超过时限（%s 前）：%s", in.ID, rm.Level, act, due, in.Draft.Headline),
		TextEn: fmt.Sprintf("[Approval late] %s: the level %s draft waits for %s, due by %s: %s", in.ID, rm.Level, actEn, due, in.Draft.HeadlineEn)}
	_, err = d.Notify.Dispatch(ctx, n)
	return err
}

// Close stops the deliveries after their current attempts.
func (d *Desk) Close() { d.Notify.Close() }

// NotifyJournal keeps notify's events as records of their incidents.
type NotifyJournal struct{ Book *incident.Book }

// Record keeps ev with incident id.
func (j NotifyJournal) Record(ctx context.Context, id string, ev notify.Event) error {
	_, err := j.Book.Note(ctx, id, KindNotify, ev)
	return err
}

// PlanJournal keeps plan's events as records of their incidents.
type PlanJournal struct{ Book *incident.Book }

// Record keeps ev with incident id.
func (j PlanJournal) Record(ctx context.Context, id string, ev plan.Event) error {
	_, err := j.Book.Note(ctx, id, KindPlan, ev)
	return err
}

// Load reads the Book's journal back and gives the other parts their
// events, then makes good what a stop between a step and what follows it
// left undone (Reconcile).
func (d *Desk) Load(ctx context.Context) error {
	var nevs []notify.Event
	var pevs []plan.Event
	err := d.Book.Load(ctx, func(r incident.Record) error {
		switch r.Kind {
		case KindNotify:
			ev, err := notify.DecodeEvent(r.Data)
			if err != nil {
				return err
			}
			nevs = append(nevs, ev)
		case KindPlan:
			ev, err := plan.DecodeEvent(r.Data)
			if err != nil {
				return err
			}
			pevs = append(pevs, ev)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := d.Board.Load(pevs...); err != nil {
		return fmt.Errorf("response: plans: %w", err)
	}
	if err := d.Notify.Load(ctx, nevs...); err != nil {
		return fmt.Errorf("response: deliveries: %w", err)
	}
	d.Book.OnSync(d.mirror)
	return d.Reconcile(ctx)
}

// mirror applies a record of the deliveries or the plans that another
// instance sharing the journal kept (incident.Book.Sync).
func (d *Desk) mirror(r incident.Record) error {
	switch r.Kind {
	case KindNotify:
		ev, err := notify.DecodeEvent(r.Data)
		if err != nil {
			return err
		}
		return d.Notify.Mirror(ev)
	case KindPlan:
		ev, err := plan.DecodeEvent(r.Data)
		if err != nil {
			return err
		}
		return d.Board.Load(ev)
	}
	return nil
}

// Reconcile runs After for every incident, so that a warning published
// or released just before a stop is pushed and its plan opened; what was
// done already is not done again (deliveries have stable ids, a plan opens
// once).
func (d *Desk) Reconcile(ctx context.Context) error {
	var errs []error
	for _, in := range d.Book.List() {
		if err := d.After(ctx, &in); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// After does what follows an incident's state: once a warning is
// published, the push of each of its versions and the opening of its
// plan; once it is released, the push of the release. It is idempotent.
func (d *Desk) After(ctx context.Context, in *incident.Incident) error {
	w := in.Current()
	if w == nil || in.State == incident.Archived || in.State == incident.Merged {
		return nil
	}
	var errs []error
	if r, _ := d.Board.Response(in.ID); r.Plan == "" {
		o := plan.Opening{Incident: in.ID, Type: w.Type, Level: int(w.Level), Published: in.Versions[0].Issued}
		if site, ok := d.Sites.Site(in); ok {
			o.Location = &plan.Point{Lon: site.Location[0], Lat: site.Location[1]}
		}
		if _, err := d.Board.Open(ctx, o); err != nil && !isCode(err, "no_plan") {
			errs = append(errs, fmt.Errorf("response: open the plan of %s: %w", in.ID, err))
		}
	}
	dir, err := d.Dir.Directory(ctx)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("response: directory: %w", err))...)
	}
	q := directory.Query{Level: int(w.Level)}
	if site, ok := d.Sites.Site(in); ok {
		q.Domain, q.OwnerUnit = directory.NormalDomain(site.Domain), site.Owner
		if site.District != "" {
			q.Districts = []string{site.District}
		}
	}
	if w.Area != nil && w.Area.Geometry() != nil {
		q.UnitsInArea = d.Sites.OwnersIn(w.Area.Geometry())
	}
	rec := dir.Resolve(q)
	if len(rec) > 0 {
		n := notify.Notice{Incident: in.ID, Version: w.Version, Level: int(w.Level), Kind: notify.KindWarning,
			TextZh: noticeZh(w, false), TextEn: noticeEn(w, false), Recipients: rec}
		if _, err := d.Notify.Dispatch(ctx, n); err != nil {
			errs = append(errs, err)
		}
		if !in.ReleasedAt.IsZero() {
			n.Kind, n.TextZh, n.TextEn = notify.KindRelease, noticeZh(w, true), noticeEn(w, true)
			if _, err := d.Notify.Dispatch(ctx, n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func isCode(err error, code string) bool {
	var pe *plan.Error
	return errors.As(err, &pe) && pe.Code == code
}

// noticeZh is the text a recipient reads: the headline, then the
// instructions, or the release.
func noticeZh(w *incident.Warning, released bool) string {
	if released {
		return "【解除】" + w.Headline + "已解除。"
	}
	return strings.TrimSpace(fmt.Sprintf("【%s级预警】%s。%s", w.Level, w.Headline, w.Instructions))
}

func noticeEn(w *incident.Warning, released bool) string {
	if released {
		return "[Released] " + w.HeadlineEn + " is released."
	}
	return strings.TrimSpace(fmt.Sprintf("[Level %s warning] %s. %s", w.Level, w.HeadlineEn, w.InstructionsEn))
}

// Record is the whole record of an incident, as the archive keeps it: the
// incident, its steps and every other record in order, the deliveries and
// the response (plan, tasks, field reports).
type Record struct {
	Incident   incident.Incident `json:"incident"`
	Steps      []incident.Event  `json:"steps"`
	Deliveries []notify.Delivery `json:"deliveries"`
	Summary    map[string]int    `json:"delivery_summary"`
	Plan       *plan.Plan        `json:"plan,omitempty"`
	Response   *plan.Response    `json:"response,omitempty"`
	Records    []incident.Record `json:"records"`
	Attach     []string          `json:"attachments"`
	Positions  []plan.Fix        `json:"positions,omitempty"`
	// Replay is the span in time: the alarms with their changes and the
	// curves of their readings; set by the caller, which has the live
	// state.
	Replay *Replay `json:"replay,omitempty"`
	// Names are the directory's names of the recipients and their units,
	// by id, in Chinese.
	Names map[string]string `json:"names,omitempty"`
}

// Record gathers the record of incident id.
func (d *Desk) Record(id string) (*Record, bool) {
	in, ok := d.Book.Get(id)
	if !ok {
		return nil, false
	}
	r := &Record{Incident: in, Records: d.Book.Records(id), Deliveries: d.Notify.Deliveries(id), Summary: map[string]int{}}
	for _, rec := range r.Records {
		if rec.Kind == incident.KindStep {
			if ev, err := incident.DecodeEvent(rec.Data); err == nil {
				r.Steps = append(r.Steps, ev)
			}
		}
	}
	for st, n := range d.Notify.Summary(id) {
		r.Summary[string(st)] = n
	}
	if dir, err := d.Dir.Directory(context.Background()); err == nil {
		r.Names = map[string]string{}
		for _, x := range r.Deliveries {
			if p, ok := dir.Person(x.Recipient); ok {
				r.Names[x.Recipient] = p.Name
			}
			if u, ok := dir.Unit(x.Unit); ok {
				r.Names[x.Unit] = u.Name
			}
		}
	}
	if resp, ok := d.Board.Response(id); ok {
		r.Response = &resp
		if pl, ok := d.Board.Plans().Get(resp.Plan); ok {
			r.Plan = pl
		}
	}
	seen := map[string]bool{}
	add := func(ids []string) {
		for _, a := range ids {
			if !seen[a] {
				seen[a] = true
				r.Attach = append(r.Attach, a)
			}
		}
	}
	add(in.Attachments)
	if r.Response != nil {
		for _, t := range r.Response.Tasks {
			add(t.Photos)
		}
		for _, f := range r.Response.Feedback {
			add(f.Photos)
		}
	}
	for _, f := range d.Board.Positions() {
		if f.Incident == id {
			r.Positions = append(r.Positions, f)
		}
	}
	if r.Attach == nil {
		r.Attach = []string{}
	}
	slices.Sort(r.Attach)
	return r, true
}
