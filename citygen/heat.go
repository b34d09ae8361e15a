package citygen

import (
	"math"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// heatNodes remembers the heating network's special features for sensors.
type heatNodes struct {
	plants      []*layers.Feature
	substations []*layers.Feature
}

// heating lays, in each tile, supply and return pipes in pairs from a
// heating plant in the industrial zone along the arterials within ~2.4 km
// of it, to substations at the ends.
func (g *gen) heating() {
	r := g.rng(streamHeat)
	gr := g.grid
	per := int(tileSize / lineSpacing)
	sup := g.newLayout(layers.HeatPipe, layers.HeatNode, offSupply)
	ret := g.newLayout(layers.HeatPipe, layers.HeatNode, offReturn)
	for ty := range g.tiles {
		for tx := range g.tiles {
			// the dry arterial crossing nearest the industrial zone's centre
			src := -1
			for _, ij := range [][2]int{{24, 8}, {24, 4}, {20, 8}, {24, 12}, {20, 4}} {
				n := gr.node(tx*per+ij[0], ty*per+ij[1])
				if gr.nodes[n].dry && len(gr.adj[n]) > 0 {
					src = n
					break
				}
			}
			if src < 0 {
				continue
			}
			limit := 2400.0
			parent, reached := gr.tree(func(e *edge) bool {
				return gr.isMain(e) && !e.bridge && dist(gr.nodes[e.a].p, gr.nodes[src].p) < limit && dist(gr.nodes[e.b].p, gr.nodes[src].p) < limit
			}, []int{src}, math.Inf(1))
			kids := make([]int, len(gr.nodes))
			load := make([]float64, len(gr.nodes))
			for _, n := range reached {
				if p := parent[n]; p >= 0 {
					kids[gr.edges[p].other(n)]++
				}
			}
			for k := len(reached) - 1; k >= 0; k-- {
				n := reached[k]
				if p := parent[n]; p >= 0 {
					load[gr.edges[p].other(n)] += load[n] + gr.edges[p].len
				}
			}
			sp := gr.nodes[src].p
			name := "滨湖热电厂"
			if tx+ty > 0 {
				name = "滨湖第" + cnNum(ty*g.tiles+tx+1) + "热源厂"
			}
			plant := g.add(layers.HeatNode, orb.Point{sp[0] + 60, sp[1] - 70}, map[string]any{"kind": "plant", "name": name})
			g.heatNet.plants = append(g.heatNet.plants, plant)
			nsub := 0
			for _, n := range reached {
				if kids[n] == 0 && n != src {
					nsub++
					p := gr.offsetPoint(n, offSupply)
					s := g.add(layers.HeatNode, p, map[string]any{"kind": "substation", "name": gr.cols[gr.nodes[n].i].name + cnNum(nsub) + "号换热站"})
					g.heatNet.substations = append(g.heatNet.substations, s)
					sup.junction[n], sup.fixed[n] = s, true
					ret.junction[n], ret.fixed[n] = s, true
				}
			}
			for _, n := range reached {
				p := parent[n]
				if p < 0 {
					continue
				}
				e := gr.edges[p]
				dn := heatDiameter(load[n] + e.len)
				y := 1995 + r.IntN(28)
				leaks := 0
				switch v := r.Float64(); {
				case y < 2010 && v < 0.3:
					leaks = 3 + r.IntN(3)
				case v < 0.4:
					leaks = 1 + r.IntN(2)
				}
				for _, lo := range []*layout{sup, ret} {
					line := "supply"
					if lo == ret {
						line = "return"
					}
					// supply flows away from the plant, return towards it
					rev := n == e.a
					if lo == ret {
						rev = !rev
					}
					ps := lo.street(e, rev, segments(e.len, 125), func(k, nn int) map[string]any {
						if k == nn/2 {
							return map[string]any{"kind": "valve"}
						}
						return map[string]any{"kind": "tee"}
					}, func() map[string]any {
						p := map[string]any{"line": line, "diameter_mm": dn, "material": "steel", "install_year": y, "depth_m": 1.6, "road": e.line.name}
						if leaks > 0 {
							p["leak_count"] = leaks
						}
						return p
					})
					if dn < 400 {
						for _, p := range ps {
							p.MinZoom = 13
						}
					}
				}
			}
			// the plant joins both lines at the source crossing
			for _, lo := range []*layout{sup, ret} {
				line := "supply"
				if lo == ret {
					line = "return"
				}
				if lo.junction[src] != nil {
					lo.chain(plant, lo.junction[src], 1, nil, func() map[string]any {
						return map[string]any{"line": line, "diameter_mm": 800, "material": "steel", "install_year": 2006, "depth_m": 1.8}
					})
				}
			}
		}
	}
	sup.finish()
	ret.finish()
}

// heatDiameter sizes a heating pipe by the length of network beyond it.
func heatDiameter(beyond float64) int {
	for _, s := range []struct {
		l  float64
		dn int
	}{{600, 200}, {1500, 250}, {3000, 300}, {6000, 400}, {10000, 500}, {16000, 600}} {
		if beyond < s.l {
			return s.dn
		}
	}
	return 700
}
