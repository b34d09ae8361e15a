// Package mapstyle holds the look of the one map: the MapLibre style made
// from the layer catalog, the SDF glyphs of its labels and the sprite of its
// icons, all drawn from what the binary embeds, so the map needs no internet.
// It makes no tiles (package tiles does) and reads no features.
package mapstyle
