package tiles

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// MaxZoom is the highest zoom a tile may be asked for.
const MaxZoom = layers.MaxZoom

// Errors of tile addresses; the HTTP layer maps them to 400.
var (
	ErrZoom     = errors.New("tiles: zoom out of range")
	ErrTileXY   = errors.New("tiles: x or y out of range for the zoom")
	ErrTilePath = errors.New("tiles: malformed tile address")
)

// Tile is the address of one tile in the XYZ scheme used by web maps.
type Tile struct {
	Z    int
	X, Y uint32
}

func (t Tile) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

// ParseTile parses the z, x and y of a tile address ("14", "13660", "6705")
// and checks that they name a tile. The y may carry the ".mvt" suffix.
func ParseTile(z, x, y string) (Tile, error) {
	y = strings.TrimSuffix(y, ".mvt")
	zi, err := strconv.Atoi(z)
	if err != nil {
		return Tile{}, fmt.Errorf("%w: zoom %q is not a number", ErrTilePath, z)
	}
	if zi < 0 || zi > MaxZoom {
		return Tile{}, fmt.Errorf("%w: %d is not in 0–%d", ErrZoom, zi, MaxZoom)
	}
	xi, err1 := strconv.ParseInt(x, 10, 64)
	yi, err2 := strconv.ParseInt(y, 10, 64)
	if err1 != nil || err2 != nil {
		return Tile{}, fmt.Errorf("%w: x %q and y %q must be whole numbers", ErrTilePath, x, y)
	}
	n := int64(1) << zi
	if xi < 0 || yi < 0 || xi >= n || yi >= n {
		return Tile{}, fmt.Errorf("%w: x %d, y %d at zoom %d must be in 0–%d", ErrTileXY, xi, yi, zi, n-1)
	}
	return Tile{Z: zi, X: uint32(xi), Y: uint32(yi)}, nil
}

// Bound returns the tile's bounds in longitude and latitude, grown on every
// side by buffer, a fraction of the tile's width.
func (t Tile) Bound(buffer float64) orb.Bound {
	return maptile.New(t.X, t.Y, maptile.Zoom(t.Z)).Bound(buffer)
}

// Covering returns the tiles at zoom z that cover the bound.
func Covering(b orb.Bound, z int) []Tile {
	minX, maxY := lonLatToTile(b.Min, z)
	maxX, minY := lonLatToTile(b.Max, z)
	var ts []Tile
	for x := minX; x <= maxX; x++ {
		for y := minY; y <= maxY; y++ {
			ts = append(ts, Tile{Z: z, X: x, Y: y})
		}
	}
	return ts
}

func lonLatToTile(p orb.Point, z int) (x, y uint32) {
	n := math.Exp2(float64(z))
	fx := (p[0] + 180) / 360 * n
	lat := p[1] * math.Pi / 180
	fy := (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	clamp := func(v float64) uint32 { return uint32(min(max(v, 0), n-1)) }
	return clamp(fx), clamp(fy)
}
