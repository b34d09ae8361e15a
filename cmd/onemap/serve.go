package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/cluster"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/frontend"
	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/metrics"
	"github.com/onemap/onemap/mqttin"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/server"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
	"golang.org/x/net/netutil"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("onemap serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	start := time.Now()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	cat := layers.Default()
	accessLog, _ := server.ParseAccessLog(cfg.AccessLog) // checked by Validate
	m := metrics.New(metrics.Options{Catalog: cat})
	st, problems, err := openStore(ctx, cfg, cat, log, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store open", "city", st.Meta().Name, "took", time.Since(start).Round(time.Millisecond))
	if l, ok := st.(server.Loader); ok {
		if err := l.Loaded(ctx); err != nil {
			log.Error("not ready until a city is loaded: /readyz answers 503", "err", err)
		}
	}

	sensors, err := loadSensors(ctx, st)
	if err != nil {
		return err
	}
	curves := series.New(series.Options{Retention: cfg.Retention})
	feed := &server.Feed{}
	var shared live.Shared
	var bus hub.Bus // nil: the in-process bus
	var sl *sharedLive
	var joined server.Cluster
	if cfg.NATS != "" {
		var node *cluster.Node
		if node, sl, err = joinCluster(ctx, cfg, log); err != nil {
			return err
		}
		defer node.Close()
		shared, bus, joined = sl, node.Bus(), clusterHealth{node}
	}
	svc, journal, closeLive, err := openLive(ctx, cfg, st, sensors, curves, log, feed.OnEvent, m.JournalCommit, shared)
	if err != nil {
		return err
	}
	defer closeLive()
	if sl != nil {
		if err := followCluster(ctx, sl, svc, cfg.DataDir, log); err != nil {
			return err
		}
		archiveToPostGIS(ctx, sl, st, cfg.Retention, log)
		// A checkpoint at a clean stop, and every --checkpoint-every,
		// makes a start read only what came after it.
		save := func() {
			n, err := saveCheckpoint(svc, cfg.DataDir)
			if err != nil {
				log.Error("cluster: checkpoint", "err", err)
				return
			}
			log.Info("cluster: checkpoint", "bytes", n)
		}
		defer save()
		go every(ctx, cfg.CheckpointEvery, func(time.Time) { save() })
	} else {
		// A checkpoint at a clean stop makes the next start read no
		// journal.
		defer checkpoint(context.WithoutCancel(ctx), svc, log)
		go every(ctx, cfg.CheckpointEvery, func(time.Time) { checkpoint(ctx, svc, log) })
	}
	access, closeAccess, err := openAccess(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	defer closeAccess()
	lr, err := levelRules(cfg.LevelRules)
	if err != nil {
		return err
	}
	var leading func() bool
	if sl != nil {
		leading = sl.leading
	}
	inc, closeIncidents, err := openIncidents(ctx, cfg, st, svc, sensors, access, leading, log)
	if err != nil {
		return err
	}
	defer closeIncidents()
	if sl != nil {
		shareIncidents(ctx, st, inc.book, log)
	}
	if cfg.Anonymous {
		log.Warn("anyone who reaches the server may view the map and the alarms: start with --anonymous=false on a city's network")
	}
	// Sensors silent for 3 × their interval go offline.
	go every(ctx, 10*time.Second, func(now time.Time) {
		svc.CheckStale()
		curves.Prune(now)
	})
	var mqttSub *mqttin.Subscriber
	if cfg.MQTT != "" {
		o := mqttin.Options{Broker: cfg.MQTT, Topic: cfg.MQTTTopic, Log: log, Ingest: svc.Ingest}
		if cfg.MQTTTokens {
			o.Authorize = mqttAuthorize(access, cfg.IngestToken)
		}
		mqttSub, err = mqttin.New(o)
		if err != nil {
			return err
		}
		go mqttSub.Run(ctx)
	}
	var tokens, viewTokens, origins []string
	if cfg.IngestToken != "" {
		tokens = []string{cfg.IngestToken}
	}
	// The simulator alongside sends with a token of its own, known to
	// this process alone.
	simToken := ""
	if cfg.Simulate {
		simToken = auth.TokenPrefix + "sim-" + rand.Text()
		tokens = append(tokens, simToken)
	}
	if cfg.ViewToken != "" {
		viewTokens = []string{cfg.ViewToken}
	}
	for o := range strings.SplitSeq(cfg.AllowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}

	var journalHealth server.Journal
	if journal != nil {
		journalHealth = journal
	}
	sv := wire(ctx, cat, st, svc, nil, true, log)
	srv := server.New(server.Options{
		Analyses:       sv.analyses,
		Tiles:          sv.tiles,
		RiskVersion:    sv.riskVersion,
		Journal:        journalHealth,
		Live:           svc,
		Sensors:        sensors,
		Series:         curves,
		IngestTokens:   tokens,
		Catalog:        cat,
		Store:          st,
		Frontend:       frontend.FS,
		PublicURL:      cfg.PublicURL,
		CacheBytes:     cfg.CacheMB << 20,
		Log:            log,
		Version:        version,
		MQTT:           mqttSub,
		Cluster:        joined,
		Leading:        leading,
		Feed:           feed,
		ViewTokens:     viewTokens,
		AllowedOrigins: origins,
		Hub:            hub.New(hub.Options{Snapshot: feed.Snapshot, Bus: bus, MaxClients: cfg.WSMaxClients, Log: log}),
		Metrics:        m,
		AccessLog:      accessLog,
		Access:         access,
		Incidents:      inc.book,
		Response:       inc.desk,
		Attachments:    inc.attachments,
		LevelRules:     lr,
		Quality:        problems,
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Past the cap, new connections wait in the kernel's backlog instead of
	// taking file descriptors the open ones need.
	ln = netutil.LimitListener(ln, cfg.MaxConns)
	errc := make(chan error, 2)
	debug, err := serveDebug(cfg.DebugAddr, log, errc)
	if err != nil {
		ln.Close()
		return err
	}
	hs := srv.HTTPServer()
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+displayAddr(ln.Addr()))
	fmt.Fprintf(stdout, "onemap serving %s at %s://%s\n", st.Meta().Name, scheme, displayAddr(ln.Addr()))

	if cfg.TLSCert != "" {
		go func() { errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey) }()
	} else {
		go func() { errc <- hs.Serve(ln) }()
	}
	redirect, err := serveRedirect(cfg.RedirectAddr, ln.Addr(), log, errc)
	if err != nil {
		return err
	}
	if redirect != nil {
		defer redirect.Close()
	}
	if cfg.Simulate {
		go simulateAlongside(ctx, scheme+"://"+ln.Addr().String(), simToken, st, log)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Close() // the live channel's clients are told to come back
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownIn)
	defer cancel()
	if debug != nil {
		// The profiler holds nothing worth waiting for: a profile being
		// taken is cut.
		debug.Close()
	}
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// every calls fn every d, with the time, until ctx is done.
func every(ctx context.Context, d time.Duration, fn func(now time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// mqttAuthorize checks the device token of an MQTT message's envelope as
// ingest over HTTP checks its bearer token.
func mqttAuthorize(access server.Access, static string) mqttin.Authorize {
	return func(ctx context.Context, token string) (func(*live.Sensor) bool, error) {
		if static != "" && subtle.ConstantTimeCompare([]byte(token), []byte(static)) == 1 {
			return nil, nil
		}
		t, err := access.Tokens.Authenticate(ctx, token)
		if err != nil {
			return nil, err
		}
		p := access.Authorizer.ForToken(&t)
		if !access.Authorizer.Allowed(&p, auth.PermIngestWrite) {
			return nil, errors.New("the token may not send readings")
		}
		if p.Sensors == nil {
			return nil, nil
		}
		return func(sn *live.Sensor) bool { return p.SensorAllowed(sn.ID) }, nil
	}
}

// serveRedirect starts, on addr, a plain HTTP listener that sends every
// request to the same path over HTTPS at the port of to; nil when addr is
// empty.
func serveRedirect(addr string, to net.Addr, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen --redirect-addr: %w", err)
	}
	_, port, _ := net.SplitHostPort(to.String())
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if port != "443" {
				host = net.JoinHostPort(host, port)
			}
			http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
		})}
	log.Info("redirecting to HTTPS", "addr", ln.Addr().String())
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("redirect: %w", err)
		}
	}()
	return hs, nil
}

// serveDebug starts the profiler on addr, a listener of its own, and
// returns its server; nil when addr is empty. A failure to serve is sent
// on errc.
func serveDebug(addr string, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen --debug-addr: %w", err)
	}
	hs := &http.Server{Handler: server.DebugHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("profiler listening", "addr", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr())+"/debug/pprof/")
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("debug: %w", err)
		}
	}()
	return hs, nil
}

// The summary of a city's problems shows this many of each kind; --report
// writes them all.
const problemsShown = 5

// openStore opens PostGIS when the configuration names a database, and
// otherwise holds the city in memory; it returns the problems found in the
// city read (its warnings), none for a database.
func openStore(ctx context.Context, cfg Config, cat *layers.Catalog, log *slog.Logger, stderr io.Writer) (store.Store, city.Problems, error) {
	if cfg.DB != "" {
		st, err := postgis.Open(ctx, cfg.DB, cat, log)
		return st, nil, err
	}
	return openMemory(cfg, cat, log, stderr)
}

// readCity reads a city directory, or the embedded sample city when dir is
// empty. It writes to w a summary of the city's problems, and to report, if
// named, all of them; errors refuse the city, warnings do not. It returns
// the city and its problems.
func readCity(dir string, cat *layers.Catalog, o city.Options, report string, w io.Writer) (*city.City, city.Problems, error) {
	name := dir
	var c *city.City
	var ps city.Problems
	if dir == "" {
		name = "the embedded sample city"
		c, ps = city.Check(data.SampleCity(), cat, o)
	} else {
		c, ps = city.CheckDir(dir, cat, o)
	}
	if len(ps) > 0 {
		fmt.Fprintf(w, "city %s: ", name)
		ps.WriteSummary(w, problemsShown)
	}
	if report != "" {
		if err := ps.WriteReport(report, dir); err != nil {
			return nil, nil, fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintf(w, "city %s: the report is in %s and %s\n", name, report, city.TwinPath(report))
	}
	if err := ps.Err(); err != nil {
		if report == "" && len(ps) > 1 {
			return nil, nil, fmt.Errorf("city %s refused: %w (--report FILE writes them all)", name, err)
		}
		return nil, nil, fmt.Errorf("city %s refused: %w", name, err)
	}
	return c, ps, nil
}

// displayAddr turns a listening address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
