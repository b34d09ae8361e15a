package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestPartition(t *testing.T) {
	counts := make([]int, Partitions)
	for id := range uint64(64_000) {
		p := Partition(id)
		if p < 0 || p >= Partitions {
			t.Fatalf("partition %d of %d", p, id)
		}
		counts[p]++
	}
	for p, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("partition %d has %d of 64,000 consecutive ids, want about 1,000", p, c)
		}
	}
	// Fixed: the wire contract.
	for id, want := range map[uint64]int{0: 0, 1: Partition(1), 1 << 40: Partition(1 << 40)} {
		if Partition(id) != want {
			t.Errorf("Partition(%d) changed", id)
		}
	}
}

// watched follows an Owner's Watch calls into the set of partitions they
// say are held.
type watched struct{ r recorder[[2]int] }

func watch(t *testing.T, o *Owner) *watched {
	w := &watched{}
	cancel := o.Watch(func(p int, owned bool) {
		v := 0
		if owned {
			v = 1
		}
		w.r.add([2]int{p, v})
	})
	t.Cleanup(cancel)
	return w
}

func (w *watched) held() map[int]bool {
	out := map[int]bool{}
	for _, c := range w.r.all() {
		if c[1] == 1 {
			out[c[0]] = true
		} else {
			delete(out, c[0])
		}
	}
	return out
}

// TestPartitionsSpread joins three nodes: every partition is held by one
// of them, at most its share each. One crashes: the other two take its
// partitions within a few seconds.
func TestPartitionsSpread(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	var nodes []*Node
	for i := range 3 {
		nodes = append(nodes, join(t, testOptions(s.ClientURL(), fmt.Sprintf("n%d", i))))
	}
	w := watch(t, nodes[0].Owner())
	var desc string
	waitFor(t, 15*time.Second, "the partitions spread over three nodes", func() bool {
		var ok bool
		desc, ok = spread(nodes, 22)
		return ok
	})
	t.Logf("spread: %s", desc)
	for _, n := range nodes {
		if got := n.Owner().Instances(); got != 3 {
			t.Errorf("%s counts %d instances", n.Name(), got)
		}
		if len(n.Owner().Partitions()) < 20 {
			t.Errorf("%s holds %d partitions, want 20 to 22", n.Name(), len(n.Owner().Partitions()))
		}
	}
	// The bucket names each holder.
	ctx := context.Background()
	for _, n := range nodes {
		for _, p := range n.Owner().Partitions() {
			e, err := n.kv.Get(ctx, leaseKey(p))
			if err != nil || Holder(e.Value()) != n.Name() {
				t.Errorf("partition %d of %s: %v %v", p, n.Name(), e, err)
			}
		}
	}
	// Owns agrees with the partitions.
	for id := range uint64(1000) {
		holders := 0
		for _, n := range nodes {
			if n.Owner().Owns(id) {
				holders++
			}
		}
		if holders != 1 {
			t.Fatalf("sensor %d owned by %d nodes", id, holders)
		}
	}

	killed := time.Now()
	kill(nodes[2])
	waitFor(t, 10*time.Second, "the two left take the crashed node's partitions", func() bool {
		desc, ok := spread(nodes[:2], 32)
		_ = desc
		return ok
	})
	desc, _ = spread(nodes[:2], 32)
	t.Logf("after a crash, in %v: %s", time.Since(killed).Round(10*time.Millisecond), desc)

	// The watch saw every change.
	waitFor(t, time.Second, "the watch follows the partitions", func() bool {
		got := w.held()
		if len(got) != len(nodes[0].Owner().Partitions()) {
			return false
		}
		for _, p := range nodes[0].Owner().Partitions() {
			if !got[p] {
				return false
			}
		}
		return true
	})

	// A node that leaves gives its partitions back at once: the other
	// takes them well before the leases would expire.
	left := time.Now()
	if err := nodes[1].Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the last node takes every partition", func() bool {
		return len(nodes[0].Owner().Partitions()) == Partitions
	})
	t.Logf("after a leave: all on %s in %v", nodes[0].Name(), time.Since(left).Round(10*time.Millisecond))
}

// TestLeaseWrittenBehind writes a lease's key behind its holder's back: as
// the holder itself, as a renewal whose answer was lost would, it keeps
// the lease; as another, it loses it.
func TestLeaseWrittenBehind(t *testing.T) {
	t.Parallel()
	s := runServer(t)
	a := join(t, testOptions(s.ClientURL(), "a"))
	o := a.Owner()
	w := watch(t, o)
	ps := o.Partitions()
	if len(ps) != Partitions {
		t.Fatalf("a alone holds %d partitions", len(ps))
	}
	write := func(p int, value []byte) {
		t.Helper()
		ctx := context.Background()
		for range 20 { // the holder may renew between the read and the write
			o.mu.Lock()
			rev := o.leases[p].rev
			o.mu.Unlock()
			if _, err := a.kv.Update(ctx, leaseKey(p), value, rev); err == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("could not write partition %d's key", p)
	}
	write(ps[0], o.value())
	write(ps[1], []byte("intruder 1"))
	waitFor(t, 5*time.Second, "a loses the partition written by another", func() bool { return !o.OwnsPartition(ps[1]) })
	time.Sleep(a.opt.LeaseTTL) // renewals at least twice over
	if !o.OwnsPartition(ps[0]) {
		t.Errorf("a lost partition %d, which it wrote itself", ps[0])
	}
	for _, c := range w.r.all() {
		if c[0] == ps[0] && c[1] == 0 {
			t.Errorf("partition %d was lost for a while", ps[0])
		}
	}
	// Once the intruder's lease expires, a takes the partition again.
	waitFor(t, 3*a.opt.LeaseTTL, "a takes back the partition", func() bool { return o.OwnsPartition(ps[1]) })
}
