package mapstyle

import (
	"errors"
	"fmt"
	"testing"
)

// pbField is one decoded protocol buffer field: a varint or a byte string.
type pbField struct {
	num   int
	value uint64
	bytes []byte
}

// pbDecode splits a protocol buffer message into its fields; it knows the
// varint and length-delimited wire types, the only ones glyph PBFs use.
func pbDecode(t *testing.T, b []byte) []pbField {
	t.Helper()
	var out []pbField
	uvarint := func() uint64 {
		var v uint64
		for shift := 0; ; shift += 7 {
			if len(b) == 0 || shift > 63 {
				t.Fatal("truncated varint")
			}
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << shift
			if c < 0x80 {
				return v
			}
		}
	}
	for len(b) > 0 {
		key := uvarint()
		f := pbField{num: int(key >> 3)}
		switch key & 7 {
		case 0:
			f.value = uvarint()
		case 2:
			n := uvarint()
			if uint64(len(b)) < n {
				t.Fatalf("field %d: %d bytes of %d", f.num, len(b), n)
			}
			f.bytes, b = b[:n], b[n:]
		default:
			t.Fatalf("field %d: unexpected wire type %d", f.num, key&7)
		}
		out = append(out, f)
	}
	return out
}

// decodedStack is a fontstack message of a glyph PBF.
type decodedStack struct {
	name, rng string
	glyphs    map[rune]sdfGlyph
}

func decodeGlyphs(t *testing.T, b []byte) decodedStack {
	t.Helper()
	top := pbDecode(t, b)
	if len(top) != 1 || top[0].num != 1 {
		t.Fatalf("want one fontstack, got %d fields", len(top))
	}
	s := decodedStack{glyphs: map[rune]sdfGlyph{}}
	for _, f := range pbDecode(t, top[0].bytes) {
		switch f.num {
		case 1:
			s.name = string(f.bytes)
		case 2:
			s.rng = string(f.bytes)
		case 3:
			var g sdfGlyph
			unzig := func(v uint64) int { return int(int64(v>>1) ^ -int64(v&1)) }
			for _, gf := range pbDecode(t, f.bytes) {
				switch gf.num {
				case 1:
					g.id = rune(gf.value)
				case 2:
					g.bitmap = gf.bytes
				case 3:
					g.width = int(gf.value)
				case 4:
					g.height = int(gf.value)
				case 5:
					g.left = unzig(gf.value)
				case 6:
					g.top = unzig(gf.value)
				case 7:
					g.advance = int(gf.value)
				}
			}
			s.glyphs[g.id] = g
		}
	}
	return s
}

func TestGlyphs(t *testing.T) {
	b, err := Glyphs(FontRegular, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := decodeGlyphs(t, b)
	if s.name != FontRegular || s.rng != "0-255" {
		t.Errorf("fontstack %q range %q", s.name, s.rng)
	}
	for r := rune(0); r < 256; r++ {
		g, ok := s.glyphs[r]
		if r >= '!' && r <= '~' && !ok {
			t.Errorf("no glyph %q", r)
		}
		if !ok {
			continue
		}
		if want := (g.width + 6) * (g.height + 6); g.width > 0 && len(g.bitmap) != want {
			t.Errorf("glyph %q: bitmap %d bytes, want %d", r, len(g.bitmap), want)
		}
		if r < ' ' {
			t.Errorf("control character %d has a glyph", r)
		}
	}
	a := s.glyphs['A']
	if a.width < 10 || a.width > 20 || a.height < 14 || a.height > 20 || a.advance < 12 || a.advance > 20 {
		t.Errorf("'A' is %d×%d advance %d, want about 16×17 advance 16 at 24 px", a.width, a.height, a.advance)
	}
	if a.top != a.height-glyphTopOrigin {
		t.Errorf("'A' top %d, want its height above the baseline minus %d", a.top, glyphTopOrigin)
	}
	var inside, edge, outside int
	for _, v := range a.bitmap {
		switch {
		case v > 200:
			inside++
		case v > 150:
			edge++
		case v < 60:
			outside++
		}
	}
	if inside == 0 || edge == 0 || outside == 0 {
		t.Errorf("'A' SDF: %d inside, %d edge, %d outside pixels", inside, edge, outside)
	}
	// The corners of the buffer are far from the glyph: all outside.
	if a.bitmap[0] > 150 {
		t.Errorf("'A' SDF corner = %d, want outside", a.bitmap[0])
	}
	sp := s.glyphs[' ']
	if sp.advance == 0 || sp.width != 0 || sp.bitmap != nil {
		t.Errorf("space: %+v", sp)
	}
}

func TestGlyphsRanges(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fontstack string
		start     int
		err       error
		empty     bool
	}{
		{"Bold", FontBold, 0, nil, false},
		{"FirstKnownOfList", "Noto Sans Regular," + FontBold, 256, nil, false},
		{"Escaped", "Go%20Regular", 0, nil, false},
		{"CJKIsEmpty", FontRegular, 0x4E00, nil, true},
		{"LastRange", FontRegular, 65280, nil, false}, // U+FFFD
		{"HangulIsEmpty", FontRegular, 0xAC00, nil, true},
		{"ErrUnknownFont", "Comic Sans", 0, ErrUnknownFont, false},
		{"ErrNotMultiple", FontRegular, 100, errAny, false},
		{"ErrNegative", FontRegular, -256, errAny, false},
		{"ErrTooHigh", FontRegular, 65536, errAny, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Glyphs(tc.fontstack, tc.start)
			switch {
			case tc.err == errAny && err == nil:
				t.Fatal("want an error")
			case tc.err == errAny:
				return
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			s := decodeGlyphs(t, b)
			if want := fmt.Sprintf("%d-%d", tc.start, tc.start+255); s.rng != want {
				t.Errorf("range %q, want %q", s.rng, want)
			}
			if tc.empty != (len(s.glyphs) == 0) {
				t.Errorf("%d glyphs, want empty %v", len(s.glyphs), tc.empty)
			}
			for id := range s.glyphs {
				if id < rune(tc.start) || id > rune(tc.start+255) {
					t.Errorf("glyph %d outside range", id)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

func BenchmarkGlyphsRange(b *testing.B) {
	g := &glyphFont{name: FontRegular, ttf: glyphFonts[FontRegular], ranges: map[int][]byte{}}
	for b.Loop() {
		clear(g.ranges)
		if _, err := g.rangePBF(0); err != nil {
			b.Fatal(err)
		}
	}
}
