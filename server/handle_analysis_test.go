package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
)

// networkServer serves the conformance suite's city: a gas main from a
// valve to a tee, a service pipe from the tee to an end, and a school
// building 20 m from the main.
func networkServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newTestServer(Options{Catalog: layers.Default(), Store: memory.New(storetest.City())}).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// post sends payload as an analyst would.
func post(t *testing.T, url, payload string) (*http.Response, []byte) {
	t.Helper()
	return send(t, "POST", url, "role:analyst", "application/json", payload)
}

func TestValveClosure(t *testing.T) {
	ts := networkServer(t)
	resp, b := post(t, ts.URL+"/api/v1/analysis/valve-closure", `{"pipe": 10995116277762}`) // the service pipe
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var a struct {
		Network       string
		Valves        []struct{ ID uint64 }
		IsolatedPipes []uint64 `json:"isolated_pipes"`
		IsolatedNodes []uint64 `json:"isolated_nodes"`
		Length        float64  `json:"length_out_of_service_m"`
		Buildings     []struct{ ID uint64 }
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	main, service := layers.MakeID(10, 1), layers.MakeID(10, 2)
	if a.Network != layers.GasPipe || len(a.Valves) != 1 || a.Valves[0].ID != layers.MakeID(11, 1) {
		t.Errorf("network %q valves %+v, want the valve at the main's start", a.Network, a.Valves)
	}
	if !slices.Equal(a.IsolatedPipes, []uint64{main, service}) || !slices.Equal(a.IsolatedNodes, []uint64{layers.MakeID(11, 2), layers.MakeID(11, 3)}) {
		t.Errorf("isolated pipes %v nodes %v", a.IsolatedPipes, a.IsolatedNodes)
	}
	if a.Length < 579 || a.Length > 581 {
		t.Errorf("length out of service %v m, want 580", a.Length)
	}
	if len(a.Buildings) != 1 || a.Buildings[0].ID != layers.MakeID(4, 1) {
		t.Errorf("buildings %+v, want the school beside the main", a.Buildings)
	}
}

func TestValveClosureBadRequests(t *testing.T) {
	ts := networkServer(t)
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"NotJSON", `{"pipe":`, 400, CodeBadRequest},
		{"UnknownField", `{"pipe": 1, "valve": 2}`, 400, CodeBadRequest},
		{"NoPipe", `{}`, 400, CodeBadID},
		{"UnknownPipe", `{"pipe": 10995116277799}`, 404, CodeNotFound},
		{"NotAPipe", `{"pipe": 24189255811073}`, 422, CodeNotAPipe},                                            // the school
		{"FailedNotAValve", `{"pipe": 10995116277762, "failed_valves": [12094627905538]}`, 422, CodeNotAValve}, // the tee
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := post(t, ts.URL+"/api/v1/analysis/valve-closure", tt.body)
			var e struct{ Error struct{ Code string } }
			json.Unmarshal(b, &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code {
				t.Errorf("%d %s, want %d %q", resp.StatusCode, b, tt.status, tt.code)
			}
		})
	}
}

func TestGasNeighbourhood(t *testing.T) {
	ts := networkServer(t)
	var a struct {
		Total  int `json:"spaces_total"`
		Spaces []struct {
			ID        uint64
			Layer     string
			DistanceM float64 `json:"distance_m"`
			Pipe      uint64
			Monitored bool
			Risk      float64
		}
	}
	// The school's basement is 20 m from the main: outside 12.5 m, inside 25 m.
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/analysis/gas-neighbourhood", as("analyst")...)), &a)
	if a.Total != 0 {
		t.Errorf("within 12.5 m: %d spaces, want 0", a.Total)
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/analysis/gas-neighbourhood?distance=25&unmonitored=true", as("analyst")...)), &a)
	if a.Total != 1 || len(a.Spaces) != 1 {
		t.Fatalf("within 25 m: %+v", a)
	}
	if s := a.Spaces[0]; s.ID != layers.MakeID(4, 1) || s.Layer != layers.Building || s.Pipe != layers.MakeID(10, 1) || s.Monitored || s.Risk <= 0 || s.DistanceM < 19.99 || s.DistanceM > 20.01 {
		t.Errorf("space %+v", s)
	}
	for _, q := range []string{"distance=0", "distance=abc", "distance=501", "bbox=1,2,3", "bbox=10,10,5,5", "sensor_distance=-1", "limit=0", "unmonitored=yes"} {
		resp := get(t, ts.URL+"/api/v1/analysis/gas-neighbourhood?"+q, as("analyst")...)
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}
