package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
	"github.com/paulmach/orb"
)

// fakeAnalyses answers with what it is told to and keeps what it was asked.
type fakeAnalyses struct {
	report *spatial.ValveReport
	spaces []spatial.Space
	err    error

	pipe   uint64
	failed []uint64
	query  spatial.GasQuery
}

func (f *fakeAnalyses) ValveClosure(_ context.Context, pipe uint64, failed []uint64) (*spatial.ValveReport, error) {
	f.pipe, f.failed = pipe, failed
	return f.report, f.err
}

func (f *fakeAnalyses) AlarmImpact(context.Context, spatial.AlarmSite) (*spatial.AlarmImpact, error) {
	return nil, f.err
}

func (f *fakeAnalyses) GasSpaces(_ context.Context, q spatial.GasQuery) ([]spatial.Space, error) {
	f.query = q
	return f.spaces, f.err
}

func fakeServer(t *testing.T, an *fakeAnalyses) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(New(withTestAccess(Options{Catalog: layers.Default(), Store: memory.New(storetest.City()), Analyses: an,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// The valve-closure route answers the report the analyses give, for the
// pipe and failed valves of the request.
func TestValveClosureAnswersTheAnalysis(t *testing.T) {
	valve := &layers.Feature{ID: 41, Layer: layers.GasNode, Geometry: orb.Point{117.25, 31.85}, Props: map[string]any{"kind": "valve", "name": "V-1"}}
	school := &layers.Feature{ID: 51, Layer: layers.Building, Props: map[string]any{"use": "school", "population": 800.0}}
	an := &fakeAnalyses{report: &spatial.ValveReport{
		Network: layers.GasPipe,
		Closure: &spatial.Closure{Pipe: 7, Valves: []uint64{41}, FailedValves: []uint64{42}, IsolatedPipes: []uint64{7, 8}, LengthOutOfService: 123.456},
		Valves:  []*layers.Feature{valve}, Buildings: []*layers.Feature{school}, People: 800,
	}}
	ts := fakeServer(t, an)
	resp, b := post(t, ts.URL+"/api/v1/analysis/valve-closure", `{"pipe": 7, "failed_valves": [42]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if an.pipe != 7 || !slices.Equal(an.failed, []uint64{42}) {
		t.Errorf("analysis asked for pipe %d failed %v, want 7 [42]", an.pipe, an.failed)
	}
	var a struct {
		Network string
		Pipe    uint64
		Valves  []struct {
			ID         uint64
			Kind, Name string
		}
		IsolatedPipes []uint64 `json:"isolated_pipes"`
		Length        float64  `json:"length_out_of_service_m"`
		Buildings     []struct {
			ID         uint64
			Use        string
			Population float64
		}
		People float64
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Network != layers.GasPipe || a.Pipe != 7 || len(a.Valves) != 1 || a.Valves[0].ID != 41 || a.Valves[0].Name != "V-1" ||
		!slices.Equal(a.IsolatedPipes, []uint64{7, 8}) || a.Length != 123.5 {
		t.Errorf("answer %s", b)
	}
	if len(a.Buildings) != 1 || a.Buildings[0].Use != "school" || a.People != 800 {
		t.Errorf("buildings %+v people %v", a.Buildings, a.People)
	}
}

// An analysis's error becomes the API's code for it.
func TestAnalysisErrorCodes(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"NotAPipe", &spatial.NoValvesError{Layer: layers.Building}, 422, CodeNotAPipe},
		{"NotAValve", fmt.Errorf("failed valve 9: %w", spatial.ErrNotValve), 422, CodeNotAValve},
		{"UnknownPipe", fmt.Errorf("feature 7: %w", store.ErrNotFound), 404, CodeNotFound},
		{"Broken", errors.New("the store is gone"), 500, CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := fakeServer(t, &fakeAnalyses{err: tt.err})
			resp, b := post(t, ts.URL+"/api/v1/analysis/valve-closure", `{"pipe": 7}`)
			var e struct {
				Error struct{ Code, Message string }
			}
			json.Unmarshal(b, &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, b, tt.status, tt.code)
			}
			if tt.status == 500 && e.Error.Message != "internal error" {
				t.Errorf("internal error shown as %q", e.Error.Message)
			}
		})
	}
	// The gas neighbourhood: an out-of-range distance is bad_radius.
	an := &fakeAnalyses{err: spatial.ErrRadius}
	ts := fakeServer(t, an)
	resp, b := send(t, "GET", ts.URL+"/api/v1/analysis/gas-neighbourhood?distance=30", "role:analyst", "", "")
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(b, &e)
	if resp.StatusCode != 400 || e.Error.Code != CodeBadRadius {
		t.Errorf("%d %s, want 400 %s", resp.StatusCode, b, CodeBadRadius)
	}
	if !an.query.City || an.query.Distance != 30 || an.query.SensorDistance != spatial.DefaultSensorDistance {
		t.Errorf("query %+v, want the city at 30 m", an.query)
	}
}

// A server given no analyses answers their routes not_found.
func TestNoAnalyses(t *testing.T) {
	ts := httptest.NewServer(New(withTestAccess(Options{Catalog: layers.Default(), Store: memory.New(storetest.City())})).Handler())
	t.Cleanup(ts.Close)
	resp, b := post(t, ts.URL+"/api/v1/analysis/valve-closure", `{"pipe": 7}`)
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(b, &e)
	if resp.StatusCode != 404 || e.Error.Code != CodeNotFound {
		t.Errorf("%d %s, want 404 %s", resp.StatusCode, b, CodeNotFound)
	}
}
