package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/onemap/onemap/layers"
)

// stoppableServer runs onemap serve on a fixed address and data directory,
// so that a test can stop it and start it again where the page expects it.
type stoppableServer struct {
	t      *testing.T
	addr   string
	dir    string
	cancel context.CancelFunc
	done   chan error
	args   []string
}

// newStoppableServer is a server on a fixed address and data directory,
// started with args besides.
func newStoppableServer(t *testing.T, args ...string) *stoppableServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &stoppableServer{t: t, addr: addr, dir: t.TempDir(), args: args}
	t.Cleanup(s.stop)
	return s
}

func (s *stoppableServer) url() string { return "http://" + s.addr }

// start runs the server and returns once it listens.
func (s *stoppableServer) start() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", s.addr, "--data-dir", s.dir, "--log-level", "warn"}, s.args...), pw, io.Discard)
		pw.Close()
	}()
	s.cancel, s.done = cancel, done
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`http://\S+`)
		for sc.Scan() {
			if re.MatchString(sc.Text()) {
				close(listening)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-listening:
	case err := <-done:
		s.cancel, s.done = nil, nil
		s.t.Fatalf("server exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		s.t.Fatal("server did not start within 30 s")
	}
}

// stop shuts the server down as SIGTERM would and waits for it.
func (s *stoppableServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("server stopped with %v", err)
		}
	case <-time.After(15 * time.Second):
		s.t.Error("server did not shut down within 15 s")
	}
	s.cancel, s.done = nil, nil
}

type liveSensor struct {
	ID       float64    `json:"id"`
	Location [2]float64 `json:"location"`
}

// sensorAt asks the API for a sensor's id and location.
func sensorAt(t testing.TB, url, code string) liveSensor {
	t.Helper()
	res, err := http.Get(url + "/api/v1/sensors/" + code)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s liveSensor
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil || res.StatusCode != 200 || s.ID == 0 {
		t.Fatalf("GET /api/v1/sensors/%s: %s %v %+v", code, res.Status, err, s)
	}
	return s
}

// lastReading is the time of the last reading posted: each is a second
// later at least, since a reading at the same time as another is a
// duplicate.
var lastReading time.Time

// postReading posts one reading, stamped now.
func postReading(t testing.TB, url, code, metric string, value float64) {
	t.Helper()
	ts := time.Now().UTC().Truncate(time.Second)
	if !ts.After(lastReading) {
		ts = lastReading.Add(time.Second)
	}
	lastReading = ts
	body := fmt.Sprintf(`[{"sensor":%q,"metric":%q,"value":%g,"ts":%q}]`, code, metric, value, ts.Format(time.RFC3339))
	res, err := postIngest(url+"/api/v1/readings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct {
		Accepted int `json:"accepted"`
	}
	json.NewDecoder(res.Body).Decode(&answer)
	if res.StatusCode != 200 || answer.Accepted != 1 {
		t.Fatalf("POST readings: %s, %d accepted", res.Status, answer.Accepted)
	}
}

// waitJS resolves once the expression is truthy, to its value, or fails
// the test after the timeout with what the expression last gave.
func waitJS[T any](t *testing.T, ctx context.Context, expr string, timeout time.Duration, what string) T {
	t.Helper()
	js := fmt.Sprintf(`new Promise((resolve, reject) => {
		const deadline = Date.now() + %d;
		const check = () => {
			let v;
			try { v = (%s); } catch (e) { v = undefined; }
			if (v) return resolve(v);
			if (Date.now() > deadline) return reject(new Error("timed out"));
			setTimeout(check, 50);
		};
		check();
	})`, timeout.Milliseconds(), expr)
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.onemap && window.onemap.live && {status: window.onemap.live.status, seq: window.onemap.live.seq, messages: window.onemap.live.messages, errors: window.onemap.live.errors})`))
		screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-")+".png")
		t.Fatalf("%s: not within %v (live %s): %v", what, timeout, state, err)
	}
	return v
}

// watchExceptions fails the test for every uncaught exception in the page.
func watchExceptions(t *testing.T, ctx context.Context) {
	err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*runtime.EventExceptionThrown); ok {
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			t.Errorf("exception in the page: %s (%s:%d)", msg, d.URL, d.LineNumber)
		}
	})
	if err != nil {
		t.Fatalf("listen to the page's exceptions: %v", err)
	}
}

// drawn resolves once the map has every tile and has drawn a few frames
// since; blinking alarms keep the map from being idle.
const drawn = `new Promise(r => {
	const m = window.onemap.map;
	const check = () => m.areTilesLoaded() ? setTimeout(() => r(true), 300) : setTimeout(check, 100);
	check();
})`

// liveIsUp is true once the page's live channel has its first snapshot.
const liveIsUp = `window.onemap && window.onemap.live && window.onemap.live.connected && window.onemap.live.snapshots > 0`

// sensorLevel is the sensor's feature-state level on the map.
func sensorLevel(id float64) string {
	return fmt.Sprintf(`(window.onemap.map.getFeatureState({source: "onemap", sourceLayer: "sensor", id: %.0f}).level || 0)`, id)
}

// tickerHas is the text of the ticker's item of the sensor's alarm, if any.
func tickerHas(code string) string {
	return fmt.Sprintf(`([...document.querySelectorAll("#ticker-list .ticker-item")].find(li => li.textContent.includes(%q)) || {}).textContent`, code)
}

// alarmArrives posts a level 1 reading at GAS-000001 and checks that the
// page colours the sensor and lists the alarm in the ticker within 2 s.
func alarmArrives(t *testing.T, ctx context.Context, url string, s liveSensor) string {
	t.Helper()
	before := eval[int](t, ctx, `window.onemap.live.messages`)
	start := time.Now()
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	waitJS[bool](t, ctx, sensorLevel(s.ID)+` === 1`, 5*time.Second, "sensor feature-state level 1")
	item := waitJS[string](t, ctx, tickerHas("GAS-000001"), 5*time.Second, "the ticker shows the alarm")
	took := time.Since(start)
	if took > 2*time.Second {
		t.Errorf("the alarm took %v to reach the page, want at most 2 s", took)
	}
	t.Logf("alarm on the page in %v: %q", took.Round(time.Millisecond), item)
	if after := eval[int](t, ctx, `window.onemap.live.messages`); after <= before {
		t.Errorf("no message came over the socket (%d before, %d after)", before, after)
	}
	if !strings.Contains(item, "1") || !strings.Contains(item, "60") {
		t.Errorf("ticker item %q does not show the level and value", item)
	}
	// The socket, not polling, brings the alarms while it is open.
	if polling := eval[bool](t, ctx, `window.onemap.alarms.polling`); polling {
		t.Error("alarms.js still polls while the socket is open")
	}
	return item
}

func TestBrowserLiveDesktop(t *testing.T) {
	liveDesktop(t, startServer(t))
}

func liveDesktop(t *testing.T, url string) {
	s := sensorAt(t, url, "GAS-000001")
	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	failed := watchRequests(t, ctx)
	watchExceptions(t, ctx)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"), chromedp.WaitReady(chromedp.CSS("#map"))); err != nil {
		t.Fatalf("load the map: %v", err)
	}
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
	waitJS[bool](t, ctx, liveIsUp, 15*time.Second, "the live channel")

	// Move to the sensor: the page subscribes to the new viewport.
	snaps := eval[int](t, ctx, `window.onemap.live.snapshots`)
	eval[bool](t, ctx, idle(fmt.Sprintf(`m.jumpTo({center: [%f, %f], zoom: 16})`, s.Location[0], s.Location[1])))
	waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.live.snapshots > %d`, snaps), 5*time.Second, "a snapshot of the new viewport")

	riskBefore := eval[float64](t, ctx, `window.onemap.live.riskVersion`)
	alarmArrives(t, ctx, url, s)
	// Only the detector alarms among the sensors in view.
	if n := eval[int](t, ctx, `[...window.onemap.live.sensors.values()].filter(ms => [...ms.values()].some(m => m.level > 0)).length`); n != 1 {
		t.Errorf("%d sensors with a level in the live state, want 1", n)
	}
	// The risk zones get a new version with the alarm, and their own
	// source's tiles carry it.
	tiles := waitJS[string](t, ctx, fmt.Sprintf(`window.onemap.live.riskVersion > %.0f && window.onemap.map.getSource("onemap-live").tiles[0]`, riskBefore), 5*time.Second, "a new risk zone version")
	if !strings.Contains(tiles, "/tiles/risk_zone/") || !strings.Contains(tiles, "?v=") {
		t.Errorf("risk zone tiles %q, want the layer's version in the URL", tiles)
	}
	if n := eval[int](t, ctx, `window.onemap.map.getStyle().layers.filter(l => l.source === "onemap-live" && l.metadata && l.metadata["onemap:layer"] === "risk_zone").length`); n == 0 {
		t.Error("no risk_zone layer draws from the versioned source")
	}
	count := waitJS[string](t, ctx, `document.getElementById("alarm-count").textContent !== "0" && document.getElementById("alarm-count").textContent`, 2*time.Second, "the alarm count")
	if count != "1" {
		t.Errorf("#alarm-count %q, want 1", count)
	}
	// A level 1 alarm sounds, or is counted as blocked until a gesture.
	sounds := eval[map[string]int](t, ctx, `window.onemap.ticker.sounds`)
	if sounds["played"]+sounds["blocked"] == 0 {
		t.Errorf("no tone for a level 1 alarm: %v", sounds)
	}
	// The mute toggle is remembered.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("ticker-mute"))); err != nil {
		t.Fatal(err)
	}
	if m := eval[string](t, ctx, `localStorage.getItem("onemap.mute") + "," + document.getElementById("ticker-mute").getAttribute("aria-pressed")`); m != "1,true" {
		t.Errorf("after the mute toggle: %q, want 1,true", m)
	}
	// The alarm clears: its icon and the sensor's colour go.
	postReading(t, url, "GAS-000001", "ch4_lel", 0)
	waitJS[bool](t, ctx, sensorLevel(s.ID)+` === 0 && window.onemap.live.alarms.size === 0`, 5*time.Second, "the alarm clears")
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	waitJS[bool](t, ctx, sensorLevel(s.ID)+` === 1`, 5*time.Second, "the alarm again")
	// A lost socket reconnects and resumes from its last seq: the reading
	// sent meanwhile arrives without a snapshot.
	resumed := eval[int](t, ctx, `window.onemap.live.drop(), window.onemap.live.resumed`)
	waitJS[bool](t, ctx, `window.onemap.live.status === "reconnecting" || !window.onemap.live.connected`, 2*time.Second, "the loss seen")
	postReading(t, url, "GAS-000001", "ch4_lel", 70)
	waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.live.connected && window.onemap.live.resumed > %d &&
		window.onemap.live.sensors.get(%.0f).get("ch4_lel").value === 70`, resumed, s.ID), 5*time.Second, "resumed with the reading")
	// The alarm list holds the whole city's alarms, not only those in view.
	postReading(t, url, "GAS-000003", "ch4_lel", 30)
	waitJS[bool](t, ctx, `document.getElementById("alarm-count").textContent === "2"`, 2*time.Second, "an alarm out of view in the count")
	eval[bool](t, ctx, drawn)
	screenshot(t, ctx, "live-desktop.png")

	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests: %v", bad)
	}
}

func TestBrowserLivePhone(t *testing.T) {
	// The responder on duty may acknowledge: an operator.
	dir := t.TempDir()
	addUser(t, dir, "lina", "Li Na", "operator")
	livePhone(t, startServer(t, "--data-dir", dir))
}

// livePhone tests the phone view of the server at url, whose users include
// the operator lina.
func livePhone(t *testing.T, url string) {
	s := sensorAt(t, url, "GAS-000001")
	ctx := browser(t, 390, 844)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	failed := watchRequests(t, ctx)
	watchExceptions(t, ctx)

	// The responder stands about 700 m north of the detector.
	lat, lon, acc := s.Location[1]+700.0/111195, s.Location[0], 10.0
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: url,
	}); err != nil {
		t.Fatalf("grant geolocation: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
		Latitude: &lat, Longitude: &lon, Accuracy: &acc,
	}); err != nil {
		t.Fatalf("emulate the position: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	logInPage(t, ctx, url, "/?view=phone", "lina")
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
	waitJS[bool](t, ctx, liveIsUp+` && !!window.onemap.phone.position`, 15*time.Second, "the live channel around the position")
	if r := eval[float64](t, ctx, `window.onemap.phone.radius`); r != 2000 {
		t.Errorf("radius %v, want 2000 m by default", r)
	}

	alarmArrives(t, ctx, url, s)
	type nearRow struct {
		ID       int64  `json:"id"`
		Distance int    `json:"distance"`
		Text     string `json:"text"`
	}
	row := waitJS[nearRow](t, ctx, `(() => { const r = document.querySelector("#near-list .near-row"); return r && {id: Number(r.dataset.id), distance: Number(r.dataset.distance), text: r.querySelector(".near-distance").textContent}; })()`, 2*time.Second, "the near-me list")
	if math.Abs(float64(row.Distance)-700) > 30 || !strings.Contains(row.Text, "米") {
		t.Errorf("near-me row %+v, want about 700 m, shown in metres", row)
	}
	eval[bool](t, ctx, drawn)
	screenshot(t, ctx, "live-phone.png")

	// Acknowledge it from the list: the details' form, as on the desktop,
	// as the user logged in.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#near-list .near-row[data-id="%d"] .near-ack`, row.ID))),
		chromedp.WaitVisible(chromedp.ID("alarm-ack-submit")),
		chromedp.SendKeys(chromedp.ID("alarm-ack-note"), "on site"),
		chromedp.Click(chromedp.ID("alarm-ack-submit")),
		chromedp.WaitVisible(chromedp.ID("alarm-ack-done")),
	); err != nil {
		t.Fatalf("acknowledge from the phone: %v", err)
	}
	res, err := http.Get(fmt.Sprintf("%s/api/v1/alarms/%d", url, row.ID))
	if err != nil {
		t.Fatal(err)
	}
	var alarm struct {
		Ack *struct {
			By string `json:"by"`
		} `json:"ack"`
	}
	json.NewDecoder(res.Body).Decode(&alarm)
	res.Body.Close()
	if alarm.Ack == nil || alarm.Ack.By != "lina" {
		t.Errorf("alarm %d: ack %+v, want by lina", row.ID, alarm.Ack)
	}
	screenshot(t, ctx, "live-phone-ack.png")

	// A smaller circle leaves the alarm outside.
	eval[bool](t, ctx, `(() => { const r = document.getElementById("near-radius"); r.value = "500"; r.dispatchEvent(new Event("input")); r.dispatchEvent(new Event("change")); return true; })()`)
	waitJS[bool](t, ctx, `window.onemap.phone.radius === 500 && document.querySelectorAll("#near-list .near-row").length === 0`, 5*time.Second, "the alarm outside a 500 m circle")

	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests: %v", bad)
	}
}

func TestBrowserLiveScreen(t *testing.T) {
	srv := newStoppableServer(t)
	srv.start()
	liveScreen(t, srv.url(), srv.stop, srv.start)
}

// liveScreen tests the big screen of the server at url; stop and start
// restart the server on the same address and data directory.
func liveScreen(t *testing.T, url string, stop, start func()) {
	s := sensorAt(t, url, "GAS-000001")
	ctx := browser(t, 1920, 1080)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	failed := watchRequests(t, ctx)
	watchExceptions(t, ctx)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/?view=screen"), chromedp.WaitReady(chromedp.CSS("#map"))); err != nil {
		t.Fatalf("load the map: %v", err)
	}
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
	waitJS[bool](t, ctx, liveIsUp, 15*time.Second, "the live channel")
	if legend := eval[string](t, ctx, `getComputedStyle(document.getElementById("legend")).display`); legend != "none" {
		t.Errorf("the legend shows on the big screen (display %q)", legend)
	}
	// The whole city is in view.
	if in := eval[bool](t, ctx, `(() => { const b = window.onemap.map.getBounds(); return b.contains([117.22, 31.80]) && b.contains([117.3045, 31.8723]); })()`); !in {
		t.Error("the big screen does not show the whole city")
	}

	alarmArrives(t, ctx, url, s)
	counts := func() string {
		return waitJS[string](t, ctx, `document.getElementById("screen-total").textContent === "1" &&
			document.querySelector('#screen-levels li[data-key="1"]').dataset.count === "1" &&
			document.querySelector('#screen-domains li[data-key="gas"]').dataset.count === "1" &&
			document.querySelector("#screen-districts li").dataset.count === "1" &&
			document.getElementById("screen-panel").textContent`, 5*time.Second, "the counts by level, domain and district")
	}
	text := counts()
	if !strings.Contains(text, "塘西街道") {
		t.Errorf("the counts by district do not name the sensor's district: %q", text)
	}
	trend := eval[[][]float64](t, ctx, `window.onemap.screen.trend`)
	if len(trend) != 3 || len(trend[1]) < 60 || trend[1][len(trend[1])-1] != 1 {
		t.Errorf("trend: %d series, last active count %v", len(trend), trend[1][len(trend[1])-1:])
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#screen-trend canvas").length`); n == 0 {
		t.Error("no trend chart")
	}
	eval[bool](t, ctx, drawn)
	screenshot(t, ctx, "live-screen.png")

	// The server restarts: the page says it is reconnecting, then is live
	// again with the same state, without a reload.
	eval[bool](t, ctx, `window.__notReloaded = true`)
	connects := eval[int](t, ctx, `window.onemap.live.connects`)
	okBefore := len(failed.list())
	stop()
	waitJS[bool](t, ctx, `window.onemap.live.status === "reconnecting" && !document.getElementById("live-banner").hidden &&
		document.getElementById("live-status").dataset.state === "reconnecting"`, 5*time.Second, "the reconnecting state")
	screenshot(t, ctx, "live-screen-reconnecting.png")
	start()
	waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.live.connected && window.onemap.live.connects > %d && document.getElementById("live-banner").hidden`, connects), 20*time.Second, "connected again")
	if !eval[bool](t, ctx, `window.__notReloaded === true`) {
		t.Error("the page reloaded")
	}
	waitJS[bool](t, ctx, sensorLevel(s.ID)+` === 1`, 5*time.Second, "the sensor's level after the restart")
	counts()
	waitJS[string](t, ctx, tickerHas("GAS-000001"), 2*time.Second, "the ticker after the restart")
	screenshot(t, ctx, "live-screen-again.png")

	// While the server was down, only the fallback's requests may fail.
	bad := failed.list()
	for i, b := range bad {
		if i >= okBefore && strings.Contains(b, "net::ERR_") {
			continue
		}
		t.Errorf("failed request: %s", b)
	}
}

// With a view token and no anonymous viewing, the page shows the map and
// opens the live channel with the token of its URL, and keeps it for the
// next visit; a login forgets it.
func TestBrowserLiveToken(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "duty", "王芳", "operator")
	url := startServer(t, "--data-dir", dir, "--view-token", "ops-2026", "--anonymous=false")
	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	watchExceptions(t, ctx)
	failed := watchRequests(t, ctx)
	for _, page := range []string{"/?token=ops-2026", "/"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+page), chromedp.WaitReady(chromedp.CSS("#map"))); err != nil {
			t.Fatalf("load %s: %v", page, err)
		}
		waitJS[bool](t, ctx, liveIsUp, 15*time.Second, "the live channel of "+page)
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		if n := eval[int](t, ctx, renderedCount(layers.GasPipe)); n == 0 {
			t.Errorf("%s: no gas pipes drawn with the view token", page)
		}
		if where := eval[string](t, ctx, `location.pathname`); where != "/" {
			t.Errorf("%s: the page went to %s", page, where)
		}
	}
	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests with the view token: %v", bad)
	}
	// A user logging in on the screen's browser asks as the user, not as
	// the screen.
	logInPage(t, ctx, url, "/", "duty")
	if kept := eval[string](t, ctx, `localStorage.getItem("onemap.token") || ""`); kept != "" {
		t.Errorf("the view token %q is still kept after a login", kept)
	}
	waitJS[bool](t, ctx, liveIsUp, 15*time.Second, "the live channel after the login")
	// Without the token the server refuses the socket before the upgrade.
	resp, err := http.Get(url + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /ws without a token: %d, want 401", resp.StatusCode)
	}
}
