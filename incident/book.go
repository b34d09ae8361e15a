package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Act is a step of the approval a role may be allowed for a level.
type Act string

// The acts Approvals grades.
const (
	ActReview Act = "review"
	ActSign   Act = "sign"
)

// Approver says whether a role may take an act on a warning of a level;
// auth's roles, or a table such as Approvals, answer it.
type Approver interface {
	May(role string, act Act, level Level) bool
}

// ApprovalTable is who may review and sign which level: for each act and
// level, the roles allowed. It is an Approver.
type ApprovalTable map[Act]map[Level][]string

// May reports whether role is listed for act at level.
func (t ApprovalTable) May(role string, act Act, level Level) bool {
	return slices.Contains(t[act][level], role)
}

// Approvals is the default table, in the roles of auth/roles.json: a
// commander reviews and signs at every level; a warning of level III or IV
// may also be reviewed by an analyst (never the one who drafted it, which
// Apply refuses whatever the table says).
var Approvals = ApprovalTable{
	ActReview: {
		LevelI:   {"commander"},
		LevelII:  {"commander"},
		LevelIII: {"commander", "analyst"},
		LevelIV:  {"commander", "analyst"},
	},
	ActSign: {
		LevelI:   {"commander"},
		LevelII:  {"commander"},
		LevelIII: {"commander"},
		LevelIV:  {"commander"},
	},
}

// Book holds incidents in memory, each rebuilt from its events, and every
// record kept with them; each record is journalled before it is applied.
// It is safe for concurrent use.
type Book struct {
	j        Journal
	now      func() time.Time
	approver Approver

	mu      sync.Mutex
	seq     uint64
	byID    map[string]*Incident
	records map[string][]Record
	byAlarm map[uint64]string
	order   []string
	watch   []func(Record, Incident)
	// other hears the records of other kinds Sync reads (see OnSync).
	other func(Record) error
}

// NewBook returns an empty Book journalling to j, taking times from now
// (time.Now when nil) and checking reviews and signatures with approver
// (Approvals when nil).
func NewBook(j Journal, now func() time.Time, approver Approver) *Book {
	if now == nil {
		now = time.Now
	}
	if approver == nil {
		approver = Approvals
	}
	return &Book{j: j, now: now, approver: approver, byID: map[string]*Incident{},
		records: map[string][]Record{}, byAlarm: map[uint64]string{}}
}

// Watch has fn told of every record the Book keeps from now on, with the
// incident as it stands after it, in order; fn must be quick and must not
// call the Book.
func (b *Book) Watch(fn func(Record, Incident)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.watch = append(b.watch, fn)
}

// Load reads the journal back, applying the steps and keeping every
// record; records of other kinds are also given to other (when not nil),
// in order, for the parts of the loop that keep them. Seq continues after
// the last.
func (b *Book) Load(ctx context.Context, other func(Record) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.load(ctx, other, false)
}

// OnSync has other hear the records of other kinds that Sync reads, as
// Load's other does at start.
func (b *Book) OnSync(other func(Record) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.other = other
}

// Sync reads what others sharing the journal (the instances of a cluster
// on one database) have kept since the last record this Book has, applies
// it as Load does and tells the watchers, each record marked Remote.
func (b *Book) Sync(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.load(ctx, b.other, true)
}

// load applies the journal's records after the last this Book has; with
// tell, the watchers hear of them. b.mu is held.
func (b *Book) load(ctx context.Context, other func(Record) error, tell bool) error {
	return b.j.ReplayRecords(ctx, b.seq, func(r Record) error {
		if r.Kind == KindStep {
			ev, err := DecodeEvent(r.Data)
			if err != nil {
				return fmt.Errorf("incident: load record %d: %w", r.Seq, err)
			}
			var in Incident
			if cur := b.byID[ev.Incident]; cur != nil {
				in = *cur
			}
			next, err := Apply(in, ev)
			if err != nil {
				return fmt.Errorf("incident: load record %d: %w", r.Seq, err)
			}
			b.put(next)
		} else if other != nil {
			if err := other(r); err != nil {
				return fmt.Errorf("incident: load record %d (%s): %w", r.Seq, r.Kind, err)
			}
		}
		b.seq = max(b.seq, r.Seq)
		if tell {
			r.Remote = true
			b.kept(r, *b.inOf(r.Incident))
		} else {
			b.records[r.Incident] = append(b.records[r.Incident], r)
		}
		return nil
	})
}

// inOf is the incident a record is kept with, empty if it is none.
func (b *Book) inOf(id string) *Incident {
	if in := b.byID[id]; in != nil {
		return in
	}
	return &Incident{ID: id}
}

// maxTaken bounds how often Do and Note read what others kept and try
// again when the journal says their record's number is taken.
const maxTaken = 5

func (b *Book) put(in Incident) {
	if _, ok := b.byID[in.ID]; !ok {
		b.order = append(b.order, in.ID)
	}
	for _, a := range in.Alarms {
		b.byAlarm[a] = in.ID
	}
	b.byID[in.ID] = &in
}

// ErrNotFound is matched by errors.Is for an incident the Book does not
// hold.
var ErrNotFound = &EventError{Code: "not_found", Reason: "no such incident"}

// ErrForbidden is matched by errors.Is when the role of an event may not
// review or sign the level of its draft.
var ErrForbidden = &EventError{Code: "forbidden", Reason: "the role may not do this at this level"}

// ErrFrozen is matched by errors.Is for a record kept with an incident
// that is archived or merged: its record is closed.
var ErrFrozen = &EventError{Code: "frozen", Reason: "the incident is archived or merged: its record is closed"}

// Do stamps ev with the next Seq and the Book's time, checks it (the
// transition table, the rules of the loop, the approver for a review or a
// signature, that an opened incident's alarms are in no other), journals
// it and applies it, returning the new state. An incident opened without
// an id is given the next of the day, such as INC-20260512-003. On any
// error nothing is changed.
//
// When the journal is shared and another instance took the record's
// number first (ErrTaken), Do reads what it kept and tries again, so that
// ev is checked against the incident as it now stands.
func (b *Book) Do(ctx context.Context, ev Event) (Incident, error) {
	for attempt := 1; ; attempt++ {
		in, err := b.do(ctx, ev)
		if !errors.Is(err, ErrTaken) || attempt == maxTaken {
			return in, err
		}
		if err := b.Sync(ctx); err != nil {
			return in, err
		}
	}
}

func (b *Book) do(ctx context.Context, ev Event) (Incident, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev.Seq, ev.At = b.seq+1, b.stamp()
	if ev.Incident == "" && ev.To == Verifying {
		ev.Incident = b.nextID(ev.At)
	}
	var in Incident
	if cur, ok := b.byID[ev.Incident]; ok {
		in = *cur
	} else if ev.To != Verifying {
		return Incident{}, fmt.Errorf("incident %s: %w", ev.Incident, ErrNotFound)
	}
	next, err := Apply(in, ev)
	if err != nil {
		return in.clone(), err
	}
	if in.State == New {
		for _, a := range ev.Alarms {
			if other, ok := b.openWith(a); ok {
				return in.clone(), refuse("alarm_taken", "alarm %d is in incident %s already", a, other)
			}
		}
	}
	var act Act
	switch {
	case ev.To == InReview && in.State == InReview:
		act = ActReview
	case ev.To == Signed:
		act = ActSign
	}
	if act != "" && !b.approver.May(ev.Role, act, in.Draft.Level) {
		return in.clone(), fmt.Errorf("incident %s: %s may not %s level %s: %w", ev.Incident, ev.Role, act, in.Draft.Level, ErrForbidden)
	}
	if ev.To == Merged {
		if _, ok := b.byID[ev.Into]; !ok || ev.Into == ev.Incident {
			return in.clone(), fmt.Errorf("incident %s: merge into %s: %w", ev.Incident, ev.Into, ErrNotFound)
		}
	}
	data, err := json.Marshal(&ev)
	if err != nil {
		return in.clone(), fmt.Errorf("incident %s: %w", ev.Incident, err)
	}
	r := Record{Seq: ev.Seq, Incident: ev.Incident, Kind: KindStep, At: ev.At, Data: data}
	if err := b.j.AppendRecords(ctx, []Record{r}); err != nil {
		return in.clone(), fmt.Errorf("incident %s: journal: %w", ev.Incident, err)
	}
	b.seq = ev.Seq
	b.put(next)
	b.kept(r, next)
	return next.clone(), nil
}

// stamp is the Book's time now, to the microsecond every journal keeps.
func (b *Book) stamp() time.Time { return b.now().UTC().Truncate(time.Microsecond) }

// openWith reports the incident alarm a is in, unless that incident ended
// as a false alarm or was archived.
func (b *Book) openWith(a uint64) (string, bool) {
	id, ok := b.byAlarm[a]
	if !ok {
		return "", false
	}
	in := b.byID[id]
	for in.State == Merged && b.byID[in.Into] != nil {
		in = b.byID[in.Into]
	}
	if in.State == FalseAlarm || in.State == Archived {
		return "", false
	}
	return in.ID, true
}

// nextID is the next incident id of at's day.
func (b *Book) nextID(at time.Time) string {
	prefix := "INC-" + at.Format("20060102") + "-"
	n := 1
	for _, id := range b.order {
		if strings.HasPrefix(id, prefix) {
			n++
		}
	}
	for {
		id := fmt.Sprintf("%s%03d", prefix, n)
		if _, taken := b.byID[id]; !taken {
			return id
		}
		n++
	}
}

func (b *Book) kept(r Record, in Incident) {
	b.records[r.Incident] = append(b.records[r.Incident], r)
	for _, fn := range b.watch {
		fn(r, in.clone())
	}
}

// Note keeps a record of kind with incident id: data, as JSON, is what
// another part of the loop keeps (a delivery, a task, a field report). It
// is journalled before Note returns. An archived or merged incident takes
// no more records (ErrFrozen).
func (b *Book) Note(ctx context.Context, id, kind string, data any) (Record, error) {
	if kind == KindStep {
		return Record{}, refuse("bad_kind", "steps are kept by Do")
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return Record{}, fmt.Errorf("incident %s: %s: %w", id, kind, err)
	}
	for attempt := 1; ; attempt++ {
		r, err := b.note(ctx, id, kind, raw)
		if !errors.Is(err, ErrTaken) || attempt == maxTaken {
			return r, err
		}
		if err := b.Sync(ctx); err != nil {
			return r, err
		}
	}
}

func (b *Book) note(ctx context.Context, id, kind string, raw json.RawMessage) (Record, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	in, ok := b.byID[id]
	if !ok {
		return Record{}, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	if in.State == Archived || in.State == Merged {
		return Record{}, fmt.Errorf("incident %s: %w", id, ErrFrozen)
	}
	r := Record{Seq: b.seq + 1, Incident: id, Kind: kind, At: b.stamp(), Data: raw}
	if err := b.j.AppendRecords(ctx, []Record{r}); err != nil {
		return Record{}, fmt.Errorf("incident %s: journal: %w", id, err)
	}
	b.seq = r.Seq
	b.kept(r, *in)
	return r, nil
}

// Records returns every record kept with incident id, in order.
func (b *Book) Records(id string) []Record {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.records[id])
}

// ByAlarm returns the incident alarm a was opened with or brought into.
func (b *Book) ByAlarm(a uint64) (Incident, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.byAlarm[a]
	if !ok {
		return Incident{}, false
	}
	return b.byID[id].clone(), true
}

// Get returns the incident with id.
func (b *Book) Get(id string) (Incident, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	in, ok := b.byID[id]
	if !ok {
		return Incident{}, false
	}
	return in.clone(), true
}

// List returns every incident, the most recently updated first.
func (b *Book) List() []Incident {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Incident, 0, len(b.order))
	for _, id := range b.order {
		out = append(out, b.byID[id].clone())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastSeq > out[j].LastSeq })
	return out
}

// AlarmRef is an alarm as grouping needs it.
type AlarmRef struct {
	ID    uint64
	Asset uint64
	At    time.Time
}

// GroupWindow is how close in time alarms on one asset are proposed as
// one incident.
const GroupWindow = 10 * time.Minute

// Propose groups alarms into proposed incidents: alarms on one asset,
// each within window (GroupWindow when 0) of the first of its group. The
// groups come ordered by their first alarm, the ids in each by time; the
// operator accepts a group or splits it (Split).
func Propose(alarms []AlarmRef, window time.Duration) [][]uint64 {
	if window <= 0 {
		window = GroupWindow
	}
	as := slices.Clone(alarms)
	sort.SliceStable(as, func(i, j int) bool {
		if !as[i].At.Equal(as[j].At) {
			return as[i].At.Before(as[j].At)
		}
		return as[i].ID < as[j].ID
	})
	type open struct {
		first time.Time
		idx   int
	}
	var groups [][]uint64
	cur := map[uint64]open{}
	for _, a := range as {
		g, ok := cur[a.Asset]
		if ok && a.At.Sub(g.first) <= window {
			groups[g.idx] = append(groups[g.idx], a.ID)
			continue
		}
		cur[a.Asset] = open{first: a.At, idx: len(groups)}
		groups = append(groups, []uint64{a.ID})
	}
	return groups
}

// Split takes the alarms ids out of group: it returns the rest and the
// ones taken, each in the group's order.
func Split(group []uint64, ids []uint64) (rest, taken []uint64) {
	for _, a := range group {
		if slices.Contains(ids, a) {
			taken = append(taken, a)
		} else {
			rest = append(rest, a)
		}
	}
	return rest, taken
}
