package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/auth"
)

// routeAdmin serves the audit log, the users and the tokens.
func (s *Server) routeAdmin(e *echo.Echo) {
	e.GET("/api/v1/audit", s.handleAudit)
	e.GET("/api/v1/users", s.handleUsers)
	e.POST("/api/v1/users", s.handleAddUser)
	e.PATCH("/api/v1/users/:id", s.handleChangeUser)
	e.GET("/api/v1/tokens", s.handleTokens)
	e.POST("/api/v1/tokens", s.handleIssueToken)
	e.DELETE("/api/v1/tokens/:id", s.handleRevokeToken)
}

// decodeBody reads a small JSON body into v, refusing unknown fields.
func decodeBody(c echo.Context, v any, shape string) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(CodeBadRequest, "body is "+shape)
	}
	return nil
}

// authError turns an error of the auth package into its code.
func authError(err error) error {
	switch {
	case errors.Is(err, auth.ErrNoUser), errors.Is(err, auth.ErrNoToken):
		return errorf(CodeNotFound, strings.TrimPrefix(err.Error(), "auth: "))
	case errors.Is(err, auth.ErrLoginTaken):
		return errorf(CodeLoginTaken, "that login is in use")
	case errors.Is(err, auth.ErrBadLogin), errors.Is(err, auth.ErrBadPassword), errors.Is(err, auth.ErrBadUser),
		errors.Is(err, auth.ErrRoles), errors.Is(err, auth.ErrBadTokenSpec), errors.Is(err, auth.ErrBadFilter):
		return errorf(CodeBadRequest, strings.TrimPrefix(err.Error(), "auth: "))
	}
	return err
}

// handleAudit answers GET /api/v1/audit?who&what&from&to&limit: the newest
// entries first.
func (s *Server) handleAudit(c echo.Context) error {
	if s.access.Audit == nil {
		return c.JSON(http.StatusOK, map[string]any{"entries": []auth.Entry{}})
	}
	f := auth.AuditFilter{Who: c.QueryParam("who"), What: c.QueryParam("what")}
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if q := c.QueryParam(t.name); q != "" {
			v, err := time.Parse(time.RFC3339, q)
			if err != nil {
				return errorf(CodeBadRequest, t.name+" is a time such as 2026-12-01T08:00:00+08:00")
			}
			*t.to = v
		}
	}
	if q := c.QueryParam("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > auth.MaxAuditLimit {
			return errorf(CodeBadRequest, "limit is 1–"+strconv.Itoa(auth.MaxAuditLimit))
		}
		f.Limit = n
	}
	if len(f.Who) > 64 || len(f.What) > 64 {
		return errorf(CodeBadRequest, "who and what are at most 64 characters")
	}
	list, err := s.access.Audit.Query(c.Request().Context(), f)
	if err != nil {
		return authError(err)
	}
	if list == nil {
		list = []auth.Entry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": list})
}

func (s *Server) accounts() (*auth.Accounts, error) {
	if s.access.Accounts == nil {
		return nil, errorf(CodeNotFound, "this server keeps no users")
	}
	return s.access.Accounts, nil
}

// handleUsers answers GET /api/v1/users.
func (s *Server) handleUsers(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	list, err := a.Users.Users(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]*userJSON, len(list))
	for i := range list {
		out[i] = userOf(&list[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

// userChange is the body of POST and PATCH /api/v1/users.
type userChange struct {
	Login     string    `json:"login"`
	Name      string    `json:"name"`
	Password  *string   `json:"password"`
	Roles     *[]string `json:"roles"`
	Units     *[]string `json:"units"`
	Districts *[]string `json:"districts"`
	Disabled  *bool     `json:"disabled"`
}

const userShape = `{"login", "name", "password", "roles": […], "units": […], "districts": […]}`

// handleAddUser answers POST /api/v1/users: a new user, 201.
func (s *Server) handleAddUser(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	var req userChange
	if err := decodeBody(c, &req, userShape); err != nil {
		return err
	}
	if req.Password == nil || req.Roles == nil || req.Disabled != nil {
		return errorf(CodeBadRequest, "a new user needs a login, a password and roles")
	}
	nu := auth.NewUser{Login: req.Login, Name: req.Name, Password: *req.Password, Roles: *req.Roles}
	if req.Units != nil {
		nu.Scopes.Units = *req.Units
	}
	if req.Districts != nil {
		nu.Scopes.Districts = *req.Districts
	}
	u, err := a.AddUser(c.Request().Context(), &callerOf(c).p, nu)
	if err != nil {
		return authError(err)
	}
	return c.JSON(http.StatusCreated, userOf(&u))
}

// handleChangeUser answers PATCH /api/v1/users/{id}: a new password,
// roles, scopes, or disabled; each ends the user's sessions.
func (s *Server) handleChangeUser(c echo.Context) error {
	a, err := s.accounts()
	if err != nil {
		return err
	}
	var req userChange
	if err := decodeBody(c, &req, `{"password", "roles", "units", "districts", "disabled"}`); err != nil {
		return err
	}
	if req.Login != "" || req.Name != "" {
		return errorf(CodeBadRequest, "a login and a name are not changed here")
	}
	ctx, by, id := c.Request().Context(), &callerOf(c).p, c.Param("id")
	if req.Disabled != nil && *req.Disabled && id == by.UserID {
		return errorf(CodeBadRequest, "an administrator does not disable themselves")
	}
	u, err := a.Users.UserByID(ctx, id)
	if err != nil {
		return authError(err)
	}
	if req.Password != nil {
		if u, err = a.SetPassword(ctx, by, id, *req.Password); err != nil {
			return authError(err)
		}
	}
	if req.Roles != nil {
		if u, err = a.SetRoles(ctx, by, id, *req.Roles); err != nil {
			return authError(err)
		}
	}
	if req.Units != nil || req.Districts != nil {
		sc := u.Scopes
		if req.Units != nil {
			sc.Units = *req.Units
		}
		if req.Districts != nil {
			sc.Districts = *req.Districts
		}
		if u, err = a.SetScopes(ctx, by, id, sc); err != nil {
			return authError(err)
		}
	}
	if req.Disabled != nil {
		if u, err = a.SetDisabled(ctx, by, id, *req.Disabled); err != nil {
			return authError(err)
		}
	}
	return c.JSON(http.StatusOK, userOf(&u))
}

func (s *Server) tokens() (*auth.Tokens, error) {
	if s.access.Tokens == nil {
		return nil, errorf(CodeNotFound, "this server keeps no tokens")
	}
	return s.access.Tokens, nil
}

// handleTokens answers GET /api/v1/tokens: every token, no secret.
func (s *Server) handleTokens(c echo.Context) error {
	ts, err := s.tokens()
	if err != nil {
		return err
	}
	list, err := ts.List(c.Request().Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []auth.Token{}
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": list})
}

// handleIssueToken answers POST /api/v1/tokens {"name", "scopes",
// "sensors"}: the token and, this once, its secret.
func (s *Server) handleIssueToken(c echo.Context) error {
	ts, err := s.tokens()
	if err != nil {
		return err
	}
	var req struct {
		Name    string   `json:"name"`
		Scopes  []string `json:"scopes"`
		Sensors []uint64 `json:"sensors"`
	}
	if err := decodeBody(c, &req, `{"name", "scopes": ["ingest" | "read" | "metrics"], "sensors": [id, …]}`); err != nil {
		return err
	}
	secret, t, err := ts.Issue(c.Request().Context(), &callerOf(c).p, auth.NewToken{Name: req.Name, Scopes: req.Scopes, Sensors: req.Sensors})
	if err != nil {
		return authError(err)
	}
	t.Hash = ""
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"token": t, "secret": secret})
}

// handleRevokeToken answers DELETE /api/v1/tokens/{id}: the token, revoked.
func (s *Server) handleRevokeToken(c echo.Context) error {
	ts, err := s.tokens()
	if err != nil {
		return err
	}
	t, err := ts.Revoke(c.Request().Context(), &callerOf(c).p, c.Param("id"))
	if err != nil {
		return authError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"token": t})
}
