package postgis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/auth/authtest"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// openAuth opens the auth tables of a fresh database; fresh returns them
// emptied, for each test of a suite.
func openAuth(t *testing.T) (fresh func(t *testing.T) *postgis.Auth) {
	t.Helper()
	ctx := context.Background()
	a, err := postgis.OpenAuth(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return func(t *testing.T) *postgis.Auth {
		t.Helper()
		if err := postgis.TruncateAuth(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
}

func TestAuthUsers(t *testing.T) {
	fresh := openAuth(t)
	authtest.TestUserStore(t, func(t *testing.T) auth.UserStore { return fresh(t).Users })
}

func TestAuthTokens(t *testing.T) {
	fresh := openAuth(t)
	authtest.TestTokenStore(t, func(t *testing.T) auth.TokenStore { return fresh(t).Tokens })
}

func TestAuthSessions(t *testing.T) {
	fresh := openAuth(t)
	authtest.TestSessionStore(t, func(t *testing.T) auth.SessionStore { return fresh(t).Sessions })
}

// TestAuthSessionsBound checks that at the bound a new session ends the
// one least recently used.
func TestAuthSessionsBound(t *testing.T) {
	ctx := context.Background()
	s := openAuth(t)(t).Sessions
	s.SetMax(2)
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	put := func(name string, lastSeen time.Time) auth.Session {
		t.Helper()
		x := auth.Session{IDHash: auth.HashSecret(name), UserID: "u-1", CSRF: "c", Created: at, LastSeen: lastSeen}
		if err := s.PutSession(ctx, x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	a := put("a", at)
	b := put("b", at.Add(time.Minute))
	c := put("c", at.Add(2*time.Minute))
	if _, err := s.Session(ctx, a.IDHash); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("the least recently used session at the bound: %v, want ErrNoSession", err)
	}
	for _, x := range []auth.Session{b, c} {
		if _, err := s.Session(ctx, x.IDHash); err != nil {
			t.Errorf("a session within the bound: %v", err)
		}
	}
}
