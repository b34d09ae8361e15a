package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/incident/stats"
)

func (s *Server) routeStats(api *echo.Group) {
	api.GET("/stats/alarms", s.handleStatsCounts(false))
	api.GET("/stats/incidents", s.handleStatsCounts(true))
	api.GET("/stats/false-alarms", s.handleStatsRates)
	api.GET("/stats/durations", s.handleStatsDurations)
}

// statsZone is the zone a date without a time is read in.
var statsZone = capZone

// statsRange reads from and to (RFC 3339 times or dates, to exclusive),
// to defaulting to the end of today and from to span back from it.
func (s *Server) statsRange(c echo.Context, span func(time.Time) time.Time) (from, to time.Time, err error) {
	parse := func(name string) (time.Time, error) {
		v := c.QueryParam(name)
		if v == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		if t, err := time.ParseInLocation(time.DateOnly, v, statsZone); err == nil {
			return t, nil
		}
		return time.Time{}, errorf(CodeBadRequest, name+" is a date (2026-12-03) or an RFC 3339 time")
	}
	if from, err = parse("from"); err != nil {
		return
	}
	if to, err = parse("to"); err != nil {
		return
	}
	if to.IsZero() {
		now := time.Now
		if s.opt.Now != nil {
			now = s.opt.Now
		}
		y, m, d := now().In(statsZone).Date()
		to = time.Date(y, m, d+1, 0, 0, 0, 0, statsZone)
	}
	if from.IsZero() {
		from = span(to)
	}
	return from, to, nil
}

// statsError answers a query the statistics refuse.
func statsError(err error) error {
	var se *stats.Error
	if errors.As(err, &se) {
		return errorf(CodeBadRequest, se.Code+": "+se.Reason)
	}
	return err
}

// statsInputs are the alarms and incidents the caller may see.
func (s *Server) statsInputs(c echo.Context) ([]stats.Alarm, []stats.Incident) {
	return s.opt.Response.StatsInputs(s.opt.Live, s.opt.Sensors, s.sensorScope(&callerOf(c).p))
}

// handleStatsCounts answers GET /api/v1/stats/alarms and
// /api/v1/stats/incidents ?group_by=day|month|year&by=domain|district|level
// &from&to: counts per period, zero-filled, one series per group.
func (s *Server) handleStatsCounts(incidents bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := stats.Query{GroupBy: c.QueryParam("group_by"), By: c.QueryParam("by"), Loc: statsZone}
		if q.GroupBy == "" {
			q.GroupBy = "day"
		}
		var err error
		q.From, q.To, err = s.statsRange(c, func(to time.Time) time.Time {
			// The last 30 days, 12 months or 5 years, whole.
			last := to.Add(-time.Nanosecond).In(statsZone)
			switch q.GroupBy {
			case "month":
				return time.Date(last.Year(), last.Month()-11, 1, 0, 0, 0, 0, statsZone)
			case "year":
				return time.Date(last.Year()-4, 1, 1, 0, 0, 0, 0, statsZone)
			}
			return to.AddDate(0, 0, -30)
		})
		if err != nil {
			return err
		}
		alarms, incs := s.statsInputs(c)
		var out *stats.Counts
		if incidents {
			out, err = stats.CountIncidents(incs, q)
		} else {
			out, err = stats.CountAlarms(alarms, q)
		}
		if err != nil {
			return statsError(err)
		}
		return c.JSON(http.StatusOK, out)
	}
}

// handleStatsRates answers GET /api/v1/stats/false-alarms
// ?by=sensor_kind|rule|sensor&from&to&limit: false-alarm rates.
func (s *Server) handleStatsRates(c echo.Context) error {
	q := stats.RateQuery{By: c.QueryParam("by")}
	if q.By == "" {
		q.By = stats.BySensorKind
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errorf(CodeBadRequest, "limit is a whole number")
		}
		q.Limit = n
	}
	var err error
	if q.From, q.To, err = s.statsRange(c, func(to time.Time) time.Time { return to.AddDate(0, 0, -90) }); err != nil {
		return err
	}
	alarms, _ := s.statsInputs(c)
	out, err := stats.FalseAlarmRates(alarms, q)
	if err != nil {
		return statsError(err)
	}
	return c.JSON(http.StatusOK, out)
}

// handleStatsDurations answers GET /api/v1/stats/durations
// ?by=domain|district|level&from&to: time to verify, publish, first
// receipt and resolve, p50 and p90.
func (s *Server) handleStatsDurations(c echo.Context) error {
	q := stats.DurationQuery{By: c.QueryParam("by")}
	var err error
	if q.From, q.To, err = s.statsRange(c, func(to time.Time) time.Time { return to.AddDate(0, 0, -90) }); err != nil {
		return err
	}
	_, incs := s.statsInputs(c)
	out, err := stats.StepDurations(incs, q)
	if err != nil {
		return statsError(err)
	}
	return c.JSON(http.StatusOK, out)
}
