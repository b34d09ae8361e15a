package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/store/postgis"
)

// testIngestToken is the static device token the test servers take
// (ONEMAP_INGEST_TOKEN, set by TestMain), so that every server a test
// starts, in this process or a child, admits the tests' readings.
const testIngestToken = "test-ingest-token"

// postIngest is http.Post with the test device token.
func postIngest(url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+testIngestToken)
	return http.DefaultClient.Do(req)
}

// webSession is a user logged in to a running server, as the web app is:
// a session cookie and its CSRF token.
type webSession struct {
	url    string
	cookie *http.Cookie
	csrf   string
}

// apiLogIn adds a user with roles to the users of the server at url (of
// dataDir, or of the database db when it is not empty) and logs it in.
func apiLogIn(t testing.TB, url, dataDir, db, login string, roles ...string) *webSession {
	t.Helper()
	ctx := context.Background()
	var users auth.UserStore
	if db != "" {
		a, err := postgis.OpenAuth(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		users = a.Users
	} else {
		fu, err := auth.OpenUsers(ctx, dataDir)
		if err != nil {
			t.Fatal(err)
		}
		users = fu
	}
	password := login + "-correct-horse-battery"
	accounts := auth.NewAccounts(auth.AccountsOptions{Users: users})
	if _, err := accounts.AddUser(ctx, nil, auth.NewUser{Login: login, Password: password, Roles: roles}); err != nil && !errors.Is(err, auth.ErrLoginTaken) {
		t.Fatal(err)
	}
	return apiLogInAs(t, url, login, password)
}

// apiLogInAs logs in to the server at url.
func apiLogInAs(t testing.TB, url, login, password string) *webSession {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"login": login, "password": password})
	resp, err := http.Post(url+"/api/v1/session", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct{ CSRF string }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("log in as %s: %d %v", login, resp.StatusCode, err)
	}
	ws := &webSession{url: url, csrf: s.CSRF}
	for _, c := range resp.Cookies() {
		if c.Name == "om_session" {
			ws.cookie = c
		}
	}
	return ws
}

// do sends a request of the session and returns the status and body.
func (ws *webSession) do(method, path, body string) (int, string, error) {
	req, err := http.NewRequest(method, ws.url+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(ws.cookie)
	req.Header.Set("X-CSRF-Token", ws.csrf)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}
