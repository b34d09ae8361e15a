package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Session is a user's login, as the store keeps it. The session's secret id
// is never kept, only its SHA-256.
type Session struct {
	// IDHash is the SHA-256 of the secret id the cookie carries.
	IDHash [32]byte
	UserID string
	// CSRF is the session's synchronizer token: the page gets it with the
	// session and sends it back in a header on every write, which a page of
	// another site cannot read and so cannot send.
	CSRF     string
	Created  time.Time
	LastSeen time.Time
	// Remote is the address the session was opened from.
	Remote string
}

// SessionStore keeps sessions. MemorySessions is the one in memory,
// FileSessions one in the data directory; a database store implements the
// same.
type SessionStore interface {
	// PutSession stores s, replacing a session of the same IDHash.
	PutSession(ctx context.Context, s Session) error
	// Session returns the session of idHash or an error matching ErrNoSession.
	Session(ctx context.Context, idHash [32]byte) (Session, error)
	// TouchSession sets the session's LastSeen, or returns an error
	// matching ErrNoSession. A durable store may keep the LastSeen it
	// writes up to a TouchInterval stale, so that a request does not
	// cost a write.
	TouchSession(ctx context.Context, idHash [32]byte, at time.Time) error
	// DeleteSession removes a session; removing one that is gone is no error.
	DeleteSession(ctx context.Context, idHash [32]byte) error
	// UserSessions returns every session of a user.
	UserSessions(ctx context.Context, userID string) ([]Session, error)
	// DeleteUserSessions removes every session of a user and returns how many.
	DeleteUserSessions(ctx context.Context, userID string) (int, error)
	// DeleteExpired removes the sessions last seen before idle or created
	// before absolute, and returns how many.
	DeleteExpired(ctx context.Context, idle, absolute time.Time) (int, error)
}

// Errors of sessions.
var (
	ErrNoSession      = errors.New("auth: no such session")
	ErrSessionExpired = errors.New("auth: session expired")
)

// SessionOptions tune Sessions. Zero fields take the defaults.
type SessionOptions struct {
	// Idle ends a session not used for this long (30 min).
	Idle time.Duration
	// Absolute ends a session this long after login, used or not (12 h).
	Absolute time.Duration
	// MaxPerUser bounds a user's sessions (100): a login past it ends the
	// user's oldest session.
	MaxPerUser int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Sessions opens, checks and ends login sessions over a SessionStore.
type Sessions struct {
	store SessionStore
	opt   SessionOptions
}

// NewSessions returns Sessions over store (a new MemorySessions if nil).
func NewSessions(store SessionStore, opt SessionOptions) *Sessions {
	if store == nil {
		store = NewMemorySessions()
	}
	if opt.Idle <= 0 {
		opt.Idle = 30 * time.Minute
	}
	if opt.Absolute <= 0 {
		opt.Absolute = 12 * time.Hour
	}
	if opt.MaxPerUser <= 0 {
		opt.MaxPerUser = 100
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Sessions{store: store, opt: opt}
}

// Options returns the options in force, defaults filled in.
func (s *Sessions) Options() SessionOptions { return s.opt }

// sessionIDLen is the length of a secret id: 32 random bytes, base64url.
const sessionIDLen = 43

// HashSecret returns the SHA-256 of a secret id or token, as stores keep it.
func HashSecret(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Create opens a session for userID and returns its secret id, for the
// cookie, and the session. Nothing else ever sees the secret.
func (s *Sessions) Create(ctx context.Context, userID, remote string) (string, Session, error) {
	now := s.opt.Now()
	secret := randomString(32)
	sess := Session{
		IDHash: HashSecret(secret), UserID: userID, CSRF: randomString(32),
		Created: now, LastSeen: now, Remote: remote,
	}
	if len(sess.Remote) > 64 {
		sess.Remote = sess.Remote[:64]
	}
	old, err := s.store.UserSessions(ctx, userID)
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: session: %w", err)
	}
	if len(old) >= s.opt.MaxPerUser {
		slices.SortFunc(old, func(a, b Session) int { return a.Created.Compare(b.Created) })
		for _, o := range old[:len(old)-s.opt.MaxPerUser+1] {
			if err := s.store.DeleteSession(ctx, o.IDHash); err != nil {
				return "", Session{}, fmt.Errorf("auth: session: %w", err)
			}
		}
	}
	if err := s.store.PutSession(ctx, sess); err != nil {
		return "", Session{}, fmt.Errorf("auth: session: %w", err)
	}
	return secret, sess, nil
}

// Validate returns the session of secret and marks it used, or an error
// matching ErrNoSession (unknown or malformed) or ErrSessionExpired (past
// its idle or absolute timeout; it is ended).
func (s *Sessions) Validate(ctx context.Context, secret string) (Session, error) {
	if len(secret) != sessionIDLen {
		return Session{}, ErrNoSession
	}
	h := HashSecret(secret)
	sess, err := s.store.Session(ctx, h)
	if err != nil {
		return Session{}, err
	}
	now := s.opt.Now()
	if !now.Before(sess.LastSeen.Add(s.opt.Idle)) || !now.Before(sess.Created.Add(s.opt.Absolute)) {
		if err := s.store.DeleteSession(ctx, h); err != nil {
			return Session{}, fmt.Errorf("auth: session: %w", err)
		}
		return Session{}, ErrSessionExpired
	}
	if err := s.store.TouchSession(ctx, h, now); err != nil {
		return Session{}, fmt.Errorf("auth: session: %w", err)
	}
	sess.LastSeen = now
	return sess, nil
}

// CheckCSRF reports whether token is sess's CSRF token, in constant time.
func CheckCSRF(sess *Session, token string) bool {
	return sess.CSRF != "" && subtle.ConstantTimeCompare([]byte(sess.CSRF), []byte(token)) == 1
}

// Logout ends the session of secret; ending one that is gone is no error.
func (s *Sessions) Logout(ctx context.Context, secret string) error {
	if err := s.store.DeleteSession(ctx, HashSecret(secret)); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// LogoutUser ends every session of userID (logout everywhere) and returns
// how many there were.
func (s *Sessions) LogoutUser(ctx context.Context, userID string) (int, error) {
	n, err := s.store.DeleteUserSessions(ctx, userID)
	if err != nil {
		return n, fmt.Errorf("auth: logout everywhere: %w", err)
	}
	return n, nil
}

// Sweep ends every expired session and returns how many; Validate ends
// them too as they come back, so this only frees memory.
func (s *Sessions) Sweep(ctx context.Context) (int, error) {
	now := s.opt.Now()
	return s.store.DeleteExpired(ctx, now.Add(-s.opt.Idle), now.Add(-s.opt.Absolute))
}

// MemorySessions is a SessionStore in memory: sessions end with the process.
type MemorySessions struct {
	mu     sync.Mutex
	byID   map[[32]byte]*Session
	byUser map[string]map[[32]byte]struct{}
}

var _ SessionStore = (*MemorySessions)(nil)

// NewMemorySessions returns an empty MemorySessions.
func NewMemorySessions() *MemorySessions {
	return &MemorySessions{byID: map[[32]byte]*Session{}, byUser: map[string]map[[32]byte]struct{}{}}
}

// PutSession stores s.
func (m *MemorySessions) PutSession(ctx context.Context, s Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putLocked(s)
	return nil
}

func (m *MemorySessions) putLocked(s Session) {
	m.deleteLocked(s.IDHash)
	m.byID[s.IDHash] = &s
	set := m.byUser[s.UserID]
	if set == nil {
		set = map[[32]byte]struct{}{}
		m.byUser[s.UserID] = set
	}
	set[s.IDHash] = struct{}{}
}

// putBounded stores s; when that would make more than max sessions, it
// first removes the one least recently seen. It returns the session s
// replaced, if any.
func (m *MemorySessions) putBounded(s Session, max int) (old Session, had bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.byID[s.IDHash]; o != nil {
		old, had = *o, true
	} else if len(m.byID) >= max {
		var least *Session
		for _, x := range m.byID {
			if least == nil || x.LastSeen.Before(least.LastSeen) {
				least = x
			}
		}
		m.deleteLocked(least.IDHash)
	}
	m.putLocked(s)
	return old, had
}

// all returns a copy of every session.
func (m *MemorySessions) all() []Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Session, 0, len(m.byID))
	for _, s := range m.byID {
		out = append(out, *s)
	}
	return out
}

// Session returns the session of idHash.
func (m *MemorySessions) Session(ctx context.Context, idHash [32]byte) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.byID[idHash]; s != nil {
		return *s, nil
	}
	return Session{}, ErrNoSession
}

// TouchSession sets LastSeen.
func (m *MemorySessions) TouchSession(ctx context.Context, idHash [32]byte, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.byID[idHash]; s != nil {
		s.LastSeen = at
		return nil
	}
	return ErrNoSession
}

// DeleteSession removes a session.
func (m *MemorySessions) DeleteSession(ctx context.Context, idHash [32]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleteLocked(idHash)
	return nil
}

func (m *MemorySessions) deleteLocked(idHash [32]byte) {
	s := m.byID[idHash]
	if s == nil {
		return
	}
	delete(m.byID, idHash)
	if set := m.byUser[s.UserID]; set != nil {
		delete(set, idHash)
		if len(set) == 0 {
			delete(m.byUser, s.UserID)
		}
	}
}

// UserSessions returns a user's sessions.
func (m *MemorySessions) UserSessions(ctx context.Context, userID string) ([]Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Session
	for h := range m.byUser[userID] {
		out = append(out, *m.byID[h])
	}
	return out, nil
}

// DeleteUserSessions removes a user's sessions.
func (m *MemorySessions) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.byUser[userID]
	for h := range set {
		delete(m.byID, h)
	}
	delete(m.byUser, userID)
	return len(set), nil
}

// DeleteExpired removes the sessions idle since before idle or created
// before absolute.
func (m *MemorySessions) DeleteExpired(ctx context.Context, idle, absolute time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for h, s := range m.byID {
		if !s.LastSeen.After(idle) || !s.Created.After(absolute) {
			m.deleteLocked(h)
			n++
		}
	}
	return n, nil
}
