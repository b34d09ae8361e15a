package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chartDrawn resolves once the alarm details show a uPlot chart with data,
// to its canvas size, its number of points and how many of its pixels are
// painted.
const chartDrawn = `new Promise((resolve, reject) => {
	const deadline = Date.now() + 30000;
	const check = () => {
		const u = window.onemap.alarms.chart;
		const canvas = document.querySelector("#alarm-chart canvas");
		if (u && canvas && u.data[0].length > 0) {
			const ctx = canvas.getContext("2d");
			const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
			let painted = 0;
			for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
			return resolve({width: canvas.width, height: canvas.height, points: u.data[0].filter((_, i) => u.data[3][i] !== null).length, painted});
		}
		if (Date.now() > deadline) return reject(new Error("no chart with data: " + (document.querySelector(".alarm-chart-status") || {}).textContent));
		setTimeout(check, 200);
	};
	check();
})`

// stopped resolves once the map has finished moving. It polls rather than
// waits for "moveend": a promise only an event listener holds can be
// collected before the event, and the evaluation then fails.
const stopped = `new Promise(r => {
	const check = () => window.onemap.map.isMoving() ? setTimeout(check, 50) : r(true);
	check();
})`

type chartInfo struct {
	Width   int `json:"width"`
	Height  int `json:"height"`
	Points  int `json:"points"`
	Painted int `json:"painted"`
}

func TestBrowserAlarms(t *testing.T) {
	// An operator on duty, who acknowledges.
	dir := t.TempDir()
	addUser(t, dir, "zhangwei", "Zhang Wei", "operator")
	url := startServer(t, "--data-dir", dir)
	postRisingLeak(t, url)
	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 240*time.Second)
	defer cancel()
	failed := watchRequests(t, ctx)

	logInPage(t, ctx, url, "/", "zhangwei")
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)

	// The page asks for the alarms every few seconds.
	deadline := time.Now().Add(30 * time.Second)
	for {
		count := eval[int](t, ctx, `Number(document.getElementById("alarm-count").textContent) || 0`)
		if count == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("#alarm-count shows %d alarms after 30 s, want 3", count)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The list: one row per active alarm, most severe first.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("alarm-button")),
		chromedp.WaitVisible(chromedp.ID("alarm-list")),
		chromedp.WaitVisible(chromedp.CSS("#alarm-list .alarm-row")),
	); err != nil {
		t.Fatalf("open the alarm list: %v", err)
	}
	type row struct {
		ID    int64  `json:"id"`
		Level int    `json:"level"`
		Text  string `json:"text"`
	}
	rows := eval[[]row](t, ctx, `[...document.querySelectorAll("#alarm-list .alarm-row")].map(r => ({id: Number(r.dataset.id), level: Number(r.dataset.level), text: r.textContent}))`)
	if len(rows) == 0 {
		t.Fatal("the alarm list has no rows")
	}
	if len(rows) != 3 || rows[0].Level != 1 || rows[1].Level != 2 || rows[2].Level != 3 {
		t.Errorf("rows %+v, want levels 1, 2, 3: the most severe first", rows)
	}
	for _, r := range rows {
		if r.ID <= 0 || r.Level < 1 || r.Text == "" {
			t.Errorf("bad row %+v", r)
		}
	}
	if !strings.Contains(rows[0].Text, "级") {
		t.Errorf("row does not say its level in Chinese: %q", rows[0].Text)
	}
	// The alarm icons: one feature per active alarm, on top of the style,
	// and their halos blink.
	icons := eval[int](t, ctx, `window.onemap.map.getSource("alarms").getData().then(d => d.features.length)`)
	if icons == 0 {
		t.Error("no alarm icons on the map")
	}
	blinks := eval[bool](t, ctx, `new Promise(r => {
		const m = window.onemap.map;
		const a = JSON.stringify(m.getPaintProperty("alarms-halo", "circle-opacity"));
		setTimeout(() => r(a !== JSON.stringify(m.getPaintProperty("alarms-halo", "circle-opacity"))), 250);
	})`)
	if !blinks {
		t.Error("the alarm halos do not blink")
	}
	screenshot(t, ctx, "alarms.png")

	// The details of the most severe alarm: fields, changes, the curve.
	id := rows[0].ID
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#alarm-list .alarm-row[data-id="%d"]`, id))),
		chromedp.WaitVisible(chromedp.ID("alarm-detail")),
		chromedp.WaitVisible(chromedp.ID("alarm-ack-submit")),
	); err != nil {
		t.Fatalf("open the alarm's details: %v", err)
	}
	chart := eval[chartInfo](t, ctx, chartDrawn)
	if chart.Width == 0 || chart.Height == 0 || chart.Points == 0 || chart.Painted == 0 {
		t.Errorf("chart not drawn: %+v", chart)
	}
	t.Logf("chart %+v", chart)
	detail, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("alarm-detail")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"报警编号", "开始时间", "变化记录", "确认"} {
		if !strings.Contains(detail, want) {
			t.Errorf("details lack %q: %q", want, detail)
		}
	}

	// The alarming sensor's feature-state carries the most severe level of
	// its active alarms, and the sensor layer reads it.
	type sensorState struct {
		Sensor float64 `json:"sensor"`
		Level  int     `json:"level"`
		Want   int     `json:"want"`
		Paint  string  `json:"paint"`
	}
	// The live channel's snapshot of the view the details moved the map to
	// may still be on its way: wait for the state to settle.
	ss := waitJS[sensorState](t, ctx, `(() => {
		const m = window.onemap.map, al = window.onemap.alarms;
		const a = al.openAlarm;
		const levels = al.alarms.filter(x => x.sensor === a.sensor).map(x => x.level);
		const fs = m.getFeatureState({source: "onemap", sourceLayer: "sensor", id: a.sensor});
		const s = {sensor: a.sensor, level: fs.level || 0, want: levels.length ? Math.min(...levels) : 0,
			paint: JSON.stringify(m.getPaintProperty("sensor", "circle-color"))};
		return s.level >= 1 && s.level === s.want && s;
	})()`, 10*time.Second, "the alarming sensor's feature-state level")
	if ss.Level < 1 || ss.Level != ss.Want {
		t.Errorf("sensor %.0f: feature-state level %d, want %d", ss.Sensor, ss.Level, ss.Want)
	}
	if !strings.Contains(ss.Paint, "feature-state") {
		t.Errorf("the sensor layer does not read feature-state: %s", ss.Paint)
	}

	// The impact view: the scenario and its area on the map, the targets
	// and hazards inside it by distance; the toggle takes the area away.
	type impactInfo struct {
		Scenario string  `json:"scenario"`
		Radius   float64 `json:"radius"`
		Area     int     `json:"area"`
		Hits     int     `json:"hits"`
		Rows     int     `json:"rows"`
		Text     string  `json:"text"`
	}
	const impactNow = `new Promise((resolve, reject) => {
		const deadline = Date.now() + 20000;
		const check = () => {
			const m = window.onemap.map, im = window.onemap.alarms.impact, src = m.getSource("impact-area");
			if (im.data && src && document.getElementById("impact-hits")) {
				return src.getData().then(a => m.getSource("impact-hits").getData().then(h => resolve({
					scenario: im.data.scenario.id, radius: im.data.scenario.radius_m, area: a.features.length,
					hits: h.features.length, rows: document.querySelectorAll("#impact-hits .impact-hit").length,
					text: document.getElementById("impact").textContent})));
			}
			if (Date.now() > deadline) return reject(new Error("no impact view"));
			setTimeout(check, 200);
		};
		check();
	})`
	im := eval[impactInfo](t, ctx, impactNow)
	if im.Scenario == "" || im.Radius < 30 || im.Area != 1 || !strings.Contains(im.Text, "影响半径") || im.Rows != min(im.Hits, 12) {
		t.Errorf("impact view %+v", im)
	}
	t.Logf("impact: %s, %.0f m, %d targets and hazards", im.Scenario, im.Radius, im.Hits)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("impact-toggle"))); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `window.onemap.map.getSource("impact-area").getData().then(d => d.features.length)`); n != 0 {
		t.Errorf("the hidden impact area still has %d features", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("impact-toggle"))); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, stopped)
	screenshot(t, ctx, "alarm-impact.png")

	// Acknowledge it: the server names the logged-in user.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("alarm-ack-note"), "on my way"),
		chromedp.Click(chromedp.ID("alarm-ack-submit")),
		chromedp.WaitVisible(chromedp.ID("alarm-ack-done")),
	); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("alarm-ack-done")))
	if err != nil {
		t.Fatal(err)
	}
	alarm := ackOf(t, url, id)
	if alarm.Ack == nil || alarm.Ack.By != "zhangwei" || alarm.Ack.Note != "on my way" {
		t.Fatalf("GET /api/v1/alarms/%d: ack %+v, want by zhangwei", id, alarm.Ack)
	}
	if alarm.Ack.Name != "" && alarm.Ack.Name != "Zhang Wei" {
		t.Errorf("the acknowledgement names %q, want Zhang Wei", alarm.Ack.Name)
	}
	by := ackShown(alarm.Ack.Name, alarm.Ack.By)
	if !strings.Contains(done, by) {
		t.Errorf("the details do not show who acknowledged (%s): %q", by, done)
	}

	// Another range redraws the curve.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("alarm-range-7d"))); err != nil {
		t.Fatal(err)
	}
	pressed := eval[string](t, ctx, `new Promise(r => setTimeout(() => r(document.getElementById("alarm-range-7d").getAttribute("aria-pressed")), 300))`)
	if pressed != "true" {
		t.Errorf("7 d button aria-pressed %q", pressed)
	}
	if chart := eval[chartInfo](t, ctx, chartDrawn); chart.Points == 0 {
		t.Errorf("7 d chart has no points: %+v", chart)
	}
	eval[bool](t, ctx, stopped)
	screenshot(t, ctx, "alarm-detail.png")

	// In English: the language switch replaces the style; the alarm layers
	// and the sensor colours come back and the details speak English.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-switch"))); err != nil {
		t.Fatal(err)
	}
	back := eval[bool](t, ctx, fmt.Sprintf(`new Promise((resolve, reject) => {
		const m = window.onemap.map;
		const deadline = Date.now() + 30000;
		const check = () => {
			const ok = document.getElementById("alarm-title").textContent === "Alarms" &&
				m.getLayer("alarms-icon") && m.getLayer("alarms-halo") &&
				JSON.stringify(m.getPaintProperty("sensor", "circle-color")).includes("feature-state") &&
				(m.getFeatureState({source: "onemap", sourceLayer: "sensor", id: %.0f}).level || 0) > 0;
			if (ok) return resolve(true);
			if (Date.now() > deadline) return reject(new Error("the alarms did not come back after the language switch"));
			setTimeout(check, 200);
		};
		check();
	})`, ss.Sensor))
	if !back {
		t.Error("the alarms did not come back after the language switch")
	}
	detail, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("alarm-detail")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Started", "Changes", "Acknowledged by " + by} {
		if !strings.Contains(detail, want) {
			t.Errorf("English details lack %q: %q", want, detail)
		}
	}

	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests: %v", bad)
	}
}

// ackedAlarm is what the browser tests read of an acknowledged alarm.
type ackedAlarm struct {
	Ack *struct {
		By   string `json:"by"`
		Name string `json:"name"`
		Note string `json:"note"`
	} `json:"ack"`
}

// ackOf reads alarm id's acknowledgement from the API.
func ackOf(t *testing.T, url string, id int64) ackedAlarm {
	t.Helper()
	var alarm ackedAlarm
	res, err := http.Get(fmt.Sprintf("%s/api/v1/alarms/%d", url, id))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&alarm); err != nil {
		t.Fatal(err)
	}
	return alarm
}

// postRisingLeak has three gas detectors report a rising leak over the
// last 40 minutes: a level 1, a level 2 and a level 3 alarm that stay open
// while no more readings come.
func postRisingLeak(t *testing.T, url string) {
	t.Helper()
	var body strings.Builder
	now := time.Now().Truncate(time.Second)
	for i := 40; i >= 1; i-- {
		ts := now.Add(-time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)
		for code, peak := range map[string]float64{"GAS-000001": 60, "GAS-000002": 30, "GAS-000003": 8} {
			v := min(peak, 1+peak*float64(40-i)/30)
			fmt.Fprintf(&body, "{\"sensor\":%q,\"metric\":\"ch4_lel\",\"value\":%.1f,\"ts\":%q}\n", code, v, ts)
		}
	}
	resp, err := postIngest(url+"/api/v1/readings", "application/x-ndjson", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST readings: %s", resp.Status)
	}
}
