package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/wal"
	"github.com/paulmach/orb"
)

var s0 = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)

// testSensors: a gas detector in a manhole, a second one on the same
// manhole, and a water pressure sensor.
func testSensors() *Sensors {
	f := func(id uint64, code, domain, metrics string, asset uint64, layer string) *layers.Feature {
		return &layers.Feature{ID: id, Layer: layers.Sensor, Geometry: orb.Point{117.26, 31.84}, Props: map[string]any{
			"code": code, "domain": domain, "kind": "x", "metrics": metrics, "asset": float64(asset), "asset_layer": layer, "interval_s": 60.0}}
	}
	r := NewSensors([]*layers.Feature{
		f(1, "GAS-1", "gas", "ch4_lel,battery", 100, layers.DrainNode),
		f(2, "GAS-2", "gas", "ch4_lel", 100, layers.DrainNode),
		f(3, "WAT-1", "water", "pressure", 200, layers.WaterNode),
	})
	for _, s := range r.All() {
		s.AssetKind = "manhole"
	}
	return r
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestService(t *testing.T, j Journal, c *clock) (*Service, *[]Event) {
	t.Helper()
	var events []Event
	s, err := NewService(Options{Sensors: testSensors(), Journal: j, Now: c.now, OnEvent: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	return s, &events
}

func reading(sensor any, metric string, v any, at time.Time) string {
	return fmt.Sprintf(`{"sensor":%v,"metric":%q,"value":%v,"ts":%d}`, sensor, metric, v, at.UnixMilli())
}

func ingest(t *testing.T, s *Service, lines ...string) *IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), strings.NewReader("["+strings.Join(lines, ",")+"]"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestIngestRefusals(t *testing.T) {
	c := &clock{s0}
	s, _ := newTestService(t, nil, c)
	res := ingest(t, s,
		reading(1, "ch4_lel", 1, s0),                                    // 0 good
		reading(9, "ch4_lel", 1, s0),                                    // 1 unknown sensor
		reading(1, "pressure", 1, s0),                                   // 2 metric it does not measure
		reading(1, "ch4_lel", `"NaN"`, s0),                              // 3 not finite
		reading(1, "ch4_lel", 1e6, s0),                                  // 4 out of range
		`{"sensor":1,"metric":"ch4_lel","value":1,"unit":"ppm","ts":0}`, // 5 unit
		reading(1, "ch4_lel", 1, s0.Add(6*time.Minute)),                 // 6 future
		reading(1, "ch4_lel", 1, s0.Add(-31*24*time.Hour)),              // 7 too old
		`{"sensor":1,"metric":"ch4_lel","value":1,"ts":"soon"}`,         // 8 timestamp
		`{"sensor":1,"metric":["ch4_lel"]}`,                             // 9 malformed
		reading(`"GAS-2"`, "ch4_lel", 2, s0),                            // 10 good, by device code
	)
	want := map[int]string{1: CodeUnknownSensor, 2: CodeUnknownMetric, 3: CodeNotFinite, 4: CodeOutOfRange, 5: CodeUnitMismatch,
		6: CodeFuture, 7: CodeTooOld, 8: CodeBadTimestamp, 9: CodeMalformed}
	if res.Accepted != 2 || len(res.Refused) != len(want) {
		t.Fatalf("accepted %d, refused %+v", res.Accepted, res.Refused)
	}
	for _, r := range res.Refused {
		if want[r.Index] != r.Code || r.Message == "" {
			t.Errorf("reading %d: %q %q, want %q", r.Index, r.Code, r.Message, want[r.Index])
		}
	}
}

func TestIngestRefusalsCapped(t *testing.T) {
	c := &clock{s0}
	s, _ := newTestService(t, nil, c)
	lines := make([]string, 0, MaxBatch)
	for i := range MaxBatch - 1 {
		lines = append(lines, reading(`"NOPE-`+strings.Repeat("x", 100)+fmt.Sprint(i)+`"`, "ch4_lel", 1, s0))
	}
	lines = append(lines, reading(1, "ch4_lel", 1, s0))
	res := ingest(t, s, lines...)
	if res.Accepted != 1 || len(res.Refused) != MaxRefusals || res.RefusedTotal != MaxBatch-1 ||
		res.RefusedByCode[CodeUnknownSensor] != MaxBatch-1 || len(res.RefusedByCode) != 1 {
		t.Fatalf("accepted %d, %d refusals listed, total %d, by code %v", res.Accepted, len(res.Refused), res.RefusedTotal, res.RefusedByCode)
	}
	if r := res.Refused[MaxRefusals-1]; r.Index != MaxRefusals-1 || len([]rune(r.Message)) > 100 {
		t.Errorf("last listed refusal %+v: want index %d and the sensor clipped", r, MaxRefusals-1)
	}
	if st := s.Stats(); st.Refused != MaxBatch-1 || st.RefusedByCode[CodeUnknownSensor] != MaxBatch-1 || len(st.RefusedByCode) != 1 {
		t.Errorf("stats count %d refused, by code %v; want %d, all %s", st.Refused, st.RefusedByCode, MaxBatch-1, CodeUnknownSensor)
	}
}

func TestIngestKeepsWhatCameBefore(t *testing.T) {
	c := &clock{s0}
	s, _ := newTestService(t, nil, c)
	body := "[" + reading(1, "ch4_lel", 1, s0) + "," + reading(9, "ch4_lel", 1, s0) + ", {}, " + reading(1, "ch4_lel", 2, s0.Add(time.Minute)) + "]"
	res, err := s.Ingest(context.Background(), strings.NewReader(body), nil)
	if !errors.Is(err, ErrBody) || res == nil || res.Accepted != 1 || res.RefusedTotal != 1 {
		t.Fatalf("err %v, result %+v: want ErrBody after one accepted and one refused", err, res)
	}
	if sn, _ := s.opt.Sensors.Get(1); len(s.SensorState(sn)) != 1 {
		t.Errorf("the reading before the fault is not in the state")
	}
}

func TestAlarmLifecycle(t *testing.T) {
	c := &clock{s0.Add(time.Hour)}
	s, events := newTestService(t, nil, c)
	at := func(m int) time.Time { return s0.Add(time.Duration(m) * time.Minute) }
	// 30 %LEL for two minutes: level 2 (≥ 25) at once; then 60: level 1;
	// then back to 1 %LEL: cleared.
	ingest(t, s, reading(1, "ch4_lel", 30, at(0)), reading(1, "ch4_lel", 31, at(1)))
	as := s.Alarms(AlarmFilter{State: Active})
	if len(as) != 1 || as[0].Level != 2 || as[0].Metric != "ch4_lel" || as[0].Domain != Gas || as[0].Asset != 100 {
		t.Fatalf("after 30 %%LEL: %+v", as)
	}
	id := as[0].ID
	ingest(t, s, reading(1, "ch4_lel", 60, at(2)))
	a, _ := s.Alarm(id)
	if a.Level != 1 || a.MaxLevel != 1 || a.Peak != 60 || a.First != 30 {
		t.Errorf("after 60 %%LEL: level %d max %d first %v peak %v", a.Level, a.MaxLevel, a.First, a.Peak)
	}
	ingest(t, s, reading(1, "ch4_lel", 1, at(3)))
	a, _ = s.Alarm(id)
	if a.State != ClearedState || a.Cleared == nil || !a.Cleared.Equal(at(3)) || a.Level != 0 {
		t.Errorf("after 1 %%LEL: %+v", a)
	}
	var kinds []string
	for _, ch := range a.Changes {
		kinds = append(kinds, ch.Kind)
	}
	if strings.Join(kinds, ",") != "raised,escalated,cleared" {
		t.Errorf("changes %v", kinds)
	}
	if len(s.Alarms(AlarmFilter{State: Active})) != 0 || len(s.Alarms(AlarmFilter{State: ClearedState})) != 1 {
		t.Error("state filters")
	}
	nAlarm := 0
	for _, e := range *events {
		if e.Kind == "alarm" {
			nAlarm++
		}
	}
	if nAlarm != 3 {
		t.Errorf("%d alarm events, want 3", nAlarm)
	}
	// A new breach is a new alarm.
	ingest(t, s, reading(1, "ch4_lel", 55, at(4)))
	if as := s.Alarms(AlarmFilter{State: Active}); len(as) != 1 || as[0].ID == id {
		t.Errorf("second breach: %+v", as)
	}
}

func TestIncidentGroupsAnAsset(t *testing.T) {
	c := &clock{s0.Add(time.Hour)}
	s, _ := newTestService(t, nil, c)
	ingest(t, s, reading(1, "ch4_lel", 60, s0), reading(2, "ch4_lel", 70, s0.Add(2*time.Minute)), reading(3, "pressure", 0.01, s0.Add(2*time.Minute)))
	as := s.Alarms(AlarmFilter{Domain: Gas})
	if len(as) != 2 || as[0].Incident != as[1].Incident || as[0].Incident != min(as[0].ID, as[1].ID) {
		t.Errorf("two detectors in one manhole: %+v", as)
	}
}

func TestDuplicatesAreIdempotent(t *testing.T) {
	c := &clock{s0.Add(time.Hour)}
	j, err := wal.Open(t.TempDir(), wal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, _ := newTestService(t, WALJournal{Log: j}, c)
	start := j.LastLSN() // the rules in force, journalled as version 1
	r := reading(1, "ch4_lel", 3, s0)
	if res := ingest(t, s, r, r); res.Accepted != 2 || len(res.Refused) != 0 {
		t.Fatalf("%+v", res)
	}
	ingest(t, s, r)
	if got := j.LastLSN() - start; got != 1 {
		t.Errorf("journal holds %d records, want 1", got)
	}
	if st := s.Stats(); st.Duplicates != 2 || st.Accepted != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestRebuildFromJournal(t *testing.T) {
	dir := t.TempDir()
	c := &clock{s0.Add(time.Hour)}
	j, err := wal.Open(dir, wal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newTestService(t, WALJournal{Log: j}, c)
	ingest(t, s, reading(1, "ch4_lel", 30, s0), reading(3, "pressure", 0.04, s0))
	before := s.Alarms(AlarmFilter{})
	if _, err := s.Acknowledge(context.Background(), before[0].ID, "值班员", "checking"); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j, err = wal.Open(dir, wal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s2, _ := newTestService(t, WALJournal{Log: j}, c)
	after := s2.Alarms(AlarmFilter{})
	if len(after) != len(before) {
		t.Fatalf("%d alarms after the restart, want %d", len(after), len(before))
	}
	for i := range after {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Level != b.Level || a.Sensor != b.Sensor || !a.Started.Equal(b.Started) {
			t.Errorf("alarm %d: %+v, want %+v", i, a, b)
		}
	}
	if a, _ := s2.Alarm(before[0].ID); a.Ack == nil || a.Ack.By != "值班员" || a.Ack.Note != "checking" {
		t.Errorf("ack after the restart: %+v", a.Ack)
	}
	if _, err := s2.Acknowledge(context.Background(), 999, "x", ""); err == nil {
		t.Error("acknowledged an alarm that does not exist")
	}
}

func TestOffline(t *testing.T) {
	c := &clock{s0}
	s, events := newTestService(t, nil, c)
	ingest(t, s, reading(1, "ch4_lel", 1, s0))
	c.t = s0.Add(2 * time.Minute)
	s.CheckStale()
	if st := s.SensorState(mustSensor(t, s, 1)); st[0].Health != "online" {
		t.Fatalf("after 2 min: %+v", st)
	}
	c.t = s0.Add(4 * time.Minute) // 3 × 60 s
	s.CheckStale()
	if st := s.SensorState(mustSensor(t, s, 1)); st[0].Health != "offline" || st[0].Level != 0 {
		t.Errorf("after 4 min: %+v", st)
	}
	if len(s.Alarms(AlarmFilter{})) != 0 {
		t.Error("offline raised a danger alarm")
	}
	last := (*events)[len(*events)-1]
	if last.Kind != "sensor" || last.Health != "offline" {
		t.Errorf("last event %+v", last)
	}
}

func mustSensor(t *testing.T, s *Service, id uint64) *Sensor {
	t.Helper()
	sn, ok := s.opt.Sensors.Get(id)
	if !ok {
		t.Fatalf("no sensor %d", id)
	}
	return sn
}

// Batches ingested side by side share the journal's fsyncs; they are
// applied in the order the journal holds them, so a restart rebuilds the
// very same alarms, and a reading sent twice at once is kept once.
func TestConcurrentIngestRebuilds(t *testing.T) {
	dir := t.TempDir()
	c := &clock{s0.Add(2 * time.Hour)}
	j, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	curves := series.New(series.Options{Now: c.now})
	s, err := NewService(Options{Sensors: testSensors(), Journal: WALJournal{Log: j}, Series: curves, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	// Eight senders; each minute's readings go out twice, from two of them.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for m := range 60 {
				if m%4 != g%4 {
					continue
				}
				at := s0.Add(time.Duration(m) * time.Minute)
				lel := []float64{1, 8, 30, 60, 20, 3}[(m/5)%6]
				if _, err := s.Ingest(context.Background(), strings.NewReader("["+strings.Join([]string{
					reading(1, "ch4_lel", lel, at), reading(2, "ch4_lel", lel/2, at), reading(3, "pressure", 0.3-lel/300, at),
				}, ",")+"]"), nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	before := s.Alarms(AlarmFilter{})
	if st := s.Stats(); st.Duplicates != 180 {
		t.Errorf("stats %+v, want 180 duplicates", st)
	}
	j.Close()

	j, err = wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s2, _ := newTestService(t, WALJournal{Log: j}, c)
	after := s2.Alarms(AlarmFilter{})
	if len(after) == 0 || len(after) != len(before) {
		t.Fatalf("%d alarms after the restart, want %d (and some)", len(after), len(before))
	}
	for i := range after {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Level != b.Level || a.MaxLevel != b.MaxLevel || a.State != b.State || len(a.Changes) != len(b.Changes) {
			t.Errorf("alarm %d after the restart: %+v, want %+v", i, a, b)
		}
	}
}
