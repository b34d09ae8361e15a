package postgis

import (
	"net/url"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultPoolSize is the connections the store's pool holds when the
// database URL does not say (pool_max_conns): enough for the tile requests
// of a busy wall of screens and the writes beside them, far below
// PostgreSQL's default of 100.
var DefaultPoolSize = int32(max(16, 4*runtime.NumCPU()))

// withoutPoolParams is the database URL without the pool's own parameters
// (pool_max_conns and the other pool_*), which pgxpool reads and a single
// connection would send to PostgreSQL as settings it does not know. A URL
// that does not parse is returned as it is, for the parser to explain.
func withoutPoolParams(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
			changed = true
		}
	}
	if !changed {
		return raw
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// poolConfig parses the database URL for the store's pool, with
// DefaultPoolSize unless the URL sets pool_max_conns.
func poolConfig(raw string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(raw); err != nil || !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = DefaultPoolSize
	}
	return cfg, nil
}
