package server

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

// defaultNearbyLayers are searched when a request names none: who must be
// protected and what could make it worse.
var defaultNearbyLayers = []string{layers.ProtectiveTarget, layers.Hazard}

// nearbyFeature is one answer of a radius search.
type nearbyFeature struct {
	ID         uint64         `json:"id"`
	Layer      string         `json:"layer"`
	Name       string         `json:"name,omitempty"`
	Kind       string         `json:"kind,omitempty"`
	DistanceM  float64        `json:"distance_m"`
	Closest    [2]float64     `json:"closest"`
	Properties map[string]any `json:"properties"`
}

// handleNearby answers GET /api/v1/nearby?lon&lat&radius&layers=a,b&limit.
func (s *Server) handleNearby(c echo.Context) error {
	p, err := parsePoint(c.QueryParam("lon"), c.QueryParam("lat"))
	if err != nil {
		return err
	}
	return s.nearby(c, p, 0)
}

// handleFeatureNearby answers GET /api/v1/features/{id}/nearby?radius&layers:
// distances from the feature's geometry, not its centroid.
func (s *Server) handleFeatureNearby(c echo.Context) error {
	f, err := s.featureParam(c)
	if err != nil {
		return err
	}
	return s.nearby(c, f.Geometry, f.ID)
}

// handleFeature answers GET /api/v1/features/{id} as a GeoJSON Feature.
func (s *Server) handleFeature(c echo.Context) error {
	f, err := s.featureParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"type": "Feature", "id": f.ID, "geometry": geometryJSON(f.Geometry),
		"properties": s.propsFor(c, f), "layer": f.Layer,
	})
}

func (s *Server) featureParam(c echo.Context) (*layers.Feature, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil || id == 0 {
		return nil, errorf(CodeBadID, "a feature id is a positive whole number")
	}
	return s.store.Feature(c.Request().Context(), id)
}

func (s *Server) nearby(c echo.Context, from orb.Geometry, self uint64) error {
	radius, err := parseRadius(c.QueryParam("radius"))
	if err != nil {
		return err
	}
	names := defaultNearbyLayers
	if q := c.QueryParam("layers"); q != "" {
		if names, err = parseLayers(s.cat, q); err != nil {
			return err
		}
	}
	limit, err := parseLimit(c.QueryParam("limit"), 200, 5000)
	if err != nil {
		return err
	}
	hits, err := spatial.Nearby(c.Request().Context(), s.store, from, radius, names)
	if errors.Is(err, spatial.ErrRadius) {
		return errorf(CodeBadRadius, err.Error())
	}
	if err != nil {
		return err
	}
	out := make([]nearbyFeature, 0, min(len(hits), limit))
	for _, h := range hits {
		if h.Feature.ID == self {
			continue
		}
		if len(out) == limit {
			break
		}
		name, _ := h.Feature.Props["name"].(string)
		kind, _ := h.Feature.Props["kind"].(string)
		out = append(out, nearbyFeature{
			ID: h.Feature.ID, Layer: h.Feature.Layer, Name: name, Kind: kind,
			DistanceM:  math.Round(h.Distance*100) / 100,
			Closest:    [2]float64{round7(h.Closest[0]), round7(h.Closest[1])},
			Properties: s.propsFor(c, h.Feature),
		})
	}
	return c.JSON(http.StatusOK, map[string]any{"features": out, "radius_m": radius, "total": len(hits)})
}

// propsFor returns f's attributes as the caller may see them: personal
// ones (contact names, phone numbers) masked unless it holds contacts.read.
func (s *Server) propsFor(c echo.Context, f *layers.Feature) map[string]any {
	if s.authz.Allowed(&callerOf(c).p, auth.PermContactsRead) {
		return f.Props
	}
	l, err := s.cat.Layer(f.Layer)
	if err != nil || !l.HasPersonal() {
		return f.Props
	}
	return layers.MaskProps(l, f.Props)
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }
