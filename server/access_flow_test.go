package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/paulmach/orb"
)

// accessWorld is a live server with its own users, tokens and audit log,
// on a clock the test moves.
type accessWorld struct {
	ts       *httptest.Server
	accounts *auth.Accounts
	tokens   *auth.Tokens
	audit    *auth.AuditLog
	now      *atomic.Int64
}

func (w *accessWorld) advance(d time.Duration) { w.now.Add(int64(d)) }

func newAccessWorld(t *testing.T, anonymous []string, edit func(*Options)) *accessWorld {
	t.Helper()
	w := &accessWorld{now: &atomic.Int64{}}
	w.now.Store(liveNow.UnixNano())
	clock := func() time.Time { return time.Unix(0, w.now.Load()).UTC() }
	ctx := context.Background()
	dir := t.TempDir()
	users, err := auth.OpenUsers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if w.audit, err = auth.OpenAudit(ctx, filepath.Join(dir, auth.AuditFile), auth.AuditOptions{Now: clock}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.audit.Close() })
	w.accounts = auth.NewAccounts(auth.AccountsOptions{Users: users, Audit: w.audit, Now: clock,
		Hasher:  auth.NewHasher(auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0),
		Lockout: auth.NewLockout(auth.LockoutOptions{Now: clock})})
	w.tokens = auth.NewTokens(auth.TokensOptions{Audit: w.audit, Now: clock})
	for login, roles := range map[string][]string{"li": {"operator"}, "wang": {"viewer"}, "root": {"admin"}} {
		if _, err := w.accounts.AddUser(ctx, nil, auth.NewUser{Login: login, Name: strings.ToUpper(login), Password: login + testPassword, Roles: roles}); err != nil {
			t.Fatal(err)
		}
	}
	o := liveOptions(t, Options{Access: Access{Accounts: w.accounts, Tokens: w.tokens, Audit: w.audit, Anonymous: anonymous}})
	o.Now = clock
	if edit != nil {
		edit(&o)
	}
	w.ts = httptest.NewServer(newTestServer(o).Handler())
	t.Cleanup(w.ts.Close)
	return w
}

// browserSession is what a browser holds after logging in.
type browserSession struct {
	cookie *http.Cookie
	csrf   string
	body   sessionJSON
}

// login posts a login as the web app does and returns the session, or
// the failed answer's status and code.
func (w *accessWorld) login(t *testing.T, login, password string) (*browserSession, int, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"login": login, "password": password})
	req, _ := http.NewRequest("POST", w.ts.URL+"/api/v1/session", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", w.ts.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var e struct {
			Error struct{ Code, Message string }
		}
		json.NewDecoder(resp.Body).Decode(&e)
		return nil, resp.StatusCode, e.Error.Code + ": " + e.Error.Message + " retry-after=" + resp.Header.Get("Retry-After")
	}
	bs := &browserSession{}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			bs.cookie = c
		}
	}
	json.NewDecoder(resp.Body).Decode(&bs.body)
	bs.csrf = bs.body.CSRF
	return bs, 200, ""
}

// do sends a request with the session's cookie and, if csrf, its token.
func (w *accessWorld) do(t *testing.T, bs *browserSession, csrf bool, method, path, payload string) (int, string, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(method, w.ts.URL+path, strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	if bs != nil {
		req.AddCookie(bs.cookie)
		if csrf {
			req.Header.Set("X-CSRF-Token", bs.csrf)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	return resp.StatusCode, string(b), resp
}

func TestLoginSessionCookie(t *testing.T) {
	w := newAccessWorld(t, nil, nil)
	bs, st, msg := w.login(t, "li", "li"+testPassword)
	if st != 200 {
		t.Fatalf("login: %d %s", st, msg)
	}
	c := bs.cookie
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP", c)
	}
	if bs.body.User == nil || bs.body.User.Login != "li" || bs.body.CSRF == "" || !strings.Contains(strings.Join(bs.body.Permissions, ","), "alarms.ack") {
		t.Errorf("session %+v", bs.body)
	}
	if !c.Expires.Equal(liveNow.Add(12*time.Hour).Truncate(time.Second)) && c.Expires.Sub(liveNow) != 12*time.Hour {
		t.Errorf("cookie expires %v, want 12 h after login", c.Expires)
	}
	// The session says who is there; the password hash is never shown.
	st, b, _ := w.do(t, bs, false, "GET", "/api/v1/session", "")
	if st != 200 || !strings.Contains(b, `"login":"li"`) || strings.Contains(b, "argon2") {
		t.Errorf("GET session: %d %s", st, b)
	}
	// A write with the cookie but without the CSRF token is refused, and
	// with it goes through.
	if st, b, _ := w.do(t, bs, false, "POST", "/api/v1/alarms/1/ack", `{}`); st != 403 || !strings.Contains(b, CodeCSRF) {
		t.Errorf("ack without CSRF: %d %s", st, b)
	}
	if st, b, _ := w.do(t, bs, true, "POST", "/api/v1/alarms/1/ack", `{}`); st != 404 {
		t.Errorf("ack of no alarm with CSRF: %d %s, want 404 (admitted)", st, b)
	}
	// A page of another site cannot write even with the token.
	req, _ := http.NewRequest("POST", w.ts.URL+"/api/v1/alarms/1/ack", strings.NewReader(`{}`))
	req.AddCookie(c)
	req.Header.Set("X-CSRF-Token", bs.csrf)
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 403 {
		t.Errorf("a write from another origin: %d", resp.StatusCode)
	}
	// Idle for 31 minutes: the session is over, the cookie cleared.
	w.advance(31 * time.Minute)
	st, _, resp := w.do(t, bs, false, "GET", "/api/v1/session", "")
	if st != 401 {
		t.Errorf("after 31 idle minutes: %d, want 401", st)
	}
	cleared := false
	for _, ck := range resp.Cookies() {
		cleared = cleared || ck.Name == sessionCookie && ck.MaxAge < 0
	}
	if !cleared {
		t.Error("the expired session's cookie was not cleared")
	}
}

func TestLoginRefusals(t *testing.T) {
	w := newAccessWorld(t, nil, nil)
	_, st, msg := w.login(t, "li", "wrong password!")
	_, st2, msg2 := w.login(t, "nobody", "wrong password!")
	if st != 401 || st2 != 401 || !strings.HasPrefix(msg, CodeBadCredentials) || msg != msg2 {
		t.Errorf("wrong password %d %q, unknown login %d %q: want the same 401 bad_credentials", st, msg, st2, msg2)
	}
	for range 4 {
		w.login(t, "li", "wrong password!")
	}
	// Five failures from the address (the fourth try above was already
	// held back): the login waits, even with the right password, and is
	// told how long in words.
	_, st, msg = w.login(t, "li", "li"+testPassword)
	if st != 429 || !strings.HasPrefix(msg, CodeLocked) || strings.Contains(msg, "0s") || strings.HasSuffix(msg, "retry-after=") {
		t.Errorf("after 5 failures: %d %q, want 429 locked with Retry-After", st, msg)
	}
	w.advance(time.Hour)
	if _, st, msg = w.login(t, "li", "li"+testPassword); st != 200 {
		t.Errorf("an hour later: %d %s", st, msg)
	}
	// Malformed bodies.
	for _, payload := range []string{``, `{"login":"li"}`, `{"login":"li","password":"x","extra":1}`, strings.Repeat("x", 10000)} {
		req, _ := http.NewRequest("POST", w.ts.URL+"/api/v1/session", strings.NewReader(payload))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("login body %.30q: %d, want 400", payload, resp.StatusCode)
		}
	}
	// The audit log has the failures and the success, with the address.
	list, err := w.audit.Query(context.Background(), auth.AuditFilter{What: "login"})
	if err != nil {
		t.Fatal(err)
	}
	var denied, ok, locked int
	for _, e := range list {
		switch e.Result {
		case "denied":
			denied++
		case "ok":
			ok++
		case "locked":
			locked++
		}
		if e.Remote != "127.0.0.1" {
			t.Errorf("audit entry from %q", e.Remote)
		}
	}
	if denied != 5 || ok != 1 || locked != 2 {
		t.Errorf("audit: %d denied, %d ok, %d locked; want 5, 1, 2", denied, ok, locked)
	}
}

// Logins from one address beyond the rate are refused before any
// password is checked.
func TestLoginRate(t *testing.T) {
	w := newAccessWorld(t, nil, func(o *Options) { o.Access.LoginRate, o.Access.LoginBurst = 1, 3 })
	for i := range 3 {
		if _, st, msg := w.login(t, "wang", "wang"+testPassword); st != 200 {
			t.Fatalf("login %d: %d %s", i, st, msg)
		}
	}
	_, st, msg := w.login(t, "wang", "wang"+testPassword)
	if st != 429 || !strings.HasPrefix(msg, CodeTooManyRequests) || !strings.HasSuffix(msg, "retry-after=1") {
		t.Errorf("fourth login at once: %d %q, want 429 too_many_requests, Retry-After 1", st, msg)
	}
	w.advance(time.Second)
	if _, st, _ := w.login(t, "wang", "wang"+testPassword); st != 200 {
		t.Errorf("a second later: %d", st)
	}
}

func TestLogoutAndEverywhere(t *testing.T) {
	w := newAccessWorld(t, nil, nil)
	a, _, _ := w.login(t, "li", "li"+testPassword)
	b, _, _ := w.login(t, "li", "li"+testPassword)
	other, _, _ := w.login(t, "wang", "wang"+testPassword)
	if st, _, _ := w.do(t, a, false, "DELETE", "/api/v1/session", ""); st != 403 {
		t.Errorf("logout without CSRF: %d, want 403", st)
	}
	if st, _, _ := w.do(t, a, true, "DELETE", "/api/v1/session", ""); st != 204 {
		t.Errorf("logout: %d", st)
	}
	if st, _, _ := w.do(t, a, false, "GET", "/api/v1/alarms", ""); st != 401 {
		t.Errorf("after logout: %d, want 401", st)
	}
	c, _, _ := w.login(t, "li", "li"+testPassword)
	if st, body, _ := w.do(t, c, true, "DELETE", "/api/v1/sessions", ""); st != 200 || !strings.Contains(body, `"ended":2`) {
		t.Errorf("logout everywhere: %d %s, want 2 sessions ended", st, body)
	}
	if st, _, _ := w.do(t, b, false, "GET", "/api/v1/alarms", ""); st != 401 {
		t.Errorf("the other session after logout everywhere: %d, want 401", st)
	}
	if st, _, _ := w.do(t, other, false, "GET", "/api/v1/alarms", ""); st != 200 {
		t.Errorf("another user's session: %d, want 200", st)
	}
}

// Disabling a user or changing its roles ends its sessions at once.
func TestUserChangeEndsSessions(t *testing.T) {
	w := newAccessWorld(t, nil, nil)
	root, _, _ := w.login(t, "root", "root"+testPassword)
	li, _, _ := w.login(t, "li", "li"+testPassword)
	st, list, _ := w.do(t, root, false, "GET", "/api/v1/users", "")
	var users struct{ Users []userJSON }
	json.Unmarshal([]byte(list), &users)
	if st != 200 || len(users.Users) != 3 || strings.Contains(list, "password") {
		t.Fatalf("users: %d %s", st, list)
	}
	var liID string
	for _, u := range users.Users {
		if u.Login == "li" {
			liID = u.ID
		}
	}
	if st, b, _ := w.do(t, root, true, "PATCH", "/api/v1/users/"+liID, `{"roles":["viewer"]}`); st != 200 || !strings.Contains(b, `"roles":["viewer"]`) {
		t.Fatalf("PATCH roles: %d %s", st, b)
	}
	if st, _, _ := w.do(t, li, false, "GET", "/api/v1/alarms", ""); st != 401 {
		t.Errorf("li's session after a change of roles: %d, want 401", st)
	}
	li, _, _ = w.login(t, "li", "li"+testPassword)
	if st, _, _ := w.do(t, li, true, "POST", "/api/v1/alarms/1/ack", `{}`); st != 403 {
		t.Errorf("li, now a viewer, acknowledging: %d, want 403", st)
	}
	for _, bad := range []string{`{"roles":["pope"]}`, `{"password":"short"}`, `{"login":"x"}`, `{"disabled":"yes"}`} {
		if st, b, _ := w.do(t, root, true, "PATCH", "/api/v1/users/"+liID, bad); st != 400 {
			t.Errorf("PATCH %s: %d %s, want 400", bad, st, b)
		}
	}
	if st, _, _ := w.do(t, root, true, "PATCH", "/api/v1/users/u_nobody", `{"disabled":true}`); st != 404 {
		t.Errorf("PATCH of no user: %d, want 404", st)
	}
	if st, b, _ := w.do(t, root, true, "PATCH", "/api/v1/users/"+liID, `{"disabled":true}`); st != 200 || !strings.Contains(b, `"disabled":true`) {
		t.Errorf("disable: %d %s", st, b)
	}
	if _, st, _ := w.login(t, "li", "li"+testPassword); st != 401 {
		t.Errorf("a disabled user logging in: %d, want 401", st)
	}
	if st, b, _ := w.do(t, root, true, "POST", "/api/v1/users", `{"login":"zhao","name":"赵","password":"zhao`+testPassword+`","roles":["analyst"]}`); st != 201 || !strings.Contains(b, `"login":"zhao"`) {
		t.Errorf("add user: %d %s", st, b)
	}
	if st, b, _ := w.do(t, root, true, "POST", "/api/v1/users", `{"login":"zhao","password":"zhao`+testPassword+`","roles":["analyst"]}`); st != 409 || !strings.Contains(b, CodeLoginTaken) {
		t.Errorf("add a login in use: %d %s", st, b)
	}
	// The changes are in the audit log under the admin's name.
	list2, _ := w.audit.Query(context.Background(), auth.AuditFilter{Who: "root", What: "users."})
	if len(list2) < 4 {
		t.Errorf("audit of root's changes: %d entries, want at least 4", len(list2))
	}
	for _, e := range list2 {
		if e.Remote != "127.0.0.1" {
			t.Errorf("audit entry %+v without the address", e)
		}
	}
}

// An acknowledgement and a rules version carry who made them; every write
// and every refused one is in the audit log.
func TestWritesAudited(t *testing.T) {
	w := newAccessWorld(t, []string{"viewer"}, nil)
	resp, b := send(t, "POST", w.ts.URL+"/api/v1/readings", "secret", "application/json", "["+lel(30, 1)+"]")
	if resp.StatusCode != 200 {
		t.Fatalf("readings: %d %s", resp.StatusCode, b)
	}
	li, _, _ := w.login(t, "li", "li"+testPassword)
	st, ack, _ := w.do(t, li, true, "POST", "/api/v1/alarms/1/ack", `{"note":"on my way"}`)
	if st != 200 || !strings.Contains(ack, `"by":"li"`) {
		t.Errorf("ack: %d %s", st, ack)
	}
	// Anonymous viewing is on: reading works, writing does not.
	if r := get(t, w.ts.URL+"/api/v1/alarms"); r.StatusCode != 200 {
		t.Errorf("anonymous read: %d", r.StatusCode)
	}
	if resp, _ := send(t, "PUT", w.ts.URL+"/api/v1/rules", "", "application/json", `{"rules":[]}`); resp.StatusCode != 401 {
		t.Errorf("anonymous PUT rules: %d, want 401", resp.StatusCode)
	}
	if resp, _ := send(t, "POST", w.ts.URL+"/api/v1/alarms/1/ack", "", "text/plain", `{}`); resp.StatusCode != 401 {
		t.Errorf("anonymous ack: %d, want 401", resp.StatusCode)
	}
	list, err := w.audit.Query(context.Background(), auth.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Who+" "+e.Action+" "+e.Target+" "+e.Result)
	}
	s := strings.Join(got, "\n")
	for _, want := range []string{
		"li alarms.ack /api/v1/alarms/1/ack ok",
		"anonymous rules.write /api/v1/rules denied: unauthorized",
		"anonymous alarms.ack /api/v1/alarms/1/ack denied: unauthorized",
		"li login  ok",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("audit log lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "readings") {
		t.Errorf("ingest is in the audit log:\n%s", s)
	}
	// The audit API, for admins only, filters.
	root, _, _ := w.login(t, "root", "root"+testPassword)
	st, b2, _ := w.do(t, root, false, "GET", "/api/v1/audit?who=li&what=alarms.", "")
	var q struct{ Entries []auth.Entry }
	json.Unmarshal([]byte(b2), &q)
	if st != 200 || len(q.Entries) != 1 || q.Entries[0].Action != "alarms.ack" {
		t.Errorf("audit ?who=li&what=alarms.: %d %s", st, b2)
	}
	if st, _, _ := w.do(t, li, false, "GET", "/api/v1/audit", ""); st != 403 {
		t.Errorf("an operator reading the audit log: %d, want 403", st)
	}
	for _, q := range []string{"from=yesterday", "limit=0", "limit=5000", "who=" + strings.Repeat("x", 100)} {
		if st, _, _ := w.do(t, root, false, "GET", "/api/v1/audit?"+q, ""); st != 400 {
			t.Errorf("audit ?%s: %d, want 400", q, st)
		}
	}
}

// A device token limited to some sensors sends only theirs; a revoked
// token sends nothing; a token over its rate waits.
func TestIngestTokens(t *testing.T) {
	w := newAccessWorld(t, nil, func(o *Options) { o.Access.IngestRate, o.Access.IngestBurst = 1, 2 })
	root, _, _ := w.login(t, "root", "root"+testPassword)
	st, b, _ := w.do(t, root, true, "POST", "/api/v1/tokens", `{"name":"station 9","scopes":["ingest"],"sensors":[8]}`)
	var issued struct {
		Token  auth.Token
		Secret string
	}
	json.Unmarshal([]byte(b), &issued)
	if st != 201 || !strings.HasPrefix(issued.Secret, auth.TokenPrefix) || issued.Token.Hash != "" {
		t.Fatalf("issue: %d %s", st, b)
	}
	resp, rb := send(t, "POST", w.ts.URL+"/api/v1/readings", issued.Secret, "application/json", "["+lel(2, 1)+"]")
	if resp.StatusCode != 200 || !strings.Contains(string(rb), `"accepted":0`) || !strings.Contains(string(rb), CodeForbidden) {
		t.Errorf("a reading of sensor 7 with a token for sensor 8: %d %s", resp.StatusCode, rb)
	}
	resp, _ = send(t, "POST", w.ts.URL+"/api/v1/readings", issued.Secret, "application/json", "[]")
	if resp.StatusCode != 200 {
		t.Errorf("second batch: %d", resp.StatusCode)
	}
	resp, rb = send(t, "POST", w.ts.URL+"/api/v1/readings", issued.Secret, "application/json", "[]")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(rb), CodeTooManyRequests) {
		t.Errorf("third batch at once: %d %s, want 429 with Retry-After", resp.StatusCode, rb)
	}
	if st, b, _ := w.do(t, root, true, "DELETE", "/api/v1/tokens/"+issued.Token.ID, ""); st != 200 || !strings.Contains(b, `"revoked"`) {
		t.Errorf("revoke: %d %s", st, b)
	}
	w.advance(time.Minute)
	if resp, _ := send(t, "POST", w.ts.URL+"/api/v1/readings", issued.Secret, "application/json", "[]"); resp.StatusCode != 401 {
		t.Errorf("a revoked token: %d, want 401", resp.StatusCode)
	}
	st, b, _ = w.do(t, root, false, "GET", "/api/v1/tokens", "")
	if st != 200 || !strings.Contains(b, "station 9") || strings.Contains(b, issued.Secret) {
		t.Errorf("list: %d %s", st, b)
	}
	for _, bad := range []string{`{"name":"","scopes":["ingest"]}`, `{"name":"x","scopes":["root"]}`, `{"name":"x","scopes":["read"],"sensors":[1]}`} {
		if st, b, _ := w.do(t, root, true, "POST", "/api/v1/tokens", bad); st != 400 {
			t.Errorf("issue %s: %d %s, want 400", bad, st, b)
		}
	}
}

// Contact names and phone numbers are masked for callers without
// contacts.read, in a feature and in the features near a point, and whole
// for those who hold it.
func TestContactsMasked(t *testing.T) {
	ts := liveServer(t)
	school := fmt.Sprint(layers.MakeID(22, 1))
	for _, tt := range []struct {
		who, contact, phone string
	}{
		{"", "王**", "138****5678"},
		{"role:viewer", "王**", "138****5678"},
		{"role:analyst", "王**", "138****5678"},
		{"role:operator", "王建伟", "13812345678"},
		{"role:commander", "王建伟", "13812345678"},
	} {
		_, b := send(t, "GET", ts.URL+"/api/v1/features/"+school, tt.who, "", "")
		var f struct{ Properties map[string]any }
		json.Unmarshal(b, &f)
		if f.Properties["contact"] != tt.contact || f.Properties["contact_phone"] != tt.phone || f.Properties["name"] != "滨河小学" {
			t.Errorf("feature as %q: %v, want contact %s %s", tt.who, f.Properties, tt.contact, tt.phone)
		}
		_, b = send(t, "GET", ts.URL+"/api/v1/features/"+school+"/nearby?radius=500&layers=protective_target", tt.who, "", "")
		_, b2 := send(t, "GET", ts.URL+"/api/v1/nearby?lon=117.25&lat=31.85&radius=5000&layers=protective_target", tt.who, "", "")
		if strings.Contains(string(b)+string(b2), "13812345678") != (tt.phone == "13812345678") {
			t.Errorf("nearby as %q: %s %s", tt.who, b, b2)
		}
	}
}

// A user limited to an owning unit or a district sees, and acts on, the
// alarms and sensors of its own alone; the others are as if not there.
func TestScopedUsers(t *testing.T) {
	w := newAccessWorld(t, nil, func(o *Options) {
		sensors := live.NewSensors([]*layers.Feature{
			{ID: 7, Layer: layers.Sensor, Geometry: orb.Point{117.26, 31.84},
				Props: map[string]any{"code": "GAS-1", "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel", "asset": 1.0, "asset_layer": layers.DrainNode, "owner": "滨湖燃气公司"}},
			{ID: 8, Layer: layers.Sensor, Geometry: orb.Point{117.27, 31.84},
				Props: map[string]any{"code": "GAS-2", "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel", "asset": 2.0, "asset_layer": layers.DrainNode, "owner": "滨湖排水公司"}},
		})
		s7, _ := sensors.Get(7)
		s8, _ := sensors.Get(8)
		s7.District, s8.District = "方兴街道", "徽园街道"
		curves := series.New(series.Options{Now: o.Now})
		svc, err := live.NewService(live.Options{Sensors: sensors, Series: curves, Now: o.Now})
		if err != nil {
			t.Fatal(err)
		}
		o.Live, o.Sensors, o.Series = svc, sensors, curves
	})
	ctx := context.Background()
	for login, sc := range map[string]auth.Scopes{"gasco": {Units: []string{"滨湖燃气公司"}}, "huiyuan": {Districts: []string{"徽园街道"}}} {
		roles := []string{"unit"}
		if login == "huiyuan" {
			roles = []string{"operator"}
		}
		if _, err := w.accounts.AddUser(ctx, nil, auth.NewUser{Login: login, Password: login + testPassword, Roles: roles, Scopes: sc}); err != nil {
			t.Fatal(err)
		}
	}
	at := liveNow.Add(-time.Minute).Format(time.RFC3339)
	resp, b := send(t, "POST", w.ts.URL+"/api/v1/readings", "secret", "application/json",
		`[{"sensor":7,"metric":"ch4_lel","value":30,"ts":"`+at+`"},{"sensor":8,"metric":"ch4_lel","value":30,"ts":"`+at+`"}]`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"accepted":2`) {
		t.Fatalf("readings: %d %s", resp.StatusCode, b)
	}
	alarmOf := map[uint64]string{}
	var all struct{ Alarms []struct{ ID, Sensor uint64 } }
	root, _, _ := w.login(t, "root", "root"+testPassword)
	_, list, _ := w.do(t, root, false, "GET", "/api/v1/alarms", "")
	json.Unmarshal([]byte(list), &all)
	for _, a := range all.Alarms {
		alarmOf[a.Sensor] = fmt.Sprint(a.ID)
	}
	if len(alarmOf) != 2 {
		t.Fatalf("the admin sees %s, want two alarms", list)
	}
	for login, own := range map[string]uint64{"gasco": 7, "huiyuan": 8} {
		other := uint64(15) - own
		bs, st, msg := w.login(t, login, login+testPassword)
		if st != 200 {
			t.Fatalf("login %s: %d %s", login, st, msg)
		}
		_, list, _ := w.do(t, bs, false, "GET", "/api/v1/alarms", "")
		var got struct{ Alarms []struct{ Sensor uint64 } }
		json.Unmarshal([]byte(list), &got)
		if len(got.Alarms) != 1 || got.Alarms[0].Sensor != own {
			t.Errorf("%s sees alarms %s, want sensor %d's alone", login, list, own)
		}
		_, sl, _ := w.do(t, bs, false, "GET", "/api/v1/sensors", "")
		if !strings.Contains(sl, fmt.Sprintf(`"id":%d`, own)) || strings.Contains(sl, fmt.Sprintf(`"id":%d`, other)) {
			t.Errorf("%s sees sensors %s", login, sl)
		}
		for _, path := range []string{"/api/v1/alarms/" + alarmOf[other], fmt.Sprintf("/api/v1/sensors/%d", other), "/api/v1/alarms/" + alarmOf[other] + "/impact"} {
			if st, _, _ := w.do(t, bs, false, "GET", path, ""); st != 404 {
				t.Errorf("%s GET %s: %d, want 404", login, path, st)
			}
		}
		if st, _, _ := w.do(t, bs, false, "GET", "/api/v1/alarms/"+alarmOf[own], ""); st != 200 {
			t.Errorf("%s GET its own alarm: %d", login, st)
		}
		if st, _, _ := w.do(t, bs, false, "GET", "/ws", ""); st != 403 {
			t.Errorf("%s opening the live channel: %d, want 403", login, st)
		}
	}
	huiyuan, _, _ := w.login(t, "huiyuan", "huiyuan"+testPassword)
	if st, _, _ := w.do(t, huiyuan, true, "POST", "/api/v1/alarms/"+alarmOf[7]+"/ack", `{}`); st != 404 {
		t.Errorf("acknowledging another district's alarm: %d, want 404", st)
	}
	if st, b, _ := w.do(t, huiyuan, true, "POST", "/api/v1/alarms/"+alarmOf[8]+"/ack", `{}`); st != 200 || !strings.Contains(b, `"by":"huiyuan"`) {
		t.Errorf("acknowledging its own: %d %s", st, b)
	}
}

// The client's address is the peer's, or X-Forwarded-For's last hop when
// the peer is a trusted proxy; a client cannot name itself.
func TestRemoteAddr(t *testing.T) {
	s := New(Options{Catalog: layers.Default(), Access: Access{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	for _, tt := range []struct{ peer, xff, want string }{
		{"192.0.2.7:5000", "", "192.0.2.7"},
		{"192.0.2.7:5000", "203.0.113.9", "192.0.2.7"},           // not a proxy: ignored
		{"10.1.2.3:5000", "203.0.113.9", "203.0.113.9"},          // the proxy's word
		{"10.1.2.3:5000", "6.6.6.6, 203.0.113.9", "203.0.113.9"}, // the hop the proxy added
		{"10.1.2.3:5000", "not an address", "10.1.2.3"},
		{"[::ffff:10.1.2.3]:5000", "203.0.113.9", "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := s.remoteAddr(r); got != tt.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tt.peer, tt.xff, got, tt.want)
		}
	}
}
