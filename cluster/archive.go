package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// archiveConsumer is the durable consumer of a stream that the instances
// share to copy it into the system of record: each message goes to one of
// them, and comes again to another when the one that had it stops before
// it is copied.
const archiveConsumer = "archive"

// archiveBatch is how many messages Archive hands fn at once.
const archiveBatch = 256

// archiveAckWait is how long a batch handed to an archiving instance may go
// unacknowledged before another is handed it: copies are idempotent, so
// a slow copy made twice costs little, and what a dead instance had in
// hand is copied soon.
const archiveAckWait = 10 * time.Second

// Archive hands fn the messages of a stream (HistoryStream or
// ReadingsStream) that no instance has copied yet, a batch at a time, in
// order within a batch, until ctx is done or the node closes. Every
// instance may run it: they share one durable consumer, so that each
// message is handed to one of them, and a batch is acknowledged once fn
// returns nil. fn returning an error, or an instance dying with a batch in
// hand, has the batch handed on again later, to this instance or another:
// delivery is at least once, and fn must copy idempotently (by each
// message's Seq).
func (n *Node) Archive(ctx context.Context, stream string, fn func([]Message) error) error {
	if stream != HistoryStream && stream != ReadingsStream {
		return fmt.Errorf("cluster: archive %s: not a stream of decisions or readings", stream)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopOnClose := context.AfterFunc(n.ctx, cancel)
	defer stopOnClose()
	var cons jetstream.Consumer
	for attempt := 0; cons == nil; attempt++ {
		if attempt > 0 && !sleep(ctx, backoff(attempt)) {
			return ctx.Err()
		}
		var err error
		cons, err = n.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable:       archiveConsumer,
			Description:   "onemap: copied into the system of record by any instance",
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       archiveAckWait,
			MaxDeliver:    -1,
			MaxAckPending: 4 * archiveBatch,
			Replicas:      n.opt.Replicas,
		})
		if err != nil && ctx.Err() == nil {
			n.log.Warn("cluster: archive consumer", "stream", stream, "err", err, "attempt", attempt+1)
		}
	}
	maxBytes := max(16<<20, 2*int(n.opt.MaxMsgSize))
	for attempt := 0; ctx.Err() == nil; {
		batch, err := cons.Fetch(archiveBatch, jetstream.FetchMaxWait(fetchWait), jetstream.FetchMaxBytes(maxBytes))
		if err == nil {
			var msgs []jetstream.Msg
			for msg := range batch.Messages() {
				msgs = append(msgs, msg)
			}
			err = batch.Error()
			if len(msgs) > 0 {
				n.archive(ctx, stream, msgs, fn)
			}
		}
		if err == nil || errors.Is(err, jetstream.ErrConsumerLeadershipChanged) || ctx.Err() != nil {
			attempt = 0
			continue
		}
		attempt++
		n.log.Warn("cluster: fetch to archive", "stream", stream, "err", err, "attempt", attempt)
		sleep(ctx, backoff(attempt))
	}
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	return ctx.Err()
}

// archive hands one fetched batch to fn and acknowledges it, or has it
// delivered again after a delay.
func (n *Node) archive(ctx context.Context, stream string, msgs []jetstream.Msg, fn func([]Message) error) {
	out := make([]Message, 0, len(msgs))
	for _, msg := range msgs {
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		out = append(out, Message{Seq: meta.Sequence.Stream, Subject: msg.Subject(), Data: msg.Data()})
	}
	if err := fn(out); err != nil {
		n.logRarely(&n.stats.archiveFailedLog, "cluster: a batch was not archived; it comes again", "stream", stream, "messages", len(out), "err", err)
		for _, msg := range msgs {
			_ = msg.NakWithDelay(2 * time.Second)
		}
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	for _, msg := range msgs {
		if err := msg.DoubleAck(actx); err != nil {
			n.log.Warn("cluster: ack an archived message; it comes again", "stream", stream, "err", err)
			return
		}
	}
	n.stats.archived.Add(uint64(len(out)))
}
