package city_test

import (
	"bytes"
	"errors"
	"fmt"
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
		name, body string
		kind       city.Kind
		want       string
		index      int
	}{
		{"NotJSON", `{"type":`, city.KindUnreadable, "not GeoJSON: line 1", -1},
		{"NotCollection", `{"type":"Feature"}`, city.KindUnreadable, "want FeatureCollection", -1},
		{"NoID", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + line + `,"properties":{` + props + `}}]}`, city.KindBadID, "no id", 0},
		{"NegativeID", `{"type":"FeatureCollection","features":[{"type":"Feature","id":-3,"geometry":` + line + `,"properties":{` + props + `}}]}`, city.KindBadID, "not a positive integer", 0},
		{"NoGeometry", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":null,"properties":{` + props + `}}]}`, city.KindNoGeometry, "no geometry", 0},
		{"WrongGeometryType", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[117.26,31.84]},"properties":{` + props + `}}]}`, city.KindWrongGeometry, "Point where the layer takes LineString", 0},
		{"OnePointLine", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"LineString","coordinates":[[117.26,31.84]]},"properties":{` + props + `}}]}`, city.KindInvalidGeometry, "a LineString of 1 point; a line needs at least 2", 0},
		{"ZeroLength", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"LineString","coordinates":[[117.26,31.84],[117.26,31.84]]},"properties":{` + props + `}}]}`, city.KindZeroLength, "length 0", 0},
		{"OutOfRange", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"LineString","coordinates":[[517.26,31.84],[117.2,31.8]]},"properties":{` + props + `}}]}`, city.KindBadCoordinates, "longitude 517.26 (of [517.26, 31.84]) is outside -180 to 180", 0},
		{"MissingAttribute", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":` + line + `,"properties":{` + strings.Replace(props, `"pressure_mpa":0.005,`, ``, 1) + `}}]}`, city.KindMissingAttribute, `missing required attribute "pressure_mpa"`, 0},
		{"BadEnum", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":` + line + `,"properties":{` + strings.Replace(props, `"low"`, `"ultra"`, 1) + `}}]}`, city.KindUnknownValue, `"ultra" is not one of high_a,`, 0},
		{"WrongType", `{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":` + line + `,"properties":{` + strings.Replace(props, `110`, `"110"`, 1) + `}}]}`, city.KindWrongType, `"110" (a string) is not a number: write it without quotes`, 0},
		{"BadMinZoom", `{"type":"FeatureCollection","features":[{"type":"Feature","id":2,"geometry":` + line + `,"properties":{"minzoom":99,` + props + `}}]}`, city.KindBadMinZoom, "minzoom 99 is not a zoom", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, ps := city.ReadLayer(strings.NewReader(tt.body), gas)
			if len(ps) != 1 || len(fs) != 0 {
				t.Fatalf("%d features, problems %v; want one problem", len(fs), ps)
			}
			p := ps[0]
			if p.Kind != tt.kind || p.Severity != city.SeverityError || p.Index != tt.index || p.File != "gas_pipe.geojson" || p.Layer != layers.GasPipe || !strings.Contains(p.Reason, tt.want) {
				t.Errorf("problem %+v; want a %s error %q at index %d", p, tt.kind, tt.want, tt.index)
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
	var refused *city.RefusedError
	if !errors.As(err, &refused) || len(refused.Problems) != 1 || refused.Problems[0].Kind != city.KindDuplicateID {
		t.Fatalf("err = %v, want one duplicate id", err)
	}
	if !strings.Contains(err.Error(), "duplicate id") || !strings.Contains(err.Error(), "protective_target.geojson") {
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
	_, ps := city.CheckDir(dir, cat, city.Options{})
	if len(ps) != 1 {
		t.Fatalf("problems %v, want one", ps)
	}
	p := ps[0]
	if p.Kind != city.KindUnknownNode || p.File != "gas_pipe.geojson" || p.Index != 1 || p.Attribute != layers.ToNode ||
		!strings.Contains(p.Reason, fmt.Sprintf("to_node %d is not a feature of gas_node", layers.MakeID(11, 3))) {
		t.Errorf("problem %+v, want gas_pipe feature 1's to_node named", p)
	}
}

func FuzzReadLayer(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[117.2,31.8]},"properties":{"kind":"valve"}}]}`)
	f.Add(`{"type":"FeatureCollection","features":[]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","id":"7","geometry":{"type":"MultiPoint","coordinates":[]},"properties":null}]}`)
	l, _ := layers.Default().Layer(layers.GasNode)
	f.Fuzz(func(t *testing.T, s string) {
		fs, ps := city.ReadLayer(strings.NewReader(s), l)
		for _, p := range ps {
			if p.Reason == "" || (p.Severity != city.SeverityError && p.Severity != city.SeverityWarning) || p.Index < -1 {
				t.Fatalf("a problem without a reason or severity: %+v", p)
			}
		}
		for _, ft := range fs {
			if ft.ID == 0 || ft.Geometry == nil || ft.Props["kind"] == nil {
				t.Fatalf("accepted a feature without id, geometry or kind: %+v", ft)
			}
		}
	})
}
