package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// The NATS servers of the tests run in the test's process, on random ports
// of the loopback, with JetStream in the test's temporary directory.

func serverOptions(t testing.TB) *server.Options {
	t.Helper()
	return &server.Options{
		Host:               "127.0.0.1",
		Port:               -1,
		JetStream:          true,
		StoreDir:           t.TempDir(),
		JetStreamMaxStore:  1 << 30,
		JetStreamMaxMemory: 256 << 20,
		NoLog:              true,
		NoSigs:             true,
	}
}

// startServer starts a server without waiting for it: a clustered one is
// ready only once its peers are up.
func startServer(t testing.TB, o *server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func waitReady(t testing.TB, s *server.Server) {
	t.Helper()
	if !s.ReadyForConnections(20 * time.Second) {
		t.Fatalf("the NATS server %s did not start", s.Name())
	}
}

// runServer starts one NATS server with JetStream.
func runServer(t testing.TB) *server.Server {
	t.Helper()
	s := startServer(t, serverOptions(t))
	waitReady(t, s)
	return s
}

// testLog is where the nodes log: nowhere, unless CLUSTER_TEST_LOG is set.
func testLog() *slog.Logger {
	if os.Getenv("CLUSTER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testOptions are a node's options for the tests: short leases and ack
// waits, so that ownership moves in a couple of seconds, and small
// streams.
func testOptions(url, name string) Options {
	return Options{
		URL:              url,
		Name:             name,
		LeaseTTL:         2 * time.Second,
		EventsMaxBytes:   32 << 20,
		ReadingsMaxBytes: 64 << 20,
		HistoryMaxBytes:  32 << 20,
		CloseTimeout:     5 * time.Second,
		Log:              testLog().With("node", name),
	}
}

// join joins a node, closed when the test ends.
func join(t testing.TB, o Options) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Join(ctx, o)
	if err != nil {
		t.Fatalf("join %s: %v", o.Name, err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// kill ends a node as a crash would: its connection closes, and nothing
// is given back.
func kill(n *Node) { n.nc.Close() }

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// spread describes who holds which partitions, or says what is wrong:
// a partition held twice or by no one, or a node over max.
func spread(nodes []*Node, max int) (string, bool) {
	held := map[int]string{}
	var b strings.Builder
	ok := true
	for _, n := range nodes {
		ps := n.Owner().Partitions()
		fmt.Fprintf(&b, "%s:%d ", n.Name(), len(ps))
		if len(ps) > max {
			ok = false
		}
		for _, p := range ps {
			if other, dup := held[p]; dup {
				fmt.Fprintf(&b, "[%d held by %s and %s] ", p, other, n.Name())
				ok = false
			}
			held[p] = n.Name()
		}
	}
	if len(held) != Partitions {
		fmt.Fprintf(&b, "[%d held]", len(held))
		ok = false
	}
	return b.String(), ok
}

// recorder keeps what a test's subscriber or consumer received.
type recorder[T any] struct {
	mu  sync.Mutex
	got []T
}

func (r *recorder[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, v)
}

func (r *recorder[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.got...)
}

func (r *recorder[T]) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}
