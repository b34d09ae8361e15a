// Package tiles turns features into Mapbox Vector Tiles: tile addresses and
// their bounds, the MVT encoder with clipping and simplification, a tile cache
// bounded in memory and TileJSON. It reads features through layers.Source and
// knows no store; the style, glyphs and sprite that draw the tiles are in
// package mapstyle.
package tiles
