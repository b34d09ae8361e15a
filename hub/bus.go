package hub

import "sync"

// Bus carries events from publishers to the hubs that fan them out: in one
// process, or, with a broker behind it, between the instances of a cluster.
//
// A Bus that numbers events itself sets Seq on every event it delivers,
// strictly increasing (gaps are allowed), and says so by implementing
// Numbering; the hub then keeps those numbers instead of giving its own,
// so that hubs fed by the same bus give the same event the same number.
type Bus interface {
	// Publish hands an event to every subscriber; it must not block.
	Publish(ev Event)
	// Subscribe calls fn for every event published from now on, in order,
	// until cancel is called; fn must not block.
	Subscribe(fn func(Event)) (cancel func())
}

// LocalBus is the in-process Bus: Publish calls every subscriber in turn.
type LocalBus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Event)
}

// NewLocalBus returns an in-process bus with no subscribers.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[int]func(Event){}} }

// Publish calls every subscriber with ev.
func (b *LocalBus) Publish(ev Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(ev)
	}
}

// Subscribe adds fn to the subscribers.
func (b *LocalBus) Subscribe(fn func(Event)) (cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	id := b.next
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// Numbering is implemented by a Bus that may number events itself: when
// NumbersEvents returns true, the hub keeps the Seq of the events it
// delivers (see Bus) and starts from 0 rather than from Options.FirstSeq.
type Numbering interface {
	Bus
	NumbersEvents() bool
}

var _ Bus = (*LocalBus)(nil)
