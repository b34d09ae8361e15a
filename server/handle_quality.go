package server

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/city"
)

// qualityBody is GET /api/v1/quality's answer: the problems the city had
// when the server read it, counted, summed up by kind and file, and as a
// GeoJSON FeatureCollection of one feature per problem (the report's twin).
type qualityBody struct {
	Errors   int             `json:"errors"`
	Warnings int             `json:"warnings"`
	Summary  []city.Count    `json:"summary"`
	Problems json.RawMessage `json:"problems"`
}

// qualityJSON makes the answer of GET /api/v1/quality once, at start:
// the problems never change while the server runs. Nothing of a personal
// attribute's value is in it.
func qualityJSON(ps city.Problems, o Options) []byte {
	ps = ps.WithoutPersonal(o.Catalog)
	fc, err := ps.GeoJSON().MarshalJSON()
	if err != nil {
		o.Log.Error("quality: the problems cannot be written", "err", err)
		ps, fc = nil, []byte(`{"type":"FeatureCollection","features":[]}`)
	}
	sum := ps.Summary()
	if sum == nil {
		sum = []city.Count{}
	}
	b, _ := json.Marshal(qualityBody{Errors: ps.Errors(), Warnings: ps.Warnings(), Summary: sum, Problems: fc})
	return b
}

// handleQuality answers GET /api/v1/quality.
func (s *Server) handleQuality(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, s.quality)
}
