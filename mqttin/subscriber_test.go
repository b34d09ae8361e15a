package mqttin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/paulmach/orb"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// broker starts an embedded MQTT broker on a free port and returns it with
// its tcp:// URL.
func broker(t *testing.T, addr string) (*mqtt.Server, string) {
	t.Helper()
	b := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := b.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	ln := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	if err := b.AddListener(ln); err != nil {
		t.Fatal(err)
	}
	go b.Serve()
	t.Cleanup(func() { stopBroker(b) })
	return b, "tcp://" + ln.Address()
}

var stopped sync.Map

// stopBroker closes a broker once.
func stopBroker(b *mqtt.Server) {
	if _, done := stopped.LoadOrStore(b, true); !done {
		b.Close()
	}
}

// service is the live state of two sensors: gas detector GAS-1 (id 7) and
// pressure gauge WP-2 (id 8).
func service(t *testing.T) (*live.Service, *live.Sensors) {
	t.Helper()
	sensors := live.NewSensors([]*layers.Feature{
		{ID: 7, Layer: layers.Sensor, Geometry: orb.Point{117.26, 31.84},
			Props: map[string]any{"code": "GAS-1", "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel", "asset": 1.0, "asset_layer": layers.DrainNode}},
		{ID: 8, Layer: layers.Sensor, Geometry: orb.Point{117.27, 31.85},
			Props: map[string]any{"code": "WP-2", "domain": "water", "kind": "pressure", "metrics": "pressure", "asset": 2.0, "asset_layer": layers.WaterPipe}},
	})
	svc, err := live.NewService(live.Options{Sensors: sensors, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return svc, sensors
}

func ingestInto(svc *live.Service) Ingest {
	return func(ctx context.Context, body io.Reader, allowed func(*live.Sensor) bool) (*live.IngestResult, error) {
		return svc.Ingest(ctx, body, allowed)
	}
}

// run starts a subscriber and stops it when the test ends.
func run(t *testing.T, o Options) *Subscriber {
	t.Helper()
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	// A broker stopped in a test may take a connection it never answers.
	o.ConnectTimeout = time.Second
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "connected", func() bool { return s.Stats().Connected })
	return s
}

// waitFor waits for ok to hold, checking it every few milliseconds, and
// fails the test if it does not within 10 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !ok() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// subscribed waits until the broker holds a subscription that a message
// published to topic reaches: the subscriber subscribes once connected.
func subscribed(t *testing.T, b *mqtt.Server, topic string) {
	t.Helper()
	waitFor(t, "the subscription to "+topic, func() bool { return len(b.Topics.Subscribers(topic).Subscriptions) > 0 })
}

func ts(minutesAgo int) string {
	return now.Add(-time.Duration(minutesAgo) * time.Minute).Format(time.RFC3339)
}

// latest returns the latest value of a sensor's metric, or NaN.
func latest(t *testing.T, svc *live.Service, sensors *live.Sensors, code, metric string) (float64, bool) {
	t.Helper()
	sn, ok := sensors.Resolve([]byte(`"` + code + `"`))
	if !ok {
		t.Fatalf("no sensor %s", code)
	}
	for _, m := range svc.SensorState(sn) {
		if m.Metric == metric && !m.Time.IsZero() {
			return m.Value, true
		}
	}
	return 0, false
}

func TestSubscriberIngests(t *testing.T) {
	b, url := broker(t, "127.0.0.1:0")
	svc, sensors := service(t)
	s := run(t, Options{Broker: url, Ingest: ingestInto(svc)})
	subscribed(t, b, "onemap/readings/GAS-1")

	pub := func(topic, payload string) {
		t.Helper()
		if err := b.Publish(topic, []byte(payload), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	// An array of readings naming their sensors, one good and one bad.
	pub("onemap/readings", fmt.Sprintf(`[{"sensor":"GAS-1","metric":"ch4_lel","value":12,"ts":%q},{"sensor":"GAS-404","metric":"ch4_lel","value":1,"ts":%q}]`, ts(3), ts(3)))
	// One reading whose sensor is the topic's last level.
	pub("onemap/readings/WP-2", fmt.Sprintf(`{"metric":"pressure","value":0.31,"ts":%q}`, ts(2)))
	// NDJSON, one reading out of range.
	pub("onemap/readings/GAS-1", fmt.Sprintf("{\"metric\":\"ch4_lel\",\"value\":14,\"ts\":%q}\n{\"metric\":\"ch4_lel\",\"value\":-4,\"ts\":%q}\n", ts(1), ts(0)))
	// Not JSON at all.
	pub("onemap/readings/GAS-1", `ch4_lel=15`)
	// The same reading again: accepted, changes nothing.
	pub("onemap/readings/WP-2", fmt.Sprintf(`{"metric":"pressure","value":0.31,"ts":%q}`, ts(2)))

	waitFor(t, "five messages", func() bool { return s.Stats().Messages == 5 })
	st := s.Stats()
	if st.Accepted != 4 || st.Refused != 3 || st.Failed != 0 {
		t.Errorf("stats %+v, want 4 accepted (one a duplicate), 3 refused, none failed", st)
	}
	if v, ok := latest(t, svc, sensors, "GAS-1", "ch4_lel"); !ok || v != 14 {
		t.Errorf("GAS-1 ch4_lel = %v (%v), want 14", v, ok)
	}
	if v, ok := latest(t, svc, sensors, "WP-2", "pressure"); !ok || v != 0.31 {
		t.Errorf("WP-2 pressure = %v (%v), want 0.31", v, ok)
	}
	if got := svc.Stats(); got.Duplicates != 1 || got.Refused != 2 {
		t.Errorf("ingest stats %+v, want 1 duplicate and 2 refused (the non-JSON payload never reaches ingest)", got)
	}
}

// With Authorize, every message is an envelope with a device token: a
// message without one, or with one not valid, is refused whole, and a
// token for some sensors sends only theirs.
func TestSubscriberTokens(t *testing.T) {
	b, url := broker(t, "127.0.0.1:0")
	svc, sensors := service(t)
	gas1, _ := sensors.Resolve(json.RawMessage(`"GAS-1"`))
	authorize := func(_ context.Context, token string) (func(*live.Sensor) bool, error) {
		switch token {
		case "om_all":
			return nil, nil
		case "om_gas1":
			return func(sn *live.Sensor) bool { return sn.ID == gas1.ID }, nil
		}
		return nil, errors.New("not a token")
	}
	s := run(t, Options{Broker: url, Ingest: ingestInto(svc), Authorize: authorize})
	subscribed(t, b, "onemap/readings/x")
	pub := func(topic, payload string) {
		t.Helper()
		if err := b.Publish(topic, []byte(payload), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	pub("onemap/readings/GAS-1", fmt.Sprintf(`{"token":"om_gas1","readings":{"metric":"ch4_lel","value":12,"ts":%q}}`, ts(3)))
	pub("onemap/readings/WP-2", fmt.Sprintf(`{"token":"om_gas1","readings":[{"metric":"pressure","value":0.4,"ts":%q}]}`, ts(3)))
	pub("onemap/readings/WP-2", fmt.Sprintf(`{"token":"om_all","readings":[{"metric":"pressure","value":0.31,"ts":%q}]}`, ts(2)))
	pub("onemap/readings/GAS-1", fmt.Sprintf(`{"token":"om_guess","readings":[{"metric":"ch4_lel","value":90,"ts":%q}]}`, ts(1)))
	pub("onemap/readings/GAS-1", fmt.Sprintf(`{"metric":"ch4_lel","value":91,"ts":%q}`, ts(1)))
	waitFor(t, "five messages", func() bool { return s.Stats().Messages == 5 })
	if st := s.Stats(); st.Accepted != 2 || st.Refused != 3 {
		t.Errorf("stats %+v, want 2 accepted, 3 refused (another sensor's, a wrong token, no envelope)", st)
	}
	if v, ok := latest(t, svc, sensors, "GAS-1", "ch4_lel"); !ok || v != 12 {
		t.Errorf("GAS-1 ch4_lel = %v (%v), want 12: the refused messages changed it", v, ok)
	}
	if v, ok := latest(t, svc, sensors, "WP-2", "pressure"); !ok || v != 0.31 {
		t.Errorf("WP-2 pressure = %v (%v), want 0.31 from the token for all", v, ok)
	}
}

// A batch the store cannot take stays unacknowledged and is tried again
// until it is stored, once.
func TestSubscriberRetriesFailedIngest(t *testing.T) {
	b, url := broker(t, "127.0.0.1:0")
	svc, sensors := service(t)
	var fails atomic.Int32
	fails.Store(2)
	s := run(t, Options{Broker: url, RetryWait: time.Millisecond, Ingest: func(ctx context.Context, body io.Reader, _ func(*live.Sensor) bool) (*live.IngestResult, error) {
		if fails.Add(-1) >= 0 {
			return nil, errors.New("disk full")
		}
		return svc.Ingest(ctx, body, nil)
	}})
	subscribed(t, b, "onemap/readings/GAS-1")
	if err := b.Publish("onemap/readings/GAS-1", fmt.Appendf(nil, `{"metric":"ch4_lel","value":9,"ts":%q}`, ts(1)), false, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reading stored", func() bool { return s.Stats().Accepted == 1 })
	if st := s.Stats(); st.Failed != 2 {
		t.Errorf("stats %+v, want 2 failed attempts", st)
	}
	if v, ok := latest(t, svc, sensors, "GAS-1", "ch4_lel"); !ok || v != 9 {
		t.Errorf("GAS-1 ch4_lel = %v (%v), want 9", v, ok)
	}
}

// The subscriber comes back when the broker does.
func TestSubscriberReconnects(t *testing.T) {
	b, url := broker(t, "127.0.0.1:0")
	svc, _ := service(t)
	s := run(t, Options{Broker: url, Ingest: ingestInto(svc)})
	stopBroker(b)
	waitFor(t, "the connection lost", func() bool { return !s.Stats().Connected })

	b2, _ := broker(t, url[len("tcp://"):])
	waitFor(t, "reconnected", func() bool { return s.Stats().Connected })
	subscribed(t, b2, "onemap/readings/WP-2")
	if err := b2.Publish("onemap/readings/WP-2", fmt.Appendf(nil, `{"metric":"pressure","value":0.28,"ts":%q}`, ts(1)), false, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reading after the reconnection", func() bool { return s.Stats().Accepted == 1 })
}

func TestNewRefusesBadOptions(t *testing.T) {
	ingest := func(context.Context, io.Reader, func(*live.Sensor) bool) (*live.IngestResult, error) { return nil, nil }
	for _, o := range []Options{
		{Broker: "localhost:1883", Ingest: ingest},
		{Broker: "http://localhost:1883", Ingest: ingest},
		{Broker: "tcp://localhost:1883", Topic: "a/#/b", Ingest: ingest},
		{Broker: "tcp://localhost:1883", Topic: "a/b+", Ingest: ingest},
		{Broker: "tcp://localhost:1883"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) took it", o)
		}
	}
}

func TestTopicSensor(t *testing.T) {
	for _, c := range []struct{ filter, topic, want string }{
		{"onemap/readings/#", "onemap/readings/GAS-1", "GAS-1"},
		{"onemap/readings/#", "onemap/readings", ""},
		{"onemap/readings/#", "onemap/readings/district-3/GAS-1", "GAS-1"},
		{"devices/+/telemetry", "devices/GAS-1/telemetry", "GAS-1"},
		{"devices/telemetry", "devices/telemetry", ""},
		{"$share/onemap/devices/+/up", "devices/WP-2/up", "WP-2"},
	} {
		if got := topicSensor(c.filter, c.topic); got != c.want {
			t.Errorf("topicSensor(%q, %q) = %q, want %q", c.filter, c.topic, got, c.want)
		}
	}
}

func TestSplitPayload(t *testing.T) {
	for _, c := range []struct {
		payload, sensor string
		want            []string
		ok              bool
	}{
		{`{"metric":"a"}`, "S", []string{`{"metric":"a","sensor":"S"}`}, true},
		{`{"sensor":"T","metric":"a"}`, "S", []string{`{"sensor":"T","metric":"a"}`}, true},
		{`[{"metric":"a"},{"metric":"b"}]`, "", []string{`{"metric":"a"}`, `{"metric":"b"}`}, true},
		{"{\"metric\":\"a\"}\n{\"metric\":\"b\"}\n", "", []string{`{"metric":"a"}`, `{"metric":"b"}`}, true},
		{`  `, "S", nil, true},
		{`[1, "x"]`, "S", []string{`1`, `"x"`}, true},
		{`{"metric":`, "S", nil, false},
		{`temperature=3`, "", nil, false},
	} {
		got, ok := splitPayload([]byte(c.payload), c.sensor)
		if ok != c.ok || len(got) != len(c.want) {
			t.Errorf("splitPayload(%q) = %q, %v; want %q, %v", c.payload, got, ok, c.want, c.ok)
			continue
		}
		for i := range got {
			if string(got[i]) != c.want[i] && !sameJSON(got[i], c.want[i]) {
				t.Errorf("splitPayload(%q)[%d] = %s, want %s", c.payload, i, got[i], c.want[i])
			}
		}
	}
}

func FuzzSplitPayload(f *testing.F) {
	f.Add([]byte(`[{"metric":"a"}]`), "S")
	f.Add([]byte("{\"metric\":\"a\"}\n{}"), "")
	f.Add([]byte(`{"sensor":null}`), "S")
	f.Fuzz(func(t *testing.T, payload []byte, sensor string) {
		elems, ok := splitPayload(payload, sensor)
		if !ok {
			return
		}
		for _, e := range elems {
			if !jsonValid(e) {
				t.Fatalf("element %q of %q is not JSON", e, payload)
			}
		}
	})
}

func sameJSON(a []byte, b string) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

func jsonValid(b []byte) bool { return json.Valid(b) }
