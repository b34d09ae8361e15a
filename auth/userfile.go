package auth

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
)

// UsersFile is the name of the users file in the data directory.
const UsersFile = "users.json"

const maxUsersFile = 32 << 20

// FileUsers is a UserStore kept in one JSON file, users.json in the data
// directory, replaced atomically (mode 0600) on every change. Changes are
// made under a lock file, and the file is read again whenever another
// process (onemap users) has replaced it, so the server and the command
// share it safely.
type FileUsers struct {
	mu    sync.Mutex
	file  jsonFile
	users []User // by login
	byID  map[string]int
}

// keep makes users, read or written as version fi, the ones the store
// holds, indexed by id.
func (s *FileUsers) keep(users []User, fi os.FileInfo) {
	s.users, s.file.seen = users, fi
	s.byID = make(map[string]int, len(users))
	for i := range users {
		s.byID[users[i].ID] = i
	}
}

var _ UserStore = (*FileUsers)(nil)

type usersFileJSON struct {
	Version int    `json:"version"`
	Users   []User `json:"users"`
}

// OpenUsers opens the users file of the data directory dir, creating dir
// (0700) if need be; a missing file holds no users.
func OpenUsers(ctx context.Context, dir string) (*FileUsers, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: users: %w", err)
	}
	s := &FileUsers{file: jsonFile{dir: dir, name: UsersFile, what: "users", limit: maxUsersFile}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// refresh reads the file again if it is not the version last read.
func (s *FileUsers) refresh(ctx context.Context) error {
	var f usersFileJSON
	fi, same, err := s.file.read(ctx, &f)
	if err != nil || same {
		return err
	}
	if fi == nil {
		s.keep(nil, nil)
		return nil
	}
	if f.Version != 1 {
		return s.file.errorf("version %d, not 1", f.Version)
	}
	if len(f.Users) > MaxUsers {
		return s.file.errorf("%d users, over %d", len(f.Users), MaxUsers)
	}
	ids, logins := map[string]bool{}, map[string]bool{}
	for i, u := range f.Users {
		if u.ID == "" || ids[u.ID] || !ValidLogin(u.Login) || logins[u.Login] {
			return s.file.errorf("user %d: a missing or repeated id or login", i+1)
		}
		ids[u.ID], logins[u.Login] = true, true
	}
	slices.SortFunc(f.Users, func(a, b User) int { return cmp.Compare(a.Login, b.Login) })
	s.keep(f.Users, fi)
	return nil
}

// change applies fn to the users under the lock file and writes them back.
func (s *FileUsers) change(ctx context.Context, fn func(users []User) ([]User, error)) error {
	unlock, err := s.file.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.refresh(ctx); err != nil {
		return err
	}
	next := make([]User, len(s.users))
	for i, u := range s.users {
		next[i] = u.clone()
	}
	next, err = fn(next)
	if err != nil {
		return err
	}
	slices.SortFunc(next, func(a, b User) int { return cmp.Compare(a.Login, b.Login) })
	fi, err := s.file.write(ctx, usersFileJSON{Version: 1, Users: next})
	if err != nil {
		return err
	}
	s.keep(next, fi)
	return nil
}

// Users returns every user, by login.
func (s *FileUsers) Users(ctx context.Context) ([]User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = u.clone()
	}
	return out, nil
}

// UserByID returns the user of id.
func (s *FileUsers) UserByID(ctx context.Context, id string) (User, error) {
	return s.find(ctx, "id "+id, true, func() (int, bool) { i, ok := s.byID[id]; return i, ok })
}

// UserByLogin returns the user of login.
func (s *FileUsers) UserByLogin(ctx context.Context, login string) (User, error) {
	return s.find(ctx, "login "+login, false, func() (int, bool) {
		return slices.BinarySearchFunc(s.users, login, func(u User, l string) int { return cmp.Compare(u.Login, l) })
	})
}

// find returns the user at the index that index finds, under the lock.
// With recent, as for the user of every request a server checks, the file
// is looked at again at most once a second; without, as for a login,
// always.
func (s *FileUsers) find(ctx context.Context, what string, recent bool, index func() (int, bool)) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !recent || !s.file.recent() {
		if err := s.refresh(ctx); err != nil {
			return User{}, err
		}
	} else if err := ctx.Err(); err != nil {
		return User{}, err
	}
	if i, ok := index(); ok {
		return s.users[i].clone(), nil
	}
	return User{}, fmt.Errorf("%w: %.80s", ErrNoUser, what)
}

// CreateUser stores u, refusing a login or id in use.
func (s *FileUsers) CreateUser(ctx context.Context, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change(ctx, func(users []User) ([]User, error) {
		if len(users) >= MaxUsers {
			return nil, fmt.Errorf("%w: already %d users", ErrBadUser, MaxUsers)
		}
		for _, o := range users {
			if o.Login == u.Login {
				return nil, fmt.Errorf("%w: %s", ErrLoginTaken, u.Login)
			}
			if o.ID == u.ID {
				return nil, fmt.Errorf("%w: id %s in use", ErrBadUser, u.ID)
			}
		}
		return append(users, u.clone()), nil
	})
}

// UpdateUser changes the user of id by fn; its id may not change, and its
// login may change only to one not in use.
func (s *FileUsers) UpdateUser(ctx context.Context, id string, fn func(*User) error) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out User
	err := s.change(ctx, func(users []User) ([]User, error) {
		i := slices.IndexFunc(users, func(u User) bool { return u.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%w: id %.80s", ErrNoUser, id)
		}
		u := users[i].clone()
		if err := fn(&u); err != nil {
			return nil, err
		}
		if u.ID != id {
			return nil, fmt.Errorf("%w: a user's id cannot change", ErrBadUser)
		}
		for j, o := range users {
			if j != i && o.Login == u.Login {
				return nil, fmt.Errorf("%w: %s", ErrLoginTaken, u.Login)
			}
		}
		users[i] = u
		out = u.clone()
		return users, nil
	})
	return out, err
}

// clone returns a deep copy of u.
func (u User) clone() User {
	u.Roles = slices.Clone(u.Roles)
	u.Scopes.Units = slices.Clone(u.Scopes.Units)
	u.Scopes.Districts = slices.Clone(u.Scopes.Districts)
	return u
}
