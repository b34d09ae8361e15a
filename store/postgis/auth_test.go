package postgis_test

import (
	"context"
	"testing"

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
