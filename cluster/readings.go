package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	// fetchWait is how long a fetch waits for messages.
	fetchWait = time.Second
	// ackTimeout bounds the wait for the stream to confirm an ack.
	ackTimeout = 5 * time.Second
)

// ErrBadPartition is returned for a partition outside 0 to Partitions-1.
var ErrBadPartition = errors.New("cluster: no such partition")

// ErrTooLarge is returned for a batch over MaxPayload.
var ErrTooLarge = errors.New("cluster: readings batch too large")

// ReadingsSubjectOf returns the subject of partition p's batches.
func ReadingsSubjectOf(p int) string { return ReadingsSubject + "." + strconv.Itoa(p) }

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
