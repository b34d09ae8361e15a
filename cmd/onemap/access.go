package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/server"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
)

// openAccess opens who may do what on the server: the roles, the users,
// tokens and sessions (of the database the city is served from, else of
// the data directory, shared with onemap users and onemap tokens), and the
// audit log. A first start creates the admin and a first device token,
// says so in the log once, and leaves both in the data directory.
func openAccess(ctx context.Context, cfg Config, st store.Store, log *slog.Logger) (server.Access, func(), error) {
	var acc server.Access
	roles := auth.DefaultRoles()
	if cfg.RolesFile != "" {
		b, err := os.ReadFile(cfg.RolesFile)
		if err != nil {
			return acc, nil, fmt.Errorf("--roles: %w", err)
		}
		if roles, err = auth.ParseRoles(b); err != nil {
			return acc, nil, fmt.Errorf("--roles %s: %w", cfg.RolesFile, err)
		}
	}
	proxies, err := parseProxies(cfg.TrustedProxies) // checked by Validate
	if err != nil {
		return acc, nil, err
	}
	audit, err := openAuditLog(ctx, cfg.DataDir)
	if err != nil {
		return acc, nil, fmt.Errorf("audit log: %w", err)
	}
	closers := []func() error{audit.Close}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil {
				log.Error("close", "err", err)
			}
		}
	}
	sessOpt := auth.SessionOptions{}
	var users auth.UserStore
	var tokenStore auth.TokenStore
	var sessStore auth.SessionStore
	if pg, ok := st.(*postgis.Store); ok {
		users, tokenStore, sessStore = pg.Users(), pg.Tokens(), pg.Sessions()
	} else {
		fu, err := auth.OpenUsers(ctx, cfg.DataDir)
		if err != nil {
			closeAll()
			return acc, nil, err
		}
		ft, err := auth.OpenTokens(ctx, cfg.DataDir)
		if err != nil {
			closeAll()
			return acc, nil, err
		}
		fs, err := auth.OpenSessions(ctx, cfg.DataDir, sessOpt, log)
		if err != nil {
			closeAll()
			return acc, nil, err
		}
		closers = append(closers, fs.Close)
		users, tokenStore, sessStore = fu, ft, fs
	}
	sessions := auth.NewSessions(sessStore, sessOpt)
	accounts := auth.NewAccounts(auth.AccountsOptions{Users: users, Sessions: sessions, Roles: roles, Audit: audit, Log: log})
	tokens := auth.NewTokens(auth.TokensOptions{Store: tokenStore, Audit: audit, Log: log})
	password, err := accounts.EnsureAdmin(ctx, cfg.DataDir)
	if err != nil {
		closeAll()
		return acc, nil, fmt.Errorf("first admin: %w", err)
	}
	if password != "" {
		log.Warn("first start: created the user admin; this is the one time its password is shown, and it is in the data directory too",
			"login", "admin", "password", password, "file", filepath.Join(cfg.DataDir, auth.AdminPasswordFile))
	}
	secret, err := auth.EnsureDeviceToken(ctx, tokens, cfg.DataDir)
	if err != nil {
		closeAll()
		return acc, nil, fmt.Errorf("first device token: %w", err)
	}
	if secret != "" {
		log.Warn("first start: issued a device token for sending readings; this is the one time it is shown, and it is in the data directory too",
			"token", secret, "file", filepath.Join(cfg.DataDir, auth.DeviceTokenFile))
	}
	// Expired sessions come back to be ended; the sweep frees the ones
	// that never do.
	go every(ctx, 10*time.Minute, func(time.Time) {
		if _, err := sessions.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("session sweep", "err", err)
		}
	})
	acc = server.Access{Authorizer: auth.NewAuthorizer(roles), Accounts: accounts, Tokens: tokens, Audit: audit,
		HTTPS: cfg.HTTPS || cfg.TLSCert != "", TrustedProxies: proxies}
	if cfg.Anonymous {
		acc.Anonymous = []string{"viewer"}
	}
	return acc, closeAll, nil
}
