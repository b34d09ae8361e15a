package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"
)

// Accounts is what the server and the onemap users command do with users:
// add and change them, log them in and out. It keeps sessions in step with
// users: disabling a user, or changing its password, roles or scopes, ends
// every session of the user.
type Accounts struct {
	Users    UserStore
	Hasher   *Hasher
	Sessions *Sessions
	Lockout  *Lockout
	Roles    *Roles
	// Audit, when set, records every login and every change to a user.
	Audit *AuditLog
	Log   *slog.Logger
	Now   func() time.Time
}

// AccountsOptions are what NewAccounts needs; nil fields take defaults (a
// Hasher of DefaultHashParams, Sessions in memory, a Lockout, DefaultRoles).
type AccountsOptions struct {
	Users    UserStore
	Hasher   *Hasher
	Sessions *Sessions
	Lockout  *Lockout
	Roles    *Roles
	Audit    *AuditLog
	Log      *slog.Logger
	Now      func() time.Time
}

// NewAccounts returns Accounts over opt.Users, which is required.
func NewAccounts(opt AccountsOptions) *Accounts {
	a := &Accounts{Users: opt.Users, Hasher: opt.Hasher, Sessions: opt.Sessions, Lockout: opt.Lockout,
		Roles: opt.Roles, Audit: opt.Audit, Log: opt.Log, Now: opt.Now}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Hasher == nil {
		a.Hasher = NewHasher(DefaultHashParams, 0)
	}
	if a.Sessions == nil {
		a.Sessions = NewSessions(nil, SessionOptions{Now: a.Now})
	}
	if a.Lockout == nil {
		a.Lockout = NewLockout(LockoutOptions{Now: a.Now})
	}
	if a.Roles == nil {
		a.Roles = DefaultRoles()
	}
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	return a
}

// NewUser is what AddUser needs of a user.
type NewUser struct {
	Login, Name, Password string
	Roles                 []string
	Scopes                Scopes
}

// AddUser checks and stores a new user and returns it.
func (a *Accounts) AddUser(ctx context.Context, by *Principal, nu NewUser) (User, error) {
	if !ValidLogin(nu.Login) {
		return User{}, fmt.Errorf("%w: %q", ErrBadLogin, truncate(nu.Login, 80))
	}
	if err := CheckPassword(nu.Login, nu.Password); err != nil {
		return User{}, err
	}
	hash, err := a.Hasher.Hash(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	now := a.Now().UTC()
	u := User{ID: newID("u_"), Login: nu.Login, Name: nu.Name, Roles: slices.Clone(nu.Roles), Scopes: nu.Scopes,
		PasswordHash: hash, Created: now, Updated: now}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	if err := u.Validate(a.Roles); err != nil {
		return User{}, err
	}
	err = a.Users.CreateUser(ctx, u)
	a.record(ctx, by, "users.add", "user:"+u.Login, err)
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// SetPassword changes a user's password and ends the user's sessions.
func (a *Accounts) SetPassword(ctx context.Context, by *Principal, id, password string) (User, error) {
	u, err := a.Users.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(u.Login, password); err != nil {
		return User{}, err
	}
	hash, err := a.Hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	return a.change(ctx, by, id, "users.passwd", func(u *User) error { u.PasswordHash = hash; return nil })
}

// SetRoles changes a user's roles and ends the user's sessions.
func (a *Accounts) SetRoles(ctx context.Context, by *Principal, id string, roles []string) (User, error) {
	if err := CheckRoles(a.Roles, roles); err != nil {
		return User{}, err
	}
	return a.change(ctx, by, id, "users.roles", func(u *User) error { u.Roles = slices.Clone(roles); return nil })
}

// SetScopes changes a user's scopes and ends the user's sessions.
func (a *Accounts) SetScopes(ctx context.Context, by *Principal, id string, s Scopes) (User, error) {
	return a.change(ctx, by, id, "users.scopes", func(u *User) error { u.Scopes = s; return nil })
}

// SetDisabled disables (and ends the sessions of) or enables a user.
func (a *Accounts) SetDisabled(ctx context.Context, by *Principal, id string, disabled bool) (User, error) {
	action := "users.enable"
	if disabled {
		action = "users.disable"
	}
	return a.change(ctx, by, id, action, func(u *User) error { u.Disabled = disabled; return nil })
}

// change updates a user by fn, validated, and ends the user's sessions.
func (a *Accounts) change(ctx context.Context, by *Principal, id, action string, fn func(*User) error) (User, error) {
	var login string
	u, err := a.Users.UpdateUser(ctx, id, func(u *User) error {
		login = u.Login
		if err := fn(u); err != nil {
			return err
		}
		u.Updated = a.Now().UTC()
		u.SessionsAfter = u.Updated
		return u.Validate(a.Roles)
	})
	target := "user:" + login
	if login == "" {
		target = "user-id:" + truncate(id, 64)
	}
	a.record(ctx, by, action, target, err)
	if err != nil {
		return User{}, err
	}
	if _, err := a.Sessions.LogoutUser(ctx, id); err != nil {
		return u, err
	}
	return u, nil
}

// ErrBadCredentials is the one answer to a login with an unknown name, a
// wrong password or a disabled user, so that an answer tells nobody which
// logins exist.
var ErrBadCredentials = errors.New("auth: wrong login or password")

// LockedError is the answer to a login while its name or address must
// wait after repeated failures.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string {
	return fmt.Sprintf("auth: too many failed logins; try again in %s", e.RetryAfter.Round(time.Second))
}

// LoginResult is a successful login: the user, the session's secret id for
// the cookie, and the session (with its CSRF token).
type LoginResult struct {
	User    User
	Secret  string
	Session Session
}

// Login checks a login and password from remote and opens a session. It
// answers ErrBadCredentials for an unknown login after the same hash work
// as for a known one, and a *LockedError while the login or the address
// must wait.
func (a *Accounts) Login(ctx context.Context, login, password, remote string) (LoginResult, error) {
	keys := []string{LoginKey(login), AddrKey(remote)}
	who := &Principal{Name: truncate(login, 64)}
	if !ValidLogin(login) {
		who.Name = "?" // not a login: do not write what was typed (it may be a password)
	}
	if wait := a.Lockout.Wait(keys...); wait > 0 {
		a.recordAt(ctx, who, remote, "login", "", "locked")
		return LoginResult{}, &LockedError{RetryAfter: wait}
	}
	if len(password) > MaxPasswordLen {
		password = password[:MaxPasswordLen]
	}
	var u User
	var err error
	if ValidLogin(login) {
		u, err = a.Users.UserByLogin(ctx, login)
	} else {
		err = ErrNoUser
	}
	if err != nil && !errors.Is(err, ErrNoUser) {
		return LoginResult{}, err
	}
	ok := false
	if err == nil {
		var rehash bool
		var verr error
		ok, rehash, verr = a.Hasher.Verify(ctx, u.PasswordHash, password)
		if verr != nil {
			if ctx.Err() != nil {
				return LoginResult{}, verr
			}
			a.Log.Error("auth: stored password hash unreadable", "login", u.Login, "err", verr)
			a.Hasher.VerifyDummy(ctx, password)
		}
		if ok && rehash {
			a.rehash(ctx, u, password)
		}
	} else {
		a.Hasher.VerifyDummy(ctx, password)
	}
	if ctx.Err() != nil {
		return LoginResult{}, ctx.Err()
	}
	if !ok || u.Disabled {
		a.Lockout.Fail(keys...)
		a.recordAt(ctx, who, remote, "login", "", "denied")
		return LoginResult{}, ErrBadCredentials
	}
	a.Lockout.Succeed(keys...)
	secret, sess, err := a.Sessions.Create(ctx, u.ID, remote)
	if err != nil {
		return LoginResult{}, err
	}
	p := Principal{UserID: u.ID, Name: u.Login, Roles: u.Roles}
	a.recordAt(ctx, &p, remote, "login", "", "ok")
	return LoginResult{User: u, Secret: secret, Session: sess}, nil
}

// rehash replaces a hash made with other parameters, if the user still has
// it; a failure is logged, not the login's.
func (a *Accounts) rehash(ctx context.Context, u User, password string) {
	hash, err := a.Hasher.Hash(ctx, password)
	if err == nil {
		_, err = a.Users.UpdateUser(ctx, u.ID, func(v *User) error {
			if v.PasswordHash != u.PasswordHash {
				return errRehashRaced
			}
			v.PasswordHash = hash
			return nil
		})
	}
	if err != nil && !errors.Is(err, errRehashRaced) {
		a.Log.Warn("auth: rehash password", "login", u.Login, "err", err)
	}
}

var errRehashRaced = errors.New("auth: password changed meanwhile")

// Authenticate returns the user of a session's secret id, or an error
// matching ErrNoSession or ErrSessionExpired. A session of a user now gone
// or disabled, or opened before the user's SessionsAfter, is ended.
func (a *Accounts) Authenticate(ctx context.Context, secret string) (User, Session, error) {
	sess, err := a.Sessions.Validate(ctx, secret)
	if err != nil {
		return User{}, Session{}, err
	}
	u, err := a.Users.UserByID(ctx, sess.UserID)
	if errors.Is(err, ErrNoUser) || (err == nil && (u.Disabled || sess.Created.Before(u.SessionsAfter))) {
		a.Sessions.Logout(ctx, secret)
		return User{}, Session{}, ErrNoSession
	}
	if err != nil {
		return User{}, Session{}, err
	}
	return u, sess, nil
}

// Logout ends one session.
func (a *Accounts) Logout(ctx context.Context, by *Principal, secret, remote string) error {
	err := a.Sessions.Logout(ctx, secret)
	a.recordAt(ctx, by, remote, "logout", "", result(err))
	return err
}

// LogoutEverywhere ends every session of the user of id.
func (a *Accounts) LogoutEverywhere(ctx context.Context, by *Principal, id, remote string) (int, error) {
	n, err := a.Sessions.LogoutUser(ctx, id)
	a.recordAt(ctx, by, remote, "logout.everywhere", "user-id:"+truncate(id, 64), result(err))
	return n, err
}

func (a *Accounts) record(ctx context.Context, by *Principal, action, target string, err error) {
	a.recordAt(ctx, by, "", action, target, result(err))
}

func (a *Accounts) recordAt(ctx context.Context, by *Principal, remote, action, target, res string) {
	if a.Audit == nil {
		return
	}
	e := Entry{Remote: remote, Action: action, Target: target, Result: res}
	if by != nil {
		e.Who, e.Roles = by.Name, by.Roles
		if e.Remote == "" {
			e.Remote = by.Remote
		}
	}
	if err := a.Audit.Append(ctx, e); err != nil {
		a.Log.Error("auth: audit", "action", action, "err", err)
	}
}

func result(err error) string {
	if err != nil {
		return "error: " + truncate(err.Error(), 200)
	}
	return "ok"
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// newID returns prefix and 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
