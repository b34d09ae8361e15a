package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onemap/onemap/auth"
)

// logInWith logs in on the login page with a password and waits for the
// map.
func logInWith(t *testing.T, ctx context.Context, url, login, password string) {
	t.Helper()
	logInAt(t, ctx, url+"/login.html", login, password)
}

// freshBrowser is a new browser context of ctx's browser: no cookies, no
// storage.
func freshBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	c, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(c); err != nil {
		t.Fatalf("new browser context: %v", err)
	}
	watchExceptions(t, c)
	return c
}

// openMenuEntry opens the user menu and clicks one of its entries.
func openMenuEntry(t *testing.T, ctx context.Context, entry, panel string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("user-button")),
		chromedp.WaitVisible(chromedp.ID(entry)),
		chromedp.Click(chromedp.ID(entry)),
		chromedp.WaitVisible(chromedp.ID(panel)),
	); err != nil {
		t.Fatalf("open %s from the user menu: %v", panel, err)
	}
}

// postWithToken posts one reading of a sensor with a token and returns the
// status and how many readings were accepted.
func postWithToken(t *testing.T, url, token, code string, value float64) (int, int) {
	t.Helper()
	ts := time.Now().UTC().Truncate(time.Second)
	if !ts.After(lastReading) {
		ts = lastReading.Add(time.Second)
	}
	lastReading = ts
	body := fmt.Sprintf(`[{"sensor":%q,"metric":"ch4_lel","value":%g,"ts":%q}]`, code, value, ts.Format(time.RFC3339))
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/readings", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct {
		Accepted int `json:"accepted"`
	}
	json.NewDecoder(res.Body).Decode(&answer)
	return res.StatusCode, answer.Accepted
}

// An administrator, logged in with the first start's password, adds
// people and device tokens in the web app; what they add works at once,
// and what they revoke stops at once.
func TestBrowserAdmin(t *testing.T) {
	dir := t.TempDir()
	url := startServer(t, "--data-dir", dir)
	raw, err := os.ReadFile(filepath.Join(dir, auth.AdminPasswordFile))
	if err != nil {
		t.Fatalf("the first start wrote no admin password: %v", err)
	}
	adminPassword := strings.TrimSpace(string(raw))
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	alarm := activeAlarm(t, url, "GAS-000001")

	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 240*time.Second)
	defer cancel()
	watchExceptions(t, ctx)

	logInWith(t, ctx, url, "admin", adminPassword)
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)

	if missing := eval[[]string](t, ctx, `import("/admin.js").then(m => [...Object.keys(m.TEXT.zh).filter(k => !(k in m.TEXT.en)), ...Object.keys(m.TEXT.en).filter(k => !(k in m.TEXT.zh))])`); len(missing) > 0 {
		t.Errorf("texts in one language only: %q", missing)
	}

	var dutyPassword string
	t.Run("AddUsers", func(t *testing.T) {
		openMenuEntry(t, ctx, "user-users", "users-panel")
		waitJS[bool](t, ctx, `!!document.querySelector('#users-table tr[data-login="admin"]')`, 10*time.Second, "the admin in the users list")
		if roles := eval[string](t, ctx, `document.querySelector('#users-table tr[data-login="admin"] .admin-roles').textContent`); roles != "管理员" {
			t.Errorf("the admin's roles read %q, want 管理员", roles)
		}
		// An operator, with a password made up by the page.
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("users-login"), "duty"),
			chromedp.SendKeys(chromedp.ID("users-name"), "王芳"),
			chromedp.Click(chromedp.ID("users-role-operator")),
			chromedp.Click(chromedp.ID("users-generate")),
			chromedp.Click(chromedp.ID("users-submit")),
			chromedp.WaitVisible(chromedp.ID("users-secret")),
		); err != nil {
			t.Fatalf("add an operator: %v", err)
		}
		dutyPassword = eval[string](t, ctx, `document.getElementById("users-secret-value").value`)
		if len(dutyPassword) < 10 {
			t.Fatalf("the password shown once is %q", dutyPassword)
		}
		if !eval[bool](t, ctx, `!document.getElementById("users-copy").hidden && document.getElementById("users-secret").textContent.includes("只显示这一次")`) {
			t.Error("the new password has no copy button or no word that it is shown once")
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("users-copy"))); err != nil {
			t.Fatal(err)
		}
		if said := waitJS[string](t, ctx, `document.getElementById("users-copied").textContent`, 5*time.Second, "the word after copying"); said != "已复制" {
			t.Errorf("after the copy button the page says %q", said)
		}
		row := waitJS[string](t, ctx, `(document.querySelector('#users-table tr[data-login="duty"]') || {}).textContent`, 10*time.Second, "the operator in the users list")
		for _, want := range []string{"王芳", "值班员", "正常"} {
			if !strings.Contains(row, want) {
				t.Errorf("the operator's row %q lacks %q", row, want)
			}
		}
		screenshot(t, ctx, "admin-users.png")

		// A viewer, with a typed password.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("users-secret-close")),
			chromedp.SendKeys(chromedp.ID("users-login"), "wall"),
			chromedp.SendKeys(chromedp.ID("users-password"), testPassword),
			chromedp.Click(chromedp.ID("users-role-viewer")),
			chromedp.Click(chromedp.ID("users-submit")),
			chromedp.WaitVisible(chromedp.ID("users-secret")),
		); err != nil {
			t.Fatalf("add a viewer: %v", err)
		}
		if shown := eval[string](t, ctx, `document.getElementById("users-secret-value").value`); shown != testPassword {
			t.Errorf("the typed password is shown as %q", shown)
		}
		waitJS[bool](t, ctx, `!!document.querySelector('#users-table tr[data-login="wall"]')`, 10*time.Second, "the viewer in the users list")

		// A login in use is refused in the page's words, with the code.
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("users-login"), "duty"),
			chromedp.Click(chromedp.ID("users-role-analyst")),
			chromedp.Click(chromedp.ID("users-submit")),
		); err != nil {
			t.Fatal(err)
		}
		msg := waitJS[string](t, ctx, `document.getElementById("users-form-message").className.includes("error") && document.getElementById("users-form-message").textContent`, 10*time.Second, "the refusal of a login in use")
		if !strings.Contains(msg, "该账号已被使用") || !strings.Contains(msg, "login_taken") || strings.Contains(msg, "in use") {
			t.Errorf("a login in use reads %q", msg)
		}
	})

	t.Run("OperatorLogsIn", func(t *testing.T) {
		if dutyPassword == "" {
			t.Skip("no operator")
		}
		op := freshBrowser(t, ctx)
		logInWith(t, op, url, "duty", dutyPassword)
		openAlarm(t, op, alarm)
		if err := chromedp.Do(op, chromedp.WaitVisible(chromedp.ID("alarm-ack-submit"))); err != nil {
			t.Fatalf("the new operator sees no acknowledge form: %v", err)
		}
		screenshot(t, op, "admin-new-operator.png")
	})

	t.Run("Tokens", func(t *testing.T) {
		openMenuEntry(t, ctx, "user-tokens", "tokens-panel")
		if eval[bool](t, ctx, `!document.getElementById("users-panel").hidden`) {
			t.Error("the users panel stays open under the tokens panel")
		}
		waitJS[bool](t, ctx, `!document.getElementById("tokens-status").textContent.includes("加载")`, 10*time.Second, "the tokens list")
		if !eval[bool](t, ctx, `document.getElementById("tokens-scope-ingest").checked`) {
			t.Error("a new token is not for readings by default")
		}
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("tokens-name"), "gas-station-12"),
			chromedp.Click(chromedp.ID("tokens-submit")),
			chromedp.WaitVisible(chromedp.ID("tokens-secret")),
		); err != nil {
			t.Fatalf("create a token: %v", err)
		}
		secret := eval[string](t, ctx, `document.getElementById("tokens-secret-value").value`)
		if secret == "" {
			t.Fatal("no secret shown")
		}
		if !eval[bool](t, ctx, `!document.getElementById("tokens-copy").hidden && document.getElementById("tokens-secret").textContent.includes("只显示这一次")`) {
			t.Error("the secret has no copy button or no word that it is not shown again")
		}
		row := waitJS[string](t, ctx, `(document.querySelector('#tokens-table tr[data-name="gas-station-12"]') || {}).textContent`, 10*time.Second, "the token in the list")
		for _, want := range []string{"上报读数", "全部", "从未使用", "有效"} {
			if !strings.Contains(row, want) {
				t.Errorf("the token's row %q lacks %q", row, want)
			}
		}
		screenshot(t, ctx, "admin-token-secret.png")

		if st, n := postWithToken(t, url, secret, "GAS-000002", 5); st != 200 || n != 1 {
			t.Fatalf("a reading with the new token: %d, %d accepted", st, n)
		}

		revoke := chromedp.CSS(`#tokens-table tr[data-name="gas-station-12"] .tokens-revoke`)
		if err := chromedp.Do(ctx,
			chromedp.Click(revoke),
			chromedp.WaitVisible(chromedp.ID("tokens-confirm")),
		); err != nil {
			t.Fatal(err)
		}
		if q := eval[string](t, ctx, `document.getElementById("tokens-confirm-text").textContent`); !strings.Contains(q, "gas-station-12") || !strings.Contains(q, "吊销") {
			t.Errorf("the question before revoking reads %q", q)
		}
		// Cancelling keeps the token.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("tokens-confirm-no")), chromedp.WaitNotVisible(chromedp.ID("tokens-confirm"))); err != nil {
			t.Fatal(err)
		}
		if st, _ := postWithToken(t, url, secret, "GAS-000002", 6); st != 200 {
			t.Fatalf("after cancelling, a reading with the token: %d", st)
		}
		if err := chromedp.Do(ctx,
			chromedp.Click(revoke),
			chromedp.WaitVisible(chromedp.ID("tokens-confirm")),
		); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "admin-token-revoke.png")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("tokens-confirm-yes"))); err != nil {
			t.Fatal(err)
		}
		state := waitJS[string](t, ctx, `(() => { const r = document.querySelector('#tokens-table tr[data-name="gas-station-12"]'); return r && r.dataset.revoked === "true" && r.querySelector(".admin-state").textContent; })()`, 10*time.Second, "the token revoked in the list")
		if !strings.Contains(state, "已吊销") {
			t.Errorf("a revoked token's state reads %q", state)
		}
		if st, _ := postWithToken(t, url, secret, "GAS-000002", 7); st != http.StatusUnauthorized {
			t.Errorf("a reading with the revoked token: %d, want 401", st)
		}
	})

	t.Run("English", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-switch"))); err != nil {
			t.Fatal(err)
		}
		if title := eval[string](t, ctx, `document.getElementById("tokens-title").textContent`); title != "Device and integration tokens" {
			t.Errorf("the tokens panel in English is titled %q", title)
		}
		if st := waitJS[string](t, ctx, `(document.querySelector('#tokens-table tr[data-name="gas-station-12"] .admin-state') || {}).textContent`, 5*time.Second, "the token's state in English"); !strings.HasPrefix(st, "Revoked") {
			t.Errorf("a revoked token's state in English reads %q", st)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-switch"))); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ChangeUsers", func(t *testing.T) {
		openMenuEntry(t, ctx, "user-users", "users-panel")
		row := `document.querySelector('#users-table tr[data-login="duty"]')`
		waitJS[bool](t, ctx, "!!"+row, 10*time.Second, "the operator in the users list")
		if n := eval[int](t, ctx, `document.querySelectorAll('#users-table tr[data-login="admin"] .users-disable').length`); n != 0 {
			t.Error("the admin is offered to disable themselves")
		}
		// New roles: operator and analyst.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#users-table tr[data-login="duty"] .users-edit-roles`)),
			chromedp.WaitVisible(chromedp.CSS(`#users-table tr[data-login="duty"] .users-save-roles`)),
		); err != nil {
			t.Fatal(err)
		}
		id := eval[string](t, ctx, row+`.dataset.id`)
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("users-edit-"+id+"-analyst")),
			chromedp.Click(chromedp.CSS(`#users-table tr[data-login="duty"] .users-save-roles`)),
			chromedp.WaitVisible(chromedp.ID("users-confirm")),
			chromedp.Click(chromedp.ID("users-confirm-yes")),
		); err != nil {
			t.Fatal(err)
		}
		roles := waitJS[string](t, ctx, `(() => { const r = `+row+`; return r && r.querySelector(".admin-roles").dataset.roles.split(",").sort().join() === "analyst,operator" && r.querySelector(".admin-roles").textContent; })()`, 10*time.Second, "the operator's new roles")
		if !strings.Contains(roles, "研判分析员") || !strings.Contains(roles, "值班员") {
			t.Errorf("the new roles read %q", roles)
		}
		// A new password, shown once, that logs in.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#users-table tr[data-login="duty"] .users-reset-password`)),
			chromedp.WaitVisible(chromedp.ID("users-confirm")),
			chromedp.Click(chromedp.ID("users-confirm-yes")),
			chromedp.WaitVisible(chromedp.ID("users-secret")),
		); err != nil {
			t.Fatal(err)
		}
		pw := eval[string](t, ctx, `document.getElementById("users-secret-value").value`)
		if pw == "" || pw == dutyPassword {
			t.Fatalf("the new password shown is %q", pw)
		}
		op := freshBrowser(t, ctx)
		logInWith(t, op, url, "duty", pw)
		// Disabled after the question; enabled again.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#users-table tr[data-login="duty"] .users-disable`)),
			chromedp.WaitVisible(chromedp.ID("users-confirm")),
		); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "admin-user-disable.png")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("users-confirm-yes"))); err != nil {
			t.Fatal(err)
		}
		state := waitJS[string](t, ctx, `(() => { const r = `+row+`; return r && r.dataset.disabled === "true" && r.querySelector(".admin-state").textContent; })()`, 10*time.Second, "the operator disabled")
		if state != "已停用" {
			t.Errorf("a disabled user's state reads %q", state)
		}
		if s := eval[sessionOf](t, op, pageSession); s.Login == "duty" {
			t.Error("the disabled operator's session goes on")
		}
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#users-table tr[data-login="duty"] .users-enable`)),
			chromedp.WaitVisible(chromedp.ID("users-confirm")),
			chromedp.Click(chromedp.ID("users-confirm-yes")),
		); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, `(() => { const r = `+row+`; return r && r.dataset.disabled === "false"; })()`, 10*time.Second, "the operator enabled again")
	})

	t.Run("ViewerHasNoAdmin", func(t *testing.T) {
		v := freshBrowser(t, ctx)
		logInWith(t, v, url, "wall", testPassword)
		if err := chromedp.Do(v, chromedp.Click(chromedp.ID("user-button")), chromedp.WaitVisible(chromedp.ID("user-menu"))); err != nil {
			t.Fatal(err)
		}
		menu, err := chromedp.Run(v, chromedp.Text(chromedp.ID("user-menu")))
		if err != nil {
			t.Fatal(err)
		}
		for _, no := range []string{"用户管理", "令牌管理", "审计日志"} {
			if strings.Contains(menu, no) {
				t.Errorf("a viewer is offered %s: %q", no, menu)
			}
		}
		if !eval[bool](t, v, `document.getElementById("user-users").hidden && document.getElementById("user-tokens").hidden`) {
			t.Error("a viewer's menu shows the users or the tokens")
		}
	})
}
