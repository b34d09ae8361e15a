package server

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
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

// alarmSite is what the impact analysis reads of an alarm.
func alarmSite(a *live.Alarm) spatial.AlarmSite {
	return spatial.AlarmSite{ID: a.ID, Level: int(a.Level), Domain: string(a.Domain), Metric: a.Metric, Asset: a.Asset, Location: orb.Point(a.Location)}
}

// alarmZones are the impact areas of the active alarms, for the risk
// zone layer.
func (s *Server) alarmZones() []spatial.AlarmZone {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var sites []spatial.AlarmSite
	for _, a := range s.opt.Live.Alarms(live.AlarmFilter{State: live.Active}) {
		sites = append(sites, alarmSite(&a))
	}
	return spatial.AlarmZones(ctx, s.store, sites)
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
	im, err := spatial.AssessAlarm(c.Request().Context(), s.store, alarmSite(a), s.now())
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
