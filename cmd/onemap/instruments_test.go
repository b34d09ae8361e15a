package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
)

// freeAddr returns a local address no one listens on, for a listener the
// test names before the server starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// get returns a GET's status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return getAs(t, url, "")
}

// getAs is get with a bearer token, if not empty.
func getAs(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// scraped sums the samples of a scrape in the Prometheus text format named
// name whose labels include every one of labels (`layer="building"`), and
// says whether there was one.
func scraped(text, name string, labels ...string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, ls, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(ls, l)
		}
		if !all {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			continue
		}
		sum, found = sum+v, true
	}
	return sum, found
}

// After a tile and a reading, /metrics counts them, the journal's fsyncs
// and the Go runtime; the profiler answers on --debug-addr alone; and the
// curl examples of README's "Watching the server" answer as it says.
func TestServeInstruments(t *testing.T) {
	debug := freeAddr(t)
	dir := t.TempDir()
	url := startServer(t, "--debug-addr", debug, "--data-dir", dir)
	// The scraper's token, issued as README says.
	var out strings.Builder
	if err := run(context.Background(), []string{"tokens", "add", "--data-dir", dir, "--name", "prometheus", "--scopes", "metrics"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^token: (om_\S+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("tokens add printed %q", out.String())
	}
	metricsToken := m[1]

	var cat struct{ City struct{ Center orb.Point } }
	getJSON(t, url+"/catalog", &cat)
	tl := tiles.Covering(orb.Bound{Min: cat.City.Center, Max: cat.City.Center}, 15)[0]
	if code, b := get(t, url+"/tiles/building/"+tl.String()+".mvt"); code != 200 && code != 204 {
		t.Fatalf("tile: %d %s", code, b)
	}
	sensor := firstSensor(t, url, "ch4_lel")
	if status, code, _ := postReadings(t, url, readingsBody(sensor, time.Now().Add(-time.Minute), 0, 1)); status != 200 {
		t.Fatalf("reading: %d %s", status, code)
	}

	if code, _ := get(t, url+"/metrics"); code != 401 {
		t.Errorf("/metrics without a token: %d, want 401", code)
	}
	code, text := getAs(t, url+"/metrics", metricsToken)
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, text)
	}
	for _, want := range []struct {
		name    string
		labels  []string
		atLeast float64
	}{
		{"onemap_tiles_total", []string{`layer="building"`, `zoom="15"`}, 1},
		{"onemap_tile_duration_seconds_count", []string{`layer="building"`, `cache="miss"`}, 1},
		{"onemap_tile_cache_misses_total", nil, 1},
		{"onemap_ingest_accepted_total", nil, 1},
		{"onemap_ingest_refused_total", []string{`code="unknown_sensor"`}, 0},
		{"onemap_journal_fsync_seconds_count", nil, 1},
		{"onemap_journal_records_total", nil, 1},
		{"onemap_http_requests_total", []string{`route="/api/v1/readings"`, `method="POST"`, `status="200"`}, 1},
		{"onemap_alarms_active", []string{`level="1"`, `domain="gas"`}, 0},
		{"onemap_ws_clients", nil, 0},
		{"go_goroutines", nil, 1},
	} {
		v, ok := scraped(text, want.name, want.labels...)
		if !ok || v < want.atLeast {
			t.Errorf("%s%v = %v (present %v), want at least %v", want.name, want.labels, v, ok, want.atLeast)
		}
	}

	if code, b := get(t, url+"/readyz"); code != 200 || !strings.Contains(b, `"ready"`) {
		t.Errorf("/readyz: %d %s", code, b)
	}
	if code, b := get(t, "http://"+debug+"/debug/pprof/"); code != 200 || !strings.Contains(b, "goroutine") {
		t.Errorf("profiler on --debug-addr: %d %.200s", code, b)
	}
	if code, _ := get(t, "http://"+debug+"/debug/pprof/goroutine?debug=1"); code != 200 {
		t.Errorf("goroutine profile on --debug-addr: %d", code)
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1"} {
		if code, _ := get(t, url+p); code != 404 {
			t.Errorf("public %s: %d, want 404", p, code)
		}
	}

	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("README's examples need curl:", err)
	}
	cmds := readmeShell(t, "Watching the server", map[string]string{"localhost:8080": strings.TrimPrefix(url, "http://"), "127.0.0.1:6060": debug}, "curl")
	wants := []string{`{"status":"ready"}`, "onemap_ingest_accepted_total 1", "goroutine profile:"}
	if len(cmds) != len(wants) {
		t.Fatalf("README's curl examples: %q, want readyz, metrics and the profiler", cmds)
	}
	for i, words := range cmds {
		line := strings.Join(words, " ")
		sh := exec.Command("sh", "-c", line)
		sh.Env = append(os.Environ(), "METRICS_TOKEN="+metricsToken)
		out, err := sh.CombinedOutput()
		if err != nil || !strings.Contains(string(out), wants[i]) {
			t.Errorf("%s: %v\n%s\nwant %q in it", line, err, out, wants[i])
		}
		if i == 1 && !strings.Contains(string(out), `onemap_tiles_total{layer="building"`) {
			t.Errorf("%s:\n%s\nwant the building tile counted", line, out)
		}
	}
}

// With an MQTT broker asked for and not reachable, /readyz answers 503
// and says so, while /healthz still answers: the server is alive.
func TestReadyzWithoutBroker(t *testing.T) {
	url := startServer(t, "--mqtt", "tcp://"+freeAddr(t))
	var ready struct {
		Status  string
		Reasons []struct{ Check, Message string }
	}
	code, b := get(t, url+"/readyz")
	if err := json.Unmarshal([]byte(b), &ready); err != nil || code != 503 || ready.Status != "not_ready" ||
		len(ready.Reasons) != 1 || ready.Reasons[0].Check != "mqtt" {
		t.Errorf("/readyz: %d %s, want 503 with the reason mqtt", code, b)
	}
	if code, b := get(t, url+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, b)
	}
}

// The access log writes a line for each request but the tiles the cache
// answered, by default; with ONEMAP_ACCESS_LOG=all, for those too.
func TestAccessLog(t *testing.T) {
	for _, tt := range []struct {
		name  string
		env   string // ONEMAP_ACCESS_LOG, "" for unset
		tiles int    // lines for the same tile asked for twice
	}{
		{"Default", "", 1},
		{"All", "all", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ONEMAP_ACCESS_LOG", tt.env) // the child's, restored after
			if tt.env == "" {
				os.Unsetenv("ONEMAP_ACCESS_LOG")
			}
			var log syncBuffer
			_, url := startLogged(t, &log, "--data-dir", t.TempDir())
			var cat struct{ City struct{ Center orb.Point } }
			getJSON(t, url+"/catalog", &cat)
			tile := url + "/tiles/building/" + tiles.Covering(orb.Bound{Min: cat.City.Center, Max: cat.City.Center}, 15)[0].String() + ".mvt"
			for range 2 {
				if code, _ := get(t, tile); code != 200 && code != 204 {
					t.Fatalf("tile: %d", code)
				}
			}
			// Requests are answered in turn: the line of /healthz comes
			// after any of the tiles'.
			get(t, url+"/healthz")
			healthz := func() int { return log.count("INFO", "msg=request", "route=/healthz") }
			for deadline := time.Now().Add(10 * time.Second); healthz() == 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if healthz() != 1 {
				t.Fatalf("no access log line for /healthz:\n%s", log.String())
			}
			line := []string{"msg=request", "method=GET", "route=/tiles/:layers/:z/:x/:y", "bytes=", "ms=", "remote=127.0.0.1:"}
			if n := log.count("INFO", line...); n != tt.tiles {
				t.Errorf("%d access log lines for the tile asked for twice, want %d:\n%s", n, tt.tiles, log.String())
			}
			if strings.Contains(log.String(), "/tiles/building/") {
				t.Errorf("the access log holds a path, which may hold a token:\n%s", log.String())
			}
		})
	}
}
