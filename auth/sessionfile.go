package auth

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"
)

// SessionsFile is the name of the sessions file in the data directory.
const SessionsFile = "sessions.json"

// MaxSessions bounds the sessions a durable store keeps: a login past it
// ends the session least recently used.
const MaxSessions = 100000

// TouchInterval is how stale a durable store may let a session's LastSeen
// get: a store writes a touch at most once per this interval, so a restart
// or crash loses at most this much of a session's idle time.
const TouchInterval = time.Minute

// maxSessionsFile bounds sessions.json: MaxSessions of about 350 bytes.
const maxSessionsFile = 64 << 20

// FileSessions is a SessionStore kept in memory and in sessions.json in the
// data directory (mode 0600, replaced atomically under a lock file), so that
// sessions outlive a restart of the server.
//
// PutSession and the deletes return once the file holds the change. A touch
// changes only memory; the file is written again at most once a
// TouchInterval for touches alone, and by Flush and Close, which the server
// calls at shutdown. A crash loses at most a TouchInterval of LastSeen: the
// sessions it held then end up to that much sooner.
//
// Every write leaves out the expired sessions. The file is read once, by
// OpenSessions: one server owns it, and nothing else writes it.
type FileSessions struct {
	mem *MemorySessions
	opt SessionOptions
	log *slog.Logger
	max int // MaxSessions; less in tests

	// writeMu orders writes: a snapshot is taken and written under it, so
	// a later state is never overwritten by an earlier one.
	writeMu sync.Mutex
	file    jsonFile

	mu      sync.Mutex
	dirty   bool      // touched since the last write
	written time.Time // the last write, by opt.Now
}

var _ SessionStore = (*FileSessions)(nil)

type sessionsFileJSON struct {
	Version  int           `json:"version"`
	Sessions []sessionJSON `json:"sessions"`
}

// sessionJSON is a Session in the file; the hash is hex.
type sessionJSON struct {
	IDHash   string    `json:"id_hash"`
	UserID   string    `json:"user_id"`
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	Remote   string    `json:"remote,omitempty"`
}

// OpenSessions opens the sessions file of the data directory dir, creating
// dir (0700) if need be; a missing file holds no sessions. opt is what the
// Sessions over the store run with: its timeouts decide which sessions are
// expired, and its clock when a touch is due to be written. log (nil for
// none) hears of a touch that could not be written.
func OpenSessions(ctx context.Context, dir string, opt SessionOptions, log *slog.Logger) (*FileSessions, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	opt = NewSessions(NewMemorySessions(), opt).Options()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &FileSessions{
		mem: NewMemorySessions(), opt: opt, log: log, max: MaxSessions,
		file: jsonFile{dir: dir, name: SessionsFile, what: "sessions", limit: maxSessionsFile},
	}
	var f sessionsFileJSON
	fi, _, err := s.file.read(ctx, &f)
	if err != nil {
		return nil, err
	}
	if fi != nil {
		if err := s.load(&f); err != nil {
			return nil, err
		}
	}
	s.written = opt.Now()
	return s, nil
}

// load checks the file's sessions and keeps those not expired.
func (s *FileSessions) load(f *sessionsFileJSON) error {
	if f.Version != 1 {
		return s.file.errorf("version %d, not 1", f.Version)
	}
	if len(f.Sessions) > MaxSessions {
		return s.file.errorf("%d sessions, over %d", len(f.Sessions), MaxSessions)
	}
	idle, absolute := s.cutoffs()
	for i, j := range f.Sessions {
		var h [32]byte
		if n, err := hex.Decode(h[:], []byte(j.IDHash)); err != nil || n != 32 || hex.EncodeToString(h[:]) != j.IDHash {
			return s.file.errorf("session %d: the hash is not 64 lower-case hex digits", i+1)
		}
		if j.UserID == "" || len(j.UserID) > 64 || len(j.CSRF) > 64 || len(j.Remote) > 64 {
			return s.file.errorf("session %d: a missing user id or a field over 64 bytes", i+1)
		}
		if _, ok := s.mem.byID[h]; ok {
			return s.file.errorf("session %d: a repeated hash", i+1)
		}
		sess := Session{IDHash: h, UserID: j.UserID, CSRF: j.CSRF, Created: j.Created, LastSeen: j.LastSeen, Remote: j.Remote}
		if expired(&sess, idle, absolute) {
			continue
		}
		s.mem.putLocked(sess)
	}
	return nil
}

// cutoffs are the times before which a session is expired, now.
func (s *FileSessions) cutoffs() (idle, absolute time.Time) {
	now := s.opt.Now()
	return now.Add(-s.opt.Idle), now.Add(-s.opt.Absolute)
}

func expired(s *Session, idle, absolute time.Time) bool {
	return !s.LastSeen.After(idle) || !s.Created.After(absolute)
}

// write replaces the file by the sessions in memory, the expired ones
// dropped from both.
func (s *FileSessions) write(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	s.dirty, s.written = false, s.opt.Now()
	s.mu.Unlock()
	idle, absolute := s.cutoffs()
	s.mem.DeleteExpired(ctx, idle, absolute)
	list := s.mem.all()
	slices.SortFunc(list, func(a, b Session) int { return a.Created.Compare(b.Created) })
	f := sessionsFileJSON{Version: 1, Sessions: make([]sessionJSON, len(list))}
	for i, x := range list {
		f.Sessions[i] = sessionJSON{IDHash: hex.EncodeToString(x.IDHash[:]), UserID: x.UserID, CSRF: x.CSRF,
			Created: x.Created, LastSeen: x.LastSeen, Remote: x.Remote}
	}
	unlock, err := s.file.lock()
	if err != nil {
		s.markDirty()
		return err
	}
	defer unlock()
	fi, err := s.file.write(ctx, f)
	if err != nil {
		s.markDirty()
		return err
	}
	s.file.seen = fi
	return nil
}

func (s *FileSessions) markDirty() {
	s.mu.Lock()
	s.dirty = true
	s.mu.Unlock()
}

// PutSession stores sess and writes the file. At MaxSessions, the session
// least recently used ends to make room.
func (s *FileSessions) PutSession(ctx context.Context, sess Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	old, had := s.mem.putBounded(sess, s.max)
	if err := s.write(ctx); err != nil {
		s.mem.mu.Lock()
		if cur := s.mem.byID[sess.IDHash]; cur != nil && *cur == sess {
			s.mem.deleteLocked(sess.IDHash)
			if had {
				s.mem.putLocked(old)
			}
		}
		s.mem.mu.Unlock()
		return fmt.Errorf("auth: sessions: %w", err)
	}
	return nil
}

// Session returns the session of idHash.
func (s *FileSessions) Session(ctx context.Context, idHash [32]byte) (Session, error) {
	return s.mem.Session(ctx, idHash)
}

// TouchSession sets LastSeen in memory; the file gets it with the next
// write, at most a TouchInterval later.
func (s *FileSessions) TouchSession(ctx context.Context, idHash [32]byte, at time.Time) error {
	if err := s.mem.TouchSession(ctx, idHash, at); err != nil {
		return err
	}
	s.mu.Lock()
	s.dirty = true
	due := s.opt.Now().Sub(s.written) >= TouchInterval
	if due {
		s.written = s.opt.Now() // no other touch starts a write meanwhile
	}
	s.mu.Unlock()
	if due {
		if err := s.write(ctx); err != nil {
			// The touch is in memory; a touch a TouchInterval later
			// tries the write again.
			s.log.Error("auth: sessions: write the touches", "err", err)
		}
	}
	return nil
}

// DeleteSession removes a session and writes the file if it was there.
func (s *FileSessions) DeleteSession(ctx context.Context, idHash [32]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mem.mu.Lock()
	_, had := s.mem.byID[idHash]
	s.mem.deleteLocked(idHash)
	s.mem.mu.Unlock()
	if !had {
		return nil
	}
	if err := s.write(ctx); err != nil {
		return fmt.Errorf("auth: sessions: %w", err)
	}
	return nil
}

// UserSessions returns a user's sessions.
func (s *FileSessions) UserSessions(ctx context.Context, userID string) ([]Session, error) {
	return s.mem.UserSessions(ctx, userID)
}

// DeleteUserSessions removes a user's sessions and writes the file.
func (s *FileSessions) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, _ := s.mem.DeleteUserSessions(ctx, userID)
	if n == 0 {
		return 0, nil
	}
	if err := s.write(ctx); err != nil {
		return n, fmt.Errorf("auth: sessions: %w", err)
	}
	return n, nil
}

// DeleteExpired removes the sessions idle since before idle or created
// before absolute, and writes the file if there were any.
func (s *FileSessions) DeleteExpired(ctx context.Context, idle, absolute time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, _ := s.mem.DeleteExpired(ctx, idle, absolute)
	if n == 0 {
		return 0, nil
	}
	if err := s.write(ctx); err != nil {
		return n, fmt.Errorf("auth: sessions: %w", err)
	}
	return n, nil
}

// Flush writes the touches not yet in the file.
func (s *FileSessions) Flush(ctx context.Context) error {
	s.mu.Lock()
	dirty := s.dirty
	s.mu.Unlock()
	if !dirty {
		return nil
	}
	if err := s.write(ctx); err != nil {
		return fmt.Errorf("auth: sessions: %w", err)
	}
	return nil
}

// Close writes the touches not yet in the file; the server calls it at
// shutdown. The store stays usable.
func (s *FileSessions) Close() error { return s.Flush(context.Background()) }
