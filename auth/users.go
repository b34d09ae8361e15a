package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a person who logs in.
type User struct {
	// ID is stable for the user's life; logins may be reused after a user
	// is gone, ids are not.
	ID string `json:"id"`
	// Login is the name typed at login: 1–64 of a–z, 0–9, '.', '_', '-'.
	Login string `json:"login"`
	// Name is the name shown, up to 100 characters.
	Name     string   `json:"name,omitempty"`
	Roles    []string `json:"roles"`
	Scopes   Scopes   `json:"scopes,omitzero"`
	Disabled bool     `json:"disabled,omitempty"`
	// PasswordHash is the password's argon2id hash in PHC string format.
	PasswordHash string    `json:"password_hash"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	// SessionsAfter ends every session opened before it: it is set when
	// the password, roles or scopes change or the user is disabled, so that
	// a change made by another process (onemap users) ends the sessions a
	// running server holds in memory.
	SessionsAfter time.Time `json:"sessions_after,omitzero"`
}

// UserStore keeps users. Implementations are safe for concurrent use and
// return copies: changing a returned User changes nothing stored.
type UserStore interface {
	// Users returns every user, in the order of their logins.
	Users(ctx context.Context) ([]User, error)
	// UserByID returns the user of id, or an error matching ErrNoUser.
	UserByID(ctx context.Context, id string) (User, error)
	// UserByLogin returns the user of login, or an error matching ErrNoUser.
	UserByLogin(ctx context.Context, login string) (User, error)
	// CreateUser stores a new user; ErrLoginTaken if its login is in use.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser changes the user of id by fn, atomically, and returns the
	// changed user. An error from fn changes nothing and is returned.
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (User, error)
}

// Errors of users.
var (
	ErrNoUser      = errors.New("auth: no such user")
	ErrLoginTaken  = errors.New("auth: login in use")
	ErrBadLogin    = errors.New("auth: a login is 1–64 of a–z, 0–9, '.', '_' and '-', starting with a letter or digit")
	ErrBadPassword = errors.New("auth: bad password")
	ErrBadUser     = errors.New("auth: invalid user")
)

// Limits of a user.
const (
	MaxUsers          = 10000
	MaxPasswordLen    = 256
	MinPasswordLen    = 10
	maxDisplayNameLen = 100
	maxScopes         = 64
)

var loginRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidLogin reports whether login may name a user.
func ValidLogin(login string) bool { return loginRe.MatchString(login) }

// CheckPassword tells why password may not be login's, or nil: it must be
// 10–256 characters and not the login itself.
func CheckPassword(login, password string) error {
	if !utf8.ValidString(password) {
		return fmt.Errorf("%w: not valid UTF-8", ErrBadPassword)
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLen {
		return fmt.Errorf("%w: %d characters, fewer than %d", ErrBadPassword, n, MinPasswordLen)
	}
	if len(password) > MaxPasswordLen {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrBadPassword, len(password), MaxPasswordLen)
	}
	if strings.EqualFold(password, login) {
		return fmt.Errorf("%w: the same as the login", ErrBadPassword)
	}
	return nil
}

// Validate checks a user against the roles table before it is stored.
func (u *User) Validate(roles *Roles) error {
	if u.ID == "" || len(u.ID) > 64 {
		return fmt.Errorf("%w: id %q", ErrBadUser, u.ID)
	}
	if !ValidLogin(u.Login) {
		return fmt.Errorf("%w: login %q", ErrBadLogin, u.Login)
	}
	if utf8.RuneCountInString(u.Name) > maxDisplayNameLen || !utf8.ValidString(u.Name) || strings.ContainsFunc(u.Name, isControl) {
		return fmt.Errorf("%w: display name must be up to %d printable characters", ErrBadUser, maxDisplayNameLen)
	}
	if err := CheckRoles(roles, u.Roles); err != nil {
		return err
	}
	for _, list := range [][]string{u.Scopes.Units, u.Scopes.Districts} {
		if len(list) > maxScopes {
			return fmt.Errorf("%w: more than %d scopes", ErrBadUser, maxScopes)
		}
		for _, s := range list {
			if !validScope(s) {
				return fmt.Errorf("%w: scope %q must be 1–64 printable bytes", ErrBadUser, s)
			}
		}
	}
	if _, err := parsePHC(u.PasswordHash); err != nil {
		return fmt.Errorf("%w: password hash: %w", ErrBadUser, err)
	}
	return nil
}

// CheckRoles tells why names may not be a user's roles, or nil: each must be
// in the table, once.
func CheckRoles(roles *Roles, names []string) error {
	if roles == nil {
		roles = DefaultRoles()
	}
	if len(names) > MaxRoles {
		return fmt.Errorf("%w: more than %d roles", ErrBadUser, MaxRoles)
	}
	for i, r := range names {
		if !roles.Has(r) {
			return fmt.Errorf("%w: unknown role %q (the roles are %s)", ErrBadUser, r, strings.Join(roles.Names(), ", "))
		}
		if slices.Contains(names[:i], r) {
			return fmt.Errorf("%w: role %q given twice", ErrBadUser, r)
		}
	}
	return nil
}
