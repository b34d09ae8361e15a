package server

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

// valveNetworks are the pressurised networks that valves close; drainage
// flows by gravity and has none.
var valveNetworks = []string{"gas_pipe", "water_pipe", "heat_pipe"}

// serviceDistance is how far from a pipe a building is taken to hang on it:
// service connections run from the street main to the facade.
const serviceDistance = 40.0

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
	ctx := c.Request().Context()
	f, err := s.store.Feature(ctx, req.Pipe)
	if err != nil {
		return err
	}
	if !slices.Contains(valveNetworks, f.Layer) {
		return errorf(CodeNotAPipe, "feature is a "+f.Layer+"; valve closure takes a gas, water or heating pipe")
	}
	net, err := s.networks.Get(ctx, f.Layer)
	if err != nil {
		return err
	}
	cl, err := net.ValveClosure(req.Pipe, req.FailedValves)
	if errors.Is(err, spatial.ErrNotValve) {
		return errorf(CodeNotAValve, err.Error())
	}
	if err != nil {
		return err
	}
	node := func(id uint64) nodeJSON {
		n, _ := net.Node(id)
		kind, _ := n.Props["kind"].(string)
		name, _ := n.Props["name"].(string)
		p, _ := n.Geometry.(orb.Point)
		return nodeJSON{ID: id, Kind: kind, Name: name, Point: [2]float64{round7(p[0]), round7(p[1])}}
	}
	valves := make([]nodeJSON, len(cl.Valves))
	for i, v := range cl.Valves {
		valves[i] = node(v)
	}
	// Large users and buildings that lose supply.
	var large []nodeJSON
	for _, id := range append(slices.Clone(cl.IsolatedNodes), cl.CutOffNodes...) {
		if n := node(id); n.Kind == "large_user" || n.Kind == "substation" || n.Kind == "regulator" {
			large = append(large, n)
		}
	}
	buildings, people, err := s.buildingsAlong(c, net, append(slices.Clone(cl.IsolatedPipes), cl.CutOffPipes...))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"network":                 f.Layer,
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
		"people":                  people,
	})
}

// buildingsAlong lists the buildings within serviceDistance of the pipes.
func (s *Server) buildingsAlong(c echo.Context, net *spatial.Network, pipes []uint64) ([]buildingJSON, float64, error) {
	seen := map[uint64]bool{}
	out := []buildingJSON{}
	people := 0.0
	for _, id := range pipes {
		p, _ := net.Pipe(id)
		hits, err := spatial.Nearby(c.Request().Context(), s.store, p.Geometry, serviceDistance, []string{"building"})
		if err != nil {
			return nil, 0, err
		}
		for _, h := range hits {
			if seen[h.Feature.ID] {
				continue
			}
			seen[h.Feature.ID] = true
			b := buildingJSON{ID: h.Feature.ID}
			b.Use, _ = h.Feature.Props["use"].(string)
			b.Name, _ = h.Feature.Props["name"].(string)
			b.Population, _ = h.Feature.Props["population"].(float64)
			people += b.Population
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b buildingJSON) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out, people, nil
}
