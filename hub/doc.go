// Package hub fans out live changes (sensor state, alarms, risk zone layer
// versions, warnings) to the clients of the live map, each within its own
// viewport or circle.
//
// A client sees a snapshot, then deltas, every message with a sequence
// number; a client that comes back with its last sequence number resumes
// from the hub's bounded history without a gap or a duplicate, or gets a
// fresh snapshot when that point is too old. A slow client never holds up
// the publisher or the other clients: its pending changes are coalesced to
// the latest per feature, and a client that falls too far behind is told to
// resync. Deferred events (a sensor's new value) wait up to a second to
// travel together; the others go at once and take what waits with them.
//
// The hub holds no state of its own beyond that history: snapshots come from
// a function it is given, and events reach it through a Bus, in-process by
// default. It knows nothing of WebSocket frames or of stores.
package hub
