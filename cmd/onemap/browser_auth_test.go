package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onemap/onemap/auth"
)

// The password of every user the browser tests add.
const testPassword = "lantern-harbour-42"

// addUser adds a user to the users file of a data directory, as
// `onemap users add` does.
func addUser(t *testing.T, dir, login, name string, roles ...string) {
	t.Helper()
	ctx := context.Background()
	store, err := auth.OpenUsers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := openAuditLog(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	acc := auth.NewAccounts(auth.AccountsOptions{Users: store, Audit: audit})
	if _, err := acc.AddUser(ctx, cliPrincipal(), auth.NewUser{Login: login, Name: name, Password: testPassword, Roles: roles}); err != nil {
		t.Fatalf("add user %s: %v", login, err)
	}
}

// logInPage logs in on the login page, which was asked to go back to next, and
// waits for the page it goes back to.
func logInPage(t *testing.T, ctx context.Context, url, next, login string) {
	t.Helper()
	page := url + "/login.html"
	if next != "" {
		page += "?next=" + neturl.QueryEscape(next)
	}
	logInAt(t, ctx, page, login, testPassword)
}

// logInAt logs in on the login page at page and waits for the page it goes
// back to, holding the user's session.
func logInAt(t *testing.T, ctx context.Context, page, login, password string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("login-login"), login),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitReady(chromedp.ID("map")),
	); err != nil {
		t.Fatalf("log in as %s: %v", login, err)
	}
	waitJS[bool](t, ctx, sessionKnown, 10*time.Second, "the session after logging in")
	if got := eval[string](t, ctx, `(window.onemap.session.current().user || {}).login || ""`); got != login {
		t.Fatalf("logged in as %q, want %q", got, login)
	}
}

// ackShown is who an acknowledgement names on the page: the user's name,
// else the login.
func ackShown(name, login string) string {
	if name != "" {
		return name
	}
	return login
}

// sessionOf is who the page's session says the user is.
type sessionOf struct {
	Login       string   `json:"login"`
	Anonymous   bool     `json:"anonymous"`
	Permissions []string `json:"permissions"`
}

// sessionKnown is true once the page knows its session.
const sessionKnown = `!!window.onemap && !!window.onemap.session && window.onemap.session.current().loaded`

const pageSession = `window.onemap.session.refresh().then(s => ({login: (s.user || {}).login || "", anonymous: s.anonymous, permissions: [...s.permissions]}))`

// openAlarm opens the details of an alarm from the alarm list and waits
// for its acknowledgement part.
func openAlarm(t *testing.T, ctx context.Context, id int64) {
	t.Helper()
	waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.alarms.alarms.some(a => a.id === %d)`, id), 15*time.Second, "the alarm in the list")
	eval[bool](t, ctx, fmt.Sprintf(`window.onemap.alarms.open(%d, {fly: false}).then(() => true)`, id))
	waitJS[bool](t, ctx, `!!document.querySelector("#alarm-detail .alarm-ack h4")`, 10*time.Second, "the acknowledgement part of the details")
}

// activeAlarm is the id of the active alarm of a sensor.
func activeAlarm(t *testing.T, url, code string) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(url + "/api/v1/alarms?state=active&limit=100")
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Alarms []struct {
				ID         int64  `json:"id"`
				SensorCode string `json:"sensor_code"`
			} `json:"alarms"`
		}
		err = json.NewDecoder(res.Body).Decode(&list)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list.Alarms {
			if a.SensorCode == code {
				return a.ID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no active alarm of %s", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// latin finds Latin letters: a Chinese message has none, neither a raw Go
// duration nor an English word.
var latin = regexp.MustCompile(`[A-Za-z]`)

func TestBrowserAuth(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "duty", "王芳", "operator")
	addUser(t, dir, "wall", "大屏", "viewer")
	addUser(t, dir, "root", "管理员甲", "admin")
	url := startServer(t, "--data-dir", dir)
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	postReading(t, url, "GAS-000002", "ch4_lel", 60)
	acked := activeAlarm(t, url, "GAS-000001")
	other := activeAlarm(t, url, "GAS-000002")

	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 240*time.Second)
	defer cancel()
	watchExceptions(t, ctx)

	t.Run("Anonymous", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, sessionKnown, 10*time.Second, "the session")
		s := eval[sessionOf](t, ctx, pageSession)
		if !s.Anonymous || s.Login != "" {
			t.Errorf("session %+v, want an anonymous viewer", s)
		}
		label := waitJS[string](t, ctx, `!document.getElementById("user-button").hidden && document.getElementById("user-button").textContent`, 10*time.Second, "the log-in button")
		if label != "登录" {
			t.Errorf("the user button says %q, want 登录", label)
		}
		if !eval[bool](t, ctx, `document.getElementById("analysis-valves").disabled && document.getElementById("analysis-gas").disabled && !document.getElementById("analysis-nearby").disabled`) {
			t.Error("an anonymous viewer may start valve closure or the gas neighbourhood")
		}
		if tip := eval[string](t, ctx, `document.getElementById("analysis-valves").title`); !strings.Contains(tip, "研判分析员") {
			t.Errorf("the disabled valve tool's tooltip %q does not say to log in as an analyst", tip)
		}
		openAlarm(t, ctx, other)
		if n := eval[int](t, ctx, `document.querySelectorAll("#alarm-ack-submit").length`); n != 0 {
			t.Error("an anonymous viewer sees the acknowledge button")
		}
		hint := eval[string](t, ctx, `(document.getElementById("alarm-ack-hint") || {}).textContent || ""`)
		if !strings.Contains(hint, "登录") {
			t.Errorf("the details do not say to log in to acknowledge: %q", hint)
		}
		// The button leads to the login page, which comes back here.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("user-button")), chromedp.WaitVisible(chromedp.ID("login-form"))); err != nil {
			t.Fatal(err)
		}
		if next := eval[string](t, ctx, `new URLSearchParams(location.search).get("next") || ""`); next != "" && next != "/" {
			t.Errorf("the login page goes back to %q, want /", next)
		}
		// The link appears once the page has asked who is here.
		waitJS[bool](t, ctx, `!document.getElementById("login-anonymous").hidden`, 10*time.Second, "the login page's way to view the map anonymously")
		screenshot(t, ctx, "login.png")
	})

	t.Run("BadCredentials", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(url+"/login.html?next=%2F%3Fview%3Dphone"),
			chromedp.WaitVisible(chromedp.ID("login-form")),
			chromedp.SendKeys(chromedp.ID("login-login"), "duty"),
			chromedp.SendKeys(chromedp.ID("login-password"), "not-the-password"),
			chromedp.Click(chromedp.ID("login-submit")),
		); err != nil {
			t.Fatal(err)
		}
		msg := waitJS[string](t, ctx, `document.getElementById("login-message").className.includes("error") && document.getElementById("login-message").textContent`, 10*time.Second, "the login page's message")
		if msg != "账号或密码不正确。" {
			t.Errorf("message %q after a wrong password", msg)
		}
		if path := eval[string](t, ctx, `location.pathname`); path != "/login.html" {
			t.Errorf("a wrong password went on to %s", path)
		}
		// Only this server's pages are gone back to.
		next := eval[[]string](t, ctx, `import("/session.js").then(m => ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login.html?next=/", "/?view=screen&lang=en"].map(m.safeNext))`)
		want := []string{"/", "/", "/", "/", "/", "/?view=screen&lang=en"}
		if strings.Join(next, " ") != strings.Join(want, " ") {
			t.Errorf("safeNext: %q, want %q", next, want)
		}
	})

	t.Run("Acknowledge", func(t *testing.T) {
		logInPage(t, ctx, url, "/", "duty")
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		label := waitJS[string](t, ctx, `!document.getElementById("user-button").hidden && document.getElementById("user-button").textContent`, 10*time.Second, "the user button")
		if label != "王芳" {
			t.Errorf("the user button says %q, want the user's name", label)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("user-button")), chromedp.WaitVisible(chromedp.ID("user-menu"))); err != nil {
			t.Fatal(err)
		}
		menu, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("user-menu")))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"王芳", "值班员", "退出登录", "退出所有设备"} {
			if !strings.Contains(menu, want) {
				t.Errorf("the user menu lacks %q: %q", want, menu)
			}
		}
		if strings.Contains(menu, "审计日志") {
			t.Errorf("an operator is offered the audit log: %q", menu)
		}
		screenshot(t, ctx, "user-menu.png")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("user-button"))); err != nil {
			t.Fatal(err)
		}

		openAlarm(t, ctx, acked)
		if n := eval[int](t, ctx, `document.querySelectorAll("#alarm-ack-by").length`); n != 0 {
			t.Error("the acknowledgement still asks for a name")
		}
		if err := chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.ID("alarm-ack-submit")),
			chromedp.SendKeys(chromedp.ID("alarm-ack-note"), "已通知抢修"),
			chromedp.Click(chromedp.ID("alarm-ack-submit")),
			chromedp.WaitVisible(chromedp.ID("alarm-ack-done")),
		); err != nil {
			t.Fatalf("acknowledge: %v", err)
		}
		done, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("alarm-ack-done")))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "alarm-acknowledged.png")
		alarm := ackOf(t, url, acked)
		if alarm.Ack == nil || alarm.Ack.By != "duty" || alarm.Ack.Note != "已通知抢修" {
			t.Fatalf("GET /api/v1/alarms/%d: ack %+v, want by duty", acked, alarm.Ack)
		}
		// The page names the user as the server does: the name shown, or
		// the login where the acknowledgement has no name.
		if shown := ackShown(alarm.Ack.Name, alarm.Ack.By); !strings.Contains(done, shown) || !strings.Contains(done, "确认") {
			t.Errorf("the acknowledgement does not name the user %q: %q", shown, done)
		}
		if alarm.Ack.Name != "" && alarm.Ack.Name != "王芳" {
			t.Errorf("the acknowledgement names %q, want 王芳", alarm.Ack.Name)
		}

		// Logging out goes to the login page; the map is an anonymous
		// viewer's again.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("user-button")),
			chromedp.WaitVisible(chromedp.ID("user-logout")),
			chromedp.Click(chromedp.ID("user-logout")),
			chromedp.WaitVisible(chromedp.ID("login-form")),
		); err != nil {
			t.Fatalf("log out: %v", err)
		}
		s := eval[sessionOf](t, ctx, `import("/session.js").then(m => m.refresh()).then(s => ({login: (s.user || {}).login || "", anonymous: s.anonymous, permissions: [...s.permissions]}))`)
		if s.Login != "" || !s.Anonymous {
			t.Errorf("after logging out the session is %+v", s)
		}
	})

	t.Run("Viewer", func(t *testing.T) {
		logInPage(t, ctx, url, "/", "wall")
		roles := eval[string](t, ctx, `document.getElementById("user-roles").textContent`)
		if !strings.Contains(roles, "只读") {
			t.Errorf("the viewer's roles read %q", roles)
		}
		openAlarm(t, ctx, other)
		if n := eval[int](t, ctx, `document.querySelectorAll("#alarm-ack-submit, #alarm-ack-form").length`); n != 0 {
			t.Error("a viewer sees the acknowledge form")
		}
		hint := eval[string](t, ctx, `(document.getElementById("alarm-ack-hint") || {}).textContent || ""`)
		if !strings.Contains(hint, "权限") {
			t.Errorf("the details do not say the viewer may not acknowledge: %q", hint)
		}
		// Asked directly, with the session's CSRF token, the server refuses.
		type refusal struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		r := eval[refusal](t, ctx, fmt.Sprintf(`window.onemap.session.apiJSON("/api/v1/alarms/%d/ack", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({note: "x"})})
			.then(() => ({status: 200, code: ""}), e => ({status: e.status, code: e.code}))`, other))
		if r.Status != http.StatusForbidden || r.Code != "forbidden" {
			t.Errorf("a viewer's acknowledgement: %+v, want 403 forbidden", r)
		}
		if !eval[bool](t, ctx, `window.onemap.session.current().csrf !== ""`) {
			t.Error("the viewer's session has no CSRF token")
		}
		screenshot(t, ctx, "viewer-alarm.png")
		// Log out everywhere: this session ends too.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("user-button")),
			chromedp.WaitVisible(chromedp.ID("user-logout-all")),
			chromedp.Click(chromedp.ID("user-logout-all")),
			chromedp.WaitVisible(chromedp.ID("login-form")),
		); err != nil {
			t.Fatalf("log out everywhere: %v", err)
		}
	})

	t.Run("Audit", func(t *testing.T) {
		logInPage(t, ctx, url, "/", "root")
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("user-button")),
			chromedp.WaitVisible(chromedp.ID("user-audit")),
			chromedp.Click(chromedp.ID("user-audit")),
			chromedp.WaitVisible(chromedp.ID("audit-panel")),
		); err != nil {
			t.Fatalf("open the audit log: %v", err)
		}
		type auditRow struct {
			Who    string `json:"who"`
			Action string `json:"action"`
			Result string `json:"result"`
			Seq    int    `json:"seq"`
		}
		const rows = `[...document.querySelectorAll("#audit-table tbody tr")].map(r => ({who: r.querySelector(".audit-who").textContent, action: r.querySelector(".audit-action").textContent, result: r.dataset.result, seq: Number(r.dataset.seq)}))`
		waitJS[bool](t, ctx, `document.querySelectorAll("#audit-table tbody tr").length > 0`, 10*time.Second, "the audit entries")
		all := eval[[]auditRow](t, ctx, rows)
		var login, denied bool
		for i, r := range all {
			if i > 0 && r.Seq > all[i-1].Seq {
				t.Errorf("entry %d (seq %d) after seq %d: not newest first", i, r.Seq, all[i-1].Seq)
			}
			login = login || (r.Who == "duty" && strings.Contains(r.Action, "login") && r.Result == "ok")
			denied = denied || (r.Who == "duty" && strings.Contains(r.Action, "login") && r.Result == "denied")
		}
		if !login || !denied {
			t.Errorf("the audit log lacks duty's good and bad logins: %+v", all)
		}
		head, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#audit-table thead")))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"时间", "用户", "角色", "地址", "操作", "对象", "结果"} {
			if !strings.Contains(head, want) {
				t.Errorf("the audit table's header lacks %q: %q", want, head)
			}
		}
		screenshot(t, ctx, "audit.png")
		// Filtered by user.
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("audit-who"), "wall"),
			chromedp.Click(chromedp.ID("audit-search")),
		); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, `[...document.querySelectorAll("#audit-table tbody tr .audit-who")].every(td => td.textContent === "wall") && document.querySelectorAll("#audit-table tbody tr").length > 0`, 10*time.Second, "the entries of wall")
	})

	t.Run("Locked", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/login.html"), chromedp.WaitVisible(chromedp.ID("login-form"))); err != nil {
			t.Fatal(err)
		}
		var msg string
		for i := 0; i < 12 && !strings.Contains(msg, "锁定"); i++ {
			if err := chromedp.Do(ctx,
				chromedp.SetValue(chromedp.ID("login-login"), "duty"),
				chromedp.SendKeys(chromedp.ID("login-password"), "not-the-password"),
				chromedp.Click(chromedp.ID("login-submit")),
			); err != nil {
				t.Fatal(err)
			}
			msg = waitJS[string](t, ctx, `!document.getElementById("login-submit").disabled && document.getElementById("login-message").className.includes("error") && document.getElementById("login-message").textContent`, 20*time.Second, "the answer to a login")
		}
		if !strings.Contains(msg, "锁定") || !regexp.MustCompile(`请 \d+ (秒|分钟|小时)后再试。`).MatchString(msg) {
			t.Errorf("after many wrong passwords the page says %q, want the account locked and the wait in words", msg)
		}
		if latin.MatchString(msg) {
			t.Errorf("the locked message has Latin text: %q", msg)
		}
		screenshot(t, ctx, "login-locked.png")
	})
}

// A big screen logged in as a viewer stays logged in across a restart of
// the server: it reconnects by itself and never shows the login page.
func TestBrowserAuthScreenRestart(t *testing.T) {
	srv := newStoppableServer(t)
	addUser(t, srv.dir, "wall", "指挥中心大屏", "viewer")
	srv.start()
	url := srv.url()
	ctx := browser(t, 1920, 1080)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	watchExceptions(t, ctx)

	logInPage(t, ctx, url, "/?view=screen", "wall")
	if view := eval[string](t, ctx, `location.pathname + location.search`); view != "/?view=screen" {
		t.Fatalf("after logging in the page is %s, want the big screen", view)
	}
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
	waitJS[bool](t, ctx, liveIsUp, 15*time.Second, "the live channel")

	eval[bool](t, ctx, `window.__notReloaded = true`)
	connects := eval[int](t, ctx, `window.onemap.live.connects`)
	srv.stop()
	waitJS[bool](t, ctx, `window.onemap.live.status === "reconnecting"`, 5*time.Second, "the reconnecting state")
	srv.start()
	waitJS[bool](t, ctx, fmt.Sprintf(`window.onemap.live.connected && window.onemap.live.connects > %d`, connects), 20*time.Second, "connected again")
	if where := eval[string](t, ctx, `window.__notReloaded === true ? location.pathname + location.search : "reloaded"`); where != "/?view=screen" {
		t.Errorf("after the restart the page is %s, want the same big screen", where)
	}
	if s := eval[sessionOf](t, ctx, pageSession); s.Login != "wall" || s.Anonymous {
		t.Errorf("after the restart the session is %+v, want wall's", s)
	}
	if !eval[bool](t, ctx, `document.getElementById("screen-login").hidden`) {
		t.Error("the big screen says it is no longer logged in")
	}
	// An alarm after the restart reaches the screen.
	s := sensorAt(t, url, "GAS-000001")
	alarmArrives(t, ctx, url, s)
	screenshot(t, ctx, "screen-after-restart.png")
}
