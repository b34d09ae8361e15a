package postgis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// The pool's size is a setting of the database URL (pool_max_conns, as
// pgxpool reads it), taken by serve without the migrations or the check of
// the connection sending it to PostgreSQL; without it, DefaultPoolSize.
func TestPoolSize(t *testing.T) {
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, c := range []struct {
		url  string
		want int32
	}{
		{url + sep + "pool_max_conns=7&pool_max_conn_idle_time=1m", 7},
		{url, postgis.DefaultPoolSize},
	} {
		st, err := postgis.Open(context.Background(), c.url, layers.Default(), nil)
		if err != nil {
			t.Fatalf("Open(%s): %v", c.url, err)
		}
		if got := st.Pool().Config().MaxConns; got != c.want {
			t.Errorf("%s: pool of %d connections, want %d", c.url, got, c.want)
		}
		st.Close()
	}
	if postgis.DefaultPoolSize < 16 {
		t.Errorf("DefaultPoolSize %d: a wall of 8 screens would queue", postgis.DefaultPoolSize)
	}
}
