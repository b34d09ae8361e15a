package mapstyle

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/onemap/onemap/layers"
)

var writeSprite = flag.String("sprite-out", "", "write the sprite atlases to this directory to look at them")

func TestSprite(t *testing.T) {
	for _, ratio := range []int{1, 2} {
		index, pngData, err := Sprite(ratio)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(pngData))
		if err != nil {
			t.Fatalf("ratio %d: %v", ratio, err)
		}
		var entries map[string]SpriteEntry
		if err := json.Unmarshal(index, &entries); err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(spriteByName) {
			t.Errorf("ratio %d: %d entries, want %d", ratio, len(entries), len(spriteByName))
		}
		b := img.Bounds()
		var rects []image.Rectangle
		for name, e := range entries {
			r := image.Rect(e.X, e.Y, e.X+e.Width, e.Y+e.Height)
			if e.PixelRatio != ratio || !r.In(b) || r.Empty() {
				t.Errorf("ratio %d: %s %+v outside the %v atlas", ratio, name, e, b)
			}
			for _, o := range rects {
				if o.Overlaps(r) {
					t.Errorf("ratio %d: %s overlaps another icon", ratio, name)
				}
			}
			rects = append(rects, r)
			if opaque(img, r) < e.Width*e.Height/6 {
				t.Errorf("ratio %d: %s is almost empty", ratio, name)
			}
		}
		if want := spriteByName["hazard-gas_station"].size * ratio; entries["hazard-gas_station"].Width != want {
			t.Errorf("ratio %d: gas station icon %d px wide, want %d", ratio, entries["hazard-gas_station"].Width, want)
		}
		if *writeSprite != "" {
			name := *writeSprite + "/sprite.png"
			if ratio == 2 {
				name = *writeSprite + "/sprite@2x.png"
			}
			if err := os.WriteFile(name, pngData, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ratio := range []int{0, 5} {
		if _, _, err := Sprite(ratio); err == nil {
			t.Errorf("ratio %d: want an error", ratio)
		}
	}
}

func TestSpriteCoversEnumeratedKinds(t *testing.T) {
	for _, layer := range []string{layers.ProtectiveTarget, layers.Hazard, layers.GasNode, layers.WaterNode, layers.DrainNode, layers.HeatNode} {
		if !spriteHas(layer + "-" + SpriteDefault) {
			t.Errorf("no default icon for %s", layer)
		}
	}
}

func opaque(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a > 0x8000 {
				n++
			}
		}
	}
	return n
}
