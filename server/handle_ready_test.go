package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/mqttin"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/onemap/onemap/store/storetest"
	"github.com/onemap/onemap/wal"
)

// ready asks /readyz and returns its status and the checks it names.
func ready(t *testing.T, url string) (int, []string) {
	t.Helper()
	resp := get(t, url+"/readyz")
	var r struct {
		Status  string
		Reasons []struct{ Check, Message string }
	}
	if err := json.Unmarshal(body(t, resp), &r); err != nil {
		t.Fatal(err)
	}
	var checks []string
	for _, x := range r.Reasons {
		if x.Message == "" {
			t.Errorf("reason %+v without a message", x)
		}
		checks = append(checks, x.Check)
	}
	if (resp.StatusCode == 200) != (r.Status == "ready") {
		t.Errorf("status %d with %q", resp.StatusCode, r.Status)
	}
	return resp.StatusCode, checks
}

// On the memory store /readyz is ready unless the journal takes no
// writes, or the MQTT broker asked for is not connected; it is ready again
// once the journal writes.
func TestReadyMemory(t *testing.T) {
	wl, err := wal.Open(t.TempDir(), wal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wl.Close() })
	j := &failingJournal{Journal: live.WALJournal{Log: wl}}
	s := New(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), Journal: j})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	if code, why := ready(t, ts.URL); code != 200 || len(why) != 0 {
		t.Fatalf("readyz: %d %v, want 200", code, why)
	}
	j.fail(wal.ErrNoSpace)
	if code, why := ready(t, ts.URL); code != 503 || len(why) != 1 || why[0] != "journal" {
		t.Errorf("journal full: %d %v, want 503 for the journal", code, why)
	}
	if resp := get(t, ts.URL+"/healthz"); resp.StatusCode != 200 {
		t.Errorf("healthz while the journal is full: %d, want 200 (alive)", resp.StatusCode)
	}
	j.fail(nil)
	if code, _ := ready(t, ts.URL); code != 200 {
		t.Errorf("journal back: %d, want 200", code)
	}

	// An MQTT broker is asked for and not connected (never run here).
	sub, err := mqttin.New(mqttin.Options{Broker: "tcp://127.0.0.1:1", Ingest: func(context.Context, io.Reader, func(*live.Sensor) bool) (*live.IngestResult, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ms := httptest.NewServer(New(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), MQTT: sub}).Handler())
	t.Cleanup(ms.Close)
	if code, why := ready(t, ms.URL); code != 503 || len(why) != 1 || why[0] != "mqtt" {
		t.Errorf("mqtt down: %d %v, want 503 for mqtt", code, why)
	}

	// Shutting down: not ready while the connections drain.
	s.Close()
	if code, why := ready(t, ts.URL); code != 503 || len(why) != 1 || why[0] != "shutdown" {
		t.Errorf("after Close: %d %v, want 503 for shutdown", code, why)
	}
}

// proxy forwards TCP connections to a target while up; while down it cuts
// every connection as it comes: a database that goes away and comes back.
type proxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: target, ln: ln}
	t.Cleanup(func() { ln.Close(); p.set(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
	return p
}

// set takes the target away (down) or brings it back; taking it away cuts
// the connections open.
func (p *proxy) set(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// On PostGIS /readyz answers 503 while the database holds no city, saying
// so, and while it cannot be reached; 200 again by itself once it can.
func TestReadyPostGIS(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	ctx := context.Background()
	st, err := postgis.Open(ctx, u.String(), layers.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.set(false); st.Close() })
	ts := httptest.NewServer(New(Options{Catalog: layers.Default(), Store: st}).Handler())
	t.Cleanup(ts.Close)
	if code, why := ready(t, ts.URL); code != 503 || len(why) != 1 || why[0] != "store" {
		t.Fatalf("an empty database: readyz %d %v, want 503 for the store", code, why)
	}
	var h struct{ Status, Message string }
	if err := json.Unmarshal(body(t, get(t, ts.URL+"/healthz")), &h); err != nil || h.Status != "not_loaded" || !strings.Contains(h.Message, "onemap load") {
		t.Errorf("an empty database: healthz %+v %v", h, err)
	}
	if err := postgis.Load(ctx, st.Pool(), layers.Default(), storetest.City(), postgis.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, why := ready(t, ts.URL); code != 200 {
		t.Fatalf("readyz once loaded: %d %v, want 200", code, why)
	}

	p.set(true)
	if code, why := ready(t, ts.URL); code != 503 || len(why) != 1 || why[0] != "store" {
		t.Errorf("database away: %d %v, want 503 for the store", code, why)
	}

	p.set(false)
	// The pool may hand out a connection the cut killed before it makes a
	// new one: wait for readiness, which must come without a restart.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, why := ready(t, ts.URL)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database back: still %d %v after 10 s", code, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
