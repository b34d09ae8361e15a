package incident

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Journal keeps incident events durably, in the order appended.
type Journal interface {
	// AppendIncidentEvents makes events durable before it returns.
	AppendIncidentEvents(ctx context.Context, evs []Event) error
}

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

// Book holds incidents in memory, each rebuilt from its events; every
// event is journalled before it is applied. It is safe for concurrent use.
type Book struct {
	j        Journal
	now      func() time.Time
	approver Approver

	mu    sync.Mutex
	seq   uint64
	byID  map[string]*Incident
	order []string
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
	return &Book{j: j, now: now, approver: approver, byID: map[string]*Incident{}}
}

// Load applies events read back from the journal, in order, without
// journalling them again; Seq continues after the last.
func (b *Book) Load(events []Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, ev := range events {
		cur := b.byID[ev.Incident]
		var in Incident
		if cur != nil {
			in = *cur
		}
		next, err := Apply(in, ev)
		if err != nil {
			return fmt.Errorf("incident: load event %d (seq %d): %w", i+1, ev.Seq, err)
		}
		b.put(next)
		b.seq = max(b.seq, ev.Seq)
	}
	return nil
}

func (b *Book) put(in Incident) {
	if _, ok := b.byID[in.ID]; !ok {
		b.order = append(b.order, in.ID)
	}
	b.byID[in.ID] = &in
}

// ErrNotFound is matched by errors.Is for an incident the Book does not
// hold.
var ErrNotFound = &EventError{Code: "not_found", Reason: "no such incident"}

// ErrForbidden is matched by errors.Is when the role of an event may not
// review or sign the level of its draft.
var ErrForbidden = &EventError{Code: "forbidden", Reason: "the role may not do this at this level"}

// Do stamps ev with the next Seq and the Book's time, checks it (the
// transition table, the rules of the loop, the approver for a review or a
// signature), journals it and applies it, returning the new state. On any
// error nothing is changed.
func (b *Book) Do(ctx context.Context, ev Event) (Incident, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var in Incident
	if cur, ok := b.byID[ev.Incident]; ok {
		in = *cur
	} else if ev.To != Verifying {
		return Incident{}, fmt.Errorf("incident %s: %w", ev.Incident, ErrNotFound)
	}
	ev.Seq, ev.At = b.seq+1, b.now().UTC()
	next, err := Apply(in, ev)
	if err != nil {
		return in.clone(), err
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
	if err := b.j.AppendIncidentEvents(ctx, []Event{ev}); err != nil {
		return in.clone(), fmt.Errorf("incident %s: journal: %w", ev.Incident, err)
	}
	b.seq = ev.Seq
	b.put(next)
	return next.clone(), nil
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
