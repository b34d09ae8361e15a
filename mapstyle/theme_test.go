package mapstyle

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/onemap/onemap/layers"
)

// The dark style has the light style's layers, in the same order, with the
// same sources, zooms and layout: a wall and a desk see the same map.
func TestStyleDarkSameLayers(t *testing.T) {
	light := parseStyle(t, testStyleOptions)
	o := testStyleOptions
	o.Theme = ThemeDark
	dark := parseStyle(t, o)
	if len(dark.Layers) != len(light.Layers) {
		t.Fatalf("%d dark layers, %d light", len(dark.Layers), len(light.Layers))
	}
	for i, d := range dark.Layers {
		l := light.Layers[i]
		if d.ID != l.ID || d.Type != l.Type || d.Source != l.Source || d.MinZoom != l.MinZoom || !reflect.DeepEqual(d.Layout, l.Layout) || !reflect.DeepEqual(d.Metadata, l.Metadata) {
			t.Errorf("layer %d: dark %s (%s, z%d), light %s (%s, z%d), or their layout or metadata differ", i, d.ID, d.Type, d.MinZoom, l.ID, l.Type, l.MinZoom)
		}
	}
	if !reflect.DeepEqual(dark.Sources, light.Sources) {
		t.Error("the dark style's sources differ from the light one's")
	}
}

// On the dark ground every network, target and sensor colour stands out by
// 3:1, the base map stays dark, and labels are light.
func TestStyleDarkReads(t *testing.T) {
	o := testStyleOptions
	o.Theme = ThemeDark
	s := parseStyle(t, o)
	cat := layers.Default()
	if bg := s.Layers[0].Paint["background-color"]; bg != darkGround {
		t.Errorf("background %v, want %s", bg, darkGround)
	}
	for _, sl := range s.Layers[1:] {
		l, err := cat.Layer(sl.SourceLayer)
		if err != nil {
			t.Fatalf("%s: %v", sl.ID, err)
		}
		for k, v := range sl.Paint {
			for _, h := range paintColors(v) {
				switch {
				case k == "text-color":
					if contrast(h, darkGround) < 7 {
						t.Errorf("%s %s %s: contrast %.1f on the ground, want 7:1 for text", sl.ID, k, h, contrast(h, darkGround))
					}
				case l.Group == "base":
					if luminance(h) > 0.12 {
						t.Errorf("%s %s %s: a base colour too light for the dark map (luminance %.2f)", sl.ID, k, h, luminance(h))
					}
				case sl.ID == l.ID && (k == "line-color" || k == "circle-color" || k == "fill-color"):
					if c := contrast(h, darkGround); c < 3 {
						t.Errorf("%s %s %s: contrast %.1f on the ground, want 3:1", sl.ID, k, h, c)
					}
				}
			}
		}
	}
}

// The light style stays as it was: the theme is opt-in.
func TestStyleLightIsDefault(t *testing.T) {
	a, err := Style(layers.Default(), testStyleOptions)
	if err != nil {
		t.Fatal(err)
	}
	o := testStyleOptions
	o.Theme = ThemeLight
	b, err := Style(layers.Default(), o)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("the default style differs from theme=light")
	}
	var m struct {
		Metadata map[string]string `json:"metadata"`
	}
	json.Unmarshal(a, &m)
	if m.Metadata["onemap:theme"] != ThemeLight {
		t.Errorf("metadata %v, want onemap:theme light", m.Metadata)
	}
	o.Theme = "night"
	if _, err := Style(layers.Default(), o); err == nil {
		t.Error("theme night: want an error")
	}
}

func TestReadableOnDark(t *testing.T) {
	for _, h := range []string{"#000000", "#0c4a6e", "#7a0177", "#78350f", "#ffffff", "#dc2626"} {
		got := readableOnDark(h)
		if c := contrast(got, darkGround); c < 3 {
			t.Errorf("%s → %s: contrast %.2f", h, got, c)
		}
		if contrast(h, darkGround) >= 3 && got != h {
			t.Errorf("%s already reads, yet became %s", h, got)
		}
	}
}

// paintColors lists the #rrggbb strings in a paint value.
func paintColors(v any) []string {
	switch v := v.(type) {
	case string:
		if isHex(v) {
			return []string{v}
		}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, paintColors(e)...)
		}
		return out
	}
	return nil
}
