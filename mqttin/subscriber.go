package mqttin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/onemap/onemap/live"
)

// DefaultTopic is the topic filter subscribed to when none is given.
const DefaultTopic = "onemap/readings/#"

// MaxBatch bounds the readings ingested at once.
const MaxBatch = 5000

// Ingest checks and stores a body of readings: live.Service.Ingest, with
// allowed (nil: every sensor) saying whose readings the sender may send.
type Ingest func(ctx context.Context, body io.Reader, allowed func(*live.Sensor) bool) (*live.IngestResult, error)

// Authorize checks a device token from a message's envelope and says whose
// readings its holder may send (nil: every sensor's); an error refuses the
// message.
type Authorize func(ctx context.Context, token string) (allowed func(*live.Sensor) bool, err error)

// Options configure a Subscriber.
type Options struct {
	// Broker is the broker's URL: tcp://host:1883, or tls://, ws://, wss://.
	// A user and password in the URL are sent when connecting.
	Broker string
	// Topic is the topic filter; empty is DefaultTopic.
	Topic string
	// ClientID names onemap's session at the broker, which keeps it across
	// reconnections; empty is onemap-<hostname>.
	ClientID string
	Ingest   Ingest
	// Authorize, if set, makes every message an envelope
	// {"token": "om_…", "readings": […]} whose token it checks: a message
	// without a valid token is refused whole. Without it the broker's own
	// authentication of its clients is trusted.
	Authorize Authorize
	Log       *slog.Logger
	// ConnectTimeout bounds a connection attempt; 0 is 10 s.
	ConnectTimeout time.Duration
	// RetryWait is the wait before a batch ingest could not store is tried
	// again; it doubles with each failure, up to 30 s. 0 is 1 s.
	RetryWait time.Duration
}

// Stats counts what the subscriber has done.
type Stats struct {
	Connected bool `json:"connected"`
	// Messages counts the messages ingested (or refused) so far.
	Messages uint64 `json:"messages"`
	Accepted uint64 `json:"accepted"`
	Refused  uint64 `json:"refused"`
	// Failed counts the attempts to ingest that could not store a batch;
	// each such batch is tried again until it is stored.
	Failed uint64 `json:"failed"`
}

// Subscriber feeds the readings published to a broker into ingest.
type Subscriber struct {
	opt   Options
	url   *url.URL
	in    chan message
	stats struct {
		connected                           atomic.Bool
		messages, accepted, refused, failed atomic.Uint64
	}
}

// message is a received PUBLISH with the client that must acknowledge it.
type message struct {
	pub *paho.Publish
	cli *paho.Client
	// readings is the payload without its envelope, when it had one.
	readings []byte
}

// payload is the message's readings.
func (m *message) payload() []byte {
	if m.readings != nil {
		return m.readings
	}
	return m.pub.Payload
}

// New checks the options and returns a subscriber; Run connects it.
func New(o Options) (*Subscriber, error) {
	u, err := url.Parse(o.Broker)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("mqtt: broker %q is not a URL like tcp://host:1883", o.Broker)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "tls", "ssl", "mqtts", "ws", "wss":
	default:
		return nil, fmt.Errorf("mqtt: broker scheme %q is not one of tcp, mqtt, tls, ws, wss", u.Scheme)
	}
	if o.Topic == "" {
		o.Topic = DefaultTopic
	}
	if err := checkFilter(o.Topic); err != nil {
		return nil, err
	}
	if o.ClientID == "" {
		host, _ := os.Hostname()
		o.ClientID = "onemap-" + host
	}
	if o.Ingest == nil {
		return nil, errors.New("mqtt: no ingest")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.RetryWait <= 0 {
		o.RetryWait = time.Second
	}
	return &Subscriber{opt: o, url: u, in: make(chan message, MaxBatch)}, nil
}

// checkFilter says what is wrong with a topic filter, if anything.
func checkFilter(f string) error {
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return fmt.Errorf("mqtt: topic %q: # may only be the last level", f)
		case l != "#" && l != "+" && strings.ContainsAny(l, "#+"):
			return fmt.Errorf("mqtt: topic %q: a wildcard must be a whole level", f)
		}
	}
	return nil
}

// Stats returns the subscriber's counts.
func (s *Subscriber) Stats() Stats {
	return Stats{
		Connected: s.stats.connected.Load(),
		Messages:  s.stats.messages.Load(),
		Accepted:  s.stats.accepted.Load(),
		Refused:   s.stats.refused.Load(),
		Failed:    s.stats.failed.Load(),
	}
}

// Run connects to the broker, reconnecting whenever it goes away, and
// ingests what it receives until ctx is done.
func (s *Subscriber) Run(ctx context.Context) error {
	log := s.opt.Log.With("broker", s.url.Redacted(), "topic", s.opt.Topic)
	cfg := autopaho.ClientConfig{
		ServerUrls: []*url.URL{s.url},
		KeepAlive:  30,
		// The broker keeps the session, and the messages not yet
		// acknowledged, for a day while onemap is away.
		SessionExpiryInterval: 24 * 60 * 60,
		ReconnectBackoff:      autopaho.NewExponentialBackoff(250*time.Millisecond, 30*time.Second, time.Second, 2),
		ConnectTimeout:        s.opt.ConnectTimeout,
		OnConnectionUp: func(cm *autopaho.ConnectionManager, ack *paho.Connack) {
			s.stats.connected.Store(true)
			log.Info("mqtt connected", "session_present", ack.SessionPresent)
			go func() {
				_, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: s.opt.Topic, QoS: 1}}})
				if err != nil && ctx.Err() == nil {
					log.Error("mqtt subscribe", "err", err)
				}
			}()
		},
		OnConnectionDown: func() bool {
			s.stats.connected.Store(false)
			log.Warn("mqtt connection lost; reconnecting")
			return true
		},
		OnConnectError: func(err error) { log.Warn("mqtt connect", "err", err) },
		ClientConfig: paho.ClientConfig{
			ClientID:                   s.opt.ClientID,
			EnableManualAcknowledgment: true,
			SendAcksInterval:           50 * time.Millisecond,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				select {
				case s.in <- message{pub: pr.Packet, cli: pr.Client}:
				case <-ctx.Done():
				}
				return true, nil
			}},
		},
	}
	if u := s.url.User; u != nil {
		cfg.ConnectUsername = u.Username()
		if p, ok := u.Password(); ok {
			cfg.ConnectPassword = []byte(p)
		}
	}
	cm, err := autopaho.NewConnection(ctx, cfg)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	s.ingestLoop(ctx, log)
	<-cm.Done()
	return nil
}

// ingestLoop takes the messages as they come, as many at once as are
// waiting, and acknowledges each once ingest has stored its readings.
func (s *Subscriber) ingestLoop(ctx context.Context, log *slog.Logger) {
	var batch []message
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case m := <-s.in:
			batch = append(batch, m)
		}
	fill:
		for len(batch) < MaxBatch {
			select {
			case m := <-s.in:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		if !s.ingestAuthorized(ctx, batch, log) {
			return
		}
		for _, m := range batch {
			if err := m.cli.Ack(m.pub); err != nil {
				log.Warn("mqtt ack", "err", err)
			}
		}
	}
}

// ingestAuthorized ingests a batch: whole without Authorize, else by the
// token of each message's envelope, one ingest per token, the messages
// without a valid token refused.
func (s *Subscriber) ingestAuthorized(ctx context.Context, batch []message, log *slog.Logger) bool {
	if s.opt.Authorize == nil {
		return s.ingest(ctx, batch, nil, log)
	}
	type group struct {
		allowed func(*live.Sensor) bool
		msgs    []message
	}
	groups := map[string]*group{}
	var order []string
	for _, m := range batch {
		token, readings, ok := openEnvelope(m.pub.Payload)
		if !ok {
			s.stats.messages.Add(1)
			s.stats.refused.Add(1)
			log.Warn("mqtt message refused", "mqtt_topic", m.pub.Topic, "code", "unauthorized", "message", `not an envelope {"token": "om_…", "readings": […]} with a token`)
			continue
		}
		g, seen := groups[token]
		if !seen {
			allowed, err := s.opt.Authorize(ctx, token)
			if err != nil {
				g = nil
				log.Warn("mqtt message refused", "mqtt_topic", m.pub.Topic, "code", "unauthorized", "message", "the token is not valid: unknown, revoked or mistyped")
			} else {
				g = &group{allowed: allowed}
				order = append(order, token)
			}
			groups[token] = g
		}
		if g == nil {
			s.stats.messages.Add(1)
			s.stats.refused.Add(1)
			continue
		}
		m.readings = readings
		g.msgs = append(g.msgs, m)
	}
	for _, token := range order {
		g := groups[token]
		if !s.ingest(ctx, g.msgs, g.allowed, log) {
			return false
		}
	}
	return true
}

// ingest stores the readings of a batch of messages, trying again while
// the store fails; it returns false when ctx is done first.
func (s *Subscriber) ingest(ctx context.Context, batch []message, allowed func(*live.Sensor) bool, log *slog.Logger) bool {
	var body bytes.Buffer
	body.WriteByte('[')
	// from[i] is the index of message i's first reading in the body.
	from := make([]int, len(batch)+1)
	n := 0
	for i, m := range batch {
		from[i] = n
		elems, ok := splitPayload(m.payload(), topicSensor(s.opt.Topic, m.pub.Topic))
		if !ok {
			s.stats.refused.Add(1)
			log.Warn("mqtt reading refused", "mqtt_topic", m.pub.Topic, "code", live.CodeMalformed, "message", "the payload is not JSON: a reading object, an array of them, or NDJSON")
			continue
		}
		for _, e := range elems {
			if !live.IsReading(e) {
				// One message's junk must not end the others' batch.
				s.stats.refused.Add(1)
				log.Warn("mqtt reading refused", "mqtt_topic", m.pub.Topic, "code", live.CodeMalformed, "message", "not a reading object {sensor, metric, value, unit?, ts}")
				continue
			}
			if n > 0 {
				body.WriteByte(',')
			}
			body.Write(e)
			n++
		}
	}
	from[len(batch)] = n
	body.WriteByte(']')
	if n == 0 {
		s.stats.messages.Add(uint64(len(batch)))
		return true
	}
	for try := 0; ; try++ {
		res, err := s.opt.Ingest(ctx, bytes.NewReader(body.Bytes()), allowed)
		if err == nil || res != nil && errors.Is(err, live.ErrTooMany) {
			// Past live.MaxBatch the rest is not read; trying again would
			// not read it either.
			s.stats.accepted.Add(uint64(res.Accepted))
			s.stats.refused.Add(uint64(res.RefusedTotal))
			for _, r := range res.Refused {
				i := msgOf(from, r.Index)
				log.Warn("mqtt reading refused", "mqtt_topic", batch[i].pub.Topic, "index", r.Index-from[i], "code", r.Code, "message", r.Message)
			}
			s.stats.messages.Add(uint64(len(batch)))
			return true
		}
		s.stats.failed.Add(1)
		wait := min(time.Duration(1<<min(try, 5))*s.opt.RetryWait, 30*time.Second)
		log.Error("mqtt ingest failed; the batch stays unacknowledged and is tried again", "readings", n, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// msgOf returns the message a reading index of the body came from.
func msgOf(from []int, idx int) int {
	i := 0
	for i+1 < len(from)-1 && from[i+1] <= idx {
		i++
	}
	return i
}
