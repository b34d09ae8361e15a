package main

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onemap/onemap/store/postgis/pgtest"
)

// importSurvey writes a small gas survey in longitude and latitude — two
// pipes meeting at a valve, a third beyond a bend — and its mapping.
func importSurvey(t *testing.T, diameter string) (dir, mapping string) {
	t.Helper()
	dir = t.TempDir()
	pipes := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"BH":1,"YLJB":"中压A","CZ":"钢管","GJ":` + diameter + `,"NF":2015},"geometry":{"type":"LineString","coordinates":[[117.25,31.84],[117.252,31.84]]}},
{"type":"Feature","properties":{"BH":2,"YLJB":"中压A","CZ":"钢管","GJ":0.2,"NF":2015},"geometry":{"type":"LineString","coordinates":[[117.252,31.84],[117.254,31.84]]}},
{"type":"Feature","properties":{"BH":3,"YLJB":"低压","CZ":"PE管","GJ":0.1,"NF":2020},"geometry":{"type":"LineString","coordinates":[[117.254,31.8400001],[117.254,31.842]]}}]}`
	points := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"BH":1,"LX":"阀门"},"geometry":{"type":"Point","coordinates":[117.252,31.840001]}}]}`
	os.WriteFile(filepath.Join(dir, "gas_line.geojson"), []byte(pipes), 0o644)
	os.WriteFile(filepath.Join(dir, "gas_point.geojson"), []byte(points), 0o644)
	mapping = filepath.Join(dir, "mapping.yaml")
	os.WriteFile(mapping, []byte(`city: {name: 江城, name_en: Jiangcheng}
layers:
  - source: gas_line.geojson
    layer: gas_pipe
    id: {field: BH}
    attributes:
      pressure_class: {field: YLJB, values: {中压A: medium_a, 低压: low}}
      material: {field: CZ, values: {钢管: steel, PE管: pe}}
      diameter_mm: {field: GJ, scale: 1000}
      install_year: {field: NF}
    defaults: {pressure_mpa: 0.2}
  - source: gas_point.geojson
    layer: gas_node
    id: {field: BH}
    attributes:
      kind: {field: LX, values: {阀门: valve}}
`), 0o644)
	return dir, mapping
}

// onemap import writes a city directory that onemap serves, or loads it
// into PostGIS; a survey with problems is refused with all of them, in the
// report too; --suggest drafts the mapping.
func TestImportCommand(t *testing.T) {
	dir, mapping := importSurvey(t, "0.2")
	out := filepath.Join(t.TempDir(), "jiangcheng")
	var said strings.Builder
	if err := run(t.Context(), []string{"import", "--mapping", mapping, "--out", out}, &said, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(said.String(), "imported 7 features") || !strings.Contains(said.String(), "gas_pipe 3, gas_node 4") {
		t.Errorf("import said %q", said.String())
	}
	var meta struct{ Name string }
	b, _ := os.ReadFile(filepath.Join(out, "city.json"))
	if json.Unmarshal(b, &meta); meta.Name != "江城" {
		t.Errorf("city.json %s", b)
	}
	url := startServer(t, "--city", out)
	var health struct{ Features int }
	getJSON(t, url+"/healthz", &health)
	if health.Features != 7 {
		t.Errorf("serving the import: %d features", health.Features)
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"NoMapping", []string{"import", "--out", t.TempDir()}, "say onemap import --mapping FILE --out DIR"},
		{"Both", []string{"import", "--mapping", mapping, "--out", t.TempDir(), "--db", "postgres://x@127.0.0.1:1/x"}, "say onemap import"},
		{"OutNotEmpty", []string{"import", "--mapping", mapping, "--out", dir}, "holds files already"},
		{"NoSuggestSources", []string{"import", "--suggest"}, "name the survey's files"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := run(t.Context(), c.args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q", err, c.want)
			}
		})
	}

	t.Run("Problems", func(t *testing.T) {
		_, bad := importSurvey(t, `"二百"`)
		report := filepath.Join(t.TempDir(), "problems.json")
		err := run(t.Context(), []string{"import", "--mapping", bad, "--out", filepath.Join(t.TempDir(), "x"), "--report", report}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "二百 is not a number") {
			t.Fatalf("err %v", err)
		}
		var r struct {
			Problems []struct{ Kind, Attribute string }
		}
		b, _ := os.ReadFile(report)
		if json.Unmarshal(b, &r); len(r.Problems) != 1 || r.Problems[0].Kind != "wrong_type" || r.Problems[0].Attribute != "diameter_mm" {
			t.Errorf("report %s", b)
		}
		var twin struct {
			Features []struct{ Geometry struct{ Type string } }
		}
		b, _ = os.ReadFile(strings.TrimSuffix(report, ".json") + ".geojson")
		if json.Unmarshal(b, &twin); len(twin.Features) != 1 || twin.Features[0].Geometry.Type != "LineString" {
			t.Errorf("the report's map %s", b)
		}
	})

	t.Run("Suggest", func(t *testing.T) {
		var draft strings.Builder
		if err := run(t.Context(), []string{"import", "--suggest", filepath.Join(dir, "gas_line.geojson")}, &draft, io.Discard); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"layer: gas_pipe", "id: {field: BH}", `"中压A": medium_a`, `"PE管": pe`, "diameter_mm: {field: GJ, scale: 1000}"} {
			if !strings.Contains(draft.String(), want) {
				t.Errorf("the draft lacks %q:\n%s", want, draft.String())
			}
		}
	})

	t.Run("postgis", func(t *testing.T) {
		db := pgtest.URL(t)
		var said strings.Builder
		if err := run(t.Context(), []string{"import", "--mapping", mapping, "--db", db}, &said, io.Discard); err != nil {
			t.Fatal(err)
		}
		url := startServer(t, "--db", db)
		var health struct {
			Features int
			Status   string
		}
		getJSON(t, url+"/healthz", &health)
		if health.Features != 7 || health.Status != "ok" {
			t.Errorf("serving the import from PostGIS: %+v", health)
		}
	})
}

// README's import examples, on a survey as a city hands it over: a
// Shapefile of pipes in GBK and a GeoPackage of points. The draft mapping
// is completed as its TODOs ask, then imports into a city directory onemap
// serves, and into PostGIS with a report.
func TestReadmeImportExamples(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Fatal("README's import examples need GDAL's ogr2ogr (scripts/test installs gdal-bin):", err)
	}
	src, _ := importSurvey(t, "0.2")
	dir := t.TempDir()
	survey := filepath.Join(dir, "survey")
	os.Mkdir(survey, 0o755)
	for _, c := range [][]string{
		{"-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", filepath.Join(survey, "gas_line.shp"), filepath.Join(src, "gas_line.geojson")},
		{"-f", "GPKG", "-nln", "gas_point", filepath.Join(survey, "gas.gpkg"), filepath.Join(src, "gas_point.geojson")},
	} {
		if b, err := exec.Command("ogr2ogr", c...).CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr %v: %v\n%s", c, err, b)
		}
	}
	names := map[string]string{
		"survey/gas_line.shp": filepath.Join(survey, "gas_line.shp"), "survey/gas.gpkg": filepath.Join(survey, "gas.gpkg"),
		"mapping.yaml": filepath.Join(dir, "mapping.yaml"), "my-city": filepath.Join(dir, "my-city"),
		`"$DATABASE_URL"`: pgtest.URL(t), "problems.json": filepath.Join(dir, "problems.json"),
	}
	cmds := readmeCommands(t, "A city's own data", names)
	if len(cmds) != 3 || cmds[0][0] != "import" || !slices.Contains(cmds[0], "--suggest") {
		t.Fatalf("README's import examples: %q, want the draft, the import to a directory and to PostGIS", cmds)
	}

	// The draft, written where the shell's > sends it.
	args, to := cmds[0], ""
	if i := slices.Index(args, ">"); i > 0 && i+1 < len(args) {
		args, to = args[:i], args[i+1]
	}
	var draft strings.Builder
	if err := run(t.Context(), args, &draft, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"source: " + names["survey/gas_line.shp"], `"中压A": medium_a`, "diameter_mm: {field: GJ, scale: 1000}", "layer: gas_node # 燃气节点, 1 feature\n", `"阀门": valve`} {
		if !strings.Contains(draft.String(), want) {
			t.Errorf("the draft lacks %q:\n%s", want, draft.String())
		}
	}
	// The person who checks it fills in its TODOs.
	filled := strings.NewReplacer("name: TODO", "name: 江城", "name_en: TODO", "name_en: Jiangcheng",
		"# TODO: {field: NF}", "install_year: {field: NF}", "      install_year: TODO\n", "",
		"pressure_mpa: TODO", "pressure_mpa: 0.2").Replace(draft.String())
	for _, line := range strings.Split(filled, "\n") {
		if strings.Contains(line, "TODO") && !strings.HasPrefix(line, "#") {
			t.Fatalf("a TODO the test does not fill in: %q", line)
		}
	}
	if err := os.WriteFile(to, []byte(filled), 0o644); err != nil {
		t.Fatal(err)
	}

	var said strings.Builder
	if err := run(t.Context(), cmds[1], &said, io.Discard); err != nil {
		t.Fatalf("%q: %v", cmds[1], err)
	}
	if !strings.Contains(said.String(), "gas_pipe 3") {
		t.Errorf("import said %q", said.String())
	}
	var health struct{ Features int }
	getJSON(t, startServer(t, "--city", names["my-city"])+"/healthz", &health)
	if health.Features < 4 {
		t.Errorf("serving the import: %d features, want the 3 pipes and their nodes", health.Features)
	}

	if err := run(t.Context(), cmds[2], io.Discard, io.Discard); err != nil {
		t.Fatalf("%q: %v", cmds[2], err)
	}
	var report struct{ Problems []any }
	b, err := os.ReadFile(names["problems.json"])
	if err != nil || json.Unmarshal(b, &report) != nil || len(report.Problems) != 0 {
		t.Errorf("the report of a clean import: %v %s", err, b)
	}
	var pg struct{ Features int }
	getJSON(t, startServer(t, "--db", names[`"$DATABASE_URL"`])+"/healthz", &pg)
	if pg.Features != health.Features {
		t.Errorf("PostGIS serves %d features of the import, the directory %d", pg.Features, health.Features)
	}
}

// README's PostGIS examples: migrate, load the sample city, a city
// directory in longitude and latitude and one in CGCS2000 Gauss–Krüger
// metres, then serve what was loaded last, where it lies.
func TestReadmePostGISExamples(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Fatal("the Gauss–Krüger city is made with GDAL's ogr2ogr (scripts/test installs gdal-bin):", err)
	}
	db := pgtest.URL(t)
	t.Setenv("DATABASE_URL", db)
	_, mapping := importSurvey(t, "0.2")
	lonlat := filepath.Join(t.TempDir(), "my-city")
	if err := run(t.Context(), []string{"import", "--mapping", mapping, "--out", lonlat}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	gk := filepath.Join(t.TempDir(), "my-city")
	os.Mkdir(gk, 0o755)
	files, _ := filepath.Glob(filepath.Join(lonlat, "*"))
	for _, f := range files {
		to := filepath.Join(gk, filepath.Base(f))
		if !strings.HasSuffix(f, ".geojson") {
			b, _ := os.ReadFile(f)
			os.WriteFile(to, b, 0o644)
			continue
		}
		if b, err := exec.Command("ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4548", "-lco", "RFC7946=NO", "-lco", "WRITE_NAME=NO", to, f).CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr %s: %v\n%s", f, err, b)
		}
	}
	cmds := readmeCommands(t, "On PostGIS", map[string]string{"/path/to/my-city": lonlat, "my-city": gk, `"$DATABASE_URL"`: db})
	want := []string{"migrate", "load", "load", "load", "serve"}
	if len(cmds) != len(want) {
		t.Fatalf("README's PostGIS examples: %q, want %v", cmds, want)
	}
	for i, c := range cmds[:4] {
		if c[0] != want[i] {
			t.Fatalf("README's PostGIS example %d: %q, want %s", i, c, want[i])
		}
		var said strings.Builder
		if err := run(t.Context(), c, &said, io.Discard); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		t.Logf("%q: %s", c, strings.TrimSpace(said.String()))
	}
	if cmds[4][0] != "serve" {
		t.Fatalf("README's last PostGIS example %q, want serve", cmds[4])
	}
	url := startServer(t, cmds[4][1:]...)
	var health struct{ Features int }
	getJSON(t, url+"/healthz", &health)
	if health.Features != 7 {
		t.Errorf("serving the city loaded last: %d features, want its 7", health.Features)
	}
	// The Gauss–Krüger metres came back as the longitude and latitude they were.
	var items struct {
		Features []struct {
			Geometry struct{ Coordinates [][2]float64 }
		}
	}
	getJSON(t, url+"/ogc/collections/gas_pipe/items?limit=1&bbox=117.249,31.839,117.2521,31.8401", &items)
	if len(items.Features) != 1 {
		t.Fatalf("the first pipe not found where the survey put it: %+v", items)
	}
	if c := items.Features[0].Geometry.Coordinates[0]; math.Abs(c[0]-117.25) > 1e-6 || math.Abs(c[1]-31.84) > 1e-6 {
		t.Errorf("the first pipe starts at %v, want [117.25, 31.84]", c)
	}
}
