package server

import (
	"github.com/labstack/echo/v4"

	"github.com/onemap/onemap/live"
)

// routeInstruments adds /readyz and, with metrics in the options, /metrics,
// and has the metrics read the counts of the tile cache, ingest, the
// alarms, the live channel and MQTT when scraped.
func (s *Server) routeInstruments(e *echo.Echo) {
	e.GET("/readyz", s.handleReady)
	m := s.opt.Metrics
	if m == nil {
		return
	}
	e.GET("/metrics", echo.WrapHandler(m.Handler()))
	errs := []error{m.WatchTileCache(s.cache.Stats)}
	if o := s.opt.Live; o != nil {
		errs = append(errs, m.WatchIngest(o.Stats), m.WatchAlarms(func() []live.Alarm {
			return o.Alarms(live.AlarmFilter{State: live.Active})
		}))
	}
	if s.hub != nil {
		errs = append(errs, m.WatchHub(s.hub.Stats))
	}
	if s.opt.MQTT != nil {
		errs = append(errs, m.WatchMQTT(s.opt.MQTT.Stats))
	}
	for _, err := range errs {
		if err != nil {
			// The same metrics given to a second server count the first's.
			s.log.Warn("metrics", "err", err)
		}
	}
}
