package mapstyle

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"

	"github.com/onemap/onemap/layers"
)

// StyleOptions are what the style of one map depends on beyond the catalog.
type StyleOptions struct {
	// BaseURL is the server's absolute URL without a trailing slash, such
	// as "http://localhost:8080"; tiles, glyphs and sprite are under it.
	BaseURL string
	// Center ([lon, lat]) and Zoom are the initial view; Bounds
	// ([west, south, east, north]) limits tile requests, when set.
	Center [2]float64
	Zoom   float64
	Bounds [4]float64
	// Lang is the label language, "zh" (the default) or "en"; English
	// labels fall back to the Chinese name where a feature has none.
	Lang string
	// Theme is "light" (the default) or "dark": the same layers, the base
	// map dark and the networks light enough to read on it, for a command
	// centre's wall.
	Theme string
}

// The themes of the style.
const (
	ThemeLight = "light"
	ThemeDark  = "dark"
)

// Source zoom range of the composite tiles; MapLibre overzooms past 16.
const (
	styleSourceMinZoom = 8
	styleSourceMaxZoom = 16
)

// StyleSource is the name of the style's composite vector source, and
// StyleLiveSource that of the live layers (layers.Layer.Live): clients
// refetch its tiles alone when the live channel announces a new version.
const (
	StyleSource     = "onemap"
	StyleLiveSource = "onemap-live"
)

// Metadata keys of every style layer, which the legend switches by.
const (
	StyleMetaLayer = "onemap:layer"
	StyleMetaGroup = "onemap:group"
	// StyleMetaDerived is true on the style layers of derived layers (an
	// analysis drawn as a layer), which clients may start switched off.
	StyleMetaDerived = "onemap:derived"
)

// Style returns the MapLibre style (version 8) of the one map: one composite
// vector source of every catalog layer, glyphs and sprite from this server,
// and for each catalog layer, in catalog order, the style layers drawn from
// its style hints. Labels come after all geometry so that no pipe hides one.
func Style(c *layers.Catalog, o StyleOptions) ([]byte, error) {
	base := strings.TrimSuffix(o.BaseURL, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mapstyle: style base URL %q is not an absolute http(s) URL", o.BaseURL)
	}
	switch o.Lang {
	case "":
		o.Lang = "zh"
	case "zh", "en":
	default:
		return nil, fmt.Errorf("mapstyle: style language %q is not zh or en", o.Lang)
	}
	switch o.Theme {
	case "":
		o.Theme = ThemeLight
	case ThemeLight, ThemeDark:
	default:
		return nil, fmt.Errorf("mapstyle: style theme %q is not light or dark", o.Theme)
	}
	var ids, live []string
	for _, l := range c.Layers() {
		if l.Live {
			live = append(live, l.ID)
		} else {
			ids = append(ids, l.ID)
		}
	}
	source := func(ids []string) map[string]any {
		src := map[string]any{
			"type":        "vector",
			"tiles":       []string{base + "/tiles/" + strings.Join(ids, ",") + "/{z}/{x}/{y}.mvt"},
			"minzoom":     styleSourceMinZoom,
			"maxzoom":     styleSourceMaxZoom,
			"attribution": "onemap",
		}
		if o.Bounds != [4]float64{} {
			src["bounds"] = o.Bounds
		}
		return src
	}
	sources := styleObj{StyleSource: source(ids)}
	if len(live) > 0 {
		sources[StyleLiveSource] = source(live)
	}
	// The node layers are those a network's pipes name as their ends.
	nodes := map[string]bool{}
	for _, l := range c.Layers() {
		if l.Nodes != "" {
			nodes[l.Nodes] = true
		}
	}
	all := []styleLayer{{ID: "background", Type: "background", Paint: styleObj{"background-color": "#f3f1ec"}}}
	var labels []styleLayer
	for _, l := range c.Layers() {
		g, t := styleLayers(l, o.Lang, nodes[l.ID])
		all = append(all, g...)
		labels = append(labels, t...)
	}
	all = append(all, labels...)
	if o.Theme == ThemeDark {
		darken(c, all)
	}
	return json.Marshal(map[string]any{
		"version":  8,
		"name":     "onemap",
		"metadata": styleObj{"onemap:lang": o.Lang, "onemap:theme": o.Theme},
		"center":   o.Center,
		"zoom":     o.Zoom,
		"sources":  sources,
		"sprite":   base + "/sprite",
		"glyphs":   base + "/fonts/{fontstack}/{range}.pbf",
		"layers":   all,
	})
}

// styleObj is a JSON object of a style.
type styleObj = map[string]any

// styleLayer is one MapLibre style layer.
type styleLayer struct {
	ID          string   `json:"id"`
	Type        string   `json:"type"`
	Source      string   `json:"source,omitempty"`
	SourceLayer string   `json:"source-layer,omitempty"`
	MinZoom     int      `json:"minzoom,omitempty"`
	MaxZoom     int      `json:"maxzoom,omitempty"`
	Metadata    styleObj `json:"metadata,omitempty"`
	Layout      styleObj `json:"layout,omitempty"`
	Paint       styleObj `json:"paint,omitempty"`
}

// Text fonts of the style; Glyphs serves both.
var (
	styleFont     = []string{FontRegular}
	styleFontBold = []string{FontBold}
)

// styleLayers returns a catalog layer's geometry layers and its label layers;
// isNode says the layer holds a network's nodes.
func styleLayers(l *layers.Layer, lang string, isNode bool) (geom, labels []styleLayer) {
	s := l.Style
	mk := func(suffix, typ string, minzoom int) styleLayer {
		id := l.ID
		if suffix != "" {
			id += "-" + suffix
		}
		src := StyleSource
		if l.Live {
			src = StyleLiveSource
		}
		meta := styleObj{StyleMetaLayer: l.ID, StyleMetaGroup: l.Group}
		if l.Derived {
			meta[StyleMetaDerived] = true
		}
		return styleLayer{
			ID: id, Type: typ, Source: src, SourceLayer: l.ID, MinZoom: max(minzoom, l.MinZoom),
			Metadata: meta, Layout: styleObj{}, Paint: styleObj{},
		}
	}
	color := styleColor(l)

	switch l.Geometry {
	case layers.Polygon:
		minzoom := 0
		if l.Derived {
			minzoom = styleDerivedAreaMinZoom
		}
		mk0 := mk
		mk = func(suffix, typ string, _ int) styleLayer { return mk0(suffix, typ, minzoom) }
		fill := mk("", "fill", 0)
		fill.Paint["fill-color"] = color
		fill.Paint["fill-opacity"] = styleOr(s.Opacity, 1)
		if l.ID == layers.Building {
			fill.Paint["fill-outline-color"] = "#bfb6a6"
		}
		geom = append(geom, fill)
		if s.Width > 0 {
			line := mk("outline", "line", 0)
			line.Paint["line-color"] = s.Color
			line.Paint["line-width"] = styleWidth(s.Width*0.6, nil, 0)
			if len(s.Dash) > 0 {
				line.Paint["line-dasharray"] = s.Dash
			}
			geom = append(geom, line)
		}

	case layers.LineString:
		width := s.Width
		if width == 0 {
			width = 1.5
		}
		var factor any
		switch {
		case s.WidthBy != "":
			factor = styleDiameter(s.WidthBy)
		case l.ID == layers.Road:
			factor = styleRoadClass(l)
		}
		casing := mk("casing", "line", 0)
		casing.Layout["line-join"] = "round"
		if l.ID == layers.Road {
			// A road is its casing and its fill, the casing slightly darker
			// than the light base so that white streets still read.
			casing.Paint["line-color"] = "#cbc3b5"
			casing.Paint["line-width"] = styleWidth(width, factor, 1.5)
			casing.Layout["line-cap"] = "round"
			geom = append(geom, casing)
		} else if s.WidthBy != "" {
			// Pipes are cased twice so that they read over the light base,
			// roads and buildings and where networks cross: a thin dark
			// edge under a white halo under the pipe. At city zoom the
			// casing is the mains' alone, as is most of the pipes' ink.
			edge := mk("edge", "line", 0)
			edge.Layout["line-join"] = "round"
			edge.Paint["line-color"] = "#1f2937"
			edge.Paint["line-opacity"] = stylePipeOpacity(s.WidthBy, 0.15, 0.55)
			edge.Paint["line-width"] = stylePipeWidth(width, s.WidthBy, 3)
			geom = append(geom, edge)
			casing.Paint["line-color"] = "#ffffff"
			casing.Paint["line-opacity"] = stylePipeOpacity(s.WidthBy, 0.3, 1)
			casing.Paint["line-width"] = stylePipeWidth(width, s.WidthBy, 2)
			geom = append(geom, casing)
		}
		line := mk("", "line", 0)
		line.Layout["line-join"] = "round"
		line.Layout["line-cap"] = "round"
		line.Paint["line-color"] = color
		line.Paint["line-width"] = styleWidth(width, factor, 0)
		if s.WidthBy != "" {
			line.Paint["line-width"] = stylePipeWidth(width, s.WidthBy, 0)
			line.Paint["line-opacity"] = stylePipeOpacity(s.WidthBy, 0.45, 1)
		}
		if len(s.Dash) > 0 {
			line.Layout["line-cap"] = "butt"
			line.Paint["line-dasharray"] = s.Dash
		}
		if l.ID == layers.UtilityTunnel {
			// The tunnel is a band the pipes it carries run inside.
			line.Paint["line-width"] = styleWidth(width*2, nil, 0)
			line.Paint["line-opacity"] = 0.45
		}
		geom = append(geom, line)

	case layers.Point:
		switch {
		case s.IconBy != "" || s.Icon != "":
			sym := mk("", "symbol", 0)
			sym.Layout["icon-image"] = styleIcon(l)
			sym.Layout["icon-allow-overlap"] = true
			if isNode {
				// Nodes are many and small: they never push a label away.
				sym.Layout["icon-ignore-placement"] = true
				sym.Layout["icon-size"] = styleZoom(14, 0.75, 16, 1, 18, 1.25)
			} else {
				sym.Layout["icon-size"] = styleZoom(11, 0.7, 14, 0.9, 16, 1.1)
			}
			geom = append(geom, sym)
		case s.Radius > 0:
			// Derived points (the gas-adjacent spaces, one or more on every
			// block) crowd the networks out below street zoom.
			minzoom := 0
			if l.Derived {
				minzoom = styleDerivedPointMinZoom
			}
			circle := mk("", "circle", minzoom)
			circle.Paint["circle-color"] = color
			circle.Paint["circle-radius"] = styleZoom(float64(l.MinZoom), s.Radius*0.7, 15, s.Radius, 18, s.Radius*1.8)
			circle.Paint["circle-stroke-color"] = "#ffffff"
			circle.Paint["circle-stroke-width"] = 1.2
			geom = append(geom, circle)
		}
	}

	if s.Label == "" {
		return geom, labels
	}
	text := mk("label", "symbol", 0)
	if len(geom) == 0 {
		text.ID = l.ID // a layer of labels only: its one style layer
	}
	text.Layout["text-field"] = styleLabel(l, lang)
	text.Layout["text-font"] = styleFont
	text.Layout["text-size"] = 12
	text.Layout["text-max-width"] = 8
	text.Paint["text-color"] = "#374151"
	text.Paint["text-halo-color"] = "rgba(255,255,255,0.9)"
	text.Paint["text-halo-width"] = 1.4
	switch {
	case l.ID == layers.District:
		text.MaxZoom = 13
		text.Layout["text-font"] = styleFontBold
		text.Layout["text-size"] = styleZoom(8, 12, 12, 17)
		text.Layout["text-letter-spacing"] = 0.1
		text.Paint["text-color"] = "#4b5563"
	case l.ID == layers.Water:
		text.MinZoom = max(l.MinZoom, 12)
		text.Paint["text-color"] = "#1d6fa5"
	case l.ID == layers.Label:
		text.Layout["text-size"] = []any{"match", []any{"get", "kind"}, "district", 15, "neighbourhood", 12, 11}
		text.Layout["symbol-sort-key"] = []any{"number", []any{"get", "rank"}, 10}
		text.Paint["text-color"] = []any{"match", []any{"get", "kind"}, "river", "#1d6fa5", "park", "#15803d", "#374151"}
	case l.Geometry == layers.LineString:
		text.MinZoom = max(l.MinZoom, 13)
		text.Layout["symbol-placement"] = "line"
		text.Layout["text-size"] = styleZoom(13, 11, 17, 14)
		text.Layout["text-max-angle"] = 30
		text.Layout["symbol-spacing"] = 350
		text.Paint["text-color"] = "#4b5563"
	case l.Geometry == layers.Point:
		// Under the icon, dropped before the icon when space is short.
		text.MinZoom = max(l.MinZoom, 14)
		text.Layout["text-anchor"] = "top"
		text.Layout["text-offset"] = []float64{0, 1}
		text.Layout["text-size"] = 11
		text.Paint["text-color"] = styleDarken(s.Color)
	default:
		text.MinZoom = max(l.MinZoom, 13)
		text.Layout["text-size"] = 11
	}
	labels = append(labels, text)
	return geom, labels
}

// styleColor is a layer's colour: a match on its ColorBy field or its colour.
func styleColor(l *layers.Layer) any {
	s := l.Style
	if s.ColorBy == "" || len(s.Colors) == 0 {
		return s.Color
	}
	e := []any{"match", []any{"get", s.ColorBy}}
	for _, v := range styleKeys(l, s.ColorBy, s.Colors) {
		e = append(e, v, s.Colors[v])
	}
	return append(e, s.Color)
}

// styleIcon names each point's sprite image: "<layer>-<value>" for the
// values the sprite has an icon of and "<layer>-default" for others.
func styleIcon(l *layers.Layer) any {
	s := l.Style
	if s.IconBy == "" {
		return s.Icon
	}
	fallback := l.ID + "-" + SpriteDefault
	f, _ := l.Field(s.IconBy)
	e := []any{"match", []any{"get", s.IconBy}}
	for _, v := range f.Values {
		if name := l.ID + "-" + v; spriteHas(name) && v != SpriteDefault {
			e = append(e, v, name)
		}
	}
	if len(e) == 2 {
		return fallback
	}
	return append(e, fallback)
}

// styleLabel is the text of a layer's labels in the language asked for.
func styleLabel(l *layers.Layer, lang string) any {
	name := []any{"get", l.Style.Label}
	if lang == "en" {
		if _, ok := l.Field(l.Style.Label + "_en"); ok {
			return []any{"coalesce", []any{"get", l.Style.Label + "_en"}, name}
		}
	}
	return name
}

// styleKeys returns the keys of m in the order of the field's enumerated
// values, then any others sorted, so that the style is stable.
func styleKeys(l *layers.Layer, field string, m map[string]string) []string {
	var out []string
	f, _ := l.Field(field)
	for _, v := range f.Values {
		if _, ok := m[v]; ok {
			out = append(out, v)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Line widths relative to the width a layer hints for zoom 15: thin at
// city scale, growing as one zooms in on a street.
var styleWidthStops = []struct{ zoom, scale float64 }{{10, 0.3}, {13, 0.6}, {15, 1}, {18, 2.6}}

// styleWidth is a line width interpolated by zoom: width·scale(zoom), times
// factor (an expression of feature properties) when given, plus add px.
func styleWidth(width float64, factor any, add float64) any {
	e := []any{"interpolate", []any{"exponential", 1.4}, []any{"zoom"}}
	for _, s := range styleWidthStops {
		w := styleRound(width * s.scale)
		var v any = styleRound(w + add)
		if factor != nil {
			v = []any{"+", []any{"*", w, factor}, add}
		}
		e = append(e, s.zoom, v)
	}
	return e
}

// styleZoom is a linear interpolation by zoom between (zoom, value) pairs
// given in increasing zoom; a pair at the zoom of the one before is skipped.
func styleZoom(pairs ...float64) any {
	e := []any{"interpolate", []any{"linear"}, []any{"zoom"}}
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 && pairs[i] <= pairs[i-2] {
			continue
		}
		e = append(e, pairs[i], styleRound(pairs[i+1]))
	}
	return e
}

// styleDiameter widens a pipe with its diameter: 1 at 300 mm, thinner
// service pipes, transmission mains about twice as wide.
func styleDiameter(field string) any {
	return []any{"interpolate", []any{"linear"}, []any{"number", []any{"get", field}, 200},
		50, 0.5, 150, 0.75, 300, 1, 600, 1.5, 1200, 2.2}
}

// The zooms from which derived layers are drawn: points (gas-adjacent
// spaces) from street zoom, where they stand apart; areas (risk zones) from
// district zoom.
const (
	styleDerivedPointMinZoom = 15
	styleDerivedAreaMinZoom  = 13
)

// styleMainDiameter is the diameter (mm) from which a pipe is a main, drawn
// fully at city zoom, where smaller pipes are faint.
const styleMainDiameter = 300

// stylePipeOpacity is a pipe's opacity: small below zoom 13 for pipes under
// styleMainDiameter, full for mains and for every pipe from zoom 14.
func stylePipeOpacity(field string, small, main float64) any {
	atCity := []any{"case", []any{">=", []any{"number", []any{"get", field}, 0}, styleMainDiameter}, main, small}
	return []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, atCity, 14, main}
}

// styleMainBoost widens the mains at city zoom (up to 13), where they are
// the network's outline and would otherwise be hairlines.
const styleMainBoost = 1.7

// stylePipeWidth is styleWidth for a pipe widened with its diameter, the
// mains widened more at city zoom.
func stylePipeWidth(width float64, field string, add float64) any {
	e := []any{"interpolate", []any{"exponential", 1.4}, []any{"zoom"}}
	for _, st := range styleWidthStops {
		w := styleRound(width * st.scale)
		var v any = []any{"+", []any{"*", w, styleDiameter(field)}, add}
		if st.zoom <= 13 {
			boost := []any{"case", []any{">=", []any{"number", []any{"get", field}, 0}, styleMainDiameter}, styleMainBoost, 1}
			v = []any{"+", []any{"*", w, styleDiameter(field), boost}, add}
		}
		e = append(e, st.zoom, v)
	}
	return e
}

// styleRoadClass narrows roads by class; the layer's width is an
// expressway's.
func styleRoadClass(l *layers.Layer) any {
	scale := map[string]float64{"expressway": 1, "arterial": 0.8, "secondary": 0.6, "branch": 0.42}
	e := []any{"match", []any{"get", "class"}}
	f, _ := l.Field("class")
	for _, v := range f.Values {
		if s, ok := scale[v]; ok {
			e = append(e, v, s)
		}
	}
	return append(e, 0.42)
}

// styleDarken returns a darker #rrggbb, for text in a layer's colour.
func styleDarken(hex string) string {
	var r, g, b uint8
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return "#374151"
	}
	d := func(c uint8) uint8 { return uint8(float64(c) * 0.7) }
	return fmt.Sprintf("#%02x%02x%02x", d(r), d(g), d(b))
}

func styleOr(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

func styleRound(v float64) float64 { return math.Round(v*100) / 100 }
