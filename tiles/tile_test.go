package tiles

import (
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseTile(t *testing.T) {
	tests := []struct {
		name    string
		z, x, y string
		want    Tile
		err     error
	}{
		{"OK", "14", "13528", "6640.mvt", Tile{14, 13528, 6640}, nil},
		{"OKWithoutSuffix", "0", "0", "0", Tile{0, 0, 0}, nil},
		{"OKMaxZoom", "24", "16777215", "0", Tile{24, 16777215, 0}, nil},
		{"ErrZoomHigh", "25", "0", "0", Tile{}, ErrZoom},
		{"ErrZoomNegative", "-1", "0", "0", Tile{}, ErrZoom},
		{"ErrZoomNotNumber", "z", "0", "0", Tile{}, ErrTilePath},
		{"ErrXTooLarge", "2", "4", "0", Tile{}, ErrTileXY},
		{"ErrYTooLarge", "2", "0", "4", Tile{}, ErrTileXY},
		{"ErrXNegative", "2", "-1", "0", Tile{}, ErrTileXY},
		{"ErrXNotNumber", "2", "1.5", "0", Tile{}, ErrTilePath},
		{"ErrHugeX", "2", "99999999999999999999", "0", Tile{}, ErrTilePath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTile(tt.z, tt.x, tt.y)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("tile = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTileBound(t *testing.T) {
	b := Tile{Z: 1, X: 1, Y: 0}.Bound(0)
	if b.Min[0] != 0 || b.Max[0] != 180 || b.Min[1] != 0 || math.Abs(b.Max[1]-85.0511287798) > 1e-6 {
		t.Errorf("bound of 1/1/0 = %v", b)
	}
	// A buffer of a quarter tile grows each side by a quarter of the width.
	bb := Tile{Z: 2, X: 1, Y: 1}.Bound(0.25)
	if got, want := bb.Max[0]-bb.Min[0], 90*1.5; math.Abs(got-want) > 1e-9 {
		t.Errorf("buffered width = %v, want %v", got, want)
	}
}

func TestCovering(t *testing.T) {
	// Hefei's centre lies in one z10 tile; a bound across two z10 tiles gets two.
	p := orb.Point{117.27, 31.85}
	ts := Covering(orb.Bound{Min: p, Max: p}, 10)
	if len(ts) != 1 || ts[0] != (Tile{10, 845, 416}) {
		t.Fatalf("covering of a point = %v", ts)
	}
	b := ts[0].Bound(0)
	wide := orb.Bound{Min: orb.Point{b.Min[0] + 0.01, b.Min[1] + 0.01}, Max: orb.Point{b.Max[0] + 0.01, b.Max[1] - 0.01}}
	if got := Covering(wide, 10); len(got) != 2 {
		t.Errorf("covering across an edge = %v, want 2 tiles", got)
	}
}

func FuzzParseTile(f *testing.F) {
	f.Add("14", "13528", "6640.mvt")
	f.Add("0", "0", "0")
	f.Add("24", "-0", "+1")
	f.Fuzz(func(t *testing.T, z, x, y string) {
		tl, err := ParseTile(z, x, y)
		if err != nil {
			if !errors.Is(err, ErrZoom) && !errors.Is(err, ErrTileXY) && !errors.Is(err, ErrTilePath) {
				t.Fatalf("error %v has no tiles error kind", err)
			}
			return
		}
		if tl.Z < 0 || tl.Z > MaxZoom || uint64(tl.X) >= 1<<tl.Z || uint64(tl.Y) >= 1<<tl.Z {
			t.Fatalf("accepted %v", tl)
		}
	})
}
