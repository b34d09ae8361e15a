package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// AccessLog says which requests the access log writes a line for.
type AccessLog int

// The access log's settings.
const (
	// AccessLogOff writes no line; it is the zero value.
	AccessLogOff AccessLog = iota
	// AccessLogUncached writes a line for every request but the tiles the
	// tile cache answered (200, 204 for an empty tile, or 304): a map's
	// steady stream of them.
	AccessLogUncached
	// AccessLogAll writes a line for every request.
	AccessLogAll
)

// ParseAccessLog reads an access log setting: all, uncached or off.
func ParseAccessLog(v string) (AccessLog, error) {
	switch v {
	case "all":
		return AccessLogAll, nil
	case "uncached":
		return AccessLogUncached, nil
	case "off":
		return AccessLogOff, nil
	}
	return AccessLogOff, fmt.Errorf("%q: want all, uncached or off", v)
}

// tileRoute is the route pattern of a vector tile.
const tileRoute = "/tiles/:layers/:z/:x/:y"

// keyTileCached marks, in a request's context, a tile the cache answered.
const keyTileCached = "onemap.tile_cached"

// statusClientGone is the status counted for a request whose client left
// before it was answered: none was sent.
const statusClientGone = 499

// observe is the middleware that counts every request in the metrics and
// writes its access log line: method, route pattern (never the path, which
// may hold tokens), status, bytes, milliseconds, remote address. It sits
// outside every other middleware, so it sees errors as they are answered
// and panics as the 500 they become.
func (s *Server) observe() echo.MiddlewareFunc {
	m, mode := s.opt.Metrics, s.opt.AccessLog
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // answered here, so that the status is known
			}
			took := time.Since(start)
			req, res := c.Request(), c.Response()
			status := res.Status
			switch {
			case res.Committed:
			case websocket.IsWebSocketUpgrade(req) && err == nil:
				status = http.StatusSwitchingProtocols // the connection was taken over
			default:
				status = statusClientGone
			}
			route := c.Path()
			cached, _ := c.Get(keyTileCached).(bool)
			if route == tileRoute {
				m.Tile(c.Param("layers"), c.Param("z"), status, cached, took)
			}
			m.Request(route, req.Method, status, took)
			if mode == AccessLogAll || mode == AccessLogUncached && !(route == tileRoute && cached && status < 400) {
				if route == "" {
					route = "unmatched"
				}
				s.log.LogAttrs(req.Context(), slog.LevelInfo, "request",
					slog.String("method", req.Method), slog.String("route", route), slog.Int("status", status),
					slog.Int64("bytes", res.Size), slog.Float64("ms", float64(took.Microseconds())/1000),
					slog.String("remote", req.RemoteAddr))
			}
			return nil
		}
	}
}
