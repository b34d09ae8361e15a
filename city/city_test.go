package city_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/storetest"
)

func TestWriteReadRoundTrip(t *testing.T) {
	cat := layers.Default()
	c := storetest.City()
	dir := t.TempDir()
	if err := city.Write(dir, c, cat); err != nil {
		t.Fatal(err)
	}
	got, err := city.ReadDir(dir, cat, city.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta != c.Meta || got.Count() != c.Count() {
		t.Fatalf("read back %d features, meta %+v; wrote %d, %+v", got.Count(), got.Meta, c.Count(), c.Meta)
	}
	for _, f := range got.Features[layers.GasPipe] {
		if f.ID == layers.MakeID(10, 2) && f.MinZoom != 15 {
			t.Errorf("service pipe minzoom = %d, want 15", f.MinZoom)
		}
		if _, ok := f.Props["minzoom"]; ok {
			t.Error("minzoom left among the attributes")
		}
	}
	// Writing what was read gives the same bytes.
	dir2 := t.TempDir()
	if err := city.Write(dir2, got, cat); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"city.json", layers.GasPipe + ".geojson", layers.Building + ".geojson"} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(dir2, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs after a round trip", name)
		}
	}
}

func TestReadLayerErrors(t *testing.T) {
	cat := layers.Default()
	gas, _ := cat.Layer(layers.GasPipe)
	const props = `"pressure_class":"low","pressure_mpa":0.005,"diameter_mm":110,"material":"pe","install_year":2010,"from_node":1,"to_node":2`
	line := `{"type":"LineString","coordinates":[[117.26,31.84],[117.261,31.84]]}`
	tests := []struct {
		name, body, want string
		index            int
	}{
		{"NotJSON", `{"type":`, "not GeoJSON", -1},
		{"NotCollection", `{"type":"Feature"}`, "want FeatureCollection", -1},
		{"NoID", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + line + `,"properties":{` + props + `}}]}`, "no id", 0},
		{"NegativeID", `{"type":"FeatureCollection","features":[{"type":"Feature","id":-3,"geometry":` + line + `,"properties":{` + props + `}}]}`, "not a positive integer", 0},
		{"NoGeometry", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":null,"properties":{` + props + `}}]}`, "no geometry", 0},
		{"WrongGeometryType", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[117.26,31.84]},"properties":{` + props + `}}]}`, "Point where the layer takes LineString", 0},
		{"EmptyLine", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"LineString","coordinates":[[117.26,31.84]]},"properties":{` + props + `}}]}`, "invalid or empty LineString", 0},
		{"OutOfRange", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"LineString","coordinates":[[517.26,31.84],[117.2,31.8]]},"properties":{` + props + `}}]}`, "invalid or empty", 0},
		{"MissingAttribute", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":` + line + `,"properties":{"pressure_class":"low"}}]}`, `missing required attribute "pressure_mpa"`, 0},
		{"BadEnum", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":` + line + `,"properties":{` + strings.Replace(props, `"low"`, `"ultra"`, 1) + `}}]}`, `"ultra" is not one of`, 0},
		{"WrongType", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":` + line + `,"properties":{` + strings.Replace(props, `110`, `"110"`, 1) + `}}]}`, "is not a number", 0},
		{"BadMinZoom", `{"type":"FeatureCollection","features":[{"type":"Feature","id":2,"geometry":` + line + `,"properties":{"minzoom":99,` + props + `}}]}`, "minzoom", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := city.ReadLayer(strings.NewReader(tt.body), gas)
			var ce *city.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *city.Error", err)
			}
			if ce.Index != tt.index || ce.File != "gas_pipe.geojson" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q (index %d); want %q at index %d", err, ce.Index, tt.want, tt.index)
			}
		})
	}
}

func TestReadDuplicateID(t *testing.T) {
	cat := layers.Default()
	c := storetest.City()
	// The school takes the id of a gas node.
	c.Features[layers.ProtectiveTarget][0].ID = c.Features[layers.GasNode][0].ID
	dir := t.TempDir()
	if err := city.Write(dir, c, cat); err != nil {
		t.Fatal(err)
	}
	_, err := city.ReadDir(dir, cat, city.Options{})
	if err == nil || !strings.Contains(err.Error(), "duplicate id") || !strings.Contains(err.Error(), "protective_target.geojson") {
		t.Errorf("err = %v, want a duplicate id in protective_target.geojson", err)
	}
}

func TestReadMissingNode(t *testing.T) {
	cat := layers.Default()
	c := storetest.City()
	c.Features[layers.GasNode] = c.Features[layers.GasNode][:2] // the service pipe's end is gone
	dir := t.TempDir()
	if err := city.Write(dir, c, cat); err != nil {
		t.Fatal(err)
	}
	_, err := city.ReadDir(dir, cat, city.Options{})
	if err == nil || !strings.Contains(err.Error(), "gas_pipe.geojson: feature 1: to_node") || !strings.Contains(err.Error(), "not a feature of gas_node") {
		t.Errorf("err = %v, want gas_pipe feature 1's to_node named", err)
	}
}

func FuzzReadLayer(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[117.2,31.8]},"properties":{"kind":"valve"}}]}`)
	f.Add(`{"type":"FeatureCollection","features":[]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":"7","geometry":{"type":"MultiPoint","coordinates":[]},"properties":null}]}`)
	l, _ := layers.Default().Layer(layers.GasNode)
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := city.ReadLayer(strings.NewReader(s), l)
		if err != nil {
			return
		}
		for _, ft := range fs {
			if ft.ID == 0 || ft.Geometry == nil || ft.Props["kind"] == nil {
				t.Fatalf("accepted a feature without id, geometry or kind: %+v", ft)
			}
		}
	})
}
