package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// securityHeaders sets on every answer what keeps the web app's pages from
// being turned against their users: a content security policy with no
// inline or foreign script, no MIME sniffing, no referrer sent to other
// sites, and framing only by the server itself and the allowed origins (a
// command centre's portal embedding the big screen).
func (s *Server) securityHeaders() echo.MiddlewareFunc {
	before, after, _ := strings.Cut(contentSecurityPolicy(s.opt.AllowedOrigins), connectSrc)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			// The live channel is a WebSocket to the host the page came
			// from, which 'self' does not cover in every browser.
			host := c.Request().Host
			h.Set("Content-Security-Policy", before+connectSrc+" ws://"+host+" wss://"+host+after)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			if s.access.HTTPS || c.IsTLS() {
				// A year, as browsers' preload lists ask.
				h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// connectSrc is where the web app's scripts may connect: the server, and
// its WebSocket, added per request.
const connectSrc = "connect-src 'self'"

// contentSecurityPolicy is the web app's policy. MapLibre runs its workers
// from blob: URLs and draws images from blob: and data: URLs; styles may be
// set inline (the map and the charts position their elements so), scripts
// never.
func contentSecurityPolicy(allowed []string) string {
	ancestors := []string{"'self'"}
	for _, o := range allowed {
		if o == "*" {
			ancestors = []string{"*"}
			break
		}
		ancestors = append(ancestors, strings.TrimSuffix(o, "/"))
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"worker-src 'self' blob:",
		"child-src 'self' blob:",
		"img-src 'self' data: blob:",
		"style-src 'self' 'unsafe-inline'",
		connectSrc,
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors " + strings.Join(ancestors, " "),
	}, "; ")
}

// cors lets the pages of the allowed origins read the map and the API
// (GET and HEAD only); with none, other sites' pages read nothing.
func cors(allowed []string) echo.MiddlewareFunc {
	if len(allowed) == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	origins := make([]string, len(allowed))
	for i, o := range allowed {
		origins[i] = strings.TrimSuffix(o, "/")
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: origins, AllowMethods: []string{http.MethodGet, http.MethodHead}})
}
