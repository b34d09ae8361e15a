package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// ReadyPingTimeout bounds the store's answer to /readyz's ping.
const ReadyPingTimeout = 2 * time.Second

// Pinger is a store that can tell whether its database answers, as
// PostGIS can; a store that is not one (memory) is always reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Loader is a store that may be empty of a city until one is loaded, as a
// PostGIS database is before onemap load; Loaded says why it is empty.
type Loader interface {
	Loaded(ctx context.Context) error
}

// readyReason is one reason /readyz gives for not being ready.
type readyReason struct {
	Check   string `json:"check"` // store, journal, cluster, mqtt or shutdown
	Message string `json:"message"`
}

// handleReady answers /readyz: 200 while the server can do its work, 503
// with the reasons when it cannot — the database does not answer or holds
// no city, the
// journal takes no writes, the MQTT broker given is not connected, or the
// server is shutting down. It
// comes back to 200 by itself once they do.
func (s *Server) handleReady(c echo.Context) error {
	var reasons []readyReason
	if s.closing.Load() {
		reasons = append(reasons, readyReason{"shutdown", "the server is shutting down"})
	}
	if p, ok := s.store.(Pinger); ok {
		ctx, cancel := context.WithTimeout(c.Request().Context(), ReadyPingTimeout)
		err := p.Ping(ctx)
		cancel()
		if err != nil {
			reasons = append(reasons, readyReason{"store", "the database does not answer: " + err.Error()})
		}
	}
	if l, ok := s.store.(Loader); ok && len(reasons) == 0 {
		ctx, cancel := context.WithTimeout(c.Request().Context(), ReadyPingTimeout)
		err := l.Loaded(ctx)
		cancel()
		if err != nil {
			reasons = append(reasons, readyReason{"store", err.Error()})
		}
	}
	if s.opt.Journal != nil {
		if err := s.opt.Journal.Health(); err != nil {
			reasons = append(reasons, readyReason{"journal", "the journal takes no writes: " + err.Error()})
		}
	}
	if s.opt.Cluster != nil {
		if err := s.opt.Cluster.Health(); err != nil {
			reasons = append(reasons, readyReason{"cluster", err.Error()})
		}
	}
	if s.opt.MQTT != nil && !s.opt.MQTT.Stats().Connected {
		reasons = append(reasons, readyReason{"mqtt", "not connected to the MQTT broker"})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if len(reasons) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "not_ready", "reasons": reasons})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready"})
}
