package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func testUser(id, login string) User {
	return User{ID: id, Login: login, Roles: []string{"viewer"}, PasswordHash: hashWith(testParams, "a password 1"),
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Updated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func TestFileUsers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenUsers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Users(ctx); len(all) != 0 {
		t.Fatalf("a new directory holds %d users", len(all))
	}
	if err := s.CreateUser(ctx, testUser("u1", "zoe")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, testUser("u2", "ann")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, testUser("u3", "ann")); !errors.Is(err, ErrLoginTaken) {
		t.Errorf("a login twice: %v", err)
	}
	if err := s.CreateUser(ctx, testUser("u1", "bob")); !errors.Is(err, ErrBadUser) {
		t.Errorf("an id twice: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, UsersFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v, want 0600", fi.Mode().Perm())
	}
	u, err := s.UpdateUser(ctx, "u1", func(u *User) error { u.Roles = []string{"admin"}; return nil })
	if err != nil || u.Roles[0] != "admin" {
		t.Fatalf("update: %v %v", u, err)
	}
	if _, err := s.UpdateUser(ctx, "u1", func(u *User) error { u.Login = "ann"; return nil }); !errors.Is(err, ErrLoginTaken) {
		t.Errorf("renamed onto a login in use: %v", err)
	}
	if _, err := s.UpdateUser(ctx, "u9", func(u *User) error { return nil }); !errors.Is(err, ErrNoUser) {
		t.Errorf("update of no user: %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateUser(ctx, "u1", func(u *User) error { u.Disabled = true; return boom }); !errors.Is(err, boom) {
		t.Errorf("fn's error: %v", err)
	}
	if u, _ := s.UserByID(ctx, "u1"); u.Disabled {
		t.Error("a failed update changed the user")
	}
	// What is returned is a copy.
	u.Roles[0] = "viewer"
	if u2, _ := s.UserByLogin(ctx, "zoe"); u2.Roles[0] != "admin" {
		t.Error("changing a returned user changed the store")
	}

	// Reopened, and seen by a second store on the same directory (the
	// onemap users command beside the server).
	s2, err := OpenUsers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s2.Users(ctx)
	if len(all) != 2 || all[0].Login != "ann" || all[1].Login != "zoe" || all[1].Roles[0] != "admin" {
		t.Fatalf("reopened: %+v", all)
	}
	if err := s2.CreateUser(ctx, testUser("u4", "cat")); err != nil {
		t.Fatal(err)
	}
	// A login looks at the file at once; the user of a request, within a
	// second.
	if _, err := s.UserByLogin(ctx, "cat"); err != nil {
		t.Errorf("the first store does not see the second's user: %v", err)
	}
	if err := s2.CreateUser(ctx, testUser("u6", "eve")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByID(ctx, "u6"); !errors.Is(err, ErrNoUser) {
		t.Errorf("the first store looked at the file again within a second: %v", err)
	}
	passRecheck(t)
	if _, err := s.UserByID(ctx, "u6"); err != nil {
		t.Errorf("the first store does not see the second's user a second later: %v", err)
	}
	if err := s.CreateUser(ctx, testUser("u5", "dan")); err != nil {
		t.Fatal(err)
	}
	if all, _ := s2.Users(ctx); len(all) != 5 {
		t.Errorf("%d users after both wrote, want 5", len(all))
	}
	if _, err := s.UserByLogin(ctx, "nobody"); !errors.Is(err, ErrNoUser) {
		t.Errorf("unknown login: %v", err)
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}
}

func TestFileUsersBadFile(t *testing.T) {
	ctx := context.Background()
	cases := map[string]string{
		"NotJSON":       "users",
		"Version":       `{"version": 2, "users": []}`,
		"UnknownField":  `{"version": 1, "users": [], "extra": 1}`,
		"DuplicateID":   `{"version": 1, "users": [{"id": "a", "login": "x"}, {"id": "a", "login": "y"}]}`,
		"DuplicateName": `{"version": 1, "users": [{"id": "a", "login": "x"}, {"id": "b", "login": "x"}]}`,
		"BadLogin":      `{"version": 1, "users": [{"id": "a", "login": "X Y"}]}`,
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, UsersFile), []byte(text), 0o600)
			if _, err := OpenUsers(ctx, dir); err == nil {
				t.Error("opened")
			}
		})
	}
}

// The first start issues one device token, written 0600 beside the
// password; the next start issues none.
func TestEnsureDeviceToken(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := OpenTokens(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := NewTokens(TokensOptions{Store: store})
	secret, err := EnsureDeviceToken(ctx, ts, dir)
	if err != nil || !strings.HasPrefix(secret, TokenPrefix) {
		t.Fatalf("first: %q %v", secret, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, DeviceTokenFile))
	if err != nil || strings.TrimSpace(string(b)) != secret {
		t.Errorf("file %q %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, DeviceTokenFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	tok, err := ts.Authenticate(ctx, secret)
	if err != nil || !slices.Equal(tok.Scopes, []string{ScopeIngest}) {
		t.Errorf("the token: %+v %v", tok, err)
	}
	if again, err := EnsureDeviceToken(ctx, ts, dir); again != "" || err != nil {
		t.Errorf("second start: %q %v, want none", again, err)
	}
}

// passRecheck moves the files' clock past recheckEvery, as a second
// going by would.
func passRecheck(t *testing.T) {
	t.Helper()
	was := fileNow
	fileNow = func() time.Time { return was().Add(recheckEvery) }
	t.Cleanup(func() { fileNow = was })
}
