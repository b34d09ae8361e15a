package metrics

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/mqttin"
	"github.com/onemap/onemap/tiles"
	"github.com/onemap/onemap/wal"
)

// A thousand layers no catalog has, and zooms past the last, make one
// series each, not a thousand.
func TestTileLabelsBounded(t *testing.T) {
	m := New(Options{Catalog: layers.Default()})
	for i := range 1000 {
		m.Tile(fmt.Sprintf("bogus%d", i), "14", 200, false, time.Millisecond)
		m.Tile("gas_pipe", fmt.Sprint(25+i), 404, false, time.Millisecond)
		m.Tile(fmt.Sprintf("gas_pipe,bogus%d", i), "3", 200, true, time.Millisecond)
	}
	m.Tile("water_pipe", "0", 304, true, time.Millisecond)
	if n := testutil.CollectAndCount(m.tiles); n != 4 {
		t.Errorf("%d tile series, want 4 (other, gas_pipe at other zoom, composite, water_pipe)", n)
	}
	for _, want := range []struct{ layer, zoom, status string }{
		{Other, "14", "200"}, {"gas_pipe", Other, "404"}, {Composite, "3", "200"}, {"water_pipe", "0", "304"},
	} {
		got := testutil.ToFloat64(m.tiles.WithLabelValues(want.layer, want.zoom, want.status))
		if exp := map[bool]float64{true: 1, false: 1000}[want.layer == "water_pipe"]; got != exp {
			t.Errorf("tiles{%s,%s,%s} = %v, want %v", want.layer, want.zoom, want.status, got, exp)
		}
	}
	if n := testutil.CollectAndCount(m.tileTime); n != 4 {
		t.Errorf("%d tile latency series, want 4 (layer × cache)", n)
	}
}

func TestRequestLabelsBounded(t *testing.T) {
	m := New(Options{})
	for i := range 100 {
		m.Request("/tiles/:layers/:z/:x/:y", fmt.Sprintf("BREW%d", i), 1000+i, time.Millisecond)
	}
	m.Request("", "GET", 404, time.Millisecond)
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/tiles/:layers/:z/:x/:y", Other, Other)); got != 100 {
		t.Errorf("odd methods and statuses: %v requests, want 100 under other", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "GET", "404")); got != 1 {
		t.Errorf("unmatched: %v, want 1", got)
	}
}

func TestWatchIngest(t *testing.T) {
	m := New(Options{})
	st := live.Stats{Accepted: 7, Duplicates: 2, Refused: 5, RefusedByCode: map[string]uint64{live.CodeUnknownSensor: 3, "made_up": 2}}
	if err := m.WatchIngest(func() live.Stats { return st }); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchIngest(func() live.Stats { return st }); err == nil {
		t.Error("watching ingest twice: no error")
	}
	var want strings.Builder
	want.WriteString("# HELP onemap_ingest_refused_total Readings ingest refused, by refusal code.\n# TYPE onemap_ingest_refused_total counter\n")
	codes := []string{}
	for _, c := range live.RefusalCodes() {
		codes = append(codes, c.Code)
	}
	codes = append(codes, Other)
	slices.Sort(codes)
	for _, c := range codes {
		v := map[string]int{live.CodeUnknownSensor: 3, Other: 2}[c]
		fmt.Fprintf(&want, "onemap_ingest_refused_total{code=%q} %d\n", c, v)
	}
	want.WriteString("# HELP onemap_ingest_accepted_total Readings ingest accepted, duplicates among them, over HTTP and MQTT.\n# TYPE onemap_ingest_accepted_total counter\nonemap_ingest_accepted_total 7\n")
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want.String()), "onemap_ingest_refused_total", "onemap_ingest_accepted_total"); err != nil {
		t.Error(err)
	}
}

// Alarms are counted as the live state has them when scraped, not kept in
// step: an alarm that clears is gone from the next scrape.
func TestWatchAlarms(t *testing.T) {
	m := New(Options{})
	active := []live.Alarm{{Level: 1, Domain: live.Gas}, {Level: 1, Domain: live.Gas}, {Level: 3, Domain: live.Bridge}, {Level: 2, Domain: "moon"}}
	m.WatchAlarms(func() []live.Alarm { return active })
	check := func(level, domain string, want float64) {
		t.Helper()
		mfs, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "onemap_alarms_active" {
				continue
			}
			if n := len(mf.GetMetric()); n != int(live.MaxLevel)*(len(Domains)+1) {
				t.Errorf("%d series, want every level × domain", n)
			}
			for _, s := range mf.GetMetric() {
				l := map[string]string{}
				for _, p := range s.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				if l["level"] == level && l["domain"] == domain {
					if got := s.GetGauge().GetValue(); got != want {
						t.Errorf("alarms{%s,%s} = %v, want %v", level, domain, got, want)
					}
					return
				}
			}
		}
		t.Errorf("no alarms{%s,%s}", level, domain)
	}
	check("1", "gas", 2)
	check("3", "bridge", 1)
	check("2", Other, 1)
	check("4", "water", 0)
	active = active[2:]
	check("1", "gas", 0)
}

func TestWatchOthers(t *testing.T) {
	m := New(Options{})
	m.WatchHub(func() hub.Stats { return hub.Stats{Clients: 3, Deltas: 10, Resyncs: 1, ResyncsSlow: 1, Dropped: 40} })
	m.WatchTileCache(func() tiles.CacheStats {
		return tiles.CacheStats{Hits: 5, Misses: 2, Bytes: 1000, Tiles: 2, MaxBytes: 1 << 20}
	})
	m.WatchMQTT(func() mqttin.Stats { return mqttin.Stats{Connected: true, Messages: 4, Accepted: 9} })
	m.JournalCommit(wal.Commit{Records: 3, Write: time.Millisecond, Sync: 2 * time.Millisecond})
	want := `
# HELP onemap_ws_clients Clients connected to the live channel /ws.
# TYPE onemap_ws_clients gauge
onemap_ws_clients 3
# HELP onemap_ws_dropped_events_total Events dropped from the queues of clients told to resync; the snapshot that follows carries their state.
# TYPE onemap_ws_dropped_events_total counter
onemap_ws_dropped_events_total 40
# HELP onemap_tile_cache_hits_total Tile requests the tile cache answered.
# TYPE onemap_tile_cache_hits_total counter
onemap_tile_cache_hits_total 5
# HELP onemap_tile_cache_bytes Bytes the tile cache holds.
# TYPE onemap_tile_cache_bytes gauge
onemap_tile_cache_bytes 1000
# HELP onemap_mqtt_connected 1 while the MQTT subscriber is connected to its broker, else 0.
# TYPE onemap_mqtt_connected gauge
onemap_mqtt_connected 1
# HELP onemap_journal_records_total Records made durable in the write-ahead log.
# TYPE onemap_journal_records_total counter
onemap_journal_records_total 3
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "onemap_ws_clients", "onemap_ws_dropped_events_total",
		"onemap_tile_cache_hits_total", "onemap_tile_cache_bytes", "onemap_mqtt_connected", "onemap_journal_records_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.journalSync); n != 1 {
		t.Errorf("fsync histogram: %d series", n)
	}
}

// A nil *Metrics records nothing and does not fail.
func TestNil(t *testing.T) {
	var m *Metrics
	m.Request("/", "GET", 200, time.Millisecond)
	m.Tile("a", "1", 200, true, time.Millisecond)
	m.JournalCommit(wal.Commit{})
	if err := m.WatchHub(func() hub.Stats { return hub.Stats{} }); err != nil {
		t.Error(err)
	}
}

// The Go runtime and the process are in the registry.
func TestRuntime(t *testing.T) {
	mfs, err := New(Options{}).reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if !names[n] {
			t.Errorf("no %s", n)
		}
	}
}
