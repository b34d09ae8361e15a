package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/response"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/notify"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
)

// incidentBench is a server with the incident loop: the book, and a desk
// that pushes in-app and by webhook to the sample directory, whose gas
// company's webhook is hook. Its gas detectors each watch an asset of
// their own.
type incidentBench struct {
	ts      *httptest.Server
	s       *Server
	desk    *response.Desk
	live    *live.Service
	hook    *hookReceiver
	client  *http.Client
	sensors []uint64
	clk     *clock
}

// benchDir is a directory.Store of one directory.
type benchDir struct{ d *directory.Directory }

func (s benchDir) Directory(context.Context) (*directory.Directory, error) { return s.d, nil }

// hookReceiver is the gas company's system: it checks each request's
// signature and counts the deliveries, and notes when each incident's
// first delivery came.
type hookReceiver struct {
	secret []byte
	mu     sync.Mutex
	seen   map[string]int       // delivery id → requests
	at     map[string]time.Time // incident → first arrival
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	var m struct{ Incident string }
	err := notify.Verify(h.secret, r.Header, body, now, 5*time.Minute)
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	h.seen[r.Header.Get(notify.HeaderDelivery)]++
	if _, ok := h.at[m.Incident]; !ok {
		h.at[m.Incident] = now
	}
}

func (h *hookReceiver) arrival(incident string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.at[incident]
	return t, ok
}

// newIncidentBench serves n gas detectors of the gas company, spread over
// the test district, each on an asset of its own.
func newIncidentBench(b *testing.B, n int) *incidentBench {
	b.Helper()
	features := make([]*layers.Feature, n)
	ids := make([]uint64, n)
	for i := range features {
		ids[i] = uint64(1000 + i)
		features[i] = &layers.Feature{ID: ids[i], Layer: layers.Sensor, Geometry: orb.Point{117.252 + float64(i%40)*0.0004, 31.832 + float64(i/40%40)*0.0004},
			Props: map[string]any{"code": fmt.Sprintf("GAS-B%d", i), "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel,battery",
				"asset": float64(10_000 + i), "asset_layer": layers.DrainNode, "owner": "滨湖燃气公司"}}
	}
	sensors := live.NewSensors(features)
	clk := newClock(liveNow)
	feed := &Feed{}
	curves := series.New(series.Options{Now: clk.Now})
	svc, err := live.NewService(live.Options{Sensors: sensors, Series: curves, Now: clk.Now, OnEvent: feed.OnEvent})
	if err != nil {
		b.Fatal(err)
	}
	hook := &hookReceiver{secret: []byte("s3cret-gas_co_webhook"), seen: map[string]int{}, at: map[string]time.Time{}}
	hookSrv := httptest.NewServer(hook)
	b.Cleanup(hookSrv.Close)
	sample := strings.Replace(string(directory.Sample()), "https://gas.binhu.example/onemap/warnings", hookSrv.URL, 1)
	dir, err := directory.Read(strings.NewReader(sample))
	if err != nil {
		b.Fatal(err)
	}
	o := withTestAccess(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), Live: svc, Sensors: sensors, Series: curves, Feed: feed,
		IngestTokens: []string{"secret"}, Now: clk.Now, Log: slog.New(slog.DiscardHandler),
		Hub: hub.New(hub.Options{Snapshot: feed.Snapshot, MaxClients: 5000})})
	o.Incidents = incident.NewBook(&incident.MemoryJournal{}, o.Now, Approver(auth.NewAuthorizer(nil)))
	desk, err := response.New(o.Incidents, response.Options{Directory: benchDir{dir},
		Channels: []notify.Channel{&notify.InApp{}, &notify.Webhook{Client: hookSrv.Client(), Secret: func(name string) ([]byte, error) {
			return []byte("s3cret-" + name), nil
		}}},
		Sites: response.LiveSites{Live: svc, Sensors: sensors}, Now: o.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	desk.Start(ctx)
	o.Response = desk
	s := newTestServer(o)
	ts := httptest.NewServer(s.Handler())
	b.Cleanup(func() { s.Close(); ts.Close(); cancel(); desk.Close() })
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.Cleanup(client.CloseIdleConnections)
	return &incidentBench{ts: ts, s: s, desk: desk, live: svc, hook: hook, client: client, sensors: ids, clk: clk}
}

// call sends a request as the test user of role and returns the answer's
// body, or an error unless its status is want.
func (ib *incidentBench) call(method, path, role, body string, want int) ([]byte, error) {
	req, err := http.NewRequest(method, ib.ts.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	authorize(req, role)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ib.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return b, fmt.Errorf("%s %s as %s: %d %s, want %d", method, path, role, resp.StatusCode, b, want)
	}
	return b, nil
}

// raise posts a leak (60 %LEL, a level 1 gas alarm) of each sensor in one
// batch and returns the alarm raised on each, in order.
func (ib *incidentBench) raise(sensors []uint64) ([]uint64, error) {
	ib.clk.Add(time.Minute)
	at := ib.clk.Now().Add(-time.Second).Format(time.RFC3339)
	rs := make([]string, len(sensors))
	for i, sn := range sensors {
		rs[i] = fmt.Sprintf(`{"sensor":%d,"metric":"ch4_lel","value":60,"ts":%q}`, sn, at)
	}
	b, err := ib.call("POST", "/api/v1/readings", "secret", "["+strings.Join(rs, ",")+"]", 200)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(b, []byte(`"refused":[]`)) {
		return nil, fmt.Errorf("readings refused: %s", b)
	}
	bySensor := map[uint64]uint64{}
	for _, a := range ib.live.Alarms(live.AlarmFilter{State: live.Active}) {
		bySensor[a.Sensor] = a.ID
	}
	out := make([]uint64, len(sensors))
	for i, sn := range sensors {
		if out[i] = bySensor[sn]; out[i] == 0 {
			return nil, fmt.Errorf("no alarm of sensor %d", sn)
		}
	}
	return out, nil
}

// open opens an incident of alarm as the operator.
func (ib *incidentBench) open(alarm uint64) (string, error) {
	b, err := ib.call("POST", "/api/v1/incidents", "role:operator", fmt.Sprintf(`{"alarms":[%d]}`, alarm), 201)
	if err != nil {
		return "", err
	}
	var out struct{ Incident incident.Incident }
	if err := json.Unmarshal(b, &out); err != nil || out.Incident.ID == "" {
		return "", fmt.Errorf("opened: %v %s", err, b)
	}
	return out.Incident.ID, nil
}

// toSigned takes incident id from verifying to signed as four people do:
// the operator confirms, the analyst drafts the suggested warning and
// submits it, the commander approves and signs.
func (ib *incidentBench) toSigned(id string) error {
	base := "/api/v1/incidents/" + id
	if _, err := ib.call("POST", base+"/verify", "role:operator", `{"outcome":"confirmed"}`, 200); err != nil {
		return err
	}
	b, err := ib.call("GET", base+"/suggestion", "role:analyst", "", 200)
	if err != nil {
		return err
	}
	var sug incident.Draft
	if err := json.Unmarshal(b, &sug); err != nil {
		return fmt.Errorf("suggestion: %v", err)
	}
	draft, _ := json.Marshal(map[string]any{"warning": sug.Warning})
	for _, st := range []struct{ step, role, body string }{
		{"draft", "analyst", string(draft)}, {"submit", "analyst", `{}`}, {"review", "commander", `{"approve":true}`}, {"sign", "commander", `{}`},
	} {
		if _, err := ib.call("POST", base+"/"+st.step, "role:"+st.role, st.body, 200); err != nil {
			return err
		}
	}
	return nil
}

// publish publishes incident id's signed warning as the commander and
// returns how long the request took.
func (ib *incidentBench) publish(id string) (time.Duration, error) {
	t0 := time.Now()
	b, err := ib.call("POST", "/api/v1/incidents/"+id+"/publish", "role:commander", `{}`, 200)
	took := time.Since(t0)
	if err == nil && !bytes.Contains(b, []byte(`"state":"published"`)) {
		err = fmt.Errorf("publish: %s", b)
	}
	return took, err
}

// quantile is the p-quantile of sorted xs.
func quantile(xs []float64, p float64) float64 { return xs[int(p*float64(len(xs)-1)+0.5)] }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkWarningDelivery measures how long a published warning takes to
// reach the screens and the owner's system: 1,000 clients on /ws
// subscribed to the warnings over the district, and the gas company's
// webhook. Each op takes a new alarm's incident from open to signed over
// the API, then publishes it; from the publish request to each client's
// frame with the warning ("screens", 1,000 samples an op) and to the
// signed webhook request at the receiver ("webhook", one an op). The
// times run from the request, not its answer: the push is queued before
// the answer is written, and the webhook often arrives first. The publish
// request's own time is "publish".
func BenchmarkWarningDelivery(b *testing.B) {
	const clients = 1000
	ib := newIncidentBench(b, b.N)
	var (
		target    atomic.Pointer[[]byte] // `"incident":"INC-…"` of the op's warning
		got       = make([]atomic.Int64, clients)
		arrived   atomic.Int64
		snapshots atomic.Int64
		next      int
	)
	sub := `{"type":"subscribe","topics":["warnings"],"bbox":[117.25,31.83,117.27,31.85],"zoom":14}`
	closeAll := connect(b, ib.ts, clients, func() string { return sub }, func() (func([]byte), func()) {
		i := next
		next++
		return func(p []byte) {
			at := time.Now().UnixNano()
			if bytes.HasPrefix(p, []byte(`{"type":"snapshot"`)) {
				snapshots.Add(1)
				return
			}
			if t := target.Load(); t != nil && got[i].Load() == 0 && bytes.Contains(p, *t) {
				got[i].Store(at)
				arrived.Add(1)
			}
		}, func() {}
	})
	defer closeAll()
	for deadline := time.Now().Add(30 * time.Second); snapshots.Load() < clients; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d clients subscribed", snapshots.Load(), clients)
		}
	}
	var screens, hooks, answers []float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		alarms, err := ib.raise(ib.sensors[i : i+1])
		if err != nil {
			b.Fatal(err)
		}
		id, err := ib.open(alarms[0])
		if err != nil {
			b.Fatal(err)
		}
		if err := ib.toSigned(id); err != nil {
			b.Fatal(err)
		}
		for k := range got {
			got[k].Store(0)
		}
		arrived.Store(0)
		mark := []byte(`"incident":"` + id + `"`)
		target.Store(&mark)
		b.StartTimer()
		published := time.Now()
		took, err := ib.publish(id)
		if err != nil {
			b.Fatal(err)
		}
		answers = append(answers, ms(took))
		var hooked time.Time
		for deadline := published.Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if hooked.IsZero() {
				hooked, _ = ib.hook.arrival(id)
			}
			if arrived.Load() == clients && !hooked.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: %d of %d clients have the warning, webhook arrived: %v, after 10 s", id, arrived.Load(), clients, !hooked.IsZero())
			}
		}
		b.StopTimer()
		for k := range got {
			screens = append(screens, ms(time.Unix(0, got[k].Load()).Sub(published)))
		}
		hooks = append(hooks, ms(hooked.Sub(published)))
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(screens)
	slices.Sort(hooks)
	slices.Sort(answers)
	b.ReportMetric(quantile(answers, 0.5), "p50-publish-ms")
	b.ReportMetric(quantile(screens, 0.5), "p50-screens-ms")
	b.ReportMetric(quantile(screens, 0.99), "p99-screens-ms")
	b.ReportMetric(quantile(hooks, 0.5), "p50-webhook-ms")
	b.ReportMetric(quantile(hooks, 0.99), "p99-webhook-ms")
}

// BenchmarkIncidentStorm measures the incident loop under an alarm storm:
// each op posts one batch raising 100 alarms on 100 assets, opens their
// 100 incidents at once and takes each to published on a goroutine of its
// own, as many operators, analysts and commanders would. Reports the
// incidents published a second, from the storm's readings to the last
// publish answer, and the p99 of GET /healthz, asked over and over from
// another goroutine meanwhile. At the end every webhook delivery must have
// reached the receiver exactly once and every in-app recipient must have
// one delivery of each incident.
func BenchmarkIncidentStorm(b *testing.B) {
	const storm = 100
	ib := newIncidentBench(b, storm*b.N)
	var (
		health []float64
		probed sync.WaitGroup
		stop   atomic.Bool
		probeE atomic.Value
	)
	probe := &http.Client{Timeout: 10 * time.Second}
	b.Cleanup(probe.CloseIdleConnections)
	b.ResetTimer()
	probed.Go(func() {
		for !stop.Load() {
			t0 := time.Now()
			resp, err := probe.Get(ib.ts.URL + "/healthz")
			if err != nil {
				probeE.Store(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				probeE.Store(fmt.Errorf("GET /healthz: %d", resp.StatusCode))
				return
			}
			health = append(health, ms(time.Since(t0)))
			time.Sleep(5 * time.Millisecond)
		}
	})
	var (
		ids     []string
		elapsed time.Duration
	)
	for i := range b.N {
		start := time.Now()
		alarms, err := ib.raise(ib.sensors[i*storm : (i+1)*storm])
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, storm)
		opened := make([]string, storm)
		for k, a := range alarms {
			wg.Go(func() {
				id, err := ib.open(a)
				if err == nil {
					err = ib.toSigned(id)
				}
				if err == nil {
					_, err = ib.publish(id)
				}
				opened[k], errs[k] = id, err
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		ids = append(ids, opened...)
	}
	stop.Store(true)
	probed.Wait()
	b.StopTimer()
	if err, _ := probeE.Load().(error); err != nil {
		b.Fatal(err)
	}
	if len(health) == 0 {
		b.Fatal("no health check answered during the storm")
	}

	// Every delivery sent, then checked against the receiver.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ib.desk.Notify.Flush(ctx); err != nil {
		b.Fatalf("the deliveries are not all sent after 30 s: %v", err)
	}
	ib.hook.mu.Lock()
	seen, bad := maps.Clone(ib.hook.seen), ib.hook.bad
	ib.hook.mu.Unlock()
	if bad > 0 {
		b.Fatalf("%d webhook requests failed their signature", bad)
	}
	hooked := 0
	for _, id := range ids {
		inApp, webhooks := map[string]int{}, 0
		for _, d := range ib.desk.Notify.Deliveries(id) {
			switch d.Channel {
			case directory.ChannelInApp:
				inApp[d.Recipient]++
				if d.State == notify.Failed {
					b.Fatalf("%s: in-app delivery %s failed: %s", id, d.ID, d.Error)
				}
			case directory.ChannelWebhook:
				if d.Unit != "gas_co" {
					continue // a unit without a webhook
				}
				webhooks++
				if d.State != notify.Delivered || seen[d.ID] != 1 {
					b.Fatalf("%s: webhook delivery %s is %s after %d attempts (%s) and reached the receiver %d times, want once",
						id, d.ID, d.State, d.Attempts, d.Error, seen[d.ID])
				}
				delete(seen, d.ID)
			}
		}
		if len(inApp) == 0 || webhooks == 0 {
			b.Fatalf("%s: %d in-app recipients, %d webhook deliveries", id, len(inApp), webhooks)
		}
		for who, n := range inApp {
			if n != 1 {
				b.Fatalf("%s: %s has %d in-app deliveries, want 1", id, who, n)
			}
		}
		hooked += webhooks
	}
	if len(seen) > 0 {
		b.Fatalf("the receiver got %d deliveries of no incident of the storm", len(seen))
	}
	slices.Sort(health)
	b.ReportMetric(float64(len(ids))/elapsed.Seconds(), "incidents/s")
	b.ReportMetric(quantile(health, 0.99), "p99-health-ms")
	b.ReportMetric(float64(hooked)/float64(len(ids)), "webhooks/incident")
}
