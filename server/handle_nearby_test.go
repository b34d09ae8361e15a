package server

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
)

type nearbyAnswer struct {
	Features []struct {
		ID        uint64
		Layer     string
		Name      string
		DistanceM float64 `json:"distance_m"`
		Closest   [2]float64
	}
}

func TestNearby(t *testing.T) {
	ts := testServer(t)
	// From the centre, the school lies about 70 m north-east; the gas pipe
	// runs through the centre.
	url := ts.URL + "/api/v1/nearby?lon=" + strconv.FormatFloat(centre[0], 'f', -1, 64) + "&lat=" + strconv.FormatFloat(centre[1], 'f', -1, 64)
	var a nearbyAnswer
	resp := get(t, url+"&radius=100")
	if err := json.Unmarshal(body(t, resp), &a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	if len(a.Features) != 1 || a.Features[0].ID != layers.MakeID(22, 1) || a.Features[0].Name != "第一小学" {
		t.Fatalf("features = %+v, want the school alone (default layers)", a.Features)
	}
	_, want := spatial.NewPlane(centre).Closest(near(0.0005, 0.0005), centre)
	if math.Abs(a.Features[0].DistanceM-want) > 0.01 {
		t.Errorf("school at %v m, want %.2f", a.Features[0].DistanceM, want)
	}

	a = nearbyAnswer{}
	json.Unmarshal(body(t, get(t, url+"&radius=100&layers=gas_pipe,protective_target,water_pipe")), &a)
	if len(a.Features) != 3 || a.Features[0].DistanceM != 0 || a.Features[2].Layer != layers.ProtectiveTarget {
		t.Errorf("features = %+v, want both pipes at 0 m and then the school", a.Features)
	}
	a = nearbyAnswer{}
	json.Unmarshal(body(t, get(t, url+"&radius=50")), &a)
	if len(a.Features) != 0 {
		t.Errorf("within 50 m: %+v, want nothing", a.Features)
	}
}

func TestFeatureNearby(t *testing.T) {
	ts := testServer(t)
	pipe := strconv.FormatUint(layers.MakeID(10, 1), 10)
	var a nearbyAnswer
	resp := get(t, ts.URL+"/api/v1/features/"+pipe+"/nearby?radius=100&layers=gas_pipe,gas_node,protective_target")
	json.Unmarshal(body(t, resp), &a)
	if resp.StatusCode != 200 || len(a.Features) != 2 {
		t.Fatalf("%d: %+v, want the valve and the school, not the pipe itself", resp.StatusCode, a.Features)
	}
	if a.Features[0].Layer != layers.GasNode || a.Features[0].DistanceM != 0 || a.Features[1].Layer != layers.ProtectiveTarget {
		t.Errorf("features = %+v", a.Features)
	}
	// The school is measured from the pipe's line, not its middle.
	_, want := spatial.NewPlane(centre).Closest(near(0.0005, 0.0005), near(0.0005, 0))
	if math.Abs(a.Features[1].DistanceM-want) > 0.02 {
		t.Errorf("school %v m from the pipe, want %.2f", a.Features[1].DistanceM, want)
	}
	var f struct {
		Type     string
		ID       uint64
		Geometry struct{ Type string }
		Layer    string
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/features/"+pipe)), &f)
	if f.Type != "Feature" || f.ID != layers.MakeID(10, 1) || f.Geometry.Type != "LineString" || f.Layer != layers.GasPipe {
		t.Errorf("feature = %+v", f)
	}
}

func TestNearbyBadRequests(t *testing.T) {
	ts := testServer(t)
	pt := "lon=117.2&lat=31.8"
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"RadiusZero", "/api/v1/nearby?" + pt + "&radius=0", 400, CodeBadRadius},
		{"RadiusNegative", "/api/v1/nearby?" + pt + "&radius=-5", 400, CodeBadRadius},
		{"RadiusHuge", "/api/v1/nearby?" + pt + "&radius=1e9", 400, CodeBadRadius},
		{"RadiusNaN", "/api/v1/nearby?" + pt + "&radius=NaN", 400, CodeBadRadius},
		{"RadiusMissing", "/api/v1/nearby?" + pt, 400, CodeBadRadius},
		{"NoLon", "/api/v1/nearby?lat=31.8&radius=10", 400, CodeBadPoint},
		{"LatOutOfRange", "/api/v1/nearby?lon=117&lat=95&radius=10", 400, CodeBadPoint},
		{"UnknownLayer", "/api/v1/nearby?" + pt + "&radius=10&layers=school", 404, CodeUnknownLayer},
		{"EmptyLayer", "/api/v1/nearby?" + pt + "&radius=10&layers=hazard,", 404, CodeUnknownLayer},
		{"TooManyLayers", "/api/v1/nearby?" + pt + "&radius=10&layers=" + strings.Repeat("building,", 3000) + layers.Building, 400, CodeTooManyLayers},
		{"FeatureTooManyLayers", "/api/v1/features/" + strconv.FormatUint(layers.MakeID(10, 1), 10) + "/nearby?radius=10&layers=" + strings.Repeat("hazard,", 100) + layers.Hazard, 400, CodeTooManyLayers},
		{"LonNaN", "/api/v1/nearby?lon=NaN&lat=31.8&radius=10", 400, CodeBadPoint},
		{"LatNaN", "/api/v1/nearby?lon=117.2&lat=nan&radius=10", 400, CodeBadPoint},
		{"LonInf", "/api/v1/nearby?lon=Inf&lat=31.8&radius=10", 400, CodeBadPoint},
		{"LatMinusInfinity", "/api/v1/nearby?lon=117.2&lat=-Infinity&radius=10", 400, CodeBadPoint},
		{"LonTooBig", "/api/v1/nearby?lon=1e400&lat=31.8&radius=10", 400, CodeBadPoint},
		{"RadiusInf", "/api/v1/nearby?" + pt + "&radius=+Inf", 400, CodeBadRadius},
		{"LimitHuge", "/api/v1/nearby?" + pt + "&radius=10&limit=99999999999999999999", 400, CodeBadRequest},
		{"GasDistanceNaN", "/api/v1/analysis/gas-neighbourhood?distance=NaN", 400, CodeBadRadius},
		{"GasSensorDistanceInf", "/api/v1/analysis/gas-neighbourhood?sensor_distance=Inf", 400, CodeBadRadius},
		{"GasBBoxNaN", "/api/v1/analysis/gas-neighbourhood?bbox=NaN,31,118,32", 400, CodeBadBBox},
		{"GasBBoxInf", "/api/v1/analysis/gas-neighbourhood?bbox=117,31,Inf,32", 400, CodeBadBBox},
		{"GasBBoxMany", "/api/v1/analysis/gas-neighbourhood?bbox=" + strings.Repeat("1,", 10000) + "1", 400, CodeBadBBox},
		{"GasLimitNaN", "/api/v1/analysis/gas-neighbourhood?limit=NaN", 400, CodeBadRequest},
		{"BadLimit", "/api/v1/nearby?" + pt + "&radius=10&limit=0", 400, CodeBadRequest},
		{"BadID", "/api/v1/features/abc/nearby?radius=10", 400, CodeBadID},
		{"UnknownID", "/api/v1/features/12345/nearby?radius=10", 404, CodeNotFound},
		{"UnknownFeature", "/api/v1/features/99", 404, CodeNotFound},
		{"UnknownAPI", "/api/v1/nothing", 404, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, ts.URL+tt.path, as("analyst")...)
			var e struct {
				Error struct{ Code, Message string }
			}
			json.Unmarshal(body(t, resp), &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, e.Error.Code, tt.status, tt.code)
			}
			if n := len([]rune(e.Error.Message)); n == 0 || n > 300 {
				t.Errorf("message of %d characters: %q", n, e.Error.Message)
			}
		})
	}
}

// A layer named several times is searched once.
func TestNearbyLayersOnce(t *testing.T) {
	ts := testServer(t)
	url := ts.URL + "/api/v1/nearby?lon=" + strconv.FormatFloat(centre[0], 'f', -1, 64) + "&lat=" + strconv.FormatFloat(centre[1], 'f', -1, 64) + "&radius=100"
	var once, twice struct {
		Features []struct{ ID uint64 }
		Total    int
	}
	json.Unmarshal(body(t, get(t, url+"&layers=gas_pipe,protective_target")), &once)
	resp := get(t, url+"&layers=gas_pipe,protective_target,gas_pipe,gas_pipe,protective_target")
	json.Unmarshal(body(t, resp), &twice)
	if resp.StatusCode != 200 || once.Total != 2 || twice.Total != once.Total || len(twice.Features) != len(once.Features) {
		t.Errorf("%d: named once %+v, several times %+v; want the same features", resp.StatusCode, once, twice)
	}
}

func TestParseLayers(t *testing.T) {
	cat := layers.Default()
	n := len(cat.Layers())
	all := make([]string, 0, n)
	for _, l := range cat.Layers() {
		all = append(all, l.ID)
	}
	for _, tc := range []struct {
		name, q string
		want    []string
		code    string
	}{
		{"One", layers.Hazard, []string{layers.Hazard}, ""},
		{"Repeated", "hazard,building,hazard,hazard", []string{layers.Hazard, layers.Building}, ""},
		{"Every", strings.Join(all, ","), all, ""},
		{"CatalogCountRepeats", strings.Repeat("building,", n-1) + layers.Building, []string{layers.Building}, ""},
		{"OverCatalogCount", strings.Repeat("building,", n) + layers.Building, nil, CodeTooManyLayers},
		{"Unknown", "hazard,school", nil, CodeUnknownLayer},
		{"Empty", "", nil, CodeUnknownLayer},
		{"EmptyItem", "hazard,,building", nil, CodeUnknownLayer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLayers(cat, tc.q)
			code := ""
			if err != nil {
				code = err.(*apiError).Code
			}
			if code != tc.code || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("parseLayers(%.40q) = %v, %v; want %v, %q", tc.q, got, err, tc.want, tc.code)
			}
		})
	}
}
