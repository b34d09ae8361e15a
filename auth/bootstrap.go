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

// DeviceTokenFile is where EnsureDeviceToken writes the first device
// token, in the data directory, mode 0600.
const DeviceTokenFile = "device-token"

// EnsureDeviceToken gives a city its first device token: when ts holds no
// token at all, it issues "first device" (scope ingest), writes its secret
// to dir/device-token (0600) and returns it, for the caller to log once.
// With tokens already there it returns "".
func EnsureDeviceToken(ctx context.Context, ts *Tokens, dir string) (string, error) {
	unlock, err := lockFile(filepath.Join(dir, DeviceTokenFile+".lock"))
	if err != nil {
		return "", fmt.Errorf("auth: lock: %w", err)
	}
	defer unlock()
	all, err := ts.store.Tokens(ctx)
	if err != nil {
		return "", err
	}
	if len(all) > 0 {
		return "", nil
	}
	secret, _, err := ts.Issue(ctx, &Principal{Name: "onemap"}, NewToken{Name: "first device", Scopes: []string{ScopeIngest}})
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(ctx, dir, DeviceTokenFile, []byte(secret+"\n")); err != nil {
		return "", fmt.Errorf("auth: write %s: %w", filepath.Join(dir, DeviceTokenFile), err)
	}
	return secret, nil
}
