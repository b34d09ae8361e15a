// Package journaltest is the conformance suite every live journal passes:
// the same cases, run against the write-ahead log of the embedded default
// and against PostGIS, so that the two cannot drift.
package journaltest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/paulmach/orb"
)

// Factory makes the journals the suite runs on.
type Factory struct {
	// New returns an empty journal whose retention (at least 7 days) is
	// measured on now; the suite closes it with Reopen or leaves it to
	// the test's cleanup.
	New func(t *testing.T, now func() time.Time) live.Journal
	// Reopen closes j and opens the same journal again, as a restart does.
	Reopen func(t *testing.T, j live.Journal) live.Journal
}

// T0 is the time the suite's clock starts at.
var T0 = time.Now().UTC().Truncate(time.Hour)

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	t.Run("Order", func(t *testing.T) { testOrder(t, f) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, f) })
	t.Run("AlarmsKeepTheirHistory", func(t *testing.T) { testAlarmHistory(t, f) })
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func replayAll(t *testing.T, j live.Journal, after uint64) []string {
	t.Helper()
	var got []string
	err := j.Replay(context.Background(), after, func(r live.Reading) error {
		got = append(got, fmt.Sprintf("%d/%s=%v@%d", r.Sensor, r.Metric, r.Value, r.Time.Sub(T0).Milliseconds()))
		return nil
	}, func(ev live.HistoryEvent) error {
		got = append(got, fmt.Sprintf("%s %d by %q %q at %d", ev.Kind, ev.Alarm, ev.By, ev.Note, ev.At.Sub(T0).Milliseconds()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Readings and events come back in the order appended, after a position
// and across a restart.
func testOrder(t *testing.T, f Factory) {
	ctx := context.Background()
	c := &clock{T0}
	j := f.New(t, c.now)
	rs := []live.Reading{
		{Sensor: 7, Metric: "ch4_lel", Value: 3, Unit: "%LEL", Time: T0.Add(-time.Hour)},
		{Sensor: 8, Metric: "pressure", Value: 0.31, Unit: "MPa", Time: T0},
	}
	if err := j.AppendReadings(ctx, rs); err != nil {
		t.Fatal(err)
	}
	mark, err := j.Mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evs := []live.HistoryEvent{
		{Kind: live.EventRaised, Alarm: 1, Sensor: 7, Metric: "ch4_lel", To: 2, Value: 30, At: T0.Add(time.Second), RuleVersion: 1},
		{Kind: live.EventAcknowledged, Alarm: 1, By: "值班员", Note: "seen", At: T0.Add(2 * time.Second)},
	}
	if err := j.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := j.AppendReadings(ctx, []live.Reading{{Sensor: 7, Metric: "ch4_lel", Value: 31, Unit: "%LEL", Time: T0.Add(3 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"7/ch4_lel=3@-3600000", "8/pressure=0.31@0",
		`raised 1 by "" "" at 1000`, `acknowledged 1 by "值班员" "seen" at 2000`, "7/ch4_lel=31@3000",
	}
	if got := replayAll(t, j, 0); !slices.Equal(got, want) {
		t.Errorf("replay:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := replayAll(t, j, mark); !slices.Equal(got, want[2:]) {
		t.Errorf("replay after the mark:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want[2:], "\n"))
	}
	// An event comes back whole.
	var back []live.HistoryEvent
	j.Replay(ctx, mark, func(live.Reading) error { return nil }, func(ev live.HistoryEvent) error { back = append(back, ev); return nil })
	if len(back) != 2 || back[0].Sensor != 7 || back[0].Metric != "ch4_lel" || back[0].To != 2 || back[0].RuleVersion != 1 || !back[0].At.Equal(evs[0].At) {
		t.Errorf("events read back: %+v", back)
	}
	j = f.Reopen(t, j)
	if got := replayAll(t, j, 0); !slices.Equal(got, want) {
		t.Errorf("replay after a restart:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The latest checkpoint is kept across a restart; pruning what it covers
// loses nothing after it.
func testCheckpoints(t *testing.T, f Factory) {
	ctx := context.Background()
	c := &clock{T0}
	j := f.New(t, c.now)
	if cp, err := j.LastCheckpoint(ctx); err != nil || cp != nil {
		t.Fatalf("a new journal has checkpoint %v, %v", cp, err)
	}
	var pos uint64
	for i := range 3 {
		if err := j.AppendReadings(ctx, []live.Reading{{Sensor: 1, Metric: "pressure", Value: float64(i), Unit: "MPa", Time: T0.Add(time.Duration(i) * time.Minute)}}); err != nil {
			t.Fatal(err)
		}
		p, err := j.Mark(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p <= pos {
			t.Fatalf("mark %d after mark %d", p, pos)
		}
		pos = p
		if err := j.SaveCheckpoint(ctx, live.Checkpoint{Pos: pos, At: c.t, Data: []byte(fmt.Sprintf("state %d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.AppendReadings(ctx, []live.Reading{{Sensor: 1, Metric: "pressure", Value: 9, Unit: "MPa", Time: T0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Prune(ctx, pos, T0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	j = f.Reopen(t, j)
	cp, err := j.LastCheckpoint(ctx)
	if err != nil || cp == nil || cp.Pos != pos || string(cp.Data) != "state 2" || !cp.At.Equal(T0) {
		t.Fatalf("last checkpoint %+v, %v; want state 2 at %d", cp, err, pos)
	}
	if got := replayAll(t, j, cp.Pos); !slices.Equal(got, []string{"1/pressure=9@3600000"}) {
		t.Errorf("after the checkpoint: %v", got)
	}
}

// sensors: two gas detectors in one manhole and a water pressure sensor.
func sensors() *live.Sensors {
	f := func(id uint64, code, domain, metrics string, asset uint64, layer string) *layers.Feature {
		return &layers.Feature{ID: id, Layer: layers.Sensor, Geometry: orb.Point{117.26, 31.84}, Props: map[string]any{
			"code": code, "domain": domain, "kind": "x", "metrics": metrics, "asset": float64(asset), "asset_layer": layer, "interval_s": 60.0}}
	}
	return live.NewSensors([]*layers.Feature{
		f(1, "GAS-1", "gas", "ch4_lel", 100, layers.DrainNode),
		f(2, "GAS-2", "gas", "ch4_lel", 100, layers.DrainNode),
		f(3, "WAT-1", "water", "pressure", 200, layers.WaterNode),
	})
}

func ingest(t *testing.T, s *live.Service, at time.Time, lines ...string) {
	t.Helper()
	var body []string
	for _, l := range lines {
		body = append(body, strings.Replace(l, "}", fmt.Sprintf(`,"ts":%d}`, at.UnixMilli()), 1))
	}
	res, err := s.Ingest(context.Background(), strings.NewReader("["+strings.Join(body, ",")+"]"), nil)
	if err != nil || res.Accepted != len(lines) {
		t.Fatalf("ingest: %+v, %v", res, err)
	}
}

// history is what the suite compares of an alarm: everything that must
// never change once said.
func history(a live.Alarm) string {
	var b strings.Builder
	fmt.Fprintf(&b, "alarm %d sensor %d %s incident %d rules v%d started %s state %s max %d",
		a.ID, a.Sensor, a.Metric, a.Incident, a.RuleVersion, a.Started.UTC().Format(time.RFC3339), a.State, a.MaxLevel)
	for _, c := range a.Changes {
		fmt.Fprintf(&b, "\n  %s %d→%d %v at %s v%d", c.Kind, c.From, c.To, c.Value, c.At.UTC().Format(time.RFC3339), c.RuleVersion)
	}
	for _, k := range a.Acks {
		fmt.Fprintf(&b, "\n  ack by %s %q at %s", k.By, k.Note, k.At.UTC().Format(time.RFC3339))
	}
	return b.String()
}

func histories(t *testing.T, s *live.Service) []string {
	t.Helper()
	var out []string
	for _, a := range s.Alarms(live.AlarmFilter{}) {
		full, err := s.Alarm(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, history(*full))
	}
	return out
}

// Alarms raised, acknowledged twice, judged under a rules change, kept
// across restarts, a checkpoint and the retention sliding past the
// readings that raised them: every alarm keeps its id, its changes and its
// acknowledgements, and the past is not judged again.
func testAlarmHistory(t *testing.T, f Factory) {
	ctx := context.Background()
	c := &clock{T0}
	const retention = 7 * 24 * time.Hour
	j := f.New(t, c.now)
	open := func() *live.Service {
		t.Helper()
		s, err := live.NewService(live.Options{Sensors: sensors(), Journal: j, Now: c.now, Retention: retention})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	ingest(t, s, T0.Add(-time.Hour), `{"sensor":1,"metric":"ch4_lel","value":30}`, `{"sensor":3,"metric":"pressure","value":0.3}`)
	ingest(t, s, T0.Add(-59*time.Minute), `{"sensor":1,"metric":"ch4_lel","value":0}`, `{"sensor":2,"metric":"ch4_lel","value":60}`)
	as := s.Alarms(live.AlarmFilter{})
	if len(as) != 2 || as[1].State != live.ClearedState || as[0].State != live.Active {
		t.Fatalf("%d alarms, want one cleared, one active: %+v", len(as), as)
	}
	first := as[len(as)-1].ID
	for _, who := range []string{"值班员", "李工"} {
		if _, err := s.Acknowledge(ctx, first, who, "seen by "+who); err != nil {
			t.Fatal(err)
		}
	}
	// Rules under which 30 %LEL is a level-1 alarm at once.
	rules := []byte(`{"rules": [{"metric": "ch4_lel", "unit": "%LEL", "levels": [{"level": 1, "high": 5}]}]}`)
	rs, err := live.ParseRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.PutRules(ctx, rs, rules, "规则管理员")
	if err != nil || v.Version != 2 {
		t.Fatalf("rules version %+v, %v; want 2", v, err)
	}
	ingest(t, s, T0.Add(-58*time.Minute), `{"sensor":1,"metric":"ch4_lel","value":6}`)
	want := histories(t, s)
	if len(want) != 3 {
		t.Fatalf("%d alarms after the rules change, want 3:\n%s", len(want), strings.Join(want, "\n"))
	}
	if a, _ := s.Alarm(first); len(a.Acks) != 2 || a.Ack.By != "李工" {
		t.Errorf("acknowledgements %+v, latest %+v", a.Acks, a.Ack)
	}
	newest := s.Alarms(live.AlarmFilter{Limit: 1})[0]
	if newest.RuleVersion != 2 || newest.Level != 1 {
		t.Errorf("the alarm raised under version 2: %+v", newest)
	}
	check := func(when string) {
		t.Helper()
		if got := histories(t, s); !slices.Equal(got, want) {
			t.Errorf("%s:\n%s\nwant:\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if vs := s.RulesVersions(); len(vs) != 2 || vs[1].By != "规则管理员" {
			t.Errorf("%s: rules versions %+v", when, vs)
		}
		if raw, err := s.RulesJSON(0); err != nil || string(raw) != string(rules) {
			t.Errorf("%s: rules in force %s, %v", when, raw, err)
		}
	}

	j = f.Reopen(t, j)
	s = open()
	check("after a restart")

	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	j = f.Reopen(t, j)
	s = open()
	check("after a checkpoint and a restart")

	// Ten days on, the readings that raised the alarms are past the
	// retention; the open ones stay open.
	c.t = T0.Add(10 * 24 * time.Hour)
	j = f.Reopen(t, j)
	s = open()
	check("after the retention slid")
	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	j = f.Reopen(t, j)
	s = open()
	check("after the retention slid, a checkpoint and a restart")

	// Ids go on from the last one given, never again.
	ingest(t, s, c.t, `{"sensor":3,"metric":"pressure","value":0.3}`, `{"sensor":3,"metric":"pressure","value":0.3}`)
	ingest(t, s, c.t.Add(time.Minute), `{"sensor":2,"metric":"ch4_lel","value":0}`)
	ingest(t, s, c.t.Add(2*time.Minute), `{"sensor":2,"metric":"ch4_lel","value":50}`)
	latest := s.Alarms(live.AlarmFilter{Limit: 1})[0]
	maxID := uint64(0)
	for _, a := range as {
		maxID = max(maxID, a.ID)
	}
	if latest.ID <= newest.ID || latest.ID <= maxID {
		t.Errorf("a new alarm got id %d; ids up to %d were given", latest.ID, max(newest.ID, maxID))
	}
}
