package plan_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/onemap/onemap/incident/plan"
)

// FuzzParse checks that a plans file either parses into plans that pass
// their own checks again or is refused with a *PlanError, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(plan.DefaultPlansJSON())
	f.Add([]byte(`{"plans":[]}`))
	f.Add([]byte(`{"plans":[{"id":"a","type":"gas_leak","domain":"gas","title":{"zh":"甲","en":"a"},"min_level":1,"max_level":4,` +
		`"tasks":[{"title":{"zh":"关阀","en":"close"},"role":"responder","deadline_min":5}],"measures":[{"zh":"a","en":"a"}],"cautions":[{"zh":"b","en":"b"}]}]}`))
	f.Add([]byte(`{"plans":[{"id":7}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := plan.Parse(data)
		if err != nil {
			var pe *plan.PlanError
			if !errors.As(err, &pe) {
				t.Fatalf("not a *PlanError: %v", err)
			}
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plan.Parse(again); err != nil {
			t.Fatalf("plans that parsed do not parse again: %v\n%s", err, again)
		}
		for _, pl := range p.Plans {
			if got, ok := p.Select(pl.Type, int(pl.MinLevel)); !ok || got.ID != pl.ID {
				t.Fatalf("Select(%s, %d) = %v, want %s", pl.Type, pl.MinLevel, got, pl.ID)
			}
		}
	})
}

// FuzzDecodeEvent checks that an event either decodes into one that
// encodes and decodes to itself or is refused with a *plan.Error.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"kind":"position","incident":"INC-1","at":"2026-03-01T08:00:00Z","by":"li","position":{"lon":116,"lat":39}}`))
	f.Add([]byte(`{"kind":"plan_opened","incident":"INC-1","at":"2026-03-01T08:00:00Z","plan":"p","published":"2026-03-01T08:00:00Z",` +
		`"tasks":[{"title":{"zh":"关阀","en":"close"},"role":"responder","deadline_min":10}]}`))
	f.Add([]byte(`{"kind":"task_overdue","incident":"I","task":"I.t1","at":"2026-03-01T08:00:00Z","step":1}`))
	f.Add([]byte(`{"kind":"feedback","incident":"I","at":"2026-03-01T08:00:00Z","by":"li","photos":["` + photo(1) + `"],"text":"x"}`))
	f.Add([]byte(`{"kind":"position","position":{"lon":1e999}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := plan.DecodeEvent(data)
		if err != nil {
			var pe *plan.Error
			if !errors.As(err, &pe) {
				t.Fatalf("not a *plan.Error: %v", err)
			}
			return
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := plan.DecodeEvent(again)
		if err != nil {
			t.Fatalf("an event that decoded does not decode again: %v\n%s", err, again)
		}
		if b, _ := json.Marshal(back); string(b) != string(again) {
			t.Fatalf("re-decoded %s, want %s", b, again)
		}
	})
}
