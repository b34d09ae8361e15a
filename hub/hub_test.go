package hub

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// city is a toy live state: the latest value of each sensor, published to
// a hub and answered as its snapshots.
type city struct {
	mu     sync.Mutex
	where  map[uint64]orb.Point
	values map[uint64]int
	hub    *Hub
}

func newCity(t *testing.T, o Options) *city {
	t.Helper()
	c := &city{where: map[uint64]orb.Point{}, values: map[uint64]int{}}
	o.Snapshot = c.snapshot
	if o.FirstSeq == 0 {
		o.FirstSeq = 1000
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	c.hub = New(o)
	t.Cleanup(c.hub.Close)
	return c
}

// set changes a sensor's value and publishes it, as the live state does:
// under its own lock.
func (c *city) set(id uint64, p orb.Point, v int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.where[id], c.values[id] = p, v
	c.hub.Publish(Event{Topic: Sensors, ID: id, Point: p, Located: true, Data: v})
}

func (c *city) snapshot(sub Subscription) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Event
	for id, v := range c.values {
		out = append(out, Event{Topic: Sensors, ID: id, Point: c.where[id], Located: true, Data: v})
	}
	return out
}

// flush waits until the hub has dispatched every event published.
func flush(t *testing.T, h *Hub) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for h.cursor.Load() != h.Seq() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the hub did not dispatch its events")
		}
	}
}

func take(t *testing.T, c *Client) []Message {
	t.Helper()
	ms, err := c.Take()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func next(t *testing.T, c *Client) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// values reads the events as id → value.
func values(evs []*Event) map[uint64]int {
	out := map[uint64]int{}
	for _, e := range evs {
		out[e.ID] = e.Data.(int)
	}
	return out
}

var (
	hefei = orb.Bound{Min: orb.Point{117.0, 31.7}, Max: orb.Point{117.4, 32.0}}
	in    = orb.Point{117.2, 31.8}
	out   = orb.Point{118.5, 31.8}
)

func bbox(b orb.Bound, topics ...Topic) Subscription {
	if len(topics) == 0 {
		topics = []Topic{Sensors}
	}
	return Subscription{Topics: topics, BBox: &b, Zoom: 12}
}

func TestSnapshotThenOrderedDeltas(t *testing.T) {
	c := newCity(t, Options{})
	c.set(1, in, 10)
	c.set(2, out, 20)
	cl, err := c.hub.Subscribe(bbox(hefei))
	if err != nil {
		t.Fatal(err)
	}
	ms := next(t, cl)
	if len(ms) != 1 || ms[0].Kind != Snapshot || ms[0].Reason != ReasonSubscribe {
		t.Fatalf("first messages = %+v, want one snapshot", ms)
	}
	if got := values(ms[0].Events); len(got) != 1 || got[1] != 10 {
		t.Errorf("snapshot = %v, want sensor 1 only", got)
	}
	last := ms[0].Seq
	for i := range 5 {
		c.set(uint64(10+i), in, i)
		ms := next(t, cl)
		if len(ms) != 1 || ms[0].Kind != Delta {
			t.Fatalf("messages = %+v, want a delta", ms)
		}
		if ms[0].Seq <= last {
			t.Errorf("delta seq %d after %d", ms[0].Seq, last)
		}
		last = ms[0].Seq
		if got := values(ms[0].Events); len(got) != 1 || got[uint64(10+i)] != i {
			t.Errorf("delta %d = %v", i, got)
		}
	}
}

func TestFiltering(t *testing.T) {
	c := newCity(t, Options{})
	for _, tc := range []struct {
		name string
		sub  Subscription
		want []uint64
	}{
		{"Viewport", bbox(orb.Bound{Min: orb.Point{117.1, 31.7}, Max: orb.Point{117.21, 31.9}}), []uint64{1, 2}},
		// 1 is at the centre, 2 about 800 m away, 3 about 1.9 km away.
		{"Circle", Subscription{Topics: []Topic{Sensors}, Circle: &Circle{Center: orb.Point{117.2, 31.8}, Radius: 1000}}, []uint64{1, 2}},
		{"SmallCircle", Subscription{Topics: []Topic{Sensors}, Circle: &Circle{Center: orb.Point{117.2, 31.8}, Radius: 100}}, []uint64{1}},
		{"OtherTopic", bbox(hefei, Alarms), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := c.hub.Subscribe(tc.sub)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			next(t, cl) // the snapshot
			c.set(1, orb.Point{117.2, 31.8}, 1)
			c.set(2, orb.Point{117.2, 31.8072}, 2)
			c.set(3, orb.Point{117.22, 31.8}, 3)
			c.set(4, out, 4)
			flush(t, c.hub)
			got := map[uint64]int{}
			for _, m := range take(t, cl) {
				for id, v := range values(m.Events) {
					got[id] = v
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want ids %v", got, tc.want)
			}
			for _, id := range tc.want {
				if _, ok := got[id]; !ok {
					t.Errorf("got %v, want ids %v", got, tc.want)
				}
			}
		})
	}
}

func TestUpdateWithoutReconnect(t *testing.T) {
	c := newCity(t, Options{})
	c.set(1, in, 1)
	c.set(2, out, 2)
	cl, err := c.hub.Subscribe(bbox(hefei))
	if err != nil {
		t.Fatal(err)
	}
	first := next(t, cl)[0]
	shanghai := orb.Bound{Min: orb.Point{118, 31}, Max: orb.Point{119, 32}}
	if err := cl.Update(bbox(shanghai)); err != nil {
		t.Fatal(err)
	}
	ms := next(t, cl)
	if len(ms) != 1 || ms[0].Kind != Snapshot || ms[0].Reason != ReasonUpdate || ms[0].Seq < first.Seq {
		t.Fatalf("after update: %+v", ms)
	}
	if got := values(ms[0].Events); len(got) != 1 || got[2] != 2 {
		t.Errorf("snapshot of the new viewport = %v, want sensor 2", got)
	}
	c.set(1, in, 11)
	c.set(2, out, 22)
	ms = next(t, cl)
	if got := values(ms[0].Events); len(got) != 1 || got[2] != 22 {
		t.Errorf("delta = %v, want sensor 2 only", got)
	}
	if err := cl.Update(Subscription{Topics: []Topic{"weather"}, BBox: &hefei}); err == nil {
		t.Error("an unknown topic was taken")
	}
}

func TestResume(t *testing.T) {
	c := newCity(t, Options{})
	a, err := c.hub.Subscribe(bbox(hefei))
	if err != nil {
		t.Fatal(err)
	}
	next(t, a)
	for i := range 10 {
		c.set(uint64(i), in, i)
	}
	flush(t, c.hub)
	ms := take(t, a)
	last := ms[len(ms)-1].Seq
	a.Close()
	// Gone for a while: changes go on.
	for i := range 5 {
		c.set(uint64(i), in, 100+i)
	}
	c.set(99, out, 99)
	flush(t, c.hub)

	sub := bbox(hefei)
	sub.Resume = last
	b, err := c.hub.Subscribe(sub)
	if err != nil {
		t.Fatal(err)
	}
	ms = next(t, b)
	if len(ms) != 1 || ms[0].Kind != Delta || !ms[0].Resumed {
		t.Fatalf("on resume: %+v, want one resumed delta", ms)
	}
	got := values(ms[0].Events)
	want := map[uint64]int{0: 100, 1: 101, 2: 102, 3: 103, 4: 104}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("resumed delta = %v, want %v (no gap, no duplicate)", got, want)
	}
	for i, e := range ms[0].Events {
		if e.Seq <= last || i > 0 && e.Seq <= ms[0].Events[i-1].Seq {
			t.Errorf("event %d seq %d after %d", i, e.Seq, last)
		}
	}

	t.Run("NothingMissed", func(t *testing.T) {
		sub := bbox(hefei)
		sub.Resume = c.hub.Seq()
		cl, err := c.hub.Subscribe(sub)
		if err != nil {
			t.Fatal(err)
		}
		ms := next(t, cl)
		if len(ms) != 1 || !ms[0].Resumed || len(ms[0].Events) != 0 || ms[0].Seq != sub.Resume {
			t.Errorf("resume at the head: %+v, want an empty resumed delta", ms)
		}
	})
}

func TestResumeTooOld(t *testing.T) {
	c := newCity(t, Options{History: 8})
	for i := range 20 {
		c.set(uint64(i), in, i)
	}
	flush(t, c.hub)
	for _, resume := range []uint64{1001, 1, c.hub.Seq() + 5} {
		sub := bbox(hefei)
		sub.Resume = resume
		cl, err := c.hub.Subscribe(sub)
		if err != nil {
			t.Fatal(err)
		}
		ms := next(t, cl)
		if len(ms) != 2 || ms[0].Kind != Resync || ms[0].Reason != ReasonTooOld || ms[1].Kind != Snapshot {
			t.Fatalf("resume from %d: %+v, want resync then snapshot", resume, ms)
		}
		if len(ms[1].Events) != 20 {
			t.Errorf("fresh snapshot has %d sensors, want 20", len(ms[1].Events))
		}
		cl.Close()
	}

	t.Run("Age", func(t *testing.T) {
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		c := newCity(t, Options{MaxAge: time.Minute, Now: clock})
		c.set(1, in, 1)
		flush(t, c.hub)
		seq := c.hub.Seq()
		c.set(1, in, 2)
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		c.set(1, in, 3)
		flush(t, c.hub)
		sub := bbox(hefei)
		sub.Resume = seq
		cl, err := c.hub.Subscribe(sub)
		if err != nil {
			t.Fatal(err)
		}
		if ms := next(t, cl); ms[0].Kind != Resync {
			t.Errorf("resume past MaxAge: %+v, want a resync", ms)
		}
	})
}

func TestSlowClient(t *testing.T) {
	t.Run("Coalesced", func(t *testing.T) {
		c := newCity(t, Options{})
		cl, _ := c.hub.Subscribe(bbox(hefei))
		next(t, cl)
		for i := range 1000 {
			c.set(uint64(i%3), in, i)
		}
		flush(t, c.hub)
		if n := cl.Pending(); n != 3 {
			t.Errorf("pending = %d, want 3 features", n)
		}
		ms := take(t, cl)
		if len(ms) != 1 || ms[0].Kind != Delta {
			t.Fatalf("%+v", ms)
		}
		got := values(ms[0].Events)
		if got[0] != 999 || got[1] != 997 || got[2] != 998 || len(ms[0].Events) != 3 {
			t.Errorf("coalesced = %v, want the latest of each", got)
		}
		if ms[0].Seq != c.hub.Seq() {
			t.Errorf("seq = %d, want the last event's %d", ms[0].Seq, c.hub.Seq())
		}
	})
	t.Run("Resync", func(t *testing.T) {
		c := newCity(t, Options{MaxPending: 10})
		cl, _ := c.hub.Subscribe(bbox(hefei))
		next(t, cl)
		for i := range 50 {
			c.set(uint64(i), in, i)
		}
		flush(t, c.hub)
		if n := cl.Pending(); n != 0 {
			t.Errorf("pending = %d, want the queue dropped", n)
		}
		ms := take(t, cl)
		if len(ms) != 2 || ms[0].Kind != Resync || ms[0].Reason != ReasonSlow || ms[1].Kind != Snapshot || len(ms[1].Events) != 50 {
			t.Fatalf("%+v, want a resync and a snapshot of 50", ms)
		}
	})
}

func TestPublishNeverBlocks(t *testing.T) {
	c := newCity(t, Options{MaxPending: 100})
	stuck, _ := c.hub.Subscribe(bbox(hefei)) // never reads
	reader, _ := c.hub.Subscribe(bbox(hefei))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got sync.WaitGroup
	got.Add(1)
	final := 0
	go func() {
		defer got.Done()
		for {
			ms, err := reader.Next(ctx)
			if err != nil {
				return
			}
			for _, m := range ms {
				if v, ok := values(m.Events)[7]; ok {
					final = v
				}
				if final == -1 {
					return
				}
			}
		}
	}()
	// The reader may fall behind and resync: its snapshot holds what set
	// stored. Publishing finishes although one client never reads.
	const n = 200_000
	for i := range n {
		c.set(uint64(i%1000), in, i)
	}
	c.set(7, in, -1)
	got.Wait()
	if p := stuck.Pending(); p > 100 {
		t.Errorf("the stuck client holds %d pending, want at most 100", p)
	}
}

// TestConverges has clients that read at random paces, move their viewport
// and reconnect with resume, and checks that each ends with the true state
// of its region.
func TestConverges(t *testing.T) {
	c := newCity(t, Options{MaxPending: 40, History: 500})
	rnd := rand.New(rand.NewPCG(1, 2))
	point := func() orb.Point { return orb.Point{117 + rnd.Float64()*0.4, 31.7 + rnd.Float64()*0.3} }
	views := []orb.Bound{hefei, {Min: orb.Point{117, 31.7}, Max: orb.Point{117.2, 31.85}}, {Min: orb.Point{117.2, 31.85}, Max: orb.Point{117.4, 32}}}
	type viewer struct {
		cl    *Client
		view  orb.Bound
		state map[uint64]int
		last  uint64
	}
	apply := func(v *viewer, ms []Message) {
		for _, m := range ms {
			if m.Kind == Resync {
				continue
			}
			if m.Seq < v.last {
				t.Fatalf("seq went back from %d to %d", v.last, m.Seq)
			}
			v.last = m.Seq
			if m.Kind == Snapshot {
				v.state = map[uint64]int{}
			}
			for id, x := range values(m.Events) {
				v.state[id] = x
			}
		}
	}
	var vs []*viewer
	for i := range 12 {
		v := &viewer{view: views[i%3], state: map[uint64]int{}}
		v.cl, _ = c.hub.Subscribe(bbox(v.view))
		vs = append(vs, v)
	}
	where := map[uint64]orb.Point{}
	for step := range 5000 {
		id := uint64(rnd.IntN(60))
		if _, ok := where[id]; !ok {
			where[id] = point()
		}
		c.set(id, where[id], step)
		if step%50 == 0 {
			flush(t, c.hub)
			v := vs[rnd.IntN(len(vs))]
			switch rnd.IntN(4) {
			case 0:
				v.view = views[rnd.IntN(3)]
				v.cl.Update(bbox(v.view))
			case 1:
				v.cl.Close()
				sub := bbox(v.view)
				sub.Resume = v.last
				v.cl, _ = c.hub.Subscribe(sub)
			default:
				apply(v, take(t, v.cl))
			}
		}
	}
	flush(t, c.hub)
	for i, v := range vs {
		apply(v, take(t, v.cl))
		want := map[uint64]int{}
		for id, p := range where {
			if v.view.Contains(p) {
				want[id] = c.values[id]
			}
		}
		if fmt.Sprint(v.state) != fmt.Sprint(want) {
			t.Errorf("viewer %d holds %v, want %v", i, v.state, want)
		}
	}
}

func TestRiskZoneVersion(t *testing.T) {
	c := newCity(t, Options{})
	cl, _ := c.hub.Subscribe(bbox(hefei, RiskZones))
	next(t, cl)
	var version atomic.Uint64
	version.Store(1)
	read := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.hub.WatchVersion(ctx, RiskZones, func() uint64 { defer once.Do(func() { close(read) }); return version.Load() }, time.Millisecond)
	<-read // the version the watch starts from
	version.Store(7)
	ms := next(t, cl)
	if len(ms[0].Events) != 1 || ms[0].Events[0].Data != (LayerVersion{7}) {
		t.Errorf("risk zones: %+v, want version 7", ms)
	}
}

func TestClose(t *testing.T) {
	c := newCity(t, Options{MaxClients: 2})
	a, _ := c.hub.Connect()
	if _, err := c.hub.Connect(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.hub.Connect(); err != ErrFull {
		t.Errorf("third client: %v, want ErrFull", err)
	}
	a.Close()
	if _, err := a.Take(); err != ErrClosed {
		t.Errorf("take after close: %v", err)
	}
	if c.hub.Len() != 1 {
		t.Errorf("len = %d", c.hub.Len())
	}
	c.hub.Close()
	if _, err := c.hub.Connect(); err != ErrClosed {
		t.Errorf("connect after close: %v", err)
	}
}

// A sensor's new value waits up to DeferFor, coalesced; a change of state
// goes at once and takes what waits with it.
func TestDeferred(t *testing.T) {
	c := newCity(t, Options{DeferFor: 300 * time.Millisecond})
	cl, _ := c.hub.Subscribe(bbox(hefei))
	next(t, cl) // the snapshot
	for v := range 3 {
		c.hub.Publish(Event{Topic: Sensors, ID: 1, Point: in, Located: true, Deferred: true, Data: v})
	}
	flush(t, c.hub)
	if ms := take(t, cl); len(ms) != 0 {
		t.Fatalf("deferred values went at once: %+v", ms)
	}
	ms := next(t, cl) // after DeferFor
	if len(ms) != 1 || len(ms[0].Events) != 1 || values(ms[0].Events)[1] != 2 {
		t.Fatalf("%+v, want the latest value alone", ms)
	}
	c.hub.Publish(Event{Topic: Sensors, ID: 1, Point: in, Located: true, Deferred: true, Data: 5})
	c.hub.Publish(Event{Topic: Sensors, ID: 2, Point: in, Located: true, Data: 6})
	flush(t, c.hub)
	if ms := take(t, cl); len(ms) != 1 || len(values(ms[0].Events)) != 2 {
		t.Fatalf("%+v, want both at once", ms)
	}
}
