// Package cluster joins onemap instances over NATS JetStream: the live
// channel's events reach the clients of every instance with the same
// numbers, each sensor's readings are handled by one live instance, and an
// instance that dies hands both on without losing what was acknowledged.
//
// What it keeps in JetStream (replicated Options.Replicas times):
//
//   - Stream ONEMAP_EVENTS, subjects onemap.events.<topic>: the hub's
//     events, as JSON with their Data as the bytes published. Kept
//     EventsMaxAge (10 minutes) and EventsMaxBytes; past them the oldest go.
//     An event's number on every instance is its stream sequence.
//   - Stream ONEMAP_READINGS, subjects onemap.readings.<partition>: batches
//     of readings, each of one of the Partitions (64) partitions that
//     sensors hash into (Partition). Kept ReadingsMaxAge (24 hours) and
//     ReadingsMaxBytes; when full, new batches are refused rather than old
//     ones dropped. A batch's Nats-Msg-Id drops it when sent again within
//     Options.Duplicates. One durable pull consumer per partition,
//     readings-NN, shared by the partition's successive owners.
//   - Key-value bucket onemap_leases, with a TTL of LeaseTTL (6 s):
//     partition.<p> names the instance holding partition p, and
//     instance.<name> is each live instance's presence.
//
// The guarantees:
//
//   - Events (Node.Bus, a hub.Bus). Publish never blocks: events queue
//     (EventQueue) and go out asynchronously (at most EventsInFlight
//     unacknowledged); a full queue or a failed publish drops the event,
//     counted in Stats and logged. Subscribe replays the stream from
//     EventsMaxAge ago before it returns, then follows it in order, without
//     gaps, again from where it was after a reconnect. Events carry their
//     stream sequence as Seq, so a client resuming on another instance
//     from a number it got here gets every later event once; one whose
//     number this instance has not received yet is resynced.
//   - Ownership (Node.Owner). Every partition is leased to at most one
//     instance at a time, by compare-and-set on its key; a holder renews
//     its leases and its presence every LeaseTTL/3 and counts the live
//     instances, takes free partitions up to its share, the partitions over
//     the instances rounded up, and gives back those over it once their
//     consumers have stopped. An instance that dies loses its leases after
//     LeaseTTL, and the others take them within a renewal; one that cannot
//     renew drops a lease before it may have expired.
//   - Readings. PublishReadings returns once the stream has the batch: only
//     then may the sender be told it is taken. ConsumeReadings pulls the
//     partitions this instance owns and acknowledges a batch once its
//     handler returns nil, so an owner that stops leaves the consumer's ack
//     floor where the next one starts. Delivery is at least once: the
//     batches a dead owner had in hand come again after AckWait, and a lost
//     acknowledgement repeats a batch, so the handler applies them
//     idempotently (readings are keyed by sensor, metric and time).
//
// It does not know what an event or a batch holds, nor run rules: the
// caller encodes readings, and wires the hub, ingest and the rules to it.
package cluster
