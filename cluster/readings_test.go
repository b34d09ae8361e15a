package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func payload(p, i int) []byte { return []byte(fmt.Sprintf("p%d/%d", p, i)) }

func publish(t *testing.T, n *Node, p, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.PublishReadings(ctx, p, payload(p, i), MsgID(string(payload(p, i)))); err != nil {
		t.Fatal(err)
	}
}

// TestPublishReadings publishes batches to every partition from two nodes:
// a node following the stream has each once, a batch sent again with its
// id is stored once, and what cannot be a batch is refused.
func TestPublishReadings(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	b := join(t, testOptions(s.ClientURL(), "b"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got collected
	if err := a.Follow(ctx, ReadingsStream, 0, got.add); err != nil {
		t.Fatal(err)
	}
	const each = 8
	nodes := []*Node{a, b}
	for i := range each {
		for p := range Partitions {
			publish(t, nodes[(p+i)%2], p, i)
		}
	}
	for p := range 10 {
		publish(t, b, p, 0) // again: a duplicate
	}
	waitFor(t, 15*time.Second, "every batch followed", func() bool { return len(got.all()) >= each*Partitions })
	time.Sleep(200 * time.Millisecond) // room for a wrong second delivery
	seen := map[string]int{}
	for _, m := range got.all() {
		seen[string(m.Data)]++
		if want := ReadingsSubjectOf(0)[:len(ReadingsSubject)+1]; !strings.HasPrefix(m.Subject, want) {
			t.Errorf("%q on %s", m.Data, m.Subject)
		}
	}
	for i := range each {
		for p := range Partitions {
			if n := seen[string(payload(p, i))]; n != 1 {
				t.Errorf("%s followed %d times", payload(p, i), n)
			}
		}
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.ReadingsPublished+sb.ReadingsPublished != each*Partitions || sb.ReadingsDuplicate != 10 {
		t.Errorf("stats: a %+v, b %+v", sa, sb)
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
	})
}

// TestReadingsSurviveOwnerMoves publishes batches while one owner crashes
// and another leaves: every batch acknowledged to the publisher is in the
// stream, and the last node holds every partition.
func TestReadingsSurviveOwnerMoves(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	var nodes []*Node
	for i := range 3 {
		nodes = append(nodes, join(t, testOptions(s.ClientURL(), fmt.Sprintf("n%d", i))))
	}
	waitFor(t, 15*time.Second, "the partitions spread", func() bool { _, ok := spread(nodes, 22); return ok })
	// n2 publishes and follows; n0 crashes after a second, n1 leaves after
	// two.
	pub := nodes[2]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got collected
	if err := pub.Follow(ctx, ReadingsStream, 0, got.add); err != nil {
		t.Fatal(err)
	}
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
	waitFor(t, 20*time.Second, "every batch published followed", func() bool { return len(got.all()) >= len(published) })
	seen := map[string]bool{}
	for _, m := range got.all() {
		seen[string(m.Data)] = true
	}
	for _, s := range published {
		if !seen[s] {
			t.Errorf("%s lost", s)
		}
	}
	waitFor(t, 20*time.Second, "the last node holds every partition", func() bool { return len(pub.Owner().Partitions()) == Partitions })
}
