package server

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// geometryJSON wraps a geometry so that it marshals as GeoJSON.
func geometryJSON(g orb.Geometry) *geojson.Geometry { return geojson.NewGeometry(g) }
