package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

// TestLoadAndServePostGIS loads the sample city into PostGIS with onemap
// load and serves it with onemap serve --db: the same tiles, ids and all.
func TestLoadAndServePostGIS(t *testing.T) {
	db := pgtest.URL(t)
	var out strings.Builder
	if err := run(context.Background(), []string{"load", "--db", db, "--quiet"}, &out, io.Discard); err != nil {
		t.Fatalf("load: %v", err)
	}
	if !strings.Contains(out.String(), "loaded") {
		t.Errorf("load said %q", out.String())
	}
	// Loading again replaces.
	if err := run(context.Background(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("second load: %v", err)
	}
	pg := startServer(t, "--db", db)
	mem := startServer(t)

	// The same composite tile over the city centre from both stores holds the
	// same ids per layer.
	resp, err := http.Get(mem + "/catalog")
	if err != nil {
		t.Fatal(err)
	}
	var cat struct{ City struct{ Center orb.Point } }
	json.NewDecoder(resp.Body).Decode(&cat)
	resp.Body.Close()
	tl := tiles.Covering(orb.Bound{Min: cat.City.Center, Max: cat.City.Center}, 15)[0]
	path := "/tiles/gas_pipe,water_pipe,drain_pipe,gas_node,protective_target,building/" + tl.String() + ".mvt"
	ids := func(base string) map[string]map[uint64]bool {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", base, resp.StatusCode, b)
		}
		ls, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[uint64]bool{}
		for _, l := range ls {
			out[l.Name] = map[uint64]bool{}
			for _, f := range l.Features {
				out[l.Name][uint64(f.ID.(float64))] = true
			}
		}
		return out
	}
	a, b := ids(mem), ids(pg)
	if len(a) == 0 {
		t.Fatal("the memory tile is empty; pick a tile in the city")
	}
	for layer, want := range a {
		got := b[layer]
		for id := range want {
			if !got[id] {
				t.Errorf("%s: feature %d in the memory tile but not in PostGIS's", layer, id)
			}
		}
		for id := range got {
			if !want[id] {
				t.Errorf("%s: feature %d in PostGIS's tile but not in memory's", layer, id)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"NoDB", []string{"load", "--db", ""}, "--db or DATABASE_URL"},
		{"BadSRID", []string{"load", "--db", "postgres://x@127.0.0.1:1/x", "--srid", "-4"}, "--srid"},
		{"MigrateNoDB", []string{"migrate", "--db", ""}, "--db or DATABASE_URL"},
		{"CityAndDB", []string{"serve", "--db", "postgres://x@127.0.0.1:1/x", "--city", "x"}, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
