package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
	"github.com/onemap/onemap/wal"
	"github.com/paulmach/orb"
)

// failingJournal refuses writes with err while it is set, as the
// write-ahead log does while its disk is full, and reports it as Health.
type failingJournal struct {
	live.Journal
	mu  sync.Mutex
	err error
}

func (j *failingJournal) fail(err error) { j.mu.Lock(); j.err = err; j.mu.Unlock() }

func (j *failingJournal) Health() error { j.mu.Lock(); defer j.mu.Unlock(); return j.err }

func (j *failingJournal) Status() wal.Status {
	return wal.Status{Err: j.Health(), Since: liveNow, Quarantined: []wal.SegmentReport{{
		Path: "journal/00000000000000000001.wal", Quarantined: "journal/quarantine/00000000000000000001.wal", Records: 99, Lost: 1,
		Damage: &wal.CorruptError{Offset: 1693, LSN: 35, Reason: "checksum mismatch"}}}}
}

func (j *failingJournal) AppendReadings(ctx context.Context, rs []live.Reading) error {
	if err := j.Health(); err != nil {
		return err
	}
	return j.Journal.AppendReadings(ctx, rs)
}

func (j *failingJournal) AppendEvents(ctx context.Context, evs []live.HistoryEvent) error {
	if err := j.Health(); err != nil {
		return err
	}
	return j.Journal.AppendEvents(ctx, evs)
}

func TestStorageFull(t *testing.T) {
	wl, err := wal.Open(t.TempDir(), wal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wl.Close() })
	j := &failingJournal{Journal: live.WALJournal{Log: wl}}
	var logs bytes.Buffer
	sensors := live.NewSensors([]*layers.Feature{{ID: 7, Layer: layers.Sensor, Geometry: orb.Point{117.26, 31.84},
		Props: map[string]any{"code": "GAS-1", "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel", "asset": 1.0, "asset_layer": layers.DrainNode}}})
	curves := series.New(series.Options{Now: func() time.Time { return liveNow }})
	svc, err := live.NewService(live.Options{Sensors: sensors, Series: curves, Journal: j, Now: func() time.Time { return liveNow }})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), Live: svc, Sensors: sensors, Series: curves,
		Journal: j, IngestTokens: []string{"secret"}, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return liveNow }})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)

	health := func() map[string]any {
		t.Helper()
		resp, b := send(t, http.MethodGet, ts.URL+"/healthz", "", "", "")
		var h map[string]any
		if err := json.Unmarshal(b, &h); err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %d %s", resp.StatusCode, b)
		}
		return h
	}
	if h := health(); h["status"] != "ok" || h["journal"].(map[string]any)["state"] != "ok" {
		t.Fatalf("healthz of a writable journal: %v", h)
	}

	tests := []struct {
		name   string
		err    error
		status int
		code   string
		state  string
	}{
		{"DiskFull", fmt.Errorf("%w: %w", wal.ErrNoSpace, syscall.ENOSPC), http.StatusInsufficientStorage, CodeStorageFull, "no_space"},
		{"IOError", fmt.Errorf("%w: %w", wal.ErrFailed, syscall.EIO), http.StatusServiceUnavailable, CodeUnavailable, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j.fail(tt.err)
			defer j.fail(nil)
			for range 3 {
				resp, b := send(t, http.MethodPost, ts.URL+"/api/v1/readings", "secret", "", "["+lel(5, 1)+"]")
				var e struct{ Error apiError }
				json.Unmarshal(b, &e)
				if resp.StatusCode != tt.status || e.Error.Code != tt.code || resp.Header.Get("Retry-After") != "5" {
					t.Fatalf("ingest: %d %s Retry-After %q, want %d %s with Retry-After", resp.StatusCode, b, resp.Header.Get("Retry-After"), tt.status, tt.code)
				}
			}
			// Reads are served.
			if resp, b := send(t, http.MethodGet, ts.URL+"/api/v1/sensors/GAS-1", "", "", ""); resp.StatusCode != 200 {
				t.Fatalf("read while the journal cannot write: %d %s", resp.StatusCode, b)
			}
			h := health()
			jh := h["journal"].(map[string]any)
			if h["status"] != "degraded" || jh["state"] != tt.state || !strings.Contains(jh["error"].(string), "wal:") {
				t.Fatalf("healthz: %v", h)
			}
			q := jh["quarantined"].([]any)[0].(map[string]any)
			if q["segment"] != "00000000000000000001.wal" || q["records_lost"] != 1.0 || q["reason"] != "checksum mismatch" {
				t.Fatalf("healthz quarantine: %v", q)
			}
			// The journal says when it fails and recovers; requests do not.
			if strings.Contains(logs.String(), "level=ERROR") {
				t.Fatalf("refused requests were logged as errors:\n%s", logs.String())
			}
		})
	}
	if resp, b := send(t, http.MethodPost, ts.URL+"/api/v1/readings", "secret", "", "["+lel(5, 1)+"]"); resp.StatusCode != 200 {
		t.Fatalf("ingest once the journal writes again: %d %s", resp.StatusCode, b)
	}
}
