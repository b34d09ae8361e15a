package server

import (
	"math"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb/geojson"
)

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

// handleImpact answers GET /api/v1/alarms/{id}/impact: the scenario the
// alarm may announce, its area (GeoJSON), the protective targets, hazards
// and buildings inside it by distance, the people likely present now and
// the roads to close.
func (s *Server) handleImpact(c echo.Context) error {
	a, err := s.alarmParam(c)
	if err != nil {
		return err
	}
	im, err := s.analyses.AlarmImpact(c.Request().Context(), SiteOf(a))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, impactJSON(a.ID, im))
}

// impactJSON is the answer of the impact route.
func impactJSON(alarm uint64, im *spatial.AlarmImpact) map[string]any {
	sc := im.Scenario
	area := geojson.NewFeature(im.Area)
	area.Properties = geojson.Properties{"alarm": alarm, "scenario": sc.ID, "radius_m": math.Round(sc.Radius*10) / 10}
	var pipeID uint64
	if im.Pipe != nil {
		pipeID = im.Pipe.ID
	}
	roads := im.Roads
	if roads == nil {
		roads = []string{}
	}
	return map[string]any{
		"alarm":     alarm,
		"scenario":  sc,
		"pipe":      pipeID,
		"area":      area,
		"targets":   impactHits(im.Targets),
		"hazards":   impactHits(im.Hazards),
		"buildings": impactHits(im.Buildings),
		"people":    im.People,
		"roads":     roads,
	}
}
