package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/paulmach/orb"

	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
	"github.com/onemap/onemap/tiles"
)

// wsServer serves gas detector GAS-1 (id 7) and, 20 km away, GAS-2 (id 8),
// with the live channel; view tokens and origins as given.
func wsServer(t *testing.T, o Options) (*httptest.Server, *Server) {
	t.Helper()
	s := newTestServer(wsOptions(t, o))
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts, s
}

// wsOptions are o with the live state and feed of wsServer.
func wsOptions(t *testing.T, o Options) Options {
	t.Helper()
	sensors := live.NewSensors([]*layers.Feature{
		{ID: 7, Layer: layers.Sensor, Geometry: orb.Point{117.26, 31.84},
			Props: map[string]any{"code": "GAS-1", "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel,battery", "asset": 1.0, "asset_layer": layers.DrainNode, "owner": "滨湖燃气公司"}},
		{ID: 8, Layer: layers.Sensor, Geometry: orb.Point{117.47, 31.84},
			Props: map[string]any{"code": "GAS-2", "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel,battery", "asset": 2.0, "asset_layer": layers.DrainNode}},
	})
	feed := &Feed{}
	curves := series.New(series.Options{Now: func() time.Time { return liveNow }})
	svc, err := live.NewService(live.Options{Sensors: sensors, Series: curves, Now: func() time.Time { return liveNow }, OnEvent: feed.OnEvent})
	if err != nil {
		t.Fatal(err)
	}
	o.Catalog, o.Store, o.Live, o.Sensors, o.Series, o.Feed = layers.Default(), memory.New(storetest.City()), svc, sensors, curves, feed
	o.IngestTokens = append(o.IngestTokens, "secret")
	if o.Now == nil {
		o.Now = func() time.Time { return liveNow }
	}
	return o
}

// clock is a server clock a test moves on.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// eventually waits for cond to hold, checking it every few milliseconds,
// and fails the test if it does not within timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not within %v: %s", timeout, what)
		}
	}
}

// wsMsg is any message of the live channel.
type wsMsg struct {
	Type    string
	What    string // of a poke
	Seq     uint64
	Reason  string
	Resumed bool
	Code    string
	Message string
	Sensors []struct {
		ID     uint64
		Code   string
		Metric string
		Level  int
		Health string
		Value  float64
	}
	Alarms []struct {
		ID     uint64
		Sensor uint64
		Level  int
		State  string
	}
	RiskZones *struct{ Version uint64 } `json:"risk_zones"`
	Warnings  []struct {
		Incident string
		Standing bool
		Warning  struct {
			Level    int
			Headline string
		}
	}
	Topics []string
}

// wsClient is a connection whose messages a goroutine reads, so that a
// test may wait for one with a timeout (a gorilla read that times out
// breaks the connection).
type wsClient struct {
	*websocket.Conn
	msgs chan wsMsg
	err  chan error
}

func dial(t *testing.T, ts *httptest.Server, query string, h http.Header) *wsClient {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws"+query, h)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{conn, make(chan wsMsg, 1000), make(chan error, 1)}
	go func() {
		for {
			var m wsMsg
			if err := conn.ReadJSON(&m); err != nil {
				c.err <- err
				return
			}
			c.msgs <- m
		}
	}()
	hello := read(t, c)
	if hello.Type != "hello" || hello.Seq == 0 || len(hello.Topics) != 4 {
		t.Fatalf("first message %+v, want a hello", hello)
	}
	return c
}

func read(t *testing.T, c *wsClient) wsMsg {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case err := <-c.err:
		t.Fatalf("read: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
	}
	return wsMsg{}
}

// closed waits for the connection to end and returns why.
func closed(t *testing.T, c *wsClient) error {
	t.Helper()
	for {
		select {
		case <-c.msgs:
		case err := <-c.err:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("the connection is still open after 5 s")
		}
	}
}

func write(t *testing.T, c *wsClient, s string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// silent checks that nothing comes within a short while.
func silent(t *testing.T, c *wsClient) {
	t.Helper()
	select {
	case m := <-c.msgs:
		t.Fatalf("got %+v, want nothing", m)
	case <-time.After(300 * time.Millisecond):
	}
}

func postReadings(t *testing.T, ts *httptest.Server, readings ...string) {
	t.Helper()
	resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", "["+strings.Join(readings, ",")+"]")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"refused":[]`) {
		t.Fatalf("POST readings: %d %s", resp.StatusCode, b)
	}
}

func reading(sensor, v float64, minutesAgo int) string {
	return fmt.Sprintf(`{"sensor":%v,"metric":"ch4_lel","value":%v,"ts":%q}`, sensor, v, liveNow.Add(-time.Duration(minutesAgo)*time.Minute).Format(time.RFC3339))
}

const nearGAS1 = `"bbox":[117.25,31.83,117.27,31.85]`

func TestWSSnapshotThenDeltas(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	postReadings(t, ts, reading(7, 30, 10)) // a level 2 alarm before anyone listens
	c := dial(t, ts, "", nil)
	write(t, c, `{"type":"subscribe","topics":["sensors","alarms","risk_zones"],`+nearGAS1+`,"zoom":15}`)
	snap := read(t, c)
	if snap.Type != "snapshot" || snap.Reason != "subscribe" || len(snap.Sensors) != 1 || snap.Sensors[0].ID != 7 || snap.Sensors[0].Level != 2 ||
		snap.Sensors[0].Value != 30 || len(snap.Alarms) != 1 || snap.Alarms[0].Level != 2 || snap.RiskZones == nil {
		t.Fatalf("snapshot %+v", snap)
	}
	// A reading that escalates: the sensor's state and the alarm, in one
	// delta or in order.
	postReadings(t, ts, reading(7, 60, 9))
	var sensorLevel, alarmLevel int
	seq := snap.Seq
	for sensorLevel != 1 || alarmLevel != 1 {
		d := read(t, c)
		if d.Type != "delta" || d.Seq <= seq {
			t.Fatalf("%+v after seq %d, want a later delta", d, seq)
		}
		seq = d.Seq
		for _, s := range d.Sensors {
			sensorLevel = s.Level
		}
		for _, a := range d.Alarms {
			alarmLevel = a.Level
		}
	}
	// A reading of the sensor 20 km away is not in this viewport.
	postReadings(t, ts, reading(8, 3, 9))
	silent(t, c)
}

func TestWSCircleAndZoom(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	near := dial(t, ts, "", nil)
	write(t, near, `{"type":"subscribe","topics":["sensors"],"circle":[117.261,31.84,500],"zoom":16}`)
	far := dial(t, ts, "", nil)
	write(t, far, `{"type":"subscribe","topics":["sensors"],"circle":[117.30,31.84,500],"zoom":16}`)
	out := dial(t, ts, "", nil) // zoomed out over the city
	write(t, out, `{"type":"subscribe","topics":["sensors"],"bbox":[117,31.5,117.6,32],"zoom":11}`)
	for _, c := range []*wsClient{near, far, out} {
		if m := read(t, c); m.Type != "snapshot" || len(m.Sensors) != 0 {
			t.Fatalf("first snapshot %+v, want an empty one", m)
		}
	}
	postReadings(t, ts, reading(7, 1, 9)) // normal: a new value only
	if m := read(t, near); len(m.Sensors) != 1 || m.Sensors[0].Value != 1 || m.Sensors[0].Level != 0 {
		t.Errorf("near: %+v", m)
	}
	silent(t, far)
	silent(t, out)                         // sensors are not drawn at zoom 11: values do not travel
	postReadings(t, ts, reading(7, 30, 8)) // level 2: a change of state reaches every zoom
	if m := read(t, near); len(m.Sensors) != 1 || m.Sensors[0].Level != 2 {
		t.Errorf("near: %+v", m)
	}
	if m := read(t, out); len(m.Sensors) != 1 || m.Sensors[0].Level != 2 {
		t.Errorf("zoomed out: %+v", m)
	}
	// Zoomed out, the snapshot holds only what is not normal.
	write(t, out, `{"type":"subscribe","topics":["sensors"],"bbox":[117,31.5,117.6,32],"zoom":10}`)
	postReadings(t, ts, reading(8, 1, 8))
	if m := read(t, out); m.Type != "snapshot" || m.Reason != "update" || len(m.Sensors) != 1 || m.Sensors[0].ID != 7 {
		t.Errorf("zoomed-out snapshot %+v, want GAS-1 alone", m)
	}
}

func TestWSResume(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	const sub = `{"type":"subscribe","topics":["sensors","alarms"],` + nearGAS1 + `,"zoom":15`
	c := dial(t, ts, "", nil)
	write(t, c, sub+`}`)
	last := read(t, c).Seq
	c.Close()
	// While away: an alarm is raised.
	postReadings(t, ts, reading(7, 30, 9))
	c = dial(t, ts, "", nil)
	write(t, c, sub+fmt.Sprintf(`,"resume":%d}`, last))
	// The changes the hub had dispatched come in the resumed delta, the
	// rest in the deltas after it: each once, no snapshot.
	sensors, alarms := 0, 0
	for i := 0; sensors == 0 || alarms == 0; i++ {
		m := read(t, c)
		if m.Type != "delta" || m.Resumed != (i == 0) {
			t.Fatalf("message %d after resuming: %+v, want a resumed delta, then deltas", i, m)
		}
		sensors += len(m.Sensors)
		alarms += len(m.Alarms)
		for _, a := range m.Alarms {
			if a.Level != 2 {
				t.Errorf("alarm %+v, want level 2", a)
			}
		}
	}
	silent(t, c) // and nothing twice
	if sensors != 1 || alarms != 1 {
		t.Errorf("%d sensor states and %d alarms after resuming, want each once", sensors, alarms)
	}
	// From a point the server no longer holds: told so, then a snapshot.
	c2 := dial(t, ts, "", nil)
	write(t, c2, sub+`,"resume":5}`)
	if m := read(t, c2); m.Type != "resync" || m.Reason != "too_old" {
		t.Fatalf("%+v, want a too_old resync", m)
	}
	if m := read(t, c2); m.Type != "snapshot" || len(m.Alarms) != 1 {
		t.Fatalf("%+v, want a snapshot with the alarm", m)
	}
}

func TestWSBadMessages(t *testing.T) {
	clock := newClock(liveNow)
	ts, _ := wsServer(t, Options{Now: clock.Now})
	c := dial(t, ts, "", nil)
	for _, tt := range []struct{ msg, code string }{
		{`not json`, CodeBadMessage},
		{`[1,2]`, CodeBadMessage},
		{`{"topics":["alarms"]}`, CodeBadMessage},
		{`{"type":"dance"}`, CodeUnknownType},
		{`{"type":"subscribe","bbox":[117,31,118,32]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["weather"],"bbox":[117,31,118,32]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["alarms"]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["alarms"],"bbox":[117,31,118]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["alarms"],"bbox":[118,31,117,32]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["alarms"],"bbox":[117,31,118,32],"circle":[117,31,10]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["alarms"],"circle":[117,31,1e9]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["alarms"],"circle":[117,95,100]}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":["alarms"],"bbox":[117,31,118,32],"zoom":30}`, CodeBadSubscription},
		{`{"type":"subscribe","topics":"alarms","bbox":[117,31,118,32]}`, CodeBadMessage},
	} {
		write(t, c, tt.msg)
		if m := read(t, c); m.Type != "error" || m.Code != tt.code || m.Message == "" {
			t.Errorf("%s: %+v, want error %s", tt.msg, m, tt.code)
		}
	}
	// The connection goes on.
	write(t, c, `{"type":"ping"}`)
	if m := read(t, c); m.Type != "pong" {
		t.Errorf("ping: %+v", m)
	}
	// Too many messages in a second of the server's clock: the first
	// WSRate are answered, the rest refused.
	clock.Add(time.Second)
	for range 3 * WSRate {
		write(t, c, `{"type":"ping"}`)
	}
	for i := range 3 * WSRate {
		m := read(t, c)
		if answered := i < WSRate; answered && m.Type != "pong" || !answered && m.Code != CodeRateLimited {
			t.Fatalf("ping %d of %d in one second: %+v, want the first %d answered and the rest refused", i+1, 3*WSRate, m, WSRate)
		}
	}
	// The next second takes messages again.
	clock.Add(time.Second)
	write(t, c, `{"type":"ping"}`)
	if m := read(t, c); m.Type != "pong" {
		t.Fatalf("ping in the next second: %+v, want a pong", m)
	}
	// Five times the rate in one second closes the connection with 1008.
	clock.Add(time.Second)
	for range 5*WSRate + 1 {
		write(t, c, `{"type":"ping"}`)
	}
	if err := closed(t, c); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Errorf("%d messages in a second: %v, want close 1008", 5*WSRate+1, err)
	}
	// A message over the limit closes the connection with 1009.
	c2 := dial(t, ts, "", nil)
	write(t, c2, `{"type":"ping","pad":"`+strings.Repeat("x", WSMaxMessage)+`"}`)
	if err := closed(t, c2); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("oversized message: %v, want close 1009", err)
	}
}

func TestWSAdmission(t *testing.T) {
	// No anonymous viewer: the live channel needs the view token.
	o := wsOptions(t, Options{ViewTokens: []string{"screen"}, AllowedOrigins: []string{"https://ops.example"}, Access: Access{Anonymous: []string{}}})
	o.Hub = hub.New(hub.Options{Snapshot: o.Feed.Snapshot, MaxClients: 2})
	s := newTestServer(o)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); ts.Close() })
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	for _, tt := range []struct {
		name, query, origin string
		status              int
	}{
		{"NoToken", "", "", 401},
		{"WrongToken", "?token=guess", "", 401},
		{"OtherOrigin", "?token=screen", "https://evil.example", 403},
	} {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		_, resp, err := websocket.DefaultDialer.Dial(url+tt.query, h)
		if err == nil || resp == nil || resp.StatusCode != tt.status {
			t.Errorf("%s: %v %v, want %d", tt.name, err, resp, tt.status)
		}
	}
	dial(t, ts, "?token=screen", http.Header{"Origin": {"https://ops.example"}})
	dial(t, ts, "", http.Header{"Authorization": {"Bearer screen"}, "Origin": {ts.URL}})
	// A third connection is one too many.
	c, _, err := websocket.DefaultDialer.Dial(url+"?token=screen", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		t.Errorf("third connection: %v, want close 1013", err)
	}
}

func TestWSShutdown(t *testing.T) {
	ts, s := wsServer(t, Options{})
	c := dial(t, ts, "", nil)
	write(t, c, `{"type":"subscribe","topics":["alarms"],`+nearGAS1+`}`)
	read(t, c)
	s.Close()
	if err := closed(t, c); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("at shutdown: %v, want close 1001", err)
	}
}

// An alarm changes the risk zone layer; its subscribers hear the new
// version, to refetch its tiles.
func TestWSRiskZoneVersion(t *testing.T) {
	ts, _ := wsServer(t, Options{RiskZoneCheck: 10 * time.Millisecond})
	c := dial(t, ts, "", nil)
	write(t, c, `{"type":"subscribe","topics":["risk_zones"],"bbox":[117,31,118,32],"zoom":12}`)
	snap := read(t, c)
	if snap.Type != "snapshot" || snap.RiskZones == nil {
		t.Fatalf("snapshot %+v, want the layer's version", snap)
	}
	v0 := snap.RiskZones.Version
	postReadings(t, ts, reading(7, 60, 9)) // a level 1 alarm: an impact area
	m := read(t, c)
	if m.Type != "delta" || m.RiskZones == nil || m.RiskZones.Version <= v0 {
		t.Fatalf("%+v, want a newer version than %d", m, v0)
	}
}

// A peer that answers no ping is dropped; one that does stays.
func TestWSDeadPeer(t *testing.T) {
	ts, s := wsServer(t, Options{WSHeartbeat: 250 * time.Millisecond})
	alive := dial(t, ts, "", nil) // gorilla answers pings while it reads
	write(t, alive, `{"type":"subscribe","topics":["alarms"],`+nearGAS1+`}`)
	read(t, alive)
	dead, err := dialRaw(strings.TrimPrefix(ts.URL, "http://"), `{"type":"subscribe","topics":["alarms"],`+nearGAS1+`}`)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	eventually(t, 5*time.Second, "both clients connected", func() bool { return s.hub.Len() == 2 })
	// The silent one goes after 2.4 heartbeats (600 ms) of the real clock:
	// the connection's read deadline.
	eventually(t, 5*time.Second, "the silent client dropped", func() bool { return s.hub.Len() == 1 })
	write(t, alive, `{"type":"ping"}`)
	if m := read(t, alive); m.Type != "pong" {
		t.Errorf("the live peer: %+v", m)
	}
}

// waitPoke reads c until a poke of what, failing on a poke of anything
// else or after 5 s.
func waitPoke(t *testing.T, c *wsClient, what string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			if m.Type == "poke" && m.What == what {
				return
			}
		case err := <-c.err:
			t.Fatalf("read: %v", err)
		case <-deadline:
			t.Fatalf("no poke of %s within 5 s", what)
		}
	}
}

// A login's live connections are nudged when a message reaches its inbox
// or a task is given to it, and nobody else's are; the nudge says only
// what to fetch again.
func TestPokes(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	unit := dial(t, ts, "", http.Header{"Cookie": as("unit1")[1:]})
	responder := dial(t, ts, "", http.Header{"Cookie": as("responder")[1:]})
	viewer := dial(t, ts, "", http.Header{"Cookie": as("viewer")[1:]})
	id := publishOne(t, ts)
	waitPoke(t, unit, "inbox")

	var rsp struct {
		Response struct{ Tasks []struct{ ID string } }
	}
	getJSON(t, ts.URL+"/api/v1/incidents/"+id+"/response", "commander", &rsp)
	if len(rsp.Response.Tasks) == 0 {
		t.Fatal("no tasks")
	}
	if resp, b := send(t, "POST", ts.URL+"/api/v1/tasks/"+rsp.Response.Tasks[0].ID+"/assign", "role:commander", "application/json", `{"assignee":"responder"}`); resp.StatusCode != 200 {
		t.Fatalf("assign: %d %s", resp.StatusCode, b)
	}
	waitPoke(t, responder, "tasks")
	select {
	case m := <-viewer.msgs:
		if m.Type == "poke" {
			t.Errorf("the viewer was poked: %+v", m)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

// TestRiskZonesToldByTheLeader: instances sharing one live channel (one
// bus) tell a new version of the risk zones once, from the instance that
// leads, and another tells it once it leads.
func TestRiskZonesToldByTheLeader(t *testing.T) {
	bus := hub.NewLocalBus()
	var told atomic.Int64
	cancel := bus.Subscribe(func(ev hub.Event) {
		if ev.Topic == hub.RiskZones {
			told.Add(1)
		}
	})
	defer cancel()
	var version atomic.Uint64
	var leader atomic.Int64 // which of the two leads
	for i := range 2 {
		o := wsOptions(t, Options{})
		o.Tiles = tiles.NewEncoder(o.Catalog, o.Store)
		o.RiskVersion = version.Load
		o.RiskZoneCheck = 5 * time.Millisecond
		o.Hub = hub.New(hub.Options{Snapshot: o.Feed.Snapshot, Bus: bus})
		o.Leading = func() bool { return leader.Load() == int64(i) }
		s := newTestServer(o)
		t.Cleanup(s.Close)
	}
	time.Sleep(50 * time.Millisecond) // both watching
	version.Add(1)
	eventually(t, 2*time.Second, "the new version told", func() bool { return told.Load() >= 1 })
	time.Sleep(50 * time.Millisecond) // ten checks of the other
	if n := told.Load(); n != 1 {
		t.Fatalf("version 1 told %d times, want once", n)
	}
	leader.Store(1)
	version.Add(1)
	eventually(t, 2*time.Second, "the next version told by the new leader", func() bool { return told.Load() >= 2 })
	time.Sleep(50 * time.Millisecond)
	if n := told.Load(); n != 2 {
		t.Errorf("versions told %d times, want twice", n)
	}
}
