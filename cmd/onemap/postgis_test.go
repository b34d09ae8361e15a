package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	// Ready: the database answers /readyz's ping.
	if code, b := get(t, pg+"/readyz"); code != 200 {
		t.Errorf("/readyz on PostGIS: %d %s", code, b)
	}

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

// TestEditInvalidatesTiles edits a pipe in the database as another GIS tool
// would, and finds the served tile and its ETag changed.
func TestEditInvalidatesTiles(t *testing.T) {
	db := pgtest.URL(t)
	if err := run(context.Background(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("load: %v", err)
	}
	url := startServer(t, "--db", db)
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	id, tile := firstGasPipeTile(t, conn)
	etag := func() string { return etagOf(t, url+tile) }
	before := etag()
	if before != etag() {
		t.Fatal("the ETag changes with nothing edited")
	}
	if _, err := conn.Exec(context.Background(), `UPDATE gas_pipe SET diameter_mm = diameter_mm + 1 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for etag() == before {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the tile did not change within 10 s of the edit")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("tile changed %v after the edit", time.Since(start).Round(time.Millisecond))
}

// firstGasPipeTile returns the first gas pipe of the database and the path
// of the z16 gas pipe tile its start is in.
func firstGasPipeTile(t *testing.T, conn *pgx.Conn) (int64, string) {
	t.Helper()
	var id int64
	var lon, lat float64
	if err := conn.QueryRow(context.Background(), `SELECT id, ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)) FROM gas_pipe ORDER BY id LIMIT 1`).Scan(&id, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	p := orb.Point{lon, lat}
	return id, "/tiles/gas_pipe/16/" + strings.TrimPrefix(tiles.Covering(orb.Bound{Min: p, Max: p}, 16)[0].String(), "16/") + ".mvt"
}

// etagOf returns the ETag of a tile's answer.
func etagOf(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", url, resp.StatusCode)
	}
	return resp.Header.Get("ETag")
}

// TestGasNeighbourhoodAgrees asks both stores for the sample city's whole
// gas neighbourhood: the same spaces, the same nearest pipes, the same
// metres, the same sensors watching them and the same people around.
func TestGasNeighbourhoodAgrees(t *testing.T) {
	db := pgtest.URL(t)
	if err := run(context.Background(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("load: %v", err)
	}
	type space struct {
		ID        uint64
		Pipe      uint64
		DistanceM float64 `json:"distance_m"`
		Sensor    uint64
		People    float64
	}
	spaces := func(analyst *webSession) map[uint64]space {
		code, b, err := analyst.do("GET", "/api/v1/analysis/gas-neighbourhood?limit=100000", "")
		var a struct{ Spaces []space }
		if err != nil || code != 200 || json.Unmarshal([]byte(b), &a) != nil {
			t.Fatalf("%s: %d %v", analyst.url, code, err)
		}
		out := map[uint64]space{}
		for _, s := range a.Spaces {
			out[s.ID] = s
		}
		return out
	}
	dir := t.TempDir()
	memURL, pgURL := startServer(t, "--data-dir", dir), startServer(t, "--db", db)
	mem, pg := spaces(apiLogIn(t, memURL, dir, "", "zhao", "analyst")), spaces(apiLogIn(t, pgURL, "", db, "zhao", "analyst"))
	if len(mem) < 1000 || len(mem) != len(pg) {
		t.Fatalf("%d spaces from memory, %d from PostGIS", len(mem), len(pg))
	}
	for id, m := range mem {
		p, ok := pg[id]
		// A space equally near two pipes may name either.
		if !ok || math.Abs(m.DistanceM-p.DistanceM) > 0.02 || m.Sensor != p.Sensor || m.People != p.People {
			t.Errorf("space %d: memory %+v, PostGIS %+v", id, m, p)
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

// TestUsersCommandPostGIS runs onemap users with --db: the users are in the
// database, where a server started with the same --db finds them, and the
// audit log stays in the data directory.
func TestUsersCommandPostGIS(t *testing.T) {
	testUsersCommand(t, accountsUnder{dir: t.TempDir(), db: pgtest.URL(t)})
}

// TestTokensCommandPostGIS runs onemap tokens with --db.
func TestTokensCommandPostGIS(t *testing.T) {
	testTokensCommand(t, accountsUnder{dir: t.TempDir(), db: pgtest.URL(t)})
}
