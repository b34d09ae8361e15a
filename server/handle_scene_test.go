package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/scene"
)

// The 3D view asks for the few hundred metres around the test city's
// centre: both pipes at their depth.
func TestScene(t *testing.T) {
	ts := testServer(t)
	bbox := fmt.Sprintf("%f,%f,%f,%f", centre[0]-0.002, centre[1]-0.002, centre[0]+0.002, centre[1]+0.002)
	resp := get(t, ts.URL+"/api/v1/scene?bbox="+bbox)
	var s scene.Scene
	if err := json.Unmarshal(body(t, resp), &s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	if len(s.Pipes) != 2 {
		t.Fatalf("pipes = %+v, want the gas and the water pipe", s.Pipes)
	}
	for _, p := range s.Pipes {
		if p.ID == layers.MakeID(10, 1) && (p.Layer != layers.GasPipe || p.DiameterM != 0.2 || p.Path[0][2] != -0.1) {
			t.Errorf("gas pipe %+v, want DN200 with its top at the ground (no depth given)", p)
		}
	}
	if s.Shafts == nil || s.Boxes == nil || s.Sensors == nil {
		t.Errorf("scene %+v has a null list", s)
	}
	// Far from the city: an empty scene, not an error.
	resp = get(t, ts.URL+"/api/v1/scene?bbox=100,10,100.01,10.01")
	if b := string(body(t, resp)); resp.StatusCode != 200 || !strings.Contains(b, `"pipes":[]`) {
		t.Errorf("%d %s, want an empty scene", resp.StatusCode, b)
	}
}

func TestSceneBadRequests(t *testing.T) {
	ts := testServer(t)
	tests := []struct{ name, query, code, says string }{
		{"NoBBox", "", CodeBadBBox, "needs a bbox"},
		{"BBoxNaN", "bbox=NaN,31,117,32", CodeBadBBox, "finite"},
		{"BBoxTooLarge", "bbox=117.2,31.8,117.3,31.9", CodeBadBBox, "at most 4 km a side"},
		{"BBoxTooTall", "bbox=117.2,31.8,117.201,31.9", CodeBadBBox, "zoom in"},
		{"UnknownParameter", "bbox=117.2,31.8,117.201,31.801&layers=gas_pipe", CodeUnknownParameter, "takes bbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, ts.URL+"/api/v1/scene?"+tt.query)
			var e struct {
				Error struct{ Code, Message string }
			}
			json.Unmarshal(body(t, resp), &e)
			if resp.StatusCode != 400 || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.says) {
				t.Errorf("%d %q %q, want 400 %q saying %q", resp.StatusCode, e.Error.Code, e.Error.Message, tt.code, tt.says)
			}
		})
	}
}
