package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSessionTimeouts(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := NewSessions(nil, SessionOptions{Now: c.Now})
	secret, sess, err := s.Create(ctx, "u1", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 || sess.CSRF == "" || sess.CSRF == secret {
		t.Fatalf("secret %q csrf %q", secret, sess.CSRF)
	}
	if sess.IDHash != HashSecret(secret) {
		t.Error("the store's key is not the secret's SHA-256")
	}
	// Used every 29 minutes, it lives until the absolute timeout.
	for c.Now().Before(sess.Created.Add(12*time.Hour - 29*time.Minute)) {
		c.Add(29 * time.Minute)
		if _, err := s.Validate(ctx, secret); err != nil {
			t.Fatalf("at %v: %v", c.Now().Sub(sess.Created), err)
		}
	}
	c.Add(29 * time.Minute)
	if _, err := s.Validate(ctx, secret); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("past 12 h: %v", err)
	}
	if _, err := s.Validate(ctx, secret); !errors.Is(err, ErrNoSession) {
		t.Fatalf("an expired session is not ended: %v", err)
	}

	secret, _, _ = s.Create(ctx, "u1", "10.0.0.1")
	c.Add(30*time.Minute - time.Second)
	if _, err := s.Validate(ctx, secret); err != nil {
		t.Fatalf("idle 29m59s: %v", err)
	}
	c.Add(30 * time.Minute)
	if _, err := s.Validate(ctx, secret); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("idle 30m: %v", err)
	}
}

func TestSessionBadSecrets(t *testing.T) {
	ctx := context.Background()
	s := NewSessions(nil, SessionOptions{})
	secret, _, _ := s.Create(ctx, "u1", "")
	for _, bad := range []string{"", "x", secret[:42], secret + "x", randomString(32)} {
		if _, err := s.Validate(ctx, bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestSessionCSRF(t *testing.T) {
	ctx := context.Background()
	s := NewSessions(nil, SessionOptions{})
	_, a, _ := s.Create(ctx, "u1", "")
	_, b, _ := s.Create(ctx, "u1", "")
	if !CheckCSRF(&a, a.CSRF) {
		t.Error("a session's own token refused")
	}
	if CheckCSRF(&a, b.CSRF) || CheckCSRF(&a, "") || CheckCSRF(&Session{}, "") {
		t.Error("another session's token, or none, accepted")
	}
}

func TestSessionLogout(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := NewSessions(nil, SessionOptions{Now: c.Now, MaxPerUser: 3})
	s1, _, _ := s.Create(ctx, "u1", "")
	s2, _, _ := s.Create(ctx, "u1", "")
	o, _, _ := s.Create(ctx, "u2", "")
	if err := s.Logout(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Validate(ctx, s1); !errors.Is(err, ErrNoSession) {
		t.Error("a logged out session still valid")
	}
	if _, err := s.Validate(ctx, s2); err != nil {
		t.Error("logging out one session ended another")
	}
	s3, _, _ := s.Create(ctx, "u1", "")
	if n, err := s.LogoutUser(ctx, "u1"); n != 2 || err != nil {
		t.Errorf("logout everywhere ended %d, %v; want 2", n, err)
	}
	for _, x := range []string{s2, s3} {
		if _, err := s.Validate(ctx, x); !errors.Is(err, ErrNoSession) {
			t.Error("a session survived logout everywhere")
		}
	}
	if _, err := s.Validate(ctx, o); err != nil {
		t.Error("another user's session ended")
	}
	// Past MaxPerUser, the oldest goes.
	var secrets []string
	for range 4 {
		x, _, _ := s.Create(ctx, "u3", "")
		secrets = append(secrets, x)
		c.Add(time.Second)
	}
	if _, err := s.Validate(ctx, secrets[0]); !errors.Is(err, ErrNoSession) {
		t.Error("the oldest of 4 sessions survived a bound of 3")
	}
	for _, x := range secrets[1:] {
		if _, err := s.Validate(ctx, x); err != nil {
			t.Error("a newer session ended")
		}
	}
	c.Add(time.Hour)
	if n, _ := s.Sweep(ctx); n != 4 {
		t.Errorf("sweep ended %d, want 4", n)
	}
}
