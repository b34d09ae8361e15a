package cityimport_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/citygen"
	"github.com/onemap/onemap/cityimport"
	"github.com/onemap/onemap/layers"
)

// surveyCodes are the survey's field names (at most ten characters, as a
// Shapefile has them) for the catalog's attributes of pipes and nodes.
var surveyCodes = map[string]string{
	"pressure_class": "YLJB", "pressure_mpa": "SJYL", "diameter_mm": "GJ", "material": "GXCZ", "install_year": "MSNF",
	"depth_m": "MS", "length_m": "CD", "road": "SZDL", "owner": "QSDW", "in_tunnel": "RL", "class": "GXLB",
	"system": "PSTZ", "up_invert_m": "QDGC", "down_invert_m": "ZDGC", "line": "GHSX", "leak_count": "XLCS",
	"kind": "LX", "name": "MC", "valve_well": "FMJ", "ground_elev_m": "DMGC",
}

// benchSurvey is a survey of a generated city's four networks written to
// disk, the mapping that imports it and what the city held.
type benchSurvey struct {
	mapping *cityimport.Mapping
	ids     map[string]map[uint64]bool // the city's ids by layer
	count   int                        // features of the survey
	size    int64                      // bytes of its files
}

// writeSurvey writes the gas, water, drainage and heating pipes and nodes
// of a generated city at scale as a city keeps them, as survey does for
// the sample's gas: pipes as Shapefiles in CGCS2000 / 3-degree
// Gauss-Kruger CM 117E (EPSG:4548) with GBK text, the survey's ten-
// character field names and its words for the catalog's values, diameters
// in metres, numbered from 0 and without their end nodes; each network's
// nodes as a GeoPackage in CGCS2000 (EPSG:4490).
func writeSurvey(b *testing.B, scale int) *benchSurvey {
	b.Helper()
	cat := layers.Default()
	c, err := citygen.Generate(citygen.Options{Seed: citygen.DefaultSeed, Scale: scale})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	s := &benchSurvey{ids: map[string]map[uint64]bool{}}
	var rules []map[string]any
	mask := uint64(1<<layers.IDBits - 1)
	for _, network := range cityimport.BenchNetworks {
		pipes, _ := cat.Layer(network)
		nodes, _ := cat.Layer(pipes.Nodes)
		for _, l := range []*layers.Layer{pipes, nodes} {
			isPipe := l == pipes
			idField, offset := "DHBH", uint64(0)
			if isPipe {
				idField, offset = "GXBH", 1 // the survey numbers its pipes from 0
			}
			// The survey has the attributes the city's features have.
			has := map[string]bool{}
			for _, f := range c.Features[l.ID] {
				for k := range f.Props {
					has[k] = true
				}
			}
			attrs := map[string]any{}
			var fields []layers.Field
			for _, fd := range l.Fields {
				if fd.Name == layers.FromNode || fd.Name == layers.ToNode || fd.Personal || !has[fd.Name] {
					continue
				}
				code, ok := surveyCodes[fd.Name]
				if !ok {
					b.Fatalf("%s.%s has no survey field name in surveyCodes", l.ID, fd.Name)
				}
				rule := map[string]any{"field": code}
				if fd.Name == "diameter_mm" {
					rule["scale"] = 1000
				}
				if len(fd.Values) > 0 {
					values := map[string]string{}
					for _, v := range fd.Values {
						values[fd.ValueTitle(v).Zh] = v
					}
					rule["values"] = values
				}
				attrs[fd.Name], fields = rule, append(fields, fd)
			}
			ids := map[uint64]bool{}
			gj := filepath.Join(dir, l.ID+".geojson")
			writeFeatures(b, gj, c.Features[l.ID], func(f *layers.Feature) map[string]any {
				ids[f.ID] = true
				p := map[string]any{idField: f.ID&mask - offset}
				for _, fd := range fields {
					v, ok := f.Props[fd.Name]
					if !ok || v == nil {
						continue
					}
					switch {
					case fd.Name == "diameter_mm":
						v = toFloat(b, v) / 1000
					case len(fd.Values) > 0:
						v = fd.ValueTitle(v.(string)).Zh
					case fd.Type == layers.Boolean:
						v = map[bool]string{true: "是", false: "否"}[v.(bool)]
					}
					p[surveyCodes[fd.Name]] = v
				}
				return p
			})
			s.ids[l.ID], s.count = ids, s.count+len(ids)
			rule := map[string]any{"layer": l.ID, "id": map[string]any{"field": idField, "offset": offset}, "attributes": attrs}
			if isPipe {
				name := strings.TrimSuffix(l.ID, "_pipe") + "_line.shp"
				ogr(b, "-f", "ESRI Shapefile", filepath.Join(dir, name), gj, "-s_srs", "EPSG:4326", "-t_srs", "EPSG:4548", "-lco", "ENCODING=GBK")
				rule["source"] = name
			} else {
				name := strings.TrimSuffix(l.ID, "_node") + ".gpkg"
				table := strings.TrimSuffix(l.ID, "_node") + "_point"
				ogr(b, "-f", "GPKG", filepath.Join(dir, name), gj, "-nln", table, "-s_srs", "EPSG:4326", "-t_srs", "EPSG:4490")
				rule["source"], rule["source_layer"] = name, table
			}
			os.Remove(gj)
			rules = append(rules, rule)
		}
	}
	text, _ := json.Marshal(map[string]any{"city": map[string]any{"name": "滨湖区", "name_en": "Binhu District"},
		"encoding": "GBK", "topology": map[string]any{"snap_m": 0.5}, "layers": rules})
	m, err := cityimport.ReadMapping(strings.NewReader(string(text)), dir, cat)
	if err != nil {
		b.Fatalf("%v\n%s", err, text)
	}
	s.mapping = m
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			s.size += info.Size()
		}
	}
	return s
}

// writeFeatures writes fs as a GeoJSON FeatureCollection in longitude and
// latitude, a feature at a time.
func writeFeatures(b *testing.B, path string, fs []*layers.Feature, props func(*layers.Feature) map[string]any) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	w.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, ft := range fs {
		if i > 0 {
			w.WriteString(",")
		}
		if err := enc.Encode(map[string]any{"type": "Feature", "properties": props(ft), "geometry": orbJSON(ft.Geometry)}); err != nil {
			b.Fatal(err)
		}
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkImportShapefiles imports a survey of a generated city's four
// networks at SCALE (see writeSurvey; making it is not timed) through a
// mapping of its eight layers: ogr2ogr reads each Shapefile and
// GeoPackage and transforms it to longitude and latitude, the features are
// mapped to the catalog's attributes and the networks' topology is built.
// It reports the survey's features imported a second, the heap's peak
// (sampled every 10 ms) and the largest resident memory of an ogr2ogr the
// import ran (measured by GNU time around each). Each import must hold
// every feature of the city, and no node the city does not have.
func BenchmarkImportShapefiles(b *testing.B) {
	needGDAL(b)
	scale := cityimport.BenchScale(b)
	t0 := time.Now()
	s := writeSurvey(b, scale)
	b.Logf("scale %d: a survey of %d features, %.1f MB, written in %.1f s", scale, s.count, float64(s.size)/1e6, time.Since(t0).Seconds())
	rssLog := ""
	if real, err := exec.LookPath("ogr2ogr"); err == nil && exists("/usr/bin/time") {
		dir := b.TempDir()
		rssLog = filepath.Join(dir, "rss")
		wrapper := filepath.Join(dir, "ogr2ogr")
		script := fmt.Sprintf("#!/bin/sh\nexec /usr/bin/time -a -o '%s' -f '%%e %%M' '%s' \"$@\"\n", rssLog, real)
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			b.Fatal(err)
		}
		old := cityimport.Ogr2ogr
		cityimport.Ogr2ogr = wrapper
		b.Cleanup(func() { cityimport.Ogr2ogr = old })
	} else {
		b.Log("no /usr/bin/time: the resident memory of ogr2ogr is not measured")
	}
	cat := layers.Default()
	var took time.Duration
	var peak uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		stop := cityimport.SampleHeap()
		b.StartTimer()
		start := time.Now()
		c, err := cityimport.Import(context.Background(), s.mapping, cat)
		took += time.Since(start)
		b.StopTimer()
		peak = max(peak, stop())
		if err != nil {
			b.Fatal(err)
		}
		for l, ids := range s.ids {
			got := map[uint64]bool{}
			for _, f := range c.Features[l] {
				got[f.ID] = true
			}
			missing := 0
			for id := range ids {
				if !got[id] {
					missing++
				}
			}
			nl, _ := cat.Layer(l)
			if missing > 0 || nl.Geometry == layers.Point && len(got) != len(ids) {
				b.Fatalf("%s: %d features imported, %d of the city's %d missing", l, len(got), missing, len(ids))
			}
		}
		c = nil
		b.StartTimer()
	}
	b.ReportMetric(float64(s.count)*float64(b.N)/took.Seconds(), "features/s")
	b.ReportMetric(float64(s.count), "features")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	if rssLog != "" {
		data, _ := os.ReadFile(rssLog)
		var most, runs int
		var secs float64
		for _, line := range strings.Split(string(data), "\n") {
			var e float64
			var kb int
			if _, err := fmt.Sscanf(line, "%g %d", &e, &kb); err == nil {
				secs, most, runs = secs+e, max(most, kb), runs+1
			}
		}
		if runs != 8*b.N {
			b.Fatalf("GNU time measured %d runs of ogr2ogr, want %d:\n%s", runs, 8*b.N, data)
		}
		b.ReportMetric(secs/float64(b.N), "ogr2ogr-s/op")
		b.ReportMetric(float64(most)/1024, "ogr2ogr-peak-rss-MB")
	}
}

// toFloat is a generated number, an int or a float64, as a float64.
func toFloat(b *testing.B, v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	b.Fatalf("%v (%T) is not a number", v, v)
	return 0
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
