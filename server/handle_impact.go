package server

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// pipeOf names the pipe layer whose nearest pipe sizes an alarm's area.
var pipeOf = map[string]string{"gas": "gas_pipe", "drainage": "gas_pipe", "tunnel": "gas_pipe", "water": "water_pipe", "heating": "heat_pipe"}

type impactHit struct {
	ID        uint64  `json:"id"`
	Layer     string  `json:"layer"`
	Name      string  `json:"name,omitempty"`
	Kind      string  `json:"kind,omitempty"`
	DistanceM float64 `json:"distance_m"`
	// Closest is the feature's point closest to the scenario's centre.
	Closest [2]float64 `json:"closest"`
}

func impactHits(hs []spatial.Hit) []impactHit {
	out := make([]impactHit, 0, len(hs))
	for _, h := range hs {
		j := impactHit{ID: h.Feature.ID, Layer: h.Feature.Layer, DistanceM: math.Round(h.Distance*10) / 10, Closest: [2]float64(h.Closest)}
		j.Name, _ = h.Feature.Props["name"].(string)
		j.Kind, _ = h.Feature.Props["kind"].(string)
		if j.Kind == "" {
			j.Kind, _ = h.Feature.Props["use"].(string)
		}
		out = append(out, j)
	}
	return out
}

// alarmScenario picks the scenario of an alarm and where it is centred:
// the alarmed asset (a bridge, a tunnel section) or the sensor, and the
// nearest pipe of its domain that sizes it.
func (s *Server) alarmScenario(ctx context.Context, a *live.Alarm) (spatial.Scenario, orb.Geometry, *layers.Feature) {
	var asset, pipe *layers.Feature
	place := orb.Geometry(orb.Point(a.Location))
	if a.Asset != 0 {
		if f, err := s.store.Feature(ctx, a.Asset); err == nil {
			asset = f
			if f.Layer == "bridge" || f.Layer == "utility_tunnel" {
				place = f.Geometry
			}
		}
	}
	if l, ok := pipeOf[string(a.Domain)]; ok {
		if asset != nil && asset.Layer == l {
			pipe = asset
		} else if hs, err := spatial.Nearby(ctx, s.store, orb.Point(a.Location), 50, []string{l}); err == nil && len(hs) > 0 {
			pipe = hs[0].Feature
		}
	}
	return spatial.ImpactScenario(string(a.Domain), a.Metric, asset, pipe), place, pipe
}

// alarmZones are the impact areas of the active alarms, for the risk
// zone layer.
func (s *Server) alarmZones() []spatial.AlarmZone {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []spatial.AlarmZone
	for _, a := range s.opt.Live.Alarms(live.AlarmFilter{State: live.Active}) {
		sc, place, _ := s.alarmScenario(ctx, &a)
		out = append(out, spatial.AlarmZone{Alarm: a.ID, Level: int(a.Level), Domain: string(a.Domain), Scenario: sc,
			Area: spatial.Circle(place.Bound().Center(), sc.Radius)})
	}
	return out
}

// handleImpact answers GET /api/v1/alarms/{id}/impact: the scenario the
// alarm may announce, its area (GeoJSON), the protective targets, hazards
// and buildings inside it by distance, the people likely present now and
// the roads to close.
func (s *Server) handleImpact(c echo.Context) error {
	a, err := s.alarmParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sc, place, pipe := s.alarmScenario(ctx, a)
	im, err := spatial.AssessImpact(ctx, s.store, sc, place, s.now())
	if err != nil {
		return err
	}
	area := geojson.NewFeature(im.Area)
	area.Properties = geojson.Properties{"alarm": a.ID, "scenario": sc.ID, "radius_m": math.Round(sc.Radius*10) / 10}
	var pipeID uint64
	if pipe != nil {
		pipeID = pipe.ID
	}
	roads := im.Roads
	if roads == nil {
		roads = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"alarm":     a.ID,
		"scenario":  sc,
		"pipe":      pipeID,
		"area":      area,
		"targets":   impactHits(im.Targets),
		"hazards":   impactHits(im.Hazards),
		"buildings": impactHits(im.Buildings),
		"people":    im.People,
		"roads":     roads,
	})
}
