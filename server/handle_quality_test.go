package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
	"github.com/paulmach/orb"
)

type qualityAnswer struct {
	Errors   int          `json:"errors"`
	Warnings int          `json:"warnings"`
	Summary  []city.Count `json:"summary"`
	Problems struct {
		Type     string `json:"type"`
		Features []struct {
			Type     string          `json:"type"`
			ID       uint64          `json:"id"`
			Geometry json.RawMessage `json:"geometry"`
			Props    map[string]any  `json:"properties"`
		} `json:"features"`
	} `json:"problems"`
}

func qualityServer(t *testing.T, ps city.Problems) *httptest.Server {
	t.Helper()
	c := &city.City{Meta: city.Meta{Name: "测试区", Bounds: [4]float64{117.2, 31.8, 117.3, 31.9}, Center: [2]float64{117.25, 31.85}, Zoom: 13},
		Features: map[string][]*layers.Feature{}}
	s := newTestServer(Options{Catalog: layers.Default(), Store: memory.New(c), Quality: ps, Access: Access{Anonymous: []string{}}})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func getQuality(t *testing.T, ts *httptest.Server) qualityAnswer {
	t.Helper()
	resp := get(t, ts.URL+"/api/v1/quality", as("viewer")...)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/quality: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	var q qualityAnswer
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil {
		t.Fatal(err)
	}
	return q
}

// GET /api/v1/quality serves the problems the server was given: counted,
// summed up, and one GeoJSON feature per problem with the problem as its
// properties, a whole file's with a null geometry; nothing of a personal
// attribute's value; a viewer may read it, nobody without credentials.
func TestQuality(t *testing.T) {
	ts := qualityServer(t, city.Problems{
		{Kind: city.KindUnknownFile, Severity: city.SeverityWarning, File: "roads.geojson", Index: -1, Reason: "no layer reads roads.geojson", Suggestion: "road.geojson"},
		{Kind: city.KindOutsideBounds, Severity: city.SeverityWarning, Layer: layers.Road, File: "road.geojson", Index: 2, ID: 3004,
			Reason: "outside the city's bounds", Geometry: orb.LineString{{118.5, 31.85}, {118.6, 31.85}}},
		{Kind: city.KindOutsideBounds, Severity: city.SeverityWarning, Layer: layers.ProtectiveTarget, File: "protective_target.geojson", Index: 0, ID: 22001,
			Attribute: "contact", Reason: `attribute "contact": 王建伟 outside`, Suggestion: "王建伟", Geometry: orb.Point{118.5, 31.85}},
	})
	if resp := get(t, ts.URL+"/api/v1/quality"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: %s, want 401", resp.Status)
	}
	q := getQuality(t, ts)
	if q.Errors != 0 || q.Warnings != 3 || len(q.Summary) != 3 || q.Summary[0].Kind != city.KindUnknownFile || q.Summary[0].Count != 1 {
		t.Errorf("counts %d errors, %d warnings, summary %+v", q.Errors, q.Warnings, q.Summary)
	}
	fs := q.Problems.Features
	if q.Problems.Type != "FeatureCollection" || len(fs) != 3 {
		t.Fatalf("problems: %+v", q.Problems)
	}
	if fs[0].Type != "Feature" || string(fs[0].Geometry) != "null" || fs[0].Props["kind"] != "unknown_file" || fs[0].Props["index"] != -1.0 {
		t.Errorf("the unknown file: %s %v", fs[0].Geometry, fs[0].Props)
	}
	if fs[1].ID != 3004 || !strings.Contains(string(fs[1].Geometry), `"LineString"`) || fs[1].Props["severity"] != "warning" ||
		fs[1].Props["file"] != "road.geojson" || fs[1].Props["layer"] != layers.Road || fs[1].Props["reason"] != "outside the city's bounds" {
		t.Errorf("the road outside: %d %s %v", fs[1].ID, fs[1].Geometry, fs[1].Props)
	}
	b, _ := json.Marshal(fs[2].Props)
	if strings.Contains(string(b), "王建伟") || fs[2].Props["attribute"] != "contact" {
		t.Errorf("a personal value served: %s", b)
	}
}

// A city without problems, like the embedded sample, answers zeros and an
// empty collection.
func TestQualityNone(t *testing.T) {
	q := getQuality(t, qualityServer(t, nil))
	if q.Errors != 0 || q.Warnings != 0 || q.Summary == nil || len(q.Summary) != 0 || q.Problems.Type != "FeatureCollection" || q.Problems.Features == nil || len(q.Problems.Features) != 0 {
		t.Errorf("no problems: %+v", q)
	}
}
