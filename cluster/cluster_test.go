package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/onemap/onemap/hub"
)

// runCluster starts three NATS servers routed into one JetStream cluster.
// A clustered JetStream needs its routes at start: the route ports are
// picked free first.
func runCluster(t *testing.T) []*server.Server {
	t.Helper()
	ports := make([]int, 3)
	var routes []string
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	var servers []*server.Server
	for i := range ports {
		o := serverOptions(t)
		o.ServerName = fmt.Sprintf("s%d", i)
		o.JetStreamMaxStore = 512 << 20
		o.Cluster = server.ClusterOpts{Name: "onemap", Host: "127.0.0.1", Port: ports[i]}
		o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		servers = append(servers, startServer(t, o))
	}
	for _, s := range servers {
		waitReady(t, s)
	}
	return servers
}

// joinCluster joins a node with three replicas, trying again while the
// cluster forms.
func joinCluster(t *testing.T, url, name string) *Node {
	t.Helper()
	o := testOptions(url, name)
	o.Replicas = 3
	o.LeaseTTL = 3 * time.Second // leaders move when a server goes: renewals may wait
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		n, err := Join(ctx, o)
		cancel()
		if err == nil {
			t.Cleanup(func() { _ = n.Close() })
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("join %s: %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestThreeServers runs two nodes on a three-server cluster with every
// stream, consumer and the bucket on three replicas, and shuts down the
// server one node is connected to while batches and events flow: the
// publisher goes on (sending again, with its ids, what was not
// acknowledged), no batch is lost, and both nodes see the same events
// with the same numbers.
func TestThreeServers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a three-server cluster takes some seconds")
	}
	t0 := time.Now()
	servers := runCluster(t)
	t.Logf("servers up: %v", time.Since(t0))
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.ClientURL())
	}
	url := strings.Join(urls, ",")
	a := joinCluster(t, url, "a")
	b := joinCluster(t, url, "b")
	nodes := []*Node{a, b}
	t.Logf("nodes joined (JetStream elects its leaders): %v", time.Since(t0))
	waitFor(t, 20*time.Second, "the partitions spread", func() bool { _, ok := spread(nodes, 32); return ok })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fa, fb collected
	for _, f := range []struct {
		n *Node
		c *collected
	}{{a, &fa}, {b, &fb}} {
		if err := f.n.Follow(ctx, ReadingsStream, 0, f.c.add); err != nil {
			t.Fatal(err)
		}
	}
	ra, rb := subscribe(t, a), subscribe(t, b)
	t.Logf("partitions spread: %v", time.Since(t0))

	var victim *server.Server
	for _, s := range servers {
		if s.Name() == a.nc.ConnectedServerName() {
			victim = s
		}
	}
	if victim == nil {
		t.Fatalf("a is connected to %q, which is none of the servers", a.nc.ConnectedServerName())
	}

	var published []string
	retries := 0
	start := time.Now()
	down := false
	for i := 0; time.Since(start) < 4*time.Second; i++ {
		for p := range Partitions {
			if p%8 != i%8 {
				continue
			}
			// As a sender does: try again with the same id until the
			// stream has it.
			for attempt := 0; ; attempt++ {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := a.PublishReadings(ctx, p, payload(p, i), MsgID(string(payload(p, i))))
				cancel()
				if err == nil {
					break
				}
				retries++
				if attempt == 30 {
					t.Fatalf("batch %s not taken after %d tries: %v", payload(p, i), attempt+1, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			published = append(published, string(payload(p, i)))
		}
		a.Bus().Publish(hub.Event{Topic: hub.Alarms, ID: uint64(i), Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
		if !down && time.Since(start) > time.Second {
			down = true
			t.Logf("shutting down %s, a's server", victim.Name())
			victim.Shutdown()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d batches published, %d tries again; a now on %s", len(published), retries, a.nc.ConnectedServerName())
	t.Logf("published: %v", time.Since(t0))
	// Both nodes follow every batch, once, whatever partition it is of.
	waitFor(t, 30*time.Second, "every batch published followed by both", func() bool {
		return len(fa.all()) >= len(published) && len(fb.all()) >= len(published)
	})
	for _, c := range []*collected{&fa, &fb} {
		seen := map[string]int{}
		for _, m := range c.all() {
			seen[string(m.Data)]++
		}
		for _, s := range published {
			if seen[s] != 1 {
				t.Errorf("%s followed %d times", s, seen[s])
			}
		}
	}
	t.Logf("all followed (the leaders of the servers gone elected again): %v", time.Since(t0))
	// Events: the same list on both nodes, in stream order.
	waitFor(t, 20*time.Second, "both nodes receive the same events", func() bool {
		return ra.len() > 0 && slices.Equal(ra.all(), rb.all()) && ra.all()[ra.len()-1].Seq == lastSeq(t, a)
	})
	evs := ra.all()
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("seq %d after %d", evs[i].Seq, evs[i-1].Seq)
		}
	}
	st := a.Stats()
	t.Logf("events: %d received of %d published, %d failed (the server going)", len(evs), st.EventsPublished, st.EventsFailed)
}
