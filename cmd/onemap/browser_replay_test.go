package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// mustDo sends a request of ws and fails the test unless it succeeds.
func mustDo(t *testing.T, ws *webSession, method, path, body string) string {
	t.Helper()
	st, b, err := ws.do(method, path, body)
	if err != nil || st/100 != 2 {
		t.Fatalf("%s %s: %d %s %v", method, path, st, b, err)
	}
	return b
}

// walkToPublished opens an incident of the proposals' first group and
// takes it through verification, drafting, review and signature to
// publication; it returns the incident's id.
func walkToPublished(t *testing.T, url string) string {
	t.Helper()
	op := apiLogInAs(t, url, "duty", testPassword)
	an := apiLogInAs(t, url, "ana", testPassword)
	boss := apiLogInAs(t, url, "chief", testPassword)
	var props struct{ Proposals []struct{ Alarms []uint64 } }
	json.Unmarshal([]byte(mustDo(t, op, "GET", "/api/v1/incidents/proposals", "")), &props)
	if len(props.Proposals) == 0 {
		t.Fatal("no proposal for the active alarm")
	}
	var opened struct{ Incident struct{ ID string } }
	json.Unmarshal([]byte(mustDo(t, op, "POST", "/api/v1/incidents", fmt.Sprintf(`{"alarms":%s}`, jsonOf(props.Proposals[0].Alarms)))), &opened)
	id := "/api/v1/incidents/" + opened.Incident.ID
	mustDo(t, op, "POST", id+"/verify", `{"outcome":"confirmed"}`)
	var sug struct{ Warning json.RawMessage }
	json.Unmarshal([]byte(mustDo(t, an, "GET", id+"/suggestion", "")), &sug)
	mustDo(t, an, "POST", id+"/draft", `{"warning":`+string(sug.Warning)+`}`)
	mustDo(t, an, "POST", id+"/submit", `{}`)
	mustDo(t, boss, "POST", id+"/review", `{"approve":true}`)
	mustDo(t, boss, "POST", id+"/sign", `{}`)
	mustDo(t, boss, "POST", id+"/publish", `{}`)
	return opened.Incident.ID
}

// The replay on the map: an incident is published, a responder's phone
// sends its position while it has a task and the desk sees it live; once
// archived, its replay before the warning shows no area and after it the
// area and the sensor in its alarm's colour, with the actions so far.
func TestBrowserReplay(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "duty", "王芳", "operator")
	addUser(t, dir, "ana", "李研", "analyst")
	addUser(t, dir, "chief", "张总", "commander")
	addUser(t, dir, "crew", "赵队", "responder")
	url := startServer(t, "--data-dir", dir)
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	activeAlarm(t, url, "GAS-000001")
	id := walkToPublished(t, url)
	boss := apiLogInAs(t, url, "chief", testPassword)
	path := "/api/v1/incidents/" + id
	var resp struct {
		Response struct{ Tasks []struct{ ID string } }
	}
	json.Unmarshal([]byte(mustDo(t, boss, "GET", path+"/response", "")), &resp)
	if len(resp.Response.Tasks) == 0 {
		t.Fatal("the published warning opened no task")
	}
	task := resp.Response.Tasks[0].ID
	mustDo(t, boss, "POST", "/api/v1/tasks/"+task+"/assign", `{"assignee":"crew"}`)

	// The responder's phone, 500 m north of the detector, sends its position.
	sn := sensorAt(t, url, "GAS-000001")
	t.Run("PhonePosition", func(t *testing.T) {
		pctx, cancel := context.WithTimeout(browser(t, 390, 844), 60*time.Second)
		defer cancel()
		watchExceptions(t, pctx)
		lat, lon, acc := sn.Location[1]+500.0/111195, sn.Location[0], 10.0
		if _, err := chromedp.CallBrowser(pctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: url,
		}); err != nil {
			t.Fatalf("grant geolocation: %v", err)
		}
		if _, err := chromedp.Call(pctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
			Latitude: &lat, Longitude: &lon, Accuracy: &acc,
		}); err != nil {
			t.Fatalf("emulate the position: %v", err)
		}
		logInPage(t, pctx, url, "/?view=phone", "crew")
		eval[bool](t, pctx, `window.onemap.ready.then(() => true)`)
		got := waitJS[map[string]any](t, pctx, `window.onemap.tasks.lastPosition`, 20*time.Second, "the position sent")
		if got["login"] != "crew" || got["incident"] != id {
			t.Errorf("the position sent is %v", got)
		}
	})
	// A second position later, nearer the site, makes a path.
	crew := apiLogInAs(t, url, "crew", testPassword)
	mustDo(t, crew, "POST", "/api/v1/positions", fmt.Sprintf(`{"incident":%q,"task":%q,"position":{"lon":%f,"lat":%f}}`, id, task, sn.Location[0], sn.Location[1]+200.0/111195))

	ctx := browser(t, 1440, 900)
	ctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	watchExceptions(t, ctx)
	logInPage(t, ctx, url, "/", "chief")
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)

	t.Run("LivePositions", func(t *testing.T) {
		eval[bool](t, ctx, fmt.Sprintf(`window.onemap.incidents.open(%q).then(() => true)`, id))
		login := waitJS[string](t, ctx, `(window.onemap.incidents.positions[0] || {}).login`, 15*time.Second, "the responder's position")
		if login != "crew" {
			t.Errorf("the position of %q, want crew", login)
		}
		n := waitJS[int](t, ctx, `window.onemap.map.getSource("positions") && window.onemap.map.getLayer("positions-label") && window.onemap.map.querySourceFeatures("positions").length`, 10*time.Second, "the position drawn")
		if n != 1 {
			t.Errorf("%d positions drawn, want 1", n)
		}
		// The links: the printable report in the page's language, the JSON
		// export and the warning's CAP document.
		links := eval[map[string]string](t, ctx, `(() => { const g = (id) => { const a = document.getElementById(id); return a ? a.getAttribute("href") + " " + (a.target || a.download) : ""; };
			return {html: g("incident-report-html"), json: g("incident-report-json"), cap: g("incident-cap")}; })()`)
		if links["html"] != path+"/report.html?lang=zh _blank" || links["json"] != path+"/report "+id+".json" || links["cap"] != "/api/v1/warnings/"+id+"/cap.xml _blank" {
			t.Errorf("the incident's links %v", links)
		}
		for _, href := range []string{path + "/report.html?lang=zh", path + "/report", "/api/v1/warnings/" + id + "/cap.xml"} {
			if st, _, err := boss.do("GET", href, ""); err != nil || st != 200 {
				t.Errorf("%s: %d %v", href, st, err)
			}
		}
	})

	for _, step := range []string{"respond", "resolve", "release", "archive"} {
		mustDo(t, boss, "POST", path+"/"+step, `{}`)
	}

	t.Run("Replay", func(t *testing.T) {
		eval[bool](t, ctx, fmt.Sprintf(`window.onemap.incidents.open(%q).then(() => true)`, id))
		waitJS[bool](t, ctx, incidentState("archived"), 10*time.Second, "the archived incident")
		clickID(t, ctx, "incident-replay")
		waitJS[bool](t, ctx, `window.onemap.replay.loaded && !document.getElementById("replay-panel").hidden`, 10*time.Second, "the replay")
		if v := eval[string](t, ctx, `window.onemap.map.getLayoutProperty("warnings-fill", "visibility") || ""`); v != "none" {
			t.Errorf("the live warnings show during the replay (%q)", v)
		}
		from := eval[float64](t, ctx, `Date.parse(window.onemap.replay.data.warnings[0].from)`)
		level := eval[int](t, ctx, `window.onemap.replay.data.alarms[0].level`)
		// slide moves the slider as a user does and waits for the map.
		slide := func(ms float64) {
			eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById("replay-slider"); s.value = String(%f); s.dispatchEvent(new Event("input")); return true; })()`, ms))
			eval[bool](t, ctx, drawn)
		}
		// At the replay's start, before the alarm, the sensor is normal.
		slide(eval[float64](t, ctx, `Date.parse(window.onemap.replay.data.from)`))
		if s := eval[map[string]any](t, ctx, `window.onemap.replay.state.sensors[0]`); s["level"] != 0.0 || s["colour"] != "#10b981" {
			t.Errorf("the sensor before its alarm %v, want level 0 in green", s)
		}
		slide(from - 1000)
		if n := eval[int](t, ctx, `window.onemap.replay.state.warnings.length + window.onemap.map.queryRenderedFeatures({layers: ["replay-warnings-fill"]}).length`); n != 0 {
			t.Errorf("before the warning %d areas are drawn", n)
		}
		slide(from + 1000)
		n := waitJS[int](t, ctx, `window.onemap.map.queryRenderedFeatures({layers: ["replay-warnings-fill"]}).length`, 5*time.Second, "the area drawn")
		if n == 0 || eval[int](t, ctx, `window.onemap.replay.state.warnings.length`) != 1 {
			t.Errorf("after the warning %d areas drawn", n)
		}
		sensor := waitJS[map[string]any](t, ctx, `window.onemap.map.queryRenderedFeatures({layers: ["replay-sensors"]})[0]?.properties`, 5*time.Second, "the sensor drawn")
		want := map[int]string{1: "#b91c1c", 2: "#f97316", 3: "#fde047"}[level]
		if sensor["colour"] != want || sensor["level"] != float64(level) {
			t.Errorf("the sensor is drawn %v, want level %d in %s", sensor, level, want)
		}
		acts := eval[[]string](t, ctx, `[...document.querySelectorAll("#replay-actions .replay-action")].map(li => li.textContent)`)
		joined := strings.Join(acts, "\n")
		for _, w := range []string{"已发布", "已签发", "chief"} {
			if !strings.Contains(joined, w) {
				t.Errorf("the actions up to the warning lack %q: %q", w, acts)
			}
		}
		if strings.Contains(joined, "已归档") {
			t.Error("the actions list the archive before it happened")
		}
		if !eval[bool](t, ctx, `!!window.onemap.replay.chart && !!document.querySelector("#replay-chart .u-wrap")`) {
			t.Error("no chart of the curves")
		}
		// At the end the path and the last position of the responder.
		slide(eval[float64](t, ctx, `Date.parse(window.onemap.replay.data.to)`))
		if got := eval[string](t, ctx, `window.onemap.replay.state.positions.map(p => p.login).join(",") + " " + window.onemap.replay.state.paths.filter(([, ps]) => ps.length > 1).length`); got != "crew 1" {
			t.Errorf("the responders at the end: %q, want crew with a path", got)
		}
		// Play moves the time on from the start; pause stops it.
		slide(eval[float64](t, ctx, `Date.parse(window.onemap.replay.data.from)`))
		at := eval[float64](t, ctx, `window.onemap.replay.at`)
		clickID(t, ctx, "replay-play")
		waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.replay.at > %f`, at), 10*time.Second, "the replay playing")
		clickID(t, ctx, "replay-play")
		if eval[string](t, ctx, `document.getElementById("replay-play").dataset.playing`) != "false" {
			t.Error("the replay plays on after pause")
		}
		slide(from + 1000)
		// In English the actions read in English, and the live map stays hidden.
		clickID(t, ctx, "lang-switch")
		acts = waitJS[[]string](t, ctx, `document.documentElement.lang === "en" && [...document.querySelectorAll("#replay-actions .replay-action")].map(li => li.textContent)`, 5*time.Second, "the English actions")
		if joined := strings.Join(acts, "\n"); !strings.Contains(joined, "Published") || !strings.Contains(joined, "Task assigned") {
			t.Errorf("the actions in English %q", acts)
		}
		eval[bool](t, ctx, drawn)
		waitJS[bool](t, ctx, `window.onemap.map.queryRenderedFeatures({layers: ["replay-warnings-fill"]}).length > 0`, 5*time.Second, "the area after the language switch")
		if v := eval[string](t, ctx, `["warnings-fill", "alarms-halo", "alarms-icon"].map(id => window.onemap.map.getLayoutProperty(id, "visibility") || "visible").join(",")`); v != "none,none,none" {
			t.Errorf("the live layers during the replay in English: %s", v)
		}
		clickID(t, ctx, "lang-switch")
		waitJS[bool](t, ctx, `document.documentElement.lang === "zh-CN"`, 5*time.Second, "back in Chinese")
		eval[bool](t, ctx, drawn)
		screenshot(t, ctx, "incident-replay.png")
		clickID(t, ctx, "replay-close")
		waitJS[bool](t, ctx, `!window.onemap.replay.active && ["warnings-fill", "alarms-halo", "alarms-icon"].every(id => window.onemap.map.getLayoutProperty(id, "visibility") !== "none") && window.onemap.map.querySourceFeatures("replay-warnings").length === 0`, 5*time.Second, "the live map back")
	})
}

// The alarm analysis: two alarms on one asset are proposed as one group,
// which the operator splits, opening an incident of one and verifying it
// as false; the chart counts both by level, the false-alarm rates count one
// of two verified false, its time to verify in words; the big screen charts
// the last 30 days by level.
func TestBrowserStats(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "duty", "王芳", "operator")
	url := startServer(t, "--data-dir", dir)
	// Two detectors on one drainage manhole.
	postReading(t, url, "GAS-001361", "ch4_lel", 60)
	postReading(t, url, "DRN-000225", "ch4_lel", 60)
	first := activeAlarm(t, url, "GAS-001361")
	second := activeAlarm(t, url, "DRN-000225")

	ctx := browser(t, 1440, 900)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	watchExceptions(t, ctx)
	logInPage(t, ctx, url, "/", "duty")
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)

	t.Run("ProposalSplit", func(t *testing.T) {
		clickID(t, ctx, "incident-button")
		group := waitJS[string](t, ctx, `(document.querySelector("#incident-proposals .incident-proposal") || {dataset: {}}).dataset.alarms`, 10*time.Second, "the proposal")
		if group != fmt.Sprintf("%d,%d", min(first, second), max(first, second)) {
			t.Fatalf("the proposal groups alarms %q, want %d and %d together", group, first, second)
		}
		// The second alarm is left out: the incident takes the first alone.
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const li = document.querySelector("#incident-proposals .incident-proposal"); li.querySelector('input[value="%d"]').click(); li.querySelector(".incident-proposal-open").click(); return true; })()`, second))
		waitJS[bool](t, ctx, incidentState("verifying"), 10*time.Second, "the incident opened from the proposal")
		if got := eval[[]float64](t, ctx, `window.onemap.incidents.detail.incident.alarms`); len(got) != 1 || int64(got[0]) != first {
			t.Errorf("the incident has alarms %v, want %d alone", got, first)
		}
		// A false alarm, caused by maintenance.
		eval[bool](t, ctx, `window.onemap.incidents.act("verify", {outcome: "false_alarm", cause: "maintenance", reason: "维护作业触发"}).then(() => true)`)
		waitJS[bool](t, ctx, incidentState("false_alarm"), 10*time.Second, "the false alarm")
		// The alarm left out is proposed still, alone.
		clickID(t, ctx, "incident-back")
		rest := waitJS[string](t, ctx, `(document.querySelector("#incident-proposals .incident-proposal") || {dataset: {}}).dataset.alarms`, 10*time.Second, "the rest proposed")
		if rest != fmt.Sprint(second) {
			t.Errorf("after the split the proposal is %q, want %d", rest, second)
		}
	})

	t.Run("Panel", func(t *testing.T) {
		clickID(t, ctx, "stats-button")
		total := waitJS[int](t, ctx, `window.onemap.stats.counts && !!document.querySelector("#stats-chart .u-wrap") && window.onemap.stats.counts.total`, 10*time.Second, "the chart")
		if total != 2 {
			t.Errorf("the chart counts %d alarms, want 2", total)
		}
		if head := eval[string](t, ctx, `document.querySelector("#stats-panel h3").textContent`); !strings.Contains(head, fmt.Sprintf("共 %d 条", total)) {
			t.Errorf("the chart's heading %q", head)
		}
		row := waitJS[[]string](t, ctx, `document.querySelector('#stats-rates tr[data-key="all"]') && [...document.querySelectorAll('#stats-rates tr[data-key="all"] td')].map(td => td.textContent)`, 10*time.Second, "the false-alarm rates")
		if len(row) != 5 || row[0] != "合计" || row[1] != "2" || row[2] != "1" || row[3] != "1" || row[4] != "100%" {
			t.Errorf("the false-alarm rates' total row %q", row)
		}
		if kind := eval[string](t, ctx, `document.querySelector("#stats-rates tbody tr td").textContent`); kind != "可燃气体探测器" && kind != "硫化氢探测器" {
			t.Errorf("the sensor kind reads %q, want its name", kind)
		}
		verify := eval[[]string](t, ctx, `[...document.querySelectorAll('#stats-durations tr[data-key="verify"] td')].map(td => td.textContent)`)
		if len(verify) != 4 || verify[1] != "1" || !strings.Contains(verify[2], "秒") && !strings.Contains(verify[2], "分") {
			t.Errorf("the time to verify %q, want it in words", verify)
		}
		// By month, the alarms fall in this month.
		eval[bool](t, ctx, `(() => { const s = document.getElementById("stats-group"); s.value = "month"; s.dispatchEvent(new Event("change")); return true; })()`)
		months := waitJS[[]any](t, ctx, `window.onemap.stats.counts.group_by === "month" && window.onemap.stats.counts.periods`, 10*time.Second, "the counts by month")
		if last := eval[int](t, ctx, `(() => { const c = window.onemap.stats.counts; return c.series.reduce((n, s) => n + s.counts[s.counts.length - 1], 0); })()`); len(months) != 12 || last != 2 {
			t.Errorf("by month %d periods, %d alarms in the last, want 12 and 2", len(months), last)
		}
		eval[bool](t, ctx, `(() => { const s = document.getElementById("stats-group"); s.value = "day"; s.dispatchEvent(new Event("change")); return true; })()`)
		waitJS[bool](t, ctx, `window.onemap.stats.counts.group_by === "day" && !!document.querySelector("#stats-chart .u-wrap")`, 10*time.Second, "the counts by day")
		eval[bool](t, ctx, drawn)
		screenshot(t, ctx, "stats.png")
		// In English, by domain.
		clickID(t, ctx, "lang-switch")
		waitJS[bool](t, ctx, `document.documentElement.lang === "en" && document.querySelector("#stats-panel h3").textContent.startsWith("Alarms")`, 5*time.Second, "the English panel")
		if v := eval[string](t, ctx, `document.querySelector('#stats-durations tr[data-key="verify"] td:nth-child(3)').textContent`); !strings.HasSuffix(v, " s") && !strings.Contains(v, "min") {
			t.Errorf("the time to verify in English %q", v)
		}
	})

	t.Run("Screen", func(t *testing.T) {
		sctx, cancel := context.WithTimeout(browser(t, 1920, 1080), 60*time.Second)
		defer cancel()
		watchExceptions(t, sctx)
		if err := chromedp.Do(sctx, chromedp.Navigate(url+"/?view=screen"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, sctx, `window.onemap.ready.then(() => true)`)
		n := waitJS[int](t, sctx, `window.onemap.screen.stats.chart && window.onemap.screen.stats.counts.by === "level" && window.onemap.screen.stats.counts.total`, 15*time.Second, "the screen's chart")
		if n < 1 {
			t.Errorf("the screen's chart counts %d alarms", n)
		}
		eval[bool](t, sctx, drawn)
		screenshot(t, sctx, "screen-stats.png")
	})
}
