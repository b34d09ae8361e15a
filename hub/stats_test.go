package hub

import "testing"

// The hub counts the messages its clients take, by kind and by the reason
// of a resync, the events a slow client's resync dropped, and the clients
// turned away.
func TestStats(t *testing.T) {
	c := newCity(t, Options{MaxPending: 10, MaxClients: 2})
	slow, _ := c.hub.Subscribe(bbox(hefei))
	next(t, slow) // a snapshot
	for i := range 50 {
		c.set(uint64(i), in, i)
	}
	flush(t, c.hub)
	take(t, slow) // a resync and a snapshot
	c.set(1, in, 100)
	flush(t, c.hub)
	take(t, slow) // a delta

	other, _ := c.hub.Connect()
	defer other.Close()
	if _, err := c.hub.Connect(); err != ErrFull {
		t.Fatalf("third client: %v, want ErrFull", err)
	}
	st := c.hub.Stats()
	want := Stats{Clients: 2, Snapshots: 2, Deltas: 1, Resyncs: 1, ResyncsSlow: 1, Dropped: 11, Refused: 1}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}
