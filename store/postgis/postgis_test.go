package postgis_test

import (
	"context"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/onemap/onemap/store/storetest"
)

// open loads c into a fresh database and opens a store on it.
func open(t *testing.T, c *city.City) *postgis.Store {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	cat := layers.Default()
	s, err := postgis.Open(ctx, url, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgis.Load(ctx, s.Pool(), cat, c, postgis.LoadOptions{}); err != nil {
		s.Close()
		t.Fatal(err)
	}
	// Loading notifies; wait until the store has heard of it.
	if err := s.Sync(ctx); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, c *city.City) store.Store { return open(t, c) })
}
