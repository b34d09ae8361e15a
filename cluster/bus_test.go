package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/onemap/onemap/hub"
)

// asSent is what the server's WebSocket writer sends for an event's Data:
// a json.RawMessage as is, anything else as json.Marshal writes it.
func asSent(t *testing.T, d any) []byte {
	t.Helper()
	if raw, ok := d.(json.RawMessage); ok {
		return bytes.TrimSpace(raw) // the server's writer sends it inside an object: the same JSON
	}
	p, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEventRoundTrip(t *testing.T) {
	at := time.Date(2026, 6, 1, 8, 30, 15, 123456789, time.FixedZone("CST", 8*3600))
	cases := []struct {
		name string
		data any
	}{
		{"Raw", json.RawMessage(`{"id":7,"code":"GAS-0007","metric":"ch4","level":"warning","value":1.25}`)},
		{"RawEscapes", json.RawMessage(`{"name":"<b>&\u2028</b>","zh":"燃气管网","esc":"\"\\\/\u00e9"}`)},
		{"RawSpaced", json.RawMessage("{ \"a\" : [1, 2] }\n")},
		{"LayerVersion", hub.LayerVersion{Version: 42}},
		{"Int", 17},
		{"String", "<ok>"},
		{"Nil", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := hub.Event{Seq: 99, Topic: hub.Sensors, ID: 1<<63 + 5, Part: "ch4", Point: orb.Point{117.2834567891234, 31.86198765}, Located: true,
				MinZoom: 14.5, Deferred: true, Time: at, Data: tc.data}
			msg, err := encodeEvent(ev, "a-1")
			if err != nil {
				t.Fatal(err)
			}
			if msg.Subject != "onemap.events.sensors" {
				t.Errorf("subject %q", msg.Subject)
			}
			got, err := decodeEvent(msg.Data)
			if err != nil {
				t.Fatalf("decode %s: %v", msg.Data, err)
			}
			raw, ok := got.Data.(json.RawMessage)
			if !ok {
				t.Fatalf("data is a %T, want json.RawMessage", got.Data)
			}
			if want := asSent(t, tc.data); !bytes.Equal(raw, want) {
				t.Errorf("data %s, want %s", raw, want)
			}
			if got.Seq != 0 || got.Topic != ev.Topic || got.ID != ev.ID || got.Part != ev.Part || got.Point != ev.Point ||
				got.Located != ev.Located || got.MinZoom != ev.MinZoom || got.Deferred != ev.Deferred || !got.Time.Equal(ev.Time) {
				t.Errorf("got %+v, want %+v without its Seq", got, ev)
			}
		})
	}

	t.Run("Layer", func(t *testing.T) {
		ev := hub.Event{Topic: hub.RiskZones, Data: hub.LayerVersion{Version: 3}}
		msg, err := encodeEvent(ev, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEvent(msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		if got.Located || got.ID != 0 || !got.Time.IsZero() || string(got.Data.(json.RawMessage)) != `{"version":3}` {
			t.Errorf("got %+v", got)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for name, ev := range map[string]hub.Event{
			"NoTopic":       {Data: 1},
			"DotTopic":      {Topic: "a.b", Data: 1},
			"BadRaw":        {Topic: hub.Alarms, Data: json.RawMessage(`{"a":`)},
			"EmptyRaw":      {Topic: hub.Alarms, Data: json.RawMessage(nil)},
			"NaNPoint":      {Topic: hub.Alarms, Point: orb.Point{math.NaN(), 0}, Data: 1},
			"Unmarshalable": {Topic: hub.Alarms, Data: func() {}},
		} {
			if _, err := encodeEvent(ev, ""); err == nil {
				t.Errorf("%s: encoded", name)
			}
		}
		for _, p := range []string{``, `{}`, `{"topic":"sensors"}`, `{"topic":"a.b","data":1}`, `[1]`} {
			if _, err := decodeEvent([]byte(p)); err == nil {
				t.Errorf("%q decoded", p)
			}
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	for _, d := range []any{json.RawMessage(`{"a":1}`), hub.LayerVersion{Version: 1}, "x"} {
		msg, err := encodeEvent(hub.Event{Topic: hub.Alarms, ID: 3, Point: orb.Point{1, 2}, Located: true, Data: d}, "n")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg.Data)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, err := decodeEvent(p)
		if err != nil {
			return
		}
		// What decodes encodes again, to the same data.
		msg, err := encodeEvent(ev, "")
		if err != nil {
			t.Fatalf("%q decoded to %+v, which does not encode: %v", p, ev, err)
		}
		again, err := decodeEvent(msg.Data)
		if err != nil || !bytes.Equal(again.Data.(json.RawMessage), ev.Data.(json.RawMessage)) {
			t.Fatalf("%q: %+v, then %+v, %v", p, ev, again, err)
		}
	})
}

// sentEvent is what a subscriber of the bus received, as compared between
// nodes.
type sentEvent struct {
	Seq   uint64
	Topic hub.Topic
	ID    uint64
	Data  string
}

func subscribe(t *testing.T, n *Node) *recorder[sentEvent] {
	t.Helper()
	r := &recorder[sentEvent]{}
	cancel := n.Bus().Subscribe(func(ev hub.Event) {
		r.add(sentEvent{ev.Seq, ev.Topic, ev.ID, string(ev.Data.(json.RawMessage))})
	})
	t.Cleanup(cancel)
	return r
}

// TestEventsSameSeq publishes events on three nodes: every node receives
// all of them, in one order, with the same numbers and the same bytes.
func TestEventsSameSeq(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	var nodes []*Node
	var recs []*recorder[sentEvent]
	for i := range 3 {
		n := join(t, testOptions(s.ClientURL(), fmt.Sprintf("n%d", i)))
		nodes = append(nodes, n)
		recs = append(recs, subscribe(t, n))
	}
	const each = 20
	for i := range each {
		for j, n := range nodes {
			data := json.RawMessage(fmt.Sprintf(`{"from":%d,"i":%d,"html":"<&>"}`, j, i))
			n.Bus().Publish(hub.Event{Topic: hub.Alarms, ID: uint64(j*1000 + i), Point: orb.Point{117, 31}, Located: true, Data: data})
		}
	}
	nodes[0].Bus().Publish(hub.Event{Topic: hub.RiskZones, Data: hub.LayerVersion{Version: 9}})
	const total = 3*each + 1
	waitFor(t, 10*time.Second, "every node receives every event", func() bool {
		for _, r := range recs {
			if r.len() < total {
				return false
			}
		}
		return true
	})
	first := recs[0].all()
	if len(first) != total {
		t.Fatalf("%d events, want %d", len(first), total)
	}
	for i := 1; i < len(first); i++ {
		if first[i].Seq <= first[i-1].Seq {
			t.Fatalf("seq %d after %d", first[i].Seq, first[i-1].Seq)
		}
	}
	for i, r := range recs[1:] {
		if got := r.all(); !slices.Equal(got, first) {
			t.Errorf("node %d received %v, node 0 %v", i+1, got, first)
		}
	}
	if i := slices.IndexFunc(first, func(e sentEvent) bool { return e.Topic == hub.RiskZones }); i < 0 || first[i].Data != `{"version":9}` {
		t.Errorf("the layer version did not arrive as {\"version\":9}: %v", first)
	}
	var published uint64
	for _, n := range nodes {
		st := n.Stats()
		published += st.EventsPublished
		if st.EventsFailed != 0 || st.EventsDropped != 0 || st.EventsUndecodable != 0 {
			t.Errorf("%s: %+v", n.Name(), st)
		}
	}
	if published != total {
		t.Errorf("%d published, want %d", published, total)
	}
}

// citySub is a subscription of the whole test city.
func citySub(resume uint64) hub.Subscription {
	b := orb.Bound{Min: orb.Point{116, 31}, Max: orb.Point{118, 33}}
	return hub.Subscription{Topics: []hub.Topic{hub.Sensors}, BBox: &b, Zoom: 15, Resume: resume}
}

func sensorEvent(id uint64) hub.Event {
	return hub.Event{Topic: hub.Sensors, ID: id, Part: "ch4", Point: orb.Point{117.2, 31.8}, Located: true,
		Data: json.RawMessage(fmt.Sprintf(`{"id":%d}`, id))}
}

func newHub(t *testing.T, n *Node) *hub.Hub {
	t.Helper()
	h := hub.New(hub.Options{Bus: n.Bus(), Log: testLog()})
	t.Cleanup(h.Close)
	return h
}

func nextMessages(t *testing.T, c *hub.Client) []hub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func ids(evs []*hub.Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func lastSeq(t *testing.T, n *Node) uint64 {
	t.Helper()
	st, err := n.js.Stream(context.Background(), EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.LastSeq
}

// TestResumeOnAnotherNode has a client of a hub over node A move to a hub
// over node B, which joined later: B's hub has replayed the stream, and
// the client resumes from A's number with no gap and no duplicate.
func TestResumeOnAnotherNode(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	ha := newHub(t, a)
	for id := range uint64(10) {
		ha.Publish(sensorEvent(id))
	}
	waitFor(t, 5*time.Second, "hub a takes the first events", func() bool { return ha.Seq() == lastSeq(t, a) && ha.Seq() > 0 })
	early := ha.Seq() - 7 // the client saw the first three

	ca, err := ha.Subscribe(citySub(0))
	if err != nil {
		t.Fatal(err)
	}
	if ms := nextMessages(t, ca); len(ms) != 1 || ms[0].Kind != hub.Snapshot || ms[0].Seq != ha.Seq() {
		t.Fatalf("first on a: %+v, want a snapshot at %d", ms, ha.Seq())
	}
	for id := range uint64(5) {
		ha.Publish(sensorEvent(100 + id))
	}
	var seen []uint64
	var last uint64
	for len(seen) < 5 {
		for _, m := range nextMessages(t, ca) {
			seen = append(seen, ids(m.Events)...)
			last = m.Seq
		}
	}
	if !slices.Equal(seen, []uint64{100, 101, 102, 103, 104}) {
		t.Fatalf("on a: %v", seen)
	}
	ca.Close()
	for id := range uint64(5) {
		ha.Publish(sensorEvent(200 + id))
	}
	waitFor(t, 5*time.Second, "hub a takes the later events", func() bool { return ha.Seq() == lastSeq(t, a) && ha.Seq() >= last+5 })

	// b joins now; its hub has the history once New returns.
	b := join(t, testOptions(s.ClientURL(), "b"))
	hb := newHub(t, b)
	if hb.Seq() != ha.Seq() {
		t.Fatalf("hub b at %d after its replay, hub a at %d", hb.Seq(), ha.Seq())
	}
	for _, tc := range []struct {
		name   string
		resume uint64
		want   []uint64
	}{
		{"Resume", last, []uint64{200, 201, 202, 203, 204}},
		{"EarlierHistory", early, []uint64{3, 4, 5, 6, 7, 8, 9, 100, 101, 102, 103, 104, 200, 201, 202, 203, 204}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb, err := hb.Subscribe(citySub(tc.resume))
			if err != nil {
				t.Fatal(err)
			}
			defer cb.Close()
			// The hub may still be dispatching what it replayed: the rest
			// comes in the next deltas.
			var got []uint64
			for seq := uint64(0); seq < hb.Seq(); {
				for i, m := range nextMessages(t, cb) {
					if m.Kind != hub.Delta || m.Resumed != (got == nil && i == 0) {
						t.Fatalf("on b from %d: %+v, want a resumed delta, then deltas", tc.resume, m)
					}
					got = append(got, ids(m.Events)...)
					if got == nil {
						got = []uint64{}
					}
					seq = m.Seq
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("on b from %d: %v, want %v", tc.resume, got, tc.want)
			}
		})
	}

	t.Run("Live", func(t *testing.T) {
		// Both hubs go on with the same numbers.
		cb, err := hb.Subscribe(citySub(hb.Seq()))
		if err != nil {
			t.Fatal(err)
		}
		defer cb.Close()
		nextMessages(t, cb) // the empty resumed delta
		ha.Publish(sensorEvent(300))
		ms := nextMessages(t, cb)
		if len(ms) != 1 || !slices.Equal(ids(ms[0].Events), []uint64{300}) || ms[0].Events[0].Seq != lastSeq(t, b) {
			t.Fatalf("live on b: %+v", ms)
		}
		waitFor(t, 5*time.Second, "hub a takes it", func() bool { return ha.Seq() == ms[0].Seq })
	})
}

// TestReplay has nodes join after events were published: Subscribe
// returns once it has replayed them, at most ReplayMax.
func TestReplay(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	for i := range 30 {
		a.Bus().Publish(sensorEvent(uint64(i)))
	}
	waitFor(t, 5*time.Second, "the stream has the events", func() bool { return lastSeq(t, a) == 30 })
	for _, tc := range []struct {
		name      string
		replayMax int
		want      int
	}{{"All", 0, 30}, {"Bounded", 10, 10}} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(s.ClientURL(), "b"+tc.name)
			o.ReplayMax = tc.replayMax
			b := join(t, o)
			r := subscribe(t, b) // returns once replayed
			got := r.all()
			if len(got) != tc.want || got[len(got)-1].Seq != 30 || got[0].Seq != uint64(31-tc.want) {
				t.Errorf("replayed %v, want the last %d", got, tc.want)
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		s := runServer(t)
		b := join(t, testOptions(s.ClientURL(), "b"))
		start := time.Now()
		if r := subscribe(t, b); r.len() != 0 || time.Since(start) > 2*time.Second {
			t.Errorf("an empty stream: %d events after %v", r.len(), time.Since(start))
		}
	})
}
