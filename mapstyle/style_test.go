package mapstyle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onemap/onemap/layers"
)

var testStyleOptions = StyleOptions{
	BaseURL: "http://onemap.test:8080",
	Center:  [2]float64{116.4, 39.9},
	Zoom:    11,
	Bounds:  [4]float64{116.2, 39.8, 116.6, 40},
}

// parsedStyle is the part of a MapLibre style the tests read.
type parsedStyle struct {
	Version int        `json:"version"`
	Center  [2]float64 `json:"center"`
	Zoom    float64    `json:"zoom"`
	Sprite  string     `json:"sprite"`
	Glyphs  string     `json:"glyphs"`
	Sources map[string]struct {
		Type    string     `json:"type"`
		Tiles   []string   `json:"tiles"`
		MinZoom int        `json:"minzoom"`
		MaxZoom int        `json:"maxzoom"`
		Bounds  [4]float64 `json:"bounds"`
	} `json:"sources"`
	Layers []struct {
		ID          string         `json:"id"`
		Type        string         `json:"type"`
		Source      string         `json:"source"`
		SourceLayer string         `json:"source-layer"`
		MinZoom     int            `json:"minzoom"`
		Metadata    map[string]any `json:"metadata"`
		Layout      map[string]any `json:"layout"`
		Paint       map[string]any `json:"paint"`
	} `json:"layers"`
}

func parseStyle(t *testing.T, o StyleOptions) parsedStyle {
	t.Helper()
	b, err := Style(layers.Default(), o)
	if err != nil {
		t.Fatal(err)
	}
	var s parsedStyle
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStyle(t *testing.T) {
	cat := layers.Default()
	s := parseStyle(t, testStyleOptions)
	if s.Version != 8 {
		t.Errorf("version %d", s.Version)
	}
	if s.Center != testStyleOptions.Center || s.Zoom != 11 {
		t.Errorf("view %v %v", s.Center, s.Zoom)
	}
	base := testStyleOptions.BaseURL
	if s.Sprite != base+"/sprite" || s.Glyphs != base+"/fonts/{fontstack}/{range}.pbf" {
		t.Errorf("sprite %q glyphs %q", s.Sprite, s.Glyphs)
	}
	// The composite source holds every layer but the live ones, which
	// have theirs.
	if len(s.Sources) != 2 {
		t.Fatalf("sources %v, want the composite and the live one", s.Sources)
	}
	var ids, live []string
	for _, l := range cat.Layers() {
		if l.Live {
			live = append(live, l.ID)
		} else {
			ids = append(ids, l.ID)
		}
	}
	for name, want := range map[string][]string{StyleSource: ids, StyleLiveSource: live} {
		src := s.Sources[name]
		wantTiles := base + "/tiles/" + strings.Join(want, ",") + "/{z}/{x}/{y}.mvt"
		if src.Type != "vector" || len(src.Tiles) != 1 || src.Tiles[0] != wantTiles || src.MinZoom != 8 || src.MaxZoom != 16 || src.Bounds != testStyleOptions.Bounds {
			t.Errorf("source %s %+v, want tiles %s", name, src, wantTiles)
		}
	}

	if len(s.Layers) == 0 || s.Layers[0].Type != "background" {
		t.Fatal("first layer is not the background")
	}
	seen := map[string]int{}
	ids = nil
	for _, sl := range s.Layers[1:] {
		ids = append(ids, sl.ID)
		id, _ := sl.Metadata[StyleMetaLayer].(string)
		l, err := cat.Layer(id)
		if err != nil {
			t.Errorf("%s: metadata names layer %q: %v", sl.ID, id, err)
			continue
		}
		seen[id]++
		if derived, _ := sl.Metadata[StyleMetaDerived].(bool); derived != l.Derived {
			t.Errorf("%s: derived %v in the metadata, want %v", sl.ID, derived, l.Derived)
		}
		if sl.Metadata[StyleMetaGroup] != l.Group {
			t.Errorf("%s: group %q, want %q", sl.ID, sl.Metadata[StyleMetaGroup], l.Group)
		}
		if sl.ID != id && !strings.HasPrefix(sl.ID, id+"-") {
			t.Errorf("style layer %s does not start with %s", sl.ID, id)
		}
		wantSource := StyleSource
		if l.Live {
			wantSource = StyleLiveSource
		}
		if sl.Source != wantSource || sl.SourceLayer != id {
			t.Errorf("%s: source %s/%s", sl.ID, sl.Source, sl.SourceLayer)
		}
		if sl.MinZoom < l.MinZoom {
			t.Errorf("%s: minzoom %d below the layer's %d", sl.ID, sl.MinZoom, l.MinZoom)
		}
		for _, name := range styleIconNames(sl.Layout["icon-image"]) {
			if !spriteHas(name) {
				t.Errorf("%s: icon %q is not in the sprite", sl.ID, name)
			}
		}
		if _, hasText := sl.Layout["text-field"]; hasText {
			font, ok := sl.Layout["text-font"].([]any)
			if !ok || len(font) == 0 {
				t.Errorf("%s: text without text-font", sl.ID)
				continue
			}
			var names []string
			for _, f := range font {
				names = append(names, fmt.Sprint(f))
			}
			if _, err := Glyphs(strings.Join(names, ","), 0); err != nil {
				t.Errorf("%s: text-font %v: %v", sl.ID, names, err)
			}
		}
	}
	for _, l := range cat.Layers() {
		if seen[l.ID] == 0 {
			t.Errorf("catalog layer %s has no style layer", l.ID)
		}
	}
	for _, want := range []string{"gas_pipe", "gas_pipe-edge", "gas_pipe-casing", "water_pipe-edge", "road-casing", "road", "road-label", "protective_target", "protective_target-label", "hazard", "sensor", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("no style layer %s in %v", want, ids)
		}
	}
}

func TestStyleIconsOfEveryKind(t *testing.T) {
	// Every enumerated kind of the targets and hazards has its own icon,
	// not the fallback.
	for _, id := range []string{layers.ProtectiveTarget, layers.Hazard} {
		l, _ := layers.Default().Layer(id)
		f, _ := l.Field(l.Style.IconBy)
		for _, v := range f.Values {
			if !spriteHas(id + "-" + v) {
				t.Errorf("no icon %s-%s", id, v)
			}
		}
	}
}

func TestStyleLang(t *testing.T) {
	label := func(s parsedStyle, id string) string {
		for _, l := range s.Layers {
			if l.ID == id {
				b, _ := json.Marshal(l.Layout["text-field"])
				return string(b)
			}
		}
		return ""
	}
	o := testStyleOptions
	zh := parseStyle(t, o)
	if got := label(zh, "protective_target-label"); got != `["get","name"]` {
		t.Errorf("zh label %s", got)
	}
	o.Lang = "en"
	en := parseStyle(t, o)
	if got := label(en, "protective_target-label"); got != `["coalesce",["get","name_en"],["get","name"]]` {
		t.Errorf("en label %s", got)
	}
}

func TestStyleErrors(t *testing.T) {
	for name, o := range map[string]StyleOptions{
		"NoBaseURL":       {},
		"RelativeBaseURL": {BaseURL: "/onemap"},
		"BadScheme":       {BaseURL: "ftp://host"},
		"BadLang":         {BaseURL: "http://host", Lang: "fr"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Style(layers.Default(), o); err == nil {
				t.Error("want an error")
			}
		})
	}
	t.Run("TrailingSlash", func(t *testing.T) {
		o := testStyleOptions
		o.BaseURL += "/"
		if s := parseStyle(t, o); s.Sprite != testStyleOptions.BaseURL+"/sprite" {
			t.Errorf("sprite %q", s.Sprite)
		}
	})
}

// styleIconNames returns the image names an icon-image value can take: a
// name, or the outputs of a match expression.
func styleIconNames(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		if len(v) < 4 || v[0] != "match" {
			return nil
		}
		var out []string
		for i := 3; i < len(v); i += 2 {
			out = append(out, styleIconNames(v[i])...)
		}
		return append(out, styleIconNames(v[len(v)-1])...)
	}
	return nil
}

func ExampleStyle() {
	b, err := Style(layers.Default(), StyleOptions{BaseURL: "http://localhost:8080", Center: [2]float64{116.4, 39.9}, Zoom: 11})
	if err != nil {
		panic(err)
	}
	var s struct {
		Sprite string `json:"sprite"`
		Glyphs string `json:"glyphs"`
	}
	_ = json.Unmarshal(b, &s)
	fmt.Println(s.Sprite)
	fmt.Println(s.Glyphs)
	// Output:
	// http://localhost:8080/sprite
	// http://localhost:8080/fonts/{fontstack}/{range}.pbf
}

// TestStyleCityZoom keeps the city view readable: derived layers drawn only
// from the zoom where they stand apart, pipes cased twice (a dark edge
// under a white halo, in that order, under the pipe) and faint at city zoom
// but for the mains.
func TestStyleCityZoom(t *testing.T) {
	s := parseStyle(t, testStyleOptions)
	at := map[string]int{}
	for i, sl := range s.Layers {
		at[sl.ID] = i
		switch sl.Metadata[StyleMetaLayer] {
		case layers.GasAdjacentSpace:
			if sl.MinZoom < 15 {
				t.Errorf("%s: drawn from zoom %d, want 15", sl.ID, sl.MinZoom)
			}
		case layers.RiskZone:
			if sl.MinZoom < 13 {
				t.Errorf("%s: drawn from zoom %d, want 13", sl.ID, sl.MinZoom)
			}
		}
	}
	for _, id := range []string{layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.HeatPipe} {
		e, c, p := at[id+"-edge"], at[id+"-casing"], at[id]
		if e == 0 || !(e < c && c < p) {
			t.Errorf("%s: edge, casing and pipe at %d, %d, %d; want in that order", id, e, c, p)
		}
		op := s.Layers[p].Paint["line-opacity"]
		b, _ := json.Marshal(op)
		if !strings.Contains(string(b), `"zoom"`) || !strings.Contains(string(b), fmt.Sprint(styleMainDiameter)) {
			t.Errorf("%s: line-opacity %s, want by zoom and diameter", id, b)
		}
	}
}
