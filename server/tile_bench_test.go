package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/metrics"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/tiles"
)

// benchPipeLayers are the layers of the composite tile the benchmarks ask
// for: the city's six pipe and duct layers.
var benchPipeLayers = []string{"gas_pipe", "water_pipe", "drain_pipe", "heat_pipe", "power_duct", "telecom_duct"}

// BenchmarkCachedTile answers the composite pipe tile at z14 over the
// sample city's centre from the tile cache, gzipped, with the instruments
// off (no metrics, no access log), with the metrics and the access log at
// onemap serve's default (uncached: no line for a cached tile), and with
// the metrics and a line for every request (--access-log all, written to
// a text handler that discards it). "handler" calls the router directly,
// which shows the middleware's own cost; "http" goes through a loopback
// connection kept alive, as a map's requests do.
func BenchmarkCachedTile(b *testing.B) {
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		b.Fatal(err)
	}
	centre := orb.Point(c.Meta.Center)
	path := "/tiles/" + strings.Join(benchPipeLayers, ",") + "/" + tiles.Covering(orb.Bound{Min: centre, Max: centre}, 14)[0].String() + ".mvt"
	tokens := auth.NewTokens(auth.TokensOptions{})
	readToken, _, err := tokens.Issue(context.Background(), nil, auth.NewToken{Name: "bench", Scopes: []string{auth.ScopeRead}})
	if err != nil {
		b.Fatal(err)
	}
	defaults := func(o *Options) {
		o.Metrics, o.AccessLog = metrics.New(metrics.Options{Catalog: layers.Default()}), AccessLogUncached
	}
	// cred is the credentials of a mode's requests: none (the anonymous
	// viewer), a session cookie or a bearer token.
	var cred func(*http.Request)
	modes := []struct {
		name string
		opt  func(*Options)
	}{
		{"off", func(*Options) {}},
		{"metrics+uncached", func(o *Options) {
			o.Metrics, o.AccessLog = metrics.New(metrics.Options{Catalog: layers.Default()}), AccessLogUncached
		}},
		{"metrics+all", func(o *Options) {
			o.Metrics, o.AccessLog = metrics.New(metrics.Options{Catalog: layers.Default()}), AccessLogAll
		}},
		// The defaults, with a viewer's session (the user read from
		// users.json, the session checked and touched) or a read token.
		{"metrics+uncached+session", func(o *Options) {
			defaults(o)
			sess := testAuth().sessions["viewer"]
			cred = func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.secret}) }
		}},
		{"metrics+uncached+token", func(o *Options) {
			defaults(o)
			o.Access.Tokens = tokens
			cred = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+readToken) }
		}},
	}
	for _, via := range []string{"handler", "http"} {
		for _, mode := range modes {
			b.Run(via+"/"+mode.name, func(b *testing.B) {
				o := Options{
					Catalog:    layers.Default(),
					Store:      memory.New(c),
					CacheBytes: 64 << 20,
					Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
				}
				cred = func(*http.Request) {}
				mode.opt(&o)
				s := New(withTestAccess(o))
				b.Cleanup(s.Close)
				h := s.Handler()
				var do func() (int, int)
				if via == "handler" {
					do = func() (int, int) {
						req := httptest.NewRequest(http.MethodGet, path, nil)
						req.Header.Set("Accept-Encoding", "gzip")
						cred(req)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						return rec.Code, rec.Body.Len()
					}
				} else {
					ts := httptest.NewServer(h)
					b.Cleanup(ts.Close)
					client := ts.Client()
					do = func() (int, int) {
						req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
						req.Header.Set("Accept-Encoding", "gzip")
						cred(req)
						resp, err := client.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						n, _ := io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						return resp.StatusCode, int(n)
					}
				}
				// The first request encodes the tile and fills the cache.
				code, n := do()
				if code != http.StatusOK || n == 0 {
					b.Fatalf("%s: %d, %d bytes", path, code, n)
				}
				b.ReportAllocs()
				for b.Loop() {
					if code, _ := do(); code != http.StatusOK {
						b.Fatalf("%s: %d", path, code)
					}
				}
				if st := s.cache.Stats(); st.Misses != 1 {
					b.Fatalf("the tile cache missed %d times, want once", st.Misses)
				}
				b.ReportMetric(float64(n), "gzip-bytes/tile")
			})
		}
	}
}
