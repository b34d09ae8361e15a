package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/auth"
)

// routeSessions serves the login and its session.
func (s *Server) routeSessions(e *echo.Echo) {
	e.POST("/api/v1/session", s.handleLogin)
	e.GET("/api/v1/session", s.handleSession)
	e.DELETE("/api/v1/session", s.handleLogout)
	e.DELETE("/api/v1/sessions", s.handleLogoutEverywhere)
}

// sessionJSON is what the web app learns of its caller: who, what it may
// do (to show or hide its controls), the CSRF token for its writes, and
// when the session ends.
type sessionJSON struct {
	User        *userJSON `json:"user"`
	Anonymous   bool      `json:"anonymous"`
	Permissions []string  `json:"permissions"`
	CSRF        string    `json:"csrf"`
	IdleTimeout float64   `json:"idle_timeout_s,omitempty"`
	Expires     string    `json:"expires,omitempty"`
}

// userJSON is a user as the API shows it: never its password hash.
type userJSON struct {
	ID        string   `json:"id"`
	Login     string   `json:"login"`
	Name      string   `json:"name,omitempty"`
	Roles     []string `json:"roles"`
	Units     []string `json:"units,omitempty"`
	Districts []string `json:"districts,omitempty"`
	Disabled  bool     `json:"disabled,omitempty"`
	Created   string   `json:"created,omitempty"`
	Updated   string   `json:"updated,omitempty"`
}

func userOf(u *auth.User) *userJSON {
	j := &userJSON{ID: u.ID, Login: u.Login, Name: u.Name, Roles: slices.Clone(u.Roles), Units: u.Scopes.Units, Districts: u.Scopes.Districts, Disabled: u.Disabled}
	if !u.Created.IsZero() {
		j.Created, j.Updated = u.Created.UTC().Format(time.RFC3339), u.Updated.UTC().Format(time.RFC3339)
	}
	if j.Roles == nil {
		j.Roles = []string{}
	}
	return j
}

func (s *Server) sessionOf(cl *caller) sessionJSON {
	j := sessionJSON{Anonymous: cl.anonymous, Permissions: s.authz.Permissions(&cl.p)}
	if j.Permissions == nil {
		j.Permissions = []string{}
	}
	if cl.session != nil {
		opt := s.access.Accounts.Sessions.Options()
		j.User, j.CSRF = userOf(cl.user), cl.session.CSRF
		j.IdleTimeout = opt.Idle.Seconds()
		j.Expires = cl.session.Created.Add(opt.Absolute).UTC().Format(time.RFC3339)
	}
	return j
}

// handleLogin answers POST /api/v1/session {"login", "password"}: a new
// session, in a cookie, and what sessionJSON says.
func (s *Server) handleLogin(c echo.Context) error {
	a := s.access.Accounts
	if a == nil {
		return errorf(CodeNotFound, "this server has no users to log in as")
	}
	r := c.Request()
	// A page of another site may not log its visitor in (into an account
	// of its choosing); a JSON body cannot come from a plain form either.
	if !s.originAllowed(r) {
		return errorf(CodeBadOrigin, "a page of another origin may not log in here")
	}
	remote := s.remoteAddr(r)
	if ok, wait := s.loginRate.allow(remote, s.now()); !ok {
		e := errorf(CodeTooManyRequests, "too many logins from this address; try again in "+inWords(wait))
		e.RetryAfter = wait
		return e
	}
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Login == "" || req.Password == "" {
		return errorf(CodeBadRequest, `body is {"login": "…", "password": "…"}`)
	}
	res, err := a.Login(r.Context(), req.Login, req.Password, remote)
	var locked *auth.LockedError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return errorf(CodeBadCredentials, "wrong login or password")
	case errors.As(err, &locked):
		e := errorf(CodeLocked, "too many failed logins; try again in "+inWords(locked.RetryAfter))
		e.RetryAfter = locked.RetryAfter
		return e
	case err != nil:
		return err
	}
	opt := a.Sessions.Options()
	s.setCookie(c, res.Secret, res.Session.Created.Add(opt.Absolute))
	p := s.authz.ForUser(&res.User)
	return c.JSON(http.StatusOK, s.sessionOf(&caller{p: p, session: &res.Session, user: &res.User}))
}

// handleSession answers GET /api/v1/session: who the caller is.
func (s *Server) handleSession(c echo.Context) error {
	cl := callerOf(c)
	if cl.anonymous && len(s.access.Anonymous) == 0 {
		return errorf(CodeUnauthorized, "log in first")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.sessionOf(cl))
}

// handleLogout answers DELETE /api/v1/session: this session ends.
func (s *Server) handleLogout(c echo.Context) error {
	cl := callerOf(c)
	if err := s.access.Accounts.Logout(c.Request().Context(), &cl.p, cl.secret, cl.p.Remote); err != nil {
		return err
	}
	s.clearCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// handleLogoutEverywhere answers DELETE /api/v1/sessions: every session of
// the caller ends, on every device.
func (s *Server) handleLogoutEverywhere(c echo.Context) error {
	cl := callerOf(c)
	n, err := s.access.Accounts.LogoutEverywhere(c.Request().Context(), &cl.p, cl.p.UserID, cl.p.Remote)
	if err != nil {
		return err
	}
	s.clearCookie(c)
	return c.JSON(http.StatusOK, map[string]int{"ended": n})
}

// inWords says a wait the way a person would: "45 s", "3 min", "2 h".
func inWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(1, int((d+time.Second-1)/time.Second)))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int((d+time.Minute-1)/time.Minute))
	default:
		return fmt.Sprintf("%d h", int((d+time.Hour-1)/time.Hour))
	}
}
