package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/onemap/onemap/hub"
)

// The names of what a cluster keeps in JetStream. Every instance uses the
// same ones: they are the cluster's wire contract.
const (
	EventsStream    = "ONEMAP_EVENTS"   // the live channel's events, subjects EventsSubject.<topic>
	ReadingsStream  = "ONEMAP_READINGS" // readings batches, subjects ReadingsSubject.<partition>
	HistoryStream   = "ONEMAP_HISTORY"  // the decisions taken on readings and by people, subject HistorySubject
	LeaseBucket     = "onemap_leases"   // partition leases and instance presence
	EventsSubject   = "onemap.events"
	ReadingsSubject = "onemap.readings"
	HistorySubject  = "onemap.history"
)

// Options configure a Node. The stream and bucket settings are the
// cluster's: every instance should give the same, and the last to join
// sets them.
type Options struct {
	// URL is the NATS server, or a comma-separated list of them.
	URL string
	// Name is this instance's name, unique among the live instances:
	// letters, digits, '-' and '_', at most 64. "" is the host name and
	// the process id.
	Name string
	// Replicas is how many servers keep each stream, consumer and the
	// bucket: 1 for a single server, 3 for a cluster. 0 is 1.
	Replicas int

	// EventsMaxAge is how long the events stream keeps an event, and so
	// how far back a starting instance replays; give the hub the same
	// MaxAge. 0 is 10 minutes.
	EventsMaxAge time.Duration
	// EventsMaxBytes bounds the events stream; past it the oldest go.
	// 0 is 256 MiB.
	EventsMaxBytes int64
	// ReadingsMaxAge is how long the readings stream keeps a batch. 0 is
	// 24 hours.
	ReadingsMaxAge time.Duration
	// ReadingsMaxBytes bounds the readings stream; past it new batches
	// are refused, so that none acknowledged is lost. 0 is 4 GiB.
	ReadingsMaxBytes int64
	// HistoryMaxBytes bounds the history stream, kept without a limit of
	// age: past it new decisions are refused, never old ones dropped.
	// 0 is 1 GiB.
	HistoryMaxBytes int64
	// MaxMsgSize bounds one message of either stream, headers included;
	// 0 is 1 MiB, the NATS server's default max_payload.
	MaxMsgSize int32
	// Duplicates is how long the readings stream remembers message ids to
	// drop a batch sent again; 0 is 2 minutes.
	Duplicates time.Duration

	// LeaseTTL is how long a partition lease, and an instance's presence,
	// lives without being renewed; both are renewed every third of it.
	// A dead instance's partitions move after about LeaseTTL. 0 is 6 s.
	LeaseTTL time.Duration

	// EventQueue bounds the events waiting to be published; past it
	// Publish drops them. 0 is 8,192.
	EventQueue int
	// EventsInFlight bounds the events published and not yet acknowledged
	// by the stream. 0 is 256.
	EventsInFlight int
	// ReplayMax bounds how many events the bus's Subscribe replays: the
	// last ones of the last EventsMaxAge. Give the hub a History at least
	// as long. 0 is 100,000, the hub's default History.
	ReplayMax int
	// ReplayTimeout bounds how long the bus's Subscribe waits for the
	// replay of the stream. 0 is 30 s.
	ReplayTimeout time.Duration
	// CloseTimeout bounds Close. 0 is 10 s.
	CloseTimeout time.Duration

	// NATS are more options for the connection: credentials, TLS.
	NATS []nats.Option
	Log  *slog.Logger
}

// Limits of the options.
const (
	MaxNameLen  = 64
	MinLeaseTTL = 300 * time.Millisecond // renewals every 100 ms: any less is noise
	MaxReplicas = 5
)

// ErrBadOptions is wrapped by the errors of Options that cannot work.
var ErrBadOptions = errors.New("cluster: bad options")

// ErrClosed is returned by the calls of a closed Node.
var ErrClosed = errors.New("cluster: node closed")

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (o Options) withDefaults() (Options, error) {
	if strings.TrimSpace(o.URL) == "" {
		return o, fmt.Errorf("%w: no NATS URL", ErrBadOptions)
	}
	if o.Name == "" {
		o.Name = defaultName()
	}
	if len(o.Name) > MaxNameLen || !nameRE.MatchString(o.Name) {
		return o, fmt.Errorf("%w: name %q: letters, digits, '-' and '_', at most %d", ErrBadOptions, o.Name, MaxNameLen)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.EventsMaxAge, 10*time.Minute)
	def(&o.ReadingsMaxAge, 24*time.Hour)
	def(&o.Duplicates, 2*time.Minute)
	def(&o.LeaseTTL, 6*time.Second)
	def(&o.ReplayTimeout, 30*time.Second)
	def(&o.CloseTimeout, 10*time.Second)
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.EventsMaxBytes <= 0 {
		o.EventsMaxBytes = 256 << 20
	}
	if o.ReadingsMaxBytes <= 0 {
		o.ReadingsMaxBytes = 4 << 30
	}
	if o.HistoryMaxBytes <= 0 {
		o.HistoryMaxBytes = 1 << 30
	}
	if o.MaxMsgSize <= 0 {
		o.MaxMsgSize = 1 << 20
	}
	if o.EventQueue <= 0 {
		o.EventQueue = 8192
	}
	if o.ReplayMax <= 0 {
		o.ReplayMax = 100_000
	}
	if o.EventsInFlight <= 0 {
		o.EventsInFlight = 256
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	switch {
	case o.Replicas > MaxReplicas:
		return o, fmt.Errorf("%w: %d replicas, at most %d", ErrBadOptions, o.Replicas, MaxReplicas)
	case o.LeaseTTL < MinLeaseTTL:
		return o, fmt.Errorf("%w: lease TTL %v, at least %v", ErrBadOptions, o.LeaseTTL, MinLeaseTTL)
	case o.MaxMsgSize < 4096:
		return o, fmt.Errorf("%w: max message size %d, at least 4096", ErrBadOptions, o.MaxMsgSize)
	}
	// A stream remembers ids no longer than it keeps messages.
	o.Duplicates = min(o.Duplicates, o.ReadingsMaxAge)
	return o, nil
}

// defaultName is the host name and the process id, made a valid name.
func defaultName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "onemap"
	}
	host = strings.Map(func(r rune) rune {
		if r < 128 && nameRE.MatchString(string(r)) {
			return r
		}
		return '_'
	}, host)
	pid := strconv.Itoa(os.Getpid())
	return host[:min(len(host), MaxNameLen-1-len(pid))] + "-" + pid
}

// Node is one onemap instance joined to the cluster: its connection, its
// bus, its partition leases and its readings consumers. It is safe for
// concurrent use.
type Node struct {
	opt   Options
	log   *slog.Logger
	nc    *nats.Conn
	js    jetstream.JetStream // requests and readings
	ejs   jetstream.JetStream // the events' async publishing
	kv    jetstream.KeyValue
	owner *Owner
	bus   *bus

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	closed chan struct{} // the connection is closed
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	stats counters
}

// Join connects to NATS, creates or updates the streams and the bucket,
// announces the instance and takes its share of the partitions.
func Join(ctx context.Context, o Options) (*Node, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Node{opt: o, log: o.Log.With("instance", o.Name), closed: make(chan struct{})}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if err := n.connect(ctx); err != nil {
		n.cancel()
		return nil, err
	}
	if err := n.setup(ctx); err != nil {
		n.cancel()
		n.nc.Close()
		return nil, err
	}
	n.bus = newBus(n)
	n.owner = newOwner(n)
	if err := n.owner.start(ctx); err != nil {
		n.cancel()
		n.nc.Close()
		return nil, err
	}
	n.log.Info("cluster: joined", "url", n.nc.ConnectedUrlRedacted(), "replicas", o.Replicas)
	return n, nil
}

func (n *Node) connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	opts := []nats.Option{
		nats.Name("onemap " + n.opt.Name),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1), // an instance without NATS is no instance: keep trying
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DrainTimeout(n.opt.CloseTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				n.log.Warn("cluster: disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			n.log.Info("cluster: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			n.log.Warn("cluster: NATS error", "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(n.closed) }),
	}
	nc, err := nats.Connect(n.opt.URL, append(opts, n.opt.NATS...)...)
	if err != nil {
		return fmt.Errorf("cluster: connect to NATS: %w", err)
	}
	n.nc = nc
	if mp := nc.MaxPayload(); mp < int64(n.opt.MaxMsgSize) {
		nc.Close()
		return fmt.Errorf("%w: max message size %d is over the server's max payload %d", ErrBadOptions, n.opt.MaxMsgSize, mp)
	}
	return nil
}

// setup creates or updates the streams and the bucket.
func (n *Node) setup(ctx context.Context) error {
	var err error
	if n.js, err = jetstream.New(n.nc); err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	n.ejs, err = jetstream.New(n.nc,
		jetstream.WithPublishAsyncMaxPending(n.opt.EventsInFlight),
		jetstream.WithPublishAsyncTimeout(10*time.Second),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			n.stats.eventsFailed.Add(1)
			n.logRarely(&n.stats.eventsFailedLog, "cluster: an event was not stored", "subject", m.Subject, "err", err, "failed", n.stats.eventsFailed.Load())
		}))
	if err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	o := n.opt
	streams := []jetstream.StreamConfig{{
		Name:        EventsStream,
		Description: "onemap live channel events, numbered for every instance",
		Subjects:    []string{EventsSubject + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      o.EventsMaxAge,
		MaxBytes:    o.EventsMaxBytes,
		Discard:     jetstream.DiscardOld, // the live channel's oldest events are the first to spare
		MaxMsgSize:  o.MaxMsgSize,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		Duplicates:  min(time.Minute, o.EventsMaxAge),
	}, {
		Name:        ReadingsStream,
		Description: "onemap reading batches, by partition",
		Subjects:    []string{ReadingsSubject + ".*"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      o.ReadingsMaxAge,
		MaxBytes:    o.ReadingsMaxBytes,
		Discard:     jetstream.DiscardNew, // refuse, and the sender retries, rather than drop what was acknowledged
		MaxMsgSize:  o.MaxMsgSize,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		Duplicates:  o.Duplicates,
	}, {
		Name:        HistoryStream,
		Description: "onemap decisions: alarm transitions, acknowledgements, rules versions",
		Subjects:    []string{HistorySubject},
		Retention:   jetstream.LimitsPolicy,
		MaxBytes:    o.HistoryMaxBytes,
		Discard:     jetstream.DiscardNew, // a decision is the state: never drop one
		MaxMsgSize:  o.MaxMsgSize,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		Duplicates:  o.Duplicates,
	}}
	for _, cfg := range streams {
		if _, err := n.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("cluster: stream %s: %w", cfg.Name, err)
		}
	}
	n.kv, err = n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       LeaseBucket,
		Description:  "onemap partition leases and instance presence",
		TTL:          o.LeaseTTL,
		History:      1,
		MaxValueSize: 256,
		MaxBytes:     4 << 20, // a hundred keys of a few bytes, and their markers
		Storage:      jetstream.FileStorage,
		Replicas:     o.Replicas,
	})
	if err != nil {
		return fmt.Errorf("cluster: bucket %s: %w", LeaseBucket, err)
	}
	return nil
}

// Name returns the instance's name.
func (n *Node) Name() string { return n.opt.Name }

// Owner returns the instance's partition leases.
func (n *Node) Owner() *Owner { return n.owner }

// Bus returns the bus that carries the hub's events through the events
// stream: give it to hub.New. It numbers events with their stream
// sequence (it is a hub.Numbering).
func (n *Node) Bus() hub.Bus { return n.bus }

// Close gives up the partitions (after their consumers stop), publishes
// the events still queued, and drains the connection, within
// Options.CloseTimeout.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), n.opt.CloseTimeout)
		defer cancel()
		var errs []error
		if err := n.owner.close(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := n.bus.flush(ctx); err != nil {
			errs = append(errs, err)
		}
		n.cancel()
		n.wg.Wait()
		if err := n.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("cluster: drain: %w", err))
		}
		select {
		case <-n.closed:
		case <-ctx.Done():
			n.nc.Close()
			errs = append(errs, fmt.Errorf("cluster: drain: %w", ctx.Err()))
		}
		n.closeErr = errors.Join(errs...)
		n.log.Info("cluster: left")
	})
	return n.closeErr
}

// Stats are the node's counters since it joined.
type Stats struct {
	EventsPublished   uint64 `json:"events_published"`   // handed to the stream
	EventsFailed      uint64 `json:"events_failed"`      // not stored: no acknowledgement, or refused
	EventsDropped     uint64 `json:"events_dropped"`     // not sent: the queue was full, or the event could not be encoded
	EventsReceived    uint64 `json:"events_received"`    // delivered to a hub, replays included
	EventsUndecodable uint64 `json:"events_undecodable"` // messages of the events stream that are no event
	ReadingsPublished uint64 `json:"readings_published"` // batches acknowledged by the stream
	ReadingsDuplicate uint64 `json:"readings_duplicate"` // batches the stream already had, by message id
	HistoryPublished  uint64 `json:"history_published"`  // messages of decisions stored
	Archived          uint64 `json:"archived"`           // messages copied into the system of record
	Partitions        int    `json:"partitions"`         // partitions held now
}

type counters struct {
	eventsPublished, eventsFailed, eventsDropped, eventsReceived, eventsUndecodable atomic.Uint64
	readingsPublished, readingsDuplicate                                            atomic.Uint64
	historyPublished, archived                                                      atomic.Uint64

	// When each kind of failure was last logged, in Unix nanoseconds.
	eventsFailedLog, eventsDroppedLog, eventsUndecodableLog, archiveFailedLog atomic.Int64
}

// Health is nil while the node is connected to a NATS server and holds
// its presence; the error says what is wrong.
func (n *Node) Health() error {
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	if st := n.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("cluster: not connected to NATS (%s)", strings.ToLower(st.String()))
	}
	return nil
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	c := &n.stats
	return Stats{
		EventsPublished:   c.eventsPublished.Load(),
		EventsFailed:      c.eventsFailed.Load(),
		EventsDropped:     c.eventsDropped.Load(),
		EventsReceived:    c.eventsReceived.Load(),
		EventsUndecodable: c.eventsUndecodable.Load(),
		ReadingsPublished: c.readingsPublished.Load(),
		ReadingsDuplicate: c.readingsDuplicate.Load(),
		HistoryPublished:  c.historyPublished.Load(),
		Archived:          c.archived.Load(),
		Partitions:        len(n.owner.Partitions()),
	}
}

// logRarely logs a warning at most every ten seconds for one kind of
// failure: a storm of failed events must not become a storm of logs.
func (n *Node) logRarely(last *atomic.Int64, msg string, args ...any) {
	now := time.Now().UnixNano()
	prev := last.Load()
	if now-prev < int64(10*time.Second) || !last.CompareAndSwap(prev, now) {
		return
	}
	n.log.Warn(msg, args...)
}

// sleep waits d or until ctx is done, and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
