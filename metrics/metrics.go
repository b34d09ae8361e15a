package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/wal"
)

// Namespace prefixes every instrument of onemap's own.
const Namespace = "onemap"

// Other is the label value of whatever is not in a label's list.
const Other = "other"

// Composite is the layer label of a tile of several layers.
const Composite = "composite"

// MaxZoom is the highest zoom counted by its number; above it, and for a
// zoom that is not a number, tiles count as "other".
const MaxZoom = 24

// Options configure Metrics.
type Options struct {
	// Catalog's layer ids are those tiles are counted by; a tile of any
	// other layer counts as "other". Nil counts every tile as "other".
	Catalog *layers.Catalog
}

// Metrics is the server's registry and its instruments. Its methods are
// safe for concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg    *prometheus.Registry
	layers map[string]bool

	requests     *prometheus.CounterVec
	requestTime  *prometheus.HistogramVec
	tiles        *prometheus.CounterVec
	tileTime     *prometheus.HistogramVec
	journalWrite prometheus.Histogram
	journalSync  prometheus.Histogram
	journalRecs  prometheus.Counter
}

// latencyBuckets are for answers: from half a millisecond to ten seconds.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// diskBuckets are for writes and fsyncs: from 50 µs to a second.
var diskBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

// New returns a registry holding the Go runtime and process collectors and
// onemap's instruments.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), layers: map[string]bool{}}
	if o.Catalog != nil {
		for _, l := range o.Catalog.Layers() {
			m.layers[l.ID] = true
		}
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	m.requestTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help: "Time from a request's arrival to its answer, by route pattern.", Buckets: latencyBuckets,
	}, []string{"route"})
	m.tiles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "tiles_total",
		Help: `Tile requests answered, by layer ("composite" for several, "other" for an unknown one), zoom and status.`,
	}, []string{"layer", "zoom", "status"})
	m.tileTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "tile_duration_seconds",
		Help: "Time to answer a tile request, by layer and whether the tile cache held it.", Buckets: latencyBuckets,
	}, []string{"layer", "cache"})
	m.journalWrite = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "journal_write_seconds",
		Help: "Time of one write of a group of appends to the write-ahead log.", Buckets: diskBuckets,
	})
	m.journalSync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "journal_fsync_seconds",
		Help: "Time of one fsync of the write-ahead log, which every acknowledged batch waits for.", Buckets: diskBuckets,
	})
	m.journalRecs = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "journal_records_total",
		Help: "Records made durable in the write-ahead log.",
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestTime, m.tiles, m.tileTime, m.journalWrite, m.journalSync, m.journalRecs,
	)
	return m
}

// Registry returns the registry, for tests and for instruments of one's own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler answers a scrape with every instrument in the Prometheus text
// format (or OpenMetrics, when asked for).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Request counts an HTTP request answered: route is the pattern it matched
// ("" for none), status the one sent.
func (m *Metrics) Request(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, methodLabel(method), statusLabel(status)).Inc()
	m.requestTime.WithLabelValues(route).Observe(took.Seconds())
}

// Tile counts a tile request: ids is the path's list of layer ids
// (comma-separated), zoom its zoom as sent, cached whether the tile cache
// answered it.
func (m *Metrics) Tile(ids, zoom string, status int, cached bool, took time.Duration) {
	if m == nil {
		return
	}
	layer := m.layerLabel(ids)
	cache := "miss"
	if cached {
		cache = "hit"
	}
	m.tiles.WithLabelValues(layer, zoomLabel(zoom), statusLabel(status)).Inc()
	m.tileTime.WithLabelValues(layer, cache).Observe(took.Seconds())
}

// JournalCommit records a group of appends the write-ahead log made
// durable; it is a wal.Options.OnCommit.
func (m *Metrics) JournalCommit(c wal.Commit) {
	if m == nil {
		return
	}
	m.journalWrite.Observe(c.Write.Seconds())
	m.journalSync.Observe(c.Sync.Seconds())
	m.journalRecs.Add(float64(c.Records))
}

// layerLabel is a tile path's layer label: a layer of the list, composite
// for several, other for anything else.
func (m *Metrics) layerLabel(ids string) string {
	if strings.Contains(ids, ",") {
		return Composite
	}
	if m.layers[ids] {
		return ids
	}
	return Other
}

// zoomLabel is a zoom's label: 0 to MaxZoom, or other.
func zoomLabel(z string) string {
	n, err := strconv.Atoi(z)
	if err != nil || n < 0 || n > MaxZoom {
		return Other
	}
	return strconv.Itoa(n)
}

// statusLabel is an HTTP status's label: the status from 100 to 599.
func statusLabel(status int) string {
	if status < 100 || status > 599 {
		return Other
	}
	return strconv.Itoa(status)
}

// methodLabel is an HTTP method's label: one of the standard methods.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return Other
}
