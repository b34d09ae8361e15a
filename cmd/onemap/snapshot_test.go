package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/store/storetest"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
)

// get returns the body of a GET, failing the test on any status but 200.
func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

// A city's second start reads its snapshot, serves the same tiles and the
// same problems, and reads the files again once they change.
func TestServeSnapshot(t *testing.T) {
	dir, data := warnedCity(t), t.TempDir()
	tl := tiles.Covering(orb.Bound{Min: storetest.At(0, 0), Max: storetest.At(1, 1)}, 14)[0]
	tile := "/tiles/gas_pipe,water_pipe,sensor/" + tl.String() + ".mvt"
	serve := func() (string, []byte, []byte) {
		var log syncBuffer
		cmd, url := startLogged(t, &log, "--data-dir", data, "--city", dir)
		b, q := getBody(t, url+tile), getBody(t, url+"/api/v1/quality")
		stopChild(t, cmd)
		return log.String(), b, q
	}
	log, tile1, quality1 := serve()
	if !strings.Contains(log, "city snapshot written") || strings.Contains(log, "read from its snapshot") {
		t.Fatalf("first start:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(data, "city.snap")); err != nil {
		t.Fatal(err)
	}
	log, tile2, quality2 := serve()
	if !strings.Contains(log, "city read from its snapshot") {
		t.Fatalf("second start:\n%s", log)
	}
	if !bytes.Equal(tile1, tile2) || len(tile1) == 0 {
		t.Errorf("tile: %d bytes from the snapshot, %d from the files", len(tile2), len(tile1))
	}
	if !bytes.Equal(quality1, quality2) || !bytes.Contains(quality2, []byte("gas_pipes.geojson")) {
		t.Errorf("quality from the snapshot %s, from the files %s", quality2, quality1)
	}
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(filepath.Join(dir, "gas_pipe.geojson"), later, later); err != nil {
		t.Fatal(err)
	}
	log, _, _ = serve()
	if !strings.Contains(log, "changed since its snapshot") || !strings.Contains(log, "city snapshot written") {
		t.Errorf("start after a file changed:\n%s", log)
	}
}

// onemap load --snapshot writes a snapshot that serve --snapshot serves
// alone; a damaged one stops serve with the reason.
func TestLoadSnapshot(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "city.snap")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"load", "--snapshot", snap, "--city", warnedCity(t)}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "wrote the snapshot of") {
		t.Errorf("load said %q", stdout.String())
	}
	url := startServer(t, "--snapshot", snap)
	if b := getBody(t, url+"/catalog"); !bytes.Contains(b, []byte(`"city"`)) {
		t.Errorf("catalog %s", b)
	}
	if b := getBody(t, url+"/api/v1/quality"); !bytes.Contains(b, []byte("gas_pipes.geojson")) {
		t.Errorf("quality %s", b)
	}

	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)*3/4] ^= 1 // in the arrays, past the header
	os.WriteFile(snap, b, 0o600)
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--snapshot", snap}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--snapshot "+snap) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("serve of a damaged snapshot: %v", err)
	}
	err = run(context.Background(), []string{"serve", "--db", "postgres://x@127.0.0.1:1/x", "--snapshot", snap}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--snapshot is the memory store's") {
		t.Errorf("--snapshot with --db: %v", err)
	}
}
