package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// recorder is an ingest endpoint that keeps what it receives.
type recorder struct {
	mu       sync.Mutex
	bodies   [][]byte
	types    []string
	auth     []string
	paths    []string
	answer   func(n int, body []byte) int // status for the n-th request, from 0
	requests int
	all      [][]byte // every request's body, answered or refused
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	n := rec.requests
	rec.requests++
	rec.all = append(rec.all, body)
	status := http.StatusOK
	if rec.answer != nil {
		status = rec.answer(n, body)
	}
	if status == http.StatusOK {
		rec.bodies = append(rec.bodies, body)
		rec.types = append(rec.types, r.Header.Get("Content-Type"))
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.paths = append(rec.paths, r.URL.Path)
	}
	rec.mu.Unlock()
	if status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	var rs []json.RawMessage
	if err := json.Unmarshal(body, &rs); err != nil {
		rs = nil
		for line := range bytes.Lines(body) {
			rs = append(rs, line)
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"accepted": len(rs), "refused": []any{}})
}

// readings decodes everything the recorder accepted.
func (rec *recorder) readings(t *testing.T) []map[string]any {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []map[string]any
	for i, b := range rec.bodies {
		var rs []map[string]any
		if rec.types[i] == "application/x-ndjson" {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				var r map[string]any
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("NDJSON line %q: %v", sc.Text(), err)
				}
				rs = append(rs, r)
			}
		} else if err := json.Unmarshal(b, &rs); err != nil {
			t.Fatalf("body %d is not a JSON array: %v", i, err)
		}
		out = append(out, rs...)
	}
	return out
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// runFor runs the simulator against url until d has passed.
func runFor(t *testing.T, o Options, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if o.City == nil {
		o.City = sampleCity(t)
	}
	if o.Log == nil {
		o.Log = quiet()
	}
	return Run(ctx, o)
}

func TestRunBatches(t *testing.T) {
	for _, ndjson := range []bool{false, true} {
		rec := &recorder{}
		srv := httptest.NewServer(rec)
		err := runFor(t, Options{URL: srv.URL, Token: "dev-1", Rate: 3000, BatchSize: 100, NDJSON: ndjson}, 1500*time.Millisecond)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		rs := rec.readings(t)
		if len(rs) < 1000 {
			t.Fatalf("ndjson %v: %d readings in 1.5 s at 3,000/s", ndjson, len(rs))
		}
		for i := range rec.bodies {
			want := "application/json"
			if ndjson {
				want = "application/x-ndjson"
			}
			if rec.types[i] != want || rec.auth[i] != "Bearer dev-1" || rec.paths[i] != "/api/v1/readings" {
				t.Fatalf("request %d: type %q, auth %q, path %q", i, rec.types[i], rec.auth[i], rec.paths[i])
			}
		}
		for _, r := range rs {
			if _, ok := r["sensor"].(float64); !ok || r["metric"] == "" || r["unit"] == nil {
				t.Fatalf("reading %v", r)
			}
			if _, err := time.Parse(time.RFC3339, r["ts"].(string)); err != nil {
				t.Fatalf("ts: %v", err)
			}
		}
		for i, b := range rec.bodies {
			var n int
			if ndjson {
				n = bytes.Count(b, []byte("\n"))
			} else {
				var rs []json.RawMessage
				_ = json.Unmarshal(b, &rs)
				n = len(rs)
			}
			if n == 0 || n > 100 {
				t.Fatalf("batch %d holds %d readings, want 1 to 100", i, n)
			}
		}
	}
}

// TestRunRetries has the server answer 503 twice: the same batch comes
// through afterwards and nothing is lost or sent twice.
func TestRunRetries(t *testing.T) {
	var failed [][]byte
	rec := &recorder{answer: func(n int, body []byte) int {
		if n < 2 {
			failed = append(failed, body)
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if err := runFor(t, Options{URL: srv.URL, Rate: 500, BatchSize: 50}, 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(failed) != 2 || len(rec.bodies) == 0 {
		t.Fatalf("%d failed requests, %d accepted", len(failed), len(rec.bodies))
	}
	if !bytes.Equal(failed[0], failed[1]) || !bytes.Equal(failed[0], rec.bodies[0]) {
		t.Error("the retried batch is not the one that failed")
	}
	seen := map[string]bool{}
	for _, b := range rec.bodies {
		if seen[string(b)] {
			t.Error("a batch was sent twice")
		}
		seen[string(b)] = true
	}
}

// TestRunSplitsTooLarge has the server refuse batches over 20 readings with
// 413: they arrive in halves.
func TestRunSplitsTooLarge(t *testing.T) {
	rec := &recorder{answer: func(_ int, body []byte) int {
		var rs []json.RawMessage
		_ = json.Unmarshal(body, &rs)
		if len(rs) > 20 {
			return http.StatusRequestEntityTooLarge
		}
		return http.StatusOK
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if err := runFor(t, Options{URL: srv.URL, Rate: 500, BatchSize: 64}, time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.readings(t)); n < 200 {
		t.Errorf("%d readings arrived", n)
	}
}

func TestRunRefusedToken(t *testing.T) {
	rec := &recorder{answer: func(int, []byte) int { return http.StatusUnauthorized }}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	start := time.Now()
	err := runFor(t, Options{URL: srv.URL, Token: "wrong", Rate: 500}, 10*time.Second)
	if !errors.Is(err, ErrRefused) {
		t.Errorf("err %v, want ErrRefused", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("Run went on after the token was refused")
	}
}

// TestRunCancel cancels while the server hangs: Run returns promptly.
func TestRunCancel(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{URL: srv.URL, City: sampleCity(t), Rate: 1000, Log: quiet()}) }()
	select { // Run is waiting for the server
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("Run sent nothing within 10 s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not stop within 3 s of cancel")
	}
}

func TestRunBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"NoURL":    {},
		"FTP":      {URL: "ftp://example.com"},
		"Negative": {URL: "http://localhost:1", Rate: -1},
	} {
		t.Run(name, func(t *testing.T) {
			o.City = sampleCity(t)
			if err := Run(context.Background(), o); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestRunSpeed runs an hour ago at 600× speed: simulated time races until
// it reaches the present and never passes it.
func TestRunSpeed(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	start := time.Now().Add(-time.Hour)
	if err := runFor(t, Options{URL: srv.URL, Speed: 600, Start: start, BatchSize: 5000}, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, r := range rec.readings(t) {
		ts, _ := time.Parse(time.RFC3339, r["ts"].(string))
		if ts.After(last) {
			last = ts
		}
	}
	if last.Before(start.Add(5*time.Minute)) || last.After(time.Now()) {
		t.Errorf("last reading at %v; start %v, now %v", last, start, time.Now())
	}
}

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	o := Flags(fs)
	err := fs.Parse([]string{"--url", "http://example.com:9", "--rate", "50", "--speed", "2", "--token", "T",
		"--scenario", "gas-leak-school,tunnel-methane", "--start", "-1h", "--ndjson", "--batch", "10"})
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != "http://example.com:9" || o.Rate != 50 || o.Speed != 2 || o.Token != "T" || !o.NDJSON || o.BatchSize != 10 {
		t.Errorf("options %+v", o)
	}
	if len(o.Scenarios) != 2 || o.Scenarios[0].ID != "gas-leak-school" || o.Scenarios[1].ID != "tunnel-methane" {
		t.Errorf("scenarios %v", o.Scenarios)
	}
	if d := time.Since(o.Start); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("start %v", o.Start)
	}
	fs = flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Flags(fs)
	if err := fs.Parse([]string{"--scenario", "no-such"}); err == nil {
		t.Error("an unknown scenario: no error")
	}
}

// TestRetriesFlag: --retries 0 tries each batch once and gives it up; a
// bad count is refused.
func TestRetriesFlag(t *testing.T) {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := Flags(fs)
	if err := fs.Parse([]string{"--retries", "0", "--rate", "500", "--batch", "50"}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{answer: func(int, []byte) int { return http.StatusServiceUnavailable }}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	o.URL = srv.URL
	_ = runFor(t, *o, 1200*time.Millisecond) // every batch is given up: an error is expected
	rec.mu.Lock()
	seen := map[string]int{}
	for _, b := range rec.all {
		seen[string(b)]++
	}
	rec.mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("nothing was sent")
	}
	for _, n := range seen {
		if n != 1 {
			t.Fatalf("a batch was tried %d times with --retries 0", n)
		}
	}
	for _, bad := range []string{"-1", "many", "100000"} {
		fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		Flags(fs)
		if err := fs.Parse([]string{"--retries", bad}); err == nil {
			t.Errorf("--retries %s was taken", bad)
		}
	}
}
