package hub

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the kind of a message to a client.
type Kind string

// The kinds of message.
const (
	// Snapshot is the whole state within the subscription: the client
	// replaces what it holds.
	Snapshot Kind = "snapshot"
	// Delta is the latest state of the features that changed.
	Delta Kind = "delta"
	// Resync says the client missed changes; a snapshot follows.
	Resync Kind = "resync"
)

// Reasons for a snapshot or a resync.
const (
	ReasonSubscribe = "subscribe" // a first subscription
	ReasonUpdate    = "update"    // the subscription changed
	ReasonTooOld    = "too_old"   // the resume point is past the history
	ReasonSlow      = "slow"      // the client fell MaxPending features behind
	ReasonLagging   = "lagging"   // the hub itself fell behind its history
)

// Message is what a client receives.
type Message struct {
	Kind Kind
	// Seq never decreases on a client: resuming from it replays every
	// change after it, for the same subscription.
	Seq    uint64
	Reason string
	// Resumed marks the first delta of a resumed subscription, sent even
	// when empty so that the client knows no snapshot is coming.
	Resumed bool
	// Events are shared with other clients: never change them.
	Events []*Event
}

// The states of a client.
const (
	idle     = iota // up to date: changes queue
	needSnap        // a snapshot is due: changes are dropped, it will hold them
	needResync
	snapping // a snapshot is being taken: changes after it queue
)

// Client is one subscriber of the hub: a connection of the live map. Its
// methods are safe for concurrent use, but one goroutine should take its
// messages.
type Client struct {
	h      *Hub
	wake   chan struct{}
	done   chan struct{}
	notify atomic.Pointer[func()]

	// Guarded by h.mu.
	filter     filter
	subscribed bool

	// Guarded by mu, taken after h.mu.
	mu      sync.Mutex
	state   int
	reason  string
	gen     uint64 // counts subscription changes
	resumed bool
	last    uint64      // the seq of the last message taken
	floor   uint64      // changes up to here are in the snapshot or were sent
	queue   []*Event    // nil where superseded
	index   map[key]int // a feature's event in queue
	live    int         // events in queue that are not superseded
	urgent  bool        // an event in queue may not wait
	// deferred is when the oldest deferred event in queue came; zero when
	// none waits.
	deferred time.Time
	closed   bool
}

// Update changes the subscription without reconnecting: a snapshot of the
// new region follows, or, when sub.Resume is set, the changes since then.
func (c *Client) Update(sub Subscription) error {
	if err := sub.Validate(); err != nil {
		return err
	}
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.subscribed {
		b := c.filter.bound
		h.tree.Delete(b.Min, b.Max, c)
	}
	c.filter, c.subscribed = newFilter(sub), true
	b := c.filter.bound
	h.tree.Insert(b.Min, b.Max, c)
	c.gen++
	c.clear()
	c.resumed = false
	switch {
	case sub.Resume != 0:
		// h.mu is held: no event is being dispatched. The client takes
		// every event of the history after its resume point, also those
		// the dispatcher has yet to reach (a resume point from another
		// hub fed by the same bus may be among them), and the floor keeps
		// the dispatcher from giving them again.
		h.logMu.Lock()
		to := h.seq
		evs, ok := h.since(sub.Resume, to, math.MaxInt)
		h.logMu.Unlock()
		if !ok {
			c.state, c.reason = needResync, ReasonTooOld
			break
		}
		c.state, c.resumed, c.last, c.floor = idle, true, sub.Resume, sub.Resume
		for _, ev := range evs {
			if c.filter.wants(ev) {
				c.enqueueLocked(ev)
			}
		}
		c.last, c.floor = to, to
	case c.gen == 1:
		c.state, c.reason = needSnap, ReasonSubscribe
	default:
		c.state, c.reason = needSnap, ReasonUpdate
	}
	c.signal()
	return nil
}

// enqueue adds an event to the client's queue, in place of the feature's
// earlier one.
func (c *Client) enqueue(ev *Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueueLocked(ev)
}

// enqueueLocked is enqueue with c.mu held.
func (c *Client) enqueueLocked(ev *Event) {
	if c.closed || c.state == needSnap || c.state == needResync || ev.Seq <= c.floor {
		return // the coming snapshot holds it, or the last one did
	}
	if i, ok := c.index[ev.k]; ok {
		c.queue[i] = nil // superseded
		c.live--
	}
	c.index[ev.k] = len(c.queue)
	c.queue = append(c.queue, ev)
	c.live++
	if c.live > c.h.opt.MaxPending {
		c.h.counts.dropped.Add(uint64(c.live))
		c.clear()
		c.state, c.reason = needResync, ReasonSlow
	} else if len(c.queue) > 2*c.live+64 {
		c.compact()
	}
	if !ev.Deferred {
		c.urgent = true
	} else if c.deferred.IsZero() {
		c.deferred = time.Now()
		if !c.urgent {
			time.AfterFunc(c.h.opt.DeferFor, c.signal)
		}
		return
	}
	if c.urgent || c.state != idle {
		c.signal()
	}
}

// due reports whether the queue should go now: something in it may not
// wait, or the deferred events have waited long enough; c.mu is held.
func (c *Client) due() bool {
	return c.urgent || c.resumed || !c.deferred.IsZero() && time.Since(c.deferred) >= c.h.opt.DeferFor
}

// resync drops the queue and asks for a snapshot; h.mu is held.
func (c *Client) resync(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.subscribed {
		return
	}
	c.h.counts.dropped.Add(uint64(c.live))
	c.clear()
	c.state, c.reason = needResync, reason
	c.signal()
}

func (c *Client) clear() {
	// Deleting the keys costs what the queue holds; clearing the map would
	// cost the most it ever held.
	for _, ev := range c.queue {
		if ev != nil {
			delete(c.index, ev.k)
		}
	}
	clear(c.queue)
	c.queue = c.queue[:0]
	c.live = 0
	c.urgent, c.deferred = false, time.Time{}
	if cap(c.queue) > 1024 {
		c.queue = nil // give back what a burst grew
	}
}

// compact removes superseded events from the queue.
func (c *Client) compact() {
	q := c.queue[:0]
	for _, ev := range c.queue {
		if ev != nil {
			c.index[ev.k] = len(q)
			q = append(q, ev)
		}
	}
	clear(c.queue[len(q):])
	c.queue = q
}

func (c *Client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if fn := c.notify.Load(); fn != nil {
		(*fn)()
	}
}

// OnReady has fn called, besides Ready being signalled, whenever messages
// may be waiting and when the client closes: a writer that is not always
// running starts then. fn must not block; set it before subscribing.
func (c *Client) OnReady(fn func()) { c.notify.Store(&fn) }

// Due reports whether Take would return messages now.
func (c *Client) Due() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed || c.state == needSnap || c.state == needResync || (c.live > 0 || c.resumed) && c.due()
}

// Ready is signalled when messages may be waiting; call Take then.
func (c *Client) Ready() <-chan struct{} { return c.wake }

// Done is closed when the client is closed.
func (c *Client) Done() <-chan struct{} { return c.done }

// Take returns the messages waiting, without waiting for more: a resync
// and a snapshot when due, then a delta of the changes since. It may call
// the hub's Snapshot function.
func (c *Client) Take() ([]Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	for c.state == needSnap || c.state == needResync {
		if c.closed {
			return nil, ErrClosed
		}
		reason := c.reason
		if c.state == needResync {
			out = append(out, Message{Kind: Resync, Reason: reason})
		}
		gen, sub := c.gen, c.filter.sub
		c.state = snapping
		c.clear()
		// The state the snapshot reads holds every change published so
		// far: those still on their way to the client are dropped, those
		// after them queue.
		seq := max(c.h.Seq(), c.last)
		c.floor = seq
		c.mu.Unlock()
		evs := c.h.snapshot(sub)
		c.mu.Lock()
		if c.gen != gen || c.state != snapping {
			continue // the subscription changed, or the client fell behind meanwhile
		}
		c.state, c.last = idle, seq
		out = append(out, Message{Kind: Snapshot, Seq: seq, Reason: reason, Events: evs})
	}
	if c.closed {
		return nil, ErrClosed
	}
	if (c.live > 0 || c.resumed) && c.due() {
		evs := make([]*Event, 0, c.live)
		for _, ev := range c.queue {
			if ev != nil {
				evs = append(evs, ev)
			}
		}
		if len(evs) > 0 {
			c.last = max(c.last, evs[len(evs)-1].Seq)
		}
		out = append(out, Message{Kind: Delta, Seq: c.last, Resumed: c.resumed, Events: evs})
		c.resumed = false
		c.clear()
	}
	c.h.counts.taken(out)
	return out, nil
}

// snapshot asks the hub's Snapshot function and keeps what sub wants.
func (h *Hub) snapshot(sub Subscription) []*Event {
	if h.opt.Snapshot == nil {
		return nil
	}
	f := newFilter(sub)
	evs := h.opt.Snapshot(sub)
	out := make([]*Event, 0, len(evs))
	for i := range evs {
		if f.wants(&evs[i]) {
			out = append(out, &evs[i])
		}
	}
	return out
}

// Next waits for messages and returns them.
func (c *Client) Next(ctx context.Context) ([]Message, error) {
	for {
		msgs, err := c.Take()
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, ErrClosed
		case <-c.wake:
		}
	}
}

// Pending returns how many features wait for the client.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// Close disconnects the client from the hub.
func (c *Client) Close() {
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	close(c.done)
	if c.subscribed {
		b := c.filter.bound
		h.tree.Delete(b.Min, b.Max, c)
	}
	delete(h.clients, c)
	c.queue, c.index = nil, nil
	c.signal()
}
