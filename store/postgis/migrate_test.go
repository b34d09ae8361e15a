package postgis

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// Attributes added after the first migration are in the catalog and may be
// missing from old rows.
func TestLaterFields(t *testing.T) {
	cat := layers.Default()
	for layer, fs := range laterFields {
		l, err := cat.Layer(layer)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range fs {
			f, ok := l.Field(name)
			if !ok {
				t.Errorf("%s.%s is not in the catalog", layer, name)
			}
			if f.Required {
				t.Errorf("%s.%s is required; rows from before migration %d have none", layer, name, v)
			}
			if v < 2 {
				t.Errorf("%s.%s: migration %d is not a later one", layer, name, v)
			}
		}
	}
}

// A database from before the contacts columns keeps the contacts that
// extra held: migration 4 moves them into their columns, and going back
// moves them into extra again.
func TestContactsMigration(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, migrateURL(url))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Migrate(3); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	id := int64(layers.MakeID(22, 1))
	if _, err := conn.Exec(ctx, `INSERT INTO protective_target (id, geom, name, kind, extra)
		VALUES ($1, ST_SetSRID(ST_MakePoint(117.26, 31.84), 4326), '滨河小学', 'school',
		'{"contact": "王建伟", "contact_phone": "13812345678", "motto": "勤学"}')`, id); err != nil {
		t.Fatal(err)
	}
	read := func() (contact, phone *string, extra map[string]any) {
		t.Helper()
		var raw []byte
		if err := conn.QueryRow(ctx, `SELECT contact, contact_phone, extra::text FROM protective_target WHERE id = $1`, id).Scan(&contact, &phone, &raw); err != nil {
			t.Fatal(err)
		}
		if raw != nil {
			if err := json.Unmarshal(raw, &extra); err != nil {
				t.Fatal(err)
			}
		}
		return contact, phone, extra
	}

	if err := Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	contact, phone, extra := read()
	if contact == nil || *contact != "王建伟" || phone == nil || *phone != "13812345678" {
		t.Errorf("after migration 4: contact %v, phone %v", contact, phone)
	}
	if !maps.Equal(extra, map[string]any{"motto": "勤学"}) {
		t.Errorf("after migration 4: extra %v, want the motto alone", extra)
	}

	if err := m.Migrate(3); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'protective_target' AND column_name IN ('contact', 'contact_phone')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("after going back: %d contact columns, want none", n)
	}
	var raw []byte
	if err := conn.QueryRow(ctx, `SELECT extra::text FROM protective_target WHERE id = $1`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	extra = nil
	if err := json.Unmarshal(raw, &extra); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"contact": "王建伟", "contact_phone": "13812345678", "motto": "勤学"}; !maps.Equal(extra, want) {
		t.Errorf("after going back: extra %v, want %v", extra, want)
	}
}

// A database that cannot be opened is refused with the real cause first,
// not the TLS attempt a client makes before it: the database or the user
// does not exist, nothing listens there.
func TestOpenSaysWhy(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = "" // sslmode=prefer: TLS is tried and refused first
	noDB, noUser := *u, *u
	noDB.Path = "/no_such_database"
	noUser.User = url.User("no_such_user")
	for _, c := range []struct {
		name, url, want string
	}{
		{"NoDatabase", noDB.String(), `postgis: database "no_such_database" does not exist on ` + u.Host + `: create it (createdb no_such_database)`},
		{"NoUser", noUser.String(), `postgis: ` + u.Host + ` refuses user "no_such_user"`},
		{"NothingListens", "postgres://onemap@127.0.0.1:1/x", "postgis: cannot reach 127.0.0.1:1: is PostgreSQL running"},
		{"NotAURL", "mysql://x", "postgis: --db is not a PostgreSQL URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(context.Background(), c.url, layers.Default(), nil)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "tls error") {
				t.Fatalf("err %v\nwant it to begin %q", err, c.want)
			}
		})
	}
}
