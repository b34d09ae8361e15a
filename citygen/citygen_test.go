package citygen

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

var update = flag.Bool("update", false, "regenerate the committed sample city")

// sample is the committed sample city, relative to this package.
const sample = "../data/sample-city"

var sampleCity struct {
	dir string
	c   *city.City
}

// TestMain removes the default city that the tests share.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sampleCity.dir != "" {
		os.RemoveAll(sampleCity.dir)
	}
	os.Exit(code)
}

// defaultCity writes the city of the default seed at scale 1, once, to a
// directory that outlives any one test, and reads it back with the checks
// of city.Read.
func defaultCity(t *testing.T) (string, *city.City) {
	t.Helper()
	if sampleCity.c == nil {
		dir, err := os.MkdirTemp("", "citygen")
		if err != nil {
			t.Fatal(err)
		}
		if err := Write(dir, Options{Seed: DefaultSeed, Scale: 1}); err != nil {
			t.Fatal(err)
		}
		c, err := city.Read(os.DirFS(dir), layers.Default())
		if err != nil {
			t.Fatal(err)
		}
		sampleCity.dir, sampleCity.c = dir, c
	}
	return sampleCity.dir, sampleCity.c
}

func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".geojson") && e.Name() != "city.json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestScaleError(t *testing.T) {
	if _, err := Generate(Options{Seed: 1}); err == nil {
		t.Error("scale 0 accepted")
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := defaultCity(t)
	b := t.TempDir()
	if err := Write(b, Options{Seed: DefaultSeed, Scale: 1}); err != nil {
		t.Fatal(err)
	}
	fa, fb := files(t, a), files(t, b)
	if len(fa) < 20 || len(fa) != len(fb) {
		t.Fatalf("%d files, then %d", len(fa), len(fb))
	}
	for name, x := range fa {
		if !bytes.Equal(x, fb[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	c := t.TempDir()
	if err := Write(c, Options{Seed: 2, Scale: 1}); err != nil {
		t.Fatal(err)
	}
	fc := files(t, c)
	if bytes.Equal(fa[layers.GasPipe+".geojson"], fc[layers.GasPipe+".geojson"]) || bytes.Equal(fa[layers.Building+".geojson"], fc[layers.Building+".geojson"]) {
		t.Error("seeds 1 and 2 give the same city")
	}
}

// TestSampleCity checks that the committed sample city is what the
// generator makes with the default seed. After a change to the generator,
// regenerate it with `go test ./citygen -run TestSampleCity -update`.
func TestSampleCity(t *testing.T) {
	if *update {
		if err := Write(sample, Options{Seed: DefaultSeed, Scale: 1}); err != nil {
			t.Fatal(err)
		}
	}
	dir, _ := defaultCity(t)
	got, want := files(t, dir), files(t, sample)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			t.Errorf("%s/%s is not generated any more", sample, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if !bytes.Equal(got[n], want[n]) {
			t.Errorf("%s/%s differs from what the generator makes", sample, n)
		}
	}
}

func TestNetworks(t *testing.T) {
	_, c := defaultCity(t)
	cat := layers.Default()
	for _, l := range cat.Layers() {
		if l.Nodes == "" {
			continue
		}
		t.Run(l.ID, func(t *testing.T) {
			nodes := map[uint64]*layers.Feature{}
			for _, n := range c.Features[l.Nodes] {
				nodes[n.ID] = n
			}
			parent := map[uint64]uint64{}
			find := func(x uint64) uint64 {
				for parent[x] != 0 && parent[x] != x {
					x = parent[x]
				}
				return x
			}
			used := map[uint64]bool{}
			for _, p := range c.Features[l.ID] {
				ends := [2]uint64{uint64(p.Props[layers.FromNode].(float64)), uint64(p.Props[layers.ToNode].(float64))}
				ls := p.Geometry.(orb.LineString)
				for k, id := range ends {
					n, ok := nodes[id]
					if !ok {
						t.Fatalf("pipe %d: end %d is not a %s", p.ID, id, l.Nodes)
					}
					end := ls[0]
					if k == 1 {
						end = ls[len(ls)-1]
					}
					if n.Geometry.(orb.Point) != end {
						t.Errorf("pipe %d: end %d is not at its node", p.ID, id)
					}
					used[id] = true
				}
				if ends[0] == ends[1] {
					t.Errorf("pipe %d is a loop on one node", p.ID)
				}
				a, b := find(ends[0]), find(ends[1])
				if a != b {
					parent[a] = b
				}
				if l.ID == layers.GasPipe {
					checkPressure(t, p)
				}
				if l.ID == layers.DrainPipe && !(p.Props["depth_m"].(float64) > 0.5) {
					t.Errorf("drain %d: depth %v", p.ID, p.Props["depth_m"])
				}
				if l.ID == layers.DrainPipe && !(p.Props["up_invert_m"].(float64) > p.Props["down_invert_m"].(float64)) {
					t.Errorf("drain %d: inverts %v → %v do not fall", p.ID, p.Props["up_invert_m"], p.Props["down_invert_m"])
				}
			}
			comps := map[uint64]bool{}
			for id := range used {
				comps[find(id)] = true
			}
			max := 4
			if l.ID == layers.DrainPipe {
				max = 12 // one per outfall and pump station
			}
			if len(comps) > max {
				t.Errorf("%d connected components, want at most %d", len(comps), max)
			}
			kinds := map[string]int{}
			for _, n := range c.Features[l.Nodes] {
				kinds[n.Props["kind"].(string)]++
			}
			t.Logf("%d pipes, %d nodes, %d components, node kinds %v", len(c.Features[l.ID]), len(nodes), len(comps), kinds)
			if l.ID == layers.GasPipe || l.ID == layers.WaterPipe || l.ID == layers.HeatPipe {
				if kinds["valve"] < 50 {
					t.Errorf("%d valves", kinds["valve"])
				}
			}
		})
	}
}

// pressureRange is each gas pressure class's range in MPa (GB 50028).
var pressureRange = map[string][2]float64{
	"low": {0, 0.01}, "medium_b": {0.01, 0.2}, "medium_a": {0.2, 0.4}, "subhigh_b": {0.4, 0.8},
	"subhigh_a": {0.8, 1.6}, "high_b": {1.6, 2.5}, "high_a": {2.5, 4.0},
}

func checkPressure(t *testing.T, p *layers.Feature) {
	t.Helper()
	pc, mpa := p.Props["pressure_class"].(string), p.Props["pressure_mpa"].(float64)
	rg := pressureRange[pc]
	if !(mpa > rg[0] && mpa <= rg[1]) {
		t.Errorf("gas pipe %d: %v MPa is not %s", p.ID, mpa, pc)
	}
	mat := p.Props["material"]
	if (pc == "low" && mat != "pe") || (pc != "low" && mat != "steel") {
		t.Errorf("gas pipe %d: %s of %v", p.ID, pc, mat)
	}
}

// metres is the length of a line in metres, equirectangular at the city.
func metres(ls orb.LineString) float64 {
	s := 0.0
	for i := 0; i+1 < len(ls); i++ {
		dx := (ls[i+1][0] - ls[i][0]) * mPerDegLon
		dy := (ls[i+1][1] - ls[i][1]) * mPerDegLat
		s += math.Hypot(dx, dy)
	}
	return s
}

func TestLengths(t *testing.T) {
	_, c := defaultCity(t)
	for _, l := range []string{layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.HeatPipe, layers.PowerDuct, layers.TelecomDuct, layers.UtilityTunnel, layers.Road} {
		km := 0.0
		for _, f := range c.Features[l] {
			km += metres(f.Geometry.(orb.LineString)) / 1000
		}
		t.Logf("%s: %.1f km", l, km)
		if (l == layers.GasPipe || l == layers.WaterPipe || l == layers.DrainPipe) && km < 120 {
			t.Errorf("%s: %.1f km, want well over 100", l, km)
		}
	}
}

func TestBridges(t *testing.T) {
	_, c := defaultCity(t)
	bs := c.Features[layers.Bridge]
	if len(bs) < 6 {
		t.Fatalf("%d bridges", len(bs))
	}
	kinds := map[string]int{}
	long := false
	for _, b := range bs {
		st := b.Props["structure"].(string)
		kinds[st]++
		if st == "cable_stayed" && b.Props["main_span_m"].(float64) > 150 {
			long = true
		}
		if b.Props["length_m"].(float64) <= b.Props["main_span_m"].(float64) && st != "beam" {
			t.Errorf("%s: length %v ≤ main span %v", b.Props["name"], b.Props["length_m"], b.Props["main_span_m"])
		}
	}
	if !long || kinds["tied_arch"] == 0 || kinds["arch"] == 0 || kinds["beam"] == 0 {
		t.Errorf("bridge structures %v", kinds)
	}
}

func TestIDsUnique(t *testing.T) {
	c, err := Generate(Options{Seed: DefaultSeed, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]string{}
	for l, fs := range c.Features {
		for _, f := range fs {
			if other, dup := seen[f.ID]; dup {
				t.Fatalf("id %d in %s and %s", f.ID, l, other)
			}
			seen[f.ID] = l
		}
	}
}

// TestGasNeighbourhood counts, with a brute-force grid, the underground
// spaces within 12.5 m of a gas pipe.
func TestGasNeighbourhood(t *testing.T) {
	_, c := defaultCity(t)
	loc := func(p orb.Point) orb.Point { return orb.Point{(p[0] - lon0) * mPerDegLon, (p[1] - lat0) * mPerDegLat} }
	locLine := func(f *layers.Feature) orb.LineString {
		var out orb.LineString
		for _, p := range f.Geometry.(orb.LineString) {
			out = append(out, loc(p))
		}
		return out
	}
	var gas []*layers.Feature
	for _, f := range c.Features[layers.GasPipe] {
		gas = append(gas, &layers.Feature{Geometry: locLine(f)})
	}
	ix := newSegIndex(gas, 100)
	want := map[string]int{layers.DrainPipe: 500, layers.DrainNode: 500, layers.PowerDuct: 100, layers.TelecomDuct: 100, layers.UtilityTunnel: 20}
	for _, l := range []string{layers.DrainPipe, layers.DrainNode, layers.PowerDuct, layers.TelecomDuct, layers.UtilityTunnel} {
		n := 0
		for _, f := range c.Features[l] {
			if f.Layer == layers.DrainNode && f.Props["kind"] != "manhole" {
				continue
			}
			switch g := f.Geometry.(type) {
			case orb.Point:
				if ix.near(loc(g), 12.5) {
					n++
				}
			case orb.LineString:
				ls := locLine(f)
				if ix.nearLine(ls[0], ls[len(ls)-1], 12.5) {
					n++
				}
			}
		}
		t.Logf("%s within 12.5 m of a gas pipe: %d of %d", l, n, len(c.Features[l]))
		if n < want[l] {
			t.Errorf("%s: %d within 12.5 m of gas, want at least %d", l, n, want[l])
		}
	}
}

func TestCounts(t *testing.T) {
	_, c := defaultCity(t)
	for _, l := range layers.Default().Layers() {
		t.Logf("%-18s %6d", l.ID, len(c.Features[l.ID]))
	}
	if n := len(c.Features[layers.Building]); n < 2000 {
		t.Errorf("%d buildings", n)
	}
	if n := len(c.Features[layers.Sensor]); n < 2000 {
		t.Errorf("%d sensors", n)
	}
	metrics := map[string]bool{}
	for _, m := range Metrics {
		metrics[m] = true
	}
	for _, s := range c.Features[layers.Sensor] {
		for _, m := range strings.Split(s.Props["metrics"].(string), ",") {
			if !metrics[m] {
				t.Errorf("sensor %v: metric %q is not in Metrics", s.Props["code"], m)
			}
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(Options{Seed: DefaultSeed, Scale: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
