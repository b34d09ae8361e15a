package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/plan"
	"github.com/onemap/onemap/live"
)

// Approver answers the incident Book's question (may a role review or
// sign a level) from the roles in force: a review needs warnings.review,
// a signature warnings.sign, each at the draft's level.
func Approver(a *auth.Authorizer) incident.Approver { return roleApprover{a} }

type roleApprover struct{ a *auth.Authorizer }

func (r roleApprover) May(role string, act incident.Act, level incident.Level) bool {
	perm := auth.PermWarningsReview
	if act == incident.ActSign {
		perm = auth.PermWarningsSign
	}
	p := r.a.ForRoles("", []string{role}, auth.Scopes{})
	return r.a.AllowedOn(&p, perm, auth.Target{Level: int(level)})
}

func (s *Server) routeIncidents(api *echo.Group) {
	api.GET("/incidents", s.handleIncidents)
	api.POST("/incidents", s.handleOpenIncident)
	api.GET("/incidents/proposals", s.handleProposals)
	api.GET("/incidents/:id", s.handleIncident)
	api.GET("/incidents/:id/suggestion", s.handleSuggestion)
	for _, st := range incidentSteps {
		api.POST("/incidents/:id/"+st.name, s.handleStep(st))
	}
}

// maxStepBody bounds the body of a step: a warning with its area.
const maxStepBody = 1 << 20

// stepBody is what a step's body may carry; each step reads its part.
type stepBody struct {
	Reason      string            `json:"reason"`
	Attachments []string          `json:"attachments"`
	Outcome     incident.Outcome  `json:"outcome"`
	Cause       incident.Cause    `json:"cause"`
	CauseText   string            `json:"cause_text"`
	Warning     *incident.Warning `json:"warning"`
	Approve     *bool             `json:"approve"`
	Into        string            `json:"into"`
	Alarms      []uint64          `json:"alarms"`
	// Assignee is who checks on site, when a verification needs it.
	Assignee string `json:"assignee"`
}

// incidentStep is one POST /api/v1/incidents/{id}/{name}: the permission
// it needs (at the incident's level where it takes one) and the event it
// makes of the body.
type incidentStep struct {
	name string
	perm auth.Permission
	// event fills the event from the body and the incident as it stands.
	event func(b *stepBody, in *incident.Incident, ev *incident.Event) error
}

var incidentSteps = []incidentStep{
	{"verify", auth.PermAlarmsVerify, func(b *stepBody, _ *incident.Incident, ev *incident.Event) error {
		switch b.Outcome {
		case incident.OutcomeConfirmed:
			ev.To = incident.Confirmed
		case incident.OutcomeFalseAlarm:
			ev.To = incident.FalseAlarm
		case incident.OutcomeSiteCheck:
			ev.To = incident.Verifying
			if b.Assignee == "" {
				return errorf(CodeBadRequest, `a site check names who goes: {"outcome": "site_check", "assignee": "login", "reason": "what to look at"}`)
			}
		default:
			return errorf(CodeBadRequest, "outcome is confirmed, false_alarm or site_check")
		}
		ev.Outcome, ev.Cause, ev.CauseText = b.Outcome, b.Cause, b.CauseText
		return nil
	}},
	{"merge", auth.PermAlarmsVerify, func(b *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To, ev.Into = incident.Merged, b.Into
		return nil
	}},
	{"draft", auth.PermWarningsDraft, func(b *stepBody, _ *incident.Incident, ev *incident.Event) error {
		if b.Warning == nil {
			return errorf(CodeBadRequest, `a draft carries its warning: {"warning": {…}, "reason": "why the level differs from the suggestion"}; GET …/suggestion drafts one`)
		}
		ev.To, ev.Warning = incident.WarningDraft, b.Warning
		return nil
	}},
	{"submit", auth.PermWarningsDraft, func(_ *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To = incident.InReview
		return nil
	}},
	{"review", auth.PermWarningsReview, func(b *stepBody, _ *incident.Incident, ev *incident.Event) error {
		if b.Approve == nil {
			return errorf(CodeBadRequest, `a review says {"approve": true} or {"approve": false, "reason": "what to change"}`)
		}
		ev.To = incident.InReview
		if !*b.Approve {
			if strings.TrimSpace(b.Reason) == "" {
				return errorf(CodeBadRequest, "a draft sent back says why")
			}
			ev.To = incident.WarningDraft
		}
		return nil
	}},
	{"sign", auth.PermWarningsSign, func(_ *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To = incident.Signed
		return nil
	}},
	{"publish", auth.PermWarningsSign, func(_ *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To = incident.Published
		return nil
	}},
	{"update", auth.PermWarningsSign, func(b *stepBody, in *incident.Incident, ev *incident.Event) error {
		if b.Warning == nil {
			return errorf(CodeBadRequest, `a re-issue carries the new warning: {"warning": {…}, "reason": "…"}`)
		}
		ev.To, ev.Warning = in.State, b.Warning
		if in.State != incident.Published && in.State != incident.Responding {
			ev.To = incident.Published // refused by the table, naming the state
		}
		return nil
	}},
	{"respond", auth.PermWarningsSign, func(_ *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To = incident.Responding
		return nil
	}},
	{"resolve", auth.PermWarningsSign, func(_ *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To = incident.Resolved
		return nil
	}},
	{"release", auth.PermWarningsSign, func(_ *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To = incident.Released
		return nil
	}},
	{"archive", auth.PermWarningsSign, func(_ *stepBody, _ *incident.Incident, ev *incident.Event) error {
		ev.To = incident.Archived
		return nil
	}},
}

// readStep decodes a step's body: empty, or one JSON object of stepBody's
// fields.
func readStep(c echo.Context) (*stepBody, error) {
	var b stepBody
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, maxStepBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return nil, errorf(CodeBadRequest, "the body is a JSON object of reason, attachments, outcome, cause, cause_text, warning, approve, into, alarms, assignee: "+trimJSONError(err))
	}
	if dec.More() {
		return nil, errorf(CodeBadRequest, "the body is one JSON object")
	}
	return &b, nil
}

func trimJSONError(err error) string { return strings.TrimPrefix(err.Error(), "json: ") }

// roleFor is the first of p's roles that holds perm at level (any level
// when 0): the role an event says it was taken in.
func (s *Server) roleFor(p *auth.Principal, perm auth.Permission, level incident.Level) (string, bool) {
	for _, r := range p.Roles {
		rp := s.authz.ForRoles("", []string{r}, auth.Scopes{})
		if s.authz.AllowedOn(&rp, perm, auth.Target{Level: int(level)}) {
			return r, true
		}
	}
	return "", false
}

// incidentParam returns the incident the path names, within the caller's
// scope.
func (s *Server) incidentParam(c echo.Context) (incident.Incident, error) {
	id := c.Param("id")
	in, ok := s.opt.Incidents.Get(id)
	if !ok || !s.incidentVisible(c, &in) {
		return in, errorf(CodeNotFound, fmt.Sprintf("no incident %q", id))
	}
	return in, nil
}

// incidentVisible reports whether the caller may see in: always, unless
// it is limited to some units or districts, when one of in's alarms must
// be within them.
func (s *Server) incidentVisible(c echo.Context, in *incident.Incident) bool {
	p := &callerOf(c).p
	if !scoped(p) {
		return true
	}
	for _, id := range in.Alarms {
		if a, err := s.opt.Live.Alarm(id); err == nil {
			if sn, ok := s.opt.Sensors.Get(a.Sensor); ok && inScope(p, sn) {
				return true
			}
		}
	}
	return false
}

// handleStep answers POST /api/v1/incidents/{id}/{step}.
func (s *Server) handleStep(st incidentStep) echo.HandlerFunc {
	return func(c echo.Context) error {
		in, err := s.incidentParam(c)
		if err != nil {
			return err
		}
		b, err := readStep(c)
		if err != nil {
			return err
		}
		ev := incident.Event{Incident: in.ID, Reason: b.Reason, Attachments: b.Attachments}
		if err := st.event(b, &in, &ev); err != nil {
			return err
		}
		level := in.Level()
		if ev.Warning != nil {
			level = ev.Warning.Level
			// The level suggested is kept beside the one chosen; a person who
			// departs from it says why.
			d, err := s.suggest(c, &in)
			if err != nil {
				return err
			}
			ev.Warning.Suggested, ev.Warning.SuggestedWhy, ev.Warning.SuggestedWhyEn = d.Suggestion.Level, d.Suggestion.ReasonZh, d.Suggestion.ReasonEn
			if level != d.Suggestion.Level && strings.TrimSpace(b.Reason) == "" {
				return errorf(CodeBadRequest, fmt.Sprintf("the suggested level is %s (%s): a level %s warning says why in reason", d.Suggestion.Level, d.Suggestion.ReasonEn, level))
			}
		}
		p := &callerOf(c).p
		role, ok := s.roleFor(p, st.perm, level)
		if !ok {
			return errorf(CodeForbidden, fmt.Sprintf("%s may not %s a level %s warning", p.Name, st.name, level))
		}
		ev.Who, ev.Role = p.Name, role
		if ev.Outcome == incident.OutcomeSiteCheck && s.opt.Response != nil {
			if err := s.checkAssignee(c, b.Assignee); err != nil {
				return err
			}
		}
		next, err := s.opt.Incidents.Do(c.Request().Context(), ev)
		if err != nil {
			return incidentError(err)
		}
		if ev.Outcome == incident.OutcomeSiteCheck && s.opt.Response != nil {
			if err := s.siteCheck(c, &next, plan.Actor{Login: p.Name, Role: role}, b); err != nil {
				return err
			}
		}
		s.after(c, &next)
		return c.JSON(http.StatusOK, s.incidentJSON(&next))
	}
}

// handleOpenIncident answers POST /api/v1/incidents: an incident opened
// with some active alarms, to be verified.
func (s *Server) handleOpenIncident(c echo.Context) error {
	b, err := readStep(c)
	if err != nil {
		return err
	}
	if len(b.Alarms) == 0 || len(b.Alarms) > incident.MaxAlarms {
		return errorf(CodeBadRequest, fmt.Sprintf(`an incident is opened with 1 to %d alarms: {"alarms": [id, …], "reason": "…"}`, incident.MaxAlarms))
	}
	p := &callerOf(c).p
	var asset uint64
	for i, id := range b.Alarms {
		a, err := s.opt.Live.Alarm(id)
		if err != nil {
			return err
		}
		if sn, ok := s.opt.Sensors.Get(a.Sensor); scoped(p) && (!ok || !inScope(p, sn)) {
			return errorf(CodeNotFound, fmt.Sprintf("no alarm %d", id))
		}
		if i == 0 {
			asset = a.Asset
		}
	}
	role, _ := s.roleFor(p, auth.PermAlarmsVerify, 0)
	in, err := s.opt.Incidents.Do(c.Request().Context(), incident.Event{To: incident.Verifying, Who: p.Name, Role: role,
		Alarms: slices.Clone(b.Alarms), Asset: asset, Reason: b.Reason, Attachments: b.Attachments})
	if err != nil {
		return incidentError(err)
	}
	return c.JSON(http.StatusCreated, s.incidentJSON(&in))
}

// incidentJSON is an incident as the API answers it: its state, the
// states it may go to next, and, while its draft waits for approval, when
// that is due and whether it is late.
func (s *Server) incidentJSON(in *incident.Incident) map[string]any {
	allowed := incident.Allowed(in.State)
	if allowed == nil {
		allowed = []incident.State{}
	}
	out := map[string]any{"incident": in, "allowed": allowed}
	if due := in.ApprovalDue(); !due.IsZero() {
		out["approval_due"], out["approval_late"] = due, s.now().After(due)
	}
	return out
}

// handleIncidents answers GET /api/v1/incidents[?state=S,…&limit=N]: the
// incidents, the most recently changed first.
func (s *Server) handleIncidents(c echo.Context) error {
	var states []incident.State
	if q := c.QueryParam("state"); q != "" {
		for v := range strings.SplitSeq(q, ",") {
			st := incident.State(strings.TrimSpace(v))
			if !slices.Contains(incident.States, st) {
				return errorf(CodeBadRequest, fmt.Sprintf("state %q is not one of %s", st, joinStates(incident.States)))
			}
			states = append(states, st)
		}
	}
	limit := 200
	if q := c.QueryParam("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1000 {
			return errorf(CodeBadRequest, "limit is a whole number from 1 to 1,000")
		}
		limit = n
	}
	out := []incident.Incident{}
	for _, in := range s.opt.Incidents.List() {
		if len(states) > 0 && !slices.Contains(states, in.State) || !s.incidentVisible(c, &in) {
			continue
		}
		if out = append(out, in); len(out) == limit {
			break
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"incidents": out})
}

func joinStates(ss []incident.State) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// handleIncident answers GET /api/v1/incidents/{id}: the incident and
// every record kept with it, in order.
func (s *Server) handleIncident(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	out := s.incidentJSON(&in)
	out["records"] = s.opt.Incidents.Records(in.ID)
	return c.JSON(http.StatusOK, out)
}

// handleProposals answers GET /api/v1/incidents/proposals: the active
// alarms in no incident yet, grouped as the alarm engine groups them (one
// asset within 10 minutes), for the operator to open as incidents or split.
func (s *Server) handleProposals(c echo.Context) error {
	p := &callerOf(c).p
	groups := map[uint64][]uint64{}
	var order []uint64
	for _, a := range s.opt.Live.Alarms(live.AlarmFilter{State: live.Active, Sensor: s.sensorScope(p)}) {
		if _, ok := s.opt.Incidents.ByAlarm(a.ID); ok {
			continue
		}
		if _, seen := groups[a.Incident]; !seen {
			order = append(order, a.Incident)
		}
		groups[a.Incident] = append(groups[a.Incident], a.ID)
	}
	out := make([]map[string]any, 0, len(order))
	for _, g := range order {
		slices.Sort(groups[g])
		out = append(out, map[string]any{"alarms": groups[g]})
	}
	return c.JSON(http.StatusOK, map[string]any{"proposals": out})
}

// handleSuggestion answers GET /api/v1/incidents/{id}/suggestion: the
// warning drafted from the incident's first alarm and its impact, with the
// level suggested and why.
func (s *Server) handleSuggestion(c echo.Context) error {
	in, err := s.incidentParam(c)
	if err != nil {
		return err
	}
	d, err := s.suggest(c, &in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// suggest drafts in's warning from its first alarm and that alarm's impact.
func (s *Server) suggest(c echo.Context, in *incident.Incident) (incident.Draft, error) {
	a, err := s.opt.Live.Alarm(in.Alarms[0])
	if err != nil {
		return incident.Draft{}, err
	}
	im, err := s.analyses.AlarmImpact(c.Request().Context(), SiteOf(a))
	if err != nil {
		return incident.Draft{}, err
	}
	info := incident.AlarmInfo{ID: a.ID, Level: int(a.MaxLevel), Domain: string(a.Domain), Metric: a.Metric,
		Sensor: a.SensorCode, Location: a.Location, Raised: a.Started}
	if info.Level == 0 {
		info.Level = int(a.Level)
	}
	if f, err := s.store.Feature(c.Request().Context(), a.Asset); err == nil {
		info.Place, _ = f.Props["name"].(string)
	}
	d, err := s.levelRules().DraftFrom(info, im)
	if err != nil {
		return d, incidentError(err)
	}
	return d, nil
}

func (s *Server) levelRules() *incident.LevelRules {
	if s.opt.LevelRules != nil {
		return s.opt.LevelRules
	}
	return defaultLevelRules
}

var defaultLevelRules = incident.DefaultLevelRules()

// incidentError maps the Book's refusals to the API's codes.
func incidentError(err error) error {
	var te *incident.TransitionError
	if errors.As(err, &te) {
		from := string(te.From)
		if from == "" {
			from = "new"
		}
		allowed := make([]string, len(te.Allowed))
		for i, a := range te.Allowed {
			allowed[i] = string(a)
		}
		e := errorf(CodeBadTransition, fmt.Sprintf("incident %s is %s: it cannot go to %s; it may go to %s", te.ID, from, te.To, orNone(allowed)))
		e.State, e.Allowed = from, allowed
		return e
	}
	var ee *incident.EventError
	if errors.As(err, &ee) {
		switch ee.Code {
		case "not_found":
			return errorf(CodeNotFound, ee.Reason)
		case "forbidden":
			return errorf(CodeForbidden, err.Error())
		case "own_draft":
			return errorf(CodeOwnDraft, ee.Reason)
		case "alarm_taken", "frozen", "no_review":
			return errorf(CodeConflict, ee.Code+": "+ee.Reason)
		}
		return errorf(CodeBadStep, ee.Code+": "+ee.Reason)
	}
	return err
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "nowhere: it is final"
	}
	return strings.Join(xs, ", ")
}
