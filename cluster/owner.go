package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Partitions is how many partitions the sensors are hashed into. It is
// part of the wire contract: changing it moves sensors between partitions,
// and so between subjects and consumers.
const Partitions = 64

// Partition returns the partition of a sensor: a fixed mix of its id, so
// that consecutive ids spread over all partitions, the same on every
// instance and every release.
func Partition(sensorID uint64) int {
	x := sensorID
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return int(x % Partitions)
}

// Keys of the lease bucket.
const (
	partitionKey = "partition." // + the partition's number: its holder's name and nonce
	presenceKey  = "instance."  // + an instance's name: its nonce
)

func leaseKey(p int) string { return partitionKey + strconv.Itoa(p) }

// releaseWait bounds how long a release waits for the partition's consumer
// to stop: a handler stuck longer than this only risks a batch handled
// twice, which the caller tolerates anyway.
const releaseWait = 30 * time.Second

// Owner holds this instance's partition leases: each partition is leased
// to one live instance through the lease bucket, whose TTL ends the leases
// of an instance that dies. Every third of the TTL it renews its leases
// and its presence, counts the live instances, takes free partitions up to
// its share (the partitions over the instances, rounded up) and gives back
// those over it. It is safe for concurrent use.
type Owner struct {
	n     *Node
	kv    jetstream.KeyValue
	name  string
	ttl   time.Duration
	nonce string
	owned atomic.Uint64 // bit p: the partition is held and not being given back

	// notifyMu orders the calls of the watchers with the changes of owned.
	notifyMu sync.Mutex

	mu       sync.Mutex
	leases   map[int]*lease
	holds    map[int]*hold
	watchers map[int]func(p int, owned bool)
	nextW    int

	released chan int // partitions whose consumers have stopped: delete their lease
	stop     chan struct{}
	done     chan struct{}
	live     atomic.Int64 // the live instances counted last
}

// lease is a partition held: the revision of its key, for compare-and-set.
type lease struct {
	rev       uint64
	renewed   time.Time // when the request that last wrote it was sent
	releasing bool
}

// hold counts the users of a partition that a release waits for.
type hold struct {
	n    int
	zero chan struct{}
}

func newOwner(n *Node) *Owner {
	return &Owner{
		n: n, kv: n.kv, name: n.opt.Name, ttl: n.opt.LeaseTTL,
		nonce:  strconv.FormatUint(rand.Uint64(), 36),
		leases: map[int]*lease{}, holds: map[int]*hold{}, watchers: map[int]func(int, bool){},
		released: make(chan int, Partitions), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// value is what this instance writes in the keys of its leases: its name,
// and a nonce that tells it from an earlier run of the same name.
func (o *Owner) value() []byte { return []byte(o.name + " " + o.nonce) }

// Holder returns the instance named by the value of a lease key.
func Holder(value []byte) string {
	name, _, _ := strings.Cut(string(value), " ")
	return name
}

// adopt reads partition p's key after a write whose outcome is unknown
// (its answer lost with a server): when the write went through, the key
// is this instance's, and its revision is returned.
func (o *Owner) adopt(ctx context.Context, p int) (uint64, bool) {
	e, err := o.kv.Get(ctx, leaseKey(p))
	if err != nil || string(e.Value()) != string(o.value()) {
		return 0, false
	}
	return e.Revision(), true
}

// start announces the instance, takes its first share and starts renewing.
func (o *Owner) start(ctx context.Context) error {
	if _, err := o.kv.Put(ctx, presenceKey+o.name, []byte(o.nonce)); err != nil {
		return fmt.Errorf("cluster: announce %s: %w", o.name, err)
	}
	o.round(ctx)
	go o.run()
	return nil
}

// Owns reports whether this instance holds the partition of a sensor.
func (o *Owner) Owns(sensorID uint64) bool { return o.OwnsPartition(Partition(sensorID)) }

// OwnsPartition reports whether this instance holds partition p.
func (o *Owner) OwnsPartition(p int) bool {
	return p >= 0 && p < Partitions && o.owned.Load()&(1<<p) != 0
}

// Partitions returns the partitions this instance holds, in order.
func (o *Owner) Partitions() []int {
	var out []int
	for m := o.owned.Load(); m != 0; m &= m - 1 {
		out = append(out, bits.TrailingZeros64(m))
	}
	return out
}

// Instances returns how many live instances the last renewal counted,
// this one included.
func (o *Owner) Instances() int { return int(o.live.Load()) }

// Watch calls fn with every partition held now, then whenever one is
// gained or lost, until cancel is called (not from fn). Calls are in
// order, one at a time; fn must not block. A partition is lost before its
// lease is given back, which waits for its holds to be done (see Hold).
func (o *Owner) Watch(fn func(partition int, owned bool)) (cancel func()) {
	o.notifyMu.Lock()
	defer o.notifyMu.Unlock()
	o.mu.Lock()
	o.nextW++
	id := o.nextW
	o.watchers[id] = fn
	o.mu.Unlock()
	for _, p := range o.Partitions() {
		fn(p, true)
	}
	return func() {
		o.notifyMu.Lock() // no call is under way once cancel returns
		defer o.notifyMu.Unlock()
		o.mu.Lock()
		defer o.mu.Unlock()
		delete(o.watchers, id)
	}
}

// set changes whether partition p is owned and tells the watchers.
func (o *Owner) set(p int, owned bool) {
	o.notifyMu.Lock()
	defer o.notifyMu.Unlock()
	o.mu.Lock()
	bit := uint64(1) << p
	was := o.owned.Load()&bit != 0
	if owned {
		o.owned.Or(bit)
	} else {
		o.owned.And(^bit)
	}
	fns := make([]func(int, bool), 0, len(o.watchers))
	for _, fn := range o.watchers {
		fns = append(fns, fn)
	}
	o.mu.Unlock()
	if was == owned {
		return
	}
	if owned {
		o.n.log.Debug("cluster: partition gained", "partition", p)
	} else {
		o.n.log.Debug("cluster: partition lost", "partition", p)
	}
	for _, fn := range fns {
		fn(p, owned)
	}
}

// Hold keeps partition p from being given back until done is called, so
// that what its owner decides meanwhile is out before another takes it;
// false when p is not held. Call done once the decisions are stored.
func (o *Owner) Hold(p int) (done func(), ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owned.Load()&(1<<p) == 0 {
		return nil, false
	}
	h := o.holds[p]
	if h == nil {
		h = &hold{zero: make(chan struct{})}
		o.holds[p] = h
	}
	h.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			if h.n--; h.n == 0 {
				close(h.zero)
				delete(o.holds, p)
			}
		})
	}, true
}

// held returns what a release of p waits for, or nil.
func (o *Owner) held(p int) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if h := o.holds[p]; h != nil {
		return h.zero
	}
	return nil
}

func (o *Owner) run() {
	defer close(o.done)
	every := o.ttl / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case p := <-o.released:
			ctx, cancel := context.WithTimeout(o.n.ctx, every)
			o.giveBack(ctx, p)
			cancel()
		case <-t.C:
			ctx, cancel := context.WithTimeout(o.n.ctx, every)
			o.round(ctx)
			cancel()
		}
	}
}

// round renews the presence and the leases, then takes or gives back
// partitions towards this instance's share.
func (o *Owner) round(ctx context.Context) {
	if _, err := o.kv.Put(ctx, presenceKey+o.name, []byte(o.nonce)); err != nil {
		o.n.log.Warn("cluster: renew presence", "err", err)
	}
	o.renew(ctx)
	keys, err := o.kv.Keys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		o.n.log.Warn("cluster: list leases", "err", err)
		return
	}
	taken := map[int]bool{}
	live := 1 // this one, whether or not its presence was listed
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, presenceKey):
			if k != presenceKey+o.name {
				live++
			}
		case strings.HasPrefix(k, partitionKey):
			if p, err := strconv.Atoi(k[len(partitionKey):]); err == nil {
				taken[p] = true
			}
		}
	}
	o.live.Store(int64(live))
	share := (Partitions + live - 1) / live

	o.mu.Lock()
	var mine []int
	for p, l := range o.leases {
		if !l.releasing {
			mine = append(mine, p)
		}
	}
	o.mu.Unlock()
	slices.Sort(mine)

	// Over the share: others have joined. Give back the last ones; each
	// goes once its consumer has stopped.
	for _, p := range mine[min(share, len(mine)):] {
		o.release(p)
	}
	// Under it: take free partitions, in an order of this instance's own
	// so that instances starting together do not all try the same ones.
	want := share - len(mine)
	if want <= 0 {
		return
	}
	free := make([]int, 0, Partitions)
	for p := range Partitions {
		o.mu.Lock()
		_, mineToo := o.leases[p]
		o.mu.Unlock()
		if !taken[p] && !mineToo {
			free = append(free, p)
		}
	}
	rand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	for _, p := range free {
		if want == 0 || ctx.Err() != nil {
			break
		}
		sent := time.Now()
		rev, err := o.kv.Create(ctx, leaseKey(p), o.value())
		if err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			var ok bool
			if rev, ok = o.adopt(ctx, p); !ok {
				o.n.log.Warn("cluster: take partition", "partition", p, "err", err)
				continue
			}
		}
		o.mu.Lock()
		o.leases[p] = &lease{rev: rev, renewed: sent}
		o.mu.Unlock()
		o.set(p, true)
		want--
	}
}

// renew rewrites every lease held at its revision. A lease whose key was
// written by another is lost at once; one that cannot be renewed is lost
// before it may have expired in the bucket.
func (o *Owner) renew(ctx context.Context) {
	o.mu.Lock()
	ps := make([]int, 0, len(o.leases))
	for p := range o.leases {
		ps = append(ps, p)
	}
	o.mu.Unlock()
	for _, p := range ps {
		o.mu.Lock()
		l := o.leases[p]
		rev := l.rev
		o.mu.Unlock()
		sent := time.Now()
		next, err := o.kv.Update(ctx, leaseKey(p), o.value(), rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			// Written since: by another after the lease expired, or by
			// this instance in a renewal whose answer was lost.
			if mine, ok := o.adopt(ctx, p); ok {
				sent = time.Now()
				next, err = o.kv.Update(ctx, leaseKey(p), o.value(), mine)
			}
		}
		o.mu.Lock()
		if err == nil {
			l.rev, l.renewed = next, sent
			o.mu.Unlock()
			continue
		}
		var apiErr *jetstream.APIError
		gone := errors.As(err, &apiErr) || time.Since(l.renewed) > o.ttl-o.ttl/6
		if gone {
			delete(o.leases, p)
		}
		o.mu.Unlock()
		if gone {
			o.n.log.Warn("cluster: partition lease lost", "partition", p, "err", err)
			o.set(p, false)
		}
	}
}

// release marks partition p as being given back: lost to the watchers at
// once, its lease deleted once its consumer has stopped.
func (o *Owner) release(p int) {
	o.mu.Lock()
	l := o.leases[p]
	if l == nil || l.releasing {
		o.mu.Unlock()
		return
	}
	l.releasing = true
	o.mu.Unlock()
	o.set(p, false)
	wait := o.held(p)
	go func() {
		if wait != nil {
			t := time.NewTimer(releaseWait)
			defer t.Stop()
			select {
			case <-wait:
			case <-t.C:
				o.n.log.Warn("cluster: the consumer of a partition given back did not stop; giving it back anyway", "partition", p)
			case <-o.stop:
				return
			}
		}
		select {
		case o.released <- p:
		case <-o.stop:
		}
	}()
}

// giveBack deletes the lease of partition p, at its revision, so that
// another instance may take it at once rather than after the TTL.
func (o *Owner) giveBack(ctx context.Context, p int) {
	o.mu.Lock()
	l := o.leases[p]
	if l == nil || !l.releasing {
		o.mu.Unlock()
		return
	}
	delete(o.leases, p)
	rev := l.rev
	o.mu.Unlock()
	if err := o.kv.Delete(ctx, leaseKey(p), jetstream.LastRevision(rev)); err != nil {
		o.n.log.Warn("cluster: give back partition; it frees when its lease expires", "partition", p, "err", err)
	}
}

// close stops renewing, gives back every partition once its consumer has
// stopped, and withdraws the presence.
func (o *Owner) close(ctx context.Context) error {
	close(o.stop)
	<-o.done
	o.mu.Lock()
	ps := make([]int, 0, len(o.leases))
	for p := range o.leases {
		ps = append(ps, p)
		o.leases[p].releasing = true
	}
	o.mu.Unlock()
	slices.Sort(ps)
	for _, p := range ps {
		o.set(p, false)
	}
	for _, p := range ps {
		if wait := o.held(p); wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
			}
		}
	}
	var errs []error
	for _, p := range ps {
		o.mu.Lock()
		rev := o.leases[p].rev
		delete(o.leases, p)
		o.mu.Unlock()
		if err := o.kv.Delete(ctx, leaseKey(p), jetstream.LastRevision(rev)); err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
		}
	}
	if err := o.kv.Delete(ctx, presenceKey+o.name); err != nil {
		errs = append(errs, fmt.Errorf("presence: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: give back leases: %w", err)
	}
	return nil
}
