package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// handled counts the batches the consumers of a test handled: by payload,
// and who handled them.
type handled struct {
	mu    sync.Mutex
	by    map[string][]string // payload → the nodes that handled it
	wrong []string            // handled for a partition its node did not own
	total int
}

func newHandled() *handled { return &handled{by: map[string][]string{}} }

// consume runs ConsumeReadings on n until the test ends.
func (h *handled) consume(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- n.ConsumeReadings(ctx, func(p int, payload []byte) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			s := string(payload)
			if want := "p" + strconv.Itoa(p) + "/"; !strings.HasPrefix(s, want) {
				h.wrong = append(h.wrong, fmt.Sprintf("%s got %q as partition %d", n.Name(), s, p))
			}
			h.by[s] = append(h.by[s], n.Name())
			h.total++
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed) {
			t.Errorf("%s: ConsumeReadings: %v", n.Name(), err)
		}
	})
}

func (h *handled) distinct() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.by)
}

func payload(p, i int) []byte { return []byte(fmt.Sprintf("p%d/%d", p, i)) }

func publish(t *testing.T, n *Node, p, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.PublishReadings(ctx, p, payload(p, i), MsgID(string(payload(p, i)))); err != nil {
		t.Fatal(err)
	}
}

// TestReadingsOncePerOwner publishes batches to every partition: each is
// handled once, by the node that owns its partition, and a batch sent
// again with its id is stored once.
func TestReadingsOncePerOwner(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	b := join(t, testOptions(s.ClientURL(), "b"))
	nodes := []*Node{a, b}
	waitFor(t, 10*time.Second, "the partitions spread over two nodes", func() bool { _, ok := spread(nodes, 32); return ok })
	h := newHandled()
	h.consume(t, a)
	h.consume(t, b)
	owner := map[int]string{}
	for _, n := range nodes {
		for _, p := range n.Owner().Partitions() {
			owner[p] = n.Name()
		}
	}
	const each = 8
	for i := range each {
		for p := range Partitions {
			publish(t, nodes[(p+i)%2], p, i)
		}
	}
	for p := range 10 {
		publish(t, b, p, 0) // again: a duplicate
	}
	waitFor(t, 15*time.Second, "every batch handled", func() bool { return h.distinct() == each*Partitions })
	time.Sleep(200 * time.Millisecond) // room for a wrong second delivery
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.wrong) > 0 {
		t.Errorf("wrong partitions: %v", h.wrong)
	}
	if h.total != each*Partitions {
		t.Errorf("%d handled, want %d", h.total, each*Partitions)
	}
	for s, who := range h.by {
		var p int
		fmt.Sscanf(s, "p%d/", &p)
		if len(who) != 1 || who[0] != owner[p] {
			t.Errorf("%s handled by %v, want once by %s", s, who, owner[p])
		}
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.ReadingsPublished+sb.ReadingsPublished != each*Partitions || sb.ReadingsDuplicate != 10 {
		t.Errorf("stats: a %+v, b %+v", sa, sb)
	}
	if sa.ReadingsConsumed+sb.ReadingsConsumed != each*Partitions {
		t.Errorf("consumed: a %d, b %d", sa.ReadingsConsumed, sb.ReadingsConsumed)
	}

	t.Run("Refused", func(t *testing.T) {
		ctx := context.Background()
		if err := a.PublishReadings(ctx, Partitions, []byte("x")); !errors.Is(err, ErrBadPartition) {
			t.Errorf("partition %d: %v", Partitions, err)
		}
		if err := a.PublishReadings(ctx, -1, []byte("x")); !errors.Is(err, ErrBadPartition) {
			t.Errorf("partition -1: %v", err)
		}
		if err := a.PublishReadings(ctx, 0, make([]byte, a.MaxPayload()+1)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("too large: %v", err)
		}
		if err := a.PublishReadings(ctx, 0, []byte("x"), MsgID(strings.Repeat("x", MaxMsgIDLen+1))); err == nil {
			t.Error("a long id taken")
		}
		if err := a.ConsumeReadings(ctx, func(int, []byte) error { return nil }); !errors.Is(err, ErrConsuming) {
			t.Errorf("a second ConsumeReadings: %v", err)
		}
	})
}

// TestReadingsFailedComeAgain has the handler fail a batch: it comes again
// and is acknowledged once handled.
func TestReadingsFailedComeAgain(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	var mu sync.Mutex
	tries := map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.ConsumeReadings(ctx, func(p int, b []byte) error {
			mu.Lock()
			defer mu.Unlock()
			tries[string(b)]++
			if tries[string(b)] < 3 {
				return errors.New("the store is away")
			}
			return nil
		})
	}()
	publish(t, a, 5, 1)
	publish(t, a, 6, 1)
	waitFor(t, 15*time.Second, "the failed batches handled on their third delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return tries["p5/1"] == 3 && tries["p6/1"] == 3
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ConsumeReadings: %v", err)
	}
	if st := a.Stats(); st.ReadingsFailed != 4 || st.ReadingsConsumed != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestReadingsSurviveOwnerMoves publishes batches while one owner crashes
// and another leaves: every batch acknowledged to the publisher is handled.
func TestReadingsSurviveOwnerMoves(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	var nodes []*Node
	for i := range 3 {
		nodes = append(nodes, join(t, testOptions(s.ClientURL(), fmt.Sprintf("n%d", i))))
	}
	waitFor(t, 15*time.Second, "the partitions spread", func() bool { _, ok := spread(nodes, 22); return ok })
	h := newHandled()
	for _, n := range nodes {
		h.consume(t, n)
	}
	// n2 publishes; n0 crashes after a second, n1 leaves after two.
	pub := nodes[2]
	var published []string
	start := time.Now()
	crashed, left := false, false
	for i := 0; time.Since(start) < 3500*time.Millisecond; i++ {
		for p := range Partitions {
			if p%4 == i%4 {
				publish(t, pub, p, i)
				published = append(published, string(payload(p, i)))
			}
		}
		switch {
		case !crashed && time.Since(start) > time.Second:
			crashed = true
			kill(nodes[0])
		case !left && time.Since(start) > 2*time.Second:
			left = true
			go nodes[1].Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d batches published", len(published))
	waitFor(t, 20*time.Second, "every batch published is handled", func() bool { return h.distinct() >= len(published) })
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range published {
		if len(h.by[s]) == 0 {
			t.Errorf("%s lost", s)
		}
	}
	if len(h.wrong) > 0 {
		t.Errorf("wrong partitions: %v", h.wrong)
	}
	t.Logf("%d handled, %d of them again (the crash's batches in hand)", h.total, h.total-len(h.by))
	if len(pub.Owner().Partitions()) != Partitions {
		t.Errorf("the last node holds %d partitions", len(pub.Owner().Partitions()))
	}
}
