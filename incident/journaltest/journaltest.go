// Package journaltest is the conformance suite every incident journal
// passes: the same cases on the write-ahead log of the embedded default and
// on PostGIS, so that the two cannot drift.
package journaltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/incident"
)

// Factory makes the journals the suite runs on.
type Factory struct {
	// New returns an empty journal; the test's cleanup closes it.
	New func(t *testing.T) incident.Journal
	// Reopen closes j and opens the same journal again, as a restart does.
	Reopen func(t *testing.T, j incident.Journal) incident.Journal
}

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	t.Run("OrderAndAfter", func(t *testing.T) { testOrder(t, f) })
	t.Run("RefusesBadRecords", func(t *testing.T) { testBad(t, f) })
	t.Run("BookSurvivesRestart", func(t *testing.T) { testBook(t, f) })
}

var t0 = time.Date(2026, 5, 12, 6, 28, 0, 0, time.UTC)

func rec(seq uint64, id, kind string, data string) incident.Record {
	return incident.Record{Seq: seq, Incident: id, Kind: kind, At: t0.Add(time.Duration(seq) * time.Second), Data: json.RawMessage(data)}
}

func all(t *testing.T, j incident.Journal, after uint64) []string {
	t.Helper()
	var got []string
	err := j.ReplayRecords(context.Background(), after, func(r incident.Record) error {
		var compact strings.Builder
		json.NewEncoder(&compact).Encode(json.RawMessage(r.Data))
		got = append(got, fmt.Sprintf("%d %s %s %s %s", r.Seq, r.Incident, r.Kind, r.At.UTC().Format(time.RFC3339Nano), strings.TrimSpace(compact.String())))
		return nil
	})
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return got
}

func testOrder(t *testing.T, f Factory) {
	ctx := context.Background()
	j := f.New(t)
	if got := all(t, j, 0); len(got) != 0 {
		t.Fatalf("a new journal holds %v", got)
	}
	if err := j.AppendRecords(ctx, []incident.Record{rec(1, "A", "step", `{"to":"verifying"}`), rec(2, "A", "delivery", `{"id":"d1","text":"燃气泄漏"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := j.AppendRecords(ctx, []incident.Record{rec(3, "B", "step", `{"to":"verifying"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := j.AppendRecords(ctx, nil); err != nil {
		t.Fatalf("an empty append: %v", err)
	}
	want := []string{
		`1 A step 2026-05-12T06:28:01Z {"to":"verifying"}`,
		`2 A delivery 2026-05-12T06:28:02Z {"id":"d1","text":"燃气泄漏"}`,
		`3 B step 2026-05-12T06:28:03Z {"to":"verifying"}`,
	}
	if got := all(t, j, 0); !reflect.DeepEqual(got, want) {
		t.Fatalf("replay:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := all(t, j, 2); !reflect.DeepEqual(got, want[2:]) {
		t.Fatalf("replay after 2: %v", got)
	}
	j = f.Reopen(t, j)
	if got := all(t, j, 0); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a restart:\n%s", strings.Join(got, "\n"))
	}
	stop := errors.New("stop")
	n := 0
	err := j.ReplayRecords(ctx, 0, func(incident.Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("an error from the callback: %v after %d", err, n)
	}
}

func testBad(t *testing.T, f Factory) {
	ctx := context.Background()
	j := f.New(t)
	if err := j.AppendRecords(ctx, []incident.Record{rec(1, "A", "step", `{}`)}); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]incident.Record{
		"no seq":     rec(0, "A", "step", `{}`),
		"no id":      rec(2, "", "step", `{}`),
		"long id":    rec(2, strings.Repeat("x", 65), "step", `{}`),
		"no kind":    rec(2, "A", "", `{}`),
		"no time":    {Seq: 2, Incident: "A", Kind: "step", Data: json.RawMessage(`{}`)},
		"not JSON":   rec(2, "A", "step", `{"to":`),
		"too large":  rec(2, "A", "step", `"`+strings.Repeat("x", incident.MaxRecordSize)+`"`),
		"empty data": rec(2, "A", "step", ``),
	} {
		if err := j.AppendRecords(ctx, []incident.Record{rec(2, "A", "ok", `{}`), r}); !errors.Is(err, incident.ErrEvent) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := all(t, j, 0); len(got) != 1 {
		t.Fatalf("a refused append kept something: %v", got)
	}
}

func testBook(t *testing.T, f Factory) {
	ctx := context.Background()
	j := f.New(t)
	now := t0
	clock := func() time.Time { now = now.Add(time.Minute); return now }
	b := incident.NewBook(j, clock, nil)
	in, err := b.Do(ctx, incident.Event{To: incident.Verifying, Who: "wang", Role: "operator", Alarms: []uint64{7, 8}, Asset: 42, Reason: "两个报警在同一管段"})
	if err != nil {
		t.Fatal(err)
	}
	id := in.ID
	steps := []incident.Event{
		{To: incident.Confirmed, Who: "wang", Role: "operator"},
		{To: incident.WarningDraft, Who: "li", Role: "analyst", Warning: &incident.Warning{Level: incident.LevelII, Type: "gas_leak", Time: t0, Location: "长江路 18 号"}},
		{To: incident.InReview, Who: "li", Role: "analyst"},
		{To: incident.InReview, Who: "zhao", Role: "commander"},
		{To: incident.Signed, Who: "zhao", Role: "commander"},
		{To: incident.Published, Who: "zhao", Role: "commander"},
	}
	for _, ev := range steps {
		ev.Incident = id
		if _, err := b.Do(ctx, ev); err != nil {
			t.Fatalf("%s: %v", ev.To, err)
		}
	}
	if _, err := b.Note(ctx, id, "delivery", map[string]any{"to": "gas-duty", "state": "sent"}); err != nil {
		t.Fatal(err)
	}
	before, _ := b.Get(id)
	records := b.Records(id)

	b2 := incident.NewBook(f.Reopen(t, j), clock, nil)
	var others []string
	if err := b2.Load(ctx, func(r incident.Record) error { others = append(others, r.Kind); return nil }); err != nil {
		t.Fatal(err)
	}
	after, _ := b2.Get(id)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("after a restart:\n%+v\nwas:\n%+v", after, before)
	}
	if len(others) != 1 || others[0] != "delivery" {
		t.Fatalf("the other records given back: %v", others)
	}
	if got := b2.Records(id); len(got) != len(records) || got[len(got)-1].Seq != records[len(records)-1].Seq {
		t.Fatalf("records after a restart: %d, were %d", len(got), len(records))
	}
	// numbering goes on after the last record
	in, err = b2.Do(ctx, incident.Event{Incident: id, To: incident.Responding, Who: "zhao", Role: "commander"})
	if err != nil || in.LastSeq != records[len(records)-1].Seq+1 {
		t.Fatalf("the next step after a restart: %v, seq %d", err, in.LastSeq)
	}
}
