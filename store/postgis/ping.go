package postgis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Ping tells whether the database answers: nil once a connection of the
// pool has run a round trip within ctx.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgis: ping: %w", err)
	}
	return nil
}

// ErrNotLoaded is the answer of Loaded for a database that holds no city.
var ErrNotLoaded = errors.New("the database holds no city yet: run onemap load --db URL [--city DIR]")

// Loaded tells whether the database holds a city: nil once onemap load
// has put one there, ErrNotLoaded before.
func (s *Store) Loaded(ctx context.Context) error {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM city)`).Scan(&ok); err != nil {
		return fmt.Errorf("postgis: read city: %w", err)
	}
	if !ok {
		return ErrNotLoaded
	}
	return nil
}

// connectTimeout bounds the first connection Open makes.
const connectTimeout = 15 * time.Second

// checkConnect makes one connection to url and tells why it cannot, in
// the words of the real cause: the database or the user does not exist,
// the password is wrong, nothing listens there. A client that tries TLS
// first and then plain text lists both attempts; the server's own answer
// is the cause, not the refused TLS.
func checkConnect(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(withoutPoolParams(url))
	if err != nil {
		return fmt.Errorf("postgis: --db is not a PostgreSQL URL (postgres://user@host:port/db): %w", err)
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > connectTimeout {
		cfg.ConnectTimeout = connectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn.Close(ctx)
	}
	where := fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "3D000":
			return fmt.Errorf("postgis: database %q does not exist on %s: create it (createdb %s) or fix --db: %w", cfg.Database, where, cfg.Database, pe)
		case "28P01", "28000":
			return fmt.Errorf("postgis: %s refuses user %q: check the user and password in --db: %w", where, cfg.User, pe)
		}
		return fmt.Errorf("postgis: %s: %w", where, pe)
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return fmt.Errorf("postgis: cannot reach %s: is PostgreSQL running and listening there? %w", where, ne)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("postgis: %s did not answer within %s: %w", where, cfg.ConnectTimeout, err)
	}
	return fmt.Errorf("postgis: connect to %s: %w", where, err)
}
