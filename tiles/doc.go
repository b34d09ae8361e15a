// Package tiles turns features into Mapbox Vector Tiles: tile addresses and
// their bounds, the MVT encoder with clipping and simplification, a tile cache
// bounded in memory, TileJSON, and the MapLibre style with its glyphs and
// sprite. It reads features through layers.Source and knows no store.
package tiles
