package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// timedServer serves s with its own HTTPServer, timeouts and all.
func timedServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = s.HTTPServer()
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// stall sends the start of a request, then nothing, and returns what the
// server answers before it closes; it fails if the server holds the
// connection for 10 s.
func stall(t *testing.T, addr, start string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, start); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(bufio.NewReader(conn))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server held a stalled request for 10 s (read %q)", b)
	}
	return string(b)
}

// A client sending its body a byte at a time is cut once the ingest
// timeout is past, and what it sent in time is kept.
func TestSlowBodyCut(t *testing.T) {
	s := newTestServer(liveOptions(t, Options{ReadTimeout: 200 * time.Millisecond, IngestTimeout: 300 * time.Millisecond}))
	ts := timedServer(t, s)
	addr := strings.TrimPrefix(ts.URL, "http://")
	t.Run("Readings", func(t *testing.T) {
		got := stall(t, addr, "POST /api/v1/readings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\nContent-Length: 100000\r\n\r\n["+lel(3, 2)+",")
		if !strings.HasPrefix(got, "HTTP/1.1 408") || !strings.Contains(got, CodeBodyTimeout) || !strings.Contains(got, `"accepted":1`) {
			t.Errorf("answer %q; want 408 body_timeout with the first reading accepted", got)
		}
	})
	t.Run("Rules", func(t *testing.T) {
		admin := testAuth().sessions["admin"]
		got := stall(t, addr, "PUT /api/v1/rules HTTP/1.1\r\nHost: x\r\nCookie: "+sessionCookie+"="+admin.secret+"\r\nX-CSRF-Token: "+admin.csrf+"\r\nContent-Length: 100000\r\n\r\n{\"rules\": [")
		if !strings.HasPrefix(got, "HTTP/1.1 408") || !strings.Contains(got, CodeBodyTimeout) {
			t.Errorf("answer %q; want 408 body_timeout", got)
		}
	})
	t.Run("Headers", func(t *testing.T) {
		if got := stall(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1"); strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Errorf("answer %q to headers that never end", got)
		}
	})
}

// The live channel outlives the read and write timeouts: it answers after
// heartbeats far past them.
func TestWSOutlivesTimeouts(t *testing.T) {
	o := wsOptions(t, Options{ReadTimeout: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond, IdleTimeout: 50 * time.Millisecond,
		WSHeartbeat: 100 * time.Millisecond})
	s := newTestServer(o)
	t.Cleanup(s.Close)
	ts := timedServer(t, s)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pings := make(chan struct{}, 100)
	conn.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	msgs := make(chan string, 100)
	go func() {
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(b)
		}
	}()
	for range 3 { // 300 ms: six times the timeouts
		select {
		case <-pings:
		case <-time.After(5 * time.Second):
			t.Fatal("no heartbeat within 5 s")
		}
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatal("the connection was cut")
			}
			if strings.Contains(m, `"pong"`) {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no pong within 5 s")
		}
	}
}

func TestHTTPServerDefaults(t *testing.T) {
	hs := newTestServer(liveOptions(t, Options{})).HTTPServer()
	if hs.ReadTimeout != DefaultReadTimeout || hs.WriteTimeout != DefaultWriteTimeout || hs.IdleTimeout != DefaultIdleTimeout ||
		hs.ReadHeaderTimeout != DefaultReadHeaderTimeout || hs.Handler == nil {
		t.Errorf("read %v, write %v, idle %v, headers %v", hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout, hs.ReadHeaderTimeout)
	}
	var _ http.Handler = hs.Handler
}
