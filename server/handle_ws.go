package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/onemap/onemap/hub"
)

// Limits of the live channel (docs/websocket.md).
const (
	WSMaxMessage = 4 << 10          // bytes of one client message
	WSHeartbeat  = 25 * time.Second // between the server's pings, by default
	WSRate       = 20               // client messages a second
	wsWriteWait  = 10 * time.Second
)

// clientMessage is what a client sends.
type clientMessage struct {
	Type   string      `json:"type"`
	Topics []hub.Topic `json:"topics"`
	BBox   []float64   `json:"bbox"`
	Circle []float64   `json:"circle"`
	Zoom   float64     `json:"zoom"`
	Resume uint64      `json:"resume"`
}

// subscription turns a subscribe message into the hub's subscription.
func (m *clientMessage) subscription() (hub.Subscription, error) {
	sub := hub.Subscription{Topics: m.Topics, Zoom: m.Zoom, Resume: m.Resume}
	switch {
	case m.BBox != nil && len(m.BBox) != 4:
		return sub, fmt.Errorf("%w: bbox is [minLon, minLat, maxLon, maxLat]", hub.ErrBadSubscription)
	case m.Circle != nil && len(m.Circle) != 3:
		return sub, fmt.Errorf("%w: circle is [lon, lat, metres]", hub.ErrBadSubscription)
	case m.BBox != nil:
		sub.BBox = &orb.Bound{Min: orb.Point{m.BBox[0], m.BBox[1]}, Max: orb.Point{m.BBox[2], m.BBox[3]}}
	}
	if m.Circle != nil {
		sub.Circle = &hub.Circle{Center: orb.Point{m.Circle[0], m.Circle[1]}, Radius: m.Circle[2]}
	}
	return sub, sub.Validate()
}

var wsUpgrader = websocket.Upgrader{
	// A small read buffer (messages are read through it in pieces), and
	// write buffers taken from a pool only while writing: an idle
	// connection holds 1 KiB of buffers.
	ReadBufferSize:  1 << 10,
	WriteBufferPool: &sync.Pool{},
	// The Origin is checked before the upgrade, with a JSON error.
	CheckOrigin: func(*http.Request) bool { return true },
}

// handleWS answers GET /ws: the live channel.
func (s *Server) handleWS(c echo.Context) error {
	r := c.Request()
	if scoped(&callerOf(c).p) {
		// The channel carries the whole city; a user limited to some units
		// or districts reads their alarms from the API, which filters them.
		return errorf(CodeForbidden, "the live channel carries the whole city; a user limited to units or districts reads /api/v1/alarms")
	}
	if !s.originAllowed(r) {
		return errorf(CodeBadOrigin, "the page's origin may not open the live channel; see --allowed-origins")
	}
	// The connection outlives the server's read and write timeouts; it
	// keeps deadlines of its own (heartbeat, wsWriteWait).
	clearDeadlines(c.Response())
	conn, err := wsUpgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		return nil // the upgrader has answered
	}
	client, err := s.hub.Connect()
	if err != nil {
		code, text := websocket.CloseInternalServerErr, "the live channel is closing"
		if errors.Is(err, hub.ErrFull) {
			code, text = websocket.CloseTryAgainLater, "too many connections; try again later"
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		conn.Close()
		return nil
	}
	// The connection goes on in goroutines of its own, so that the HTTP
	// server's goroutine and buffers for the request are let go; the hub's
	// Close ends it at shutdown.
	login := callerOf(c).p.Name
	go func() {
		defer conn.Close()
		defer client.Close()
		s.serveWS(conn, client, login)
	}()
	return nil
}

// wsConn is one connection's writing side: gorilla allows one writer at a time.
type wsConn struct {
	mu      sync.Mutex
	conn    *websocket.Conn
	writing atomic.Bool // a drain is running
}

func (w *wsConn) write(p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
	return w.conn.WriteMessage(websocket.TextMessage, p)
}

func (w *wsConn) writeJSON(v any) error {
	p, _ := json.Marshal(v)
	return w.write(p)
}

func (w *wsConn) close(code int, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}

// serveWS runs a connection of login until either side ends it.
func (s *Server) serveWS(conn *websocket.Conn, client *hub.Client, login string) {
	w := &wsConn{conn: conn}
	conn.SetReadLimit(WSMaxMessage)
	conn.SetReadDeadline(time.Now().Add(s.deadPeer()))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(s.deadPeer())) })

	if err := w.writeJSON(map[string]any{"type": "hello", "seq": s.hub.Seq(), "heartbeat_s": s.opt.WSHeartbeat.Seconds(),
		"topics": hub.Topics, "sensor_min_zoom": s.opt.Feed.to.Load().sensorMinZoom}); err != nil {
		return
	}
	if s.personal != nil {
		defer s.personal.add(login, w)()
	}
	// No goroutine waits to write: one starts when the hub has something
	// for the client and ends when it has sent it, so an idle connection
	// costs one goroutine, its reader.
	client.OnReady(func() {
		if w.writing.CompareAndSwap(false, true) {
			go s.drain(w, client)
		}
	})
	var ping *time.Timer
	ping = time.AfterFunc(s.opt.WSHeartbeat, func() {
		w.mu.Lock()
		err := w.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait))
		w.mu.Unlock()
		if err == nil {
			ping.Reset(s.opt.WSHeartbeat)
		}
	})
	defer ping.Stop()
	s.readLoop(conn, w, client)
}

// deadPeer is the silence after which a peer is dropped: two heartbeats
// and then some (60 s by default).
func (s *Server) deadPeer() time.Duration { return s.opt.WSHeartbeat * 12 / 5 }

// riskZoneCheck is how often the hub looks for a new version of the risk
// zone layer.
func (s *Server) riskZoneCheck() time.Duration {
	if s.opt.RiskZoneCheck > 0 {
		return s.opt.RiskZoneCheck
	}
	return time.Second
}

// readLoop takes the client's messages until the connection ends. The
// rate of messages is counted in seconds of the server's clock.
func (s *Server) readLoop(conn *websocket.Conn, w *wsConn, client *hub.Client) {
	window, n := s.now(), 0
	for {
		_, p, err := conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				w.close(websocket.CloseMessageTooBig, fmt.Sprintf("a message is at most %d bytes", WSMaxMessage))
			}
			return
		}
		conn.SetReadDeadline(time.Now().Add(s.deadPeer()))
		if now := s.now(); now.Sub(window) >= time.Second {
			window, n = now, 0
		}
		if n++; n > WSRate {
			if n > 5*WSRate {
				w.close(websocket.ClosePolicyViolation, "too many messages")
				return
			}
			w.writeJSON(wsError(CodeRateLimited, fmt.Sprintf("at most %d messages a second; this one was dropped", WSRate)))
			continue
		}
		var m clientMessage
		if err := json.Unmarshal(p, &m); err != nil || m.Type == "" {
			w.writeJSON(wsError(CodeBadMessage, "a message is a JSON object with a \"type\""))
			continue
		}
		switch m.Type {
		case "ping":
			w.writeJSON(map[string]string{"type": "pong"})
		case "subscribe":
			sub, err := m.subscription()
			if err == nil {
				err = client.Update(sub)
			}
			if err != nil {
				w.writeJSON(wsError(CodeBadSubscription, err.Error()))
			}
		default:
			w.writeJSON(wsError(CodeUnknownType, fmt.Sprintf("unknown message type %q: send subscribe or ping", m.Type)))
		}
	}
}

func wsError(code, msg string) map[string]string {
	return map[string]string{"type": "error", "code": code, "message": msg}
}

// drain sends what the hub has for the client, then ends; w.writing is
// set while it runs. A failed write closes the connection, which ends the
// reader.
func (s *Server) drain(w *wsConn, client *hub.Client) {
	for {
		msgs, err := client.Take()
		if errors.Is(err, hub.ErrClosed) {
			w.close(websocket.CloseGoingAway, "the server is shutting down; reconnect and resume")
			w.conn.Close()
			return
		}
		if len(msgs) == 0 {
			// Hand over to the next drain, unless something came between
			// the Take and now and no other drain has started for it.
			w.writing.Store(false)
			if !client.Due() || !w.writing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		for _, m := range msgs {
			buf := encodeBuffers.Get().(*bytes.Buffer)
			err := w.write(encodeMessage(buf, m))
			if buf.Cap() <= 1<<20 {
				encodeBuffers.Put(buf)
			}
			if err != nil {
				w.conn.Close()
				return // w.writing stays set: no drain starts again
			}
		}
	}
}

// encodeBuffers hold the buffers messages are encoded in, shared by the
// connections: an idle one holds none.
var encodeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeMessage writes a hub message as the live channel's JSON into buf
// and returns it: the events of each topic as an array, their data as
// encoded once by the feed.
func encodeMessage(buf *bytes.Buffer, m hub.Message) []byte {
	buf.Reset()
	buf.WriteString(`{"type":"`)
	buf.WriteString(string(m.Kind))
	buf.WriteByte('"')
	if m.Kind != hub.Resync {
		buf.WriteString(`,"seq":`)
		buf.WriteString(strconv.FormatUint(m.Seq, 10))
	}
	if m.Reason != "" {
		buf.WriteString(`,"reason":"`)
		buf.WriteString(m.Reason)
		buf.WriteByte('"')
	}
	if m.Resumed {
		buf.WriteString(`,"resumed":true`)
	}
	for _, t := range hub.Topics {
		n := 0
		var last *hub.Event
		for _, ev := range m.Events {
			if ev.Topic != t {
				continue
			}
			if t == hub.RiskZones {
				last = ev // one layer: its latest version
				continue
			}
			if n == 0 {
				buf.WriteString(`,"` + string(t) + `":[`)
			} else {
				buf.WriteByte(',')
			}
			writeData(buf, ev.Data)
			n++
		}
		if n > 0 {
			buf.WriteByte(']')
		}
		if last != nil {
			buf.WriteString(`,"` + string(t) + `":`)
			writeData(buf, last.Data)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

func writeData(buf *bytes.Buffer, d any) {
	if raw, ok := d.(json.RawMessage); ok {
		buf.Write(raw)
		return
	}
	p, err := json.Marshal(d)
	if err != nil {
		buf.WriteString("null")
		return
	}
	buf.Write(p)
}

// originAllowed admits requests without an Origin (programs), from this
// server's own pages, and from the allowed origins.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if s.opt.PublicURL != "" {
		if p, err := url.Parse(s.opt.PublicURL); err == nil && strings.EqualFold(p.Host, u.Host) {
			return true
		}
	}
	for _, o := range s.opt.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}
