package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/auth"
	"golang.org/x/time/rate"
)

// Access says who may do what on the server: every route is checked against
// routeNeeds by one middleware, with the principal of the request's session
// cookie, bearer token or, without either, the anonymous viewer.
type Access struct {
	// Authorizer answers the permission checks; nil takes the shipped roles.
	Authorizer *auth.Authorizer
	// Accounts logs users in and checks their sessions; nil serves no login.
	Accounts *auth.Accounts
	// Tokens are the device and integration tokens; nil admits only the
	// options' IngestTokens and ViewTokens.
	Tokens *auth.Tokens
	// Audit records every write and every refused one; nil records nothing
	// of the server's own (Accounts and Tokens record theirs themselves).
	Audit *auth.AuditLog
	// Anonymous are the roles of a caller without credentials; nil leaves
	// such a caller the public routes only (the web app's files, the
	// health checks and the login).
	Anonymous []string
	// HTTPS says clients reach the server over HTTPS, at it or at a proxy
	// before it: the session cookie is Secure and HSTS is sent. Both are
	// also so on every request that came over TLS.
	HTTPS bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client: the address a login is limited and audited by.
	TrustedProxies []netip.Prefix
	// LoginRate bounds the logins of one client address (default 1 a second
	// with a burst of 10), beside the lockout after failed ones.
	LoginRate  rate.Limit
	LoginBurst int
	// IngestRate bounds the batches of readings of one token (default 50 a
	// second with a burst of 100).
	IngestRate  rate.Limit
	IngestBurst int
}

// need is what a route asks of its caller.
type need struct {
	// public routes are open to everyone, credentials or not.
	public bool
	// person routes need a user logged in with a session, not a token.
	person bool
	// perm is the permission the route needs, if hasPerm.
	perm    auth.Permission
	hasPerm bool
	// audit names the action a write is recorded as; "" for a read.
	audit string
}

// public is a route open to everyone.
func public() need { return need{public: true} }

// needs is a route open to the holders of p, users and tokens.
func needs(p auth.Permission) need { return need{perm: p, hasPerm: true} }

// personNeeds is a write of a user holding p, recorded as action ("" when
// the handler records it itself).
func personNeeds(p auth.Permission, action string) need {
	return need{person: true, perm: p, hasPerm: true, audit: action}
}

// person is a route of any user logged in.
func person() need { return need{person: true} }

// routeNeeds is every route of the router, "METHOD PATTERN" as echo names
// it ("* PATTERN" for a route of every method), with what it needs. A route
// missing here is refused to everyone, and a test fails.
var routeNeeds = map[string]need{
	"GET /healthz": public(),
	"GET /readyz":  public(),
	"GET /metrics": needs(auth.PermMetricsRead),

	"GET /catalog":                 needs(auth.PermMapView),
	"GET /tiles/:layers/:z/:x/:y":  needs(auth.PermMapView),
	"GET /tiles/:file":             needs(auth.PermMapView),
	"GET /tiles/*":                 needs(auth.PermMapView),
	"GET /style.json":              needs(auth.PermMapView),
	"GET /fonts/:fontstack/:range": needs(auth.PermMapView),
	"GET /sprite.json":             needs(auth.PermMapView),
	"GET /sprite.png":              needs(auth.PermMapView),
	"GET /sprite@2x.json":          needs(auth.PermMapView),
	"GET /sprite@2x.png":           needs(auth.PermMapView),

	// OGC API – Features: the features the tiles carry, as GeoJSON.
	"GET /ogc":                              needs(auth.PermMapView),
	"GET /ogc/conformance":                  needs(auth.PermMapView),
	"GET /ogc/collections":                  needs(auth.PermMapView),
	"GET /ogc/collections/:layer":           needs(auth.PermMapView),
	"GET /ogc/collections/:layer/items":     needs(auth.PermMapView),
	"GET /ogc/collections/:layer/items/:id": needs(auth.PermMapView),

	"GET /api/v1/features/:id":        needs(auth.PermMapView),
	"GET /api/v1/features/:id/nearby": needs(auth.PermMapView),
	"GET /api/v1/nearby":              needs(auth.PermMapView),
	// The problems of the city's data, as the map shows them.
	"GET /api/v1/quality": needs(auth.PermMapView),
	// The 3D view's part of the city.
	"GET /api/v1/scene": needs(auth.PermMapView),
	// Computations, not writes: not audited.
	"POST /api/v1/analysis/valve-closure":    needs(auth.PermAnalysisRun),
	"GET /api/v1/analysis/gas-neighbourhood": needs(auth.PermAnalysisRun),

	// Ingest is counted and journalled, not audited: a city sends tens of
	// batches a second.
	"POST /api/v1/readings":          needs(auth.PermIngestWrite),
	"GET /api/v1/sensors":            needs(auth.PermAlarmsRead),
	"GET /api/v1/sensors/:id":        needs(auth.PermAlarmsRead),
	"GET /api/v1/sensors/:id/series": needs(auth.PermAlarmsRead),
	"GET /api/v1/alarms":             needs(auth.PermAlarmsRead),
	"GET /api/v1/alarms/:id":         needs(auth.PermAlarmsRead),
	"POST /api/v1/alarms/:id/ack":    personNeeds(auth.PermAlarmsAck, "alarms.ack"),
	"GET /api/v1/alarms/:id/impact":  needs(auth.PermAlarmsRead),
	"GET /api/v1/rules":              needs(auth.PermAlarmsRead),
	"GET /api/v1/rules/versions":     needs(auth.PermAlarmsRead),
	"PUT /api/v1/rules":              personNeeds(auth.PermRulesWrite, "rules.write"),
	"GET /ws":                        needs(auth.PermAlarmsRead),

	// The linked response: each step needs its permission, and the level
	// of the warning where the permission takes one (the handler checks).
	"GET /api/v1/incidents":                 needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/proposals":       needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id":             needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id/suggestion":  needs(auth.PermWarningsDraft),
	"POST /api/v1/incidents":                personNeeds(auth.PermAlarmsVerify, "incidents.open"),
	"POST /api/v1/incidents/:id/verify":     personNeeds(auth.PermAlarmsVerify, "incidents.verify"),
	"POST /api/v1/incidents/:id/merge":      personNeeds(auth.PermAlarmsVerify, "incidents.merge"),
	"POST /api/v1/incidents/:id/draft":      personNeeds(auth.PermWarningsDraft, "incidents.draft"),
	"POST /api/v1/incidents/:id/submit":     personNeeds(auth.PermWarningsDraft, "incidents.submit"),
	"POST /api/v1/incidents/:id/review":     personNeeds(auth.PermWarningsReview, "incidents.review"),
	"POST /api/v1/incidents/:id/sign":       personNeeds(auth.PermWarningsSign, "incidents.sign"),
	"POST /api/v1/incidents/:id/publish":    personNeeds(auth.PermWarningsSign, "incidents.publish"),
	"POST /api/v1/incidents/:id/update":     personNeeds(auth.PermWarningsSign, "incidents.update"),
	"POST /api/v1/incidents/:id/respond":    personNeeds(auth.PermWarningsSign, "incidents.respond"),
	"POST /api/v1/incidents/:id/resolve":    personNeeds(auth.PermWarningsSign, "incidents.resolve"),
	"POST /api/v1/incidents/:id/release":    personNeeds(auth.PermWarningsSign, "incidents.release"),
	"POST /api/v1/incidents/:id/archive":    personNeeds(auth.PermWarningsSign, "incidents.archive"),
	"GET /api/v1/warnings":                  needs(auth.PermAlarmsRead),
	"GET /api/v1/stats/alarms":              needs(auth.PermAlarmsRead),
	"GET /api/v1/stats/incidents":           needs(auth.PermAlarmsRead),
	"GET /api/v1/stats/false-alarms":        needs(auth.PermAlarmsRead),
	"GET /api/v1/stats/durations":           needs(auth.PermAlarmsRead),
	"GET /api/v1/warnings.atom":             needs(auth.PermAlarmsRead),
	"GET /api/v1/warnings/:id/cap.xml":      needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id/deliveries":  needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id/response":    needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id/positions":   needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id/report":      needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id/report.html": needs(auth.PermAlarmsRead),
	"GET /api/v1/incidents/:id/replay":      needs(auth.PermAlarmsRead),
	"GET /api/v1/attachments/:id":           needs(auth.PermAlarmsRead),
	// The push's receipts: the recipient's own messages.
	"GET /api/v1/inbox":            person(),
	"POST /api/v1/inbox/:id/read":  personNeeds(auth.PermMapView, "inbox.read"),
	"POST /api/v1/inbox/:id/reply": personNeeds(auth.PermMapView, "inbox.reply"),
	// Tasks and field reports.
	"POST /api/v1/tasks/:id/assign":       personNeeds(auth.PermWarningsSign, "tasks.assign"),
	"GET /api/v1/tasks/mine":              needs(auth.PermTasksFeedback),
	"POST /api/v1/tasks/:id/advance":      personNeeds(auth.PermTasksFeedback, "tasks.advance"),
	"POST /api/v1/incidents/:id/feedback": personNeeds(auth.PermTasksFeedback, "tasks.feedback"),
	"POST /api/v1/positions":              personNeeds(auth.PermTasksFeedback, ""),
	"POST /api/v1/attachments":            personNeeds(auth.PermTasksFeedback, "attachments.put"),

	// The login and its session: the handlers record them through Accounts.
	"POST /api/v1/session":      public(),
	"GET /api/v1/session":       public(),
	"DELETE /api/v1/session":    person(),
	"DELETE /api/v1/sessions":   person(),
	"GET /api/v1/audit":         needs(auth.PermAuditRead),
	"GET /api/v1/users":         needs(auth.PermUsersAdmin),
	"POST /api/v1/users":        personNeeds(auth.PermUsersAdmin, ""),
	"PATCH /api/v1/users/:id":   personNeeds(auth.PermUsersAdmin, ""),
	"GET /api/v1/tokens":        needs(auth.PermTokensAdmin),
	"POST /api/v1/tokens":       personNeeds(auth.PermTokensAdmin, ""),
	"DELETE /api/v1/tokens/:id": personNeeds(auth.PermTokensAdmin, ""),

	"* /api/*":    public(), // answers not_found
	"* /api/v1/*": public(), // the API group's own not_found
	"GET /*":      public(), // the web app, its login page among its files
}

// setAccess takes the options' access rules, defaults filled in.
func (s *Server) setAccess(a Access) {
	if a.Authorizer == nil {
		a.Authorizer = auth.NewAuthorizer(nil)
	}
	if a.LoginRate <= 0 {
		a.LoginRate, a.LoginBurst = 1, 10
	}
	if a.IngestRate <= 0 {
		a.IngestRate, a.IngestBurst = 50, 100
	}
	s.access, s.authz = a, a.Authorizer
	s.anonymous = a.Authorizer.ForRoles("anonymous", a.Anonymous, auth.Scopes{})
	s.staticIngest = a.Authorizer.ForToken(&auth.Token{ID: "ingest-token", Name: "ingest-token", Scopes: []string{auth.ScopeIngest}})
	s.staticView = a.Authorizer.ForToken(&auth.Token{ID: "view-token", Name: "view-token", Scopes: []string{auth.ScopeRead}})
	s.loginRate = newKeyedLimiter(a.LoginRate, max(a.LoginBurst, 1))
	s.ingestRate = newKeyedLimiter(a.IngestRate, max(a.IngestBurst, 1))
	s.deniedRate = newKeyedLimiter(1, 10)
}

// needOf returns what the request's route needs.
func needOf(method, pattern string) (need, bool) {
	if n, ok := routeNeeds[method+" "+pattern]; ok {
		return n, true
	}
	n, ok := routeNeeds["* "+pattern]
	return n, ok
}

// isHandler reports whether h is the handler want, such as the router's
// answer to a method a route does not take.
func isHandler(h, want echo.HandlerFunc) bool {
	return h != nil && reflect.ValueOf(h).Pointer() == reflect.ValueOf(want).Pointer()
}

// caller is who a request comes from.
type caller struct {
	p auth.Principal
	// anonymous is a caller without credentials.
	anonymous bool
	// session and secret are the caller's login session, if it has one.
	session *auth.Session
	secret  string
	user    *auth.User
}

// sessionCookie is the name of the cookie of a login session.
const sessionCookie = "om_session"

// callerKey is where the middleware leaves the caller in the context.
const callerKey = "onemap.caller"

// callerOf returns the request's caller, as checkAccess found it.
func callerOf(c echo.Context) *caller {
	if cl, ok := c.Get(callerKey).(*caller); ok {
		return cl
	}
	return &caller{anonymous: true, p: auth.Principal{Name: "anonymous"}}
}

// checkAccess is the one middleware that admits or refuses every request
// by its route's need, and records the writes in the audit log.
func (s *Server) checkAccess() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			nd, ok := needOf(r.Method, c.Path())
			if !ok && isHandler(c.Handler(), echo.MethodNotAllowedHandler) {
				return next(c) // 405: no route to guard
			}
			if !ok {
				s.log.Error("server: a route without an access rule", "method", r.Method, "route", c.Path())
				return errorf(CodeForbidden, "this route is open to no one")
			}
			// Of the public routes, only the session's answer depends on
			// who asks.
			if nd.public && (c.Path() != "/api/v1/session" || r.Method != http.MethodGet) {
				return next(c)
			}
			cl, err := s.identify(c)
			if err != nil {
				s.auditDenied(c, nil, nd, err)
				return err
			}
			c.Set(callerKey, cl)
			if nd.public {
				return next(c)
			}
			if err := s.authorize(c, cl, nd); err != nil {
				s.auditDenied(c, cl, nd, err)
				return err
			}
			err = next(c)
			if nd.audit != "" {
				s.record(c, cl, nd.audit, err)
			}
			return err
		}
	}
}

// authorize checks that cl may use a route of need nd: the permission, a
// session where the route needs one, and for a write with the session
// cookie, the page's origin and CSRF token.
func (s *Server) authorize(c echo.Context, cl *caller, nd need) error {
	if nd.person && cl.session == nil {
		if cl.anonymous {
			return errorf(CodeUnauthorized, "log in first")
		}
		return errorf(CodeForbidden, "this needs a person logged in, not a token")
	}
	if nd.hasPerm && !s.authz.Allowed(&cl.p, nd.perm) {
		if cl.anonymous {
			return errorf(CodeUnauthorized, "log in or send a token: this needs "+nd.perm.String())
		}
		return errorf(CodeForbidden, cl.p.Name+" does not hold "+nd.perm.String())
	}
	if unsafeMethod(c.Request().Method) {
		if !s.originAllowed(c.Request()) {
			return errorf(CodeBadOrigin, "a page of another origin may not write here (see --allowed-origins)")
		}
		if cl.session != nil && !auth.CheckCSRF(cl.session, c.Request().Header.Get("X-CSRF-Token")) {
			return errorf(CodeCSRF, "send the session's CSRF token as X-CSRF-Token")
		}
	}
	return nil
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// identify finds the request's caller: a bearer token, a view token in
// /ws's query, a session cookie, or else the anonymous viewer (nil roles:
// one who may do nothing). A token that is not valid is refused; a cookie
// that is not valid is cleared and the request goes on without it.
func (s *Server) identify(c echo.Context) (*caller, error) {
	r := c.Request()
	remote := s.remoteAddr(r)
	tok, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !bearer && c.Path() == "/ws" {
		tok = r.URL.Query().Get("token")
		bearer = tok != ""
	}
	if bearer {
		p, err := s.tokenPrincipal(r.Context(), tok)
		if err != nil {
			return nil, err
		}
		p.Remote = remote
		return &caller{p: p}, nil
	}
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" && s.access.Accounts != nil {
		u, sess, err := s.access.Accounts.Authenticate(r.Context(), ck.Value)
		switch {
		case err == nil:
			p := s.authz.ForUser(&u)
			p.Remote = remote
			return &caller{p: p, session: &sess, secret: ck.Value, user: &u}, nil
		case errors.Is(err, auth.ErrNoSession), errors.Is(err, auth.ErrSessionExpired):
			s.clearCookie(c)
		default:
			return nil, err
		}
	}
	p := s.anonymous
	p.Remote = remote
	return &caller{p: p, anonymous: true}, nil
}

// tokenPrincipal returns the principal of a bearer token: one of the
// static tokens, or a stored one.
func (s *Server) tokenPrincipal(ctx context.Context, tok string) (auth.Principal, error) {
	if tok == "" {
		return auth.Principal{}, errorf(CodeUnauthorized, "send the token as Authorization: Bearer <token>")
	}
	if tokenIn(tok, s.opt.IngestTokens) {
		return s.staticIngest, nil
	}
	if tokenIn(tok, s.opt.ViewTokens) {
		return s.staticView, nil
	}
	if s.access.Tokens != nil && strings.HasPrefix(tok, auth.TokenPrefix) {
		t, err := s.access.Tokens.Authenticate(ctx, tok)
		if err == nil {
			return s.authz.ForToken(&t), nil
		}
		if !errors.Is(err, auth.ErrBadToken) {
			return auth.Principal{}, err
		}
	}
	return auth.Principal{}, errorf(CodeUnauthorized, "the token is not valid: unknown, revoked or mistyped")
}

// remoteAddr is the client's address: the peer's, or the last hop of
// X-Forwarded-For when the peer is a trusted proxy.
func (s *Server) remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(s.access.TrustedProxies) == 0 {
		return host
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	for _, p := range s.access.TrustedProxies {
		if p.Contains(peer.Unmap()) {
			hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
			if last := strings.TrimSpace(hops[len(hops)-1]); last != "" {
				if a, err := netip.ParseAddr(last); err == nil {
					return a.String()
				}
			}
			break
		}
	}
	return host
}

// record writes a write's outcome to the audit log.
func (s *Server) record(c echo.Context, cl *caller, action string, err error) {
	if s.access.Audit == nil {
		return
	}
	res := "ok"
	if err != nil {
		res = "error: " + classify(err).Code
	} else if st := c.Response().Status; st >= 400 {
		res = "error: " + http.StatusText(st)
	}
	s.appendAudit(c.Request().Context(), auth.Entry{Who: cl.p.Name, Roles: cl.p.Roles, Remote: cl.p.Remote,
		Action: action, Target: c.Request().URL.Path, Result: res})
}

// auditDenied records a refused write, at most one a second (with a burst
// of 10) from one address, so that a flood of refused requests costs the
// disk little.
func (s *Server) auditDenied(c echo.Context, cl *caller, nd need, err error) {
	if s.access.Audit == nil || !unsafeMethod(c.Request().Method) || nd.public {
		return
	}
	remote := s.remoteAddr(c.Request())
	if ok, _ := s.deniedRate.allow(remote, s.now()); !ok {
		return
	}
	action := nd.audit
	if action == "" && nd.hasPerm {
		action = nd.perm.String()
	}
	who, roles := "anonymous", []string(nil)
	if cl != nil {
		who, roles = cl.p.Name, cl.p.Roles
	} else {
		who = "?"
	}
	s.appendAudit(c.Request().Context(), auth.Entry{Who: who, Roles: roles, Remote: remote, Action: action,
		Target: c.Request().URL.Path, Result: "denied: " + classify(err).Code})
}

func (s *Server) appendAudit(ctx context.Context, e auth.Entry) {
	if err := s.access.Audit.Append(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("audit", "action", e.Action, "err", err)
	}
}

// setCookie gives the client the cookie of a new session.
func (s *Server) setCookie(c echo.Context, secret string, expires time.Time) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: secret, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.access.HTTPS || c.IsTLS()})
}

// clearCookie tells the client to forget its session cookie.
func (s *Server) clearCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.access.HTTPS || c.IsTLS()})
}
