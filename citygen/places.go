package citygen

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

var subdistricts = [][2]string{
	{"方兴街道", "Fangxing Subdistrict"}, {"徽园街道", "Huiyuan Subdistrict"},
	{"塘西街道", "Tangxi Subdistrict"}, {"烟墩街道", "Yandun Subdistrict"},
}

var restaurantPre = [][2]string{
	{"老乡鸡", "Laoxiangji"}, {"徽味", "Huiwei"}, {"江南", "Jiangnan"}, {"巢湖鱼", "Chaohu Fish"}, {"川香", "Chuanxiang"},
	{"湘味", "Xiangwei"}, {"庐州", "Luzhou"}, {"淮南牛肉汤", "Huainan Beef Soup"}, {"兰州拉面", "Lanzhou Noodles"}, {"家常", "Jiachang"},
	{"老街", "Laojie"}, {"福源", "Fuyuan"}, {"聚贤", "Juxian"}, {"小龙虾", "Crayfish"}, {"粤港", "Yuegang"},
}
var restaurantSuf = [][2]string{{"饭店", "Restaurant"}, {"餐馆", "Eatery"}, {"火锅", "Hot Pot"}, {"面馆", "Noodle House"}, {"大排档", "Food Stall"}}

// places writes the districts, place labels, protective targets and hazards.
func (g *gen) places() {
	r := g.rng(streamPlaces)
	g.districts()
	g.labels()
	g.protectiveTargets(r)
	g.hazardPoints(r)
}

// districts splits each tile into four subdistricts by its river and a
// north–south line through its middle.
func (g *gen) districts() {
	for ty := range g.tiles {
		for tx := range g.tiles {
			rv := g.rivers[ty]
			x0, x1 := float64(tx)*tileSize, float64(tx+1)*tileSize
			xm := x0 + tileSize/2 + 125
			y0, y1 := float64(ty)*tileSize, float64(ty+1)*tileSize
			k := 0
			for _, north := range []bool{true, false} {
				for _, xs := range [][2]float64{{x0, xm}, {xm, x1}} {
					var ring orb.Ring
					for x := xs[0]; ; x += 100 {
						x = math.Min(x, xs[1])
						ring = append(ring, orb.Point{x, rv.center(x)})
						if x == xs[1] {
							break
						}
					}
					edge := y1
					if !north {
						edge = y0
					}
					ring = append(ring, orb.Point{xs[1], edge}, orb.Point{xs[0], edge}, ring[0])
					if !north {
						ring.Reverse()
					}
					poly := orb.Polygon{ring}
					pop := 0
					for _, b := range g.buildings {
						if b.c[0] >= xs[0] && b.c[0] < xs[1] && b.c[1] >= y0 && b.c[1] < y1 && g.north(b.c) == north {
							pop += b.people
						}
					}
					idx := (ty*g.tiles+tx)*4 + k
					nm := subdistricts[k]
					zh, en := nm[0], nm[1]
					if idx >= 4 {
						zh, en = fmt.Sprintf("%s%s", nm[0][:len(nm[0])-len("街道")], cnNum(idx/4+1)+"街道"), fmt.Sprintf("%s %d", nm[1], idx/4+1)
					}
					g.add(layers.District, poly, map[string]any{
						"name": zh, "name_en": en, "code": fmt.Sprintf("340111%03d", idx+1),
						"population": pop, "area_km2": round(math.Abs(planar.Area(poly))/1e6, 2),
					})
					c, _ := planar.CentroidArea(poly)
					g.add(layers.Label, c, map[string]any{"name": zh, "name_en": en, "kind": "district", "rank": 1})
					k++
				}
			}
		}
	}
}

func (g *gen) labels() {
	for _, rv := range g.rivers {
		for _, x := range []float64{g.size * 0.3, g.size * 0.7} {
			g.add(layers.Label, orb.Point{x, rv.center(x)}, map[string]any{"name": rv.name, "name_en": rv.nameEn, "kind": "river", "rank": 1})
		}
	}
	for _, l := range g.lakes {
		g.add(layers.Label, l.c, map[string]any{"name": l.parkZh, "name_en": l.parkEn, "kind": "park", "rank": 2})
	}
	for _, b := range g.buildings {
		switch b.tag {
		case "residential":
			if b.ce.i%2 == 0 && b.ce.j%2 == 0 {
				g.add(layers.Label, b.ce.center, map[string]any{"name": b.name, "name_en": b.en, "kind": "neighbourhood", "rank": 3})
			}
		case "hospital", "stadium":
			g.add(layers.Label, b.c, map[string]any{"name": b.name, "name_en": b.en, "kind": "landmark", "rank": 2})
		}
	}
}

func (g *gen) target(p orb.Point, kind, zh, en string, day, night int, b *building) *layers.Feature {
	props := map[string]any{"name": zh, "name_en": en, "kind": kind, "people_day": day, "people_night": night}
	if b != nil {
		props["building"] = b.f.ID
	}
	f := g.add(layers.ProtectiveTarget, p, props)
	if kind == "residential" {
		f.MinZoom = 14 // hundreds of housing blocks would bury the city view
	}
	g.targets = append(g.targets, f)
	return f
}

func (g *gen) protectiveTargets(r *rand.Rand) {
	gr := g.grid
	nh, nm, nn, nmk := 0, 0, 0, 0
	for _, b := range g.buildings {
		switch b.tag {
		case "school":
			g.target(b.c, "school", b.name, b.en, b.people, b.people/20, b)
		case "kindergarten":
			g.target(b.c, "kindergarten", b.name, b.en, b.people, 0, b)
		case "hospital":
			g.target(b.c, "hospital", b.name, b.en, b.people*2, b.people/2, b)
			nh++
		case "nursing_home":
			nn++
			p := compoundPre[(nn*5)%len(compoundPre)]
			b.name, b.en = p[0]+"养老院", p[1]+" Nursing Home"
			b.f.Props["name"] = b.name
			g.target(b.c, "nursing_home", b.name, b.en, b.people, b.people, b)
		case "market":
			nmk++
			p := stems[(nmk*11)%len(stems)]
			b.name, b.en = p[0]+"农贸市场", p[1]+" Market"
			b.f.Props["name"] = b.name
			g.target(b.c, "market", b.name, b.en, b.people, 20, b)
		case "mall":
			nm++
			p := stems[(nm*7+3)%len(stems)]
			b.name, b.en = p[0]+"广场购物中心", p[1]+" Plaza Mall"
			b.f.Props["name"] = b.name
			g.target(b.c, "mall", b.name, b.en, b.people, b.people/10, b)
		case "residential":
			if (b.ce.i+b.ce.j)%3 == 0 {
				g.target(b.ce.center, "residential", b.name, b.en, b.people*3/10, b.people*4, b)
			}
		case "stadium":
			g.target(b.c, "stadium", b.name, b.en, b.people, 50, b)
		}
	}
	// metro: one line under a north–south arterial and one under an
	// east–west arterial of each tile, a station at every arterial crossing
	per := int(tileSize / lineSpacing)
	seen := map[int]bool{} // looked up, never ranged
	for ty := range g.tiles {
		for tx := range g.tiles {
			ci, rj := tx*per+12, ty*per+16
			for _, ln := range []struct {
				vertical bool
				no       int
			}{{true, 1}, {false, 2}} {
				for k := 0; k < per; k += 4 {
					i, j := ci, ty*per+k
					cross := gr.rows[j]
					if !ln.vertical {
						i, j = tx*per+k, rj
						cross = gr.cols[i]
					}
					n := gr.node(i, j)
					if !gr.nodes[n].dry || len(gr.adj[n]) == 0 || seen[n] {
						continue
					}
					seen[n] = true
					p := gr.nodes[n].p
					zh, en := cross.name+"站", cross.en+" Station"
					g.target(orb.Point{p[0] + 32, p[1] + 32}, "metro_station", zh, en, 8000+r.IntN(30000), 300+r.IntN(800), nil)
				}
			}
		}
	}
	// a railway station and a coach station in the first tile
	for k, s := range []struct{ zh, en string }{{"滨湖站", "Binhu Railway Station"}, {"滨湖客运站", "Binhu Coach Station"}} {
		n := gr.node(20-8*k, 2)
		if !gr.nodes[n].dry {
			continue
		}
		p := gr.nodes[n].p
		g.target(orb.Point{p[0] + 90, p[1] + 70}, "station", s.zh, s.en, 20000-14000*k, 2000-1500*k, nil)
		g.add(layers.Label, orb.Point{p[0] + 90, p[1] + 70}, map[string]any{"name": s.zh, "name_en": s.en, "kind": "landmark", "rank": 2})
	}
}

func (g *gen) hazard(p orb.Point, kind, zh, en, substance string, q float64) *layers.Feature {
	props := map[string]any{"name": zh, "name_en": en, "kind": kind}
	if substance != "" {
		props["substance"] = substance
	}
	if q > 0 {
		props["quantity_t"] = q
	}
	f := g.add(layers.Hazard, p, props)
	if kind == "restaurant" {
		f.MinZoom = 15 // hundreds of restaurants would bury the city view
	}
	g.hazards = append(g.hazards, f)
	return f
}

func (g *gen) hazardPoints(r *rand.Rand) {
	gr := g.grid
	for _, reg := range g.gasNet.stations {
		g.hazard(reg.Geometry.(orb.Point), "regulator_station", reg.Props["name"].(string), "Gate Station", "natural gas", 2)
	}
	for _, reg := range g.gasNet.regulators {
		g.hazard(reg.Geometry.(orb.Point), "regulator_station", reg.Props["name"].(string), "Gas Regulator Station", "natural gas", 0.5)
	}
	// gas and LPG stations at some arterial crossings
	var mains []int
	for n := range gr.nodes {
		nd := gr.nodes[n]
		if nd.dry && len(gr.adj[n]) >= 3 && gr.cols[nd.i].class != "branch" && gr.rows[nd.j].class != "branch" && (gr.cols[nd.i].class != "secondary" || gr.rows[nd.j].class != "secondary") {
			mains = append(mains, n)
		}
	}
	perTile := g.tiles * g.tiles
	for k := range 7 * perTile {
		n := mains[r.IntN(len(mains))]
		p := gr.nodes[n].p
		c := gr.cols[gr.nodes[n].i]
		brand := pick(r, [][2]string{{"中石化", "Sinopec"}, {"中石油", "PetroChina"}, {"壳牌", "Shell"}})
		g.hazard(orb.Point{p[0] + 48, p[1] - 48}, "gas_station", brand[0]+c.name+"加油站", brand[1]+" "+c.en+" Filling Station", "gasoline, diesel", round(between(r, 30, 90), 0))
		if k%3 == 0 {
			g.hazard(orb.Point{p[0] - 48, p[1] + 48}, "lpg_station", c.name+"液化气供应站", c.en+" LPG Supply Station", "LPG", round(between(r, 3, 15), 1))
		}
	}
	// chemical stores in the industrial zone
	ni := 0
	for _, b := range g.buildings {
		if b.use == "warehouse" && ni < 4*perTile && r.Float64() < 0.2 {
			sub := pick(r, []string{"liquid chlorine", "liquid ammonia", "hydrochloric acid", "sodium hypochlorite", "ethanol"})
			p := stems[(ni*13+5)%len(stems)]
			g.hazard(b.c, "chemical_store", p[0]+"化工仓库", p[1]+" Chemical Warehouse", sub, round(between(r, 10, 80), 0))
			ni++
		}
	}
	// restaurants using gas: shops in the old town, the malls, the ground
	// floors of some residential buildings
	nr := 0
	for _, b := range g.buildings {
		var k int
		switch {
		case b.use == "commercial" && b.tag == "mall":
			k = 6
		case b.use == "commercial" && r.Float64() < 0.5:
			k = 1
		case b.use == "residential" && r.Float64() < 0.06:
			k = 1
		}
		for i := range k {
			nr++
			p := restaurantPre[nr%len(restaurantPre)]
			s := restaurantSuf[(nr/len(restaurantPre)+nr)%len(restaurantSuf)]
			sub, q := "natural gas", 0.0
			if r.Float64() < 0.15 {
				sub, q = "LPG", round(between(r, 0.03, 0.2), 2)
			}
			pt := orb.Point{b.c[0] - 20 + 8*float64(i), b.c[1] - 6}
			g.hazard(pt, "restaurant", p[0]+s[0], p[1]+" "+s[1], sub, q)
		}
	}
	// construction sites over gas mains
	for k := range 8 * perTile {
		pp := g.gasNet.mains[r.IntN(len(g.gasNet.mains))]
		ls := pp.Geometry.(orb.LineString)
		mp := lerp(ls[0], ls[1], 0.5)
		p := stems[(k*17+9)%len(stems)]
		f := g.hazard(orb.Point{mp[0] + 4, mp[1] + 4}, "construction_site", p[0]+"项目施工工地", p[1]+" Project Construction Site", "", 0)
		g.construction = append(g.construction, [2]*layers.Feature{f, pp})
	}
}
