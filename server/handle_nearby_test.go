package server

import (
	"encoding/json"
	"math"
	"strconv"
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
	if len(a.Features) != 3 || a.Features[0].DistanceM != 0 || a.Features[2].Layer != "protective_target" {
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
	if a.Features[0].Layer != "gas_node" || a.Features[0].DistanceM != 0 || a.Features[1].Layer != "protective_target" {
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
	if f.Type != "Feature" || f.ID != layers.MakeID(10, 1) || f.Geometry.Type != "LineString" || f.Layer != "gas_pipe" {
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
		{"UnknownLayer", "/api/v1/nearby?" + pt + "&radius=10&layers=school", 400, CodeUnknownLayer},
		{"BadLimit", "/api/v1/nearby?" + pt + "&radius=10&limit=0", 400, CodeBadRequest},
		{"BadID", "/api/v1/features/abc/nearby?radius=10", 400, CodeBadID},
		{"UnknownID", "/api/v1/features/12345/nearby?radius=10", 404, CodeNotFound},
		{"UnknownFeature", "/api/v1/features/99", 404, CodeNotFound},
		{"UnknownAPI", "/api/v1/nothing", 404, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, ts.URL+tt.path)
			var e struct{ Error struct{ Code string } }
			json.Unmarshal(body(t, resp), &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, e.Error.Code, tt.status, tt.code)
			}
		})
	}
}
