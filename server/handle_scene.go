package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/scene"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store"
	"github.com/paulmach/orb"
)

// Bounds of a scene: the 3D view asks for the few kilometres around its
// centre, and a layer that holds more features than sceneMaxFeatures there
// is refused rather than sent in part.
const (
	SceneMaxSide     = 4000.0
	sceneMaxFeatures = 20000
)

// handleScene answers GET /api/v1/scene?bbox=: the pipes, shafts, tunnel
// compartments, bridges, buildings and sensors inside the bbox, laid out in
// three dimensions (see package scene).
func (s *Server) handleScene(c echo.Context) error {
	for name := range c.QueryParams() {
		if name != "bbox" {
			return errorf(CodeUnknownParameter, "no parameter "+quote(name)+": a scene takes bbox")
		}
	}
	q := c.QueryParam("bbox")
	if q == "" {
		return errorf(CodeBadBBox, "a scene needs a bbox: minLon,minLat,maxLon,maxLat")
	}
	b, err := parseBBox(q)
	if err != nil {
		return err
	}
	w := spatial.Metres(orb.Point{b.Min[0], b.Center()[1]}, orb.Point{b.Max[0], b.Center()[1]})
	h := spatial.Metres(orb.Point{b.Center()[0], b.Min[1]}, orb.Point{b.Center()[0], b.Max[1]})
	if w > SceneMaxSide || h > SceneMaxSide {
		return errorf(CodeBadBBox, fmt.Sprintf("a scene's bbox is at most %.0f km a side (got %.1f × %.1f km): zoom in", SceneMaxSide/1000, w/1000, h/1000))
	}
	ctx := c.Request().Context()
	byLayer := map[string][]*layers.Feature{}
	for _, id := range scene.Layers {
		if _, err := s.cat.Layer(id); err != nil {
			continue // a city without the layer
		}
		page, matched, err := s.store.Items(ctx, id, layers.Query{Bound: &b, Limit: sceneMaxFeatures})
		if err != nil {
			return fmt.Errorf("scene: %s: %w", id, err)
		}
		if matched > sceneMaxFeatures {
			return errorf(CodeBadBBox, fmt.Sprintf("the bbox holds %d features of %s, a scene at most %d: zoom in", matched, id, sceneMaxFeatures))
		}
		byLayer[id] = page
	}
	// The assets of the sensors inside whose own geometry lies outside.
	have := map[uint64]bool{}
	for _, fs := range byLayer {
		for _, f := range fs {
			have[f.ID] = true
		}
	}
	var assets []*layers.Feature
	for _, f := range byLayer[layers.Sensor] {
		asset, ok := f.Props["asset"].(float64)
		if !ok || asset <= 0 || have[uint64(asset)] {
			continue
		}
		a, err := s.store.Feature(ctx, uint64(asset))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("scene: asset of %d: %w", f.ID, err)
		}
		have[a.ID] = true
		assets = append(assets, a)
	}
	return c.JSON(http.StatusOK, scene.Build(b, byLayer, assets...))
}
