package incident

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

var t0 = time.Date(2026, 5, 12, 14, 28, 0, 0, time.UTC)

func warning(l Level) *Warning {
	return &Warning{Level: l, Type: "gas_leak", Time: t0, Location: "长江路 18 号",
		Area:         geojson.NewGeometry(orb.Polygon{{{118.78, 32.04}, {118.79, 32.04}, {118.79, 32.05}, {118.78, 32.04}}}),
		Surroundings: "150 m 内有 2 所学校", Instructions: "请勿使用明火，听从现场指挥"}
}

// ev builds a well-formed event to state to for incident "A".
func ev(to State) Event {
	e := Event{Incident: "A", To: to, Who: "wang", Role: "operator", At: t0}
	switch to {
	case Verifying:
		e.Alarms, e.Asset, e.Outcome = []uint64{7}, 42, OutcomeSiteCheck
	case FalseAlarm:
		e.Cause = CauseSensorFault
	case Merged:
		e.Into = "B"
	case WarningDraft:
		e.Warning = warning(LevelII)
	case InReview, Signed:
		e.Who = "li"
	}
	return e
}

// reach returns incident A in state s by the shortest legal path.
func reach(t *testing.T, s State) Incident {
	t.Helper()
	paths := map[State][]State{
		New:          {},
		Verifying:    {Verifying},
		Confirmed:    {Verifying, Confirmed},
		FalseAlarm:   {Verifying, FalseAlarm},
		Merged:       {Verifying, Merged},
		WarningDraft: {Verifying, Confirmed, WarningDraft},
		InReview:     {Verifying, Confirmed, WarningDraft, InReview, InReview},
		Signed:       {Verifying, Confirmed, WarningDraft, InReview, InReview, Signed},
		Published:    {Verifying, Confirmed, WarningDraft, InReview, InReview, Signed, Published},
		Responding:   {Verifying, Confirmed, WarningDraft, InReview, InReview, Signed, Published, Responding},
		Resolved:     {Verifying, Confirmed, WarningDraft, InReview, InReview, Signed, Published, Responding, Resolved},
		Released:     {Verifying, Confirmed, WarningDraft, InReview, InReview, Signed, Published, Responding, Resolved, Released},
		Archived:     {Verifying, Confirmed, WarningDraft, InReview, InReview, Signed, Published, Responding, Resolved, Released, Archived},
	}
	var in Incident
	prev := New
	for i, to := range paths[s] {
		e := ev(to)
		if to == InReview && prev == WarningDraft {
			e.Who = "wang" // the drafter submits
		}
		e.Seq = uint64(i + 1)
		var err error
		if in, err = Apply(in, e); err != nil {
			t.Fatalf("reaching %s, step %d to %s: %v", s, i+1, to, err)
		}
		prev = to
	}
	if in.State != s {
		t.Fatalf("reached %q, want %q", in.State, s)
	}
	return in
}

func TestEveryTransition(t *testing.T) {
	all := append([]State{New}, States...)
	for _, from := range all {
		for _, to := range States {
			legal := slices.Contains(Transitions[from], to)
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				in := reach(t, from)
				e := ev(to)
				e.Seq = in.LastSeq + 1
				if from == InReview && to == Signed {
					e.Who = "zhao"
				}
				if from == Published || from == Responding {
					e.Warning = nil
					if to == from {
						e.Warning = warning(LevelI)
					}
				}
				if from == InReview && to == WarningDraft {
					e.Warning = nil // sent back
				}
				out, err := Apply(in, e)
				if legal {
					if err != nil {
						t.Fatalf("legal transition refused: %v", err)
					}
					if out.State != to || out.LastSeq != e.Seq || out.Events != in.Events+1 {
						t.Fatalf("state %s seq %d events %d", out.State, out.LastSeq, out.Events)
					}
					return
				}
				var te *TransitionError
				if !errors.As(err, &te) || !errors.Is(err, ErrBadTransition) {
					t.Fatalf("illegal transition: err %v, want a TransitionError", err)
				}
				if te.From != from || te.To != to || !reflect.DeepEqual(te.Allowed, Transitions[from]) {
					t.Fatalf("error names %s→%s allowed %v", te.From, te.To, te.Allowed)
				}
				if !strings.Contains(te.Error(), string(to)) {
					t.Fatalf("message %q does not name the attempted state", te.Error())
				}
				if !reflect.DeepEqual(out, in) {
					t.Fatal("a refused event changed the incident")
				}
			})
		}
	}
}

func TestTableCoversEveryState(t *testing.T) {
	for _, s := range States {
		if _, ok := Transitions[s]; !ok {
			t.Errorf("state %s missing from the table", s)
		}
		for _, to := range Transitions[s] {
			if !slices.Contains(States, to) {
				t.Errorf("%s → unknown %s", s, to)
			}
		}
	}
	if len(Transitions[Archived])+len(Transitions[Merged]) != 0 {
		t.Error("archived and merged are final")
	}
}

func TestRulesOfTheLoop(t *testing.T) {
	in := reach(t, WarningDraft) // drafted by wang
	sub := ev(InReview)
	sub.Who = "wang"
	in, err := Apply(in, sub)
	if err != nil {
		t.Fatal(err)
	}
	// the drafter may not review
	rev := ev(InReview)
	rev.Who = "wang"
	if _, err := Apply(in, rev); !isCode(err, "own_draft") {
		t.Fatalf("own review: %v", err)
	}
	// no signature before a review
	sign := ev(Signed)
	sign.Who = "zhao"
	if _, err := Apply(in, sign); !isCode(err, "no_review") {
		t.Fatalf("sign unreviewed: %v", err)
	}
	rev.Who = "li"
	if in, err = Apply(in, rev); err != nil {
		t.Fatal(err)
	}
	// the drafter may not sign, even reviewed
	sign.Who = "wang"
	if _, err := Apply(in, sign); !isCode(err, "own_draft") || !errors.Is(err, ErrEvent) {
		t.Fatalf("own signature: %v", err)
	}
	sign.Who = "zhao"
	if in, err = Apply(in, sign); err != nil || in.Signer != "zhao" || in.Reviewer != "li" {
		t.Fatalf("sign: %v %+v", err, in)
	}
}

func isCode(err error, code string) bool {
	var ee *EventError
	return errors.As(err, &ee) && ee.Code == code
}

func TestVerificationOutcomes(t *testing.T) {
	in := reach(t, Verifying)
	for _, c := range []struct {
		cause Cause
		text  string
		ok    bool
	}{{CauseSensorFault, "", true}, {CauseMaintenance, "", true}, {CauseInterference, "", true},
		{CauseOther, "施工挖断", true}, {CauseOther, " ", false}, {"vandalism", "", false}, {"", "", false}} {
		e := ev(FalseAlarm)
		e.Cause, e.CauseText = c.cause, c.text
		out, err := Apply(in, e)
		if (err == nil) != c.ok {
			t.Errorf("cause %q text %q: %v", c.cause, c.text, err)
		}
		if err == nil && (out.Outcome != OutcomeFalseAlarm || out.Cause != c.cause) {
			t.Errorf("recorded %+v", out)
		}
	}
	sc := ev(Verifying)
	sc.Outcome = ""
	if _, err := Apply(in, sc); !isCode(err, "bad_outcome") {
		t.Errorf("a verifying event without a site check: %v", err)
	}
	out, err := Apply(in, ev(Verifying))
	if err != nil || out.Outcome != OutcomeSiteCheck {
		t.Errorf("site check: %v %s", err, out.Outcome)
	}
	if out, _ = Apply(out, ev(Confirmed)); out.Outcome != OutcomeConfirmed {
		t.Errorf("confirmed: %s", out.Outcome)
	}
}

func TestReissueKeepsEveryVersion(t *testing.T) {
	in := reach(t, Published)
	for i, l := range []Level{LevelI, LevelIII} {
		e := ev(Published)
		e.Warning = warning(l)
		var err error
		if in, err = Apply(in, e); err != nil {
			t.Fatal(err)
		}
		if len(in.Versions) != i+2 || in.Current().Level != l || in.Current().Version != i+2 {
			t.Fatalf("after re-issue %d: %+v", i+1, in.Versions)
		}
	}
	if in.Versions[0].Level != LevelII {
		t.Fatal("the first version was changed")
	}
	bad := ev(Published)
	bad.Warning = warning(7)
	if _, err := Apply(in, bad); !isCode(err, "bad_level") {
		t.Fatalf("level 7: %v", err)
	}
}

func TestBookJournalsThenApplies(t *testing.T) {
	now := t0
	j := &MemoryJournal{}
	b := NewBook(j, func() time.Time { now = now.Add(time.Minute); return now }, nil)
	ctx := context.Background()
	do := func(e Event) Incident {
		t.Helper()
		in, err := b.Do(ctx, e)
		if err != nil {
			t.Fatalf("%s: %v", e.To, err)
		}
		return in
	}
	open := Event{Incident: "A", To: Verifying, Who: "wang", Role: "operator", Alarms: []uint64{1, 2}, Asset: 9}
	do(open)
	do(Event{Incident: "A", To: Confirmed, Who: "wang", Role: "operator"})
	do(Event{Incident: "A", To: WarningDraft, Who: "wang", Role: "operator", Warning: warning(LevelII)})
	do(Event{Incident: "A", To: InReview, Who: "wang", Role: "operator"})
	// an analyst may not review level II
	if _, err := b.Do(ctx, Event{Incident: "A", To: InReview, Who: "li", Role: "analyst"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("review by an analyst: %v", err)
	}
	do(Event{Incident: "A", To: InReview, Who: "li", Role: "commander"})
	if _, err := b.Do(ctx, Event{Incident: "A", To: Signed, Who: "zhao", Role: "analyst"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("sign by an analyst: %v", err)
	}
	// a journal that fails leaves the incident as it was
	j.Fail = errors.New("disk full")
	if _, err := b.Do(ctx, Event{Incident: "A", To: Signed, Who: "zhao", Role: "commander"}); err == nil {
		t.Fatal("journal failure not reported")
	}
	if in, _ := b.Get("A"); in.State != InReview {
		t.Fatalf("state %s after a failed journal", in.State)
	}
	j.Fail = nil
	in := do(Event{Incident: "A", To: Signed, Who: "zhao", Role: "commander"})
	if in.LastSeq != 6 || !in.Updated.Equal(t0.Add(9*time.Minute)) {
		t.Fatalf("seq %d at %v", in.LastSeq, in.Updated)
	}
	do(Event{Incident: "A", To: Published, Who: "zhao", Role: "commander"})
	if _, err := b.Do(ctx, Event{Incident: "nope", To: Confirmed, Who: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown incident: %v", err)
	}
	if _, err := b.Do(ctx, Event{Incident: "A", To: Archived, Who: "x"}); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("published → archived: %v", err)
	}

	// rebuilding from the journal gives what the Book holds
	live, _ := b.Get("A")
	var evs []Event
	j.ReplayRecords(ctx, 0, func(r Record) error {
		e, err := DecodeEvent(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		return nil
	})
	re, err := Rebuild(evs)
	if err != nil || !reflect.DeepEqual(re, live) {
		t.Fatalf("rebuild differs: %v\n%+v\n%+v", err, re, live)
	}
	b2 := NewBook(j, nil, nil)
	if err := b2.Load(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := b2.Get("A"); !reflect.DeepEqual(got, live) {
		t.Fatal("a loaded Book differs")
	}
	if in, err := b2.Do(ctx, Event{Incident: "A", To: Responding, Who: "x", Role: "operator"}); err != nil || in.LastSeq != 8 {
		t.Fatalf("seq after load: %v %d", err, in.LastSeq)
	}
}

func TestMergeNeedsAnotherIncident(t *testing.T) {
	b := NewBook(&MemoryJournal{}, func() time.Time { return t0 }, nil)
	ctx := context.Background()
	for i, id := range []string{"A", "B"} {
		if _, err := b.Do(ctx, Event{Incident: id, To: Verifying, Who: "w", Alarms: []uint64{uint64(i + 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	// an alarm is in one incident at a time
	if _, err := b.Do(ctx, Event{Incident: "C", To: Verifying, Who: "w", Alarms: []uint64{3, 1}}); !isCode(err, "alarm_taken") {
		t.Fatalf("an alarm opened twice: %v", err)
	}
	if _, err := b.Do(ctx, Event{Incident: "A", To: Merged, Who: "w", Into: "C"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("merge into unknown: %v", err)
	}
	in, err := b.Do(ctx, Event{Incident: "A", To: Merged, Who: "w", Into: "B"})
	if err != nil || in.Into != "B" {
		t.Fatalf("merge: %v", err)
	}
	if got := len(b.List()); got != 2 {
		t.Fatalf("list %d", got)
	}
	// alarm 1 now belongs to B, by the merge
	if _, err := b.Do(ctx, Event{To: Verifying, Who: "w", Alarms: []uint64{1}}); !isCode(err, "alarm_taken") {
		t.Fatalf("a merged incident's alarm opened again: %v", err)
	}
	// an incident opened without an id gets the day's next
	in, err = b.Do(ctx, Event{To: Verifying, Who: "w", Alarms: []uint64{9}})
	if err != nil || in.ID != "INC-20260512-001" {
		t.Fatalf("opened %q: %v", in.ID, err)
	}
	// records kept beside the steps; none once merged
	if _, err := b.Note(ctx, in.ID, "task", map[string]string{"title": "关阀"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Note(ctx, "A", "task", map[string]string{}); !errors.Is(err, ErrFrozen) {
		t.Fatalf("a note on a merged incident: %v", err)
	}
	if rs := b.Records(in.ID); len(rs) != 2 || rs[0].Kind != KindStep || rs[1].Kind != "task" || rs[1].Seq != rs[0].Seq+1 {
		t.Fatalf("records %+v", rs)
	}
}

func TestPropose(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	groups := Propose([]AlarmRef{
		{ID: 1, Asset: 10, At: at(0)}, {ID: 2, Asset: 10, At: at(4)}, {ID: 3, Asset: 20, At: at(5)},
		{ID: 4, Asset: 10, At: at(10)}, {ID: 5, Asset: 10, At: at(11)}, {ID: 6, Asset: 20, At: at(30)},
	}, 0)
	want := [][]uint64{{1, 2, 4}, {3}, {5}, {6}}
	if !reflect.DeepEqual(groups, want) {
		t.Fatalf("groups %v, want %v", groups, want)
	}
	rest, taken := Split(groups[0], []uint64{2})
	if !reflect.DeepEqual(rest, []uint64{1, 4}) || !reflect.DeepEqual(taken, []uint64{2}) {
		t.Fatalf("split %v %v", rest, taken)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"seq":1,"incident":"A","to":"verifying","who":"w","role":"operator","at":"2026-05-12T14:28:00Z","alarms":[1]}`))
	f.Add([]byte(`{"seq":3,"incident":"A","to":"warning_draft","who":"w","at":"2026-05-12T14:28:00Z","warning":{"level":2,"type":"gas_leak","time":"2026-05-12T14:28:00Z","location":"x","area":{"type":"Point","coordinates":[1,2]}}}`))
	f.Add([]byte(`{"incident":"A","to":"false_alarm","who":"w","at":"2026-05-12T14:28:00Z","cause":"other","cause_text":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEvent(data)
		if err != nil {
			if !errors.Is(err, ErrEvent) {
				t.Fatalf("error %v is not an EventError", err)
			}
			return
		}
		if e.Incident == "" || e.Who == "" || e.At.IsZero() {
			t.Fatalf("accepted %+v", e)
		}
		// any decoded event applies or is refused with a stable error
		if _, err := Apply(Incident{}, e); err != nil && !errors.Is(err, ErrEvent) && !errors.Is(err, ErrBadTransition) {
			t.Fatalf("apply: %v", err)
		}
	})
}

func TestApprovalTable(t *testing.T) {
	for _, l := range []Level{LevelI, LevelII, LevelIII, LevelIV} {
		if !Approvals.May("commander", ActSign, l) || !Approvals.May("commander", ActReview, l) {
			t.Errorf("a commander may not act on level %s", l)
		}
		if Approvals.May("analyst", ActSign, l) || Approvals.May("operator", ActReview, l) {
			t.Errorf("level %s: an analyst signs or an operator reviews", l)
		}
		if got, want := Approvals.May("analyst", ActReview, l), l >= LevelIII; got != want {
			t.Errorf("analyst reviews level %s: %v", l, got)
		}
	}
}

// TestBooksShareAJournal: two Books on one journal, as two instances on
// one database. What one keeps the other reads with Sync, its watchers
// told and the record marked Remote; a step taken on a Book that has not
// read the other's latest record is refused by the journal, and the Book
// reads it and tries again, so that the step is checked against the
// incident as it now stands and every record has a number of its own.
func TestBooksShareAJournal(t *testing.T) {
	j := &MemoryJournal{}
	now := t0
	clock := func() time.Time { now = now.Add(time.Second); return now }
	a, b := NewBook(j, clock, nil), NewBook(j, clock, nil)
	var told []Record
	b.Watch(func(r Record, _ Incident) { told = append(told, r) })
	ctx := context.Background()
	if _, err := a.Do(ctx, Event{To: Verifying, Who: "wang", Role: "operator", Alarms: []uint64{1}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	ins := b.List()
	if len(ins) != 1 || ins[0].State != Verifying || len(told) != 1 || !told[0].Remote {
		t.Fatalf("b after Sync: %+v, told %+v", ins, told)
	}
	id := ins[0].ID
	// a confirms; b, not knowing, confirms too: its step is checked again
	// after a's and refused, the incident being confirmed already.
	if _, err := a.Do(ctx, Event{Incident: id, To: Confirmed, Who: "wang", Role: "operator"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Do(ctx, Event{Incident: id, To: Confirmed, Who: "li", Role: "operator"}); err == nil || errors.Is(err, ErrTaken) {
		t.Errorf("b confirming what a confirmed: %v, want the transition refused", err)
	}
	// Both open one more at once: two incidents with ids of their own.
	x, err := a.Do(ctx, Event{To: Verifying, Who: "wang", Role: "operator", Alarms: []uint64{2}})
	if err != nil {
		t.Fatal(err)
	}
	y, err := b.Do(ctx, Event{To: Verifying, Who: "li", Role: "operator", Alarms: []uint64{3}})
	if err != nil {
		t.Fatalf("b opening after a: %v", err)
	}
	if x.ID == y.ID {
		t.Errorf("both opened %s", x.ID)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if la, lb := len(a.List()), len(b.List()); la != 3 || lb != 3 {
		t.Errorf("a holds %d incidents, b %d; want 3 each", la, lb)
	}
	seqs := map[uint64]bool{}
	if err := j.ReplayRecords(ctx, 0, func(r Record) error {
		if seqs[r.Seq] {
			t.Errorf("record %d twice", r.Seq)
		}
		seqs[r.Seq] = true
		return nil
	}); err != nil || len(seqs) != 4 {
		t.Errorf("the journal holds %d records (%v), want 4", len(seqs), err)
	}
}
