package city_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/storetest"
	"github.com/paulmach/orb"
)

// writeFiles writes files, by name, into a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",\n") + `]}`
}

func feature(id, geometry, props string) string {
	return `{"type":"Feature","id":` + id + `,"geometry":` + geometry + `,"properties":{` + props + `}}`
}

func line(coords string) string  { return `{"type":"LineString","coordinates":` + coords + `}` }
func point(coords string) string { return `{"type":"Point","coordinates":` + coords + `}` }

const pipeProps = `"pressure_class":"medium_a","pressure_mpa":0.3,"diameter_mm":200,"material":"steel","install_year":2010`

// BrokenCity is a city directory with one of each kind of problem, in
// several layers; Check finds every one of them in one pass.
func BrokenCity(t *testing.T) string {
	return writeFiles(t, map[string]string{
		// The centre is [lat, lon].
		"city.json": `{"name":"测试区","bounds":[117.2,31.8,117.3,31.9],"center":[31.85,117.25],"zoom":13}`,
		// A misnamed layer file.
		"roads.geojson": collection(),
		// Documentation and other directories are let be.
		"README.md": "# my city\n",
		layers.Road + ".geojson": collection(
			feature("3001", line(`[[117.25,31.85],[117.26,31.85]]`), `"class":"arterial"`),
			feature("3002", line(`[[117.25,31.85],[117.26,31.86]]`), `"class":"Secondary"`),
			feature("3003", line(`[[117.25,31.85],[117.25,31.85]]`), `"class":"branch"`),
			feature("3004", line(`[[118.5,31.85],[118.6,31.85]]`), `"class":"branch"`),
			feature("3005", line(`[[520000.5,3524000.1],[520100,3524000]]`), `"class":"branch"`),
			feature("3006", line(`[[117.25,31.85],[117.26,31.85]]`), `"class":"branch","minzoom":30`),
		),
		layers.GasNode + ".geojson": collection(
			feature("11001", point(`[117.25,31.85]`), `"kind":"valve"`),
			feature("11002", point(`[117.26,31.85]`), `"kind":"tee"`),
			feature("11003", point(`[117.27,31.85]`), `"kind":"end"`),
		),
		layers.GasPipe + ".geojson": collection(
			// A misspelt pressure class.
			feature("10001", line(`[[117.25,31.85],[117.26,31.85]]`), strings.Replace(pipeProps, "medium_a", "meduim_a", 1)+`,"from_node":11001,"to_node":11002`),
			// No diameter (but a "diameter"), an install year in quotes.
			feature("10002", line(`[[117.25,31.85],[117.26,31.85]]`), strings.Replace(strings.Replace(pipeProps, `"diameter_mm"`, `"diameter"`, 1), `2010`, `"2010"`, 1)+`,"from_node":11001,"to_node":11002`),
			// A to_node that is no node.
			feature("10003", line(`[[117.26,31.85],[117.27,31.85]]`), pipeProps+`,"from_node":11002,"to_node":11099`),
			// An end 1 km from its node.
			feature("10004", line(`[[117.25,31.85],[117.27,31.86]]`), pipeProps+`,"from_node":11001,"to_node":11003`),
			// Drawn backwards.
			feature("10005", line(`[[117.27,31.85],[117.26,31.85]]`), pipeProps+`,"from_node":11002,"to_node":11003`),
		),
		layers.Building + ".geojson": collection(
			feature("4001", `{"type":"Polygon","coordinates":[[[117.25,31.85],[117.251,31.85],[117.251,31.851],[117.25,31.851]]]}`, `"use":"office","height_m":20`),
			feature("4002", point(`[117.25,31.85]`), `"use":"office","height_m":20`),
			feature(`"x"`, `{"type":"Polygon","coordinates":[[[117.25,31.85],[117.251,31.85],[117.251,31.851],[117.25,31.85]]]}`, `"use":"office","height_m":20`),
			feature("4004", `null`, `"use":"office","height_m":20`),
		),
		layers.ProtectiveTarget + ".geojson": collection(
			// The id of a gas pipe.
			feature("10001", point(`[117.25,31.86]`), `"name":"滨河小学","kind":"school"`),
			feature("22002", point(`[31.86,117.25]`), `"name":"一中","kind":"school"`),
			feature("22003", point(`[517.26,31.84]`), `"name":"二中","kind":"school"`),
		),
		layers.Water + ".geojson": "{\"type\":\"FeatureCollection\",\n\"features\":[\n{not json",
	})
}

func TestCheckFindsEverything(t *testing.T) {
	dir := BrokenCity(t)
	c, ps := city.CheckDir(dir, layers.Default(), city.Options{})
	if c != nil {
		t.Error("a city with errors was read")
	}
	type want struct {
		kind       city.Kind
		severity   city.Severity
		file       string
		index      int
		attribute  string
		reason     string
		suggestion string
		cause      string
	}
	wants := []want{
		{city.KindCityCenter, city.SeverityError, "city.json", -1, "center", "the centre [31.85, 117.25] lies outside the bounds [117.2 31.8 117.3 31.9]; swapped axes?", "", city.CauseSwapped},
		{city.KindUnknownFile, city.SeverityWarning, "roads.geojson", -1, "", "not read: no layer has that file name; did you mean road.geojson?", "road.geojson", ""},
		{city.KindUnknownValue, city.SeverityError, "road.geojson", 1, "class", `attribute "class": "Secondary" is not one of expressway, arterial, secondary, branch; did you mean secondary (次干路)?`, "secondary", ""},
		{city.KindZeroLength, city.SeverityError, "road.geojson", 2, "", "a line of length 0: every point of it is [117.25, 31.85]", "", ""},
		{city.KindOutsideBounds, city.SeverityWarning, "road.geojson", 3, "", "[118.6, 31.85] lies 123 km outside the city's bounds", "", ""},
		{city.KindBadCoordinates, city.SeverityError, "road.geojson", 4, "", "look like metres of a projected CRS; a missing --srid?", "", city.CauseProjected},
		{city.KindBadMinZoom, city.SeverityError, "road.geojson", 5, "minzoom", "minzoom 30 is not a zoom from 0 to 24", "", ""},
		{city.KindUnknownValue, city.SeverityError, "gas_pipe.geojson", 0, "pressure_class", `"meduim_a" is not one of high_a, high_b, subhigh_a, subhigh_b, medium_a, medium_b, low; did you mean medium_a (中压A)?`, "medium_a", ""},
		{city.KindMissingAttribute, city.SeverityError, "gas_pipe.geojson", 1, "diameter_mm", `missing required attribute "diameter_mm"; the feature has "diameter": a misspelling?`, "", ""},
		{city.KindWrongType, city.SeverityError, "gas_pipe.geojson", 1, "install_year", `attribute "install_year": "2010" (a string) is not a number: write it without quotes`, "", ""},
		{city.KindUnknownNode, city.SeverityError, "gas_pipe.geojson", 2, "to_node", "to_node 11099 is not a feature of gas_node", "", ""},
		{city.KindNodeFar, city.SeverityError, "gas_pipe.geojson", 3, "to_node", "the line ends 1.1 km from its to_node 11003, more than the 0.5 m allowed", "", ""},
		{city.KindNodeFar, city.SeverityError, "gas_pipe.geojson", 4, "from_node", "the line runs from its to_node 11003 to its from_node 11002: from_node and to_node swapped, or the line drawn backwards?", "", city.CauseReversed},
		{city.KindInvalidGeometry, city.SeverityError, "building.geojson", 0, "", "ring 0 of the Polygon is not closed", "", ""},
		{city.KindWrongGeometry, city.SeverityError, "building.geojson", 1, "", "geometry Point where the layer takes Polygon", "", ""},
		{city.KindBadID, city.SeverityError, "building.geojson", 2, "", `id "x" (a string) is not a positive integer`, "", ""},
		{city.KindNoGeometry, city.SeverityError, "building.geojson", 3, "", "no geometry", "", ""},
		{city.KindBadCoordinates, city.SeverityError, "protective_target.geojson", 1, "", "coordinates [31.86, 117.25] are not a longitude and latitude, but [117.25, 31.86] would be: swapped axes?", "", city.CauseSwapped},
		{city.KindBadCoordinates, city.SeverityError, "protective_target.geojson", 2, "", "longitude 517.26 (of [517.26, 31.84]) is outside -180 to 180", "", ""},
		{city.KindUnreadable, city.SeverityError, "water.geojson", -1, "", "not GeoJSON: line 3: invalid character 'n'", "", ""},
		{city.KindDuplicateID, city.SeverityError, "protective_target.geojson", 0, "", "duplicate id 10001: feature 0 of gas_pipe.geojson has it too", "", ""},
		{city.KindDuplicateGeometry, city.SeverityWarning, "road.geojson", 5, "", "drawn exactly as feature 0 (id 3001)", "", ""},
		{city.KindDuplicateGeometry, city.SeverityWarning, "gas_pipe.geojson", 1, "", "drawn exactly as feature 0 (id 10001)", "", ""},
	}
	for _, w := range wants {
		found := false
		for _, p := range ps {
			if p.Kind == w.kind && p.File == w.file && p.Index == w.index {
				found = true
				if p.Severity != w.severity || p.Attribute != w.attribute || !strings.Contains(p.Reason, w.reason) || p.Suggestion != w.suggestion || p.Cause != w.cause {
					t.Errorf("%s in %s at %d:\n got %+v\nwant %+v", w.kind, w.file, w.index, p, w)
				}
			}
		}
		if !found {
			t.Errorf("no %s in %s at %d; problems:\n%v", w.kind, w.file, w.index, ps)
		}
	}
	if len(ps) != len(wants) {
		t.Errorf("%d problems, want %d:\n%v", len(ps), len(wants), ps)
	}
	if ps.Errors() != len(wants)-4 || ps.Warnings() != 4 {
		t.Errorf("%d errors and %d warnings", ps.Errors(), ps.Warnings())
	}
	// A feature's problems carry its id, and its geometry where it is
	// drawable.
	for _, p := range ps {
		if p.File == "gas_pipe.geojson" && (p.ID != 10001+uint64(p.Index) || p.Geometry == nil) {
			t.Errorf("%v: id %d, geometry %v", p, p.ID, p.Geometry)
		}
		if p.Cause == city.CauseProjected && p.Geometry != nil {
			t.Errorf("%v carries a geometry no map can draw", p)
		}
	}

	// ReadDir refuses the city with all of them.
	_, err := city.ReadDir(dir, layers.Default(), city.Options{})
	var refused *city.RefusedError
	if !errors.As(err, &refused) || len(refused.Problems) != len(ps) {
		t.Fatalf("ReadDir: %v", err)
	}
	if !strings.Contains(err.Error(), "19 errors, 4 warnings; the first: city.json: the centre") {
		t.Errorf("ReadDir: %v", err)
	}

	var sum strings.Builder
	ps.WriteSummary(&sum, 1)
	for _, want := range []string{
		"19 errors, 4 warnings:\n",
		"  error    bad_coordinates      road.geojson               1\n",
		"  error    bad_coordinates      protective_target.geojson  2\n",
		"  warning  unknown_file         roads.geojson              1\n",
		"bad_coordinates (3):\n  road.geojson: feature 4 (id 3005): coordinates [520000.5, 3524000.1] are not",
		"  … and 2 more\n",
	} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, sum.String())
		}
	}
}

func TestCheckCityJSON(t *testing.T) {
	tests := []struct {
		name, json string
		want       []string
	}{
		{"Empty", `{}`, []string{"city.json has no name", "city.json has no bounds", "city.json has no center", "city.json has no zoom"}},
		{"NotJSON", `{"name": "x",`, []string{"city.json is not a JSON object: line 1: unexpected end"}},
		{"NotABox", `{"name":"x","bounds":[117.3,31.8,117.2,31.9],"center":[117.25,31.85],"zoom":13}`, []string{"the bounds [117.3 31.8 117.2 31.9] are not a box"}},
		{"SwappedBounds", `{"name":"x","bounds":[31.8,117.2,31.9,117.3],"center":[117.25,31.85],"zoom":13}`, []string{"swapped axes?"}},
		{"ProjectedBounds", `{"name":"x","bounds":[500000,3500000,510000,3510000],"center":[117.25,31.85],"zoom":13}`, []string{"look like metres of a projected CRS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := city.CheckDir(writeFiles(t, map[string]string{"city.json": tt.json}), layers.Default(), city.Options{})
			if len(ps) != len(tt.want) {
				t.Fatalf("problems %v, want %d", ps, len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(ps[i].Reason, want) || ps[i].File != "city.json" || ps[i].Index != -1 {
					t.Errorf("problem %d: %+v, want %q", i, ps[i], want)
				}
			}
		})
	}
	_, ps := city.CheckDir(writeFiles(t, map[string]string{"city.json": `{}`}), layers.Default(), city.Options{})
	if ps.Errors() != 3 || ps.Warnings() != 1 || ps[3].Severity != city.SeverityWarning {
		t.Errorf("an empty city.json: %d errors, %d warnings; want 3 and a warning of no zoom", ps.Errors(), ps.Warnings())
	}
}

// Warnings alone do not refuse a city.
func TestWarningsDoNotRefuse(t *testing.T) {
	cat := layers.Default()
	c := storetest.City()
	dir := t.TempDir()
	if err := city.Write(dir, c, cat); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "road.shp"), []byte("not read"), 0o644)
	os.WriteFile(filepath.Join(dir, "pipes.geojson"), []byte("{}"), 0o644)
	os.Mkdir(filepath.Join(dir, "scenarios"), 0o755)
	got, ps := city.CheckDir(dir, cat, city.Options{})
	if got == nil || got.Count() != c.Count() {
		t.Fatalf("city not read with warnings alone: %v", ps)
	}
	if ps.Errors() != 0 || ps.Warnings() != 2 {
		t.Fatalf("problems %v, want 2 warnings", ps)
	}
	if p := ps[0]; p.File != "pipes.geojson" || p.Suggestion != "" || !strings.Contains(p.Reason, "a layer's file is named <layer>.geojson") {
		t.Errorf("pipes.geojson: %+v", p)
	}
	if p := ps[1]; p.File != "road.shp" || p.Suggestion != "road.geojson" || !strings.Contains(p.Reason, "onemap reads GeoJSON; convert it to road.geojson") {
		t.Errorf("road.shp: %+v", p)
	}
	if _, err := city.ReadDir(dir, cat, city.Options{}); err != nil {
		t.Errorf("ReadDir: %v", err)
	}
}

// With --srid, coordinates in metres are read, and pipe ends are measured
// on the plane.
func TestCheckProjected(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"city.json":                 `{"name":"x","bounds":[117.2,31.8,117.3,31.9],"center":[117.25,31.85],"zoom":13}`,
		layers.GasNode + ".geojson": collection(feature("1", point(`[520000,3524000]`), `"kind":"valve"`), feature("2", point(`[520100,3524000]`), `"kind":"valve"`)),
		layers.GasPipe + ".geojson": collection(
			feature("3", line(`[[520000,3524000],[520100.3,3524000]]`), pipeProps+`,"from_node":1,"to_node":2`),
			feature("4", line(`[[520000,3524000],[520101,3524000]]`), pipeProps+`,"from_node":1,"to_node":2`)),
	})
	_, ps := city.CheckDir(dir, layers.Default(), city.Options{Projected: true})
	if len(ps) != 1 || ps[0].Kind != city.KindNodeFar || ps[0].ID != 4 || !strings.Contains(ps[0].Reason, "ends 1.0 m from its to_node 2") || ps[0].Geometry != nil {
		t.Errorf("problems %+v, want pipe 4's end 1 m from its node, without a geometry", ps)
	}
}

// The sample city has no problem at all, not even a warning.
func TestSampleCityHasNoProblems(t *testing.T) {
	if _, ps := city.Check(data.SampleCity(), layers.Default(), city.Options{}); len(ps) != 0 {
		var b strings.Builder
		ps.WriteSummary(&b, 5)
		t.Errorf("the sample city has problems:\n%s", b.String())
	}
}

func TestWriteReport(t *testing.T) {
	_, ps := city.CheckDir(BrokenCity(t), layers.Default(), city.Options{})
	path := filepath.Join(t.TempDir(), "report.json")
	if err := ps.WriteReport(path, "my-city"); err != nil {
		t.Fatal(err)
	}
	var r city.Report
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Dir != "my-city" || !r.Refused || r.Errors != 19 || r.Warnings != 4 || len(r.Problems) != len(ps) || len(r.Summary) == 0 {
		t.Errorf("report: %+v", r)
	}
	for i, p := range r.Problems {
		if p.Kind != ps[i].Kind || p.Reason != ps[i].Reason || p.Suggestion != ps[i].Suggestion || p.ID != ps[i].ID || p.Index != ps[i].Index {
			t.Errorf("report problem %d: %+v, want %+v", i, p, ps[i])
		}
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			ID       uint64          `json:"id"`
			Geometry json.RawMessage `json:"geometry"`
			Props    map[string]any  `json:"properties"`
		} `json:"features"`
	}
	gb, err := os.ReadFile(city.TwinPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(gb, &fc); err != nil {
		t.Fatal(err)
	}
	// One feature per problem of a feature: all but city.json's, the
	// unknown file's and water.geojson's.
	if fc.Type != "FeatureCollection" || len(fc.Features) != len(ps)-3 {
		t.Fatalf("the GeoJSON twin has %d features, want %d", len(fc.Features), len(ps)-3)
	}
	drawn := 0
	for _, f := range fc.Features {
		if f.Props["kind"] == nil || f.Props["reason"] == nil || f.Props["file"] == nil {
			t.Errorf("feature without its problem: %v", f.Props)
		}
		if string(f.Geometry) != "null" {
			drawn++
		}
		if f.Props["kind"] == "unknown_value" && f.Props["file"] == "gas_pipe.geojson" {
			if f.ID != 10001 || f.Props["suggestion"] != "medium_a" || !strings.Contains(string(f.Geometry), `"LineString"`) {
				t.Errorf("the pipe's problem: id %d, %s, %v", f.ID, f.Geometry, f.Props)
			}
		}
	}
	if drawn == 0 || drawn == len(fc.Features) {
		t.Errorf("%d of %d features drawn; the bad coordinates should not be", drawn, len(fc.Features))
	}
	if city.TwinPath("out/report.json") != "out/report.geojson" || city.TwinPath("r.geojson") != "r.problems.geojson" {
		t.Error("TwinPath")
	}
}

// FuzzCheck reads a city whose city.json, nodes and pipes are the fuzzer's:
// whatever they hold, Check returns, each problem says what is wrong, and
// the city is read exactly when there is no error.
func FuzzCheck(f *testing.F) {
	meta := `{"name":"x","bounds":[117.2,31.8,117.3,31.9],"center":[117.25,31.85],"zoom":13}`
	nodes := collection(feature("1", point(`[117.25,31.85]`), `"kind":"valve"`), feature("2", point(`[117.26,31.85]`), `"kind":"tee"`))
	f.Add(meta, nodes, collection(feature("3", line(`[[117.25,31.85],[117.26,31.85]]`), pipeProps+`,"from_node":1,"to_node":2`)))
	f.Add(meta, nodes, collection(feature("3", line(`[[117.26,31.85],[117.25,31.85]]`), pipeProps+`,"from_node":1,"to_node":2`)))
	f.Add(`{"center":[31.85,117.25]}`, nodes, collection(feature("1", `{"type":"MultiLineString","coordinates":[[[1e6,3e6],[1e6,3e6]]]}`, `"from_node":"1","to_node":2.5`)))
	f.Add(`[]`, `{"type":"FeatureCollection","features":[null,1,{}]}`, `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"MultiLineString","coordinates":[]},"properties":null}]}`)
	f.Add(meta, collection(feature("1", point(`[-200,95]`), `"kind":"Valve"`)), collection(feature("2", line(`[[117.25,31.85],[-200,95]]`), pipeProps+`,"from_node":1,"to_node":1`)))
	cat := layers.Default()
	f.Fuzz(func(t *testing.T, meta, nodes, pipes string) {
		fsys := fstest.MapFS{
			"city.json":                 {Data: []byte(meta)},
			layers.GasNode + ".geojson": {Data: []byte(nodes)},
			layers.GasPipe + ".geojson": {Data: []byte(pipes)},
		}
		c, ps := city.Check(fsys, cat, city.Options{})
		for _, p := range ps {
			if p.Reason == "" || p.Kind == "" || p.File == "" || (p.Severity != city.SeverityError && p.Severity != city.SeverityWarning) || p.Index < -1 {
				t.Fatalf("a problem without a kind, file, reason or severity: %+v", p)
			}
		}
		if (c == nil) != (ps.Errors() > 0) || (ps.Err() == nil) != (ps.Errors() == 0) {
			t.Fatalf("city %v with %d errors (err %v)", c != nil, ps.Errors(), ps.Err())
		}
		if c == nil {
			return
		}
		for _, ft := range c.Features[layers.GasPipe] {
			if ft.ID == 0 || ft.Geometry == nil || ft.Props["from_node"] == nil {
				t.Fatalf("accepted a pipe without id, geometry or from_node: %+v", ft)
			}
		}
	})
}

// A network whose ends all name its nodes is checked as a whole: a part
// joined to no source is an island, a tee only one pipe reaches and a valve
// no pipe reaches dangle, a line that crosses itself is told — all
// warnings, which do not refuse the city.
func TestNetworkWarnings(t *testing.T) {
	node := func(id, at, kind string) string { return feature(id, point(at), `"kind":"`+kind+`"`) }
	pipe := func(id, coords, from, to string) string {
		return feature(id, line(coords), pipeProps+`,"from_node":`+from+`,"to_node":`+to)
	}
	dir := writeFiles(t, map[string]string{
		"city.json": `{"name":"测试区","bounds":[117.2,31.8,117.3,31.9],"center":[117.25,31.85],"zoom":13}`,
		layers.GasNode + ".geojson": collection(
			node("11001", "[117.25,31.85]", "station"),
			node("11002", "[117.26,31.85]", "valve"),
			node("11003", "[117.27,31.85]", "tee"),
			node("11004", "[117.28,31.86]", "end"),
			node("11005", "[117.29,31.86]", "end"),
			node("11006", "[117.22,31.82]", "valve")),
		layers.GasPipe + ".geojson": collection(
			pipe("10001", "[[117.25,31.85],[117.26,31.85]]", "11001", "11002"),
			pipe("10002", "[[117.26,31.85],[117.27,31.85]]", "11002", "11003"),
			pipe("10003", "[[117.28,31.86],[117.285,31.87],[117.285,31.855],[117.282,31.862],[117.29,31.86]]", "11004", "11005")),
	})
	c, ps := city.CheckDir(dir, layers.Default(), city.Options{})
	if c == nil || ps.Errors() != 0 {
		t.Fatalf("warnings refused the city: %v", ps)
	}
	for _, w := range []struct {
		kind  city.Kind
		file  string
		index int
		says  string
	}{
		{city.KindDanglingNode, "gas_node.geojson", 2, "a tee that only one pipe reaches"},
		{city.KindDanglingNode, "gas_node.geojson", 5, "no pipe of gas_pipe starts or ends at this valve"},
		{city.KindIsland, "gas_pipe.geojson", 2, "1 pipes joined to no station"},
		{city.KindSelfCrossing, "gas_pipe.geojson", 2, "the line crosses itself: its segments 2 and 4 meet"},
	} {
		found := false
		for _, p := range ps.OfKind(w.kind) {
			if p.File == w.file && p.Index == w.index && strings.Contains(p.Reason, w.says) && p.Severity == city.SeverityWarning {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s of %s feature %d saying %q among\n%v", w.kind, w.file, w.index, w.says, ps)
		}
	}
	if len(ps) != 4 {
		t.Errorf("%d problems, want 4: %v", len(ps), ps)
	}
}

// GeoJSON has one feature per problem, a whole file's problem too (with a
// null geometry and index -1); WithoutPersonal leaves nothing of a
// personal attribute's value in the problems.
func TestProblemsGeoJSON(t *testing.T) {
	ps := city.Problems{
		{Kind: city.KindUnknownFile, Severity: city.SeverityWarning, File: "roads.geojson", Index: -1, Reason: "no layer reads roads.geojson", Suggestion: "road.geojson"},
		{Kind: city.KindOutsideBounds, Severity: city.SeverityWarning, Layer: layers.Road, File: "road.geojson", Index: 2, ID: 3004,
			Reason: "outside the city's bounds", Geometry: orb.LineString{{118.5, 31.85}, {118.6, 31.85}}},
		{Kind: city.KindWrongType, Severity: city.SeverityError, Layer: layers.ProtectiveTarget, File: "protective_target.geojson", Index: 0, ID: 22001,
			Attribute: "contact_phone", Reason: `attribute "contact_phone": 13912345678 (a number) is not a string: write it in quotes`, Suggestion: "13912345678"},
	}
	b, err := ps.WithoutPersonal(layers.Default()).GeoJSON().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "13912345678") {
		t.Errorf("a personal value in the problems: %s", b)
	}
	var fc struct {
		Features []struct {
			Geometry json.RawMessage `json:"geometry"`
			Props    map[string]any  `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 3 {
		t.Fatalf("%d features, want 3: %s", len(fc.Features), b)
	}
	whole, road, phone := fc.Features[0], fc.Features[1], fc.Features[2]
	if string(whole.Geometry) != "null" || whole.Props["index"] != -1.0 || whole.Props["suggestion"] != "road.geojson" || whole.Props["severity"] != "warning" {
		t.Errorf("the unknown file: %s %v", whole.Geometry, whole.Props)
	}
	if !strings.Contains(string(road.Geometry), "LineString") || road.Props["id"] != 3004.0 || road.Props["layer"] != layers.Road {
		t.Errorf("the road outside: %s %v", road.Geometry, road.Props)
	}
	if phone.Props["attribute"] != "contact_phone" || phone.Props["suggestion"] != nil || !strings.Contains(phone.Props["reason"].(string), "personal") {
		t.Errorf("the phone number: %v", phone.Props)
	}
	// The problems given are left as they were.
	if ps[2].Suggestion != "13912345678" {
		t.Error("WithoutPersonal changed its receiver")
	}
}
