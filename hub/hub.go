package hub

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/rtree"
)

// Options configure a Hub.
type Options struct {
	// Snapshot returns the current state within a subscription; the hub
	// keeps only what the subscription wants of it. It is called from the
	// client's goroutine, never with a lock of the hub held.
	Snapshot func(sub Subscription) []Event
	// Bus carries events to the hub; nil is an in-process LocalBus.
	Bus Bus
	// History is how many events are kept for resuming clients; 0 is
	// 100,000 (ten seconds of a busy city at 10,000 readings/s).
	History int
	// MaxAge is how long an event is kept for resuming clients; 0 is 10
	// minutes.
	MaxAge time.Duration
	// MaxPending bounds the features a client may have waiting; past it
	// the client is told to resync. 0 is 4,096.
	MaxPending int
	// MaxClients bounds the clients connected at once; 0 is 20,000.
	MaxClients int
	// DeferFor is how long a deferred event may wait for a client; 0 is
	// one second. A busy city's values then reach a client once a second,
	// coalesced, while changes of state go at once.
	DeferFor time.Duration
	// FirstSeq is the sequence number before the first event; 0 takes the
	// time in microseconds, so that numbers from an earlier run of the
	// server are older than any of this run and resume as too old. It is
	// not used when the bus numbers events (see Numbering).
	FirstSeq uint64
	Now      func() time.Time
	Log      *slog.Logger
}

// ErrClosed is returned by a closed client or hub.
var ErrClosed = errors.New("hub: closed")

// ErrFull is returned by Connect when the hub has MaxClients clients.
var ErrFull = errors.New("hub: too many clients")

// Hub fans events out to its clients. It is safe for concurrent use.
type Hub struct {
	opt         Options
	cancelBus   func()
	wake        chan struct{} // an event waits for the dispatcher
	done        chan struct{}
	dispatching sync.WaitGroup

	// logMu guards the history; Publish takes only this lock, briefly.
	logMu sync.Mutex
	log   ring
	seq   uint64 // the last sequence number given
	// numbered is set when the bus numbers events: the hub keeps their
	// Seq, which may have gaps and starts wherever the bus is.
	numbered bool

	// mu guards the clients and the index; it is held while events are
	// dispatched, so that a subscription sees each event exactly once.
	mu      sync.Mutex
	clients map[*Client]struct{}
	// tree indexes subscribed clients by the bound of their region: an
	// event reaches only the clients whose region may hold it.
	tree   rtree.RTreeG[*Client]
	cursor atomic.Uint64 // every event up to here has been dispatched
	closed bool

	counts counters
}

// New returns a hub listening to its bus.
func New(o Options) *Hub {
	if o.Bus == nil {
		o.Bus = NewLocalBus()
	}
	if o.History <= 0 {
		o.History = 100_000
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 10 * time.Minute
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 4096
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 20_000
	}
	if o.DeferFor <= 0 {
		o.DeferFor = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	nb, numbered := o.Bus.(Numbering)
	numbered = numbered && nb.NumbersEvents()
	switch {
	case numbered:
		o.FirstSeq = 0 // the bus's first event sets where the history starts
	case o.FirstSeq == 0:
		o.FirstSeq = uint64(o.Now().UnixMicro())
	}
	h := &Hub{opt: o, wake: make(chan struct{}, 1), done: make(chan struct{}), clients: map[*Client]struct{}{}, seq: o.FirstSeq, numbered: numbered}
	h.log.buf = make([]entry, o.History)
	h.log.dropped = o.FirstSeq
	h.cursor.Store(o.FirstSeq)
	h.dispatching.Add(1)
	go h.run()
	h.cancelBus = o.Bus.Subscribe(h.accept)
	return h
}

// Publish hands an event to the bus. It never blocks on a client.
func (h *Hub) Publish(ev Event) { h.opt.Bus.Publish(ev) }

// Seq returns the last sequence number the hub has given.
func (h *Hub) Seq() uint64 {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return h.seq
}

// Len returns the number of connected clients.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// accept numbers an event from the bus, or keeps the number the bus gave
// it, and keeps it for the dispatcher.
func (h *Hub) accept(ev Event) {
	now := h.opt.Now()
	e := &ev
	e.makeKey()
	h.logMu.Lock()
	switch {
	case !h.numbered:
		e.Seq = h.seq + 1
	case e.Seq <= h.seq:
		// Already taken: a bus that replays after reconnecting.
		h.logMu.Unlock()
		return
	case h.seq == 0:
		// The first event: the hub knows nothing of those before it, and
		// has dispatched them all.
		h.log.dropped = e.Seq - 1
		h.cursor.Store(e.Seq - 1)
	}
	h.seq = e.Seq
	h.log.trim(now.Add(-h.opt.MaxAge))
	h.log.push(entry{e, now.UnixNano()})
	h.logMu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default: // the dispatcher is already woken
	}
}

// since returns the events after seq up to and including to, at most
// limit of them, or false when the history no longer holds all of them;
// h.logMu is held.
func (h *Hub) since(seq, to uint64, limit int) ([]*Event, bool) {
	if seq > to || seq < h.log.dropped {
		return nil, false
	}
	if seq == to {
		return nil, true
	}
	var out []*Event
	for i := h.log.search(seq); i < h.log.n && len(out) < limit; i++ {
		ev := h.log.at(i).ev
		if ev.Seq > to {
			break
		}
		out = append(out, ev)
	}
	return out, true
}

// run dispatches the events of the history to the clients, in order.
func (h *Hub) run() {
	defer h.dispatching.Done()
	const batch = 1024
	buf := make([]*Event, 0, batch)
	for {
		select {
		case <-h.done:
			return
		case <-h.wake:
		}
		for {
			// The cursor is read under logMu: accept moves it to where a
			// numbering bus starts.
			h.logMu.Lock()
			cur := h.cursor.Load()
			evs, ok := h.since(cur, h.seq, batch)
			buf = append(buf[:0], evs...)
			floor := h.log.dropped
			h.logMu.Unlock()
			if ok && len(buf) == 0 {
				break
			}
			h.mu.Lock()
			if !ok {
				// The history moved on before these events reached anyone:
				// every client has missed some.
				h.opt.Log.Warn("hub: dispatch fell behind the history; every client resyncs", "lost", floor-cur)
				for c := range h.clients {
					c.resync("lagging")
				}
				h.cursor.Store(floor)
			}
			for _, ev := range buf {
				h.dispatch(ev)
				h.cursor.Store(ev.Seq)
			}
			clear(buf)
			h.mu.Unlock()
		}
	}
}

// dispatch queues an event for every client that wants it; h.mu is held.
func (h *Hub) dispatch(ev *Event) {
	if ev.Located {
		p := [2]float64(ev.Point)
		h.tree.Search(p, p, func(_, _ [2]float64, c *Client) bool {
			if c.filter.wants(ev) {
				c.enqueue(ev)
			}
			return true
		})
		return
	}
	// Events that are nowhere are rare (a layer version): a scan is fine.
	for c := range h.clients {
		if c.subscribed && c.filter.wants(ev) {
			c.enqueue(ev)
		}
	}
}

// Connect returns a new client that sees nothing until it subscribes.
func (h *Hub) Connect() (*Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if len(h.clients) >= h.opt.MaxClients {
		h.counts.refused.Add(1)
		return nil, ErrFull
	}
	c := &Client{h: h, wake: make(chan struct{}, 1), done: make(chan struct{}), index: map[key]int{}}
	h.clients[c] = struct{}{}
	return c, nil
}

// Subscribe connects a client with a subscription.
func (h *Hub) Subscribe(sub Subscription) (*Client, error) {
	if err := sub.Validate(); err != nil {
		return nil, err
	}
	c, err := h.Connect()
	if err != nil {
		return nil, err
	}
	if err := c.Update(sub); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close disconnects every client and stops the hub.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	cs := make([]*Client, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	h.cancelBus()
	close(h.done)
	h.dispatching.Wait()
	for _, c := range cs {
		c.Close()
	}
}

// WatchVersion publishes a layer-wide event on topic with the new version
// whenever version changes, checking every interval until ctx is done: the
// risk zone layer, whose clients refetch tiles when told. Checking on a
// clock rather than on every change spares clients a refetch per alarm in
// a storm.
func (h *Hub) WatchVersion(ctx context.Context, topic Topic, version func() uint64, every time.Duration) {
	last := version()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-t.C:
			if v := version(); v != last {
				last = v
				h.Publish(Event{Topic: topic, Time: h.opt.Now(), Data: LayerVersion{Version: v}})
			}
		}
	}
}

// entry is an event of the history with the time it came, for MaxAge.
type entry struct {
	ev *Event
	at int64
}

// ring is the bounded history: increasing sequence numbers, oldest first,
// consecutive unless the bus numbers events.
type ring struct {
	buf   []entry
	start int
	n     int
	// dropped is the number of the last event dropped, or the number
	// before the first: every event after it is held.
	dropped uint64
}

func (r *ring) push(e entry) {
	if r.n == len(r.buf) {
		r.drop()
	}
	r.buf[(r.start+r.n)%len(r.buf)] = e
	r.n++
}

func (r *ring) drop() {
	r.dropped = r.buf[r.start].ev.Seq
	r.buf[r.start] = entry{}
	r.start = (r.start + 1) % len(r.buf)
	r.n--
}

// trim drops the events that came before the cutoff.
func (r *ring) trim(cutoff time.Time) {
	c := cutoff.UnixNano()
	for r.n > 0 && r.buf[r.start].at < c {
		r.drop()
	}
}

// search returns the index of the first event after seq, or r.n.
func (r *ring) search(seq uint64) int {
	return sort.Search(r.n, func(i int) bool { return r.at(i).ev.Seq > seq })
}

func (r *ring) at(i int) *entry { return &r.buf[(r.start+i)%len(r.buf)] }
