package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/onemap/onemap/cluster"
	"github.com/onemap/onemap/mqttin"
	"github.com/onemap/onemap/server"
)

// maxReadingsGB bounds --nats-readings-gb: a week of a province's readings.
const maxReadingsGB = 1 << 10

// Config is what onemap serve runs with. Flags override the environment
// (ONEMAP_*), which overrides the defaults.
type Config struct {
	Addr    string
	DataDir string
	City    string // a city directory; empty for the embedded sample city
	// Report is the file the city's problems are written to as JSON, with
	// its GeoJSON twin beside it; empty writes none.
	Report string
	// Snapshot is the memory store's snapshot of the city: read on start
	// when it is of the same files, written when it is not. Empty is
	// city.snap in the data directory; "off" keeps none.
	Snapshot string
	DB       string // a PostgreSQL URL; empty for the embedded default
	Rules    string // a rules file; empty for the embedded defaults
	// LevelRules is the warning level rules file; empty for the defaults.
	LevelRules string
	// Directory is the directory.json of who is told what; empty for the
	// sample city's.
	Directory string
	// WebhookSecrets is the file of the webhooks' signing secrets.
	WebhookSecrets string
	// SMSGateway is the URL of the city's SMS platform; SMSToken its
	// bearer token (from the environment only).
	SMSGateway string
	SMSToken   string
	// VoiceGateway is the URL of the city's voice call platform;
	// VoiceToken its bearer token (from the environment only).
	VoiceGateway string
	VoiceToken   string
	// IngestToken is a static device token, beside the stored ones.
	IngestToken string
	// Simulate runs the sensor simulator with the sample scenarios against
	// the server itself.
	Simulate bool
	// MQTT is a broker to take readings from; MQTTTopic its topic filter.
	MQTT      string
	MQTTTopic string
	// MQTTTokens makes every MQTT message carry a device token.
	MQTTTokens bool
	// NATS joins the instance to others over NATS JetStream: the servers'
	// URLs, comma-separated. NATSName is its name among them, NATSReplicas
	// how many servers keep each stream.
	NATS         string
	NATSName     string
	NATSReplicas int
	// NATSReadingsGB bounds the readings stream, in GiB on each server.
	NATSReadingsGB int
	PublicURL      string
	// ViewToken is a static viewer's token, beside the stored ones.
	ViewToken string
	// Anonymous lets a caller without credentials view the map and the
	// alarms.
	Anonymous bool
	// RolesFile is a roles table; empty takes the shipped one.
	RolesFile string
	// TLSCert and TLSKey are the certificate and key to serve HTTPS with;
	// RedirectAddr, if set, is a plain HTTP listener sending every request
	// to HTTPS.
	TLSCert, TLSKey, RedirectAddr string
	// HTTPS says clients reach the server over HTTPS, here or at a proxy:
	// cookies are Secure and HSTS is sent.
	HTTPS bool
	// TrustedProxies are CIDRs of reverse proxies whose X-Forwarded-For
	// names the client.
	TrustedProxies string
	// AllowedOrigins are other web origins whose pages may open the live
	// channel, comma-separated.
	AllowedOrigins string
	WSMaxClients   int
	CacheMB        int
	LogLevel       string
	ShutdownIn     time.Duration
	// Retention is how long readings are kept; cleared alarms stay three
	// times as long.
	Retention time.Duration
	// CheckpointEvery is the time between checkpoints of the live state.
	CheckpointEvery time.Duration
	// MaxConns bounds the HTTP connections open at once, /ws among them.
	MaxConns int
	// AccessLog is which requests get a log line: all, uncached or off.
	AccessLog string
	// DebugAddr is where the profiler listens; empty for nowhere.
	DebugAddr string
}

// DefaultMaxConns is --max-conns by default: the 20,000 clients /ws takes
// and room for the map's and the sensors' requests.
const DefaultMaxConns = 25000

// defaultConfig reads the environment over the defaults.
func defaultConfig() Config {
	c := Config{
		Addr:       ":8080",
		DataDir:    "onemap-data",
		CacheMB:    128,
		LogLevel:   "info",
		ShutdownIn: 10 * time.Second,
		Retention:  30 * 24 * time.Hour,
		// Ten minutes of journal is what a start reads past the checkpoint.
		CheckpointEvery: 10 * time.Minute,
		MaxConns:        DefaultMaxConns,
		AccessLog:       "uncached",
		Anonymous:       true,
		NATSReadingsGB:  4,
	}
	env := func(name string, dst *string) {
		if v, ok := os.LookupEnv(name); ok {
			*dst = v
		}
	}
	env("ONEMAP_ADDR", &c.Addr)
	env("ONEMAP_DATA_DIR", &c.DataDir)
	env("ONEMAP_CITY", &c.City)
	env("ONEMAP_REPORT", &c.Report)
	env("ONEMAP_SNAPSHOT", &c.Snapshot)
	env("DATABASE_URL", &c.DB)
	env("ONEMAP_RULES", &c.Rules)
	env("ONEMAP_LEVEL_RULES", &c.LevelRules)
	env("ONEMAP_DIRECTORY", &c.Directory)
	env("ONEMAP_WEBHOOK_SECRETS", &c.WebhookSecrets)
	env("ONEMAP_SMS_GATEWAY", &c.SMSGateway)
	env("ONEMAP_SMS_TOKEN", &c.SMSToken)
	env("ONEMAP_VOICE_GATEWAY", &c.VoiceGateway)
	env("ONEMAP_VOICE_TOKEN", &c.VoiceToken)
	env("ONEMAP_INGEST_TOKEN", &c.IngestToken)
	c.Simulate = os.Getenv("ONEMAP_SIMULATE") == "1"
	env("ONEMAP_MQTT", &c.MQTT)
	env("ONEMAP_MQTT_TOPIC", &c.MQTTTopic)
	env("ONEMAP_NATS", &c.NATS)
	env("ONEMAP_NATS_NAME", &c.NATSName)
	if v := os.Getenv("ONEMAP_NATS_READINGS_GB"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			c.NATSReadingsGB = n
		} else {
			c.NATSReadingsGB = -1 // Validate names the problem
		}
	}
	env("ONEMAP_PUBLIC_URL", &c.PublicURL)
	env("ONEMAP_VIEW_TOKEN", &c.ViewToken)
	env("ONEMAP_ALLOWED_ORIGINS", &c.AllowedOrigins)
	env("ONEMAP_LOG_LEVEL", &c.LogLevel)
	env("ONEMAP_ACCESS_LOG", &c.AccessLog)
	env("ONEMAP_DEBUG_ADDR", &c.DebugAddr)
	env("ONEMAP_ROLES", &c.RolesFile)
	env("ONEMAP_TLS_CERT", &c.TLSCert)
	env("ONEMAP_TLS_KEY", &c.TLSKey)
	env("ONEMAP_REDIRECT_ADDR", &c.RedirectAddr)
	env("ONEMAP_TRUSTED_PROXIES", &c.TrustedProxies)
	if v, ok := os.LookupEnv("ONEMAP_ANONYMOUS"); ok {
		c.Anonymous = v != "0" && v != "false"
	}
	c.HTTPS = os.Getenv("ONEMAP_HTTPS") == "1"
	c.MQTTTokens = os.Getenv("ONEMAP_MQTT_TOKENS") == "1"
	if v, ok := os.LookupEnv("ONEMAP_RETENTION"); ok {
		if d, err := parseDays(v); err == nil {
			c.Retention = d
		} else {
			c.Retention = -1 // Validate names the problem
		}
	}
	if v, ok := os.LookupEnv("ONEMAP_MAX_CONNS"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			c.MaxConns = n
		} else {
			c.MaxConns = -1 // Validate names the problem
		}
	}
	if v, ok := os.LookupEnv("ONEMAP_CACHE_MB"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			c.CacheMB = n
		} else {
			c.CacheMB = -1 // Validate names the problem
		}
	}
	return c
}

func (c *Config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (ONEMAP_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for state that survives a restart (ONEMAP_DATA_DIR)")
	fs.StringVar(&c.City, "city", c.City, "city directory to serve; empty serves the embedded sample city (ONEMAP_CITY)")
	fs.StringVar(&c.Report, "report", c.Report, "write every problem of the city directory to this JSON file, and the features at fault to its .geojson twin (ONEMAP_REPORT)")
	fs.StringVar(&c.Snapshot, "snapshot", c.Snapshot, "the city's snapshot for a fast start: read when it is of the same files, written when not (onemap load --snapshot writes one); empty is city.snap in the data directory, off keeps none (ONEMAP_SNAPSHOT)")
	fs.StringVar(&c.DB, "db", c.DB, "PostgreSQL URL of a PostGIS database to serve from, postgres://user@host:port/db; empty serves from memory (DATABASE_URL)")
	fs.StringVar(&c.Rules, "rules", c.Rules, "alarm rules file (JSON, docs/rules.md); empty uses the embedded defaults (ONEMAP_RULES)")
	fs.StringVar(&c.Directory, "directory", c.Directory, "units, people and contacts told of warnings (JSON, docs/notify.md); empty uses the sample city's (ONEMAP_DIRECTORY)")
	fs.StringVar(&c.WebhookSecrets, "webhook-secrets", c.WebhookSecrets, "JSON file of the webhooks' signing secrets by name, mode 0600 (ONEMAP_WEBHOOK_SECRETS)")
	fs.StringVar(&c.SMSGateway, "sms-gateway", c.SMSGateway, "URL the SMS texts of warnings are POSTed to as {phone, text}, with ONEMAP_SMS_TOKEN as bearer token (ONEMAP_SMS_GATEWAY)")
	fs.StringVar(&c.VoiceGateway, "voice-gateway", c.VoiceGateway, "URL the voice calls of warnings are POSTed to as {phone, text}, with ONEMAP_VOICE_TOKEN as bearer token (ONEMAP_VOICE_GATEWAY)")
	fs.StringVar(&c.LevelRules, "level-rules", c.LevelRules, "warning level rules file (JSON, docs/incidents.md); empty uses the embedded defaults (ONEMAP_LEVEL_RULES)")
	fs.StringVar(&c.IngestToken, "ingest-token", c.IngestToken, "a static device token POST /api/v1/readings takes, beside those of onemap tokens (ONEMAP_INGEST_TOKEN)")
	fs.BoolVar(&c.Simulate, "simulate", c.Simulate, "also simulate the city's sensors (and, on the sample city, play its scenarios), for a demonstration (ONEMAP_SIMULATE=1)")
	fs.StringVar(&c.MQTT, "mqtt", c.MQTT, "MQTT broker to take readings from, tcp://[user:password@]host:1883 (or tls://, ws://, wss://); empty takes none (ONEMAP_MQTT)")
	fs.StringVar(&c.MQTTTopic, "mqtt-topic", c.MQTTTopic, "topic filter of the readings; a wildcard's last level names the sensor when a reading has none; empty is "+mqttin.DefaultTopic+" (ONEMAP_MQTT_TOPIC)")
	fs.BoolVar(&c.MQTTTokens, "mqtt-tokens", c.MQTTTokens, `every MQTT message is an envelope {"token": device token, "readings": […]}, refused without a valid token; off trusts the broker's own authentication (ONEMAP_MQTT_TOKENS=1)`)
	fs.StringVar(&c.ViewToken, "view-token", c.ViewToken, "a static viewer's token, for the map, the alarms and /ws (?token=T) (ONEMAP_VIEW_TOKEN)")
	fs.BoolVar(&c.Anonymous, "anonymous", c.Anonymous, "let callers without credentials view the map and the alarms; turn off on a city's network (ONEMAP_ANONYMOUS=0)")
	fs.StringVar(&c.RolesFile, "roles", c.RolesFile, "roles file (JSON, docs/auth.md); empty uses the shipped roles (ONEMAP_ROLES)")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "certificate file (PEM) to serve HTTPS with, with --tls-key (ONEMAP_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "private key file (PEM) of --tls-cert (ONEMAP_TLS_KEY)")
	fs.StringVar(&c.RedirectAddr, "redirect-addr", c.RedirectAddr, "with --tls-cert, a plain HTTP address such as :80 that redirects every request to HTTPS (ONEMAP_REDIRECT_ADDR)")
	fs.BoolVar(&c.HTTPS, "https", c.HTTPS, "clients reach the server over HTTPS at a proxy: Secure cookies and HSTS without --tls-cert (ONEMAP_HTTPS=1)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (ONEMAP_TRUSTED_PROXIES)")
	fs.StringVar(&c.AllowedOrigins, "allowed-origins", c.AllowedOrigins, "comma-separated web origins, besides this server's own, whose pages may open /ws; * admits all (ONEMAP_ALLOWED_ORIGINS)")
	fs.StringVar(&c.NATS, "nats", c.NATS, "join other instances into one system over NATS JetStream: the servers, nats://host:4222, comma-separated; empty runs alone (ONEMAP_NATS)")
	fs.StringVar(&c.NATSName, "nats-name", c.NATSName, "this instance's name among those joined by --nats, unique among them; empty is the host name and the process id (ONEMAP_NATS_NAME)")
	fs.IntVar(&c.NATSReplicas, "nats-replicas", c.NATSReplicas, "how many NATS servers keep each stream: 3 on a cluster of three, 1 on a single server; 0 is 1")
	fs.IntVar(&c.NATSReadingsGB, "nats-readings-gb", c.NATSReadingsGB, "GiB the readings stream may hold on each NATS server: the last day of readings, about 3.5 GB a day for each 1,000 readings/s; when full, new readings are refused (ONEMAP_NATS_READINGS_GB)")
	fs.IntVar(&c.WSMaxClients, "ws-max-clients", c.WSMaxClients, "most connections to /ws at once; 0 is 20,000")
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "most HTTP connections open at once, /ws among them; more wait to be accepted (ONEMAP_MAX_CONNS)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "URL clients reach the server at, for links in TileJSON and the style; empty uses the request's host (ONEMAP_PUBLIC_URL)")
	fs.IntVar(&c.CacheMB, "cache-mb", c.CacheMB, "tile cache size in MiB, 0 to disable (ONEMAP_CACHE_MB)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (ONEMAP_LOG_LEVEL)")
	fs.Func("retention", "how long readings are kept, in days (30d) or hours (720h); cleared alarms stay three times as long (ONEMAP_RETENTION, default 30d)", func(v string) error {
		d, err := parseDays(v)
		if err != nil {
			return err
		}
		c.Retention = d
		return nil
	})
	fs.StringVar(&c.AccessLog, "access-log", c.AccessLog, "which requests get an access log line (at INFO): all, uncached (all but the tiles the tile cache answered) or off (ONEMAP_ACCESS_LOG)")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "address of a separate listener for the profiler, net/http/pprof, e.g. 127.0.0.1:6060; empty is off (ONEMAP_DEBUG_ADDR)")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "time between checkpoints of the live state (default 10m)")
}

// parseDays reads a duration given in days ("30d") or as Go writes one
// ("720h").
func parseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		d, err := strconv.ParseFloat(n, 64)
		if err != nil || math.IsNaN(d) || d < 0 || d > 3650 {
			return 0, fmt.Errorf("%q is not a number of days from 0 to 3650", v)
		}
		return time.Duration(d * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30d or 720h", v)
	}
	return d, nil
}

// Validate checks the configuration and names the first problem.
func (c *Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("--addr is empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is empty"))
	}
	if c.NATSReplicas < 0 || c.NATSReplicas > cluster.MaxReplicas {
		errs = append(errs, fmt.Errorf("--nats-replicas must be from 0 to %d", cluster.MaxReplicas))
	}
	if c.NATS == "" && (c.NATSName != "" || c.NATSReplicas != 0) {
		errs = append(errs, errors.New("--nats-name and --nats-replicas go with --nats"))
	}
	if c.NATSReadingsGB < 1 || c.NATSReadingsGB > maxReadingsGB {
		errs = append(errs, fmt.Errorf("--nats-readings-gb (ONEMAP_NATS_READINGS_GB) must be a whole number from 1 to %d", maxReadingsGB))
	}
	if c.WSMaxClients < 0 {
		errs = append(errs, errors.New("--ws-max-clients must be a whole number ≥ 0"))
	}
	for _, g := range [][3]string{{c.SMSGateway, "sms-gateway", "SMS_GATEWAY"}, {c.VoiceGateway, "voice-gateway", "VOICE_GATEWAY"}} {
		if g[0] == "" {
			continue
		}
		if u, err := url.Parse(g[0]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--%s (ONEMAP_%s) must be an http:// or https:// URL", g[1], g[2]))
		}
	}
	if c.Retention < time.Hour || c.Retention > 3650*24*time.Hour {
		errs = append(errs, errors.New("--retention (ONEMAP_RETENTION) must be from 1h to 3650d"))
	}
	if c.CheckpointEvery < time.Second {
		errs = append(errs, errors.New("--checkpoint-every must be at least 1s"))
	}
	if c.MaxConns < 1 {
		errs = append(errs, errors.New("--max-conns (ONEMAP_MAX_CONNS) must be a whole number ≥ 1"))
	}
	if c.CacheMB < 0 {
		errs = append(errs, fmt.Errorf("--cache-mb (ONEMAP_CACHE_MB) must be a whole number ≥ 0"))
	}
	if c.DB != "" && c.City != "" {
		errs = append(errs, errors.New("--city and --db exclude each other: load the city into the database with onemap load"))
	}
	if c.DB != "" && c.Snapshot != "" && c.Snapshot != "off" {
		errs = append(errs, errors.New("--snapshot is the memory store's; with --db, PostGIS holds the city"))
	}
	if c.DB != "" && c.Report != "" {
		errs = append(errs, errors.New("--report checks the city directory that serve reads; with --db, the city was read by onemap load, which takes --report too"))
	}
	if _, err := server.ParseAccessLog(c.AccessLog); err != nil {
		errs = append(errs, fmt.Errorf("--access-log (ONEMAP_ACCESS_LOG) %w", err))
	}
	if c.DebugAddr != "" && c.DebugAddr == c.Addr {
		errs = append(errs, errors.New("--debug-addr must differ from --addr: the profiler is never on the public listener"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.RedirectAddr != "" && c.TLSCert == "" {
		errs = append(errs, errors.New("--redirect-addr needs --tls-cert: it redirects to HTTPS"))
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// parseProxies reads --trusted-proxies: CIDRs or single addresses.
func parseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range splitList(v) {
		if pr, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not an address or a CIDR such as 10.0.0.0/8", p)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
