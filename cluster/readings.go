package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Limits of the readings.
const (
	// MaxMsgIDLen bounds a batch's message id.
	MaxMsgIDLen = 128
	// headerRoom is what a batch's headers may take of MaxMsgSize.
	headerRoom = 256
	// fetchBatch is how many batches a consumer asks for at once; with
	// the fetch's byte bound it caps what one partition holds in memory.
	fetchBatch = 32
	// fetchWait is how long a fetch waits for batches: also how long a
	// partition given back may take to stop.
	fetchWait = time.Second
	// maxAckPending bounds the batches of one partition delivered and not
	// yet acknowledged, retries waiting included.
	maxAckPending = 1024
	// ackTimeout bounds the wait for the stream to confirm an ack.
	ackTimeout = 5 * time.Second
)

// ErrBadPartition is returned for a partition outside 0 to Partitions-1.
var ErrBadPartition = errors.New("cluster: no such partition")

// ErrTooLarge is returned for a batch over MaxPayload.
var ErrTooLarge = errors.New("cluster: readings batch too large")

// ErrConsuming is returned by a second ConsumeReadings on one Node.
var ErrConsuming = errors.New("cluster: readings already consumed")

// ReadingsSubjectOf returns the subject of partition p's batches.
func ReadingsSubjectOf(p int) string { return ReadingsSubject + "." + strconv.Itoa(p) }

// consumerName is the durable consumer of partition p: one per partition,
// shared by its successive owners, so that its ack floor is where the next
// owner goes on.
func consumerName(p int) string { return fmt.Sprintf("readings-%02d", p) }

// MaxPayload is the largest batch PublishReadings takes.
func (n *Node) MaxPayload() int { return int(n.opt.MaxMsgSize) - headerRoom }

// PublishOption is an option of PublishReadings.
type PublishOption func(*publishOptions)

type publishOptions struct{ msgID string }

// MsgID gives the batch a message id (the Nats-Msg-Id header): a batch
// sent again with the same id within Options.Duplicates is stored once.
func MsgID(id string) PublishOption { return func(o *publishOptions) { o.msgID = id } }

// publishOpts checks a message for stream and returns the options it is
// published with.
func (n *Node) publishOpts(stream string, payload []byte, opts []PublishOption) ([]jetstream.PublishOpt, error) {
	if len(payload) > n.MaxPayload() {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), n.MaxPayload())
	}
	var po publishOptions
	for _, opt := range opts {
		opt(&po)
	}
	if len(po.msgID) > MaxMsgIDLen {
		return nil, fmt.Errorf("cluster: message id of %d bytes, at most %d", len(po.msgID), MaxMsgIDLen)
	}
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	jo := []jetstream.PublishOpt{
		jetstream.WithExpectStream(stream),
		// A stream electing a leader has no responder for a moment: try
		// again, within ctx.
		jetstream.WithRetryAttempts(40),
		jetstream.WithRetryWait(250 * time.Millisecond),
	}
	if po.msgID != "" {
		jo = append(jo, jetstream.WithMsgID(po.msgID))
	}
	return jo, nil
}

// PublishReadings stores a batch of readings of one partition in the
// readings stream, and returns once the stream has acknowledged it: only
// then may the sender be told the batch is taken. A batch the stream had
// already, by message id, is not an error.
func (n *Node) PublishReadings(ctx context.Context, partition int, payload []byte, opts ...PublishOption) error {
	if partition < 0 || partition >= Partitions {
		return fmt.Errorf("%w: %d", ErrBadPartition, partition)
	}
	msg := nats.NewMsg(ReadingsSubjectOf(partition))
	msg.Data = payload
	jo, err := n.publishOpts(ReadingsStream, payload, opts)
	if err != nil {
		return err
	}
	ack, err := n.js.PublishMsg(ctx, msg, jo...)
	if err != nil {
		return fmt.Errorf("cluster: publish readings to partition %d: %w", partition, err)
	}
	if ack.Duplicate {
		n.stats.readingsDuplicate.Add(1)
	} else {
		n.stats.readingsPublished.Add(1)
	}
	return nil
}

// ConsumeReadings hands fn the batches of every partition this instance
// owns, until ctx is done or the node closes. Each partition is pulled
// from its durable consumer, in order, one batch at a time, and a batch is
// acknowledged once fn returns nil; fn returning an error has the batch
// delivered again later. When a partition is lost its consumer stops,
// giving back what it had fetched and not handled, before its lease is
// given back; when one is gained its consumer starts where the last owner
// left off. Delivery is at least once: a batch may come again after an
// owner died or an ack was lost, so fn must apply batches idempotently.
// fn is called for different partitions at once, never twice at once for
// one; it should return nil for a batch it will never take (log it), as
// the batch would otherwise come back until the stream drops it.
func (n *Node) ConsumeReadings(ctx context.Context, fn func(partition int, payload []byte) error) error {
	if !n.consuming.CompareAndSwap(false, true) {
		return ErrConsuming
	}
	defer n.consuming.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopOnClose := context.AfterFunc(n.ctx, cancel)
	defer stopOnClose()

	type change struct {
		p     int
		owned bool
	}
	var (
		mu      sync.Mutex
		changes []change
		wake    = make(chan struct{}, 1)
	)
	unwatch := n.owner.Watch(func(p int, owned bool) {
		mu.Lock()
		changes = append(changes, change{p, owned})
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer unwatch()

	type worker struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	workers := map[int]*worker{}
	var wg sync.WaitGroup
	defer func() {
		for _, w := range workers {
			w.cancel()
		}
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			if n.ctx.Err() != nil {
				return ErrClosed
			}
			return ctx.Err()
		case <-wake:
		}
		mu.Lock()
		cs := changes
		changes = nil
		mu.Unlock()
		for _, c := range cs {
			prev := workers[c.p]
			if !c.owned {
				if prev != nil {
					prev.cancel()
				}
				continue
			}
			wctx, wcancel := context.WithCancel(ctx)
			w := &worker{cancel: wcancel, done: make(chan struct{})}
			workers[c.p] = w
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				defer close(w.done)
				if prev != nil {
					// Lost and gained again: one consumer of a partition at
					// a time keeps its batches in order.
					prev.cancel()
					<-prev.done
				}
				n.consumePartition(wctx, p, fn)
			}(c.p)
		}
	}
}

// consumePartition pulls partition p's batches until ctx is done.
func (n *Node) consumePartition(ctx context.Context, p int, fn func(int, []byte) error) {
	release, ok := n.owner.hold(p)
	if !ok {
		return // lost already
	}
	defer release()
	log := n.log.With("partition", p)
	var cons jetstream.Consumer
	for attempt := 0; cons == nil; attempt++ {
		if attempt > 0 && !sleep(ctx, backoff(attempt)) {
			return
		}
		var err error
		cons, err = n.js.CreateOrUpdateConsumer(ctx, ReadingsStream, jetstream.ConsumerConfig{
			Durable:       consumerName(p),
			Description:   "onemap readings of partition " + strconv.Itoa(p) + ", pulled by its owner",
			FilterSubject: ReadingsSubjectOf(p),
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       n.opt.AckWait,
			MaxDeliver:    -1, // the stream's MaxAge ends a batch that always fails
			MaxAckPending: maxAckPending,
			Replicas:      n.opt.Replicas,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("cluster: readings consumer", "err", err, "attempt", attempt+1)
		}
	}
	maxBytes := max(4<<20, 2*int(n.opt.MaxMsgSize)) // a fetch always has room for the largest batch
	for attempt := 0; ctx.Err() == nil; {
		batch, err := cons.Fetch(fetchBatch, jetstream.FetchMaxWait(fetchWait), jetstream.FetchMaxBytes(maxBytes))
		if err == nil {
			for msg := range batch.Messages() {
				if ctx.Err() != nil {
					// Given back: the next owner takes it now, not after AckWait.
					_ = msg.Nak()
					continue
				}
				n.handleReadings(ctx, p, msg, fn)
			}
			err = batch.Error()
		}
		if err == nil || ctx.Err() != nil {
			attempt = 0
			continue
		}
		if errors.Is(err, jetstream.ErrConsumerLeadershipChanged) {
			// A server went and another leads the consumer: ask it.
			log.Debug("cluster: fetch readings", "err", err)
			sleep(ctx, 50*time.Millisecond)
			continue
		}
		attempt++
		log.Warn("cluster: fetch readings", "err", err, "attempt", attempt)
		sleep(ctx, backoff(attempt))
	}
}

// handleReadings gives one batch to fn and acknowledges it, or has it
// delivered again after a delay growing with its deliveries.
func (n *Node) handleReadings(ctx context.Context, p int, msg jetstream.Msg, fn func(int, []byte) error) {
	if err := fn(p, msg.Data()); err != nil {
		n.stats.readingsFailed.Add(1)
		delivered := uint64(1)
		if meta, merr := msg.Metadata(); merr == nil {
			delivered = meta.NumDelivered
		}
		n.logRarely(&n.stats.readingsFailedLog, "cluster: a readings batch failed; it comes again", "partition", p, "delivered", delivered, "err", err)
		_ = msg.NakWithDelay(backoff(int(min(delivered, 10))) * 2)
		return
	}
	// The ack is confirmed before the next batch, so that an owner giving
	// the partition back leaves its ack floor where the next one starts.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	if err := msg.DoubleAck(actx); err != nil {
		n.log.Warn("cluster: ack readings batch; it comes again", "partition", p, "err", err)
		return
	}
	n.stats.readingsConsumed.Add(1)
}
