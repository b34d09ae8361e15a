package mapstyle

import (
	"fmt"
	"math"
	"strings"

	"github.com/onemap/onemap/layers"
)

// The dark theme's ground and ink.
const (
	darkGround = "#0b1220"
	darkText   = "#e2e8f0"
	darkHalo   = "rgba(11,18,32,0.92)"
)

// darken turns the light style's layers dark in place: the base map sinks
// into the ground (each colour mixed into it, so that water stays bluish
// and expressways warm), the pipes' white halo becomes the ground, labels
// light on a dark halo, and the colours of the networks, targets and
// sensors that would be too dark to read on it are lightened. The layers,
// their order, zooms and filters stay as they are.
func darken(c *layers.Catalog, all []styleLayer) {
	for i := range all {
		sl := &all[i]
		if sl.Type == "background" {
			sl.Paint["background-color"] = darkGround
			continue
		}
		l, _ := c.Layer(sl.SourceLayer)
		base := l != nil && l.Group == "base"
		for k, v := range sl.Paint {
			switch {
			case k == "text-color":
				sl.Paint[k] = darkText
			case k == "text-halo-color":
				sl.Paint[k] = darkHalo
			case strings.HasSuffix(sl.ID, "-casing") && !base:
				if k == "line-color" {
					sl.Paint[k] = darkGround // the pipes' halo
				}
			case strings.HasSuffix(sl.ID, "-edge"):
				if k == "line-color" {
					sl.Paint[k] = "#000000"
				}
			case k == "circle-stroke-color":
				sl.Paint[k] = darkGround
			case strings.HasSuffix(k, "-color"):
				if base {
					sl.Paint[k] = mapColors(v, func(h string) string { return mixHex(h, darkGround, baseMix(sl.Type)) })
				} else {
					sl.Paint[k] = mapColors(v, readableOnDark)
				}
			}
		}
	}
}

// baseMix is how much of the ground a base layer of a type takes: fills
// sink further than lines, so that streets stand out on the blocks.
func baseMix(typ string) float64 {
	if typ == "line" {
		return 0.72
	}
	return 0.8
}

// mapColors applies f to every #rrggbb string in a paint value, an
// expression's outputs among them.
func mapColors(v any, f func(string) string) any {
	switch v := v.(type) {
	case string:
		if isHex(v) {
			return f(v)
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = mapColors(e, f)
		}
		return out
	}
	return v
}

func isHex(s string) bool {
	var r, g, b uint8
	_, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b)
	return err == nil && len(s) == 7
}

// readableOnDark lightens a colour, mixing in white, until it stands out
// from the dark ground by 3:1 (WCAG 2.1's contrast for graphics).
func readableOnDark(h string) string {
	for w := 0.0; w <= 1; w += 0.05 {
		c := mixHex(h, "#ffffff", w)
		if contrast(c, darkGround) >= 3 {
			return c
		}
	}
	return "#ffffff"
}

// mixHex is a·(1−w) + b·w per channel, as #rrggbb.
func mixHex(a, b string, w float64) string {
	ra, ga, ba := rgb(a)
	rb, gb, bb := rgb(b)
	m := func(x, y float64) uint8 { return uint8(math.Round(x*(1-w) + y*w)) }
	return fmt.Sprintf("#%02x%02x%02x", m(ra, rb), m(ga, gb), m(ba, bb))
}

func rgb(h string) (r, g, b float64) {
	var ri, gi, bi uint8
	fmt.Sscanf(h, "#%02x%02x%02x", &ri, &gi, &bi)
	return float64(ri), float64(gi), float64(bi)
}

// luminance is WCAG 2.1's relative luminance of a #rrggbb colour.
func luminance(h string) float64 {
	r, g, b := rgb(h)
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2.1's contrast ratio of two colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
