package hub

import (
	"log/slog"
	"sync"
	"testing"
)

// seqBus numbers events as a broker's stream does: from where the stream
// is, with gaps, the same numbers for every subscriber. A new subscriber
// first gets the events the bus still holds, as a stream replays them.
type seqBus struct {
	mu   sync.Mutex
	seq  uint64
	kept []Event // what a new subscriber is replayed
	keep int
	subs map[int]func(Event)
	next int
}

func newSeqBus(first uint64, keep int) *seqBus {
	return &seqBus{seq: first, keep: keep, subs: map[int]func(Event){}}
}

func (b *seqBus) NumbersEvents() bool { return true }

func (b *seqBus) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq += 1 + b.seq%3 // gaps: other subjects of the stream
	ev.Seq = b.seq
	b.kept = append(b.kept, ev)
	if len(b.kept) > b.keep {
		b.kept = b.kept[1:]
	}
	for _, fn := range b.subs {
		fn(ev)
	}
}

func (b *seqBus) Subscribe(fn func(Event)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range b.kept {
		fn(ev)
	}
	b.next++
	id := b.next
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

var _ Numbering = (*seqBus)(nil)

// TestBusNumbers has two hubs on a bus that numbers events: they give the
// same events the same numbers, and a client resumes on one from a number
// it got from the other with no gap and no duplicate.
func TestBusNumbers(t *testing.T) {
	bus := newSeqBus(9_000_000, 50)
	a := newCity(t, Options{Bus: bus})
	for i := range 10 {
		a.set(uint64(i), in, i)
	}
	// b starts later: the bus replays what it holds.
	b := New(Options{Bus: bus, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(b.Close)
	flush(t, a.hub)
	flush(t, b)
	if a.hub.Seq() != b.Seq() || a.hub.Seq() <= 9_000_000 {
		t.Fatalf("seq: a %d, b %d, want the same, from the bus", a.hub.Seq(), b.Seq())
	}

	cl, err := a.hub.Subscribe(bbox(hefei))
	if err != nil {
		t.Fatal(err)
	}
	if ms := next(t, cl); len(ms) != 1 || ms[0].Kind != Snapshot || ms[0].Seq != a.hub.Seq() {
		t.Fatalf("first: %+v, want a snapshot at %d", ms, a.hub.Seq())
	}
	a.set(100, in, 100)
	ms := next(t, cl)
	if len(ms) != 1 || ms[0].Kind != Delta || values(ms[0].Events)[100] != 100 {
		t.Fatalf("delta: %+v", ms)
	}
	last := ms[0].Seq
	cl.Close()
	for i := range 5 {
		a.set(uint64(200+i), in, 200+i)
	}
	flush(t, b)

	sub := bbox(hefei)
	sub.Resume = last
	cl, err = b.Subscribe(sub)
	if err != nil {
		t.Fatal(err)
	}
	ms = next(t, cl)
	if len(ms) != 1 || ms[0].Kind != Delta || !ms[0].Resumed {
		t.Fatalf("resume on b: %+v, want one resumed delta", ms)
	}
	got := values(ms[0].Events)
	if len(got) != 5 {
		t.Errorf("resume on b: %v, want the 5 events after %d", got, last)
	}
	for i := range 5 {
		if got[uint64(200+i)] != 200+i {
			t.Errorf("resume on b: sensor %d is %d, want %d", 200+i, got[uint64(200+i)], 200+i)
		}
	}
	if ms[0].Seq != b.Seq() {
		t.Errorf("resumed delta at %d, want %d", ms[0].Seq, b.Seq())
	}
	cl.Close()

	t.Run("BeforeHistory", func(t *testing.T) {
		// c is replayed only the last 50 events: a number from before them
		// is too old, however close.
		for i := range 60 {
			a.set(uint64(300+i), in, i)
		}
		flush(t, a.hub)
		c := New(Options{Bus: bus, Log: slog.New(slog.DiscardHandler)})
		t.Cleanup(c.Close)
		flush(t, c)
		c.logMu.Lock()
		floor := c.log.dropped
		c.logMu.Unlock()
		for _, resume := range []uint64{floor - 1, floor} {
			sub := bbox(hefei)
			sub.Resume = resume
			cl, err := c.Subscribe(sub)
			if err != nil {
				t.Fatal(err)
			}
			ms := next(t, cl)
			tooOld := len(ms) > 0 && ms[0].Kind == Resync
			if want := resume < floor; tooOld != want {
				t.Errorf("resume from %d with history after %d: %+v, want too old %v", resume, floor, ms, want)
			}
			if !tooOld && (len(ms) != 1 || len(ms[0].Events) != 50) {
				t.Errorf("resume from %d: %+v, want the 50 events replayed", resume, ms)
			}
			cl.Close()
		}
	})

	t.Run("AheadOfDispatch", func(t *testing.T) {
		// A resume point from another hub that this one has taken but not
		// yet dispatched: the client gets what follows it, once.
		d := newCity(t, Options{Bus: bus})
		for i := range 4 {
			d.set(uint64(400+i), in, i)
		}
		flush(t, d.hub)
		d.hub.logMu.Lock()
		n := d.hub.log.n
		seqs := []uint64{d.hub.log.at(n - 4).ev.Seq, d.hub.log.at(n - 3).ev.Seq, d.hub.log.at(n - 2).ev.Seq}
		d.hub.logMu.Unlock()
		d.hub.cursor.Store(seqs[0]) // as if the dispatcher had reached only the first
		sub := bbox(hefei)
		sub.Resume = seqs[2]
		cl, err := d.hub.Subscribe(sub)
		if err != nil {
			t.Fatal(err)
		}
		ms := next(t, cl)
		if len(ms) != 1 || !ms[0].Resumed || len(ms[0].Events) != 1 || ms[0].Events[0].ID != 403 || ms[0].Seq != d.hub.Seq() {
			t.Fatalf("resume ahead of the dispatcher: %+v, want sensor 403", ms)
		}
		d.set(404, in, 4) // wakes the dispatcher, which goes over 401 to 404
		ms = next(t, cl)
		if len(ms) != 1 || len(ms[0].Events) != 1 || ms[0].Events[0].ID != 404 {
			t.Fatalf("then: %+v, want only sensor 404", ms)
		}
	})

	t.Run("Replayed", func(t *testing.T) {
		// Events the hub has taken already are dropped when delivered again.
		seq := b.Seq()
		b.accept(Event{Seq: seq, Topic: Sensors, ID: 1, Point: in, Located: true, Data: -1})
		b.accept(Event{Seq: seq - 1, Topic: Sensors, ID: 1, Point: in, Located: true, Data: -1})
		if b.Seq() != seq {
			t.Errorf("seq %d after a replay, want %d", b.Seq(), seq)
		}
		b.logMu.Lock()
		evs, ok := b.since(seq-50, seq, 1000)
		b.logMu.Unlock()
		for _, ev := range evs {
			if ev.Data == -1 {
				t.Errorf("a replayed event was kept: %+v", ev)
			}
		}
		if !ok {
			t.Error("history lost")
		}
	})
}
