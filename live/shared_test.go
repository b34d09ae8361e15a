package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// logs are the two shared logs of a test cluster, in memory: every
// member follows both, in order, when pump is called.
type logs struct {
	mu       sync.Mutex
	readings [][]Reading
	events   []logged
	members  []*member
	// owner names the member that owns a sensor.
	owner func(sensor uint64) *member
}

type logged struct {
	evs  []HistoryEvent
	from *member
}

// member is one instance of the test cluster: its service, where it is in
// the logs, and the changes it told.
type member struct {
	l         *logs
	svc       *Service
	dead      bool
	nReadings int
	nEvents   int
	told      []Event
	failNext  bool // the next PublishEvents fails, as a crash before storing would
}

func (m *member) PublishReadings(_ context.Context, rs []Reading) error {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	m.l.readings = append(m.l.readings, slices.Clone(rs))
	return nil
}

func (m *member) PublishEvents(_ context.Context, evs []HistoryEvent) error {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	if m.failNext {
		m.failNext = false
		return errors.New("the stream is gone")
	}
	m.l.events = append(m.l.events, logged{slices.Clone(evs), m})
	return nil
}

func (m *member) Owns(sensor uint64) bool { return m.l.owner(sensor) == m }

// AlarmID gives each of the three sensors of testSensors a residue of its
// own, as the partitions do.
func (m *member) AlarmID(sensor, after uint64) uint64 {
	id := after + 1
	for id%3 != sensor%3 {
		id++
	}
	return id
}

func newLogs(t *testing.T, n int, c *clock) *logs {
	l := &logs{}
	sensors := testSensors()
	for range n {
		m := &member{l: l}
		svc, err := NewService(Options{Sensors: sensors, Now: c.now, Shared: m, OnEvent: func(e Event) { m.told = append(m.told, e) }})
		if err != nil {
			t.Fatal(err)
		}
		m.svc = svc
		l.members = append(l.members, m)
	}
	l.owner = func(sensor uint64) *member { return l.members[int(sensor)%n] }
	l.pump(t)
	for _, m := range l.members {
		// One after the other, as instances start: the first puts the
		// default rules in force, the others follow them.
		if err := m.svc.Joined(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.pump(t)
	}
	return l
}

// pump has every live member follow both logs to their ends.
func (l *logs) pump(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for moved := true; moved; {
		moved = false
		for _, m := range l.members {
			if m.dead {
				continue
			}
			l.mu.Lock()
			evs, rs := l.events[m.nEvents:], l.readings[m.nReadings:]
			m.nEvents, m.nReadings = len(l.events), len(l.readings)
			l.mu.Unlock()
			for i, e := range evs {
				moved = true
				if err := m.svc.ApplyEvents(uint64(m.nEvents-len(evs)+i+1), e.evs, e.from == m); err != nil {
					t.Fatal(err)
				}
			}
			for i, batch := range rs {
				moved = true
				// A batch is of one owner's sensors, as a partition's is.
				for _, r := range batch {
					_ = m.svc.ApplyReadings(ctx, uint64(m.nReadings-len(rs)+i+1), []Reading{r}, m.Owns(r.Sensor))
				}
			}
		}
	}
}

func (m *member) alarmsTold() []string {
	var out []string
	for _, e := range m.told {
		if e.Kind == "alarm" {
			out = append(out, string(e.Alarm.State)+"/"+e.Alarm.SensorCode)
		}
	}
	return out
}

// TestSharedOneDecision: readings taken by any instance reach all; the
// sensor's owner alone decides and tells, and every instance then has the
// same alarm, acknowledgements and rules.
func TestSharedOneDecision(t *testing.T) {
	c := &clock{s0.Add(time.Hour)}
	l := newLogs(t, 3, c)
	a, b, cc := l.members[0], l.members[1], l.members[2]
	if got := len(l.events); got != 1 {
		t.Fatalf("%d decisions after three instances joined, want 1 (the default rules, once)", got)
	}
	at := func(m int) time.Time { return s0.Add(time.Duration(m) * time.Minute) }
	// Sensor 1 is b's (1 % 3); the readings come to c.
	ingest(t, cc.svc, reading(1, "ch4_lel", 30, at(0)), reading(1, "ch4_lel", 31, at(1)))
	if len(cc.svc.Alarms(AlarmFilter{})) != 0 {
		t.Error("the ingesting instance applied readings before the log had them")
	}
	l.pump(t)
	// The same reading sent again, to another instance, changes nothing.
	ingest(t, a.svc, reading(1, "ch4_lel", 31, at(1)))
	l.pump(t)
	var want []Alarm
	for i, m := range l.members {
		as := m.svc.Alarms(AlarmFilter{})
		if len(as) != 1 || as[0].Level != 2 || as[0].Last != 31 || as[0].ID%3 != 1 {
			t.Fatalf("member %d: alarms %+v", i, as)
		}
		if want == nil {
			want = as
		} else if as[0].ID != want[0].ID || !as[0].Started.Equal(want[0].Started) {
			t.Errorf("member %d has alarm %d started %v, member 0 %d started %v", i, as[0].ID, as[0].Started, want[0].ID, want[0].Started)
		}
		if st := m.svc.SensorState(mustSensor(t, m.svc, 1)); len(st) != 1 || st[0].Value != 31 || st[0].Level != 2 {
			t.Errorf("member %d: sensor state %+v", i, st)
		}
	}
	if got := strings.Join(b.alarmsTold(), ","); got != "active/GAS-1" {
		t.Errorf("the owner told %q, want the alarm raised once", got)
	}
	if len(a.alarmsTold())+len(cc.alarmsTold()) != 0 {
		t.Errorf("instances that do not own the sensor told %v and %v", a.alarmsTold(), cc.alarmsTold())
	}
	// An acknowledgement on a reaches b and c.
	id := want[0].ID
	if _, err := a.svc.Acknowledge(context.Background(), id, "duty", "on it"); err != nil {
		t.Fatal(err)
	}
	l.pump(t)
	for i, m := range l.members {
		if got, _ := m.svc.Alarm(id); got.Ack == nil || got.Ack.By != "duty" || len(got.Acks) != 1 {
			t.Errorf("member %d: acks %+v", i, got.Acks)
		}
	}
	// Rules put on c are in force everywhere: a version of its own.
	raw := DefaultRulesJSON()
	rs, err := ParseRules(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.svc.PutRules(context.Background(), rs, raw, "admin"); err != nil {
		t.Fatal(err)
	}
	l.pump(t)
	for i, m := range l.members {
		if vs := m.svc.RulesVersions(); len(vs) != 2 || vs[1].By != "admin" {
			t.Errorf("member %d: versions %+v", i, vs)
		}
	}
	// Cleared by its owner, on every instance.
	ingest(t, a.svc, reading(1, "ch4_lel", 1, at(2)))
	l.pump(t)
	for i, m := range l.members {
		if got, _ := m.svc.Alarm(id); got.State != ClearedState {
			t.Errorf("member %d: alarm %d is %s", i, id, got.State)
		}
	}
}

// TestSharedTakeover: an owner dies after its readings were stored and
// before its decision was; the next owner, having followed the readings,
// reconciles and raises the alarm once, and takes the next readings' rules.
func TestSharedTakeover(t *testing.T) {
	c := &clock{s0.Add(time.Hour)}
	l := newLogs(t, 2, c)
	a, b := l.members[0], l.members[1]
	at := func(m int) time.Time { return s0.Add(time.Duration(m) * time.Minute) }
	// Sensor 1 is b's; b's decision on it is never stored.
	b.failNext = true
	ingest(t, a.svc, reading(1, "ch4_lel", 30, at(0)))
	l.pump(t)
	if as := a.svc.Alarms(AlarmFilter{}); len(as) != 0 {
		t.Fatalf("a has alarms %+v before b's decision was stored", as)
	}
	b.dead = true
	l.owner = func(uint64) *member { return a }
	if err := a.svc.Reconcile(context.Background(), func(sensor uint64) bool { return sensor == 1 }); err != nil {
		t.Fatal(err)
	}
	as := a.svc.Alarms(AlarmFilter{})
	if len(as) != 1 || as[0].Level != 2 || as[0].SensorCode != "GAS-1" {
		t.Fatalf("after the takeover: alarms %+v", as)
	}
	if got := a.alarmsTold(); len(got) != 1 {
		t.Errorf("the new owner told %v, want the alarm raised once", got)
	}
	if len(l.events) != 2 || !l.events[1].evs[0].Reconciled {
		t.Errorf("the log holds %d decisions; the takeover's reconciled: %+v", len(l.events), l.events[len(l.events)-1])
	}
	// Reconciling again finds nothing to do.
	if err := a.svc.Reconcile(context.Background(), func(uint64) bool { return true }); err != nil || len(l.events) != 2 {
		t.Errorf("a second reconcile: %v, %d decisions", err, len(l.events))
	}
	ingest(t, a.svc, reading(1, "ch4_lel", 1, at(1)))
	l.pump(t)
	if got, _ := a.svc.Alarm(as[0].ID); got.State != ClearedState {
		t.Errorf("the new owner left the alarm %s", got.State)
	}
}

// TestSharedRefusesAJournal: the logs are the journal.
func TestSharedRefusesAJournal(t *testing.T) {
	j := WALJournal{}
	if _, err := NewService(Options{Sensors: testSensors(), Shared: &member{}, Journal: j}); err == nil {
		t.Error("a shared service with a journal of its own: no error")
	}
}

// TestSharedReadingsRoundTrip: a batch reads back as written; a cut or
// altered one is refused with ErrBatch.
func TestSharedReadingsRoundTrip(t *testing.T) {
	rs := []Reading{{Sensor: 1, Metric: "ch4_lel", Value: 3.5, Time: s0}, {Sensor: 1 << 40, Metric: "pressure", Value: -0.25, Unit: "kPa", Time: s0.Add(time.Millisecond)}}
	b := EncodeReadings(rs)
	got, err := DecodeReadings(b)
	if err != nil || len(got) != 2 {
		t.Fatalf("DecodeReadings: %v, %v", got, err)
	}
	for i := range rs {
		if got[i].Sensor != rs[i].Sensor || got[i].Metric != rs[i].Metric || got[i].Value != rs[i].Value || got[i].Unit != rs[i].Unit || !got[i].Time.Equal(rs[i].Time) {
			t.Errorf("reading %d: %+v, want %+v", i, got[i], rs[i])
		}
	}
	for _, bad := range [][]byte{nil, {2}, b[:len(b)-1], append(slices.Clone(b), 0), {1, 0xff, 0xff, 0xff, 0xff, 0x0f}} {
		if _, err := DecodeReadings(bad); !errors.Is(err, ErrBatch) {
			t.Errorf("DecodeReadings(%x): %v, want ErrBatch", bad, err)
		}
	}
	evs := []HistoryEvent{{Kind: EventRaised, Alarm: 4, Sensor: 1, Metric: "ch4_lel", At: s0, To: 2}}
	eb, err := EncodeEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeEvents(eb); err != nil || len(got) != 1 || got[0].Alarm != 4 {
		t.Errorf("DecodeEvents: %+v, %v", got, err)
	}
	if _, err := DecodeEvents([]byte("{")); !errors.Is(err, ErrBatch) {
		t.Errorf("DecodeEvents of a cut message: %v", err)
	}
}

func FuzzDecodeReadings(f *testing.F) {
	f.Add(EncodeReadings([]Reading{{Sensor: 7, Metric: "flow", Value: 1, Time: s0}}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := DecodeReadings(b)
		if err != nil {
			return
		}
		again, err := DecodeReadings(EncodeReadings(rs))
		if err != nil || len(again) != len(rs) {
			t.Fatalf("a decoded batch does not read back: %v", err)
		}
	})
}

// TestSharedCheckpoint: a shared state checkpointed and restored into a new
// service stands where it stood in both logs, and following them from
// there it ends as the others do.
func TestSharedCheckpoint(t *testing.T) {
	c := &clock{s0.Add(time.Hour)}
	l := newLogs(t, 2, c)
	a, b := l.members[0], l.members[1]
	at := func(m int) time.Time { return s0.Add(time.Duration(m) * time.Minute) }
	ingest(t, a.svc, reading(1, "ch4_lel", 30, at(0)), reading(2, "ch4_lel", 60, at(0)))
	l.pump(t)
	data, pos, err := b.svc.SharedCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	if pos.Readings != uint64(len(l.readings)) || pos.Decisions != uint64(len(l.events)) {
		t.Fatalf("checkpoint at %+v; the logs hold %d readings and %d decisions", pos, len(l.readings), len(l.events))
	}
	// More comes after the checkpoint.
	ingest(t, a.svc, reading(1, "ch4_lel", 1, at(1)))
	l.pump(t)
	// b starts again from its checkpoint.
	nb := &member{l: l, nReadings: int(pos.Readings), nEvents: int(pos.Decisions)}
	svc, err := NewService(Options{Sensors: testSensors(), Now: c.now, Shared: nb, OnEvent: func(e Event) { nb.told = append(nb.told, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.RestoreShared(data); err != nil || got != pos {
		t.Fatalf("RestoreShared: %+v, %v; want %+v", got, err, pos)
	}
	nb.svc = svc
	b.dead = true
	l.members = append(l.members, nb)
	l.owner = func(sensor uint64) *member {
		if sensor%2 == 0 {
			return a
		}
		return nb
	}
	l.pump(t)
	want, got := a.svc.Alarms(AlarmFilter{}), svc.Alarms(AlarmFilter{})
	if len(want) != 2 || fmt.Sprint(want) != fmt.Sprint(got) {
		t.Errorf("restored: %+v\nwant %+v", got, want)
	}
	if vs := svc.RulesVersions(); len(vs) != 1 {
		t.Errorf("restored versions %+v", vs)
	}
}
