package tiles

import "github.com/onemap/onemap/layers"

// TileJSON is a TileJSON 3.0.0 document describing one layer's tiles.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes one layer of a vector tile in TileJSON.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// NewTileJSON describes layer l whose tiles are at baseURL/tiles/<id>/{z}/{x}/{y}.mvt
// over a city of the given bounds and centre.
func NewTileJSON(l *layers.Layer, baseURL, version string, bounds [4]float64, center [2]float64, zoom float64) TileJSON {
	fields := make(map[string]string, len(l.Fields))
	for _, f := range l.Fields {
		if !f.Personal { // tiles never carry personal fields
			fields[f.Name] = string(f.Type)
		}
	}
	return TileJSON{
		TileJSON:    "3.0.0",
		Name:        l.ID,
		Description: l.Title.En + " / " + l.Title.Zh,
		Version:     version,
		Scheme:      "xyz",
		Tiles:       []string{baseURL + "/tiles/" + l.ID + "/{z}/{x}/{y}.mvt"},
		MinZoom:     l.MinZoom,
		MaxZoom:     l.MaxZoom,
		Bounds:      bounds,
		Center:      [3]float64{center[0], center[1], max(zoom, float64(l.MinZoom))},
		VectorLayers: []VectorLayer{{
			ID: l.ID, Description: l.Title.En, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: fields,
		}},
	}
}
