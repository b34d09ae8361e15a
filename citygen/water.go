package citygen

import (
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// waterNodes remembers the water network's special features for sensors.
type waterNodes struct {
	plants     []*layers.Feature
	largeUsers []*layers.Feature
	hydrants   []*layers.Feature
	mains      []*layers.Feature // transmission and main pipes
}

// water lays the water supply network of each tile: a plant on the river
// bank, transmission mains along an arterial from it, mains in a loop grid
// on every arterial, and distribution pipes with hydrants every ~125 m on
// some secondary streets.
func (g *gen) water() {
	r := g.rng(streamWaterNet)
	gr := g.grid
	lo := g.newLayout(layers.WaterPipe, layers.WaterNode, offWater)
	per := int(tileSize / lineSpacing)
	// transmission: the arterial column through each tile's plant
	trans := make([]bool, len(gr.edges))
	var plants [][2]int // plant grid node, tile
	for _, b := range g.bridges {
		i := gr.nodes[b.e.a].i
		if i%per != 12 {
			continue
		}
		plants = append(plants, [2]int{b.e.a, i / per})
		trans[b.e.idx] = true
		// 1.5 km south of the plant, 1 km north of the river
		for k, n := 0, b.e.a; k < 6; k++ {
			var found bool
			for _, ei := range gr.adj[n] {
				e := gr.edges[ei]
				if e.line.vertical && e.b == n {
					trans[e.idx], n, found = true, e.a, true
					break
				}
			}
			if !found {
				break
			}
		}
		for k, n := 0, b.e.b; k < 4 && gr.vEdge[n] >= 0; k++ {
			trans[gr.vEdge[n]] = true
			n = gr.edges[gr.vEdge[n]].b
		}
	}
	year := func(old bool) int {
		if old {
			return 1990 + r.IntN(11)
		}
		return 2001 + r.IntN(24)
	}
	for _, e := range gr.edges {
		if !gr.isMain(e) {
			continue
		}
		old := g.zone(gr.nodes[e.a].p) == "old"
		class, dn, mat := "main", pick(r, []int{300, 400, 500, 600}), "ductile_iron"
		if old {
			mat, dn = "cast_iron", pick(r, []int{300, 400})
		}
		if trans[e.idx] {
			class, dn, mat, old = "transmission", 1200, "steel", false
		}
		y := year(old)
		depth := round(between(r, 1.4, 2.2), 1)
		mid := func(k, n int) map[string]any {
			if k == n/2 || e.bridge {
				return map[string]any{"kind": "valve"}
			}
			return map[string]any{"kind": "tee"}
		}
		g.waterNet.mains = append(g.waterNet.mains, lo.street(e, false, segments(e.len, 125), mid, func() map[string]any {
			return map[string]any{"class": class, "diameter_mm": dn, "material": mat, "install_year": y, "depth_m": depth, "road": e.line.name}
		})...)
	}
	for _, ls := range [][]*line{gr.cols, gr.rows} {
		for _, l := range ls {
			if l.class != "secondary" {
				continue
			}
			for _, sr := range gr.subRuns(l) {
				if r.Float64() > 0.45 {
					continue
				}
				k := len(sr)
				if r.Float64() < 0.4 {
					k = 1 + r.IntN(len(sr))
				}
				es := sr[:k]
				if !gr.onArterial(sr[0].a, l) {
					es = sr[len(sr)-k:]
				}
				old := g.zone(gr.nodes[es[0].a].p) == "old"
				y := year(old)
				dn, mat := pick(r, []int{150, 200}), "ductile_iron"
				if !old && r.Float64() < 0.3 {
					mat = "pe"
				}
				for _, e := range es {
					mid := func(k, n int) map[string]any {
						if k == n/2 {
							return map[string]any{"kind": "valve"}
						}
						return map[string]any{"kind": "hydrant"}
					}
					ps := lo.street(e, false, segments(e.len, 62), mid, func() map[string]any {
						return map[string]any{"class": "distribution", "diameter_mm": dn, "material": mat, "install_year": y, "depth_m": 1.2, "road": e.line.name}
					})
					for _, p := range ps {
						p.MinZoom = 13
					}
				}
			}
		}
	}
	// plants on the south bank beside the transmission column
	for k, pl := range plants {
		n := pl[0]
		p := gr.nodes[n].p
		name := "滨湖水厂"
		if k > 0 {
			name = "滨湖第" + cnNum(k+1) + "水厂"
		}
		f := g.add(layers.WaterNode, orb.Point{p[0] - 160, p[1] - 70}, map[string]any{"kind": "plant", "name": name})
		g.waterNet.plants = append(g.waterNet.plants, f)
		j := lo.at(n)
		lo.chain(f, j, 1, nil, func() map[string]any {
			return map[string]any{"class": "transmission", "diameter_mm": 1200, "material": "steel", "install_year": 2006, "depth_m": 2.5, "road": gr.cols[gr.nodes[n].i].name}
		})
	}
	// large users: hospitals, malls and factories, each on a service pipe
	// from the nearest junction at their block's corners
	for _, b := range g.buildings {
		if b.tag != "hospital" && b.tag != "mall" && !(b.use == "industrial" && r.Float64() < 0.15) {
			continue
		}
		ce := b.ce
		var best *layers.Feature
		bd := 1e18
		for _, n := range []int{gr.node(ce.i, ce.j), gr.node(ce.i+1, ce.j), gr.node(ce.i, ce.j+1), gr.node(ce.i+1, ce.j+1)} {
			if j := lo.junction[n]; j != nil {
				if d := dist(j.Geometry.(orb.Point), b.c); d < bd {
					best, bd = j, d
				}
			}
		}
		if best == nil {
			continue
		}
		props := map[string]any{"kind": "large_user"}
		if b.name != "" {
			props["name"] = b.name
		}
		u := g.add(layers.WaterNode, b.c, props)
		g.waterNet.largeUsers = append(g.waterNet.largeUsers, u)
		p := lo.pipe(best, u, map[string]any{"class": "distribution", "diameter_mm": 200, "material": "ductile_iron", "install_year": 2010 + r.IntN(14), "depth_m": 1.2})
		p.MinZoom = 13
	}
	lo.finish()
	for _, f := range g.feats[layers.WaterNode] {
		if f.Props["kind"] == "hydrant" {
			g.waterNet.hydrants = append(g.waterNet.hydrants, f)
		}
	}
}
