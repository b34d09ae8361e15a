package server

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

type valveClosureRequest struct {
	Pipe         uint64   `json:"pipe"`
	FailedValves []uint64 `json:"failed_valves"`
}

type nodeJSON struct {
	ID    uint64     `json:"id"`
	Kind  string     `json:"kind"`
	Name  string     `json:"name,omitempty"`
	Point [2]float64 `json:"point"`
}

func nodeOf(n *layers.Feature) nodeJSON {
	kind, _ := n.Props["kind"].(string)
	name, _ := n.Props["name"].(string)
	p, _ := n.Geometry.(orb.Point)
	return nodeJSON{ID: n.ID, Kind: kind, Name: name, Point: [2]float64{round7(p[0]), round7(p[1])}}
}

type buildingJSON struct {
	ID         uint64  `json:"id"`
	Use        string  `json:"use"`
	Population float64 `json:"population"`
	Name       string  `json:"name,omitempty"`
}

// handleValveClosure answers POST /api/v1/analysis/valve-closure: the valves
// that isolate a burst pipe, what goes out of service, and who loses supply.
func (s *Server) handleValveClosure(c echo.Context) error {
	var req valveClosureRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errorf(CodeBadRequest, "body must be {\"pipe\": id, \"failed_valves\": [ids]}: "+err.Error())
	}
	if req.Pipe == 0 {
		return errorf(CodeBadID, "pipe must be a feature id")
	}
	r, err := s.analyses.ValveClosure(c.Request().Context(), req.Pipe, req.FailedValves)
	var nv *spatial.NoValvesError
	switch {
	case errors.As(err, &nv):
		return errorf(CodeNotAPipe, nv.Error())
	case errors.Is(err, spatial.ErrNotValve):
		return errorf(CodeNotAValve, err.Error())
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, valveReportJSON(r))
}

// valveReportJSON is the answer of the valve-closure route.
func valveReportJSON(r *spatial.ValveReport) map[string]any {
	cl := r.Closure
	valves := make([]nodeJSON, len(r.Valves))
	for i, v := range r.Valves {
		valves[i] = nodeOf(v)
	}
	var large []nodeJSON
	for _, n := range r.LargeUsers {
		large = append(large, nodeOf(n))
	}
	buildings := make([]buildingJSON, 0, len(r.Buildings))
	for _, f := range r.Buildings {
		b := buildingJSON{ID: f.ID}
		b.Use, _ = f.Props["use"].(string)
		b.Name, _ = f.Props["name"].(string)
		b.Population, _ = f.Props["population"].(float64)
		buildings = append(buildings, b)
	}
	return map[string]any{
		"network":                 r.Network,
		"pipe":                    cl.Pipe,
		"valves":                  valves,
		"failed_valves":           cl.FailedValves,
		"isolated_pipes":          cl.IsolatedPipes,
		"isolated_nodes":          cl.IsolatedNodes,
		"cut_off_pipes":           cl.CutOffPipes,
		"cut_off_nodes":           cl.CutOffNodes,
		"length_out_of_service_m": math.Round(cl.LengthOutOfService*10) / 10,
		"large_users":             large,
		"buildings":               buildings,
		"people":                  r.People,
	}
}
