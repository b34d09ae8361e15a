package citygen

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// building is a building while the city is generated.
type building struct {
	f      *layers.Feature
	ce     *cell
	c      orb.Point
	use    string
	tag    string // what protective target it is, if any
	name   string
	en     string
	people int
}

// cell is the land between two neighbouring columns and rows of the grid.
type cell struct {
	i, j   int
	b      orb.Bound // buildable land, inside the streets' setbacks
	use    string
	name   string
	en     string
	center orb.Point
}

// zone is what a part of a tile is for.
func (g *gen) zone(c orb.Point) string {
	tx := math.Mod(c[0], tileSize)
	rv := g.riverAt(c[1])
	d := rv.bankDist(c)
	north := g.north(c)
	sa := int(tx / 1000)
	switch {
	case north && (sa == 1 || sa == 2) && d < 1700:
		return "old"
	case north && (sa == 3 || sa == 4) && d < 1900:
		return "core"
	case !north && sa >= 6 && d > 1000:
		return "industrial"
	}
	return "residential"
}

// blocks fills the cells between streets with buildings by land use.
func (g *gen) blocks() {
	r := g.rng(streamBlocks)
	gr := g.grid
	n := len(gr.cols)
	compound, school, kg, hosp := 0, 0, 0, 0
	stadium := map[int]bool{} // tiles that have one; looked up, never ranged
	for i := 0; i+1 < n; i++ {
		for j := 0; j+1 < n; j++ {
			c0, c1 := gr.cols[i], gr.cols[i+1]
			r0, r1 := gr.rows[j], gr.rows[j+1]
			b := orb.Bound{
				Min: orb.Point{c0.pos + c0.width/2 + 14, r0.pos + r0.width/2 + 14},
				Max: orb.Point{c1.pos - c1.width/2 - 14, r1.pos - r1.width/2 - 14},
			}
			ce := &cell{i: i, j: j, b: b, center: b.Center()}
			if g.wet(ce.center, 60) || g.nearLake(ce.center, 0) {
				continue
			}
			lakeSide := false
			for _, l := range g.lakes {
				for _, p := range []orb.Point{b.Min, b.Max, {b.Min[0], b.Max[1]}, {b.Max[0], b.Min[1]}, ce.center} {
					if l.inside(p, 40) {
						lakeSide = true
					}
				}
			}
			z := g.zone(ce.center)
			v := r.Float64()
			switch {
			case lakeSide:
				ce.use = "park"
			case z == "old":
				ce.use = "old"
				if v < 0.1 {
					ce.use = "market"
				}
			case z == "core":
				ce.use = "office"
				if v < 0.35 {
					ce.use = "mall"
				}
			case z == "industrial":
				ce.use = "industrial"
			case v < 0.05:
				ce.use = "school"
			case v < 0.09:
				ce.use = "kindergarten"
			case v < 0.105:
				ce.use = "hospital"
			case v < 0.12:
				ce.use = "nursing_home"
			case v < 0.15:
				ce.use = "market"
			case v < 0.21:
				ce.use = "park"
			default:
				ce.use = "residential"
			}
			tile := int(ce.center[1]/tileSize)*g.tiles + int(ce.center[0]/tileSize)
			if ce.use == "park" && !lakeSide && !stadium[tile] {
				stadium[tile] = true
				ce.use = "stadium"
				ce.name, ce.en = numbered("滨湖体育中心", "Binhu Sports Centre", tile)
			}
			switch ce.use {
			case "residential":
				ce.name, ce.en = compoundName(compound)
				compound++
			case "school":
				school++
				if school%3 == 0 {
					ce.name, ce.en = "滨湖第"+cnNum(school/3)+"中学", "Binhu No. "+itoa(school/3)+" Middle School"
				} else {
					k := school - school/3
					ce.name, ce.en = "滨湖第"+cnNum(k)+"小学", "Binhu No. "+itoa(k)+" Primary School"
				}
			case "kindergarten":
				kg++
				p := compoundPre[(kg*7)%len(compoundPre)]
				ce.name, ce.en = p[0]+"幼儿园", p[1]+" Kindergarten"
			case "hospital":
				hosp++
				hs := [][2]string{{"滨湖医院", "Binhu Hospital"}, {"市第二人民医院滨湖院区", "No. 2 People's Hospital, Binhu Campus"}, {"滨湖妇幼保健院", "Binhu Maternal and Child Hospital"}, {"滨湖中医院", "Binhu Hospital of Chinese Medicine"}}
				h := hs[(hosp-1)%len(hs)]
				ce.name, ce.en = numbered(h[0], h[1], (hosp-1)/len(hs))
			}
			g.fillCell(r, ce)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// place adds a building if it stays on dry land inside its cell.
func (g *gen) place(ce *cell, c orb.Point, w, h float64, use string, floors int, people int, basement bool) *building {
	poly := rect(c, w, h, 0)
	for _, p := range poly[0] {
		if !ce.b.Contains(p) || g.wet(p, 25) {
			return nil
		}
	}
	height := float64(floors) * 3.0
	switch use {
	case "commercial", "industrial", "warehouse":
		height = float64(floors) * 5
	case "office", "hospital", "school", "public":
		height = float64(floors) * 3.8
	}
	props := map[string]any{"use": use, "height_m": round(height, 1), "floors": floors, "population": people}
	if basement {
		props["basement"] = true
	}
	f := g.add(layers.Building, poly, props)
	bd := &building{f: f, ce: ce, c: c, use: use, people: people}
	g.buildings = append(g.buildings, bd)
	return bd
}

func (g *gen) fillCell(r *rand.Rand, ce *cell) {
	b := ce.b
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	if w < 60 || h < 60 {
		return
	}
	at := func(fx, fy float64) orb.Point { return orb.Point{b.Min[0] + w*fx, b.Min[1] + h*fy} }
	switch ce.use {
	case "residential":
		var first *building
		for _, fx := range []float64{0.28, 0.72} {
			for _, fy := range []float64{0.25, 0.72} {
				if r.Float64() < 0.12 {
					continue
				}
				floors := pick(r, []int{6, 11, 18, 18, 26, 33})
				bd := g.place(ce, at(fx, fy), between(r, 48, 62), between(r, 14, 17), "residential", floors, floors*4*3, floors > 10)
				if bd != nil && first == nil {
					first = bd
				}
			}
		}
		if first != nil {
			first.tag, first.name, first.en = "residential", ce.name, ce.en
			first.f.Props["name"] = ce.name
		}
	case "old":
		for _, fx := range []float64{0.15, 0.38, 0.62, 0.85} {
			for _, fy := range []float64{0.2, 0.5, 0.8} {
				if r.Float64() < 0.2 {
					continue
				}
				floors := 2 + r.IntN(5)
				g.place(ce, at(fx, fy), between(r, 18, 34), between(r, 10, 14), pick(r, []string{"residential", "residential", "residential", "commercial"}), floors, floors*8, false)
			}
		}
	case "office", "mall":
		if ce.use == "mall" {
			if bd := g.place(ce, at(0.5, 0.38), between(r, 120, 150), between(r, 70, 90), "commercial", 5+r.IntN(3), 3000+r.IntN(3000), true); bd != nil {
				bd.tag = "mall"
			}
			g.place(ce, at(0.3, 0.82), 40, 36, "office", 25+r.IntN(20), 1500, true)
			return
		}
		for _, p := range []orb.Point{at(0.3, 0.3), at(0.72, 0.3), at(0.5, 0.75)} {
			if r.Float64() < 0.2 {
				continue
			}
			floors := 12 + r.IntN(35)
			g.place(ce, p, between(r, 36, 46), between(r, 32, 40), "office", floors, floors*60, true)
		}
	case "industrial":
		for _, p := range []orb.Point{at(0.3, 0.3), at(0.7, 0.3), at(0.5, 0.75)} {
			if r.Float64() < 0.25 {
				continue
			}
			g.place(ce, p, between(r, 60, 90), between(r, 30, 45), pick(r, []string{"industrial", "warehouse"}), 1+r.IntN(2), 20+r.IntN(120), false)
		}
	case "school":
		if bd := g.place(ce, at(0.5, 0.75), between(r, 80, 100), 18, "school", 4+r.IntN(2), 1200+r.IntN(1200), false); bd != nil {
			bd.tag, bd.name, bd.en = "school", ce.name, ce.en
			bd.f.Props["name"] = ce.name
		}
		g.place(ce, at(0.75, 0.3), 40, 16, "school", 4, 100, false)
	case "kindergarten":
		if bd := g.place(ce, at(0.3, 0.3), 45, 25, "school", 3, 250+r.IntN(150), false); bd != nil {
			bd.tag, bd.name, bd.en = "kindergarten", ce.name, ce.en
			bd.f.Props["name"] = ce.name
		}
		for _, fx := range []float64{0.3, 0.72} {
			floors := 18 + r.IntN(10)
			g.place(ce, at(fx, 0.75), 55, 15, "residential", floors, floors*12, true)
		}
	case "hospital":
		if bd := g.place(ce, at(0.5, 0.68), between(r, 90, 110), 30, "hospital", 10+r.IntN(10), 1500+r.IntN(1500), true); bd != nil {
			bd.tag, bd.name, bd.en = "hospital", ce.name, ce.en
			bd.f.Props["name"] = ce.name
		}
		g.place(ce, at(0.3, 0.25), 60, 20, "hospital", 6, 400, false)
	case "nursing_home":
		if bd := g.place(ce, at(0.3, 0.3), 50, 20, "public", 5, 180+r.IntN(200), false); bd != nil {
			bd.tag = "nursing_home"
		}
		g.place(ce, at(0.7, 0.72), 55, 15, "residential", 18, 216, true)
	case "stadium":
		if bd := g.place(ce, at(0.5, 0.5), 170, 140, "public", 3, 30000, true); bd != nil {
			bd.tag, bd.name, bd.en = "stadium", ce.name, ce.en
			bd.f.Props["name"] = ce.name
		}
	case "market":
		if bd := g.place(ce, at(0.5, 0.3), 70, 45, "commercial", 2, 600+r.IntN(600), false); bd != nil {
			bd.tag = "market"
		}
		g.place(ce, at(0.5, 0.76), 55, 15, "residential", 11, 132, true)
	}
}
