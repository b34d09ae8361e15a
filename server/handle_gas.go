package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

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
	distance, err := parseMetres(c.QueryParam("distance"), "distance", spatial.GasDistance, false, 500)
	if err != nil {
		return err
	}
	sensorDistance, err := parseMetres(c.QueryParam("sensor_distance"), "sensor_distance", spatial.DefaultSensorDistance, true, 500)
	if err != nil {
		return err
	}
	m := s.store.Meta()
	b := orb.Bound{Min: orb.Point{m.Bounds[0], m.Bounds[1]}, Max: orb.Point{m.Bounds[2], m.Bounds[3]}}
	bbox := c.QueryParam("bbox")
	if bbox != "" {
		if b, err = parseBBox(bbox); err != nil {
			return err
		}
	}
	var onlyUnmonitored bool
	switch q := c.QueryParam("unmonitored"); q {
	case "", "false":
	case "true":
		onlyUnmonitored = true
	default:
		return errorf(CodeBadRequest, fmt.Sprintf("unmonitored %q is true or false", q))
	}
	limit := 1000
	if limit, err = parseLimit(c.QueryParam("limit"), limit, 100000); err != nil {
		return err
	}
	spaces, err := s.analyses.GasSpaces(c.Request().Context(), spatial.GasQuery{Bound: b, City: bbox == "", Distance: distance, SensorDistance: sensorDistance})
	if errors.Is(err, spatial.ErrRadius) {
		return errorf(CodeBadRadius, err.Error())
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
