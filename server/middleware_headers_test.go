package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
)

func headersServer(t *testing.T, allowed ...string) *httptest.Server {
	t.Helper()
	s := newTestServer(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), AllowedOrigins: allowed,
		Frontend: fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>onemap</title>")}}})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// The web app and the API answer with a policy that runs no inline or
// foreign script, no MIME sniffing, no referrer to other sites, and framing
// by the server and the allowed origins only.
func TestSecurityHeaders(t *testing.T) {
	for _, tt := range []struct {
		allowed   []string
		ancestors string
	}{
		{nil, "frame-ancestors 'self'"},
		{[]string{"https://ops.example/"}, "frame-ancestors 'self' https://ops.example"},
	} {
		ts := headersServer(t, tt.allowed...)
		for _, path := range []string{"/", "/catalog", "/api/v1/nearby?lon=x", "/tiles/gas_pipe/14/13700/6700"} {
			r := get(t, ts.URL+path)
			csp := r.Header.Get("Content-Security-Policy")
			for _, want := range []string{"script-src 'self';", "object-src 'none'", tt.ancestors} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s (allowed %v): CSP %q lacks %q", path, tt.allowed, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe-inline") {
				t.Errorf("%s: CSP %q lets inline or evaluated script run", path, csp)
			}
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options %q", path, got)
			}
			if got := r.Header.Get("Referrer-Policy"); got != "same-origin" {
				t.Errorf("%s: Referrer-Policy %q", path, got)
			}
		}
	}
}

// Other sites' pages may read the map and the API only when their origin
// is allowed.
func TestCORSOnlyForAllowedOrigins(t *testing.T) {
	for _, tt := range []struct {
		allowed      []string
		origin, want string
	}{
		{nil, "https://evil.example", ""},
		{[]string{"https://ops.example"}, "https://ops.example", "https://ops.example"},
		{[]string{"https://ops.example"}, "https://evil.example", ""},
		{[]string{"*"}, "https://any.example", "*"},
	} {
		ts := headersServer(t, tt.allowed...)
		r := get(t, ts.URL+"/catalog", "Origin", tt.origin)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != tt.want {
			t.Errorf("allowed %v, Origin %s: Access-Control-Allow-Origin %q, want %q", tt.allowed, tt.origin, got, tt.want)
		}
	}
}

// Behind HTTPS the answers carry HSTS and the session cookie is Secure;
// over plain HTTP neither.
func TestHTTPSHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		w := newAccessWorld(t, nil, func(o *Options) { o.Access.HTTPS = https })
		r := get(t, w.ts.URL+"/healthz")
		if got := r.Header.Get("Strict-Transport-Security") != ""; got != https {
			t.Errorf("HTTPS %v: HSTS %q", https, r.Header.Get("Strict-Transport-Security"))
		}
		bs, st, msg := w.login(t, "li", "li"+testPassword)
		if st != 200 {
			t.Fatalf("login: %d %s", st, msg)
		}
		if bs.cookie.Secure != https {
			t.Errorf("HTTPS %v: cookie Secure %v", https, bs.cookie.Secure)
		}
	}
}
