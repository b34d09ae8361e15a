package server

import (
	"math"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/layers"
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
}

func impactHits(hs []spatial.Hit) []impactHit {
	out := make([]impactHit, 0, len(hs))
	for _, h := range hs {
		j := impactHit{ID: h.Feature.ID, Layer: h.Feature.Layer, DistanceM: math.Round(h.Distance*10) / 10}
		j.Name, _ = h.Feature.Props["name"].(string)
		j.Kind, _ = h.Feature.Props["kind"].(string)
		if j.Kind == "" {
			j.Kind, _ = h.Feature.Props["use"].(string)
		}
		out = append(out, j)
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
	sc := spatial.ImpactScenario(string(a.Domain), a.Metric, asset, pipe)
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
