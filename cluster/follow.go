package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// originHeader names the instance process that published a message of the
// history stream: its lease nonce, new at every join.
const originHeader = "Onemap-Origin"

// A follower's pull requests: a server that goes away is noticed after two
// missed heartbeats, and the ordered consumer starts again on another,
// rather than after the client's default of half a minute.
const (
	pullExpiry    = jetstream.PullExpiry(5 * time.Second)
	pullHeartbeat = jetstream.PullHeartbeat(time.Second)
)

// Message is one message of a stream that Follow hands on.
type Message struct {
	Seq     uint64 // its stream sequence
	Subject string
	Data    []byte
	// Own says this node published it (history messages only): a node
	// applies its own decisions as it takes them.
	Own bool
}

// PublishHistory stores a message of decisions in the history stream and
// returns its sequence once the stream has it. A message sent again with
// the same id within Options.Duplicates is stored once; its first
// sequence is returned.
func (n *Node) PublishHistory(ctx context.Context, payload []byte, opts ...PublishOption) (uint64, error) {
	jo, err := n.publishOpts(HistoryStream, payload, opts)
	if err != nil {
		return 0, err
	}
	msg := nats.NewMsg(HistorySubject)
	msg.Data = payload
	msg.Header.Set(originHeader, n.owner.nonce)
	ack, err := n.js.PublishMsg(ctx, msg, jo...)
	if err != nil {
		return 0, fmt.Errorf("cluster: publish history: %w", err)
	}
	n.stats.historyPublished.Add(1)
	return ack.Sequence, nil
}

// LastSeq returns the sequence of the last message a stream holds, 0 for
// none.
func (n *Node) LastSeq(ctx context.Context, stream string) (uint64, error) {
	st, err := n.js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("cluster: stream %s: %w", stream, err)
	}
	if info := st.CachedInfo(); info.State.Msgs > 0 {
		return info.State.LastSeq, nil
	}
	return 0, nil
}

// Follow hands fn every message of a stream (HistoryStream or
// ReadingsStream) after sequence after (0: from the first it keeps), in
// order, one at a time, until ctx is done or the node closes. It follows
// through reconnects and servers gone, starting again after the last
// message handed on, so fn sees each message once. It returns once fn has
// had every message the stream held when it was called, with nil, or
// with ctx's error; the following goes on after it returns. fn may take
// its time: the next message waits.
func (n *Node) Follow(ctx context.Context, stream string, after uint64, fn func(Message)) error {
	if stream != HistoryStream && stream != ReadingsStream {
		return fmt.Errorf("cluster: follow %s: not a stream of decisions or readings", stream)
	}
	ctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(n.ctx, cancel)
	target, err := n.LastSeq(ctx, stream)
	if err != nil {
		cancel()
		stopOnClose()
		return err
	}
	caught := make(chan struct{})
	f := &follower{n: n, stream: stream, last: after, target: target, caught: caught, fn: fn}
	if target <= after {
		f.closed = true
		close(caught)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer stopOnClose()
		defer cancel()
		f.run(ctx)
	}()
	select {
	case <-caught:
		return nil
	case <-ctx.Done():
		if n.ctx.Err() != nil {
			return ErrClosed
		}
		return ctx.Err()
	}
}

type follower struct {
	n      *Node
	stream string
	last   uint64 // the last sequence handed on
	target uint64
	caught chan struct{}
	closed bool
	fn     func(Message)
}

func (f *follower) run(ctx context.Context) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 && !sleep(ctx, backoff(min(attempt, 6))) {
			return
		}
		err := f.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		f.n.log.Warn("cluster: follow stream", "stream", f.stream, "after", f.last, "err", err, "attempt", attempt+1)
		if err == nil {
			attempt = 0
		}
	}
}

// follow reads the stream with an ordered consumer from after the last
// sequence handed on, until ctx is done or the consumer fails.
func (f *follower) follow(ctx context.Context) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if f.last > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, f.last+1
	}
	cons, err := f.n.js.OrderedConsumer(ctx, f.stream, cfg)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	it, err := cons.Messages(pullExpiry, pullHeartbeat)
	if err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && ctx.Err() != nil {
				return nil
			}
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		seq := meta.Sequence.Stream
		if seq <= f.last {
			continue // handed on before the consumer started again
		}
		f.last = seq
		m := Message{Seq: seq, Subject: msg.Subject(), Data: msg.Data()}
		if f.stream == HistoryStream {
			m.Own = msg.Headers().Get(originHeader) == f.n.owner.nonce
		}
		f.fn(m)
		if !f.closed && (seq >= f.target || meta.NumPending == 0) {
			f.closed = true
			close(f.caught)
		}
	}
}
