package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// incidentState is true once the open incident's details show the state.
func incidentState(state string) string {
	return fmt.Sprintf(`(document.getElementById("incident-state") || {dataset: {}}).dataset.state === %q`, state)
}

// han finds Chinese characters.
var han = regexp.MustCompile(`\p{Han}`)

// clickID clicks the element with the id once it is visible.
func clickID(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID(id)), chromedp.Click(chromedp.ID(id))); err != nil {
		t.Fatalf("click #%s: %v", id, err)
	}
}

// The incident loop in the browser: an operator opens an incident from an
// alarm's details and verifies it; an analyst drafts the warning from the
// server's suggestion and submits it; a commander reviews, signs and
// publishes it; the warning's area comes on the map over the live channel,
// opens the incident when clicked, and the big screen counts it by level.
// Routes the server does not serve yet (deliveries, response, inbox) leave
// their parts out without an exception.
func TestBrowserIncident(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "duty", "王芳", "operator")
	addUser(t, dir, "ana", "李研", "analyst")
	addUser(t, dir, "chief", "张总", "commander")
	addUser(t, dir, "crew", "赵队", "responder")
	url := startServer(t, "--data-dir", dir)
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	alarm := activeAlarm(t, url, "GAS-000001")

	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 240*time.Second)
	defer cancel()
	watchExceptions(t, ctx)

	var id string
	t.Run("OpenAndVerify", func(t *testing.T) {
		logInPage(t, ctx, url, "/", "duty")
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		openAlarm(t, ctx, alarm)
		clickID(t, ctx, "alarm-incident-open")
		id = waitJS[string](t, ctx, incidentState("verifying")+` && document.getElementById("incident-detail").dataset.id`, 10*time.Second, "the new incident's details")
		if !strings.HasPrefix(id, "INC-") {
			t.Errorf("incident id %q", id)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#incident-timeline .incident-step").length`); n != 1 {
			t.Errorf("%d records in the timeline of a new incident, want 1", n)
		}
		// An operator verifies; drafting is not theirs.
		if eval[bool](t, ctx, `!!document.getElementById("incident-draft-load")`) {
			t.Error("an operator is offered to draft a warning")
		}
		eval[bool](t, ctx, `(() => { document.getElementById("incident-verify-reason").value = "现场燃气味明显"; return true; })()`)
		clickID(t, ctx, "incident-verify-submit")
		waitJS[bool](t, ctx, incidentState("confirmed"), 10*time.Second, "the confirmed state")
		step := waitJS[string](t, ctx, `document.querySelectorAll("#incident-timeline .incident-step").length === 2 && document.querySelector("#incident-timeline .incident-step:last-child").textContent`, 5*time.Second, "the verification in the timeline")
		for _, want := range []string{"已确认", "duty", "值班员", "现场燃气味明显"} {
			if !strings.Contains(step, want) {
				t.Errorf("the verification step %q lacks %q", step, want)
			}
		}
		// The alarm's details now name its incident.
		openAlarm(t, ctx, alarm)
		of := waitJS[string](t, ctx, `(document.getElementById("alarm-incident-of") || {}).textContent`, 10*time.Second, "the alarm's incident")
		if !strings.Contains(of, id) || !strings.Contains(of, "已确认") {
			t.Errorf("the alarm's details say %q, want %s 已确认", of, id)
		}
		screenshot(t, ctx, "incident-verified.png")
	})
	if id == "" {
		t.FailNow()
	}

	var level int
	t.Run("Draft", func(t *testing.T) {
		logInPage(t, ctx, url, "/", "ana")
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		clickID(t, ctx, "incident-button")
		row := fmt.Sprintf(`.incident-row[data-id=%q]`, id)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row)), chromedp.Click(chromedp.CSS(row))); err != nil {
			t.Fatal(err)
		}
		clickID(t, ctx, "incident-draft-load")
		level = waitJS[int](t, ctx, `Number((document.getElementById("incident-suggested-level") || {dataset: {}}).dataset.level)`, 15*time.Second, "the suggested level")
		if level < 1 || level > 4 {
			t.Fatalf("suggested level %d", level)
		}
		reason := eval[string](t, ctx, `document.querySelector(".incident-suggestion-reason").textContent`)
		if !han.MatchString(reason) {
			t.Errorf("the suggestion's reason %q is not in Chinese", reason)
		}
		badge := eval[string](t, ctx, `document.getElementById("incident-suggested-level").textContent`)
		roman := []string{"", "I", "II", "III", "IV"}[level]
		if !strings.HasPrefix(badge, roman+" 级") {
			t.Errorf("the suggested level reads %q, want %s 级…", badge, roman)
		}
		if got := eval[string](t, ctx, `document.getElementById("incident-draft-level").value`); got != fmt.Sprint(level) {
			t.Errorf("the form's level %s, want the suggestion's %d", got, level)
		}
		if h := eval[string](t, ctx, `document.getElementById("incident-draft-headline").value`); h == "" {
			t.Error("the draft has no headline from the suggestion")
		}
		// Another level than the suggestion's needs a reason.
		other := level%4 + 1
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById("incident-draft-level"); s.value = "%d"; s.dispatchEvent(new Event("change")); document.getElementById("incident-draft-submit").click(); return true; })()`, other))
		msg := waitJS[string](t, ctx, `document.getElementById("incident-message").className.includes("error") && document.getElementById("incident-message").textContent`, 5*time.Second, "the reason asked for")
		if !strings.Contains(msg, "理由") {
			t.Errorf("a level other than the suggestion's without a reason says %q", msg)
		}
		screenshot(t, ctx, "incident-draft.png")
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById("incident-draft-level"); s.value = "%d"; s.dispatchEvent(new Event("change")); document.getElementById("incident-draft-location").value += "（已核实）"; return true; })()`, level))
		clickID(t, ctx, "incident-draft-submit")
		waitJS[bool](t, ctx, incidentState("warning_draft")+` && !!document.getElementById("incident-step-submit")`, 10*time.Second, "the draft saved")
		if loc := eval[string](t, ctx, `document.querySelector('#incident-draft [data-field="location"]').textContent`); !strings.HasSuffix(loc, "（已核实）") {
			t.Errorf("the saved draft's location %q lacks the edit", loc)
		}
		clickID(t, ctx, "incident-step-submit")
		waitJS[bool](t, ctx, incidentState("in_review"), 10*time.Second, "the draft in review")
		// The drafter may review some levels, but never their own draft.
		if eval[bool](t, ctx, `!!document.getElementById("incident-review-approve")`) {
			t.Error("the drafter is offered to review their own draft")
		}
		if hint := eval[string](t, ctx, `(document.querySelector("#incident-actions .incident-hint") || {}).textContent || ""`); hint != "不能审核或签发自己起草的预警" {
			t.Errorf("the drafter's hint reads %q", hint)
		}
	})

	t.Run("ReviewSignPublish", func(t *testing.T) {
		logInPage(t, ctx, url, "/", "chief")
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		eval[bool](t, ctx, fmt.Sprintf(`window.onemap.incidents.open(%q).then(() => true)`, id))
		clickID(t, ctx, "incident-review-approve")
		clickID(t, ctx, "incident-step-sign")
		waitJS[bool](t, ctx, incidentState("signed"), 10*time.Second, "the warning signed")
		clickID(t, ctx, "incident-step-publish")
		waitJS[bool](t, ctx, incidentState("published"), 10*time.Second, "the warning published")
		badge := eval[string](t, ctx, `document.getElementById("incident-level").dataset.level + " " + document.getElementById("incident-level").textContent`)
		if !strings.HasPrefix(badge, fmt.Sprintf("%d %s 级（", level, []string{"", "I", "II", "III", "IV"}[level])) {
			t.Errorf("the level badge reads %q", badge)
		}
		steps := eval[[]string](t, ctx, `[...document.querySelectorAll('#incident-timeline .incident-step[data-kind="step"]')].map(li => li.textContent)`)
		want := []string{"开立事件", "已确认", "预警起草", "审核中", "审核通过", "已签发", "已发布"}
		if len(steps) != len(want) {
			t.Fatalf("timeline %q, want %d steps", steps, len(want))
		}
		for i, w := range want {
			if !strings.HasPrefix(steps[i], w) {
				t.Errorf("step %d reads %q, want %s first", i+1, steps[i], w)
			}
		}
		if !strings.Contains(steps[4], "chief") || !strings.Contains(steps[4], "指挥签发") || !strings.Contains(steps[2], "研判分析员") {
			t.Errorf("the steps do not name who and their role: %q", steps)
		}
		// A step the state does not allow is refused in words, naming the
		// state and where it may go.
		eval[bool](t, ctx, `window.onemap.incidents.act("sign").then(() => true)`)
		msg := waitJS[string](t, ctx, `document.getElementById("incident-message").className.includes("error") && document.getElementById("incident-message").textContent`, 5*time.Second, "the refusal")
		for _, w := range []string{"已发布", "联动处置", "已解除", "bad_transition"} {
			if !strings.Contains(msg, w) {
				t.Errorf("the refusal %q lacks %q", msg, w)
			}
		}
		if strings.Contains(msg, "cannot go") {
			t.Errorf("the refusal shows the server's English: %q", msg)
		}
		// Publishing opened the plan's tasks: the commander gives the first
		// to the responder.
		waitJS[bool](t, ctx, `!!document.querySelector("#incident-tasks .incident-task .task-assign-login")`, 10*time.Second, "the plan's tasks")
		task := eval[string](t, ctx, `(() => { const li = document.querySelector("#incident-tasks .incident-task"); li.querySelector(".task-assign-login").value = "crew"; li.querySelector(".task-assign button").click(); return li.dataset.id; })()`)
		waitJS[bool](t, ctx, fmt.Sprintf(`(document.querySelector('#incident-tasks .incident-task[data-id=%q]') || {}).dataset.state === "assigned"`, task), 10*time.Second, "the task assigned")
		if !eval[bool](t, ctx, `!!document.getElementById("incident-delivery-summary")`) {
			t.Error("no push status for a published warning")
		}
		// A re-issue shows the level suggested with the version, and another
		// level needs a reason there too.
		clickID(t, ctx, "incident-reissue-load")
		if got := waitJS[int](t, ctx, `Number((document.getElementById("incident-suggested-level") || {dataset: {}}).dataset.level)`, 5*time.Second, "the re-issue's suggested level"); got != level {
			t.Errorf("the re-issue suggests level %d, want %d", got, level)
		}
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById("incident-draft-level"); s.value = "%d"; s.dispatchEvent(new Event("change")); document.getElementById("incident-reissue-submit").click(); return true; })()`, level%4+1))
		if msg := waitJS[string](t, ctx, `document.getElementById("incident-message").className.includes("error") && document.getElementById("incident-message").textContent`, 5*time.Second, "the re-issue's reason asked for"); !strings.Contains(msg, "理由") {
			t.Errorf("a re-issue at another level without a reason says %q", msg)
		}
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById("incident-draft-level"); s.value = "%d"; s.dispatchEvent(new Event("change")); document.getElementById("incident-draft-instructions").value += "请绕行。"; document.getElementById("incident-reissue-submit").click(); return true; })()`, level))
		waitJS[bool](t, ctx, `/第 2 版/.test(document.getElementById("incident-warning").textContent) && /更新发布（第 2 版）/.test(document.getElementById("incident-timeline").textContent)`, 10*time.Second, "the second version")
		screenshot(t, ctx, "incident-published.png")

		// The warning comes over the live channel onto the map.
		waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.live.warnings.has(%q) && window.onemap.warnings.list.some(w => w.incident === %q && w.warning.level === %d)`, id, id, level), 5*time.Second, "the warning over the live channel")
		hasArea := eval[bool](t, ctx, fmt.Sprintf(`!!window.onemap.warnings.list.find(w => w.incident === %q).warning.area`, id))
		if !hasArea {
			t.Fatal("the published warning has no area to draw")
		}
		eval[bool](t, ctx, `(() => { window.onemap.incidents.setOpen(false); window.onemap.alarms.setPanel(false); return true; })()`)
		// The alarm's icon blinks, so the map is never idle: wait for its tiles.
		eval[bool](t, ctx, fmt.Sprintf(`(() => {
			const m = window.onemap.map;
			const w = window.onemap.warnings.list.find(w => w.incident === %q).warning.area;
			const pts = JSON.stringify(w.coordinates).match(/-?\d+(\.\d+)?,-?\d+(\.\d+)?/g).map(p => p.split(",").map(Number));
			const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
			m.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], {padding: 120, animate: false});
			return true;
		})()`, id))
		eval[bool](t, ctx, drawn)
		n := waitJS[int](t, ctx, `window.onemap.map.queryRenderedFeatures({layers: ["warnings-fill"]}).length`, 5*time.Second, "the warning area drawn")
		if n == 0 {
			t.Error("no warning area on the map")
		}
		colour := eval[string](t, ctx, `JSON.stringify(window.onemap.map.getPaintProperty("warnings-fill", "fill-color"))`)
		if !strings.Contains(colour, "#dc2626") || !strings.Contains(colour, "#2563eb") {
			t.Errorf("the warning areas are not coloured by level: %s", colour)
		}
		screenshot(t, ctx, "incident-map.png")
		// A click inside the area, off the alarm's icon, opens the incident.
		pt := eval[[]float64](t, ctx, fmt.Sprintf(`(() => {
			const m = window.onemap.map;
			const w = window.onemap.warnings.list.find(w => w.incident === %q).warning.area;
			const pts = JSON.stringify(w.coordinates).match(/-?\d+(\.\d+)?,-?\d+(\.\d+)?/g).map(p => m.project(p.split(",").map(Number)));
			const xs = pts.map(p => p.x), ys = pts.map(p => p.y);
			const cx = (Math.min(...xs) + Math.max(...xs)) / 2, cy = (Math.min(...ys) + Math.max(...ys)) / 2;
			const r = m.getCanvas().getBoundingClientRect();
			return [r.left + cx + (Math.max(...xs) - cx) / 2, r.top + cy - (Math.max(...ys) - cy) / 4];
		})()`, id))
		if err := chromedp.Do(ctx, chromedp.MouseClickXY(pt[0], pt[1])); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.incidents.isOpen && document.getElementById("incident-detail").dataset.id === %q && %s`, id, incidentState("published")), 10*time.Second, "the incident opened from its area")

		// In English, the state and the level are English words.
		clickID(t, ctx, "lang-switch")
		state := waitJS[string](t, ctx, `document.documentElement.lang === "en" && document.getElementById("incident-state").textContent`, 5*time.Second, "the English details")
		if state != "Published" {
			t.Errorf("the state in English reads %q", state)
		}
		if lv := eval[string](t, ctx, `document.getElementById("incident-level").textContent`); !strings.HasPrefix(lv, "Level ") {
			t.Errorf("the level in English reads %q", lv)
		}
		clickID(t, ctx, "lang-switch")
		waitJS[bool](t, ctx, `document.documentElement.lang === "zh-CN"`, 5*time.Second, "back in Chinese")
	})

	t.Run("Screen", func(t *testing.T) {
		sctx, cancel := context.WithTimeout(browser(t, 1920, 1080), 60*time.Second)
		defer cancel()
		watchExceptions(t, sctx)
		if err := chromedp.Do(sctx, chromedp.Navigate(url+"/?view=screen"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, sctx, `window.onemap.ready.then(() => true)`)
		waitJS[bool](t, sctx, fmt.Sprintf(`document.querySelector('#screen-warn-levels li[data-key="%d"]').dataset.count === "1"`, level), 10*time.Second, "the warning counted by level")
		for l := 1; l <= 4; l++ {
			if l == level {
				continue
			}
			if n := eval[string](t, sctx, fmt.Sprintf(`document.querySelector('#screen-warn-levels li[data-key="%d"]').dataset.count`, l)); n != "0" {
				t.Errorf("level %d counts %s warnings, want 0", l, n)
			}
		}
		head := waitJS[string](t, sctx, fmt.Sprintf(`(document.querySelector('#screen-warn-list li[data-incident=%q]') || {}).textContent`, id), 5*time.Second, "the warning listed")
		if !strings.Contains(head, "预警") {
			t.Errorf("the big screen lists the warning as %q, want its headline", head)
		}
		waitJS[bool](t, sctx, `window.onemap.live.warnings.size === 1 && window.onemap.warnings.list.length === 1`, 5*time.Second, "the warning over the screen's channel")
		// The ticker leads with the warning in force, before the alarms.
		first := waitJS[map[string]string](t, sctx, `(() => { const li = document.querySelector("#ticker-list .ticker-item"); return li && {...li.dataset, text: li.textContent}; })()`, 5*time.Second, "the ticker's first item")
		if first["incident"] != id || first["level"] != fmt.Sprint(level) || !strings.Contains(first["text"], "预警") {
			t.Errorf("the ticker's first item %v, want the warning of incident %s at level %d", first, id, level)
		}
		// The response: the plan's tasks, none done yet.
		resp := waitJS[map[string]string](t, sctx, `!document.getElementById("screen-response").hidden && {...document.getElementById("screen-response").dataset, text: document.getElementById("screen-response").textContent}`, 20*time.Second, "the response status")
		if resp["total"] == "0" || resp["done"] != "0" || !strings.Contains(resp["text"], "处置任务完成 0/"+resp["total"]) {
			t.Errorf("the response status %v", resp)
		}
		eval[bool](t, sctx, drawn)
		screenshot(t, sctx, "incident-screen.png")
	})

	// A responder's phone 700 m north of the detector lists the warning
	// around it with its distance, and the task given to it, which it
	// accepts.
	t.Run("Phone", func(t *testing.T) {
		sn := sensorAt(t, url, "GAS-000001")
		pctx, cancel := context.WithTimeout(browser(t, 390, 844), 60*time.Second)
		defer cancel()
		watchExceptions(t, pctx)
		lat, lon, acc := sn.Location[1]+700.0/111195, sn.Location[0], 10.0
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
		if err := chromedp.Do(pctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		logInPage(t, pctx, url, "/?view=phone", "crew")
		eval[bool](t, pctx, `window.onemap.ready.then(() => true)`)
		row := waitJS[string](t, pctx, fmt.Sprintf(`(document.querySelector('#warnings-near-list li[data-incident=%q]') || {}).textContent`, id), 15*time.Second, "the warning near the phone")
		if !strings.Contains(row, "预警") || !strings.Contains(row, "米") {
			t.Errorf("the warning near the phone reads %q, want its headline and distance", row)
		}
		d := eval[float64](t, pctx, fmt.Sprintf(`window.onemap.tasks.warnings.find(w => w.incident === %q).distance_m`, id))
		if d < 500 || d > 900 {
			t.Errorf("the warning is %.0f m from the phone, want about 700", d)
		}
		row = waitJS[string](t, pctx, `!document.getElementById("tasks-section").hidden && (document.querySelector("#tasks-list .task-row") || {}).textContent`, 10*time.Second, "my task")
		if !strings.Contains(row, "已分派") || !strings.Contains(row, "接收任务") {
			t.Errorf("my task reads %q, want its state and the button to accept it", row)
		}
		screenshot(t, pctx, "incident-phone.png")
		eval[bool](t, pctx, `(() => { document.querySelector("#tasks-list .task-row .task-next").click(); return true; })()`)
		waitJS[bool](t, pctx, `(document.querySelector("#tasks-list .task-row") || {dataset: {}}).dataset.state === "accepted"`, 10*time.Second, "the task accepted")
	})

	// Without the position, the phone says why in its own words.
	t.Run("PhoneNoPosition", func(t *testing.T) {
		pctx, cancel := context.WithTimeout(browser(t, 390, 844), 60*time.Second)
		defer cancel()
		watchExceptions(t, pctx)
		if _, err := chromedp.CallBrowser(pctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingDenied, Origin: url,
		}); err != nil {
			t.Fatalf("deny geolocation: %v", err)
		}
		if err := chromedp.Do(pctx, chromedp.Navigate(url+"/?view=phone"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
			t.Fatal(err)
		}
		msg := waitJS[string](t, pctx, `document.getElementById("near-status").classList.contains("error") && document.getElementById("near-status").textContent`, 15*time.Second, "the position's refusal")
		if !strings.Contains(msg, "定位权限") || latin.MatchString(msg) {
			t.Errorf("a denied position reads %q, want the page's Chinese words", msg)
		}
	})
}

// contractStub answers, in the browser, the routes of the incident loop
// the server does not serve yet, as the API's documentation gives their
// answers, and keeps the writes the page sends, so that the page's parts
// for them are checked against that documentation.
type contractStub struct {
	mu     sync.Mutex
	writes []stubWrite
	answer func(method, path string) (int, string, []byte)
}

// stubWrite is a write the page sent to a stubbed route.
type stubWrite struct {
	Method, Path, Type string
	Body               []byte
}

// The routes stubbed, as Fetch.enable's URL patterns.
var stubbedRoutes = []string{"*/api/v1/incidents/*/deliveries*", "*/api/v1/incidents/*/response*",
	"*/api/v1/incidents/*/feedback*", "*/api/v1/inbox*", "*/api/v1/tasks/*", "*/api/v1/attachments*"}

// intercept has the tab of ctx answer the stubbed routes from s.
func (s *contractStub) intercept(t *testing.T, ctx context.Context) {
	t.Helper()
	pats := make([]*fetch.RequestPattern, len(stubbedRoutes))
	for i, p := range stubbedRoutes {
		pats[i] = &fetch.RequestPattern{URLPattern: p}
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() {
			u, _ := neturl.Parse(e.Request.URL)
			if e.Request.Method != "GET" {
				var body []byte
				for _, d := range e.Request.PostDataEntries {
					body = append(body, d.Bytes...)
				}
				var ct string
				for k, v := range e.Request.Headers {
					if strings.EqualFold(k, "Content-Type") {
						ct, _ = v.(string)
					}
				}
				s.mu.Lock()
				s.writes = append(s.writes, stubWrite{Method: e.Request.Method, Path: u.Path, Type: ct, Body: body})
				s.mu.Unlock()
			}
			code, ct, body := s.answer(e.Request.Method, u.Path)
			chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: e.RequestID, ResponseCode: int64(code),
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: ct}}, Body: body})
		}()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: pats}); err != nil {
		t.Fatalf("intercept the stubbed routes: %v", err)
	}
}

// wrote is the last write to path, waiting for it.
func (s *contractStub) wrote(t *testing.T, method, path string) stubWrite {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		for i := len(s.writes) - 1; i >= 0; i-- {
			if w := s.writes[i]; w.Method == method && w.Path == path {
				s.mu.Unlock()
				return w
			}
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the page sent no %s %s", method, path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tinyPNG is a 2×2 PNG.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The parts of the loop whose routes are being added (deliveries, the
// response, the inbox, the tasks, attachments and field reports), against
// the contract's answers: a commander sees the push status, the plan and
// the tasks, assigns one and reads a message; a responder's phone advances
// its task and sends a report with a photo.
func TestBrowserIncidentContract(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "chief", "张总", "commander")
	addUser(t, dir, "crew", "赵队", "responder")
	addUser(t, dir, "duty", "王芳", "operator")
	url := startServer(t, "--data-dir", dir)
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	alarm := activeAlarm(t, url, "GAS-000001")
	sn := sensorAt(t, url, "GAS-000001")
	photo := tinyPNG(t)
	const id = "INC-STUB-1"

	now := time.Now().UTC()
	task := func(tid, zh, state, assignee string, deadline time.Time, overdue bool, dist float64) string {
		return fmt.Sprintf(`{"id":%q,"incident":%q,"plan":"P1","index":0,"title":{"zh":%q,"en":"Task %s"},"role":"responder","deadline":%q,"assignee":%q,"state":%q,"overdue":%t,"distance_m":%g}`,
			tid, id, zh, tid, deadline.Format(time.RFC3339), assignee, state, overdue, dist)
	}
	t1 := task("T1", "现场警戒", "pending", "", now.Add(-10*time.Minute), true, 0)
	t2 := task("T2", "关闭阀门", "accepted", "crew", now.Add(20*time.Minute), false, 650)
	delivery := func(did, channel, state, errText string) string {
		return fmt.Sprintf(`{"id":%q,"incident":%q,"version":1,"level":2,"kind":"warning","recipient":"张总","login":"chief","channel":%q,"reasons":["commander"],"text_zh":"黟县路燃气泄漏 II 级预警","text_en":"Level II warning: gas leak","state":%q,"attempts":1,"error":%q,"created":%q}`,
			did, id, channel, state, errText, now.Format(time.RFC3339))
	}
	stub := &contractStub{answer: func(method, path string) (int, string, []byte) {
		js := func(code int, s string) (int, string, []byte) { return code, "application/json", []byte(s) }
		switch {
		case method == "GET" && strings.HasSuffix(path, "/deliveries"):
			return js(200, `{"deliveries":[`+delivery("D1", "in_app", "delivered", "")+`,`+delivery("D2", "sms", "failed", "no_number")+`],"summary":{"queued":0,"sent":0,"delivered":1,"read":0,"replied":0,"failed":1}}`)
		case method == "GET" && strings.HasSuffix(path, "/response"):
			return js(200, fmt.Sprintf(`{"plan":{"id":"P1","type":"gas_leak","title":{"zh":"燃气泄漏处置预案","en":"Gas leak plan"},"min_level":1,"max_level":4,"tasks":[],
				"measures":[{"zh":"关闭上游阀门","en":"Close the valve upstream"}],"cautions":[{"zh":"严禁明火","en":"No open flames"}]},
				"response":{"incident":%q,"plan":"P1","published":%q,"location":{"lon":%g,"lat":%g},"tasks":[%s,%s],
				"feedback":[{"id":"F1","incident":%q,"task":"T2","by":"crew","at":%q,"text":"阀门已关闭","photos":["A1"],"position":{"lon":%g,"lat":%g}}]}}`,
				id, now.Format(time.RFC3339), sn.Location[0], sn.Location[1], t1, t2, id, now.Format(time.RFC3339), sn.Location[0], sn.Location[1]))
		case method == "GET" && path == "/api/v1/inbox":
			return js(200, `{"deliveries":[`+delivery("D1", "in_app", "delivered", "")+`]}`)
		case method == "GET" && path == "/api/v1/tasks/mine":
			return js(200, `{"tasks":[`+t2+`]}`)
		case method == "GET" && strings.HasPrefix(path, "/api/v1/attachments/"):
			return 200, "image/png", photo
		case method == "POST" && path == "/api/v1/attachments":
			return js(201, fmt.Sprintf(`{"id":"A2","type":"image/png","size":%d}`, len(photo)))
		case method == "POST" && strings.HasSuffix(path, "/feedback"):
			return js(201, `{"feedback":{"id":"F2"}}`)
		case method == "POST":
			return js(200, `{}`)
		}
		return js(404, `{"error":{"code":"not_found","message":"no such resource"}}`)
	}}

	// The incident itself is the server's: an operator opens it; the
	// commander's page shows the stubbed parts with it.
	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	watchExceptions(t, ctx)
	logInPage(t, ctx, url, "/", "duty")
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
	openAlarm(t, ctx, alarm)
	clickID(t, ctx, "alarm-incident-open")
	real := waitJS[string](t, ctx, incidentState("verifying")+` && document.getElementById("incident-detail").dataset.id`, 10*time.Second, "the new incident")

	t.Run("Commander", func(t *testing.T) {
		stub.intercept(t, ctx)
		logInPage(t, ctx, url, "/", "chief")
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		eval[bool](t, ctx, fmt.Sprintf(`window.onemap.incidents.open(%q).then(() => true)`, real))
		summary := waitJS[map[string]string](t, ctx, `document.getElementById("incident-delivery-summary") && Object.fromEntries([...document.querySelectorAll("#incident-delivery-summary li")].map(li => [li.dataset.state, li.dataset.count]))`, 10*time.Second, "the push status")
		if summary["delivered"] != "1" || summary["failed"] != "1" || summary["queued"] != "0" {
			t.Errorf("push status %v", summary)
		}
		if g := eval[string](t, ctx, `[...document.querySelectorAll(".incident-delivery-group")].map(d => d.dataset.state).join(" ")`); g != "delivered failed" {
			t.Errorf("deliveries grouped as %q", g)
		}
		resp := waitJS[string](t, ctx, `(document.getElementById("incident-response") || {}).textContent`, 10*time.Second, "the response")
		for _, w := range []string{"燃气泄漏处置预案", "措施要点", "关闭上游阀门", "注意事项", "严禁明火", "现场警戒", "待分派", "关闭阀门", "已接收", "crew", "阀门已关闭"} {
			if !strings.Contains(resp, w) {
				t.Errorf("the response lacks %q: %q", w, resp)
			}
		}
		if !eval[bool](t, ctx, `!!document.querySelector('.incident-task[data-id="T1"] .task-overdue') && !document.querySelector('.incident-task[data-id="T2"] .task-overdue')`) {
			t.Error("the overdue task is not marked, or the other is")
		}
		waitJS[bool](t, ctx, `[...document.querySelectorAll("img.feedback-photo")].some(i => i.complete && i.naturalWidth === 2)`, 10*time.Second, "the field report's photo")
		eval[bool](t, ctx, `(() => { document.querySelector('.incident-task[data-id="T1"] .task-assign-login').value = "crew"; document.querySelector('.incident-task[data-id="T1"] .task-assign button').click(); return true; })()`)
		if w := stub.wrote(t, "POST", "/api/v1/tasks/T1/assign"); string(w.Body) != `{"assignee":"crew"}` {
			t.Errorf("assigned with %s", w.Body)
		}
		screenshot(t, ctx, "incident-push.png")

		// The inbox: one unread message, read and replied to.
		eval[bool](t, ctx, `window.onemap.inbox.refresh().then(() => true)`)
		if n := waitJS[string](t, ctx, `!document.getElementById("inbox-button").hidden && document.getElementById("inbox-count").textContent`, 5*time.Second, "the inbox's unread count"); n != "1" {
			t.Errorf("%s unread, want 1", n)
		}
		clickID(t, ctx, "inbox-button")
		text := waitJS[string](t, ctx, `(document.querySelector('.inbox-row[data-id="D1"]') || {}).textContent`, 5*time.Second, "the message")
		if !strings.Contains(text, "黟县路燃气泄漏 II 级预警") || !strings.Contains(text, "II 级（橙色）") || !strings.Contains(text, "未读") {
			t.Errorf("the message reads %q", text)
		}
		eval[bool](t, ctx, `(() => { document.querySelector('.inbox-row[data-id="D1"] .inbox-read').click(); return true; })()`)
		stub.wrote(t, "POST", "/api/v1/inbox/D1/read")
		eval[bool](t, ctx, `(() => { const f = document.querySelector('.inbox-row[data-id="D1"] .inbox-actions'); f.querySelector(".inbox-reply-text").value = "收到，已布控"; f.querySelector(".inbox-reply").click(); return true; })()`)
		if w := stub.wrote(t, "POST", "/api/v1/inbox/D1/reply"); string(w.Body) != `{"text":"收到，已布控"}` {
			t.Errorf("replied with %s", w.Body)
		}
		screenshot(t, ctx, "incident-inbox.png")
	})

	t.Run("Phone", func(t *testing.T) {
		pctx, cancel := context.WithTimeout(browser(t, 390, 844), 60*time.Second)
		defer cancel()
		watchExceptions(t, pctx)
		stub.intercept(t, pctx)
		lat, lon, acc := sn.Location[1]+650.0/111195, sn.Location[0], 10.0
		if _, err := chromedp.CallBrowser(pctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: url,
		}); err != nil {
			t.Fatalf("grant geolocation: %v", err)
		}
		if _, err := chromedp.Call(pctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
			t.Fatalf("emulate the position: %v", err)
		}
		if err := chromedp.Do(pctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		logInPage(t, pctx, url, "/?view=phone", "crew")
		eval[bool](t, pctx, `window.onemap.ready.then(() => true)`)
		row := waitJS[string](t, pctx, `(document.querySelector('.task-row[data-id="T2"]') || {}).textContent`, 10*time.Second, "my task")
		if !strings.Contains(row, "关闭阀门") || !strings.Contains(row, "650 米") || !strings.Contains(row, "出发") {
			t.Errorf("my task reads %q, want its title, distance and next step", row)
		}
		waitJS[bool](t, pctx, `!!window.onemap.phone.position`, 10*time.Second, "the position")
		eval[bool](t, pctx, `(() => { document.querySelector('.task-row[data-id="T2"] .task-next').click(); return true; })()`)
		adv := stub.wrote(t, "POST", "/api/v1/tasks/T2/advance")
		if !strings.Contains(string(adv.Body), `"to":"en_route"`) || !strings.Contains(string(adv.Body), `"position":{"lon":`) {
			t.Errorf("advanced with %s", adv.Body)
		}
		// A report with a photo: the photo first, then the report naming it.
		p := filepath.Join(t.TempDir(), "valve.png")
		if err := os.WriteFile(p, photo, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(pctx, chromedp.SetUploadFiles(chromedp.ID("report-photo"), []string{p})); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, pctx, `(() => { document.getElementById("report-task").value = "T2"; document.getElementById("report-text").value = "阀门已关闭，现场无明火"; return true; })()`)
		clickID(t, pctx, "report-send")
		waitJS[bool](t, pctx, `document.getElementById("report-message").textContent === "反馈已提交"`, 10*time.Second, "the report sent")
		up := stub.wrote(t, "POST", "/api/v1/attachments")
		if up.Type != "image/png" || !bytes.Equal(up.Body, photo) {
			t.Errorf("the photo went as %q, %d bytes, want image/png and the file's %d bytes", up.Type, len(up.Body), len(photo))
		}
		fb := stub.wrote(t, "POST", "/api/v1/incidents/"+id+"/feedback")
		for _, w := range []string{`"task":"T2"`, `"photos":["A2"]`, `"text":"阀门已关闭，现场无明火"`, `"position":{"lon":`} {
			if !strings.Contains(string(fb.Body), w) {
				t.Errorf("the report %s lacks %s", fb.Body, w)
			}
		}
		screenshot(t, pctx, "incident-phone-tasks.png")
	})
}
