package citygen

import (
	"fmt"
	"github.com/onemap/onemap/layers"
	"math"

	"github.com/paulmach/orb"
)

// river is a meandering river flowing west to east across the city; its
// centre line is a function of x, which keeps crossing tests cheap.
type river struct {
	y0, a1, a2, w1, w2, p1, p2, p3 float64
	feature                        *layers.Feature // the water feature, set once written
	name, nameEn                   string
}

func (r *river) center(x float64) float64 {
	return r.y0 + r.a1*math.Sin(2*math.Pi*x/r.w1+r.p1) + r.a2*math.Sin(2*math.Pi*x/r.w2+r.p2)
}

func (r *river) slope(x float64) float64 {
	return r.a1*2*math.Pi/r.w1*math.Cos(2*math.Pi*x/r.w1+r.p1) + r.a2*2*math.Pi/r.w2*math.Cos(2*math.Pi*x/r.w2+r.p2)
}

// width is the river's width in metres, 85–195.
func (r *river) width(x float64) float64 { return 140 + 55*math.Sin(2*math.Pi*x/3700+r.p3) }

// bankDist is the distance from p to the nearer bank, negative in the river.
func (r *river) bankDist(p orb.Point) float64 {
	c := math.Cos(math.Atan(r.slope(p[0])))
	return math.Abs(p[1]-r.center(p[0]))*c - r.width(p[0])/2
}

// banks returns the y of the south and north banks at x (vertical section).
func (r *river) banks(x float64) (float64, float64) {
	h := r.width(x) / 2 / math.Cos(math.Atan(r.slope(x)))
	c := r.center(x)
	return c - h, c + h
}

// lake is an ellipse turned by angle a.
type lake struct {
	c         orb.Point
	rx, ry, a float64
	kind      string
	name, en  string
	parkZh    string
	parkEn    string
	noise     [8]float64
}

// inside reports whether p lies within the lake grown by margin metres.
func (l *lake) inside(p orb.Point, margin float64) bool {
	dx, dy := p[0]-l.c[0], p[1]-l.c[1]
	s, c := math.Sin(-l.a), math.Cos(-l.a)
	x, y := dx*c-dy*s, dx*s+dy*c
	rx, ry := l.rx*1.04+margin, l.ry*1.04+margin
	return x*x/(rx*rx)+y*y/(ry*ry) < 1
}

func (l *lake) polygon() orb.Polygon {
	const n = 40
	ring := make(orb.Ring, 0, n+1)
	s, c := math.Sin(l.a), math.Cos(l.a)
	for i := range n {
		t := 2 * math.Pi * float64(i) / n
		k := 1.0
		for j, a := range l.noise {
			k += a * math.Sin(float64(j+2)*t+float64(j))
		}
		x, y := l.rx*k*math.Cos(t), l.ry*k*math.Sin(t)
		ring = append(ring, orb.Point{l.c[0] + x*c - y*s, l.c[1] + x*s + y*c})
	}
	ring = append(ring, ring[0])
	return orb.Polygon{ring}
}

var riverNames = [][2]string{{"塘西河", "Tangxi River"}, {"十五里河", "Shiwuli River"}, {"派河", "Pai River"}, {"南淝河", "Nanfei River"}, {"板桥河", "Banqiao River"}}
var lakeNames = [][4]string{
	{"天鹅湖", "Swan Lake", "天鹅湖公园", "Swan Lake Park"},
	{"翡翠湖", "Emerald Lake", "翡翠湖公园", "Emerald Lake Park"},
	{"明珠湖", "Pearl Lake", "明珠湖公园", "Pearl Lake Park"},
	{"柏堰湖", "Baiyan Lake", "柏堰湖公园", "Baiyan Lake Park"},
	{"紫蓬湖", "Zipeng Lake", "紫蓬湖公园", "Zipeng Lake Park"},
}
var pondNames = [][4]string{
	{"荷花塘", "Lotus Pond", "荷花塘游园", "Lotus Pond Garden"},
	{"月牙塘", "Crescent Pond", "月牙塘游园", "Crescent Pond Garden"},
	{"白鹭塘", "Egret Pond", "白鹭塘游园", "Egret Pond Garden"},
}

// numbered adds a number to a name when the city has more than one of it.
func numbered(zh, en string, n int) (string, string) {
	if n == 0 {
		return zh, en
	}
	return fmt.Sprintf("%s%d", zh, n+1), fmt.Sprintf("%s %d", en, n+1)
}

// waterBodies lays out one river across each row of tiles, and a lake and a
// pond in each tile, clear of the river and of the arterial roads.
func (g *gen) waterBodies() {
	r := g.rng(streamWater)
	for ty := range g.tiles {
		rv := &river{
			y0: (float64(ty)+0.5)*tileSize + between(r, -300, 300),
			a1: between(r, 280, 380), w1: between(r, 5200, 7000), p1: between(r, 0, 2*math.Pi),
			a2: between(r, 80, 130), w2: between(r, 2000, 2600), p2: between(r, 0, 2*math.Pi),
			p3: between(r, 0, 2*math.Pi),
		}
		nm := riverNames[ty%len(riverNames)]
		rv.name, rv.nameEn = numbered(nm[0], nm[1], ty/len(riverNames))
		g.rivers = append(g.rivers, rv)
	}
	n := 0
	for ty := range g.tiles {
		for tx := range g.tiles {
			rv := g.rivers[ty]
			for _, kind := range []string{"lake", "pond"} {
				for range 50 {
					// superblocks lie between arterials at 125 + 1000k
					bx := float64(tx)*tileSize + 625 + 1000*float64(1+r.IntN(6))
					by := float64(ty)*tileSize + 625 + 1000*float64(r.IntN(8))
					c := orb.Point{bx, by}
					if rv.bankDist(c) < 900 || g.nearLake(c, 1500) {
						continue
					}
					l := &lake{c: c, kind: kind, a: between(r, -0.5, 0.5)}
					if kind == "lake" {
						l.rx, l.ry = between(r, 250, 340), between(r, 170, 260)
						nm := lakeNames[n%len(lakeNames)]
						l.name, l.en = numbered(nm[0], nm[1], n/len(lakeNames))
						l.parkZh, l.parkEn = numbered(nm[2], nm[3], n/len(lakeNames))
					} else {
						l.c[0] += 125
						l.c[1] += 125
						l.rx, l.ry = between(r, 55, 85), between(r, 40, 65)
						nm := pondNames[n%len(pondNames)]
						l.name, l.en = numbered(nm[0], nm[1], n/len(pondNames))
						l.parkZh, l.parkEn = numbered(nm[2], nm[3], n/len(pondNames))
					}
					for i := range l.noise {
						l.noise[i] = between(r, -0.012, 0.012)
					}
					g.lakes = append(g.lakes, l)
					break
				}
			}
			n++
		}
	}
	for _, rv := range g.rivers {
		var south, north orb.Ring
		for x := 0.0; ; x += 50 {
			x = math.Min(x, g.size)
			s, nb := rv.banks(x)
			south = append(south, orb.Point{x, s})
			north = append(north, orb.Point{x, nb})
			if x == g.size {
				break
			}
		}
		ring := south
		for i := len(north) - 1; i >= 0; i-- {
			ring = append(ring, north[i])
		}
		ring = append(ring, ring[0])
		f := g.add(layers.Water, orb.Polygon{ring}, map[string]any{"name": rv.name, "name_en": rv.nameEn, "kind": "river"})
		rv.feature = f
		g.rivFeats = append(g.rivFeats, f)
	}
	for _, l := range g.lakes {
		g.add(layers.Water, l.polygon(), map[string]any{"name": l.name, "name_en": l.en, "kind": l.kind})
	}
}

func (g *gen) nearLake(p orb.Point, d float64) bool {
	for _, l := range g.lakes {
		if dist(p, l.c) < d {
			return true
		}
	}
	return false
}

// riverAt returns the river of the tile row that y lies in.
func (g *gen) riverAt(y float64) *river {
	ty := int(y / tileSize)
	ty = max(0, min(ty, g.tiles-1))
	return g.rivers[ty]
}

// wet reports whether p lies within margin metres of the river or a lake.
func (g *gen) wet(p orb.Point, margin float64) bool {
	if g.riverAt(p[1]).bankDist(p) < margin {
		return true
	}
	for _, l := range g.lakes {
		if l.inside(p, margin) {
			return true
		}
	}
	return false
}

// ground is the ground elevation in metres: low along the river, rising
// gently away from it, with a few hollows where rain gathers.
func (g *gen) ground(p orb.Point) float64 {
	d := math.Max(0, g.riverAt(p[1]).bankDist(p))
	return 9 + 0.0011*d + 1.1*math.Sin(p[0]/870)*math.Cos(p[1]/1130) + 0.5*math.Sin(p[0]/390+p[1]/510)
}
