package server

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/wal"
	"github.com/paulmach/orb"
)

// MaxReadingsBody bounds one ingest request: a batch of tens of thousands
// of readings, not a file upload.
const MaxReadingsBody = 16 << 20

// handleReadings answers POST /api/v1/readings: a JSON array or NDJSON of
// readings, each accepted or refused on its own.
func (s *Server) handleReadings(c echo.Context) error {
	p := &callerOf(c).p
	key := p.TokenID
	if key == "" {
		key = "user:" + p.UserID
	}
	if ok, wait := s.ingestRate.allow(key, s.now()); !ok {
		e := errorf(CodeTooManyRequests, "this token sends batches faster than its rate; send fewer, larger batches")
		e.RetryAfter = wait
		return e
	}
	var allowed func(*live.Sensor) bool
	if p.Sensors != nil {
		allowed = func(sn *live.Sensor) bool { return p.SensorAllowed(sn.ID) }
	}
	r := c.Request()
	// The body may take as long as the batch may; the answer a while more
	// for the journal.
	extendDeadlines(c.Response(), s.opt.IngestTimeout, s.opt.IngestTimeout+s.opt.WriteTimeout)
	if r.ContentLength > MaxReadingsBody {
		return errorf(CodeTooLarge, "a batch is at most 16 MiB")
	}
	body := http.MaxBytesReader(c.Response(), r.Body, MaxReadingsBody)
	res, err := s.opt.Live.Ingest(r.Context(), body, allowed)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errorf(CodeTooLarge, "a batch is at most 16 MiB; nothing past the limit was read")
	case errors.Is(err, os.ErrDeadlineExceeded) && res != nil:
		return s.partialBatch(c, res, errorf(CodeBodyTimeout, fmt.Sprintf("the body did not arrive within %s; what came before was taken", live.Span(s.opt.IngestTimeout))))
	case errors.Is(err, live.ErrBody) && res != nil:
		// What came before the fault is accepted; say where it broke.
		return s.partialBatch(c, res, errorf(CodeBadBody, err.Error()))
	case errors.Is(err, live.ErrTooMany) && res != nil:
		return s.partialBatch(c, res, errorf(CodeTooManyReadings, fmt.Sprintf("a batch is at most %d readings; they were taken, nothing after them was read", live.MaxBatch)))
	case errors.Is(err, wal.ErrNoSpace), errors.Is(err, wal.ErrFailed):
		return err // 507 storage_full or 503, with Retry-After: see classify
	case err != nil:
		s.log.Error("ingest", "err", err)
		return errorf(CodeUnavailable, "readings could not be stored; nothing of this batch was accepted, send it again")
	}
	return c.JSON(http.StatusOK, res)
}

// partialBatch answers a batch that ended early: what was accepted and
// refused before the end, and why it ended.
func (s *Server) partialBatch(c echo.Context, res *live.IngestResult, e *apiError) error {
	return c.JSON(e.Status, map[string]any{
		"accepted": res.Accepted, "refused": res.Refused, "refused_total": res.RefusedTotal, "refused_by_code": res.RefusedByCode,
		"error": e,
	})
}

// tokenIn reports whether tok is one of tokens, in constant time.
func tokenIn(tok string, tokens []string) bool {
	ok := false
	for _, t := range tokens {
		ok = subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 || ok
	}
	return ok
}

// handleSensors answers GET /api/v1/sensors?domain&kind&bbox.
func (s *Server) handleSensors(c echo.Context) error {
	var bbox *orb.Bound
	if q := c.QueryParam("bbox"); q != "" {
		b, err := parseBBox(q)
		if err != nil {
			return err
		}
		bbox = &b
	}
	domain, kind := c.QueryParam("domain"), c.QueryParam("kind")
	if domain != "" && !slices.Contains(live.AllDomains, live.Domain(domain)) {
		return errorf(CodeBadRequest, fmt.Sprintf("domain %q is not one of %s", domain, joinDomains(live.AllDomains)))
	}
	p := &callerOf(c).p
	out := []map[string]any{}
	for _, sn := range s.opt.Sensors.All() {
		if domain != "" && string(sn.Domain) != domain || kind != "" && sn.Kind != kind || bbox != nil && !bbox.Contains(sn.Location) || !inScope(p, sn) {
			continue
		}
		out = append(out, sensorJSON(sn))
	}
	return c.JSON(http.StatusOK, map[string]any{"sensors": out})
}

type metricJSON struct {
	ID   string     `json:"id"`
	Name string     `json:"name"`
	Unit string     `json:"unit"`
	Min  float64    `json:"min"`
	Max  float64    `json:"max"`
	Inst [2]float64 `json:"instrument_range"`
}

func sensorJSON(sn *live.Sensor) map[string]any {
	ms := make([]metricJSON, 0, len(sn.Metrics))
	for _, m := range sn.Metrics {
		md := live.LookupMetric(m)
		if md == nil {
			ms = append(ms, metricJSON{ID: m})
			continue
		}
		u := md.Units[0]
		ms = append(ms, metricJSON{ID: m, Name: md.Name, Unit: u.Symbol, Min: u.Min, Max: u.Max, Inst: [2]float64{u.InstMin, u.InstMax}})
	}
	return map[string]any{
		"id": sn.ID, "code": sn.Code, "domain": sn.Domain, "kind": sn.Kind, "asset": sn.Asset, "asset_layer": sn.AssetLayer,
		"location": sn.Location, "district": sn.District, "owner": sn.Owner, "interval_s": sn.Interval.Seconds(), "metrics": ms,
	}
}

func (s *Server) sensorParam(c echo.Context) (*live.Sensor, error) {
	sn, ok := s.opt.Sensors.Resolve(json.RawMessage(strconv.Quote(c.Param("id"))))
	// Outside the caller's units and districts a sensor is as if it
	// were not there.
	if !ok || !inScope(&callerOf(c).p, sn) {
		return nil, errorf(CodeNotFound, "no sensor "+live.Clip(c.Param("id")))
	}
	return sn, nil
}

// handleSensor answers GET /api/v1/sensors/{id}: the sensor and the latest
// state of each of its metrics.
func (s *Server) handleSensor(c echo.Context) error {
	sn, err := s.sensorParam(c)
	if err != nil {
		return err
	}
	out := sensorJSON(sn)
	out["state"] = s.opt.Live.SensorState(sn)
	return c.JSON(http.StatusOK, out)
}

// handleAlarms answers GET /api/v1/alarms?state&level&domain&district&bbox&from&to&overlap&limit.
func (s *Server) handleAlarms(c echo.Context) error {
	f := live.AlarmFilter{Limit: 1000}
	switch st := live.AlarmState(c.QueryParam("state")); st {
	case "", live.Active, live.ClearedState:
		f.State = st
	default:
		return errorf(CodeBadRequest, "state is active or cleared")
	}
	if q := c.QueryParam("level"); q != "" {
		l, err := strconv.Atoi(q)
		if err != nil || l < 1 || l > int(live.MaxLevel) {
			return errorf(CodeBadRequest, fmt.Sprintf("level %q is not a level: 1 (most severe) to %d", q, live.MaxLevel))
		}
		f.Level = live.Level(l)
	}
	f.Domain, f.District = live.Domain(c.QueryParam("domain")), c.QueryParam("district")
	if f.Domain != "" && !slices.Contains(live.AllDomains, f.Domain) {
		return errorf(CodeBadRequest, fmt.Sprintf("domain %q is not one of %s", f.Domain, joinDomains(live.AllDomains)))
	}
	if q := c.QueryParam("bbox"); q != "" {
		b, err := parseBBox(q)
		if err != nil {
			return err
		}
		f.BBox = &b
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if q := c.QueryParam(name); q != "" {
			t, err := time.Parse(time.RFC3339, q)
			if err != nil {
				return errorf(CodeBadRequest, name+" must be RFC 3339")
			}
			*dst = t
		}
	}
	switch c.QueryParam("overlap") {
	case "", "false":
	case "true":
		f.Overlap = true
	default:
		return errorf(CodeBadRequest, "overlap is true or false")
	}
	n, err := parseLimit(c.QueryParam("limit"), f.Limit, 100000)
	if err != nil {
		return err
	}
	f.Limit = n
	f.Sensor = s.sensorScope(&callerOf(c).p)
	alarms := s.opt.Live.Alarms(f)
	if alarms == nil {
		alarms = []live.Alarm{}
	}
	return c.JSON(http.StatusOK, map[string]any{"alarms": alarms})
}

func alarmID(c echo.Context) (uint64, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, errorf(CodeBadID, "an alarm id is a positive whole number")
	}
	return id, nil
}

// alarmParam returns the alarm the path names.
func (s *Server) alarmParam(c echo.Context) (*live.Alarm, error) {
	id, err := alarmID(c)
	if err != nil {
		return nil, err
	}
	a, err := s.opt.Live.Alarm(id)
	if err != nil {
		return nil, err
	}
	if p := &callerOf(c).p; scoped(p) {
		if sn, ok := s.opt.Sensors.Get(a.Sensor); !ok || !inScope(p, sn) {
			return nil, errorf(CodeNotFound, fmt.Sprintf("no alarm %d", id))
		}
	}
	return a, nil
}

// scoped reports whether p is limited to some units or districts.
func scoped(p *auth.Principal) bool { return len(p.Units) > 0 || len(p.Districts) > 0 }

// inScope reports whether sensor sn is within p's units (its owner) and
// districts; a principal not limited sees every sensor.
func inScope(p *auth.Principal, sn *live.Sensor) bool {
	return (len(p.Units) == 0 || slices.Contains(p.Units, sn.Owner)) &&
		(len(p.Districts) == 0 || slices.Contains(p.Districts, sn.District))
}

// sensorScope is the AlarmFilter.Sensor of p: nil for a principal not
// limited.
func (s *Server) sensorScope(p *auth.Principal) func(uint64) bool {
	if !scoped(p) {
		return nil
	}
	return func(id uint64) bool {
		sn, ok := s.opt.Sensors.Get(id)
		return ok && inScope(p, sn)
	}
}

// handleAlarm answers GET /api/v1/alarms/{id}, with its changes.
func (s *Server) handleAlarm(c echo.Context) error {
	a, err := s.alarmParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// handleAck answers POST /api/v1/alarms/{id}/ack {"note"}: the alarm,
// acknowledged by the user logged in.
func (s *Server) handleAck(c echo.Context) error {
	if _, err := alarmID(c); err != nil {
		return err
	}
	var req struct {
		Note string `json:"note"`
	}
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) || len(req.Note) > 2000 {
		return errorf(CodeBadRequest, `body is {"note": "optional, at most 2,000 bytes"}; the user logged in is who acknowledges`)
	}
	a, err := s.alarmParam(c) // within the caller's scope
	if err != nil {
		return err
	}
	a, err = s.opt.Live.Acknowledge(c.Request().Context(), a.ID, callerOf(c).p.Name, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// handleGetRules answers GET /api/v1/rules[?version=N]: the rules file in
// force, or of version N.
func (s *Server) handleGetRules(c echo.Context) error {
	var version uint64
	if q := c.QueryParam("version"); q != "" {
		v, err := strconv.ParseUint(q, 10, 64)
		if err != nil || v == 0 {
			return errorf(CodeBadRequest, "version is a rules version number: 1, 2, …")
		}
		version = v
	}
	b, err := s.opt.Live.RulesJSON(version)
	if errors.Is(err, live.ErrNoVersion) {
		return errorf(CodeNotFound, fmt.Sprintf("no rules version %d", version))
	}
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, b)
}

// handleRulesVersions answers GET /api/v1/rules/versions: every version of
// the rules, newest first.
func (s *Server) handleRulesVersions(c echo.Context) error {
	vs := s.opt.Live.RulesVersions()
	slices.Reverse(vs)
	return c.JSON(http.StatusOK, map[string]any{"versions": vs})
}

// handlePutRules answers PUT /api/v1/rules: a new rules file, taken whole as
// a new version or refused whole with the line and reason, the running
// rules staying.
func (s *Server) handlePutRules(c echo.Context) error {
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 4<<20))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errorf(CodeTooLarge, "a rules file is at most 4 MiB")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errorf(CodeBodyTimeout, "the rules file did not arrive in time; the running rules stay")
	case err != nil:
		return errorf(CodeBadRequest, "the rules file could not be read; the running rules stay")
	}
	rs, err := s.opt.Live.ParseRules(b)
	if err != nil {
		return errorf(CodeBadRules, err.Error())
	}
	v, err := s.opt.Live.PutRules(c.Request().Context(), rs, b, callerOf(c).p.Name)
	if err != nil {
		s.log.Error("rules", "err", err)
		return errorf(CodeUnavailable, "the rules could not be stored; the rules in force stay")
	}
	return c.JSON(http.StatusOK, map[string]any{"rules": len(rs.Rules()), "version": v.Version, "at": v.At})
}

// maxBuckets bounds a curve: more points than any screen has pixels.
const maxBuckets = 50000

// handleSeries answers GET /api/v1/sensors/{id}/series?metric&from&to&step:
// min, avg and max per step, downsampled on the server. from and to are
// RFC 3339 (default: the last 24 h); step is a duration such as 1m or 15m
// (default: about 500 points).
func (s *Server) handleSeries(c echo.Context) error {
	sn, err := s.sensorParam(c)
	if err != nil {
		return err
	}
	metric := c.QueryParam("metric")
	if metric == "" && len(sn.Metrics) > 0 {
		metric = sn.Metrics[0]
	}
	if !sn.Measures(metric) {
		return errorf(CodeBadRequest, "sensor "+sn.Code+" does not measure "+quote(metric))
	}
	to := s.now().Truncate(time.Second)
	if q := c.QueryParam("to"); q != "" {
		if to, err = time.Parse(time.RFC3339, q); err != nil {
			return errorf(CodeBadRequest, "to must be RFC 3339")
		}
	}
	from := to.Add(-24 * time.Hour)
	if q := c.QueryParam("from"); q != "" {
		if from, err = time.Parse(time.RFC3339, q); err != nil {
			return errorf(CodeBadRequest, "from must be RFC 3339")
		}
	}
	if !from.Before(to) {
		return errorf(CodeBadRequest, "from must be before to")
	}
	step := to.Sub(from) / 500
	if q := c.QueryParam("step"); q != "" {
		if step, err = time.ParseDuration(q); err != nil {
			return errorf(CodeBadRequest, "step is a duration such as 1m or 15m")
		}
	}
	if step < time.Second || to.Sub(from)/step > maxBuckets {
		return errorf(CodeBadRequest, "step must be at least 1s and give at most 50,000 points")
	}
	if c.QueryParam("from") == "" {
		from = from.Truncate(step) // buckets on round times
	}
	type bucket struct {
		T   time.Time `json:"t"`
		Min float64   `json:"min"`
		Avg float64   `json:"avg"`
		Max float64   `json:"max"`
		N   int       `json:"n"`
	}
	bs := s.opt.Series.Query(series.Key{Sensor: sn.ID, Metric: metric}, from, to, step)
	out := make([]bucket, len(bs))
	for i, b := range bs {
		out[i] = bucket{b.Start, b.Min, b.Avg, b.Max, b.Count}
	}
	unit := ""
	if md := live.LookupMetric(metric); md != nil {
		unit = md.Units[0].Symbol
	}
	return c.JSON(http.StatusOK, map[string]any{
		"sensor": sn.ID, "metric": metric, "unit": unit, "from": from, "to": to, "step_s": step.Seconds(), "buckets": out,
	})
}

func joinDomains(ds []live.Domain) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d)
	}
	return strings.Join(out, ", ")
}
