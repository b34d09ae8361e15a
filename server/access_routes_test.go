package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/metrics"
)

// who may use each route, as a user of the city would say it. The access
// table of the server must agree route by route: this list is written
// apart from it on purpose.
var routeAudience = map[string]string{
	"GET /healthz": "anyone",
	"GET /readyz":  "anyone",
	"GET /metrics": "metrics",

	"GET /catalog":                 "viewers",
	"GET /tiles/:layers/:z/:x/:y":  "viewers",
	"GET /tiles/:file":             "viewers",
	"GET /tiles/*":                 "viewers",
	"GET /style.json":              "viewers",
	"GET /fonts/:fontstack/:range": "viewers",
	"GET /sprite.json":             "viewers",
	"GET /sprite.png":              "viewers",
	"GET /sprite@2x.json":          "viewers",
	"GET /sprite@2x.png":           "viewers",

	"GET /ogc":                              "viewers",
	"GET /ogc/conformance":                  "viewers",
	"GET /ogc/collections":                  "viewers",
	"GET /ogc/collections/:layer":           "viewers",
	"GET /ogc/collections/:layer/items":     "viewers",
	"GET /ogc/collections/:layer/items/:id": "viewers",

	"GET /api/v1/features/:id":               "viewers",
	"GET /api/v1/features/:id/nearby":        "viewers",
	"GET /api/v1/nearby":                     "viewers",
	"GET /api/v1/quality":                    "viewers",
	"GET /api/v1/scene":                      "viewers",
	"POST /api/v1/analysis/valve-closure":    "analysts",
	"GET /api/v1/analysis/gas-neighbourhood": "analysts",

	"POST /api/v1/readings":          "ingest",
	"GET /api/v1/sensors":            "viewers",
	"GET /api/v1/sensors/:id":        "viewers",
	"GET /api/v1/sensors/:id/series": "viewers",
	"GET /api/v1/alarms":             "viewers",
	"GET /api/v1/alarms/:id":         "viewers",
	"POST /api/v1/alarms/:id/ack":    "operators",
	"GET /api/v1/alarms/:id/impact":  "viewers",
	"GET /api/v1/rules":              "viewers",
	"GET /api/v1/rules/versions":     "viewers",
	"PUT /api/v1/rules":              "admin",
	"GET /ws":                        "viewers",

	"GET /api/v1/incidents":                 "viewers",
	"GET /api/v1/incidents/proposals":       "viewers",
	"GET /api/v1/incidents/:id":             "viewers",
	"GET /api/v1/incidents/:id/suggestion":  "drafters",
	"POST /api/v1/incidents":                "operators",
	"POST /api/v1/incidents/:id/verify":     "operators",
	"POST /api/v1/incidents/:id/merge":      "operators",
	"POST /api/v1/incidents/:id/draft":      "drafters",
	"POST /api/v1/incidents/:id/submit":     "drafters",
	"POST /api/v1/incidents/:id/review":     "reviewers",
	"POST /api/v1/incidents/:id/sign":       "signers",
	"POST /api/v1/incidents/:id/publish":    "signers",
	"POST /api/v1/incidents/:id/update":     "signers",
	"POST /api/v1/incidents/:id/respond":    "signers",
	"POST /api/v1/incidents/:id/resolve":    "signers",
	"POST /api/v1/incidents/:id/release":    "signers",
	"POST /api/v1/incidents/:id/archive":    "signers",
	"GET /api/v1/warnings":                  "viewers",
	"GET /api/v1/stats/alarms":              "viewers",
	"GET /api/v1/stats/incidents":           "viewers",
	"GET /api/v1/stats/false-alarms":        "viewers",
	"GET /api/v1/stats/durations":           "viewers",
	"GET /api/v1/warnings.atom":             "viewers",
	"GET /api/v1/warnings/:id/cap.xml":      "viewers",
	"GET /api/v1/incidents/:id/deliveries":  "viewers",
	"GET /api/v1/incidents/:id/response":    "viewers",
	"GET /api/v1/incidents/:id/positions":   "viewers",
	"GET /api/v1/incidents/:id/report":      "viewers",
	"GET /api/v1/incidents/:id/report.html": "viewers",
	"GET /api/v1/incidents/:id/replay":      "viewers",
	"GET /api/v1/attachments/:id":           "viewers",
	"GET /api/v1/inbox":                     "persons",
	"POST /api/v1/inbox/:id/read":           "persons",
	"POST /api/v1/inbox/:id/reply":          "persons",
	"POST /api/v1/tasks/:id/assign":         "signers",
	"GET /api/v1/tasks/mine":                "responders",
	"POST /api/v1/tasks/:id/advance":        "responders",
	"POST /api/v1/incidents/:id/feedback":   "responders",
	"POST /api/v1/positions":                "responders",
	"POST /api/v1/attachments":              "responders",

	"POST /api/v1/session":      "anyone",
	"GET /api/v1/session":       "valid",
	"DELETE /api/v1/session":    "persons",
	"DELETE /api/v1/sessions":   "persons",
	"GET /api/v1/audit":         "admin",
	"GET /api/v1/users":         "admin",
	"POST /api/v1/users":        "admin",
	"PATCH /api/v1/users/:id":   "admin",
	"GET /api/v1/tokens":        "admin",
	"POST /api/v1/tokens":       "admin",
	"DELETE /api/v1/tokens/:id": "admin",

	"* /api/*":    "anyone",
	"* /api/v1/*": "anyone",
	"GET /*":      "anyone",
}

// The principals each audience admits: the shipped roles, by login, and
// the kinds of token.
var audiences = map[string][]string{
	"viewers":    {"viewer", "operator", "analyst", "commander", "responder", "unit", "admin", "read-token", "view-token"},
	"analysts":   {"analyst", "commander", "read-token", "view-token"},
	"operators":  {"operator"},
	"drafters":   {"analyst"},
	"reviewers":  {"analyst", "commander"},
	"signers":    {"commander"},
	"responders": {"responder"},
	"admin":      {"admin"},
	"ingest":     {"admin", "ingest-token", "static-ingest"},
	"persons":    {"viewer", "operator", "analyst", "commander", "responder", "unit", "admin"},
	"metrics":    {"admin", "metrics-token"},
	"valid": {"viewer", "operator", "analyst", "commander", "responder", "unit", "admin",
		"read-token", "view-token", "ingest-token", "static-ingest", "metrics-token"},
}

// Every route of the router is in the access table, and every route
// answers each kind of caller as its audience says: 401 to one without
// credentials (no anonymous viewer here), with a wrong token, an expired
// session or a revoked token; 403 to a valid caller outside the audience;
// neither to one inside it.
func TestEveryRouteChecked(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	ctx := context.Background()
	dir := t.TempDir()
	users, err := auth.OpenUsers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := auth.OpenAudit(ctx, filepath.Join(dir, auth.AuditFile), auth.AuditOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { audit.Close() })
	accounts := auth.NewAccounts(auth.AccountsOptions{Users: users, Audit: audit, Now: clock,
		Hasher: auth.NewHasher(auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)})
	tokens := auth.NewTokens(auth.TokensOptions{Audit: audit, Now: clock})
	ids := map[string]string{}
	for _, r := range accounts.Roles.Names() {
		u, err := accounts.AddUser(ctx, nil, auth.NewUser{Login: r, Password: r + testPassword, Roles: []string{r}})
		if err != nil {
			t.Fatal(err)
		}
		ids[r] = u.ID
	}
	secrets := map[string]string{}
	for name, scope := range map[string]string{"read-token": auth.ScopeRead, "ingest-token": auth.ScopeIngest, "metrics-token": auth.ScopeMetrics, "revoked-token": auth.ScopeRead} {
		secret, tok, err := tokens.Issue(ctx, nil, auth.NewToken{Name: name, Scopes: []string{scope}})
		if err != nil {
			t.Fatal(err)
		}
		secrets[name] = secret
		if name == "revoked-token" {
			tokens.Revoke(ctx, nil, tok.ID)
		}
	}
	o := wsOptions(t, Options{ViewTokens: []string{"screen"}, IngestTokens: []string{"static"},
		Access:   Access{Accounts: accounts, Tokens: tokens, Audit: audit, Anonymous: []string{}, IngestRate: 1e6, IngestBurst: 1e6},
		Metrics:  metrics.New(metrics.Options{Catalog: layers.Default()}),
		Frontend: fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>onemap</title>")}}})
	o.Now = clock
	s := newTestServer(o)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); ts.Close() })

	// A session made before the clock moves past its idle time.
	expired, _, err := accounts.Sessions.Create(ctx, ids["admin"], "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	now.Add(int64(31 * time.Minute))

	routes := s.echo.Routes()
	seen := map[string]bool{}
	param := regexp.MustCompile(`:[a-z]+|\*`)
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		if rt.Method == echoRouteNotFound {
			continue
		}
		if _, ok := needOf(rt.Method, rt.Path); !ok {
			t.Errorf("route %s has no entry in the access table", key)
			continue
		}
		aud, ok := routeAudience[key]
		if !ok {
			aud, ok = routeAudience["* "+rt.Path]
		}
		if !ok {
			t.Errorf("route %s has no audience in this test", key)
			continue
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		path := param.ReplaceAllStringFunc(rt.Path, func(p string) string {
			switch p {
			case ":layers", ":layer":
				return "gas_pipe"
			case ":z", ":x", ":y":
				return "0"
			case ":file":
				return "gas_pipe.json"
			case ":fontstack":
				return "Noto Sans Regular"
			case ":range":
				return "0-255.pbf"
			case ":id":
				return "7"
			}
			return "x"
		})
		callers := []string{"nobody", "wrong-token", "expired-session", "revoked-token", "read-token", "view-token",
			"ingest-token", "static-ingest", "metrics-token"}
		callers = append(callers, accounts.Roles.Names()...)
		for _, who := range callers {
			req, _ := http.NewRequest(rt.Method, ts.URL+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			valid := true
			switch who {
			case "nobody":
				valid = false
			case "wrong-token":
				req.Header.Set("Authorization", "Bearer om_"+strings.Repeat("A", 43))
				valid = false
			case "expired-session":
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: expired})
				valid = false
			case "revoked-token", "read-token", "ingest-token", "metrics-token":
				req.Header.Set("Authorization", "Bearer "+secrets[who])
				valid = who != "revoked-token"
			case "view-token":
				req.Header.Set("Authorization", "Bearer screen")
			case "static-ingest":
				req.Header.Set("Authorization", "Bearer static")
			default: // a role: a fresh session of its user
				secret, sess, err := accounts.Sessions.Create(ctx, ids[who], "127.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
				req.Header.Set("X-CSRF-Token", sess.CSRF)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			st := resp.StatusCode
			switch {
			case aud == "anyone":
				if st == 401 || st == 403 {
					t.Errorf("%s by %s: %d, want it open to anyone", key, who, st)
				}
			case slices.Contains(audiences[aud], who):
				if st == 401 || st == 403 {
					t.Errorf("%s by %s: %d, want it admitted (%s)", key, who, st, aud)
				}
			case !valid:
				if st != 401 {
					t.Errorf("%s by %s: %d, want 401", key, who, st)
				}
			default:
				if st != 403 {
					t.Errorf("%s by %s: %d, want 403 (%s only)", key, who, st, aud)
				}
			}
		}
	}
	for key := range routeAudience {
		if !seen[key] && !strings.HasPrefix(key, "* ") {
			t.Errorf("this test names %s, which the router does not have", key)
		}
	}
}

// echoRouteNotFound is the method echo lists its not-found routes under.
const echoRouteNotFound = "echo_route_not_found"
