package postgis

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // the pgx5:// driver
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate brings the database at url to the newest schema. It is safe to run
// from several processes at once: the migrations take a lock.
func Migrate(ctx context.Context, url string) error {
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgis: migrations: %w", err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, migrateURL(url))
	if err != nil {
		return fmt.Errorf("postgis: migrate: %w", err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Up() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		m.GracefulStop <- true
		err = <-done
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("postgis: migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the version of the newest migration applied.
func SchemaVersion(url string) (version uint, dirty bool, err error) {
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return 0, false, err
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, migrateURL(url))
	if err != nil {
		return 0, false, fmt.Errorf("postgis: migrate: %w", err)
	}
	defer m.Close()
	return m.Version()
}

// migrateURL names the pgx v5 driver of the migration library.
func migrateURL(url string) string {
	url = withoutPoolParams(url)
	for _, p := range []string{"postgres://", "postgresql://"} {
		if rest, ok := strings.CutPrefix(url, p); ok {
			return "pgx5://" + rest
		}
	}
	return url
}
