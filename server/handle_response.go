package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/cap"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/attach"
	"github.com/onemap/onemap/incident/plan"
	"github.com/onemap/onemap/incident/response"
	"github.com/onemap/onemap/notify"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

func (s *Server) routeResponse(api *echo.Group) {
	api.GET("/warnings", s.handleWarnings)
	api.GET("/warnings.atom", s.handleWarningsAtom)
	api.GET("/warnings/:id/cap.xml", s.handleCAP)
	if s.opt.Response == nil {
		return
	}
	s.routeStats(api)
	api.GET("/incidents/:id/deliveries", s.handleDeliveries)
	api.GET("/incidents/:id/response", s.handleResponse)
	api.GET("/incidents/:id/positions", s.handlePositions)
	api.GET("/incidents/:id/report", s.handleReport)
	api.GET("/incidents/:id/report.html", s.handleReportHTML)
	api.GET("/incidents/:id/replay", s.handleReplay)
	api.POST("/incidents/:id/feedback", s.handleFeedback)
	api.GET("/inbox", s.handleInbox)
	api.POST("/inbox/:id/read", s.handleInboxRead)
	api.POST("/inbox/:id/reply", s.handleInboxReply)
	api.GET("/tasks/mine", s.handleMyTasks)
	api.POST("/tasks/:id/assign", s.handleAssign)
	api.POST("/tasks/:id/advance", s.handleAdvance)
	api.POST("/positions", s.handlePosition)
	if s.opt.Attachments != nil {
		api.POST("/attachments", s.handlePutAttachment)
		api.GET("/attachments/:id", s.handleGetAttachment)
	}
}

// after runs what follows a step: the push and the plan. A failure is
// logged, not answered: the step is kept, and what follows it is made good
// at the next start.
func (s *Server) after(c echo.Context, in *incident.Incident) {
	if s.opt.Response == nil {
		return
	}
	if err := s.opt.Response.After(c.Request().Context(), in); err != nil {
		s.log.Warn("what follows an incident step", "incident", in.ID, "state", in.State, "err", err)
	}
}

// handleWarnings answers GET /api/v1/warnings: the warnings in force, the
// most severe first.
func (s *Server) handleWarnings(c echo.Context) error {
	out := []warningState{}
	for _, in := range s.standing(c) {
		out = append(out, warningState{Incident: in.ID, State: in.State, Standing: true, Warning: in.Current(), Versions: len(in.Versions)})
	}
	return c.JSON(http.StatusOK, map[string]any{"warnings": out})
}

// standing are the incidents whose warning is in force that the caller
// may see, the most severe first, then the newest.
func (s *Server) standing(c echo.Context) []incident.Incident {
	var out []incident.Incident
	for _, in := range s.opt.Incidents.List() {
		if in.Current() != nil && warningStanding(in.State) && s.incidentVisible(c, &in) {
			out = append(out, in)
		}
	}
	slices.SortStableFunc(out, func(a, b incident.Incident) int { return int(a.Current().Level) - int(b.Current().Level) })
	return out
}

// capZone is the zone CAP times are written in: China Standard Time.
var capZone = time.FixedZone("CST", 8*3600)

// capSender names this server as the sender of its alerts.
func (s *Server) capSender(c echo.Context) string {
	host := c.Request().Host
	if u, err := url.Parse(s.opt.PublicURL); err == nil && u.Host != "" {
		host = u.Host
	}
	return "onemap@" + host
}

// capIdentifier is the identifier of version v of an incident's warning,
// 0 for its release.
func capIdentifier(id string, v int) string {
	if v == 0 {
		return id + "-cancel"
	}
	return id + "-v" + strconv.Itoa(v)
}

// capAlert is the CAP alert of version v of in's warning (Alert for the
// first, Update for the next ones), or of its release (v 0: Cancel).
func (s *Server) capAlert(c echo.Context, in *incident.Incident, v int) (*cap.Alert, error) {
	sender := s.capSender(c)
	w := in.Versions[len(in.Versions)-1]
	o := cap.Options{Sender: sender, Incident: in.ID, SenderName: "onemap", Identifier: capIdentifier(in.ID, v)}
	switch {
	case v == 0:
		o.MsgType, o.Sent = "Cancel", in.ReleasedAt.In(capZone)
	case v == 1:
		w, o.Sent = in.Versions[0], in.Versions[0].Issued.In(capZone)
	default:
		w, o.MsgType, o.Sent = in.Versions[v-1], "Update", in.Versions[v-1].Issued.In(capZone)
	}
	last := len(in.Versions)
	if v > 0 {
		last = v - 1
	}
	for _, p := range in.Versions[:last] {
		o.References = append(o.References, cap.Ref{Sender: sender, Identifier: capIdentifier(in.ID, p.Version), Sent: p.Issued.In(capZone)})
	}
	if sc, ok := s.levelRules().Scenarios[w.Type]; ok {
		o.Event = [2]string{sc.Zh, sc.En}
	}
	if w.Area != nil && w.Area.Geometry() != nil {
		g := w.Area.Geometry()
		centre := g.Bound().Center()
		r := 0.0
		if p, ok := g.(orb.Polygon); ok && len(p) > 0 {
			for _, q := range p[0] {
				r = max(r, geo.Distance(centre, q))
			}
		}
		if r > 0 {
			o.Circles = []cap.Circle{{Center: centre, RadiusKm: math.Ceil(r) / 1000}}
		}
	}
	return cap.Build(w, o)
}

// handleCAP answers GET /api/v1/warnings/{id}/cap.xml[?version=N]: the
// latest CAP 1.2 message of an incident's warning (its Cancel once
// released), or that of version N.
func (s *Server) handleCAP(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	if len(in.Versions) == 0 {
		return errorf(CodeNotFound, fmt.Sprintf("incident %s has published no warning", in.ID))
	}
	v := len(in.Versions)
	if !in.ReleasedAt.IsZero() {
		v = 0
	}
	if q := c.QueryParam("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > len(in.Versions) {
			return errorf(CodeBadRequest, fmt.Sprintf("version is a published version, 1 to %d", len(in.Versions)))
		}
		v = n
	}
	a, err := s.capAlert(c, &in, v)
	if err != nil {
		return err
	}
	b, err := cap.Marshal(a)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/cap+xml; charset=utf-8", b)
}

// handleWarningsAtom answers GET /api/v1/warnings.atom: an Atom feed of
// the warnings in force, each entry linking to its latest CAP message.
func (s *Server) handleWarningsAtom(c echo.Context) error {
	base := s.opt.PublicURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	var alerts []*cap.Alert
	for _, in := range s.standing(c) {
		a, err := s.capAlert(c, &in, len(in.Versions))
		if err != nil {
			return err
		}
		alerts = append(alerts, a)
	}
	f, err := cap.AtomFeed("urn:onemap:"+s.capSender(c)+":warnings", "当前预警 Warnings in force", "onemap",
		base+"/api/v1/warnings.atom", time.Unix(0, 0).In(capZone), alerts, func(a *cap.Alert) string {
			return base + "/api/v1/warnings/" + url.PathEscape(a.Incidents) + "/cap.xml"
		})
	if err != nil {
		return err
	}
	return c.XML(http.StatusOK, f)
}

// handleDeliveries answers GET /api/v1/incidents/{id}/deliveries: every
// delivery of the incident's warnings and release, and the count by state.
func (s *Server) handleDeliveries(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	dels := s.opt.Response.Notify.Deliveries(in.ID)
	sum := map[notify.State]int{}
	for _, st := range []notify.State{notify.Queued, notify.Sent, notify.Delivered, notify.Read, notify.Replied, notify.Failed} {
		sum[st] = 0
	}
	for st, n := range s.opt.Response.Notify.Summary(in.ID) {
		sum[st] = n
	}
	if dels == nil {
		dels = []notify.Delivery{}
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": dels, "summary": sum})
}

// taskJSON is a task as the API answers it: late or not, and how far its
// assignee is from the incident when known.
type taskJSON struct {
	plan.Task
	Overdue   bool     `json:"overdue"`
	DistanceM *float64 `json:"distance_m,omitempty"`
}

func (s *Server) taskOut(t plan.Task) taskJSON {
	out := taskJSON{Task: t, Overdue: !t.State.Final() && s.now().After(t.Deadline)}
	if d, ok := s.opt.Response.Board.Distance(t.ID); ok {
		d = math.Round(d)
		out.DistanceM = &d
	}
	return out
}

// handleResponse answers GET /api/v1/incidents/{id}/response: the plan
// opened for the incident, its tasks and the field reports.
func (s *Server) handleResponse(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	resp, ok := s.opt.Response.Board.Response(in.ID)
	if !ok {
		return c.JSON(http.StatusOK, map[string]any{"plan": nil, "response": nil})
	}
	pl, _ := s.opt.Response.Board.Plans().Get(resp.Plan)
	tasks := make([]taskJSON, len(resp.Tasks))
	for i, t := range resp.Tasks {
		tasks[i] = s.taskOut(t)
	}
	fb := resp.Feedback
	if fb == nil {
		fb = []plan.Feedback{}
	}
	return c.JSON(http.StatusOK, map[string]any{"plan": pl, "response": map[string]any{
		"incident": resp.Incident, "plan": resp.Plan, "published": resp.Published, "location": resp.Location,
		"escalate_every_min": resp.EscalateEveryMin, "tasks": tasks, "feedback": fb}})
}

// handlePositions answers GET /api/v1/incidents/{id}/positions: the last
// position of each responder reporting on the incident.
func (s *Server) handlePositions(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	out := []plan.Fix{}
	for _, f := range s.opt.Response.Board.Positions() {
		if f.Incident == in.ID {
			out = append(out, f)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"positions": out})
}

// actor is the caller as the Board knows it: a commander with
// warnings.sign, else a field reporter with tasks.feedback or units.reply.
func (s *Server) actor(c echo.Context) plan.Actor {
	p := &callerOf(c).p
	a := plan.Actor{Login: p.Name}
	switch {
	case s.authz.Allowed(p, auth.PermWarningsSign):
		a.Role = plan.RoleCommander
	case s.authz.Allowed(p, auth.PermTasksFeedback):
		a.Role = plan.RoleResponder
	case s.authz.Allowed(p, auth.PermUnitsReply):
		a.Role = plan.RoleUnit
	}
	return a
}

// readBody decodes a JSON object of v's fields, at most 64 KiB.
func readBody(c echo.Context, v any, shape string) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errorf(CodeBadRequest, "the body is "+shape+": "+trimJSONError(err))
	}
	return nil
}

// reportBody is a step of a task or a field report.
type reportBody struct {
	To       plan.TaskState `json:"to"`
	Task     string         `json:"task"`
	Incident string         `json:"incident"`
	Text     string         `json:"text"`
	Photos   []string       `json:"photos"`
	Position *plan.Point    `json:"position"`
}

// taskParam is the task the path names, of an incident the caller sees.
func (s *Server) taskParam(c echo.Context) (plan.Task, error) {
	t, ok := s.opt.Response.Board.Task(c.Param("id"))
	if ok {
		if in, found := s.opt.Incidents.Get(t.Incident); found && s.incidentVisible(c, &in) {
			return t, nil
		}
	}
	return t, errorf(CodeNotFound, fmt.Sprintf("no task %q", c.Param("id")))
}

// SiteCheckMin is the minutes a site check is due in.
const SiteCheckMin = 30

// siteCheck gives the responder a verification names the task of checking
// on site, at the incident's place, with what to look at as its note.
func (s *Server) siteCheck(c echo.Context, in *incident.Incident, by plan.Actor, b *stepBody) error {
	spec := plan.TaskSpec{Title: plan.Text{Zh: "现场核查", En: "Site check"}, Role: plan.RoleResponder, DeadlineMin: SiteCheckMin, NeedsPosition: true}
	var at *plan.Point
	if site, ok := s.opt.Response.Sites.Site(in); ok {
		at = &plan.Point{Lon: site.Location[0], Lat: site.Location[1]}
	}
	if _, err := s.opt.Response.Board.Add(c.Request().Context(), by, in.ID, spec, b.Assignee, b.Reason, at); err != nil {
		return responseError(err)
	}
	return nil
}

// checkAssignee refuses a login that cannot take a task: unknown, disabled,
// or without the right to report from the field. Without a users store any
// login is taken.
func (s *Server) checkAssignee(c echo.Context, login string) error {
	if login == "" || len(login) > plan.MaxLogin {
		return errorf(CodeBadRequest, "an assignee is a login")
	}
	if s.access.Accounts == nil {
		return nil
	}
	u, err := s.access.Accounts.Users.UserByLogin(c.Request().Context(), login)
	if err != nil || u.Disabled {
		return errorf(CodeBadRequest, fmt.Sprintf("no user %q to give the task to", login))
	}
	p := s.authz.ForUser(&u)
	if !s.authz.Allowed(&p, auth.PermTasksFeedback) && !s.authz.Allowed(&p, auth.PermUnitsReply) {
		return errorf(CodeBadRequest, fmt.Sprintf("%s cannot report from the field (roles %v): give the task to a responder", login, u.Roles))
	}
	return nil
}

// handleAssign answers POST /api/v1/tasks/{id}/assign {"assignee"}.
func (s *Server) handleAssign(c echo.Context) error {
	t, err := s.taskParam(c)
	if err != nil {
		return err
	}
	var b struct {
		Assignee string `json:"assignee"`
	}
	if err := readBody(c, &b, `{"assignee": "login"}`); err != nil {
		return err
	}
	if err := s.checkAssignee(c, b.Assignee); err != nil {
		return err
	}
	t, err = s.opt.Response.Board.Assign(c.Request().Context(), s.actor(c), t.ID, b.Assignee)
	if err != nil {
		return responseError(err)
	}
	return c.JSON(http.StatusOK, s.taskOut(t))
}

// handleAdvance answers POST /api/v1/tasks/{id}/advance: the assignee's
// next step (accepted, en_route, arrived, done) with what it reports.
func (s *Server) handleAdvance(c echo.Context) error {
	t, err := s.taskParam(c)
	if err != nil {
		return err
	}
	var b reportBody
	if err := readBody(c, &b, `{"to": "accepted|en_route|arrived|done", "text", "photos": [id], "position": {"lon", "lat"}}`); err != nil {
		return err
	}
	t, err = s.opt.Response.Board.Advance(c.Request().Context(), s.actor(c), t.ID, b.To, plan.Report{Text: b.Text, Photos: b.Photos, Position: b.Position})
	if err != nil {
		return responseError(err)
	}
	return c.JSON(http.StatusOK, s.taskOut(t))
}

// handleMyTasks answers GET /api/v1/tasks/mine: the open tasks assigned
// to the caller, the most pressing first.
func (s *Server) handleMyTasks(c echo.Context) error {
	out := []taskJSON{}
	for _, t := range s.opt.Response.Board.Assigned(callerOf(c).p.Name) {
		out = append(out, s.taskOut(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"tasks": out})
}

// handleFeedback answers POST /api/v1/incidents/{id}/feedback: a field
// report on the incident or one of its tasks.
func (s *Server) handleFeedback(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	var b reportBody
	if err := readBody(c, &b, `{"task", "text", "photos": [id], "position": {"lon", "lat"}}`); err != nil {
		return err
	}
	f, err := s.opt.Response.Board.Feedback(c.Request().Context(), s.actor(c), in.ID, b.Task, plan.Report{Text: b.Text, Photos: b.Photos, Position: b.Position})
	if err != nil {
		return responseError(err)
	}
	return c.JSON(http.StatusCreated, f)
}

// handlePosition answers POST /api/v1/positions: a responder's position
// while on an incident.
func (s *Server) handlePosition(c echo.Context) error {
	var b reportBody
	if err := readBody(c, &b, `{"incident", "task", "position": {"lon", "lat"}}`); err != nil {
		return err
	}
	in, ok := s.opt.Incidents.Get(b.Incident)
	if !ok || !s.incidentVisible(c, &in) {
		return errorf(CodeNotFound, fmt.Sprintf("no incident %q", b.Incident))
	}
	if b.Position == nil {
		return errorf(CodeBadPoint, `a position is {"lon", "lat"}`)
	}
	f, err := s.opt.Response.Board.Position(c.Request().Context(), s.actor(c), in.ID, b.Task, *b.Position)
	if err != nil {
		return responseError(err)
	}
	return c.JSON(http.StatusOK, f)
}

// handleInbox answers GET /api/v1/inbox: the caller's in-app messages,
// unread first; fetching them marks them delivered.
func (s *Server) handleInbox(c echo.Context) error {
	dels, err := s.opt.Response.Notify.Fetch(c.Request().Context(), callerOf(c).p.Name)
	if err != nil {
		return responseError(err)
	}
	if dels == nil {
		dels = []notify.Delivery{}
	}
	unread := 0
	for _, d := range dels {
		if d.State == notify.Sent || d.State == notify.Delivered {
			unread++
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": dels, "unread": unread})
}

// handleInboxRead answers POST /api/v1/inbox/{id}/read.
func (s *Server) handleInboxRead(c echo.Context) error {
	d, err := s.opt.Response.Notify.Read(c.Request().Context(), c.Param("id"), callerOf(c).p.Name)
	if err != nil {
		return responseError(err)
	}
	return c.JSON(http.StatusOK, d)
}

// handleInboxReply answers POST /api/v1/inbox/{id}/reply {"text"}.
func (s *Server) handleInboxReply(c echo.Context) error {
	var b struct {
		Text string `json:"text"`
	}
	if err := readBody(c, &b, `{"text": "the reply, at most 1,000 bytes"}`); err != nil {
		return err
	}
	d, err := s.opt.Response.Notify.Reply(c.Request().Context(), c.Param("id"), callerOf(c).p.Name, b.Text)
	if err != nil {
		return responseError(err)
	}
	return c.JSON(http.StatusOK, d)
}

// handlePutAttachment answers POST /api/v1/attachments: the body is a
// photo (JPEG, PNG or WebP), kept by the SHA-256 of its bytes.
func (s *Server) handlePutAttachment(c echo.Context) error {
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, attach.DefaultMaxSize+1))
	if err != nil {
		return errorf(CodeBadRequest, "the photo did not arrive whole")
	}
	a, err := s.opt.Attachments.Put(c.Request().Context(), data, c.Request().Header.Get("Content-Type"), callerOf(c).p.Name)
	if err != nil {
		return responseError(err)
	}
	return c.JSON(http.StatusCreated, a)
}

// handleGetAttachment answers GET /api/v1/attachments/{id}.
func (s *Server) handleGetAttachment(c echo.Context) error {
	a, data, err := s.opt.Attachments.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return responseError(err)
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, a.Type, data)
}

// handleReport answers GET /api/v1/incidents/{id}/report: the whole
// record of the incident, as the archive keeps it.
func (s *Server) handleReport(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	r, _ := s.opt.Response.Record(in.ID)
	r.Replay, _ = s.opt.Response.Replay(in.ID, s.opt.Live, s.opt.Series, s.now())
	return c.JSON(http.StatusOK, r)
}

// handleReplay answers GET /api/v1/incidents/{id}/replay: the incident's
// span laid out in time, for the replay on the map.
func (s *Server) handleReplay(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	r, _ := s.opt.Response.Replay(in.ID, s.opt.Live, s.opt.Series, s.now())
	return c.JSON(http.StatusOK, r)
}

// handleReportHTML answers GET /api/v1/incidents/{id}/report.html
// [?lang=en]: the record as a printable page.
func (s *Server) handleReportHTML(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	lang := c.QueryParam("lang")
	if lang != "" && lang != "zh" && lang != "en" {
		return errorf(CodeBadRequest, "lang is zh or en")
	}
	r, _ := s.opt.Response.Record(in.ID)
	r.Replay, _ = s.opt.Response.Replay(in.ID, s.opt.Live, s.opt.Series, s.now())
	c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	return response.WriteHTML(c.Response(), r, lang)
}

// responseError maps the refusals of plan, notify and attach to the API's
// codes.
func responseError(err error) error {
	var code, reason string
	var pe *plan.Error
	var ne *notify.Error
	var ae *attach.Error
	switch {
	case errors.As(err, &pe):
		code, reason = pe.Code, pe.Reason
	case errors.As(err, &ne):
		code, reason = ne.Code, ne.Reason
	case errors.As(err, &ae):
		code, reason = ae.Code, ae.Reason
	default:
		return incidentError(err)
	}
	switch code {
	case "not_found":
		return errorf(CodeNotFound, reason)
	case "not_assignee", "not_recipient", "forbidden":
		return errorf(CodeForbidden, code+": "+reason)
	case "bad_transition":
		return errorf(CodeBadTransition, reason)
	case "bad_state", "already_replied", "already_open":
		return errorf(CodeConflict, code+": "+reason)
	case "too_large":
		return errorf(CodeTooLarge, reason)
	case "bad_type":
		return errorf(CodeBadType, reason)
	case "bad_position":
		return errorf(CodeBadPoint, reason)
	case "bad_id":
		return errorf(CodeBadID, reason)
	}
	return errorf(CodeBadStep, code+": "+reason)
}
