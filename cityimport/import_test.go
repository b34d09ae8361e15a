package cityimport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/cityimport"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/paulmach/orb"
)

// needGDAL skips without ogr2ogr, except on CI, where it fails.
func needGDAL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		if os.Getenv("ONEMAP_REQUIRE_ALL") != "" {
			t.Fatal("ogr2ogr is missing; scripts/test installs gdal-bin")
		}
		t.Skip("ogr2ogr is missing: apt-get install gdal-bin")
	}
}

// The survey's words for the catalog's values, as a city's pipe survey
// writes them.
var (
	pressureZh = map[string]string{"high_a": "高压A", "high_b": "高压B", "subhigh_a": "次高压A", "subhigh_b": "次高压B", "medium_a": "中压A", "medium_b": "中压B", "low": "低压"}
	materialZh = map[string]string{"steel": "钢管", "pe": "PE管", "ductile_iron": "球墨铸铁管", "cast_iron": "铸铁管"}
	kindZh     = map[string]string{"valve": "阀门", "tee": "三通", "regulator": "调压箱", "station": "门站", "end": "末端", "bend": "弯头"}
)

// survey writes the sample city's gas network as a city keeps it: pipes as
// a Shapefile in CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548) with
// ten-character field names, GBK-encoded Chinese values, diameters in
// metres, numbered from 0 and without their end nodes; the nodes as a
// GeoPackage in CGCS2000 (EPSG:4490). It returns the directory and the
// original city.
func survey(t *testing.T) (string, *city.City) {
	t.Helper()
	cat := layers.Default()
	orig, err := city.Read(data.SampleCity(), cat)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fc := func(fs []*layers.Feature, props func(*layers.Feature) map[string]any) []byte {
		var feats []map[string]any
		for _, f := range fs {
			feats = append(feats, map[string]any{"type": "Feature", "properties": props(f), "geometry": orbJSON(f.Geometry)})
		}
		b, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": feats})
		return b
	}
	mask := uint64(1<<layers.IDBits - 1)
	pipes := fc(orig.Features[layers.GasPipe], func(f *layers.Feature) map[string]any {
		p := map[string]any{"GXBH": f.ID&mask - 1, "YLJB": pressureZh[f.Props["pressure_class"].(string)], "SJYL": f.Props["pressure_mpa"],
			"GJ": f.Props["diameter_mm"].(float64) / 1000, "GXCZ": materialZh[f.Props["material"].(string)], "MSNF": f.Props["install_year"],
			"MS": f.Props["depth_m"], "CD": f.Props["length_m"], "SZDL": f.Props["road"], "QSDW": f.Props["owner"], "RL": "否"}
		if f.Props["in_tunnel"] == true {
			p["RL"] = "是"
		}
		return p
	})
	nodes := fc(orig.Features[layers.GasNode], func(f *layers.Feature) map[string]any {
		return map[string]any{"DHBH": f.ID & mask, "LX": kindZh[f.Props["kind"].(string)], "MC": f.Props["name"]}
	})
	os.WriteFile(filepath.Join(dir, "pipes.geojson"), pipes, 0o644)
	os.WriteFile(filepath.Join(dir, "nodes.geojson"), nodes, 0o644)
	ogr(t, "-f", "ESRI Shapefile", filepath.Join(dir, "gas_line.shp"), filepath.Join(dir, "pipes.geojson"),
		"-s_srs", "EPSG:4326", "-t_srs", "EPSG:4548", "-lco", "ENCODING=GBK")
	ogr(t, "-f", "GPKG", filepath.Join(dir, "gas.gpkg"), filepath.Join(dir, "nodes.geojson"), "-nln", "gas_point",
		"-s_srs", "EPSG:4326", "-t_srs", "EPSG:4490")
	os.Remove(filepath.Join(dir, "pipes.geojson"))
	os.Remove(filepath.Join(dir, "nodes.geojson"))
	return dir, orig
}

func ogr(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ogr2ogr", args...).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr %v: %v\n%s", args, err, out)
	}
}

func orbJSON(g orb.Geometry) map[string]any {
	switch g := g.(type) {
	case orb.Point:
		return map[string]any{"type": "Point", "coordinates": []float64{g[0], g[1]}}
	case orb.LineString:
		cs := make([][]float64, len(g))
		for i, p := range g {
			cs[i] = []float64{p[0], p[1]}
		}
		return map[string]any{"type": "LineString", "coordinates": cs}
	}
	panic("not a point or a line")
}

// docsMapping is the mapping file docs/import.md shows, which the survey
// is made for.
func docsMapping(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../docs/import.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/import.md shows no yaml block")
	}
	return block
}

func mapping(t *testing.T, dir, text string) *cityimport.Mapping {
	t.Helper()
	m, err := cityimport.ReadMapping(strings.NewReader(text), dir, layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A survey kept as Shapefiles in Gauss-Kruger metres (imported through the
// mapping docs/import.md shows) with GBK text and no
// node ids on its pipes, and a GeoPackage of its nodes in CGCS2000, comes
// in through a mapping file as the same network: the same ids, the same
// attributes, each pipe between the same two nodes, within a centimetre of
// where it was; and the same answer to a valve closure.
func TestImportSurvey(t *testing.T) {
	needGDAL(t)
	dir, orig := survey(t)
	m := mapping(t, dir, docsMapping(t))
	got, err := cityimport.Import(context.Background(), m, layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	// A pipe the survey drew through a tee is split there: its first part
	// keeps its id and its start, the next begins at the tee and keeps its
	// end.
	split := map[uint64]*layers.Feature{} // the original's id → the part after the tee
	gotByID := map[uint64]*layers.Feature{}
	for _, f := range got.Features[layers.GasPipe] {
		gotByID[f.ID] = f
	}
	origPipes := map[uint64]*layers.Feature{}
	for _, f := range orig.Features[layers.GasPipe] {
		origPipes[f.ID] = f
	}
	for _, f := range got.Features[layers.GasPipe] {
		if origPipes[f.ID] != nil {
			continue
		}
		for id, o := range origPipes {
			first := gotByID[id]
			if first == nil || first.Props[layers.ToNode] != f.Props[layers.FromNode] || f.Props[layers.ToNode] != o.Props[layers.ToNode] {
				continue
			}
			// The parts run the original's course: its ends, its length.
			a, b, ol := first.Geometry.(orb.LineString), f.Geometry.(orb.LineString), o.Geometry.(orb.LineString)
			if spatial.Metres(a[0], ol[0]) > 0.01 || spatial.Metres(b[len(b)-1], ol[len(ol)-1]) > 0.01 ||
				math.Abs(spatial.Length(a)+spatial.Length(b)-spatial.Length(ol)) > 0.01 {
				t.Errorf("pipe %d split at a tee into %d and %d: not the original's course", id, id, f.ID)
			}
			split[id] = f
		}
		if !slices.ContainsFunc(mapsValues(split), func(x *layers.Feature) bool { return x == f }) {
			t.Errorf("gas_pipe %d is neither in the original nor a part of a pipe split at a tee: %v", f.ID, f.Props)
		}
	}
	if len(split) != len(got.Features[layers.GasPipe])-len(orig.Features[layers.GasPipe]) {
		t.Errorf("%d pipes split at tees, %d more pipes than the original", len(split), len(got.Features[layers.GasPipe])-len(orig.Features[layers.GasPipe]))
	}
	for _, l := range []string{layers.GasPipe, layers.GasNode} {
		want := map[uint64]*layers.Feature{}
		for _, f := range orig.Features[l] {
			want[f.ID] = f
		}
		for _, f := range got.Features[l] {
			w, ok := want[f.ID]
			if !ok || split[f.ID] != nil {
				continue
			}
			delete(want, f.ID)
			for k, v := range w.Props {
				if k == "pressure_class" && l == layers.GasNode || k == "valve_well" {
					continue // not in the survey's points
				}
				if g := f.Props[k]; fmt.Sprint(g) != fmt.Sprint(v) {
					t.Errorf("%s %d: %s %v, want %v", l, f.ID, k, g, v)
				}
			}
			if d := maxOffset(f.Geometry, w.Geometry); d > 0.01 {
				t.Errorf("%s %d: %.3f m from where it was", l, f.ID, d)
			}
		}
		for id := range want {
			if split[id] == nil {
				t.Errorf("%s %d of the original is missing", l, id)
			}
		}
	}

	// The network answers as the original does.
	for _, pipe := range []int{0, 100, 700, 1200} {
		id := orig.Features[layers.GasPipe][pipe].ID
		if split[id] != nil {
			continue
		}
		a, b := closure(t, orig, id), closure(t, got, id)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("closing pipe %d: valves %v, in the original %v", id, b, a)
		}
	}

	// With the rest of the city beside it, the imported network has the
	// same underground spaces within 12.5 m and the same features near
	// each of some places as the original: the answers an operator asks
	// for the minute a gas alarm fires.
	merged := &city.City{Meta: orig.Meta, Features: map[string][]*layers.Feature{}}
	for l, fs := range orig.Features {
		merged.Features[l] = fs
	}
	merged.Features[layers.GasPipe], merged.Features[layers.GasNode] = got.Features[layers.GasPipe], got.Features[layers.GasNode]
	a, b := memory.New(orig), memory.New(merged)
	bound := orb.Bound{Min: orb.Point{orig.Meta.Bounds[0], orig.Meta.Bounds[1]}, Max: orb.Point{orig.Meta.Bounds[2], orig.Meta.Bounds[3]}}
	na, err := spatial.GasNeighbourhood(context.Background(), a, bound, 12.5)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := spatial.GasNeighbourhood(context.Background(), b, bound, 12.5)
	if err != nil {
		t.Fatal(err)
	}
	spaces := func(adj []spatial.Adjacency) string {
		seen := map[uint64]bool{}
		for _, x := range adj {
			seen[x.Space.ID] = true
		}
		return fmt.Sprint(slices.Sorted(maps.Keys(seen)))
	}
	if spaces(na) != spaces(nb) || len(na) == 0 {
		t.Errorf("the gas neighbourhood: %d adjacencies to %d spaces imported, %d in the original", len(nb), len(spaces(nb)), len(na))
	}
	for _, n := range orig.Features[layers.GasNode][:40] {
		at := n.Geometry.(orb.Point)
		ha, err := spatial.Nearby(context.Background(), a, at, 150, []string{layers.GasNode, layers.GasPipe, layers.ProtectiveTarget})
		if err != nil {
			t.Fatal(err)
		}
		hb, _ := spatial.Nearby(context.Background(), b, at, 150, []string{layers.GasNode, layers.GasPipe, layers.ProtectiveTarget})
		ids := func(hs []spatial.Hit) string {
			seen := map[uint64]bool{}
			for _, h := range hs {
				// Pipes split at a tee differ by design, shown above.
				if split[h.Feature.ID] == nil && !slices.Contains(mapsValues(split), h.Feature) {
					seen[h.Feature.ID] = true
				}
			}
			return fmt.Sprint(slices.Sorted(maps.Keys(seen)))
		}
		if ids(ha) != ids(hb) {
			t.Errorf("near node %d: %s imported, %s in the original", n.ID, ids(hb), ids(ha))
		}
	}

	// Importing again gives the same city, byte for byte.
	again, err := cityimport.Import(context.Background(), m, layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := t.TempDir(), t.TempDir()
	city.Write(d1, got, layers.Default())
	city.Write(d2, again, layers.Default())
	for _, f := range []string{"city.json", "gas_pipe.geojson", "gas_node.geojson"} {
		a, _ := os.ReadFile(filepath.Join(d1, f))
		b, _ := os.ReadFile(filepath.Join(d2, f))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs between two imports of the same survey", f)
		}
	}
	if _, err := city.ReadDir(d1, layers.Default(), city.Options{}); err != nil {
		t.Errorf("the imported city does not read back: %v", err)
	}
}

// maxOffset is the largest distance in metres between the vertices of two
// geometries of the same shape.
func maxOffset(a, b orb.Geometry) float64 {
	var pa, pb []orb.Point
	switch a := a.(type) {
	case orb.Point:
		pa, pb = []orb.Point{a}, []orb.Point{b.(orb.Point)}
	case orb.LineString:
		pa, pb = a, b.(orb.LineString)
	}
	if len(pa) != len(pb) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range pa {
		d = max(d, spatial.Metres(pa[i], pb[i]))
	}
	return d
}

func mapsValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// closure is the valves that isolate pipe in c's gas network.
func closure(t *testing.T, c *city.City, pipe uint64) []uint64 {
	t.Helper()
	n, err := spatial.NewNetwork(layers.GasPipe, layers.GasNode, c.Features[layers.GasPipe], c.Features[layers.GasNode], spatial.IsSource)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := n.ValveClosure(pipe, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cl.Valves
}

// A mapping that cannot work is refused with every mistake named at once.
func TestMappingRefused(t *testing.T) {
	bad := `
topology: {snap_m: -1}
layers:
  - source: a.shp
    layer: gas_pipes
    id: {field: ID}
  - source: b.shp
    layer: gas_pipe
    id: {}
    attributes:
      pressure: {field: YL}
      material: {field: CZ, values: {钢管: stainless}}
      pressure_class: {field: YLJB, scale: 10}
  - layer: gas_node
    id: {key: [BH]}
    defaults: {colour: red}
  - source: -overwrite
    layer: gas_node
    id: {key: [BH]}
`
	_, err := cityimport.ReadMapping(strings.NewReader(bad), t.TempDir(), layers.Default())
	var me *cityimport.MappingError
	if !errors.As(err, &me) {
		t.Fatalf("err %v, want a MappingError", err)
	}
	for _, want := range []string{
		"topology.snap_m -1",
		`layer "gas_pipes" is not a layer a city brings`,
		"id says either field",
		`attribute "pressure" is not one of`,
		`maps "钢管" to "stainless", which is not one of steel`,
		"pressure_class is not a number: it cannot be scaled",
		"layers[2]: no source",
		`default "colour" is not an attribute`,
		"layers[3]: a source or source_layer beginning with -",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	if len(me.Problems) != 9 {
		t.Errorf("%d problems, want 9:\n%v", len(me.Problems), err)
	}
	if _, err := cityimport.ReadMapping(strings.NewReader("layers:\n  - source: a.shp\n    layer: gas_pipe\n    id: {field: ID}\n    colour: red\n"), "", layers.Default()); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("an unknown key: %v", err)
	}
}

// A survey that does not fit its mapping is refused with every problem of
// every source at once: values without a mapping (with the closest mapped
// one), fields the source lacks (with the closest it has), ids numbered
// from 0 without an offset, duplicated ids, geometry of the wrong type.
func TestSurveyProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name, fc string) { os.WriteFile(filepath.Join(dir, name), []byte(fc), 0o644) }
	line := `{"type":"LineString","coordinates":[[117.25,31.84],[117.251,31.84]]}`
	write("pipes.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"BH":0,"YLJB":"中压A","CZ":"钢管","GJ":0.2},"geometry":`+line+`},
{"type":"Feature","properties":{"BH":1,"YLJB":"中压 A","CZ":"钢管","GJ":0.2},"geometry":`+line+`},
{"type":"Feature","properties":{"BH":2,"YLJB":"低压","CZ":"钢管","GJ":"二百"},"geometry":`+line+`},
{"type":"Feature","properties":{"BH":2,"YLJB":"低压","CZ":"钢管","GJ":0.2},"geometry":`+line+`},
{"type":"Feature","properties":{"BH":3,"YLJB":"低压","CZ":"钢管","GJ":0.2},"geometry":{"type":"Point","coordinates":[117.25,31.84]}}]}`)
	m := mapping(t, dir, `
layers:
  - source: pipes.geojson
    layer: gas_pipe
    id: {field: BH}
    attributes:
      pressure_class: {field: YLJB, values: {中压A: medium_a, 低压: low}}
      material: {field: CZ, values: {钢管: steel}}
      diameter_mm: {field: GJ, scale: 1000}
      install_year: {field: MSNF_}
`)
	_, err := cityimport.Import(context.Background(), m, layers.Default())
	var refused *city.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err %v, want the problems", err)
	}
	ps := refused.Problems
	kinds := map[city.Kind][]city.Problem{}
	for _, p := range ps {
		kinds[p.Kind] = append(kinds[p.Kind], p)
	}
	check := func(kind city.Kind, index int, says, suggest string) {
		t.Helper()
		for _, p := range kinds[kind] {
			if p.Index == index && strings.Contains(p.String(), says) && p.Suggestion == suggest && p.Severity == city.SeverityError {
				return
			}
		}
		t.Errorf("no %s problem of feature %d saying %q (suggesting %q) among %v", kind, index, says, suggest, ps)
	}
	check(city.KindBadID, 0, "id.offset: 1", "")
	check(city.KindUnmappedValue, 1, `"中压 A" is not among the mapped values (中压A, 低压) (did you mean "中压A"?)`, "中压A")
	check(city.KindWrongType, 2, "二百 is not a number", "")
	check(city.KindDuplicateID, 3, "feature 2's", "")
	check(city.KindWrongGeometry, 4, "a Point where the layer holds LineStrings", "")
	check(city.KindNoField, -1, `no field "MSNF_"`, "")
	if len(ps) != 6 {
		t.Errorf("%d problems, want 6: %v", len(ps), ps)
	}
	if !strings.HasPrefix(err.Error(), "6 errors, 0 warnings; the first: pipes.geojson: feature 0") {
		t.Errorf("the summary: %v", err)
	}
}

// --suggest drafts a mapping from the survey itself: the layer from the
// file's name and geometry, the id field (with its offset when numbered
// from 0), the fields it knows, every value of an enumeration with the
// catalog value it means; filled in where it could not tell, the draft
// imports the survey.
func TestSuggest(t *testing.T) {
	needGDAL(t)
	dir, orig := survey(t)
	draft, err := cityimport.Suggest(context.Background(), []string{filepath.Join(dir, "gas_line.shp"), filepath.Join(dir, "gas.gpkg")}, "", "", layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	text := string(draft)
	for _, want := range []string{
		"layer: gas_pipe", "layer: gas_node", "id: {field: GXBH, offset: 1}", "id: {field: DHBH}",
		"diameter_mm: {field: GJ, scale: 1000}", `"中压A": medium_a`, `"PE管": pe`, `"阀门": valve`, `"三通": tee`,
		"install_year: {field: MSNF}",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the draft lacks %q:\n%s", want, text)
		}
	}
	// The GeoPackage's layer is its only table; the draft names the file.
	filled := strings.ReplaceAll(text, "name: TODO", "name: 滨湖区")
	filled = strings.ReplaceAll(filled, "name_en: TODO", "name_en: Binhu")
	m, err := cityimport.ReadMapping(strings.NewReader(filled), dir, layers.Default())
	if err != nil {
		t.Fatalf("the filled draft: %v\n%s", err, filled)
	}
	got, err := cityimport.Import(context.Background(), m, layers.Default())
	if err != nil {
		t.Fatalf("importing by the draft: %v\n%s", err, filled)
	}
	if len(got.Features[layers.GasNode]) < len(orig.Features[layers.GasNode]) || len(got.Features[layers.GasPipe]) < len(orig.Features[layers.GasPipe]) {
		t.Errorf("by the draft: %d pipes and %d nodes", len(got.Features[layers.GasPipe]), len(got.Features[layers.GasNode]))
	}
}

// Where a drainage survey has no nodes: the pipes meet at manholes made
// where their ends meet, a pipe drawn against its flow (its upstream invert
// below the downstream one) is turned, the survey's wells keep their ids,
// and a pipe drawn through two of them is split at each — all from GeoJSON
// in longitude and latitude, which needs no GDAL.
func TestTopology(t *testing.T) {
	dir := t.TempDir()
	a, b, c := "[117.25,31.84]", "[117.251,31.84]", "[117.252,31.84]"
	write := func(name, fc string) { os.WriteFile(filepath.Join(dir, name), []byte(fc), 0o644) }
	write("drain.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"BH":1,"UP":10.0,"DOWN":9.5},"geometry":{"type":"LineString","coordinates":[`+a+`,`+b+`]}},
{"type":"Feature","properties":{"BH":2,"UP":9.0,"DOWN":9.4},"geometry":{"type":"LineString","coordinates":[`+c+`,[117.2510000001,31.8400000001]]}},
{"type":"Feature","properties":{"BH":3,"UP":9.0,"DOWN":8.0},"geometry":{"type":"LineString","coordinates":[`+c+`,[117.252,31.843]]}}]}`)
	write("wells.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"BH":7,"LX":"检查井"},"geometry":{"type":"Point","coordinates":`+c+`}},
{"type":"Feature","properties":{"BH":8,"LX":"雨水口"},"geometry":{"type":"Point","coordinates":[117.252,31.841]}},
{"type":"Feature","properties":{"BH":9,"LX":"检查井"},"geometry":{"type":"Point","coordinates":[117.2520001,31.842]}}]}`)
	m := mapping(t, dir, `
layers:
  - source: drain.geojson
    layer: drain_pipe
    id: {field: BH}
    attributes:
      up_invert_m: {field: UP}
      down_invert_m: {field: DOWN}
    defaults: {system: rain, diameter_mm: 600, material: concrete, install_year: 2010}
  - source: wells.geojson
    layer: drain_node
    id: {field: BH}
    attributes:
      kind: {field: LX, values: {检查井: manhole, 雨水口: inlet}}
`)
	got, err := cityimport.Import(context.Background(), m, layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[uint64]*layers.Feature{}
	for _, f := range got.Features[layers.DrainNode] {
		nodes[f.ID] = f
	}
	byEnd := map[[2]uint64]*layers.Feature{}
	for _, p := range got.Features[layers.DrainPipe] {
		byEnd[[2]uint64{uint64(p.Props["from_node"].(float64)), uint64(p.Props["to_node"].(float64))}] = p
	}
	if len(got.Features[layers.DrainPipe]) != 5 || len(nodes) != 6 {
		t.Fatalf("%d pipes and %d nodes, want 5 (pipe 3 in three) and 6 (three of the survey, three made)", len(got.Features[layers.DrainPipe]), len(nodes))
	}
	id := func(n uint64) uint64 { return layers.MakeID(15, n) }
	pipe := func(n uint64) *layers.Feature {
		for _, p := range got.Features[layers.DrainPipe] {
			if p.ID == layers.MakeID(14, n) {
				return p
			}
		}
		t.Fatalf("no pipe %d", n)
		return nil
	}
	end := func(p *layers.Feature, k string) *layers.Feature { return nodes[uint64(p.Props[k].(float64))] }
	// Pipe 2 ran uphill as drawn: turned, it flows to the well.
	p2 := pipe(2)
	if p2.Props["up_invert_m"] != 9.4 || p2.Props["down_invert_m"] != 9.0 || end(p2, "to_node").ID != id(7) {
		t.Errorf("pipe 2 against its flow: %v", p2.Props)
	}
	// Pipes 1 and 2 meet at one made manhole, their ends a centimetre apart.
	if mid := end(pipe(1), "to_node"); mid == nil || mid != end(p2, "from_node") || mid.Props["kind"] != "manhole" {
		t.Errorf("pipes 1 and 2 do not meet at a made manhole: %v, %v", pipe(1).Props, p2.Props)
	}
	// Pipe 3 is drawn through wells 8 and 9: three pipes, well to well.
	if p := byEnd[[2]uint64{id(7), id(8)}]; p == nil || p.ID != layers.MakeID(14, 3) {
		t.Errorf("no first part of pipe 3 from well 7 to 8, keeping its id: %v", byEnd)
	}
	if byEnd[[2]uint64{id(8), id(9)}] == nil {
		t.Errorf("no part of pipe 3 from well 8 to 9")
	}
	if nodes[id(8)].Props["kind"] != "inlet" {
		t.Errorf("the survey's inlet is a %v", nodes[id(8)].Props["kind"])
	}
}

// A survey kept in a PostGIS database of the city's own — a table in
// CGCS2000 Gauss-Kruger CM 114E (EPSG:4547), read with a query — and one in
// Xi'an 80 metres with the city's own transformation (a PROJ string with
// +towgs84) both land where they were.
func TestImportFromDatabaseAndXian80(t *testing.T) {
	needGDAL(t)
	ctx := context.Background()
	db := pgtest.URL(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	line := "LINESTRING(114.25 31.84, 114.251 31.84, 114.251 31.841)"
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis;
		CREATE TABLE survey_gas (gxbh integer, yljb text, cz text, gj double precision, msnf integer, geom geometry(LineString, 4547));
		INSERT INTO survey_gas VALUES (1, '中压A', '钢管', 0.3, 2012, ST_Transform(ST_GeomFromText('`+line+`', 4326), 4547)),
		                              (2, '低压', 'PE管', 0.1, 2019, ST_Transform(ST_GeomFromText('LINESTRING(114.251 31.841, 114.252 31.841)', 4326), 4547))`); err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	pg := fmt.Sprintf("PG:host=%s port=%s dbname=%s user=%s password='%s'", u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), u.User.Username(), pass)
	dir := t.TempDir()
	xian := "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +a=6378140 +rf=298.257 +towgs84=-25.8,105.6,60.3,0,0,0,0 +units=m +no_defs"
	os.WriteFile(filepath.Join(dir, "lonlat.geojson"), []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"BH":5,"LX":"阀门"},"geometry":{"type":"Point","coordinates":[114.251,31.841]}}]}`), 0o644)
	ogr(t, "-f", "ESRI Shapefile", filepath.Join(dir, "xian80_valves.shp"), filepath.Join(dir, "lonlat.geojson"), "-s_srs", "EPSG:4326", "-t_srs", xian, "-lco", "ENCODING=GBK")
	// As surveys in Xi'an 80 often come: no .prj, no .cpg.
	os.Remove(filepath.Join(dir, "xian80_valves.prj"))
	os.Remove(filepath.Join(dir, "xian80_valves.cpg"))
	m := mapping(t, dir, fmt.Sprintf(`
layers:
  - source: "%s"
    sql: SELECT gxbh, yljb, cz, gj, msnf, geom FROM survey_gas
    layer: gas_pipe
    id: {field: gxbh}
    attributes:
      pressure_class: {field: yljb, values: {中压A: medium_a, 低压: low}}
      material: {field: cz, values: {钢管: steel, PE管: pe}}
      diameter_mm: {field: gj, scale: 1000}
      install_year: {field: msnf}
    defaults: {pressure_mpa: 0.2}
  - source: xian80_valves.shp
    crs: "%s"
    encoding: GBK
    layer: gas_node
    id: {field: BH}
    attributes:
      kind: {field: LX, values: {阀门: valve}}
`, pg, xian))
	got, err := cityimport.Import(ctx, m, layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	var first *layers.Feature
	for _, p := range got.Features[layers.GasPipe] {
		if p.ID == layers.MakeID(10, 1) {
			first = p
		}
	}
	if first == nil || first.Props["pressure_class"] != "medium_a" || first.Props["diameter_mm"] != 300.0 {
		t.Fatalf("pipes %v", got.Features[layers.GasPipe])
	}
	want := orb.LineString{{114.25, 31.84}, {114.251, 31.84}, {114.251, 31.841}}
	if d := maxOffset(first.Geometry, want); d > 0.01 {
		t.Errorf("the table's pipe is %.3f m from where it was", d)
	}
	valve := layers.MakeID(11, 5)
	if first.Props["to_node"] != float64(valve) {
		t.Errorf("the pipe does not end at the Xi'an 80 valve: %v", first.Props)
	}
	for _, n := range got.Features[layers.GasNode] {
		if n.ID == valve {
			if d := spatial.Metres(n.Geometry.(orb.Point), orb.Point{114.251, 31.841}); d > 0.01 {
				t.Errorf("the Xi'an 80 valve is %.3f m from where it was", d)
			}
		}
	}
}

// A GeoJSON file of the 2008 kind that names its CRS — Gauss-Kruger metres —
// is read in that CRS, through GDAL; one in CRS84 is read as it is.
func TestGeoJSONWithItsCRS(t *testing.T) {
	needGDAL(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lonlat.geojson"), []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"BH":1,"LX":"阀门"},"geometry":{"type":"Point","coordinates":[117.25,31.84]}}]}`), 0o644)
	ogr(t, "-f", "GeoJSON", filepath.Join(dir, "metres.geojson"), filepath.Join(dir, "lonlat.geojson"), "-s_srs", "EPSG:4326", "-t_srs", "EPSG:4548", "-lco", "RFC7946=NO")
	if b, _ := os.ReadFile(filepath.Join(dir, "metres.geojson")); !strings.Contains(string(b), "4548") {
		t.Fatalf("the fixture names no CRS: %s", b)
	}
	for _, file := range []string{"metres.geojson", "lonlat.geojson"} {
		m := mapping(t, dir, `
layers:
  - source: `+file+`
    layer: gas_node
    id: {field: BH}
    attributes:
      kind: {field: LX, values: {阀门: valve}}
`)
		got, err := cityimport.Import(context.Background(), m, layers.Default())
		if err != nil {
			t.Fatal(err)
		}
		if d := spatial.Metres(got.Features[layers.GasNode][0].Geometry.(orb.Point), orb.Point{117.25, 31.84}); d > 0.01 {
			t.Errorf("%s: the valve lands %.1f m from where it is", file, d)
		}
	}
}
