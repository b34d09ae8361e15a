package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/storetest"
)

// brokenCity writes a city directory with errors in two layers and a
// misnamed file.
func brokenCity(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	line := `{"type":"LineString","coordinates":[[117.25,31.85],[117.26,31.85]]}`
	files := map[string]string{
		"city.json":     `{"name":"测试区","bounds":[117.2,31.8,117.3,31.9],"center":[117.25,31.85],"zoom":13}`,
		"roads.geojson": `{"type":"FeatureCollection","features":[]}`,
		"road.geojson": `{"type":"FeatureCollection","features":[
{"type":"Feature","id":1,"geometry":` + line + `,"properties":{"class":"primary"}},
{"type":"Feature","id":2,"geometry":{"type":"LineString","coordinates":[[520000,3524000],[520100,3524000]]},"properties":{"class":"branch"}}]}`,
		"gas_pipe.geojson": `{"type":"FeatureCollection","features":[
{"type":"Feature","id":3,"geometry":` + line + `,"properties":{"pressure_class":"meduim_a","pressure_mpa":0.3,"material":"steel","install_year":2010}}]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// warnedCity writes a sound city with a misnamed file beside it.
func warnedCity(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := city.Write(dir, storetest.City(), layers.Default()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "gas_pipes.geojson"), []byte(`{}`), 0o644)
	return dir
}

// readReport reads a report's JSON and its GeoJSON twin.
func readReport(t *testing.T, path string) (city.Report, []map[string]any) {
	t.Helper()
	var r city.Report
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string
		Features []struct {
			Properties map[string]any
		}
	}
	gb, err := os.ReadFile(strings.TrimSuffix(path, ".json") + ".geojson")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(gb, &fc); err != nil || fc.Type != "FeatureCollection" {
		t.Fatalf("GeoJSON twin: %v, type %q", err, fc.Type)
	}
	var props []map[string]any
	for _, f := range fc.Features {
		props = append(props, f.Properties)
	}
	return r, props
}

// checkBrokenOutput checks what serve or load said of brokenCity.
func checkBrokenOutput(t *testing.T, err error, stderr, report string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "refused: 6 errors, 1 warning; the first: road.geojson: feature 0 (id 1): attribute \"class\": \"primary\" is not one of") {
		t.Errorf("err = %v", err)
	}
	for _, want := range []string{
		"6 errors, 1 warning:\n",
		"  error    missing_attribute  gas_pipe.geojson  3\n",
		"  warning  unknown_file       roads.geojson     1\n",
		"unknown_value (2):\n  road.geojson: feature 0 (id 1): attribute \"class\"",
		"gas_pipe.geojson: feature 0 (id 3): attribute \"pressure_class\": \"meduim_a\" is not one of high_a, high_b, subhigh_a, subhigh_b, medium_a, medium_b, low; did you mean medium_a (中压A)?",
		"bad_coordinates (1):\n  road.geojson: feature 1 (id 2): coordinates [520000, 3524000] are not a longitude and latitude: they look like metres of a projected CRS; a missing --srid?",
		"roads.geojson: not read: no layer has that file name; did you mean road.geojson?",
		"the report is in " + report,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the output lacks %q:\n%s", want, stderr)
		}
	}
	r, feats := readReport(t, report)
	if !r.Refused || r.Errors != 6 || r.Warnings != 1 || len(r.Problems) != 7 {
		t.Errorf("report: %d errors, %d warnings, %d problems", r.Errors, r.Warnings, len(r.Problems))
	}
	if len(feats) != 6 {
		t.Errorf("the GeoJSON twin has %d features, want the 6 of features", len(feats))
	}
	found := false
	for _, p := range feats {
		found = found || (p["suggestion"] == "medium_a" && p["layer"] == "gas_pipe" && p["kind"] == "unknown_value")
	}
	if !found {
		t.Errorf("no feature of the twin suggests medium_a: %v", feats)
	}
}

func TestServeCityProblems(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--city", brokenCity(t), "--report", report}, &stdout, &stderr)
	checkBrokenOutput(t, err, stderr.String(), report)

	// Warnings alone: the server starts, and the report says so.
	report = filepath.Join(t.TempDir(), "warned.json")
	url := startServer(t, "--city", warnedCity(t), "--report", report)
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	r, feats := readReport(t, report)
	if r.Refused || r.Errors != 0 || r.Warnings != 1 || r.Problems[0].Suggestion != "gas_pipe.geojson" || len(feats) != 0 {
		t.Errorf("report %+v, twin %v", r, feats)
	}

	if err := run(context.Background(), []string{"serve", "--db", "postgres://x@127.0.0.1:1/x", "--report", report}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--report checks the city directory") {
		t.Errorf("--report with --db: %v", err)
	}
}

func TestLoadCityProblems(t *testing.T) {
	// The city is checked before the database is reached.
	report := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"load", "--db", "postgres://x@127.0.0.1:1/x", "--city", brokenCity(t), "--report", report}, &stdout, &stderr)
	checkBrokenOutput(t, err, stderr.String(), report)

	// With --srid, metres are no problem.
	stderr.Reset()
	err = run(context.Background(), []string{"load", "--db", "postgres://x@127.0.0.1:1/x", "--city", brokenCity(t), "--srid", "4547"}, &stdout, &stderr)
	if err == nil || strings.Contains(stderr.String(), "bad_coordinates") || !strings.Contains(err.Error(), "refused: 5 errors, 1 warning") || !strings.Contains(err.Error(), "(--report FILE writes them all)") {
		t.Errorf("load --srid 4547: %v\n%s", err, stderr.String())
	}

	// Warnings are told and do not stop the load, which then finds no
	// database.
	stderr.Reset()
	err = run(context.Background(), []string{"load", "--db", "postgres://x@127.0.0.1:1/x", "--city", warnedCity(t)}, &stdout, &stderr)
	if err == nil || !strings.HasPrefix(err.Error(), "postgis:") || !strings.Contains(stderr.String(), "0 errors, 1 warning:\n") ||
		!strings.Contains(stderr.String(), "gas_pipes.geojson: not read: no layer has that file name; did you mean gas_pipe.geojson?") {
		t.Errorf("load of a city with a warning: %v\n%s", err, stderr.String())
	}
}
