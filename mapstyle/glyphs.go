package mapstyle

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"net/url"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"google.golang.org/protobuf/encoding/protowire"
)

// ErrUnknownFont is returned by Glyphs for a fontstack none of whose fonts
// this server has.
var ErrUnknownFont = errors.New("mapstyle: unknown font")

// Fontstack names Glyphs serves; the style's text-font uses them.
const (
	FontRegular = "Go Regular"
	FontBold    = "Go Bold"
)

// The SDF parameters MapLibre expects of server glyphs: the same as its
// TinySDF for locally drawn ideographs, so that both kinds of glyph line up
// and render at the same weight.
const (
	glyphSize   = 24   // px of the em
	glyphBuffer = 3    // px of empty border around each bitmap
	glyphRadius = 8    // px of distance the SDF encodes
	glyphCutoff = 0.25 // share of the radius inside the glyph: edge = 192
	// glyphTopOrigin: server glyphs measure top from an origin 27 px above
	// the baseline (FreeType's, as fontnik serves them); MapLibre shifts its
	// local glyphs by the same amount to match.
	glyphTopOrigin = 27
)

// glyphFonts maps the served fontstack names to the embedded TTFs.
var glyphFonts = map[string][]byte{
	FontRegular: goregular.TTF,
	FontBold:    gobold.TTF,
}

// glyphFont renders one font's ranges; each range is made once, on first use.
type glyphFont struct {
	name string
	ttf  []byte

	once sync.Once
	err  error
	f    *sfnt.Font
	face font.Face

	mu     sync.Mutex // guards face (not safe for concurrent use) and ranges
	ranges map[int][]byte
}

var glyphCache = func() map[string]*glyphFont {
	m := map[string]*glyphFont{}
	for name, ttf := range glyphFonts {
		m[name] = &glyphFont{name: name, ttf: ttf, ranges: map[int][]byte{}}
	}
	return m
}()

// Glyphs returns the SDF glyph PBF of the code points start..start+255 of a
// fontstack ("A" or "A,B": the first name this server knows is used), as
// MapLibre requests them from the style's glyphs URL. A range the font has
// no glyph in is a valid, empty PBF: CJK ideographs are drawn by the browser.
func Glyphs(fontstack string, start int) ([]byte, error) {
	if start < 0 || start > 0xFF00 || start%256 != 0 {
		return nil, fmt.Errorf("mapstyle: glyph range start %d is not a multiple of 256 in 0–65280", start)
	}
	if s, err := url.PathUnescape(fontstack); err == nil {
		fontstack = s
	}
	for _, name := range strings.Split(fontstack, ",") {
		if g, ok := glyphCache[strings.TrimSpace(name)]; ok {
			return g.rangePBF(start)
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownFont, fontstack)
}

func (g *glyphFont) rangePBF(start int) ([]byte, error) {
	g.once.Do(func() {
		g.f, g.err = sfnt.Parse(g.ttf)
		if g.err == nil {
			g.face, g.err = opentype.NewFace(g.f, &opentype.FaceOptions{Size: glyphSize, DPI: 72, Hinting: font.HintingNone})
		}
	})
	if g.err != nil {
		return nil, fmt.Errorf("mapstyle: font %s: %w", g.name, g.err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if b, ok := g.ranges[start]; ok {
		return b, nil
	}
	var buf sfnt.Buffer
	var glyphs []byte
	for r := rune(start); r < rune(start+256); r++ {
		if unicode.IsControl(r) {
			continue
		}
		if x, err := g.f.GlyphIndex(&buf, r); err != nil || x == 0 {
			continue
		}
		m, ok := g.render(r)
		if !ok {
			continue
		}
		glyphs = protowire.AppendTag(glyphs, 3, protowire.BytesType)
		glyphs = protowire.AppendBytes(glyphs, m.encode())
	}
	// The PBF is a glyphs message of one fontstack (name, range, glyphs),
	// as in MapLibre's glyphs.proto.
	var stack []byte
	stack = protowire.AppendTag(stack, 1, protowire.BytesType)
	stack = protowire.AppendString(stack, g.name)
	stack = protowire.AppendTag(stack, 2, protowire.BytesType)
	stack = protowire.AppendString(stack, fmt.Sprintf("%d-%d", start, start+255))
	stack = append(stack, glyphs...)
	b := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), stack)
	g.ranges[start] = b
	return b, nil
}

// sdfGlyph is one glyph as the PBF carries it.
type sdfGlyph struct {
	id            rune
	bitmap        []byte // (width+2·buffer)·(height+2·buffer) bytes, nil if empty
	width, height int
	left, top     int
	advance       int
}

// render rasterises r at 24 px and turns its coverage into a signed
// distance field, the way TinySDF does.
func (g *glyphFont) render(r rune) (sdfGlyph, bool) {
	dr, mask, maskp, adv, ok := g.face.Glyph(fixed.Point26_6{}, r)
	if !ok {
		return sdfGlyph{}, false
	}
	m := sdfGlyph{id: r, advance: int(math.Round(float64(adv) / 64))}
	if dr.Empty() {
		return m, true // a space: an advance and no bitmap
	}
	m.width, m.height = dr.Dx(), dr.Dy()
	m.left = dr.Min.X
	m.top = -dr.Min.Y - glyphTopOrigin
	w, h := m.width+2*glyphBuffer, m.height+2*glyphBuffer
	alpha := image.NewAlpha(image.Rect(0, 0, w, h))
	draw.Draw(alpha, image.Rect(glyphBuffer, glyphBuffer, w-glyphBuffer, h-glyphBuffer), mask, maskp, draw.Src)
	m.bitmap = glyphSDF(alpha.Pix, w, h)
	return m, true
}

// encode returns the glyph message: id, bitmap, width, height, left, top
// (both sint32) and advance, fields 1 to 7.
func (m sdfGlyph) encode() []byte {
	varint := func(b []byte, field protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, field, protowire.VarintType), v)
	}
	var b []byte
	b = varint(b, 1, uint64(m.id))
	if len(m.bitmap) > 0 {
		// MapLibre sizes the bitmap from width and height; an empty glyph
		// must leave it out rather than send zero bytes.
		b = protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), m.bitmap)
	}
	b = varint(b, 3, uint64(m.width))
	b = varint(b, 4, uint64(m.height))
	b = varint(b, 5, protowire.EncodeZigZag(int64(m.left)))
	b = varint(b, 6, protowire.EncodeZigZag(int64(m.top)))
	b = varint(b, 7, uint64(m.advance))
	return b
}

// glyphSDF returns the signed distance field of a coverage mask: 255 deep inside,
// 192 on the edge, falling by 255/radius per pixel outside, as TinySDF.
func glyphSDF(alpha []byte, w, h int) []byte {
	const inf = 1e20
	n := w * h
	outer := make([]float64, n)
	inner := make([]float64, n)
	for i, a8 := range alpha {
		a := float64(a8) / 255
		switch {
		case a >= 1:
			outer[i], inner[i] = 0, inf
		case a <= 0:
			outer[i], inner[i] = inf, 0
		default:
			// A partly covered pixel is an edge at a sub-pixel distance.
			d := 0.5 - a
			if d > 0 {
				outer[i], inner[i] = d*d, 0
			} else {
				outer[i], inner[i] = 0, d*d
			}
		}
	}
	glyphEDT(outer, w, h)
	glyphEDT(inner, w, h)
	out := make([]byte, n)
	for i := range out {
		d := math.Sqrt(outer[i]) - math.Sqrt(inner[i])
		v := math.Round(255 - 255*(d/glyphRadius+glyphCutoff))
		out[i] = uint8(max(0, min(255, v)))
	}
	return out
}

// glyphEDT replaces squared distances in a w×h grid by the squared Euclidean
// distance to the nearest zero, column then row passes of the
// Felzenszwalb–Huttenlocher transform.
func glyphEDT(grid []float64, w, h int) {
	size := max(w, h)
	f := make([]float64, size)
	v := make([]int, size)
	z := make([]float64, size+1)
	d := make([]float64, size)
	for x := range w {
		for y := range h {
			f[y] = grid[y*w+x]
		}
		glyphEDT1D(f[:h], v, z, d[:h])
		for y := range h {
			grid[y*w+x] = d[y]
		}
	}
	for y := range h {
		copy(f, grid[y*w:y*w+w])
		glyphEDT1D(f[:w], v, z, d[:w])
		copy(grid[y*w:y*w+w], d[:w])
	}
}

// glyphEDT1D is the one-dimensional lower envelope of parabolas over f; d
// receives the squared distances.
func glyphEDT1D(f []float64, v []int, z []float64, d []float64) {
	const inf = 1e20
	v[0] = 0
	z[0], z[1] = -inf, inf
	k := 0
	for q := 1; q < len(f); q++ {
		var s float64
		for {
			r := v[k]
			s = (f[q] - f[r] + float64(q*q-r*r)) / float64(q-r) / 2
			if s <= z[k] {
				k--
				if k > -1 {
					continue
				}
			}
			break
		}
		k++
		v[k] = q
		z[k], z[k+1] = s, inf
	}
	k = 0
	for q := range f {
		for z[k+1] < float64(q) {
			k++
		}
		r := v[k]
		d[q] = f[r] + float64((q-r)*(q-r))
	}
}
