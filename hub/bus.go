package hub

import "sync"

// Bus carries events from publishers to the hubs that fan them out: in one
// process, or, with a broker behind it, between the instances of a cluster.
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

var _ Bus = (*LocalBus)(nil)
