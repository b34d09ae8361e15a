// Package frontend holds the web app of the one map as files embedded in
// the binary: the page, its script and stylesheet, and a vendored copy of
// MapLibre GL JS. It serves nothing itself; the server mounts FS at "/".
// It holds no tiles, style, glyphs or sprite: packages tiles and mapstyle
// make those.
package frontend
