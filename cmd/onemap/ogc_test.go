package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// ogrinfo returns the path of GDAL's ogrinfo (Debian's gdal-bin). Without
// it the test skips, except where ONEMAP_REQUIRE_ALL is set (CI), where it
// fails.
func ogrinfo(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("ONEMAP_REQUIRE_ALL") != "" {
			t.Fatal("ogrinfo is not installed; scripts/test installs gdal-bin")
		}
		t.Skip("ogrinfo is not installed; run scripts/test to install gdal-bin")
	}
	return path
}

// runOgrinfo runs ogrinfo with args and returns what it printed.
func runOgrinfo(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=60", "CPL_DEBUG=OFF")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// catalogCounts are the features of each layer, as /catalog has the
// store count them.
func catalogCounts(t *testing.T, base string) map[string]int {
	t.Helper()
	resp, err := http.Get(base + "/catalog")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cat struct {
		Layers []struct {
			ID    string
			Count int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&cat); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range cat.Layers {
		out[l.ID] = l.Count
	}
	return out
}

// checkWithGDAL opens the server's /ogc with GDAL: every stored layer is
// listed with its geometry type, a layer's summary has the store's count
// and the catalog's attributes but the personal ones, and reading a layer
// whole follows the next links to every feature.
func checkWithGDAL(t *testing.T, base string) {
	bin := ogrinfo(t)
	src := "OAPIF:" + base + "/ogc"
	counts := catalogCounts(t, base)
	cat := layers.Default()

	list := runOgrinfo(t, bin, "-ro", "-so", src)
	line := regexp.MustCompile(`(?m)^\d+: (\S+) \(title: [^)]*\) \(([^)]*)\)$`)
	var got, want []string
	gdalType := map[layers.GeomType]string{layers.Point: "Point", layers.LineString: "Line String", layers.Polygon: "Polygon"}
	types := map[string]string{}
	for _, m := range line.FindAllStringSubmatch(list, -1) {
		got = append(got, m[1])
		types[m[1]] = m[2]
	}
	for _, l := range cat.Layers() {
		if l.Derived {
			continue
		}
		want = append(want, l.ID)
		if counts[l.ID] > 0 && types[l.ID] != gdalType[l.Geometry] {
			t.Errorf("GDAL gives %s the geometry %q, want %q", l.ID, types[l.ID], gdalType[l.Geometry])
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("GDAL lists %v, want the stored layers %v:\n%s", got, want, list)
	}

	count := regexp.MustCompile(`(?m)^Feature Count: (\d+)$`)
	field := regexp.MustCompile(`(?m)^(\w+): (?:String|Integer|Integer64|Real|Date|DateTime)(?:\(\w+\))? \(`)
	for _, id := range []string{layers.GasPipe, layers.ProtectiveTarget, layers.Bridge, layers.Sensor, layers.Building} {
		l, _ := cat.Layer(id)
		out := runOgrinfo(t, bin, "-ro", "-al", "-so", src, id)
		m := count.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s: no feature count:\n%s", id, out)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n != counts[id] || n == 0 {
			t.Errorf("%s: GDAL counts %d features, the store %d", id, n, counts[id])
		}
		var names, wantNames []string
		for _, f := range field.FindAllStringSubmatch(out, -1) {
			names = append(names, f[1])
		}
		for _, f := range l.Fields {
			if !f.Personal {
				wantNames = append(wantNames, f.Name)
			}
		}
		slices.Sort(names)
		slices.Sort(wantNames)
		if !slices.Equal(names, wantNames) {
			t.Errorf("%s: GDAL sees the attributes %v, want %v", id, names, wantNames)
		}
	}

	// Whole layers, page after page (100 a page): bridges on one page,
	// protective targets over four.
	for _, id := range []string{layers.Bridge, layers.ProtectiveTarget} {
		out := runOgrinfo(t, bin, "-ro", "-al", "-q", src, id)
		if n := strings.Count(out, "OGRFeature("+id+")"); n != counts[id] {
			t.Errorf("%s: GDAL read %d features, the store has %d", id, n, counts[id])
		}
		if id == layers.ProtectiveTarget && (strings.Contains(out, "contact") || !strings.Contains(out, "name (String) = ")) {
			t.Errorf("%s: read whole, the attributes hold a contact or no name:\n%.2000s", id, out)
		}
	}
}

// GDAL (ogrinfo's OAPIF driver, as QGIS reads OGC API – Features) opens
// every layer of the sample city on the memory store.
func TestOGCWithGDAL(t *testing.T) {
	ogrinfo(t)
	checkWithGDAL(t, startServer(t))
}

// The same on PostGIS, whose items answer as the memory store's do.
func TestOGCWithGDALOnPostGIS(t *testing.T) {
	ogrinfo(t)
	db := pgtest.URL(t)
	if err := run(context.Background(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("load: %v", err)
	}
	pg, mem := startServer(t, "--db", db), startServer(t)
	checkWithGDAL(t, pg)
	for _, q := range []string{
		"gas_pipe/items?limit=50&pressure_class=medium_a",
		"gas_pipe/items?limit=20&offset=40&material=pe&datetime=2000-01-01/..",
		"building/items?bbox=117.255,31.835,117.265,31.845&limit=30",
		"sensor/items?datetime=2021-01-01/2021-12-31&domain=gas&limit=10",
	} {
		ids := func(base string) (string, []float64) {
			resp, err := http.Get(base + "/ogc/collections/" + q)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p struct {
				NumberMatched int
				Features      []struct{ ID float64 }
			}
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", q, resp.StatusCode)
			}
			json.NewDecoder(resp.Body).Decode(&p)
			var out []float64
			for _, f := range p.Features {
				out = append(out, f.ID)
			}
			return strconv.Itoa(p.NumberMatched), out
		}
		nm, a := ids(mem)
		np, b := ids(pg)
		if nm != np || !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s: memory %s matched %v, PostGIS %s matched %v", q, nm, a, np, b)
		}
	}
}
