package auth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemoryUsers is a UserStore in memory, for tests and for a server that
// keeps nothing: users end with the process.
type MemoryUsers struct {
	mu    sync.Mutex
	users []User // by login
}

var _ UserStore = (*MemoryUsers)(nil)

// NewMemoryUsers returns an empty MemoryUsers.
func NewMemoryUsers() *MemoryUsers { return &MemoryUsers{} }

// Users returns every user, by login.
func (m *MemoryUsers) Users(ctx context.Context) ([]User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]User, len(m.users))
	for i, u := range m.users {
		out[i] = u.clone()
	}
	return out, nil
}

// UserByID returns the user of id.
func (m *MemoryUsers) UserByID(ctx context.Context, id string) (User, error) {
	return m.find(ctx, func(u *User) bool { return u.ID == id }, "id "+id)
}

// UserByLogin returns the user of login.
func (m *MemoryUsers) UserByLogin(ctx context.Context, login string) (User, error) {
	return m.find(ctx, func(u *User) bool { return u.Login == login }, "login "+login)
}

func (m *MemoryUsers) find(ctx context.Context, match func(*User) bool, what string) (User, error) {
	if err := ctx.Err(); err != nil {
		return User{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.users {
		if match(&m.users[i]) {
			return m.users[i].clone(), nil
		}
	}
	return User{}, fmt.Errorf("%w: %.80s", ErrNoUser, what)
}

// CreateUser stores u, refusing a login or id in use.
func (m *MemoryUsers) CreateUser(ctx context.Context, u User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.users) >= MaxUsers {
		return fmt.Errorf("%w: already %d users", ErrBadUser, MaxUsers)
	}
	for _, o := range m.users {
		if o.Login == u.Login {
			return fmt.Errorf("%w: %s", ErrLoginTaken, u.Login)
		}
		if o.ID == u.ID {
			return fmt.Errorf("%w: id %s in use", ErrBadUser, u.ID)
		}
	}
	m.users = append(m.users, u.clone())
	m.sort()
	return nil
}

// UpdateUser changes the user of id by fn; its id may not change, and its
// login may change only to one not in use.
func (m *MemoryUsers) UpdateUser(ctx context.Context, id string, fn func(*User) error) (User, error) {
	if err := ctx.Err(); err != nil {
		return User{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.users, func(u User) bool { return u.ID == id })
	if i < 0 {
		return User{}, fmt.Errorf("%w: id %.80s", ErrNoUser, id)
	}
	u := m.users[i].clone()
	if err := fn(&u); err != nil {
		return User{}, err
	}
	if u.ID != id {
		return User{}, fmt.Errorf("%w: a user's id cannot change", ErrBadUser)
	}
	for j, o := range m.users {
		if j != i && o.Login == u.Login {
			return User{}, fmt.Errorf("%w: %s", ErrLoginTaken, u.Login)
		}
	}
	m.users[i] = u.clone()
	m.sort()
	return u, nil
}

func (m *MemoryUsers) sort() {
	slices.SortFunc(m.users, func(a, b User) int { return cmp.Compare(a.Login, b.Login) })
}
