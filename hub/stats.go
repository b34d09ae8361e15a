package hub

import "sync/atomic"

// Stats counts what the hub has done since New.
type Stats struct {
	// Clients is the number of clients connected now.
	Clients int
	// Snapshots, Deltas and Resyncs count the messages clients have taken,
	// by kind.
	Snapshots, Deltas, Resyncs uint64
	// ResyncsSlow, ResyncsLagging and ResyncsTooOld split Resyncs by reason:
	// a client fell MaxPending features behind, the hub fell behind its
	// history, a resume point was past the history.
	ResyncsSlow, ResyncsLagging, ResyncsTooOld uint64
	// Dropped counts the events taken off the queues of clients told to
	// resync: a snapshot carries their state instead.
	Dropped uint64
	// Refused counts the clients turned away because MaxClients were
	// connected.
	Refused uint64
}

// counters are the hub's running counts behind Stats.
type counters struct {
	snapshots, deltas                    atomic.Uint64
	resyncSlow, resyncLagging, resyncOld atomic.Uint64
	resyncOther                          atomic.Uint64
	dropped, refused                     atomic.Uint64
}

// taken counts the messages a client takes.
func (n *counters) taken(msgs []Message) {
	for _, m := range msgs {
		switch m.Kind {
		case Snapshot:
			n.snapshots.Add(1)
		case Delta:
			n.deltas.Add(1)
		case Resync:
			switch m.Reason {
			case ReasonSlow:
				n.resyncSlow.Add(1)
			case ReasonLagging:
				n.resyncLagging.Add(1)
			case ReasonTooOld:
				n.resyncOld.Add(1)
			default:
				n.resyncOther.Add(1)
			}
		}
	}
}

// Stats returns the hub's counts.
func (h *Hub) Stats() Stats {
	n := &h.counts
	st := Stats{
		Clients:        h.Len(),
		Snapshots:      n.snapshots.Load(),
		Deltas:         n.deltas.Load(),
		ResyncsSlow:    n.resyncSlow.Load(),
		ResyncsLagging: n.resyncLagging.Load(),
		ResyncsTooOld:  n.resyncOld.Load(),
		Dropped:        n.dropped.Load(),
		Refused:        n.refused.Load(),
	}
	st.Resyncs = st.ResyncsSlow + st.ResyncsLagging + st.ResyncsTooOld + n.resyncOther.Load()
	return st
}
