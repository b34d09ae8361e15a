package postgis_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// TestDirectory keeps the sample directory in the tables and reads it back
// the same, resolves a warning's recipients from it as from the file, and
// refuses rows that break it.
func TestDirectory(t *testing.T) {
	ctx := context.Background()
	s, err := postgis.Open(ctx, pgtest.URL(t), layers.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d := s.Directory()
	if _, err := d.Directory(ctx); !errors.Is(err, postgis.ErrNoDirectory) {
		t.Fatalf("empty tables: err %v, want ErrNoDirectory", err)
	}

	want := directory.Default()
	if err := d.Replace(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := d.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonOf(t, got.File()), jsonOf(t, want.File()); g != w {
		t.Fatalf("read back:\n%s\nwant\n%s", g, w)
	}
	q := directory.Query{Level: 2, Domain: "gas", OwnerUnit: "滨湖燃气公司", Districts: []string{"方兴街道"}}
	if g, w := jsonOf(t, got.Resolve(q)), jsonOf(t, want.Resolve(q)); g != w || len(want.Resolve(q)) == 0 {
		t.Fatalf("recipients from the tables:\n%s\nfrom the file:\n%s", g, w)
	}

	// A person moved by hand to a unit that does not exist is refused by
	// the database; a superior loop, which it cannot see, by the check
	// on reading.
	if _, err := s.Pool().Exec(ctx, `UPDATE directory_person SET unit = 'nowhere' WHERE position = 0`); err == nil {
		t.Fatal("a person in a unit that does not exist was kept")
	}
	f := want.File()
	a, b := f.People[0].ID, f.People[1].ID
	if _, err := s.Pool().Exec(ctx, `UPDATE directory_person SET superior = CASE id WHEN $1 THEN $2 ELSE $1 END WHERE id IN ($1, $2)`, a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Directory(ctx); !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), "in the database") {
		t.Fatalf("a loop of superiors: err %v, want a directory error", err)
	}

	// Replacing is whole: a smaller directory leaves nothing of the old.
	f.Units, f.People = f.Units[:0], f.People[:0]
	small, err := directory.New(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Replace(ctx, small); err != nil {
		t.Fatal(err)
	}
	got, err = d.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.File().People); n != 0 {
		t.Fatalf("after replacing with no people, %d people", n)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
