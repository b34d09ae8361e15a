package server

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/onemap/onemap/auth"
)

// testPassword is the password of every test user: the user's login,
// which is its role, and this.
const testPassword = "-correct-horse-battery"

// testAuth is one set of users, a user of each shipped role with a login
// of its name, and a session each, shared by the package's test servers.
var testAuth = sync.OnceValue(func() *testUsers {
	dir, err := os.MkdirTemp("", "onemap-server-test-")
	if err != nil {
		panic(err)
	}
	users, err := auth.OpenUsers(context.Background(), dir)
	if err != nil {
		panic(err)
	}
	a := auth.NewAccounts(auth.AccountsOptions{Users: users, Hasher: auth.NewHasher(auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)})
	testAuthDir = dir
	tu := &testUsers{dir: dir, accounts: a, sessions: map[string]testSession{}}
	// duty is a second operator; lead both drafts and signs; unit1 is the
	// sample directory's member of the gas company.
	for r, roles := range map[string][]string{"duty": {"operator"}, "lead": {"analyst", "commander"}, "unit1": {"unit"}} {
		u, err := a.AddUser(context.Background(), nil, auth.NewUser{Login: r, Password: r + testPassword, Roles: roles})
		if err != nil {
			panic(err)
		}
		secret, sess, err := a.Sessions.Create(context.Background(), u.ID, "127.0.0.1")
		if err != nil {
			panic(err)
		}
		tu.sessions[r] = testSession{secret: secret, csrf: sess.CSRF, id: u.ID}
	}
	for _, r := range a.Roles.Names() {
		u, err := a.AddUser(context.Background(), nil, auth.NewUser{Login: r, Password: r + testPassword, Roles: []string{r}})
		if err != nil {
			panic(err)
		}
		secret, sess, err := a.Sessions.Create(context.Background(), u.ID, "127.0.0.1")
		if err != nil {
			panic(err)
		}
		tu.sessions[r] = testSession{secret: secret, csrf: sess.CSRF, id: u.ID}
	}
	return tu
})

// testAuthDir is testAuth's directory, removed by TestMain.
var testAuthDir string

type testUsers struct {
	dir      string
	accounts *auth.Accounts
	sessions map[string]testSession
}

type testSession struct{ secret, csrf, id string }

// withTestAccess gives o the test users and, unless it has its own access
// rules, an anonymous viewer.
func withTestAccess(o Options) Options {
	if o.Access.Accounts == nil {
		o.Access.Accounts = testAuth().accounts
		if o.Access.Anonymous == nil {
			o.Access.Anonymous = []string{"viewer"}
		}
	}
	return o
}

// authorize puts credentials on req: "role:NAME" is the session of the
// test user of that role (cookie and CSRF token), anything else a bearer
// token.
func authorize(req *http.Request, token string) {
	if role, ok := strings.CutPrefix(token, "role:"); ok {
		s := testAuth().sessions[role]
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.secret})
		req.Header.Set("X-CSRF-Token", s.csrf)
		return
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
}

// as is the cookie header of the test user of role, for get.
func as(role string) []string {
	return []string{"Cookie", sessionCookie + "=" + testAuth().sessions[role].secret}
}
