// Package authtest holds the tests every UserStore, TokenStore and
// SessionStore must pass, so that the stores in memory, in files and in a
// database behave alike.
package authtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/auth"
)

// base is the time the tests start at: whole seconds, which every store
// keeps exactly.
var base = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// writers is how many goroutines the concurrency tests run.
const writers = 16

var errRefused = errors.New("refused by the test")

// testUser is a user as the accounts would store one.
func testUser(id, login string) auth.User {
	return auth.User{
		ID: id, Login: login, Name: "User " + login, Roles: []string{"operator", "viewer"},
		Scopes:       auth.Scopes{Units: []string{"gas company"}, Districts: []string{"d1", "d2"}},
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		Created:      base, Updated: base,
	}
}

// sameUser tells how got differs from want, or "".
func sameUser(got, want auth.User) string {
	switch {
	case got.ID != want.ID, got.Login != want.Login, got.Name != want.Name, got.Disabled != want.Disabled,
		got.PasswordHash != want.PasswordHash:
		return fmt.Sprintf("got %+v, want %+v", got, want)
	case !slices.Equal(got.Roles, want.Roles), !slices.Equal(got.Scopes.Units, want.Scopes.Units),
		!slices.Equal(got.Scopes.Districts, want.Scopes.Districts):
		return fmt.Sprintf("roles or scopes: got %v %v, want %v %v", got.Roles, got.Scopes, want.Roles, want.Scopes)
	case !got.Created.Equal(want.Created), !got.Updated.Equal(want.Updated), !got.SessionsAfter.Equal(want.SessionsAfter):
		return fmt.Sprintf("times: got %v %v %v, want %v %v %v", got.Created, got.Updated, got.SessionsAfter,
			want.Created, want.Updated, want.SessionsAfter)
	}
	return ""
}

// TestUserStore runs the tests of a UserStore; open returns an empty store.
func TestUserStore(t *testing.T, open func(t *testing.T) auth.UserStore) {
	ctx := context.Background()
	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		if list, err := s.Users(ctx); err != nil || len(list) != 0 {
			t.Errorf("Users of an empty store: %v, %v", list, err)
		}
		if _, err := s.UserByID(ctx, "u-none"); !errors.Is(err, auth.ErrNoUser) {
			t.Errorf("UserByID of no user: %v, want ErrNoUser", err)
		}
		if _, err := s.UserByLogin(ctx, "nobody"); !errors.Is(err, auth.ErrNoUser) {
			t.Errorf("UserByLogin of no user: %v, want ErrNoUser", err)
		}
		if _, err := s.UpdateUser(ctx, "u-none", func(*auth.User) error { return nil }); !errors.Is(err, auth.ErrNoUser) {
			t.Errorf("UpdateUser of no user: %v, want ErrNoUser", err)
		}
	})

	t.Run("CreateAndFind", func(t *testing.T) {
		s := open(t)
		u := testUser("u-1", "li.wei")
		u.SessionsAfter = base.Add(time.Hour)
		u.Disabled = true
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		bare := auth.User{ID: "u-2", Login: "zhang_san", Roles: []string{"viewer"}, PasswordHash: "x", Created: base, Updated: base}
		if err := s.CreateUser(ctx, bare); err != nil {
			t.Fatal(err)
		}
		for _, get := range []func() (auth.User, error){
			func() (auth.User, error) { return s.UserByID(ctx, "u-1") },
			func() (auth.User, error) { return s.UserByLogin(ctx, "li.wei") },
		} {
			got, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if d := sameUser(got, u); d != "" {
				t.Error(d)
			}
		}
		got, err := s.UserByLogin(ctx, "zhang_san")
		if err != nil {
			t.Fatal(err)
		}
		if d := sameUser(got, bare); d != "" {
			t.Error(d)
		}
		if !got.SessionsAfter.IsZero() || len(got.Scopes.Units)+len(got.Scopes.Districts) != 0 {
			t.Errorf("a user with no stamp and no scopes came back with %v, %v", got.SessionsAfter, got.Scopes)
		}
	})

	t.Run("LoginTaken", func(t *testing.T) {
		s := open(t)
		if err := s.CreateUser(ctx, testUser("u-1", "li.wei")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, testUser("u-2", "li.wei")); !errors.Is(err, auth.ErrLoginTaken) {
			t.Errorf("a second li.wei: %v, want ErrLoginTaken", err)
		}
		if err := s.CreateUser(ctx, testUser("u-1", "other")); err == nil {
			t.Error("a second user of id u-1 was stored")
		}
		if err := s.CreateUser(ctx, testUser("u-3", "wang")); err != nil {
			t.Fatal(err)
		}
		_, err := s.UpdateUser(ctx, "u-3", func(u *auth.User) error { u.Login = "li.wei"; return nil })
		if !errors.Is(err, auth.ErrLoginTaken) {
			t.Errorf("renaming wang to li.wei: %v, want ErrLoginTaken", err)
		}
		if u, err := s.UserByLogin(ctx, "wang"); err != nil || u.ID != "u-3" {
			t.Errorf("after the refused rename: %v, %v", u, err)
		}
		list, _ := s.Users(ctx)
		if len(list) != 2 {
			t.Errorf("%d users, want 2", len(list))
		}
	})

	t.Run("OrderByLogin", func(t *testing.T) {
		s := open(t)
		logins := []string{"zz", "a-b", "a.b", "a_b", "ab", "9x", "a"}
		for i, l := range logins {
			if err := s.CreateUser(ctx, testUser("u-"+strconv.Itoa(i), l)); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range list {
			got = append(got, u.Login)
		}
		want := slices.Clone(logins)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Users in the order %v, want %v", got, want)
		}
	})

	t.Run("Copies", func(t *testing.T) {
		s := open(t)
		u := testUser("u-1", "li.wei")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		u.Roles[0], u.Scopes.Units[0] = "admin", "changed" // the caller's slices
		got, _ := s.UserByID(ctx, "u-1")
		got.Roles[0], got.Scopes.Districts[0] = "admin", "changed"
		list, _ := s.Users(ctx)
		list[0].Roles[1] = "admin"
		up, _ := s.UpdateUser(ctx, "u-1", func(u *auth.User) error { return nil })
		up.Roles[0] = "admin"
		again, err := s.UserByID(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if d := sameUser(again, testUser("u-1", "li.wei")); d != "" {
			t.Errorf("changing slices the store handed out or was given changed it: %s", d)
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := open(t)
		if err := s.CreateUser(ctx, testUser("u-1", "li.wei")); err != nil {
			t.Fatal(err)
		}
		want := testUser("u-1", "li.wei2")
		want.Name, want.Roles, want.Scopes = "Li Wei", []string{"commander"}, auth.Scopes{}
		want.Updated, want.SessionsAfter, want.Disabled = base.Add(time.Minute), base.Add(time.Minute), true
		got, err := s.UpdateUser(ctx, "u-1", func(u *auth.User) error {
			u.Login, u.Name, u.Roles, u.Scopes = want.Login, want.Name, want.Roles, want.Scopes
			u.Updated, u.SessionsAfter, u.Disabled = want.Updated, want.SessionsAfter, true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameUser(got, want); d != "" {
			t.Errorf("UpdateUser returned: %s", d)
		}
		if stored, _ := s.UserByLogin(ctx, "li.wei2"); sameUser(stored, want) != "" {
			t.Errorf("stored after the update: %s", sameUser(stored, want))
		}
		if _, err := s.UserByLogin(ctx, "li.wei"); !errors.Is(err, auth.ErrNoUser) {
			t.Errorf("the old login still finds the user: %v", err)
		}

		// An error from fn changes nothing and comes back.
		_, err = s.UpdateUser(ctx, "u-1", func(u *auth.User) error { u.Name = "half done"; return errRefused })
		if !errors.Is(err, errRefused) {
			t.Errorf("fn's error: got %v", err)
		}
		_, err = s.UpdateUser(ctx, "u-1", func(u *auth.User) error { u.ID = "u-9"; return nil })
		if !errors.Is(err, auth.ErrBadUser) {
			t.Errorf("changing the id: %v, want ErrBadUser", err)
		}
		if stored, _ := s.UserByID(ctx, "u-1"); sameUser(stored, want) != "" {
			t.Errorf("a refused update changed the user: %s", sameUser(stored, want))
		}
	})

	t.Run("UpdateIsAtomic", func(t *testing.T) {
		s := open(t)
		u := testUser("u-1", "li.wei")
		u.Name = "0"
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				_, err := s.UpdateUser(ctx, "u-1", func(u *auth.User) error {
					n, err := strconv.Atoi(u.Name)
					u.Name = strconv.Itoa(n + 1)
					return err
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if got, _ := s.UserByID(ctx, "u-1"); got.Name != strconv.Itoa(writers) {
			t.Errorf("%d updates each adding one made %q", writers, got.Name)
		}
	})
}

// hashOf is the hex SHA-256 of secret, as a token stores it.
func hashOf(secret string) (string, [32]byte) {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:]), h
}

func testToken(id, secret string, created time.Time) auth.Token {
	h, _ := hashOf(secret)
	return auth.Token{ID: id, Name: "token " + id, Scopes: []string{auth.ScopeIngest, auth.ScopeRead},
		Hash: h, Created: created, CreatedBy: "cli:root"}
}

// sameToken tells how got differs from want, or "".
func sameToken(got, want auth.Token) string {
	if got.ID != want.ID || got.Name != want.Name || got.Hash != want.Hash || got.CreatedBy != want.CreatedBy ||
		!slices.Equal(got.Scopes, want.Scopes) || !slices.Equal(got.Sensors, want.Sensors) ||
		(got.Sensors == nil) != (want.Sensors == nil) ||
		!got.Created.Equal(want.Created) || !got.LastUsed.Equal(want.LastUsed) || !got.Revoked.Equal(want.Revoked) {
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	return ""
}

// TestTokenStore runs the tests of a TokenStore; open returns an empty store.
func TestTokenStore(t *testing.T, open func(t *testing.T) auth.TokenStore) {
	ctx := context.Background()
	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		if list, err := s.Tokens(ctx); err != nil || len(list) != 0 {
			t.Errorf("Tokens of an empty store: %v, %v", list, err)
		}
		_, h := hashOf("om_none")
		if _, err := s.TokenByHash(ctx, h); !errors.Is(err, auth.ErrBadToken) {
			t.Errorf("TokenByHash of no token: %v, want ErrBadToken", err)
		}
		if _, err := s.UpdateToken(ctx, "tok-none", func(*auth.Token) error { return nil }); !errors.Is(err, auth.ErrNoToken) {
			t.Errorf("UpdateToken of no token: %v, want ErrNoToken", err)
		}
	})

	t.Run("CreateAndFind", func(t *testing.T) {
		s := open(t)
		all := testToken("tok-a", "om_a", base.Add(2*time.Minute))
		some := testToken("tok-b", "om_b", base)
		some.Scopes, some.Sensors = []string{auth.ScopeIngest}, []uint64{7, 101, 1 << 62}
		used := testToken("tok-c", "om_c", base.Add(time.Minute))
		used.LastUsed, used.Revoked, used.CreatedBy = base.Add(3*time.Minute), base.Add(4*time.Minute), ""
		for _, tok := range []auth.Token{all, some, used} {
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []auth.Token{some, used, all} // by creation time
		if len(list) != len(want) {
			t.Fatalf("%d tokens, want %d", len(list), len(want))
		}
		for i := range want {
			if d := sameToken(list[i], want[i]); d != "" {
				t.Errorf("token %d of the list: %s", i, d)
			}
		}
		for secret, tok := range map[string]auth.Token{"om_a": all, "om_b": some, "om_c": used} {
			_, h := hashOf(secret)
			got, err := s.TokenByHash(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameToken(got, tok); d != "" {
				t.Errorf("TokenByHash(%s): %s", secret, d)
			}
		}
		_, h := hashOf("om_d")
		if _, err := s.TokenByHash(ctx, h); !errors.Is(err, auth.ErrBadToken) {
			t.Errorf("an unknown hash: %v, want ErrBadToken", err)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		s := open(t)
		if err := s.CreateToken(ctx, testToken("tok-a", "om_a", base)); err != nil {
			t.Fatal(err)
		}
		for name, tok := range map[string]auth.Token{
			"a repeated id":   testToken("tok-a", "om_other", base),
			"a repeated hash": testToken("tok-b", "om_a", base),
			"an upper-case hash": func() auth.Token {
				t := testToken("tok-c", "om_c", base)
				h, _ := hashOf("om_c")
				t.Hash = "ABCDEF" + h[6:]
				return t
			}(),
			"a short hash": func() auth.Token { t := testToken("tok-d", "om_d", base); t.Hash = "abcd"; return t }(),
		} {
			if err := s.CreateToken(ctx, tok); !errors.Is(err, auth.ErrBadTokenSpec) {
				t.Errorf("%s: %v, want ErrBadTokenSpec", name, err)
			}
		}
		if list, _ := s.Tokens(ctx); len(list) != 1 {
			t.Errorf("%d tokens after the refusals, want 1", len(list))
		}
	})

	t.Run("Copies", func(t *testing.T) {
		s := open(t)
		tok := testToken("tok-a", "om_a", base)
		tok.Sensors = []uint64{1, 2}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		want := tok
		want.Scopes, want.Sensors = slices.Clone(tok.Scopes), slices.Clone(tok.Sensors)
		tok.Scopes[0], tok.Sensors[0] = "admin", 99
		list, _ := s.Tokens(ctx)
		list[0].Scopes[0], list[0].Sensors[0] = "admin", 99
		_, h := hashOf("om_a")
		got, _ := s.TokenByHash(ctx, h)
		got.Scopes[1], got.Sensors[1] = "admin", 99
		up, _ := s.UpdateToken(ctx, "tok-a", func(*auth.Token) error { return nil })
		up.Sensors[0] = 99
		again, err := s.TokenByHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameToken(again, want); d != "" {
			t.Errorf("changing slices the store handed out or was given changed it: %s", d)
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := open(t)
		tok := testToken("tok-a", "om_a", base)
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		want := tok
		want.LastUsed, want.Revoked = base.Add(time.Minute), base.Add(2*time.Minute)
		got, err := s.UpdateToken(ctx, "tok-a", func(t *auth.Token) error {
			t.LastUsed, t.Revoked = want.LastUsed, want.Revoked
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameToken(got, want); d != "" {
			t.Errorf("UpdateToken returned: %s", d)
		}
		_, err = s.UpdateToken(ctx, "tok-a", func(t *auth.Token) error { t.Name = "half done"; return errRefused })
		if !errors.Is(err, errRefused) {
			t.Errorf("fn's error: got %v", err)
		}
		other, _ := hashOf("om_other")
		for name, fn := range map[string]func(*auth.Token){
			"the id":   func(t *auth.Token) { t.ID = "tok-b" },
			"the hash": func(t *auth.Token) { t.Hash = other },
		} {
			_, err := s.UpdateToken(ctx, "tok-a", func(t *auth.Token) error { fn(t); return nil })
			if !errors.Is(err, auth.ErrBadTokenSpec) {
				t.Errorf("changing %s: %v, want ErrBadTokenSpec", name, err)
			}
		}
		_, h := hashOf("om_a")
		if stored, _ := s.TokenByHash(ctx, h); sameToken(stored, want) != "" {
			t.Errorf("a refused update changed the token: %s", sameToken(stored, want))
		}
	})

	t.Run("UpdateIsAtomic", func(t *testing.T) {
		s := open(t)
		if err := s.CreateToken(ctx, testToken("tok-a", "om_a", base)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				_, err := s.UpdateToken(ctx, "tok-a", func(t *auth.Token) error {
					if t.LastUsed.IsZero() {
						t.LastUsed = base
					}
					t.LastUsed = t.LastUsed.Add(time.Minute)
					return nil
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		_, h := hashOf("om_a")
		if got, _ := s.TokenByHash(ctx, h); !got.LastUsed.Equal(base.Add(writers * time.Minute)) {
			t.Errorf("%d updates each adding a minute made %v", writers, got.LastUsed.Sub(base))
		}
	})
}

func testSession(secret, user string, created time.Time) auth.Session {
	return auth.Session{IDHash: auth.HashSecret(secret), UserID: user, CSRF: "csrf-" + secret,
		Created: created, LastSeen: created, Remote: "10.0.0.1:5000"}
}

func sameSession(got, want auth.Session) string {
	if got.IDHash != want.IDHash || got.UserID != want.UserID || got.CSRF != want.CSRF || got.Remote != want.Remote ||
		!got.Created.Equal(want.Created) || !got.LastSeen.Equal(want.LastSeen) {
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	return ""
}

// hashes are the IDHashes of list, sorted.
func hashes(list []auth.Session) []string {
	var out []string
	for _, s := range list {
		out = append(out, hex.EncodeToString(s.IDHash[:]))
	}
	slices.Sort(out)
	return out
}

// TestSessionStore runs the tests of a SessionStore; open returns an empty
// store.
func TestSessionStore(t *testing.T, open func(t *testing.T) auth.SessionStore) {
	ctx := context.Background()
	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		h := auth.HashSecret("none")
		if _, err := s.Session(ctx, h); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("Session of none: %v, want ErrNoSession", err)
		}
		if err := s.TouchSession(ctx, h, base); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("TouchSession of none: %v, want ErrNoSession", err)
		}
		if err := s.DeleteSession(ctx, h); err != nil {
			t.Errorf("DeleteSession of none: %v", err)
		}
		if list, err := s.UserSessions(ctx, "u-1"); err != nil || len(list) != 0 {
			t.Errorf("UserSessions of none: %v, %v", list, err)
		}
		if n, err := s.DeleteUserSessions(ctx, "u-1"); err != nil || n != 0 {
			t.Errorf("DeleteUserSessions of none: %d, %v", n, err)
		}
	})

	t.Run("PutAndFind", func(t *testing.T) {
		s := open(t)
		a := testSession("a", "u-1", base)
		if err := s.PutSession(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, a.IDHash)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameSession(got, a); d != "" {
			t.Error(d)
		}
		// A put of the same hash replaces, moving it to the other user.
		moved := a
		moved.UserID, moved.CSRF = "u-2", "csrf-2"
		if err := s.PutSession(ctx, moved); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Session(ctx, a.IDHash); sameSession(got, moved) != "" {
			t.Errorf("after the second put: %s", sameSession(got, moved))
		}
		if list, _ := s.UserSessions(ctx, "u-1"); len(list) != 0 {
			t.Errorf("u-1 still has %d sessions", len(list))
		}
		if list, _ := s.UserSessions(ctx, "u-2"); len(list) != 1 || sameSession(list[0], moved) != "" {
			t.Errorf("u-2's sessions: %v", list)
		}
	})

	t.Run("Touch", func(t *testing.T) {
		s := open(t)
		a := testSession("a", "u-1", base)
		if err := s.PutSession(ctx, a); err != nil {
			t.Fatal(err)
		}
		// More than a TouchInterval on, so that every store keeps it.
		at := base.Add(5 * time.Minute)
		if err := s.TouchSession(ctx, a.IDHash, at); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, a.IDHash)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSeen.Equal(at) || !got.Created.Equal(base) {
			t.Errorf("after a touch at +5m: created %v, last seen %v", got.Created, got.LastSeen)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		a, b := testSession("a", "u-1", base), testSession("b", "u-1", base)
		for _, x := range []auth.Session{a, b} {
			if err := s.PutSession(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteSession(ctx, a.IDHash); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, a.IDHash); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("a deleted session: %v, want ErrNoSession", err)
		}
		if err := s.DeleteSession(ctx, a.IDHash); err != nil {
			t.Errorf("deleting it again: %v", err)
		}
		if list, _ := s.UserSessions(ctx, "u-1"); len(list) != 1 || list[0].IDHash != b.IDHash {
			t.Errorf("u-1's sessions after deleting one of two: %v", list)
		}
	})

	t.Run("UserSessions", func(t *testing.T) {
		s := open(t)
		mine := []auth.Session{testSession("a", "u-1", base), testSession("b", "u-1", base.Add(time.Second)), testSession("c", "u-1", base)}
		other := testSession("d", "u-2", base)
		for _, x := range append(slices.Clone(mine), other) {
			if err := s.PutSession(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.UserSessions(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(hashes(list), hashes(mine)) {
			t.Errorf("u-1's sessions: %d, want %d", len(list), len(mine))
		}
		n, err := s.DeleteUserSessions(ctx, "u-1")
		if err != nil || n != len(mine) {
			t.Errorf("DeleteUserSessions: %d, %v; want %d", n, err, len(mine))
		}
		for _, x := range mine {
			if _, err := s.Session(ctx, x.IDHash); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("a session of u-1 after logging out everywhere: %v", err)
			}
		}
		if _, err := s.Session(ctx, other.IDHash); err != nil {
			t.Errorf("u-2's session went with u-1's: %v", err)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		now := base.Add(24 * time.Hour)
		idle, absolute := now.Add(-30*time.Minute), now.Add(-12*time.Hour)
		fresh := testSession("fresh", "u-1", now.Add(-time.Hour))
		fresh.LastSeen = now.Add(-time.Minute)
		idled := testSession("idle", "u-1", now.Add(-time.Hour))
		idled.LastSeen = idle // on the cutoff: expired
		old := testSession("old", "u-2", absolute)
		old.LastSeen = now
		for _, x := range []auth.Session{fresh, idled, old} {
			if err := s.PutSession(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpired(ctx, idle, absolute)
		if err != nil || n != 2 {
			t.Errorf("DeleteExpired: %d, %v; want 2", n, err)
		}
		if _, err := s.Session(ctx, fresh.IDHash); err != nil {
			t.Errorf("the fresh session: %v", err)
		}
		for _, x := range []auth.Session{idled, old} {
			if _, err := s.Session(ctx, x.IDHash); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("an expired session of %s: %v", x.UserID, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Go(func() {
				x := testSession("s"+strconv.Itoa(i), "u-1", base)
				err := s.PutSession(ctx, x)
				if err == nil {
					err = s.TouchSession(ctx, x.IDHash, base.Add(time.Hour))
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if list, _ := s.UserSessions(ctx, "u-1"); len(list) != writers {
			t.Errorf("%d sessions put at once left %d", writers, len(list))
		}
	})
}
