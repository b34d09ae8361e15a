package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/metrics"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
)

// scrape reads /metrics as Prometheus does.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp := get(t, url+"/metrics", as("admin")...)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v", err)
	}
	return mfs
}

// value is the value of the series of a family with the labels given
// (name, value, …); ok is false when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, p := range m.GetLabel() {
			have[p.GetName()] = p.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// After readings, tiles and a client of the live channel, /metrics counts
// each as it happened.
func TestMetrics(t *testing.T) {
	m := metrics.New(metrics.Options{Catalog: layers.Default()})
	ts, _ := wsServer(t, Options{Metrics: m, CacheBytes: 1 << 20})

	// Three readings, one of them again, one of a sensor that is not.
	resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", "["+reading(7, 2, 10)+","+reading(7, 60, 9)+`,{"sensor":"GAS-9","metric":"ch4_lel","value":1,"ts":"2026-06-01T11:59:00Z"}]`)
	if resp.StatusCode != 200 {
		t.Fatalf("readings: %d %s", resp.StatusCode, b)
	}
	postReadings(t, ts, reading(7, 60, 9))
	tile := ts.URL + "/tiles/gas_pipe/14/13530/6660.mvt"
	for range 2 {
		if resp := get(t, tile); resp.StatusCode != 200 && resp.StatusCode != 204 {
			t.Fatalf("tile: %d", resp.StatusCode)
		}
	}
	get(t, ts.URL+"/tiles/nope/14/13530/6660.mvt")
	c := dial(t, ts, "", nil)
	write(t, c, `{"type":"subscribe","topics":["sensors","alarms"],`+nearGAS1+`,"zoom":16}`)
	if msg := read(t, c); msg.Type != "snapshot" {
		t.Fatalf("got %+v, want a snapshot", msg)
	}

	scrape(t, ts.URL)                                 // counted by the next
	tileStatus := fmt.Sprint(get(t, tile).StatusCode) // as the two above
	mfs := scrape(t, ts.URL)
	for _, w := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"onemap_ingest_accepted_total", nil, 3},
		{"onemap_ingest_duplicates_total", nil, 1},
		{"onemap_ingest_refused_total", []string{"code", "unknown_sensor"}, 1},
		{"onemap_ingest_refused_total", []string{"code", "out_of_range"}, 0},
		{"onemap_tiles_total", []string{"layer", "gas_pipe", "zoom", "14", "status", tileStatus}, 3},
		{"onemap_tiles_total", []string{"layer", "other", "zoom", "14", "status", "404"}, 1},
		{"onemap_tile_duration_seconds", []string{"layer", "gas_pipe", "cache", "hit"}, 2},
		{"onemap_tile_duration_seconds", []string{"layer", "gas_pipe", "cache", "miss"}, 1},
		{"onemap_tile_cache_hits_total", nil, 2},
		{"onemap_tile_cache_misses_total", nil, 1}, // an unknown layer is refused before the cache
		{"onemap_http_requests_total", []string{"route", "/api/v1/readings", "method", "POST", "status", "200"}, 2},
		{"onemap_http_requests_total", []string{"route", "/metrics", "method", "GET", "status", "200"}, 1},
		{"onemap_ws_clients", nil, 1},
		{"onemap_ws_messages_total", []string{"kind", "snapshot"}, 1},
		{"onemap_ws_resyncs_total", []string{"reason", "slow"}, 0},
		{"onemap_alarms_active", []string{"level", "1", "domain", "gas"}, 1},
		{"onemap_alarms_active", []string{"level", "2", "domain", "water"}, 0},
	} {
		got, ok := value(mfs, w.name, w.labels...)
		if !ok || got != w.want {
			t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, got, ok, w.want)
		}
	}
	for _, n := range []string{"go_goroutines", "process_open_fds", "onemap_http_request_duration_seconds"} {
		if mfs[n] == nil {
			t.Errorf("/metrics has no %s", n)
		}
	}
}

// A thousand requests for layers that do not exist make one series, not a
// thousand.
func TestMetricsCardinality(t *testing.T) {
	m := metrics.New(metrics.Options{Catalog: layers.Default()})
	s := New(withTestAccess(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), Metrics: m, CacheBytes: 1 << 20}))
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	var ids []string
	for i := range 1000 {
		get(t, fmt.Sprintf("%s/tiles/bogus%d/%d/0/0.mvt", ts.URL, i, i))
		ids = append(ids, fmt.Sprintf("bogus%d", i))
	}
	get(t, ts.URL+"/tiles/"+strings.Join(ids, ",")+"/14/13530/6660.mvt")
	mfs := scrape(t, ts.URL)
	if n := len(mfs["onemap_tiles_total"].GetMetric()); n > 30 {
		t.Errorf("%d series of onemap_tiles_total after 1,000 bogus layers", n)
	}
	if n := len(mfs["onemap_tile_duration_seconds"].GetMetric()); n != 2 {
		t.Errorf("%d series of onemap_tile_duration_seconds, want other and composite", n)
	}
	if got, _ := value(mfs, "onemap_tiles_total", "layer", "other", "zoom", "other", "status", "400"); got != 1000-25 {
		t.Errorf("bogus layers past zoom 24: %v, want %d", got, 1000-25)
	}
}

// logBuffer is a buffer slog can write to from the server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the access log's lines.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

func TestAccessLog(t *testing.T) {
	tile := "/tiles/gas_pipe/14/13530/6660.mvt"
	for _, tc := range []struct {
		mode AccessLog
		want []string // the route of each line
	}{
		{AccessLogAll, []string{tileRoute, tileRoute, tileRoute, "/api/v1/features/:id"}},
		{AccessLogUncached, []string{tileRoute, tileRoute, "/api/v1/features/:id"}},
		{AccessLogOff, nil},
	} {
		var logs logBuffer
		s := New(withTestAccess(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), CacheBytes: 1 << 20, AccessLog: tc.mode,
			Log: slog.New(slog.NewJSONHandler(&logs, nil))}))
		ts := httptest.NewServer(s.Handler())
		get(t, ts.URL+tile)                    // encoded: logged
		get(t, ts.URL+tile)                    // from the cache: not logged when uncached
		get(t, ts.URL+"/tiles/nope"+tile[15:]) // an error: logged
		get(t, ts.URL+"/api/v1/features/999999")
		ts.Close()
		lines := logs.lines(t)
		if len(lines) != len(tc.want) {
			t.Fatalf("%v: %d lines, want %d: %v", tc.mode, len(lines), len(tc.want), lines)
		}
		for i, l := range lines {
			if l["route"] != tc.want[i] || l["method"] != "GET" || l["remote"] == "" || l["bytes"] == nil || l["ms"] == nil {
				t.Errorf("%v line %d: %v, want route %s and method, status, bytes, ms, remote", tc.mode, i, l, tc.want[i])
			}
			if b, _ := json.Marshal(l); strings.Contains(string(b), "13530") || strings.Contains(string(b), "999999") {
				t.Errorf("line %v holds the path, not only the route", l)
			}
		}
		if tc.mode == AccessLogUncached {
			if lines[1]["status"] != float64(404) || lines[2]["status"] != float64(404) {
				t.Errorf("statuses %v, %v: want 404 for the unknown layer and feature", lines[1]["status"], lines[2]["status"])
			}
		}
	}
	if _, err := ParseAccessLog("some"); err == nil {
		t.Error(`ParseAccessLog("some"): no error`)
	}
}

// The profiler answers on the debug handler and not on the public router.
func TestDebugApart(t *testing.T) {
	pub := testServer(t)
	if resp := get(t, pub.URL+"/debug/pprof/"); resp.StatusCode == 200 {
		t.Errorf("the public router answers /debug/pprof/ with %d", resp.StatusCode)
	}
	dbg := httptest.NewServer(DebugHandler())
	t.Cleanup(dbg.Close)
	resp := get(t, dbg.URL+"/debug/pprof/")
	if b := body(t, resp); resp.StatusCode != 200 || !bytes.Contains(b, []byte("goroutine")) {
		t.Errorf("debug /debug/pprof/: %d %.100s", resp.StatusCode, b)
	}
	if resp := get(t, dbg.URL+"/debug/pprof/goroutine?debug=1"); resp.StatusCode != 200 {
		t.Errorf("goroutine profile: %d", resp.StatusCode)
	}
}
