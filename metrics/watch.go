package metrics

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/mqttin"
	"github.com/onemap/onemap/tiles"
)

// scrape is a collector that reads its values from elsewhere when
// scraped: counts kept by the package that does the work.
type scrape struct {
	descs   []*prometheus.Desc
	collect func(ch chan<- prometheus.Metric)
}

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range s.descs {
		ch <- d
	}
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) { s.collect(ch) }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
}

// watch registers a scrape collector; a nil *Metrics watches nothing.
func (m *Metrics) watch(what string, s *scrape) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(s); err != nil {
		return fmt.Errorf("metrics: watch %s: %w", what, err)
	}
	return nil
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// WatchIngest counts the readings ingest accepted, refused by code, and
// took as duplicates, from stats (live.Service.Stats) at each scrape. A
// code not in live.RefusalCodes counts as "other".
func (m *Metrics) WatchIngest(stats func() live.Stats) error {
	accepted := desc("ingest_accepted_total", "Readings ingest accepted, duplicates among them, over HTTP and MQTT.")
	dups := desc("ingest_duplicates_total", "Readings accepted that the server already held (same sensor, metric and time), which changed nothing.")
	refused := desc("ingest_refused_total", "Readings ingest refused, by refusal code.", "code")
	var codes []string
	for _, c := range live.RefusalCodes() {
		codes = append(codes, c.Code)
	}
	return m.watch("ingest", &scrape{descs: []*prometheus.Desc{accepted, dups, refused}, collect: func(ch chan<- prometheus.Metric) {
		st := stats()
		counter(ch, accepted, st.Accepted)
		counter(ch, dups, st.Duplicates)
		var known uint64
		for _, c := range codes {
			counter(ch, refused, st.RefusedByCode[c], c)
			known += st.RefusedByCode[c]
		}
		counter(ch, refused, st.Refused-min(known, st.Refused), Other)
	}})
}

// Domains are the alarm domain labels; an alarm of any other domain counts
// as "other".
var Domains = []live.Domain{live.Gas, live.Water, live.Drainage, live.Heating, live.Bridge, live.Tunnel}

// WatchAlarms counts the active alarms by level (1 to live.MaxLevel) and
// domain, from active (the active alarms of the live state) at each
// scrape: every pair is reported, 0 where none is active.
func (m *Metrics) WatchAlarms(active func() []live.Alarm) error {
	d := desc("alarms_active", "Alarms active now, by level (1 most severe) and domain.", "level", "domain")
	return m.watch("alarms", &scrape{descs: []*prometheus.Desc{d}, collect: func(ch chan<- prometheus.Metric) {
		type key struct {
			level  live.Level
			domain string
		}
		n := map[key]int{}
		for _, a := range active() {
			dom := Other
			for _, k := range Domains {
				if a.Domain == k {
					dom = string(k)
				}
			}
			if a.Level >= 1 && a.Level <= live.MaxLevel {
				n[key{a.Level, dom}]++
			}
		}
		for l := live.Level(1); l <= live.MaxLevel; l++ {
			for _, dom := range append(domainNames(), Other) {
				gauge(ch, d, float64(n[key{l, dom}]), strconv.Itoa(int(l)), dom)
			}
		}
	}})
}

func domainNames() []string {
	out := make([]string, len(Domains))
	for i, d := range Domains {
		out[i] = string(d)
	}
	return out
}

// WatchHub counts the live channel's clients, the messages they took, the
// resyncs by reason, the events dropped for resyncs and the clients turned
// away, from stats (hub.Hub.Stats) at each scrape.
func (m *Metrics) WatchHub(stats func() hub.Stats) error {
	clients := desc("ws_clients", "Clients connected to the live channel /ws.")
	msgs := desc("ws_messages_total", "Messages the live channel's clients took, by kind: snapshot, delta, resync.", "kind")
	resyncs := desc("ws_resyncs_total", "Resyncs the live channel sent, by reason: slow (the client fell behind), lagging (the server did), too_old (a resume point past the history).", "reason")
	dropped := desc("ws_dropped_events_total", "Events dropped from the queues of clients told to resync; the snapshot that follows carries their state.")
	refused := desc("ws_refused_total", "Clients turned away because the live channel had its most clients.")
	return m.watch("hub", &scrape{descs: []*prometheus.Desc{clients, msgs, resyncs, dropped, refused}, collect: func(ch chan<- prometheus.Metric) {
		st := stats()
		gauge(ch, clients, float64(st.Clients))
		counter(ch, msgs, st.Snapshots, string(hub.Snapshot))
		counter(ch, msgs, st.Deltas, string(hub.Delta))
		counter(ch, msgs, st.Resyncs, string(hub.Resync))
		counter(ch, resyncs, st.ResyncsSlow, hub.ReasonSlow)
		counter(ch, resyncs, st.ResyncsLagging, hub.ReasonLagging)
		counter(ch, resyncs, st.ResyncsTooOld, hub.ReasonTooOld)
		counter(ch, dropped, st.Dropped)
		counter(ch, refused, st.Refused)
	}})
}

// WatchTileCache reports the tile cache's hits, misses, tiles and bytes
// from stats (tiles.Cache.Stats) at each scrape.
func (m *Metrics) WatchTileCache(stats func() tiles.CacheStats) error {
	hits := desc("tile_cache_hits_total", "Tile requests the tile cache answered.")
	misses := desc("tile_cache_misses_total", "Tile requests the tile cache did not hold, which were encoded.")
	n := desc("tile_cache_tiles", "Tiles the tile cache holds.")
	bytes := desc("tile_cache_bytes", "Bytes the tile cache holds.")
	limit := desc("tile_cache_max_bytes", "Bytes the tile cache may hold (--cache-mb).")
	return m.watch("tile cache", &scrape{descs: []*prometheus.Desc{hits, misses, n, bytes, limit}, collect: func(ch chan<- prometheus.Metric) {
		st := stats()
		counter(ch, hits, st.Hits)
		counter(ch, misses, st.Misses)
		gauge(ch, n, float64(st.Tiles))
		gauge(ch, bytes, float64(st.Bytes))
		gauge(ch, limit, float64(st.MaxBytes))
	}})
}

// WatchMQTT reports the MQTT subscriber's connection and counts from stats
// (mqttin.Subscriber.Stats) at each scrape.
func (m *Metrics) WatchMQTT(stats func() mqttin.Stats) error {
	up := desc("mqtt_connected", "1 while the MQTT subscriber is connected to its broker, else 0.")
	msgs := desc("mqtt_messages_total", "MQTT messages ingested or refused.")
	readings := desc("mqtt_readings_total", "Readings of MQTT messages, by result: accepted or refused.", "result")
	failed := desc("mqtt_failed_total", "Attempts to ingest an MQTT batch that could not store it; each is tried again.")
	return m.watch("mqtt", &scrape{descs: []*prometheus.Desc{up, msgs, readings, failed}, collect: func(ch chan<- prometheus.Metric) {
		st := stats()
		v := 0.0
		if st.Connected {
			v = 1
		}
		gauge(ch, up, v)
		counter(ch, msgs, st.Messages)
		counter(ch, readings, st.Accepted, "accepted")
		counter(ch, readings, st.Refused, "refused")
		counter(ch, failed, st.Failed)
	}})
}
