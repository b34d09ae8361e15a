package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type fixture struct {
	ctx   context.Context
	clock *clock
	acc   *Accounts
	dir   string
	admin *Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	users, err := OpenUsers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	acc := NewAccounts(AccountsOptions{Users: users, Hasher: NewHasher(testParams, 2), Now: c.Now})
	return &fixture{ctx: ctx, clock: c, acc: acc, dir: dir, admin: &Principal{Name: "root", Roles: []string{"admin"}}}
}

func (f *fixture) add(t *testing.T, login, password string, roles ...string) User {
	t.Helper()
	u, err := f.acc.AddUser(f.ctx, f.admin, NewUser{Login: login, Password: password, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAddUserChecks(t *testing.T) {
	f := newFixture(t)
	f.add(t, "ann", "a long password", "operator")
	cases := []struct {
		name string
		nu   NewUser
		want error
	}{
		{"LoginTaken", NewUser{Login: "ann", Password: "another password", Roles: []string{"viewer"}}, ErrLoginTaken},
		{"BadLogin", NewUser{Login: "Ann Smith", Password: "a long password"}, ErrBadLogin},
		{"EmptyLogin", NewUser{Login: "", Password: "a long password"}, ErrBadLogin},
		{"ShortPassword", NewUser{Login: "bob", Password: "short"}, ErrBadPassword},
		{"PasswordIsLogin", NewUser{Login: "bobbybobby", Password: "bobbybobby"}, ErrBadPassword},
		{"LongPassword", NewUser{Login: "bob", Password: strings.Repeat("p", 257)}, ErrBadPassword},
		{"UnknownRole", NewUser{Login: "bob", Password: "a long password", Roles: []string{"root"}}, ErrBadUser},
		{"RoleTwice", NewUser{Login: "bob", Password: "a long password", Roles: []string{"viewer", "viewer"}}, ErrBadUser},
		{"BadScope", NewUser{Login: "bob", Password: "a long password", Scopes: Scopes{Units: []string{" gas"}}}, ErrBadUser},
		{"ControlInName", NewUser{Login: "bob", Name: "Bob\n", Password: "a long password"}, ErrBadUser},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := f.acc.AddUser(f.ctx, f.admin, c.nu); !errors.Is(err, c.want) {
				t.Errorf("%v, want %v", err, c.want)
			}
		})
	}
	all, _ := f.acc.Users.Users(f.ctx)
	if len(all) != 1 {
		t.Errorf("%d users stored, want 1", len(all))
	}
	if strings.Contains(all[0].PasswordHash, "a long password") || !strings.HasPrefix(all[0].PasswordHash, "$argon2id$") {
		t.Errorf("stored hash %q", all[0].PasswordHash)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	ann := f.add(t, "ann", "a long password", "operator")
	res, err := f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.1:1234")
	if err != nil {
		t.Fatal(err)
	}
	if res.User.ID != ann.ID || res.Secret == "" || res.Session.CSRF == "" {
		t.Fatalf("login result %+v", res)
	}
	u, sess, err := f.acc.Authenticate(f.ctx, res.Secret)
	if err != nil || u.ID != ann.ID || sess.CSRF != res.Session.CSRF {
		t.Fatalf("authenticate: %v %v", u, err)
	}
	if _, err := f.acc.Login(f.ctx, "ann", "a long passwore", "10.0.0.1:1234"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := f.acc.Login(f.ctx, "ANN", "a long password", "10.0.0.1:1234"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a login is exact: %v", err)
	}
	// The session expires on the injected clock.
	f.clock.Add(31 * time.Minute)
	if _, _, err := f.acc.Authenticate(f.ctx, res.Secret); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("after 31 idle minutes: %v", err)
	}
}

// An unknown login, a wrong password and a disabled user get the same
// answer after the same hash work.
func TestLoginNoEnumeration(t *testing.T) {
	f := newFixture(t)
	f.add(t, "ann", "a long password", "operator")
	off := f.add(t, "old", "a long password", "operator")
	if _, err := f.acc.SetDisabled(f.ctx, f.admin, off.ID, true); err != nil {
		t.Fatal(err)
	}
	tries := []struct{ login, password string }{
		{"ann", "wrong password"},
		{"nobody", "wrong password"},
		{"old", "a long password"},
		{"Not A Login!", "wrong password"},
		{"ann", strings.Repeat("x", 10000)},
	}
	for _, try := range tries {
		before := f.acc.Hasher.verified.Load()
		_, err := f.acc.Login(f.ctx, try.login, try.password, "10.0.0.9")
		if err != ErrBadCredentials {
			t.Errorf("%s: %v, want exactly ErrBadCredentials", try.login, err)
		}
		if n := f.acc.Hasher.verified.Load() - before; n != 1 {
			t.Errorf("%s: %d hashes, want 1", try.login, n)
		}
		f.acc.Lockout.Succeed(AddrKey("10.0.0.9"))
	}
}

func TestLoginLockout(t *testing.T) {
	f := newFixture(t)
	f.add(t, "ann", "a long password", "operator")
	for i := range 5 {
		if _, err := f.acc.Login(f.ctx, "ann", "wrong password", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("try %d: %v", i+1, err)
		}
	}
	// Locked: even the right password waits, and costs no hash.
	before := f.acc.Hasher.verified.Load()
	_, err := f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.2")
	var le *LockedError
	if !errors.As(err, &le) || le.RetryAfter != time.Second {
		t.Fatalf("after 5 failures: %v", err)
	}
	if f.acc.Hasher.verified.Load() != before {
		t.Error("a locked login ran the hash")
	}
	// An unknown login locks the same way.
	for range 5 {
		f.acc.Login(f.ctx, "nobody", "wrong password", "10.0.0.3")
	}
	if _, err := f.acc.Login(f.ctx, "nobody", "wrong password", "10.0.0.4"); !errors.As(err, &le) {
		t.Errorf("an unknown login is not locked: %v", err)
	}
	f.clock.Add(time.Second)
	if _, err := f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.2"); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
	if n := f.acc.Lockout.Failures(LoginKey("ann")); n != 0 {
		t.Errorf("a success left %d failures", n)
	}
}

// Disabling a user, or changing its password or roles, ends its sessions.
func TestChangesEndSessions(t *testing.T) {
	f := newFixture(t)
	ann := f.add(t, "ann", "a long password", "operator")
	login := func() string {
		t.Helper()
		res, err := f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return res.Secret
	}
	ended := func(what, secret string) {
		t.Helper()
		if _, _, err := f.acc.Authenticate(f.ctx, secret); !errors.Is(err, ErrNoSession) {
			t.Errorf("after %s the session answers %v", what, err)
		}
	}
	s := login()
	if _, err := f.acc.SetRoles(f.ctx, f.admin, ann.ID, []string{"viewer"}); err != nil {
		t.Fatal(err)
	}
	ended("a change of roles", s)
	if _, err := f.acc.SetRoles(f.ctx, f.admin, ann.ID, []string{"god"}); !errors.Is(err, ErrBadUser) {
		t.Errorf("unknown role: %v", err)
	}

	s = login()
	if _, err := f.acc.SetPassword(f.ctx, f.admin, ann.ID, "a new long password"); err != nil {
		t.Fatal(err)
	}
	ended("a new password", s)
	if _, err := f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("the old password: %v", err)
	}
	if _, err := f.acc.SetPassword(f.ctx, f.admin, ann.ID, "short"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("short password: %v", err)
	}

	res, err := f.acc.Login(f.ctx, "ann", "a new long password", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.SetDisabled(f.ctx, f.admin, ann.ID, true); err != nil {
		t.Fatal(err)
	}
	ended("disabling", res.Secret)
	if _, err := f.acc.Login(f.ctx, "ann", "a new long password", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a disabled user logs in: %v", err)
	}
	if _, err := f.acc.SetDisabled(f.ctx, f.admin, ann.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.Login(f.ctx, "ann", "a new long password", "10.0.0.1"); err != nil {
		t.Errorf("enabled again: %v", err)
	}
	if _, err := f.acc.SetPassword(f.ctx, f.admin, "u_nobody", "a long password"); !errors.Is(err, ErrNoUser) {
		t.Errorf("no such user: %v", err)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	f := newFixture(t)
	ann := f.add(t, "ann", "a long password", "operator")
	var secrets []string
	for range 3 {
		res, err := f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, res.Secret)
	}
	if err := f.acc.Logout(f.ctx, nil, secrets[0], ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.acc.Authenticate(f.ctx, secrets[1]); err != nil {
		t.Fatal("logout of one ended another")
	}
	if n, err := f.acc.LogoutEverywhere(f.ctx, nil, ann.ID, ""); n != 2 || err != nil {
		t.Errorf("logout everywhere: %d %v", n, err)
	}
	for _, s := range secrets {
		if _, _, err := f.acc.Authenticate(f.ctx, s); !errors.Is(err, ErrNoSession) {
			t.Error("a session survived")
		}
	}
}

// A hash made with older parameters is replaced at the next login.
func TestLoginRehash(t *testing.T) {
	f := newFixture(t)
	ann := f.add(t, "ann", "a long password", "operator")
	f.acc.Hasher = NewHasher(HashParams{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	if _, err := f.acc.Login(f.ctx, "ann", "a long password", ""); err != nil {
		t.Fatal(err)
	}
	u, _ := f.acc.Users.UserByID(f.ctx, ann.ID)
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=128,t=1,p=1$") {
		t.Errorf("hash not replaced: %s", u.PasswordHash)
	}
	if _, err := f.acc.Login(f.ctx, "ann", "a long password", ""); err != nil {
		t.Errorf("login with the new hash: %v", err)
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pw, err := EnsureAdmin(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) < 20 {
		t.Fatalf("password %q", pw)
	}
	path := filepath.Join(dir, AdminPasswordFile)
	data, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(data)) != pw {
		t.Fatalf("password file %q %v", data, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v", fi.Mode().Perm())
	}
	users, _ := OpenUsers(ctx, dir)
	acc := NewAccounts(AccountsOptions{Users: users})
	res, err := acc.Login(ctx, "admin", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	az := NewAuthorizer(nil)
	p := az.ForUser(&res.User)
	if !az.Allowed(&p, PermUsersAdmin) {
		t.Error("the first admin may not manage users")
	}
	// Once there is a user, nothing more happens.
	if pw2, err := EnsureAdmin(ctx, dir); pw2 != "" || err != nil {
		t.Errorf("second start: %q %v", pw2, err)
	}
	if all, _ := users.Users(ctx); len(all) != 1 {
		t.Errorf("%d users", len(all))
	}
}

// TestChangeByAnotherProcessEndsSessions: a password or roles changed by
// another process on the same users file (onemap users) ends the sessions
// this one holds in memory, and a session opened after the change lives.
func TestChangeByAnotherProcessEndsSessions(t *testing.T) {
	f := newFixture(t)
	ann := f.add(t, "ann", "a long password", "operator")
	users, err := OpenUsers(f.ctx, f.dir)
	if err != nil {
		t.Fatal(err)
	}
	other := NewAccounts(AccountsOptions{Users: users, Hasher: NewHasher(testParams, 1), Now: f.clock.Now})

	res, err := f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	if _, err := other.SetRoles(f.ctx, f.admin, ann.ID, []string{"viewer"}); err != nil {
		t.Fatal(err)
	}
	passRecheck(t) // the other process's change is seen within a second
	if _, _, err := f.acc.Authenticate(f.ctx, res.Secret); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after roles changed elsewhere: %v, want ErrNoSession", err)
	}
	f.clock.Add(time.Minute)
	res, err = f.acc.Login(f.ctx, "ann", "a long password", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if u, _, err := f.acc.Authenticate(f.ctx, res.Secret); err != nil || u.Roles[0] != "viewer" {
		t.Fatalf("a session opened after the change: %v, %v", u.Roles, err)
	}
	f.clock.Add(time.Minute)
	if _, err := other.SetPassword(f.ctx, f.admin, ann.ID, "another long password"); err != nil {
		t.Fatal(err)
	}
	passRecheck(t)
	if _, _, err := f.acc.Authenticate(f.ctx, res.Secret); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after the password changed elsewhere: %v, want ErrNoSession", err)
	}
}
