package server

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

// CodeBadBBox is the error code of a malformed bbox parameter.
const CodeBadBBox = "bad_bbox"

type spaceJSON struct {
	ID             uint64     `json:"id"`
	Layer          string     `json:"layer"`
	Kind           string     `json:"kind,omitempty"`
	Name           string     `json:"name,omitempty"`
	DistanceM      float64    `json:"distance_m"`
	Closest        [2]float64 `json:"closest"`
	Pipe           uint64     `json:"pipe"`
	PressureClass  string     `json:"pressure_class,omitempty"`
	PipeYear       float64    `json:"pipe_install_year,omitempty"`
	Monitored      bool       `json:"monitored"`
	Sensor         uint64     `json:"sensor,omitempty"`
	SensorDistance *float64   `json:"sensor_distance_m,omitempty"`
	People         float64    `json:"people"`
	Risk           float64    `json:"risk"`
}

// handleGasNeighbourhood answers GET /api/v1/analysis/gas-neighbourhood:
// the underground spaces within distance (default 12.5 m) of a gas pipe in
// the bbox (default: the city), each with its nearest pipe, whether a gas
// sensor watches it and its risk, the riskiest first. unmonitored=true
// keeps the spaces no sensor watches: where the next sensors go.
func (s *Server) handleGasNeighbourhood(c echo.Context) error {
	distance, err := floatParam(c, "distance", spatial.GasDistance)
	if err != nil || !(distance > 0 && distance <= 500) {
		return errorf(http.StatusBadRequest, CodeBadRadius, "distance must be metres, more than 0 and at most 500")
	}
	sensorDistance, err := floatParam(c, "sensor_distance", 15)
	if err != nil || !(sensorDistance >= 0 && sensorDistance <= 500) {
		return errorf(http.StatusBadRequest, CodeBadRadius, "sensor_distance must be metres from 0 to 500")
	}
	m := s.store.Meta()
	b := orb.Bound{Min: orb.Point{m.Bounds[0], m.Bounds[1]}, Max: orb.Point{m.Bounds[2], m.Bounds[3]}}
	bbox := c.QueryParam("bbox")
	if bbox != "" {
		if b, err = parseBBox(bbox); err != nil {
			return err
		}
	}
	onlyUnmonitored := c.QueryParam("unmonitored") == "true"
	limit := 1000
	if q := c.QueryParam("limit"); q != "" {
		if limit, err = strconv.Atoi(q); err != nil || limit < 1 || limit > 100000 {
			return errorf(http.StatusBadRequest, CodeBadRequest, "limit must be a whole number from 1 to 100000")
		}
	}
	var spaces []spatial.Space
	if bbox == "" && distance == spatial.GasDistance && s.adjacent != nil && sensorDistance == s.adjacent.SensorDistance() {
		// The whole city as the gas_adjacent_space layer keeps it.
		spaces, err = s.adjacent.Spaces(c.Request().Context())
	} else {
		spaces, err = spatial.AdjacentSpaces(c.Request().Context(), s.store, b, distance, sensorDistance, s.now().Year())
	}
	if errors.Is(err, spatial.ErrRadius) {
		return errorf(http.StatusBadRequest, CodeBadRadius, err.Error())
	}
	if err != nil {
		return err
	}
	out := []spaceJSON{}
	monitored := 0
	for _, sp := range spaces {
		if sp.Sensor != nil {
			monitored++
			if onlyUnmonitored {
				continue
			}
		}
		if len(out) == limit {
			continue
		}
		j := spaceJSON{
			ID: sp.Space.ID, Layer: sp.Space.Layer, Pipe: sp.Pipe.ID,
			DistanceM: math.Round(sp.Distance*100) / 100,
			Closest:   [2]float64{round7(sp.Closest[0]), round7(sp.Closest[1])},
			Monitored: sp.Sensor != nil, People: sp.People, Risk: sp.Risk,
		}
		j.Kind, _ = sp.Space.Props["kind"].(string)
		if j.Kind == "" {
			j.Kind, _ = sp.Space.Props["compartment"].(string)
		}
		j.Name, _ = sp.Space.Props["name"].(string)
		j.PressureClass, _ = sp.Pipe.Props["pressure_class"].(string)
		j.PipeYear, _ = sp.Pipe.Props["install_year"].(float64)
		if sp.Sensor != nil {
			d := math.Round(sp.SensorDistance*100) / 100
			j.Sensor, j.SensorDistance = sp.Sensor.ID, &d
		}
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"distance_m": distance, "sensor_distance_m": sensorDistance,
		"spaces_total": len(spaces), "monitored": monitored, "unmonitored": len(spaces) - monitored,
		"spaces": out,
	})
}

func floatParam(c echo.Context, name string, def float64) (float64, error) {
	q := c.QueryParam(name)
	if q == "" {
		return def, nil
	}
	return strconv.ParseFloat(q, 64)
}

// parseBBox reads "minLon,minLat,maxLon,maxLat".
func parseBBox(q string) (orb.Bound, error) {
	parts := strings.Split(q, ",")
	bad := errorf(http.StatusBadRequest, CodeBadBBox, "bbox is minLon,minLat,maxLon,maxLat in degrees, min below max")
	if len(parts) != 4 {
		return orb.Bound{}, bad
	}
	var v [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return orb.Bound{}, bad
		}
		v[i] = x
	}
	if v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] > v[2] || v[1] > v[3] {
		return orb.Bound{}, bad
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}
