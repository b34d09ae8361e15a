package auth

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openFileSessions(t *testing.T, dir string, c *clock) *FileSessions {
	t.Helper()
	s, err := OpenSessions(context.Background(), dir, SessionOptions{Now: c.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFileSessionsSurviveARestart logs in, starts the store again from its
// file, and finds the session valid, its CSRF token the same.
func TestFileSessionsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	dir, c := t.TempDir(), newClock()
	store := openFileSessions(t, dir, c)
	secret, sess, err := NewSessions(store, SessionOptions{Now: c.Now}).Create(ctx, "u-1", "10.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	// No Close: a crash right after the login keeps it too.
	c.Add(10 * time.Minute)
	again := NewSessions(openFileSessions(t, dir, c), SessionOptions{Now: c.Now})
	got, err := again.Validate(ctx, secret)
	if err != nil {
		t.Fatalf("the session after a restart: %v", err)
	}
	if got.CSRF != sess.CSRF || got.UserID != "u-1" || !got.Created.Equal(sess.Created) {
		t.Errorf("after a restart: %+v, want %+v", got, sess)
	}

	fi, err := os.Stat(filepath.Join(dir, SessionsFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want 0600", SessionsFile, err, fi.Mode())
	}
	data, _ := os.ReadFile(filepath.Join(dir, SessionsFile))
	if strings.Contains(string(data), secret) {
		t.Error("the file holds the session's secret")
	}

	// Logging out is kept too.
	if err := again.Logout(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSessions(openFileSessions(t, dir, c), SessionOptions{Now: c.Now}).Validate(ctx, secret); !errors.Is(err, ErrNoSession) {
		t.Errorf("a session logged out before the restart: %v, want ErrNoSession", err)
	}
}

// lastSeenOnDisk is the LastSeen a fresh start from the file would find.
func lastSeenOnDisk(t *testing.T, dir string, c *clock, h [32]byte) time.Time {
	t.Helper()
	s, err := openFileSessions(t, dir, c).Session(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	return s.LastSeen
}

// TestFileSessionsWriteTouchesOnceAMinute checks that a touch reaches the
// file at most a TouchInterval after the last write, and at Close.
func TestFileSessionsWriteTouchesOnceAMinute(t *testing.T) {
	ctx := context.Background()
	dir, c := t.TempDir(), newClock()
	s := openFileSessions(t, dir, c)
	start := c.Now()
	sess := Session{IDHash: HashSecret("a"), UserID: "u-1", Created: start, LastSeen: start}
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	c.Add(30 * time.Second)
	if err := s.TouchSession(ctx, sess.IDHash, c.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, sess.IDHash); !got.LastSeen.Equal(c.Now()) {
		t.Errorf("in memory after a touch: %v, want %v", got.LastSeen, c.Now())
	}
	if got := lastSeenOnDisk(t, dir, c, sess.IDHash); !got.Equal(start) {
		t.Errorf("a touch 30 s after the last write was written: %v", got)
	}
	c.Add(30 * time.Second)
	if err := s.TouchSession(ctx, sess.IDHash, c.Now()); err != nil {
		t.Fatal(err)
	}
	if got := lastSeenOnDisk(t, dir, c, sess.IDHash); !got.Equal(c.Now()) {
		t.Errorf("a touch a minute after the last write: on disk %v, want %v", got, c.Now())
	}
	c.Add(10 * time.Second)
	if err := s.TouchSession(ctx, sess.IDHash, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := lastSeenOnDisk(t, dir, c, sess.IDHash); !got.Equal(c.Now()) {
		t.Errorf("after Close: on disk %v, want %v", got, c.Now())
	}
	if err := s.TouchSession(ctx, HashSecret("none"), c.Now()); !errors.Is(err, ErrNoSession) {
		t.Errorf("touching no session: %v, want ErrNoSession", err)
	}
}

// sessionsOnDisk counts the sessions in the file.
func sessionsOnDisk(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, SessionsFile))
	if err != nil {
		t.Fatal(err)
	}
	var f sessionsFileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return len(f.Sessions)
}

// TestFileSessionsPruneAndBound checks that a write leaves out expired
// sessions and that the store keeps at most its bound, ending the least
// recently used.
func TestFileSessionsPruneAndBound(t *testing.T) {
	ctx := context.Background()
	dir, c := t.TempDir(), newClock()
	s := openFileSessions(t, dir, c)
	put := func(name string) Session {
		t.Helper()
		x := Session{IDHash: HashSecret(name), UserID: "u-1", Created: c.Now(), LastSeen: c.Now()}
		if err := s.PutSession(ctx, x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	old := put("old")
	c.Add(31 * time.Minute) // old is idle past 30 min
	put("new")
	if n := sessionsOnDisk(t, dir); n != 1 {
		t.Errorf("%d sessions on disk after a write past old's idle timeout, want 1", n)
	}
	if _, err := s.Session(ctx, old.IDHash); !errors.Is(err, ErrNoSession) {
		t.Errorf("the expired session: %v, want ErrNoSession", err)
	}

	s.max = 3
	a, b := put("a"), put("b") // with new, three
	c.Add(time.Minute)
	s.TouchSession(ctx, a.IDHash, c.Now())
	s.TouchSession(ctx, b.IDHash, c.Now())
	put("d") // new is the least recently seen
	if _, err := s.Session(ctx, HashSecret("new")); !errors.Is(err, ErrNoSession) {
		t.Errorf("the least recently seen session at the bound: %v, want ErrNoSession", err)
	}
	if n := sessionsOnDisk(t, dir); n != 3 {
		t.Errorf("%d sessions on disk, want the bound 3", n)
	}
}

func TestFileSessionsRefuseABadFile(t *testing.T) {
	ctx := context.Background()
	for name, body := range map[string]string{
		"version":  `{"version": 2, "sessions": []}`,
		"hash":     `{"version": 1, "sessions": [{"id_hash": "ABC", "user_id": "u-1", "csrf": "x", "created": "2026-03-01T08:00:00Z", "last_seen": "2026-03-01T08:00:00Z"}]}`,
		"no user":  `{"version": 1, "sessions": [{"id_hash": "` + strings.Repeat("ab", 32) + `", "user_id": "", "csrf": "x", "created": "2026-03-01T08:00:00Z", "last_seen": "2026-03-01T08:00:00Z"}]}`,
		"field":    `{"version": 1, "sessions": [], "secret": 1}`,
		"not json": `{"version": 1, `,
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, SessionsFile), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenSessions(ctx, dir, SessionOptions{}, nil); err == nil {
			t.Errorf("%s: a bad sessions file was opened", name)
		}
	}
}
