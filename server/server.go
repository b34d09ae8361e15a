package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/attach"
	"github.com/onemap/onemap/incident/response"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/metrics"
	"github.com/onemap/onemap/mqttin"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/tiles"
	"github.com/onemap/onemap/wal"
	"golang.org/x/sync/singleflight"
)

// Options configure a Server.
type Options struct {
	Catalog *layers.Catalog
	Store   store.Store
	// Analyses answer the analysis routes and alarm impacts; nil answers
	// them not_found.
	Analyses Analyses
	// Tiles encodes the vector tiles, of stored and derived layers; nil
	// encodes the stored layers alone.
	Tiles Tiles
	// RiskVersion, if set, grows when the risk zone layer changes: the live
	// channel tells its clients to refetch the layer's tiles.
	RiskVersion func() uint64
	// Frontend is the web app's root; nil serves no web app.
	Frontend fs.FS
	// PublicURL is the URL clients reach the server at (no trailing slash);
	// empty takes it from each request's Host.
	PublicURL string
	// CacheBytes bounds the tile cache; 0 disables it.
	CacheBytes int
	// RequestTimeout bounds the time of a tile or API request.
	RequestTimeout time.Duration
	Log            *slog.Logger
	Version        string
	// Live is the live state: ingest, sensors, alarms; nil serves no live API.
	Live    *live.Service
	Sensors *live.Sensors
	Series  *series.Store
	// IngestTokens are static device tokens, each sending readings of
	// every sensor, beside the tokens of Access.
	IngestTokens []string
	// MQTT, if set, is the subscriber taking readings from a broker; the
	// health check shows its counts.
	MQTT *mqttin.Subscriber
	// Cluster is the cluster the instance has joined (serve --nats); nil
	// for none.
	Cluster Cluster
	// Leading, when set, says whether this instance tells the live channel
	// of the risk zones' new versions: of a cluster's instances, sharing
	// one live channel, one does.
	Leading func() bool
	// Feed, if set with Live and Hub, carries the live state to the clients
	// of the live channel, /ws.
	Feed *Feed
	// Hub is the live channel's fan-out, made by the caller with the Feed's
	// Snapshot (and its bound on clients); the server attaches the Feed to
	// it, serves /ws from it and closes it in Close.
	Hub *hub.Hub
	// ViewTokens are static tokens of a viewer (map.view and alarms.read),
	// sent as a bearer token or, to /ws, as ?token=.
	ViewTokens []string
	// AllowedOrigins are the web origins, besides the server's own, whose
	// pages may read the map and the API (CORS), frame the web app and open
	// /ws; "*" admits every origin.
	AllowedOrigins []string
	// WSHeartbeat is the time between pings on /ws; 0 is 25 s. A peer
	// silent for 2.4 heartbeats is dropped.
	WSHeartbeat time.Duration
	// RiskZoneCheck is how often /ws looks for a new risk zone version; 0 is 1 s.
	RiskZoneCheck time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Journal, if set, is the write-ahead log ingest writes to: /healthz
	// shows its state and the segments it quarantined.
	Journal Journal
	// ReadTimeout, WriteTimeout and IdleTimeout are HTTPServer's limits;
	// 0 takes DefaultReadTimeout, DefaultWriteTimeout, DefaultIdleTimeout.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// IngestTimeout bounds a batch of readings, body and storing; 0 is
	// DefaultIngestTimeout.
	IngestTimeout time.Duration
	// Metrics, if set, counts the requests and is served at /metrics;
	// AccessLog says which requests get a line in Log.
	Metrics   *metrics.Metrics
	AccessLog AccessLog
	// Access says who may do what: users, tokens, the anonymous viewer
	// and the audit log.
	Access Access

	// Incidents is the linked response's book (needs Live); nil serves no
	// incident routes.
	Incidents *incident.Book
	// LevelRules grade the warnings drafted; nil takes the defaults.
	LevelRules *incident.LevelRules
	// Response runs what follows the incident steps (the push, the plans
	// and tasks) over the same Book as Incidents; nil serves none of it.
	Response *response.Desk
	// Attachments keep the photos of field reports; nil serves none.
	Attachments attach.Store
	// Quality are the problems found in the city when it was read (its
	// warnings: a city with errors is not served), served at
	// /api/v1/quality; nil serves none.
	Quality city.Problems
}

// Journal is what the health check reads of the write-ahead log;
// *wal.Log is one.
type Journal interface {
	// Health is nil while the journal takes writes.
	Health() error
	// Status tells its state and what Open repaired.
	Status() wal.Status
}

// Cluster is the cluster an instance has joined: /readyz answers 503
// while Health is not nil, /healthz shows Status.
type Cluster interface {
	Health() error
	Status() any
}

// Server is onemap's HTTP interface.
type Server struct {
	opt   Options
	cat   *layers.Catalog
	store store.Store
	enc   Tiles
	// analyses answer the analysis routes.
	analyses Analyses
	cache    *tiles.Cache
	// encoding holds the tiles being encoded, so each is encoded once.
	encoding singleflight.Group
	log      *slog.Logger
	echo     *echo.Echo
	// hub fans the live state out to /ws; nil without a feed.
	hub      *hub.Hub
	stopFeed context.CancelFunc
	// personal nudges a login's connections when its inbox or tasks
	// change; nil without the incident loop.
	personal *personal
	// closing is set by Close: /readyz answers 503 from then on, so a
	// load balancer stops sending while the connections drain.
	closing atomic.Bool

	// quality is the answer of /api/v1/quality.
	quality []byte

	access Access
	authz  *auth.Authorizer
	// anonymous is the principal of a caller without credentials;
	// staticIngest and staticView those of the options' static tokens.
	anonymous, staticIngest, staticView auth.Principal
	// loginRate limits logins per address, ingestRate batches per token,
	// deniedRate the audit entries of refused writes per address.
	loginRate, ingestRate, deniedRate *keyedLimiter
}

// New returns a server over the options' store and services.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 10 * time.Second
	}
	if o.WSHeartbeat <= 0 {
		o.WSHeartbeat = WSHeartbeat
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{{&o.ReadTimeout, DefaultReadTimeout}, {&o.WriteTimeout, DefaultWriteTimeout}, {&o.IdleTimeout, DefaultIdleTimeout}, {&o.IngestTimeout, DefaultIngestTimeout}} {
		if *d.p <= 0 {
			*d.p = d.def
		}
	}
	s := &Server{
		opt:      o,
		cat:      o.Catalog,
		store:    o.Store,
		enc:      o.Tiles,
		analyses: o.Analyses,
		cache:    tiles.NewCache(o.CacheBytes),
		log:      o.Log,
	}
	s.quality = qualityJSON(o.Quality, o)
	if s.enc == nil {
		s.enc = tiles.NewEncoder(o.Catalog, o.Store)
	}
	if s.analyses == nil {
		s.analyses = noAnalyses{}
	}
	s.setAccess(o.Access)
	if o.Feed != nil && o.Live != nil && o.Hub != nil {
		riskVersion := o.RiskVersion
		if riskVersion == nil {
			riskVersion = func() uint64 { return 0 }
		}
		s.attachHub(riskVersion)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(o.Log)
	e.Use(s.observe())
	e.Use(middleware.Recover())
	e.Use(s.securityHeaders())
	e.Use(cors(o.AllowedOrigins))
	e.Use(s.checkAccess())

	// Tiles compress themselves once in the cache; the rest uses the
	// middleware at a fast level.
	gz := middleware.GzipWithConfig(middleware.GzipConfig{Level: 1, MinLength: 1024})
	timeout := s.withTimeout(o.RequestTimeout)

	e.GET("/healthz", s.handleHealth)
	s.routeInstruments(e)
	e.GET("/catalog", s.handleCatalog, gz)
	e.GET("/tiles/:layers/:z/:x/:y", s.handleTile, timeout)
	e.GET("/tiles/:file", s.handleTileJSON, gz)
	e.GET("/tiles/*", func(c echo.Context) error {
		return errorf(CodeBadPath, "tile paths are /tiles/{layer[,layer…]}/{z}/{x}/{y}.mvt or /tiles/{layer}.json")
	})
	s.routeStyle(e, gz)
	s.routeOGC(e, timeout, gz)
	api := e.Group("/api/v1", timeout, gz)
	api.GET("/features/:id", s.handleFeature)
	api.GET("/features/:id/nearby", s.handleFeatureNearby)
	api.GET("/nearby", s.handleNearby)
	api.POST("/analysis/valve-closure", s.handleValveClosure)
	api.GET("/analysis/gas-neighbourhood", s.handleGasNeighbourhood)
	api.GET("/quality", s.handleQuality)
	api.GET("/scene", s.handleScene)
	if o.Live != nil {
		e.POST("/api/v1/readings", s.handleReadings, s.withTimeout(o.IngestTimeout))
		api.GET("/sensors", s.handleSensors)
		api.GET("/sensors/:id", s.handleSensor)
		api.GET("/sensors/:id/series", s.handleSeries)
		api.GET("/alarms", s.handleAlarms)
		api.GET("/alarms/:id", s.handleAlarm)
		api.POST("/alarms/:id/ack", s.handleAck)
		api.GET("/alarms/:id/impact", s.handleImpact)
		api.GET("/rules", s.handleGetRules)
		api.GET("/rules/versions", s.handleRulesVersions)
		api.PUT("/rules", s.handlePutRules)
		if o.Incidents != nil {
			s.routeIncidents(api)
			s.routeResponse(api)
		}
		if s.hub != nil {
			e.GET("/ws", s.handleWS)
		}
	}
	s.routeSessions(e)
	s.routeAdmin(e)
	e.Any("/api/*", func(c echo.Context) error { return echo.ErrNotFound })
	if o.Frontend != nil {
		e.GET("/*", echo.StaticDirectoryHandler(o.Frontend, false), gz)
	}
	s.echo = e
	return s
}

func (s *Server) now() time.Time {
	if s.opt.Now != nil {
		return s.opt.Now()
	}
	return time.Now()
}

// Handler returns the server's HTTP handler.
// A HEAD request is answered as the GET of the same resource, as monitors
// and caches expect: the router sees a GET, and the HTTP server, which
// still holds the HEAD, sends the headers without the body.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.WithContext(r.Context())
			r.Method = http.MethodGet
		}
		s.echo.ServeHTTP(w, r)
	})
}

// attachHub feeds the options' hub from the live state and watches the
// risk zone layer's version for it.
func (s *Server) attachHub(riskVersion func() uint64) {
	o := s.opt
	minZoom := 0.0
	if l, err := s.cat.Layer(layers.Sensor); err == nil {
		minZoom = float64(l.MinZoom)
	}
	s.hub = o.Hub
	o.Feed.to.Store(&feedTarget{hub: s.hub, live: o.Live, sensors: o.Sensors, riskVersion: riskVersion, sensorMinZoom: minZoom, incidents: o.Incidents})
	if o.Incidents != nil && o.Response != nil {
		s.personal = newPersonal()
		o.Incidents.Watch(s.personal.record)
	}
	if o.Incidents != nil {
		h := s.hub
		o.Incidents.Watch(func(r incident.Record, in incident.Incident) {
			// Another instance's step reaches the live channel from it.
			if r.Kind != incident.KindStep || r.Remote {
				return
			}
			if ev, ok := warningEvent(&in); ok {
				h.Publish(ev)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopFeed = cancel
	told := riskVersion
	if o.Leading != nil {
		// Another instance leads: its version, when this one takes over.
		var last atomic.Uint64
		last.Store(riskVersion())
		told = func() uint64 {
			if o.Leading() {
				last.Store(riskVersion())
			}
			return last.Load()
		}
	}
	go s.hub.WatchVersion(ctx, hub.RiskZones, told, s.riskZoneCheck())
}

// Close ends the live channel: its clients are told the server is going
// away, and /readyz answers 503. Call it before shutting the HTTP server
// down.
func (s *Server) Close() {
	s.closing.Store(true)
	if s.hub != nil {
		s.stopFeed()
		s.hub.Close()
	}
}

// withTimeout bounds a route's request context; it is put on routes, not on
// the router, so that long-lived connections are not cut.
func (s *Server) withTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// baseURL is the URL the client reached us at, for links in documents.
func (s *Server) baseURL(c echo.Context) string {
	if s.opt.PublicURL != "" {
		return strings.TrimSuffix(s.opt.PublicURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

func (s *Server) handleHealth(c echo.Context) error {
	n := 0
	for _, l := range s.cat.Layers() {
		k, err := s.store.Count(c.Request().Context(), l.ID)
		if err != nil {
			return errorf(CodeNotReady, "store: "+err.Error())
		}
		n += k
	}
	h := map[string]any{"status": "ok", "features": n, "version": s.opt.Version}
	if l, ok := s.store.(Loader); ok {
		if err := l.Loaded(c.Request().Context()); err != nil {
			h["status"], h["message"] = "not_loaded", err.Error()
		}
	}
	if s.opt.Live != nil {
		h["ingest"] = s.opt.Live.Stats()
	}
	if s.opt.MQTT != nil {
		h["mqtt"] = s.opt.MQTT.Stats()
	}
	if s.opt.Cluster != nil {
		h["cluster"] = s.opt.Cluster.Status()
	}
	if s.opt.Journal != nil {
		j := journalJSON(s.opt.Journal.Status())
		if j["state"] != "ok" {
			h["status"] = "degraded" // reads are served, writes refused
		}
		h["journal"] = j
	}
	return c.JSON(http.StatusOK, h)
}

// journalJSON is the journal's part of /healthz.
func journalJSON(st wal.Status) map[string]any {
	j := map[string]any{"state": st.State(), "since": st.Since.UTC().Format(time.RFC3339)}
	if st.Err != nil {
		j["error"] = st.Err.Error()
	}
	if st.TornBytes > 0 {
		j["torn_bytes_cut"] = st.TornBytes
	}
	q := []map[string]any{}
	for _, s := range st.Quarantined {
		e := map[string]any{"segment": filepath.Base(s.Path), "quarantined": s.Quarantined, "records_kept": s.Records, "records_lost": s.Lost}
		if s.Damage != nil {
			e["offset"], e["lsn"], e["reason"] = s.Damage.Offset, s.Damage.LSN, s.Damage.Reason
		}
		q = append(q, e)
	}
	j["quarantined"] = q
	return j
}
