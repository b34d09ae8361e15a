package mapstyle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"sync"

	"golang.org/x/image/vector"

	"github.com/onemap/onemap/layers"
)

// SpriteDefault is the kind suffix of the icon drawn for a point whose kind
// has no icon of its own ("hazard-default").
const SpriteDefault = "default"

// Sprite returns the MapLibre sprite of the one map at a pixel ratio (1 or
// 2, as /sprite.json and /sprite@2x.json): the JSON index and the PNG atlas
// of every icon the style names, drawn once and cached.
func Sprite(pixelRatio int) (index []byte, png []byte, err error) {
	if pixelRatio < 1 || pixelRatio > 4 {
		return nil, nil, fmt.Errorf("mapstyle: sprite pixel ratio %d not in 1–4", pixelRatio)
	}
	spriteMu.Lock()
	defer spriteMu.Unlock()
	s, ok := spriteCache[pixelRatio]
	if !ok {
		s.index, s.png, s.err = drawSprite(pixelRatio)
		spriteCache[pixelRatio] = s
	}
	return s.index, s.png, s.err
}

type spriteSheet struct {
	index, png []byte
	err        error
}

var (
	spriteMu    sync.Mutex
	spriteCache = map[int]spriteSheet{}
)

// SpriteEntry is one image of a sprite index, in device pixels.
type SpriteEntry struct {
	X          int `json:"x"`
	Y          int `json:"y"`
	Width      int `json:"width"`
	Height     int `json:"height"`
	PixelRatio int `json:"pixelRatio"`
}

// spriteIcon is one icon: its size in CSS pixels and how to draw it.
type spriteIcon struct {
	name string
	size int
	draw func(p *spritePen)
}

// spriteHas reports whether the sprite holds an icon of that name.
func spriteHas(name string) bool {
	_, ok := spriteByName[name]
	return ok
}

var spriteByName = func() map[string]spriteIcon {
	m := map[string]spriteIcon{}
	for _, ic := range spriteIcons() {
		if _, dup := m[ic.name]; dup {
			panic("mapstyle: duplicate sprite icon " + ic.name)
		}
		m[ic.name] = ic
	}
	return m
}()

// spritePad keeps icons apart in the atlas so that linear filtering never
// bleeds one into its neighbour.
const spritePad = 2

func drawSprite(ratio int) ([]byte, []byte, error) {
	names := make([]string, 0, len(spriteByName))
	for n := range spriteByName {
		names = append(names, n)
	}
	slices.Sort(names)
	// Shelf packing into rows at most 256 CSS px wide.
	const rowWidth = 256
	index := map[string]SpriteEntry{}
	x, y, rowH, width := 0, 0, 0, 0
	for _, n := range names {
		sz := spriteByName[n].size
		if x+sz+spritePad > rowWidth {
			x, y, rowH = 0, y+rowH, 0
		}
		index[n] = SpriteEntry{X: x * ratio, Y: y * ratio, Width: sz * ratio, Height: sz * ratio, PixelRatio: ratio}
		x += sz + spritePad
		rowH = max(rowH, sz+spritePad)
		width = max(width, x)
	}
	atlas := image.NewRGBA(image.Rect(0, 0, width*ratio, (y+rowH)*ratio))
	for _, n := range names {
		e := index[n]
		sub := atlas.SubImage(image.Rect(e.X, e.Y, e.X+e.Width, e.Y+e.Height)).(*image.RGBA)
		spriteByName[n].draw(&spritePen{dst: sub, scale: float32(ratio)})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, atlas); err != nil {
		return nil, nil, fmt.Errorf("mapstyle: sprite png: %w", err)
	}
	js, err := json.Marshal(index)
	if err != nil {
		return nil, nil, err
	}
	return js, buf.Bytes(), nil
}

// spritePen draws filled shapes on one icon, in CSS pixel coordinates scaled by
// the pixel ratio.
type spritePen struct {
	dst   *image.RGBA
	scale float32
}

// spritePt is a point in an icon's CSS pixel coordinates.
type spritePt struct{ x, y float32 }

// fill draws the polygons together in one colour; a polygon wound the
// other way cuts a hole.
func (p *spritePen) fill(c string, polys ...[]spritePt) {
	b := p.dst.Bounds()
	r := vector.NewRasterizer(b.Dx(), b.Dy())
	for _, poly := range polys {
		for i, q := range poly {
			if i == 0 {
				r.MoveTo(q.x*p.scale, q.y*p.scale)
			} else {
				r.LineTo(q.x*p.scale, q.y*p.scale)
			}
		}
		r.ClosePath()
	}
	r.Draw(p.dst, b, image.NewUniform(spriteColor(c)), b.Min)
}

func (p *spritePen) circle(c string, cx, cy, rad float32) { p.fill(c, spriteCircle(cx, cy, rad, rad)) }

// ring draws a circle outline of width w centred on radius rad.
func (p *spritePen) ring(c string, cx, cy, rad, w float32) {
	p.fill(c, spriteCircle(cx, cy, rad+w/2, rad+w/2), spriteReverse(spriteCircle(cx, cy, rad-w/2, rad-w/2)))
}

func (p *spritePen) rect(c string, x0, y0, x1, y1 float32) { p.fill(c, spriteRect(x0, y0, x1, y1)) }

// line draws a polyline of width w with round joins.
func (p *spritePen) line(c string, w float32, pts ...spritePt) {
	var polys [][]spritePt
	for i := 1; i < len(pts); i++ {
		polys = append(polys, spriteSegment(pts[i-1], pts[i], w))
	}
	for _, q := range pts {
		polys = append(polys, spriteCircle(q.x, q.y, w/2, w/2))
	}
	p.fill(c, polys...)
}

func spriteCircle(cx, cy, rx, ry float32) []spritePt {
	const n = 40
	out := make([]spritePt, n)
	for i := range out {
		a := 2 * math.Pi * float64(i) / n
		out[i] = spritePt{cx + rx*float32(math.Cos(a)), cy + ry*float32(math.Sin(a))}
	}
	return out
}

func spriteRect(x0, y0, x1, y1 float32) []spritePt {
	return []spritePt{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}

func spriteRoundRect(x0, y0, x1, y1, rad float32) []spritePt {
	var out []spritePt
	corners := []struct{ cx, cy, a0 float32 }{
		{x1 - rad, y0 + rad, -90}, {x1 - rad, y1 - rad, 0}, {x0 + rad, y1 - rad, 90}, {x0 + rad, y0 + rad, 180},
	}
	for _, c := range corners {
		for i := 0; i <= 6; i++ {
			a := float64(c.a0+float32(i)*15) * math.Pi / 180
			out = append(out, spritePt{c.cx + rad*float32(math.Cos(a)), c.cy + rad*float32(math.Sin(a))})
		}
	}
	return out
}

func spriteSegment(a, b spritePt, w float32) []spritePt {
	dx, dy := b.x-a.x, b.y-a.y
	l := float32(math.Hypot(float64(dx), float64(dy)))
	if l == 0 {
		return nil
	}
	nx, ny := -dy/l*w/2, dx/l*w/2
	return []spritePt{{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}}
}

func spriteReverse(poly []spritePt) []spritePt {
	out := slices.Clone(poly)
	slices.Reverse(out)
	return out
}

func spriteColor(s string) color.Color {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		panic("mapstyle: bad sprite colour " + s)
	}
	return color.NRGBA{r, g, b, 255}
}

const spriteWhite = "#ffffff"

// spriteIcons lists every icon of the sprite. Protective targets are blue
// badges told apart by their pictogram; hazards are warning triangles in
// reds and oranges; network nodes are small and take their layer's colour.
func spriteIcons() []spriteIcon {
	var icons []spriteIcon
	add := func(name string, size int, draw func(p *spritePen)) {
		icons = append(icons, spriteIcon{name, size, draw})
	}

	// Protective targets, 20 px: a white-edged badge and a white pictogram.
	disc := func(c string) func(p *spritePen) {
		return func(p *spritePen) { p.circle(spriteWhite, 10, 10, 9.6); p.circle(c, 10, 10, 8.3) }
	}
	square := func(c string) func(p *spritePen) {
		return func(p *spritePen) {
			p.fill(spriteWhite, spriteRoundRect(0.5, 0.5, 19.5, 19.5, 4))
			p.fill(c, spriteRoundRect(1.8, 1.8, 18.2, 18.2, 3))
		}
	}
	target := func(kind string, badge func(c string) func(p *spritePen), c string, mark func(p *spritePen, c string)) {
		add(layers.ProtectiveTarget+"-"+kind, 20, func(p *spritePen) { badge(c)(p); mark(p, c) })
	}
	target("school", disc, "#1d4ed8", func(p *spritePen, c string) {
		p.fill(spriteWhite, []spritePt{{4.8, 9.6}, {10, 4.6}, {15.2, 9.6}})
		p.rect(spriteWhite, 6.3, 9.4, 13.7, 15)
		p.rect(c, 9, 11.6, 11, 15)
	})
	target("kindergarten", disc, "#0891b2", func(p *spritePen, _ string) {
		p.circle(spriteWhite, 10, 6.9, 2.3)
		p.fill(spriteWhite, []spritePt{{10, 9.4}, {14.2, 15.6}, {5.8, 15.6}})
	})
	target("hospital", square, "#2563eb", func(p *spritePen, _ string) {
		p.rect(spriteWhite, 8.2, 4.4, 11.8, 15.6)
		p.rect(spriteWhite, 4.4, 8.2, 15.6, 11.8)
	})
	target("nursing_home", square, "#4338ca", func(p *spritePen, _ string) {
		p.fill(spriteWhite, spriteCircle(7.4, 8.4, 2.9, 2.9), spriteCircle(12.6, 8.4, 2.9, 2.9), []spritePt{{4.7, 9.6}, {15.3, 9.6}, {10, 15.6}})
	})
	target("market", disc, "#0369a1", func(p *spritePen, _ string) {
		p.line(spriteWhite, 1.3, spritePt{6.8, 8.6}, spritePt{10, 4.6}, spritePt{13.2, 8.6})
		p.fill(spriteWhite, []spritePt{{4.4, 8.4}, {15.6, 8.4}, {13.8, 15}, {6.2, 15}})
	})
	target("mall", square, "#1e40af", func(p *spritePen, _ string) {
		p.ring(spriteWhite, 10, 7.8, 2.6, 1.3)
		p.rect(spriteWhite, 5.4, 8, 14.6, 15.6)
	})
	target("metro_station", disc, "#1e3a8a", func(p *spritePen, _ string) {
		p.line(spriteWhite, 1.9, spritePt{5.6, 14.4}, spritePt{5.6, 5.8}, spritePt{10, 10.8}, spritePt{14.4, 5.8}, spritePt{14.4, 14.4})
	})
	target("station", disc, "#3b82f6", func(p *spritePen, c string) {
		p.fill(spriteWhite, spriteRoundRect(6, 4.4, 14, 13.6, 1.6))
		p.rect(c, 7.4, 5.9, 12.6, 8.9)
		p.circle(c, 8, 11.4, 0.9)
		p.circle(c, 12, 11.4, 0.9)
		p.line(spriteWhite, 1.1, spritePt{7.6, 13.4}, spritePt{6.4, 15.6})
		p.line(spriteWhite, 1.1, spritePt{12.4, 13.4}, spritePt{13.6, 15.6})
	})
	target("stadium", disc, "#0284c7", func(p *spritePen, _ string) {
		p.fill(spriteWhite, spriteCircle(10, 10, 6, 4.3), spriteReverse(spriteCircle(10, 10, 4.4, 2.7)))
		p.rect(spriteWhite, 9.4, 7.3, 10.6, 12.7)
	})
	target("residential", square, "#475569", func(p *spritePen, c string) {
		p.rect(spriteWhite, 5.5, 4.4, 14.5, 15.6)
		for _, y := range []float32{6, 9, 12} {
			p.rect(c, 7, y, 9.2, y+1.8)
			p.rect(c, 10.8, y, 13, y+1.8)
		}
	})
	target(SpriteDefault, disc, "#2563eb", func(p *spritePen, _ string) { p.circle(spriteWhite, 10, 10, 3) })

	// Hazards, 20 px: a white-edged warning triangle and a pictogram.
	hazard := func(kind, c string, mark func(p *spritePen, c string)) {
		add(layers.Hazard+"-"+kind, 20, func(p *spritePen) {
			p.fill(spriteWhite, []spritePt{{10, 0.4}, {19.8, 18.6}, {0.2, 18.6}})
			p.fill(c, []spritePt{{10, 3}, {17.7, 17.3}, {2.3, 17.3}})
			mark(p, c)
		})
	}
	hazard("gas_station", "#dc2626", func(p *spritePen, c string) {
		p.rect(spriteWhite, 7, 8.4, 11.4, 16)
		p.rect(c, 7.9, 9.4, 10.5, 11)
		p.line(spriteWhite, 1, spritePt{11.4, 10}, spritePt{13.1, 11.4}, spritePt{13.1, 14.6})
	})
	hazard("lpg_station", "#b91c1c", func(p *spritePen, _ string) {
		p.fill(spriteWhite, spriteRoundRect(7.6, 8.2, 12.4, 16, 2.2))
		p.rect(spriteWhite, 9.2, 6.8, 10.8, 8.4)
	})
	hazard("regulator_station", "#ea580c", func(p *spritePen, _ string) {
		p.ring(spriteWhite, 10, 12.4, 3.3, 1.3)
		p.line(spriteWhite, 1.1, spritePt{10, 12.4}, spritePt{11.9, 10.5})
	})
	hazard("chemical_store", "#c2410c", func(p *spritePen, c string) {
		// An Erlenmeyer flask with its liquid.
		p.rect(spriteWhite, 8.6, 6.6, 11.4, 7.6)
		p.fill(spriteWhite, []spritePt{{9.1, 7.4}, {10.9, 7.4}, {10.9, 10}, {14.4, 16}, {5.6, 16}, {9.1, 10}})
		p.fill(c, []spritePt{{7.5, 12.8}, {12.5, 12.8}, {13.4, 14.9}, {6.6, 14.9}})
	})
	hazard("restaurant", "#f97316", func(p *spritePen, c string) {
		// A flame: the kitchens' gas.
		p.fill(spriteWhite, spriteCircle(10, 13.2, 3, 3), []spritePt{{7.1, 12.6}, {10, 6.2}, {12.9, 12.6}})
		p.fill(c, spriteCircle(10, 14.2, 1.4, 1.4), []spritePt{{8.65, 13.9}, {10, 10.8}, {11.35, 13.9}})
	})
	hazard("construction_site", "#f59e0b", func(p *spritePen, _ string) {
		p.rect("#1f2937", 9.1, 7.2, 10.9, 12.9)
		p.circle("#1f2937", 10, 14.8, 1.1)
	})
	hazard(SpriteDefault, "#dc2626", func(p *spritePen, _ string) {
		p.rect(spriteWhite, 9.1, 7.2, 10.9, 12.9)
		p.circle(spriteWhite, 10, 14.8, 1.1)
	})

	// Network nodes, 14 px, each in its layer's colour with a white halo
	// so that it reads over its own pipe.
	node := func(layer, kind, c string, draw func(p *spritePen, c string)) {
		add(layer+"-"+kind, 14, func(p *spritePen) { draw(p, c) })
	}
	valve := func(p *spritePen, c string) {
		p.circle(spriteWhite, 7, 7, 6.6)
		p.ring(c, 7, 7, 5.6, 1.1)
		p.fill(c, []spritePt{{3.4, 4}, {7, 7}, {3.4, 10}}, []spritePt{{10.6, 4}, {7, 7}, {10.6, 10}})
	}
	tee := func(p *spritePen, c string) {
		p.circle(spriteWhite, 7, 7, 4.3)
		p.circle(c, 7, 7, 3.1)
	}
	end := func(p *spritePen, c string) {
		p.rect(spriteWhite, 2, 4.5, 12, 9.5)
		p.rect(c, 3, 5.5, 11, 8.5)
	}
	bend := func(p *spritePen, c string) {
		p.circle(spriteWhite, 7, 7, 3.8)
		p.ring(c, 7, 7, 2.4, 1.2)
	}
	station := func(p *spritePen, c string) {
		p.fill(spriteWhite, spriteRoundRect(0.6, 0.6, 13.4, 13.4, 2.5))
		p.fill(c, spriteRoundRect(1.7, 1.7, 12.3, 12.3, 1.8))
		p.rect(spriteWhite, 4.6, 4.6, 9.4, 9.4)
	}
	plant := func(p *spritePen, c string) {
		p.rect(spriteWhite, 0.5, 0.5, 13.5, 13.5)
		p.rect(c, 1.6, 1.6, 12.4, 12.4)
		p.rect(spriteWhite, 3.6, 3.6, 10.4, 10.4)
		p.rect(c, 5.4, 5.4, 8.6, 8.6)
	}
	cross := func(p *spritePen, c string) {
		p.fill(spriteWhite, spriteRoundRect(0.6, 0.6, 13.4, 13.4, 2.5))
		p.fill(c, spriteRoundRect(1.7, 1.7, 12.3, 12.3, 1.8))
		p.line(spriteWhite, 1.4, spritePt{4.2, 4.2}, spritePt{9.8, 9.8})
		p.line(spriteWhite, 1.4, spritePt{4.2, 9.8}, spritePt{9.8, 4.2})
	}
	dot := func(p *spritePen, c string) {
		p.circle(spriteWhite, 7, 7, 4)
		p.circle(c, 7, 7, 2.9)
	}
	for _, n := range []struct{ layer, color string }{
		{layers.GasNode, "#be185d"}, {layers.WaterNode, "#0369a1"}, {layers.DrainNode, "#78350f"}, {layers.HeatNode, "#c2410c"},
	} {
		node(n.layer, SpriteDefault, n.color, dot)
		if n.layer == layers.DrainNode {
			continue
		}
		node(n.layer, "valve", n.color, valve)
		node(n.layer, "tee", n.color, tee)
		node(n.layer, "end", n.color, end)
		node(n.layer, "bend", n.color, bend)
	}
	node(layers.GasNode, "station", "#be185d", station)
	node(layers.GasNode, "regulator", "#be185d", func(p *spritePen, c string) {
		p.rect(spriteWhite, 1, 1, 13, 13)
		p.rect(c, 2.1, 2.1, 11.9, 11.9)
		p.rect(spriteWhite, 3.3, 3.3, 10.7, 10.7)
		p.fill(c, []spritePt{{3.3, 3.3}, {10.7, 10.7}, {3.3, 10.7}})
	})
	node(layers.WaterNode, "hydrant", "#dc2626", func(p *spritePen, c string) {
		p.circle(spriteWhite, 7, 7, 6.6)
		p.circle(c, 7, 7, 5.5)
		p.ring(spriteWhite, 7, 7, 2.6, 1.3)
		p.rect(spriteWhite, 0.8, 6.2, 3.4, 7.8)
		p.rect(spriteWhite, 10.6, 6.2, 13.2, 7.8)
	})
	node(layers.WaterNode, "plant", "#0369a1", plant)
	node(layers.WaterNode, "large_user", "#0369a1", func(p *spritePen, c string) {
		p.fill(spriteWhite, []spritePt{{7, 0}, {14, 7}, {7, 14}, {0, 7}})
		p.fill(c, []spritePt{{7, 1.6}, {12.4, 7}, {7, 12.4}, {1.6, 7}})
	})
	node(layers.HeatNode, "substation", "#c2410c", cross)
	node(layers.HeatNode, "plant", "#c2410c", plant)
	const drain = "#78350f"
	node(layers.DrainNode, "manhole", drain, func(p *spritePen, c string) {
		p.circle(spriteWhite, 7, 7, 6.6)
		p.ring(c, 7, 7, 5, 1.5)
		p.line(c, 1, spritePt{3.5, 7}, spritePt{10.5, 7})
	})
	node(layers.DrainNode, "outfall", drain, func(p *spritePen, c string) {
		p.fill(spriteWhite, []spritePt{{0.4, 2}, {13.6, 2}, {7, 13.4}})
		p.fill(c, []spritePt{{2.4, 3.1}, {11.6, 3.1}, {7, 11.2}})
	})
	node(layers.DrainNode, "pump_station", drain, func(p *spritePen, c string) {
		station(p, c)
		p.circle(c, 7, 7, 1.4)
	})
	node(layers.DrainNode, "storage_tank", drain, func(p *spritePen, c string) {
		p.fill(spriteWhite, spriteRoundRect(0.5, 2.5, 13.5, 11.5, 2.6))
		p.fill(c, spriteRoundRect(1.6, 3.6, 12.4, 10.4, 1.9))
		p.rect(spriteWhite, 3.4, 6.4, 10.6, 7.6)
	})
	node(layers.DrainNode, "waterlogging_point", "#2563eb", func(p *spritePen, c string) {
		p.fill(spriteWhite, spriteCircle(7, 8.6, 5, 5), []spritePt{{2.4, 7.4}, {7, 0.2}, {11.6, 7.4}})
		p.fill(c, spriteCircle(7, 8.6, 3.8, 3.8), []spritePt{{3.4, 7.6}, {7, 1.9}, {10.6, 7.6}})
	})
	node(layers.DrainNode, "inlet", drain, func(p *spritePen, c string) {
		p.rect(spriteWhite, 1, 2.5, 13, 11.5)
		p.rect(c, 2, 3.5, 12, 10.5)
		for _, x := range []float32{4.3, 6.5, 8.7} {
			p.rect(spriteWhite, x, 4.7, x+1, 9.3)
		}
	})
	return icons
}
