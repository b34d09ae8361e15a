// Package cluster joins onemap instances over NATS JetStream: every
// instance follows the same readings and decisions in the same order, the
// live channel's events reach the clients of every instance with the same
// numbers, each sensor's rules run on one live instance at a time, and an
// instance that dies hands its sensors on without losing what was
// acknowledged.
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
//     Options.Duplicates.
//   - Stream ONEMAP_HISTORY, subject onemap.history: the decisions, kept
//     without an age limit up to HistoryMaxBytes, then refused. Each
//     message says which instance process published it.
//   - Durable consumer archive on the readings and history streams, shared
//     by the instances that copy them into a system of record (Archive).
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
//     holds are done (Owner.Hold). An instance that dies loses its leases
//     after LeaseTTL, and the others take them within a renewal; one that
//     cannot renew drops a lease before it may have expired.
//   - Readings and decisions. PublishReadings and PublishHistory return
//     once the stream has the message: only then may the sender be told
//     it is taken. Follow hands on every message of a stream from a
//     sequence, in order and once, through reconnects and servers gone,
//     and returns once it has caught up with the stream as it was. Archive
//     hands each message to one of the instances running it, at least
//     once: what an instance that died had in hand comes again to another.
//
// It does not know what an event or a message holds, nor run rules: the
// caller encodes readings and decisions, and wires the hub, ingest and the
// rules to it (cmd/onemap).
package cluster
