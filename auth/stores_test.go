package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/auth/authtest"
)

func TestUserStores(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		authtest.TestUserStore(t, func(*testing.T) auth.UserStore { return auth.NewMemoryUsers() })
	})
	t.Run("File", func(t *testing.T) {
		authtest.TestUserStore(t, func(t *testing.T) auth.UserStore {
			s, err := auth.OpenUsers(context.Background(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func TestTokenStores(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		authtest.TestTokenStore(t, func(*testing.T) auth.TokenStore { return auth.NewMemoryTokens() })
	})
	t.Run("File", func(t *testing.T) {
		authtest.TestTokenStore(t, func(t *testing.T) auth.TokenStore {
			s, err := auth.OpenTokens(context.Background(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func TestSessionStores(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		authtest.TestSessionStore(t, func(*testing.T) auth.SessionStore { return auth.NewMemorySessions() })
	})
	t.Run("File", func(t *testing.T) {
		authtest.TestSessionStore(t, func(t *testing.T) auth.SessionStore {
			// A clock and timeouts by which none of the suite's sessions
			// expires on a write: the suite's expiry is DeleteExpired's.
			start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
			opt := auth.SessionOptions{Idle: 1000 * time.Hour, Absolute: 1000 * time.Hour, Now: func() time.Time { return start }}
			s, err := auth.OpenSessions(context.Background(), t.TempDir(), opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}
