package auth

import (
	"context"
	"fmt"
	"path/filepath"
)

// AdminPasswordFile is where EnsureAdmin writes the first admin's password,
// in the data directory, mode 0600.
const AdminPasswordFile = "admin-password"

// EnsureAdmin gives a data directory its first user: when dir's users file
// holds no user, it creates "admin" (role admin) with a random password,
// writes the password to dir/admin-password (0600) and returns it, for the
// caller to log once. With users already there it returns "".
func EnsureAdmin(ctx context.Context, dir string) (string, error) {
	users, err := OpenUsers(ctx, dir)
	if err != nil {
		return "", err
	}
	return NewAccounts(AccountsOptions{Users: users}).EnsureAdmin(ctx, dir)
}

// EnsureAdmin is the package's EnsureAdmin over a's store.
func (a *Accounts) EnsureAdmin(ctx context.Context, dir string) (string, error) {
	// Two processes starting on one directory: the second waits, then
	// finds the admin.
	unlock, err := lockFile(filepath.Join(dir, AdminPasswordFile+".lock"))
	if err != nil {
		return "", fmt.Errorf("auth: lock: %w", err)
	}
	defer unlock()
	all, err := a.Users.Users(ctx)
	if err != nil {
		return "", err
	}
	if len(all) > 0 {
		return "", nil
	}
	password := randomString(18) // 144 bits, 24 characters
	// The file first: an admin whose password was never written down would
	// lock the city out.
	if err := writeFileAtomic(ctx, dir, AdminPasswordFile, []byte(password+"\n")); err != nil {
		return "", fmt.Errorf("auth: write %s: %w", filepath.Join(dir, AdminPasswordFile), err)
	}
	sys := &Principal{Name: "onemap"}
	_, err = a.AddUser(ctx, sys, NewUser{Login: "admin", Name: "Administrator", Password: password, Roles: []string{"admin"}})
	if err != nil {
		return "", err
	}
	return password, nil
}
