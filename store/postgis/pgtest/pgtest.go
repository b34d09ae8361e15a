// Package pgtest gives tests a fresh PostgreSQL database of their own on the
// server that ONEMAP_TEST_DATABASE_URL names (scripts/test starts one).
// Without it the test skips, except where ONEMAP_REQUIRE_ALL is set (CI),
// where it fails.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var seq atomic.Int64

// URL creates an empty database for the test and returns its URL; the
// database is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("ONEMAP_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("ONEMAP_REQUIRE_ALL") != "" {
			t.Fatal("ONEMAP_TEST_DATABASE_URL is not set; scripts/test starts a PostgreSQL with PostGIS")
		}
		t.Skip("ONEMAP_TEST_DATABASE_URL is not set; run scripts/test for a PostgreSQL with PostGIS")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("onemap_test_%d_%d", os.Getpid(), seq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("ONEMAP_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
