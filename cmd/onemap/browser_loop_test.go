package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/notify"
)

// The loop to its end, with four people: a gas leak's warning published
// (as TestBrowserIncident walks it in the web app) is pushed to the gas
// company's webhook, signed, a failed attempt retried; the responder does
// the plan's first task from the phone with a photo and reports from the
// field; the commander resolves, releases and archives in the web app; the
// printable report holds every step.
func TestBrowserIncidentToArchive(t *testing.T) {
	var mu sync.Mutex
	attempts := map[string]int{}
	var delivered []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.Verify([]byte("gas-secret"), r.Header, body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get(notify.HeaderDelivery)
		if attempts[id]++; attempts[id] == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		delivered = append(delivered, string(body))
	}))
	defer hook.Close()
	dir := t.TempDir()
	dirFile := filepath.Join(dir, "directory.json")
	os.WriteFile(dirFile, []byte(strings.Replace(string(directory.Sample()), "https://gas.binhu.example/onemap/warnings", hook.URL, 1)), 0o644)
	secrets := filepath.Join(dir, "webhook-secrets.json")
	os.WriteFile(secrets, []byte(`{"gas_co_webhook": "gas-secret"}`), 0o600)
	data := filepath.Join(dir, "data")
	addUser(t, data, "chief", "张总", "commander")
	addUser(t, data, "crew", "赵队", "responder")
	url := startServer(t, "--data-dir", data, "--directory", dirFile, "--webhook-secrets", secrets)

	// Alarm to publication, by the operator, the analyst and the commander.
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	op := apiLogIn(t, url, data, "", "duty", "operator")
	an := apiLogIn(t, url, data, "", "ana", "analyst")
	boss := apiLogInAs(t, url, "chief", testPassword)
	must := func(ws *webSession, method, path, body string) string {
		t.Helper()
		st, b, err := ws.do(method, path, body)
		if err != nil || st/100 != 2 {
			t.Fatalf("%s %s: %d %s %v", method, path, st, b, err)
		}
		return b
	}
	alarm := activeAlarm(t, url, "GAS-000001")
	var opened struct{ Incident incident.Incident }
	json.Unmarshal([]byte(must(op, "POST", "/api/v1/incidents", fmt.Sprintf(`{"alarms":[%d]}`, alarm))), &opened)
	id := opened.Incident.ID
	api := "/api/v1/incidents/" + id
	must(op, "POST", api+"/verify", `{"outcome":"confirmed","reason":"现场确认"}`)
	var sug incident.Draft
	json.Unmarshal([]byte(must(an, "GET", api+"/suggestion", "")), &sug)
	must(an, "POST", api+"/draft", `{"warning":`+jsonOf(sug.Warning)+`}`)
	must(an, "POST", api+"/submit", `{}`)
	must(boss, "POST", api+"/review", `{"approve":true}`)
	must(boss, "POST", api+"/sign", `{}`)
	must(boss, "POST", api+"/publish", `{}`)

	// The webhook has the warning, signed, on the second attempt.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook got nothing: %v", attempts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	if !strings.Contains(delivered[0], id) {
		t.Errorf("the webhook's delivery %s", delivered[0])
	}
	mu.Unlock()

	// The commander gives the plan's first task to the responder.
	var rsp struct {
		Response struct {
			Tasks []struct {
				ID            string
				NeedsPhoto    bool `json:"needs_photo"`
				NeedsPosition bool `json:"needs_position"`
			}
		}
	}
	json.Unmarshal([]byte(must(boss, "GET", api+"/response", "")), &rsp)
	if len(rsp.Response.Tasks) == 0 {
		t.Fatal("no task opened")
	}
	task := rsp.Response.Tasks[0].ID
	must(boss, "POST", "/api/v1/tasks/"+task+"/assign", `{"assignee":"crew"}`)

	t.Run("Phone", func(t *testing.T) {
		sn := sensorAt(t, url, "GAS-000001")
		pctx, cancel := context.WithTimeout(browser(t, 390, 844), 90*time.Second)
		defer cancel()
		watchExceptions(t, pctx)
		lat, lon, acc := sn.Location[1]+30.0/111195, sn.Location[0], 5.0
		if _, err := chromedp.CallBrowser(pctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: url,
		}); err != nil {
			t.Fatalf("grant geolocation: %v", err)
		}
		if _, err := chromedp.Call(pctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(pctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		logInPage(t, pctx, url, "/?view=phone", "crew")
		eval[bool](t, pctx, `window.onemap.ready.then(() => true)`)
		next := func(state string) {
			t.Helper()
			sel := fmt.Sprintf(`document.querySelector('#tasks-list .task-row[data-id=%q] .task-next')`, task)
			waitJS[bool](t, pctx, sel+` !== null`, 15*time.Second, "the task's next step")
			eval[bool](t, pctx, `(() => { `+sel+`.click(); return true; })()`)
			got := waitJS[string](t, pctx, fmt.Sprintf(`(() => { const m = document.getElementById("report-message"); if (m.classList.contains("error") && m.textContent) return "refused: " + m.textContent; const row = document.querySelector('#tasks-list .task-row[data-id=%q]'); return (row ? row.dataset.state === %q : %q === "done") ? "ok" : ""; })()`, task, state, state), 10*time.Second, "the task "+state)
			if got != "ok" {
				t.Fatalf("the task to %s: %s", state, got)
			}
		}
		waitJS[bool](t, pctx, `!!(window.onemap.phone || {}).position || !!document.querySelector("#report-position")`, 10*time.Second, "the phone's position")
		next("accepted")
		next("en_route")
		next("arrived")
		// Done needs the photo: without it the page says so in its words.
		if rsp.Response.Tasks[0].NeedsPhoto {
			eval[bool](t, pctx, fmt.Sprintf(`(() => { document.querySelector('#tasks-list .task-row[data-id=%q] .task-next').click(); return true; })()`, task))
			msg := waitJS[string](t, pctx, `document.getElementById("report-message").classList.contains("error") && document.getElementById("report-message").textContent`, 5*time.Second, "the photo asked for")
			if !strings.Contains(msg, "照片") {
				t.Errorf("done without a photo says %q", msg)
			}
		}
		p := filepath.Join(t.TempDir(), "valve.png")
		os.WriteFile(p, tinyPNG(t), 0o644)
		if err := chromedp.Do(pctx, chromedp.SetUploadFiles(chromedp.ID("report-photo"), []string{p})); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, pctx, `(() => { document.getElementById("report-text").value = "上游阀门已关闭，浓度下降"; return true; })()`)
		next("done") // done, it leaves the list of open tasks
		json.Unmarshal([]byte(must(boss, "GET", api+"/response", "")), &rsp)
		var done struct {
			Response struct {
				Tasks []struct {
					State  string
					Photos []string
					Note   string
				}
			}
		}
		json.Unmarshal([]byte(must(boss, "GET", api+"/response", "")), &done)
		if d := done.Response.Tasks[0]; d.State != "done" || len(d.Photos) != 1 || d.Note != "上游阀门已关闭，浓度下降" {
			t.Errorf("the task done: %+v", d)
		}
		// A field report with a photo.
		if err := chromedp.Do(pctx, chromedp.SetUploadFiles(chromedp.ID("report-photo"), []string{p})); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, pctx, `(() => { document.getElementById("report-text").value = "警戒区已设置，现场无人员滞留"; document.getElementById("report-send").click(); return true; })()`)
		waitJS[bool](t, pctx, `!document.getElementById("report-message").classList.contains("error") && /已/.test(document.getElementById("report-message").textContent) && document.getElementById("report-text").value === ""`, 15*time.Second, "the report sent")
		screenshot(t, pctx, "incident-phone-done.png")
	})

	t.Run("ResolveReleaseArchive", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(browser(t, 1280, 800), 90*time.Second)
		defer cancel()
		watchExceptions(t, ctx)
		logInPage(t, ctx, url, "/", "chief")
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		eval[bool](t, ctx, fmt.Sprintf(`window.onemap.incidents.open(%q).then(() => true)`, id))
		// The field report is on the incident's page, with its photo.
		waitJS[bool](t, ctx, `/警戒区已设置/.test(document.getElementById("incident-detail").textContent) && !!document.querySelector('#incident-detail img[src*="/api/v1/attachments/"]')`, 15*time.Second, "the field report with its photo")
		for _, s := range []struct{ step, state string }{{"respond", "responding"}, {"resolve", "resolved"}, {"release", "released"}, {"archive", "archived"}} {
			if s.step == "release" {
				// Typed, as a person does: an input event.
				eval[bool](t, ctx, `(() => { const r = document.getElementById("incident-step-reason"); r.focus(); r.value = "隐患已消除"; r.dispatchEvent(new Event("input")); return true; })()`)
				// A redraw of the incident (a live update) keeps what was typed,
				// and the focus.
				if kept := eval[string](t, ctx, `(() => { window.onemap.incidents.permissionsChanged(); const r = document.getElementById("incident-step-reason"); return r.value + (document.activeElement === r ? "|focused" : ""); })()`); kept != "隐患已消除|focused" {
					t.Errorf("after a redraw the reason is %q, want what was typed, focused", kept)
				}
			}
			clickID(t, ctx, "incident-step-"+s.step)
			waitJS[bool](t, ctx, incidentState(s.state), 10*time.Second, "the incident "+s.state)
		}
		screenshot(t, ctx, "incident-archived.png")
		// The printable report holds every step, the push and the field.
		if err := chromedp.Do(ctx, chromedp.Navigate(url+api+"/report.html"), chromedp.WaitReady(chromedp.ID("steps"))); err != nil {
			t.Fatal(err)
		}
		text := eval[string](t, ctx, `document.body.textContent`)
		for _, w := range []string{id, "核实中", "已确认", "预警起草", "审核中", "已签发", "已发布", "处置中", "已处置", "已解除", "已归档",
			"duty", "ana", "chief", "值班员", "指挥签发", "隐患已消除", "上游阀门已关闭", "警戒区已设置", "接口推送", "已送达", "已完成", "峰值"} {
			if !strings.Contains(text, w) {
				t.Errorf("the report lacks %q", w)
			}
		}
		// No English word in the Chinese report but logins, ids and units.
		for _, w := range regexp.MustCompile(`[A-Za-z][A-Za-z_]+`).FindAllString(eval[string](t, ctx, `[...document.querySelectorAll("td")].map(td => td.textContent).join(" ")`), -1) {
			switch w {
			case "INC", "GAS", "LEL", "ch", "lel", "II", "III", "IV", "duty", "ana", "chief", "crew":
			default:
				t.Errorf("the Chinese report shows the English %q", w)
			}
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("img[src*='/api/v1/attachments/']").length`); n < 2 {
			t.Errorf("the report shows %d photos, want the task's and the report's", n)
		}
		screenshot(t, ctx, "incident-report.png")
	})
	// The release went to the webhook too, and nothing twice.
	mu.Lock()
	defer mu.Unlock()
	releases := 0
	for _, b := range delivered {
		if strings.Contains(b, "已解除") {
			releases++
		}
	}
	if releases != 1 {
		t.Errorf("%d releases at the webhook, want 1", releases)
	}
	for k, n := range attempts {
		if n != 2 {
			t.Errorf("delivery %s came %d times", k, n)
		}
	}
}
