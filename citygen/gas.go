package citygen

import (
	"math"
	"math/rand/v2"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// Offsets of the networks from the street centre lines, metres east and
// north. They keep each network distinct yet within metres of the others,
// as under a real street: drains, ducts and tunnel compartments lie within
// 12.5 m of the gas pipe, where leaked gas can gather.
const (
	offGas      = 12.0
	offRing     = -16.0
	offWater    = -6.0
	offRain     = 2.0
	offSewage   = 3.0
	offSupply   = -10.0
	offReturn   = -13.0
	offPower    = 8.0
	offTelecom  = 4.0
	offTunGas   = 12.0
	offTunPower = 15.5
	offTunWater = 19.0
)

// gasNodes remembers the gas network's special nodes for sensors and hazards.
type gasNodes struct {
	stations   []*layers.Feature // gate stations
	regulators []*layers.Feature // ring regulator stations
	mains      []*layers.Feature // pipes of the ring, the feeds and the mains
	lows       []*layers.Feature
}

// gas lays the gas network of each tile: a gate station feeding a high
// pressure line to a sub-high pressure ring, regulator stations from the
// ring to medium pressure mains along every arterial, and low pressure
// distribution along some secondary streets.
func (g *gen) gas() {
	r := g.rng(streamGas)
	gr := g.grid
	lo := g.newLayout(layers.GasPipe, layers.GasNode, offGas)
	year := func(old bool) int {
		if old {
			return 1990 + r.IntN(12)
		}
		return 2000 + r.IntN(25)
	}
	// medium pressure mains on every arterial
	for _, e := range gr.edges {
		if !gr.isMain(e) {
			continue
		}
		old := g.zone(gr.nodes[e.a].p) == "old" && g.zone(gr.nodes[e.b].p) == "old"
		pc, mpa, dn := "medium_a", 0.3, pick(r, []int{200, 250, 300, 300})
		if old {
			pc, mpa, dn = "medium_b", 0.15, pick(r, []int{150, 200})
		}
		y := year(old)
		depth := round(between(r, 1.1, 1.8), 1)
		inTunnel := g.inTunnel(e)
		mid := func(k, n int) map[string]any {
			if k == n/2 || e.bridge {
				return map[string]any{"kind": "valve", "valve_well": true, "pressure_class": pc}
			}
			return map[string]any{"kind": "tee"}
		}
		ps := lo.street(e, false, segments(e.len, 125), mid, func() map[string]any {
			p := map[string]any{"pressure_class": pc, "pressure_mpa": mpa, "diameter_mm": dn, "material": "steel", "install_year": y, "depth_m": depth, "road": e.line.name}
			if inTunnel {
				p["in_tunnel"] = true
			}
			return p
		})
		g.gasNet.mains = append(g.gasNet.mains, ps...)
	}
	// low pressure distribution on some secondary streets, from an arterial
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
				reverse := !gr.onArterial(sr[0].a, l)
				es := sr[:k]
				if reverse {
					es = sr[len(sr)-k:]
				}
				y := year(g.zone(gr.nodes[es[0].a].p) == "old")
				dn := pick(r, []int{110, 160, 200})
				for _, e := range es {
					ps := lo.street(e, false, segments(e.len, 125), func(int, int) map[string]any { return map[string]any{"kind": "tee"} }, func() map[string]any {
						return map[string]any{"pressure_class": "low", "pressure_mpa": 0.003, "diameter_mm": dn, "material": "pe", "install_year": y, "depth_m": 0.9, "road": e.line.name}
					})
					for _, p := range ps {
						p.MinZoom = 13
					}
					g.gasNet.lows = append(g.gasNet.lows, ps...)
				}
				// a regulator box where the low network leaves the main
				for _, n := range []int{es[0].a, es[len(es)-1].b} {
					if gr.onArterial(n, l) {
						lo.fix(n, "regulator")
						lo.junction[n].Props["pressure_class"] = "medium_a"
					}
				}
			}
		}
	}
	// the ring, its regulator stations and the feed from the gate station
	ring := g.newLayout(layers.GasPipe, layers.GasNode, offRing)
	for ty := range g.tiles {
		for tx := range g.tiles {
			g.gasRing(r, lo, ring, tx, ty)
		}
	}
	lo.finish()
	ring.finish()
}

// inTunnel reports whether street e runs above the utility tunnel.
func (g *gen) inTunnel(e *edge) bool {
	for _, t := range g.tunnelSpans {
		p, q := g.grid.nodes[e.a].p, g.grid.nodes[e.b].p
		if e.line == t.row && p[0] >= t.x0-offGas-1 && q[0] <= t.x1-offGas+1 {
			return true
		}
	}
	return false
}

func (g *gen) gasRing(r *rand.Rand, lo, ring *layout, tx, ty int) {
	gr := g.grid
	base := func(t int) int { return t * int(tileSize/lineSpacing) }
	ca, cb := base(tx)+4, base(tx)+24
	ra, rb := base(ty)+4, base(ty)+24
	sub := func(ps []*layers.Feature) { g.gasNet.mains = append(g.gasNet.mains, ps...) }
	y := 2008 + r.IntN(8)
	props := func(road string) func() map[string]any {
		return func() map[string]any {
			return map[string]any{"pressure_class": "subhigh_a", "pressure_mpa": 1.2, "diameter_mm": 400, "material": "steel", "install_year": y, "depth_m": 1.8, "road": road}
		}
	}
	mid := func(k, n int) map[string]any {
		if k == n/2 {
			return map[string]any{"kind": "valve", "valve_well": true, "pressure_class": "subhigh_a"}
		}
		return map[string]any{"kind": "tee"}
	}
	onRing := func(e *edge) bool {
		a, b := gr.nodes[e.a], gr.nodes[e.b]
		if e.line.vertical {
			return (a.i == ca || a.i == cb) && a.j >= ra && b.j <= rb
		}
		return (a.j == ra || a.j == rb) && a.i >= ca && b.i <= cb
	}
	for _, e := range gr.edges {
		if onRing(e) {
			sub(ring.street(e, false, segments(e.len, 125), mid, props(e.line.name)))
		}
	}
	// regulator stations at the ring's corners, off the street in the block
	for k, n := range []int{gr.node(ca, ra), gr.node(cb, ra), gr.node(cb, rb), gr.node(ca, rb)} {
		if ring.junction[n] == nil {
			continue
		}
		p := gr.nodes[n].p
		dx, dy := 45.0, 45.0
		if k == 1 || k == 2 {
			dx = -45
		}
		if k >= 2 {
			dy = -45
		}
		reg := g.add(layers.GasNode, orb.Point{p[0] + dx, p[1] + dy}, map[string]any{"kind": "regulator", "name": gr.cols[gr.nodes[n].i].name + "调压站", "pressure_class": "subhigh_a"})
		g.gasNet.regulators = append(g.gasNet.regulators, reg)
		ring.fixed[n] = true
		ring.junction[n].Props["kind"] = "tee"
		sub([]*layers.Feature{ring.pipe(ring.junction[n], reg, props(gr.cols[gr.nodes[n].i].name)())})
		main := lo.at(n)
		sub([]*layers.Feature{lo.pipe(reg, main, map[string]any{"pressure_class": "medium_a", "pressure_mpa": 0.3, "diameter_mm": 300, "material": "steel", "install_year": y, "depth_m": 1.5, "road": gr.cols[gr.nodes[n].i].name})})
	}
	// the gate station at the tile's west edge feeds the ring's west side
	// along the arterial row farthest from the river
	best, bestD := -1, 0.0
	for _, k := range []int{8, 12, 16, 20} {
		j := base(ty) + k
		d := math.Inf(1)
		for x := float64(tx) * tileSize; x <= gr.cols[ca].pos; x += 50 {
			d = math.Min(d, g.riverAt(gr.rows[j].pos).bankDist(orb.Point{x, gr.rows[j].pos}))
		}
		if n := gr.node(ca, j); ring.junction[n] != nil && d > bestD {
			best, bestD = j, d
		}
	}
	if best < 0 {
		return
	}
	n := gr.node(ca, best)
	entry := ring.junction[n]
	entry.Props["kind"] = "regulator"
	entry.Props["name"] = gr.rows[best].name + "高压调压站"
	ring.fixed[n] = true
	g.gasNet.regulators = append(g.gasNet.regulators, entry)
	ep := entry.Geometry.(orb.Point)
	gate := g.add(layers.GasNode, orb.Point{float64(tx)*tileSize + 30, ep[1]}, map[string]any{"kind": "station", "name": "滨湖门站", "pressure_class": "high_b"})
	if tx+ty > 0 {
		gate.Props["name"] = "滨湖" + cnNum(ty*g.tiles+tx+1) + "号门站"
	}
	g.gasNet.stations = append(g.gasNet.stations, gate)
	yf := 2005 + r.IntN(6)
	sub(ring.chain(gate, entry, segments(dist(gate.Geometry.(orb.Point), ep), 140), func(k, n int) map[string]any {
		if k%3 == 0 {
			return map[string]any{"kind": "valve", "valve_well": true, "pressure_class": "high_b"}
		}
		return map[string]any{"kind": "tee"}
	}, func() map[string]any {
		return map[string]any{"pressure_class": "high_b", "pressure_mpa": 2.0, "diameter_mm": 500, "material": "steel", "install_year": yf, "depth_m": 2.0, "road": gr.rows[best].name}
	}))
}
