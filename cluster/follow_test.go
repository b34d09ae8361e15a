package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// collected keeps the messages a Follow handed on.
type collected struct {
	mu   sync.Mutex
	msgs []Message
}

func (c *collected) add(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
}

func (c *collected) all() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

func publishHistory(t *testing.T, n *Node, body string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seq, err := n.PublishHistory(ctx, []byte(body), MsgID(body))
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// TestFollowHistory: a node that follows the history stream has, when
// Follow returns, every message stored before, in order, and then every
// later one; its own are marked; a message sent again with its id is
// stored once; a follow from a sequence starts after it.
func TestFollowHistory(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	b := join(t, testOptions(s.ClientURL(), "b"))
	for i := range 5 {
		publishHistory(t, a, fmt.Sprintf("a%d", i))
	}
	if seq, again := publishHistory(t, a, "a4"), uint64(5); seq != again {
		t.Errorf("a4 sent again got sequence %d, want %d (the first)", seq, again)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var onA, onB collected
	if err := b.Follow(ctx, HistoryStream, 0, onB.add); err != nil {
		t.Fatal(err)
	}
	if got := onB.all(); len(got) != 5 {
		t.Fatalf("b had %d messages when Follow returned, want the 5 stored", len(got))
	}
	if err := a.Follow(ctx, HistoryStream, 3, onA.add); err != nil {
		t.Fatal(err)
	}
	publishHistory(t, b, "b0")
	waitFor(t, 10*time.Second, "b0 followed by both", func() bool { return len(onA.all()) == 3 && len(onB.all()) == 6 })
	want := []string{"a0", "a1", "a2", "a3", "a4", "b0"}
	for i, m := range onB.all() {
		if string(m.Data) != want[i] || m.Seq != uint64(i+1) {
			t.Errorf("b's message %d is %q at %d, want %q at %d", i, m.Data, m.Seq, want[i], i+1)
		}
		if m.Own != (want[i] == "b0") {
			t.Errorf("b's message %q: own %v", m.Data, m.Own)
		}
	}
	for i, m := range onA.all() {
		if string(m.Data) != want[i+3] {
			t.Errorf("a's message %d after sequence 3 is %q, want %q", i, m.Data, want[i+3])
		}
		if m.Own != (want[i+3] != "b0") {
			t.Errorf("a's message %q: own %v", m.Data, m.Own)
		}
	}
	if last, err := a.LastSeq(ctx, HistoryStream); err != nil || last != 6 {
		t.Errorf("LastSeq = %d, %v; want 6", last, err)
	}
	if err := a.Follow(ctx, EventsStream, 0, onA.add); err == nil {
		t.Error("Follow of the events stream: no error")
	}
}

// TestArchive: two nodes archiving one stream share its messages, each
// copied by one of them; a batch that fails comes again.
func TestArchive(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	b := join(t, testOptions(s.ClientURL(), "b"))
	for i := range 100 {
		publishHistory(t, a, fmt.Sprintf("m%d", i))
	}
	var mu sync.Mutex
	copied := map[uint64]int{}
	failed := false
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, n := range []*Node{a, b} {
		go n.Archive(ctx, HistoryStream, func(msgs []Message) error {
			mu.Lock()
			defer mu.Unlock()
			if !failed {
				failed = true
				return fmt.Errorf("the database is away")
			}
			for _, m := range msgs {
				copied[m.Seq]++
			}
			return nil
		})
	}
	waitFor(t, 20*time.Second, "every message archived", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(copied) == 100
	})
	mu.Lock()
	defer mu.Unlock()
	for seq, n := range copied {
		if n != 1 {
			t.Errorf("message %d copied %d times", seq, n)
		}
	}
	if err := a.Archive(ctx, EventsStream, nil); err == nil {
		t.Error("Archive of the events stream: no error")
	}
}
