package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/onemap/onemap/hub"
)

// bus is a Node's hub.Bus: Publish queues an event for the events stream,
// and Subscribe replays the stream's last EventsMaxAge, then follows it,
// numbering every event with its stream sequence.
type bus struct {
	n     *Node
	queue chan hub.Event
	stop  chan struct{} // asks the publisher to send what is queued and end
	once  sync.Once
	done  chan struct{} // the publisher has ended
}

var _ hub.Numbering = (*bus)(nil)

func newBus(n *Node) *bus {
	b := &bus{n: n, queue: make(chan hub.Event, n.opt.EventQueue), stop: make(chan struct{}), done: make(chan struct{})}
	go b.publish()
	return b
}

// NumbersEvents reports that the bus numbers events: with their sequence
// in the events stream, the same on every instance.
func (b *bus) NumbersEvents() bool { return true }

// Publish queues an event for the stream; it never blocks. The event's Seq
// is not sent: the stream gives it.
func (b *bus) Publish(ev hub.Event) {
	select {
	case b.queue <- ev:
	default:
		b.n.stats.eventsDropped.Add(1)
		b.n.logRarely(&b.n.stats.eventsDroppedLog, "cluster: event queue full; events dropped", "queue", cap(b.queue), "dropped", b.n.stats.eventsDropped.Load())
	}
}

// publish sends the queued events, at most EventsInFlight unacknowledged.
func (b *bus) publish() {
	defer close(b.done)
	for {
		select {
		case ev := <-b.queue:
			b.send(ev)
		case <-b.stop:
			for {
				select {
				case ev := <-b.queue:
					b.send(ev)
				default:
					return
				}
			}
		case <-b.n.ctx.Done():
			return
		}
	}
}

func (b *bus) send(ev hub.Event) {
	n := b.n
	msg, err := encodeEvent(ev, n.opt.Name)
	if err == nil && len(msg.Data) > int(n.opt.MaxMsgSize)-64 {
		err = fmt.Errorf("%d bytes, over the max message size %d", len(msg.Data), n.opt.MaxMsgSize)
	}
	if err != nil {
		n.stats.eventsDropped.Add(1)
		n.logRarely(&n.stats.eventsDroppedLog, "cluster: event not sent", "topic", ev.Topic, "id", ev.ID, "err", err)
		return
	}
	for {
		// PublishMsgAsync waits a moment when EventsInFlight are
		// unacknowledged, then gives up: wait again, this goroutine is
		// the queue's only reader.
		_, err := n.ejs.PublishMsgAsync(msg)
		if err == nil {
			n.stats.eventsPublished.Add(1)
			return
		}
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) && n.ctx.Err() == nil {
			continue
		}
		n.stats.eventsFailed.Add(1)
		n.logRarely(&n.stats.eventsFailedLog, "cluster: event not published", "topic", ev.Topic, "err", err, "failed", n.stats.eventsFailed.Load())
		return
	}
}

// flush sends what is queued and waits for the stream's acknowledgements,
// until ctx is done.
func (b *bus) flush(ctx context.Context) error {
	b.once.Do(func() { close(b.stop) })
	select {
	case <-b.done:
	case <-ctx.Done():
		return fmt.Errorf("cluster: flush events: %w", ctx.Err())
	}
	select {
	case <-b.n.ejs.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: flush events: %d unacknowledged: %w", b.n.ejs.PublishAsyncPending(), ctx.Err())
	}
}

// Subscribe calls fn with every event of the stream from EventsMaxAge ago
// (at most the last ReplayMax) on, numbered with its stream sequence,
// until cancel is called. It
// returns once the replay has reached the end of the stream, or after
// ReplayTimeout: a hub over it then holds the same history as the hubs of
// the other instances.
func (b *bus) Subscribe(fn func(hub.Event)) (cancel func()) {
	ctx, stop := context.WithCancel(b.n.ctx)
	s := &subscription{n: b.n, fn: fn, replayed: make(chan struct{}), done: make(chan struct{})}
	go s.run(ctx)
	t := time.NewTimer(b.n.opt.ReplayTimeout)
	defer t.Stop()
	select {
	case <-s.replayed:
	case <-ctx.Done():
	case <-t.C:
		b.n.log.Warn("cluster: the events replay goes on after the timeout; clients may resync until it ends", "timeout", b.n.opt.ReplayTimeout)
	}
	return func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		stop()
		<-s.done
	}
}

// subscription follows the events stream for one subscriber.
type subscription struct {
	n        *Node
	target   uint64 // the replay is done at this sequence
	last     uint64 // the last sequence delivered
	replayed chan struct{}
	once     sync.Once
	done     chan struct{}

	mu      sync.Mutex // held while fn runs: no call once stopped
	fn      func(hub.Event)
	stopped bool
}

func (s *subscription) run(ctx context.Context) {
	defer close(s.done)
	var cc jetstream.ConsumeContext
	for attempt := 0; cc == nil; attempt++ {
		if attempt > 0 && !sleep(ctx, backoff(attempt)) {
			return
		}
		var err error
		if cc, err = s.follow(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.n.log.Warn("cluster: follow the events stream", "err", err, "attempt", attempt+1)
		}
	}
	<-ctx.Done()
	cc.Stop()
}

// follow starts an ordered consumer of the stream from EventsMaxAge ago:
// it delivers in order, without gaps, and starts again after the last
// sequence delivered whenever it loses its place (a reconnect, a server
// gone).
func (s *subscription) follow(ctx context.Context) (jetstream.ConsumeContext, error) {
	start := time.Now().Add(-s.n.opt.EventsMaxAge)
	st, err := s.n.js.Stream(ctx, EventsStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", EventsStream, err)
	}
	info := st.CachedInfo()
	if info.State.Msgs == 0 || info.State.LastTime.Before(start) {
		s.once.Do(func() { close(s.replayed) }) // nothing to replay
	}
	s.target = info.State.LastSeq
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{EventsSubject + ".>"},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
	}
	if most := uint64(s.n.opt.ReplayMax); info.State.Msgs > most {
		// More than a hub keeps: only the last ReplayMax.
		cfg.DeliverPolicy, cfg.OptStartTime, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, nil, info.State.LastSeq-most+1
	}
	cons, err := s.n.js.OrderedConsumer(ctx, EventsStream, cfg)
	if err != nil {
		return nil, fmt.Errorf("consumer of %s: %w", EventsStream, err)
	}
	cc, err := cons.Consume(s.handle, pullExpiry, pullHeartbeat, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if ctx.Err() == nil {
			s.n.log.Debug("cluster: events consumer", "err", err)
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", EventsStream, err)
	}
	return cc, nil
}

// handle delivers one message of the stream; the consumer calls it in
// order, one at a time.
func (s *subscription) handle(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		return
	}
	seq := meta.Sequence.Stream
	if seq <= s.last {
		return // delivered before the consumer started again
	}
	s.last = seq
	if ev, err := decodeEvent(msg.Data()); err != nil {
		s.n.stats.eventsUndecodable.Add(1)
		s.n.logRarely(&s.n.stats.eventsUndecodableLog, "cluster: a message of the events stream is no event", "seq", seq, "subject", msg.Subject(), "err", err)
	} else {
		ev.Seq = seq
		s.mu.Lock()
		if !s.stopped {
			s.fn(ev)
		}
		s.mu.Unlock()
		s.n.stats.eventsReceived.Add(1)
	}
	if seq >= s.target || meta.NumPending == 0 {
		s.once.Do(func() { close(s.replayed) })
	}
}

// wireEvent is an event as the events stream carries it, JSON. Data is
// spliced in as it is, so that every instance sends its clients the same
// bytes.
type wireEvent struct {
	Topic    hub.Topic       `json:"topic"`
	ID       uint64          `json:"id,omitempty"`
	Part     string          `json:"part,omitempty"`
	Point    [2]float64      `json:"point,omitzero"`
	Located  bool            `json:"located,omitempty"`
	MinZoom  float64         `json:"min_zoom,omitempty"`
	Deferred bool            `json:"deferred,omitempty"`
	Time     time.Time       `json:"time,omitzero"`
	From     string          `json:"from,omitempty"` // the instance that published it
	Data     json.RawMessage `json:"data,omitempty"`
}

// MaxTopicLen bounds a topic, which is a token of the event's subject.
const MaxTopicLen = 64

func validTopic(t hub.Topic) bool {
	return t != "" && len(t) <= MaxTopicLen && !strings.ContainsAny(string(t), ".*> \t\r\n")
}

// encodeEvent returns the message of an event: its subject, and the event
// as JSON with Data as it is (less surrounding whitespace) when it is a
// json.RawMessage, else as json.Marshal writes it.
func encodeEvent(ev hub.Event, from string) (*nats.Msg, error) {
	if !validTopic(ev.Topic) {
		return nil, fmt.Errorf("topic %q is no subject token", ev.Topic)
	}
	var data []byte
	switch d := ev.Data.(type) {
	case json.RawMessage:
		// Whitespace around the value does not survive the envelope:
		// drop it here, so that this instance sends what the others do.
		data = bytes.TrimSpace(d)
		if !json.Valid(data) {
			return nil, errors.New("data is not valid JSON")
		}
	default:
		var err error
		if data, err = json.Marshal(d); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	w := wireEvent{Topic: ev.Topic, ID: ev.ID, Part: ev.Part, Point: ev.Point, Located: ev.Located,
		MinZoom: ev.MinZoom, Deferred: ev.Deferred, Time: ev.Time, From: from}
	head, err := json.Marshal(&w)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(head) + len(data) + 8)
	buf.Write(head[:len(head)-1]) // without its closing brace
	buf.WriteString(`,"data":`)
	buf.Write(data)
	buf.WriteByte('}')
	return &nats.Msg{Subject: EventsSubject + "." + string(ev.Topic), Data: buf.Bytes()}, nil
}

// decodeEvent reads an event from a message of the events stream; Data is
// a json.RawMessage of the bytes published.
func decodeEvent(p []byte) (hub.Event, error) {
	var w wireEvent
	if err := json.Unmarshal(p, &w); err != nil {
		return hub.Event{}, err
	}
	if !validTopic(w.Topic) || w.Data == nil {
		return hub.Event{}, errors.New("no topic or no data")
	}
	return hub.Event{Topic: w.Topic, ID: w.ID, Part: w.Part, Point: w.Point, Located: w.Located,
		MinZoom: w.MinZoom, Deferred: w.Deferred, Time: w.Time, Data: w.Data}, nil
}

// backoff is the wait before the attempt-th retry: doubling from 100 ms to
// 5 s.
func backoff(attempt int) time.Duration {
	return min(100*time.Millisecond<<min(attempt, 10), 5*time.Second)
}
