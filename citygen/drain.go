package citygen

import (
	"container/heap"
	"math"
	"math/rand/v2"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// drainNodes remembers the drainage network's special features for sensors.
type drainNodes struct {
	outfalls     []*layers.Feature
	pumps        []*layers.Feature
	waterlogging []*layers.Feature
}

// pq is a priority queue of grid nodes by distance.
type pq struct {
	n []int
	d []float64
}

func (q *pq) Len() int { return len(q.n) }
func (q *pq) Less(i, j int) bool {
	if q.d[i] != q.d[j] {
		return q.d[i] < q.d[j]
	}
	return q.n[i] < q.n[j]
}
func (q *pq) Swap(i, j int) { q.n[i], q.n[j] = q.n[j], q.n[i]; q.d[i], q.d[j] = q.d[j], q.d[i] }
func (q *pq) Push(x any)    { e := x.([2]float64); q.n = append(q.n, int(e[0])); q.d = append(q.d, e[1]) }
func (q *pq) Pop() any {
	k := len(q.n) - 1
	n, d := q.n[k], q.d[k]
	q.n, q.d = q.n[:k], q.d[:k]
	return [2]float64{float64(n), d}
}

// tree is a shortest-path forest over some grid edges from a set of sinks,
// as far as reach metres from them: each reached node's parent edge leads
// towards its sink.
func (gr *grid) tree(use func(*edge) bool, sinks []int, reach float64) (parent []int, reached []int) {
	d := make([]float64, len(gr.nodes))
	parent = make([]int, len(gr.nodes))
	for i := range d {
		d[i], parent[i] = math.Inf(1), -2
	}
	q := &pq{}
	for _, s := range sinks {
		d[s], parent[s] = 0, -1
		heap.Push(q, [2]float64{float64(s), 0})
	}
	done := make([]bool, len(gr.nodes))
	for q.Len() > 0 {
		x := heap.Pop(q).([2]float64)
		n := int(x[0])
		if done[n] {
			continue
		}
		done[n] = true
		reached = append(reached, n)
		for _, ei := range gr.adj[n] {
			e := gr.edges[ei]
			if !use(e) {
				continue
			}
			m := e.other(n)
			if nd := d[n] + e.len; nd < d[m] && nd <= reach {
				d[m], parent[m] = nd, ei
				heap.Push(q, [2]float64{float64(m), nd})
			}
		}
	}
	return parent, reached
}

// drainage lays, on each side of each river, a rain network under the
// arterials draining to outfalls on the bank, and a sewage network under
// the secondary streets within 3.3 km of a pump station, draining to it;
// both flow by gravity,
// with manholes every 40–60 m and inverts falling downstream. Sewers in
// the old town are combined.
func (g *gen) drainage() {
	r := g.rng(streamDrain)
	gr := g.grid
	per := int(tileSize / lineSpacing)
	var rainSinks, sewSinks []int
	for _, b := range g.bridges {
		i := gr.nodes[b.e.a].i
		if i%8 == 0 {
			rainSinks = append(rainSinks, b.e.a, b.e.b)
		}
	}
	// sewage: the riverside end of one secondary column per tile and side
	for ty := range g.tiles {
		for tx := range g.tiles {
			i := tx*per + 14
			for _, north := range []bool{false, true} {
				best := -1
				for j := ty * per; j < (ty+1)*per; j++ {
					n := gr.node(i, j)
					if !gr.nodes[n].dry || g.north(gr.nodes[n].p) != north || len(gr.adj[n]) == 0 {
						continue
					}
					if best < 0 || g.riverAt(gr.nodes[n].p[1]).bankDist(gr.nodes[n].p) < g.riverAt(gr.nodes[best].p[1]).bankDist(gr.nodes[best].p) {
						best = n
					}
				}
				if best >= 0 {
					sewSinks = append(sewSinks, best)
				}
			}
		}
	}
	rain := g.newLayout(layers.DrainPipe, layers.DrainNode, offRain)
	g.drainTree(r, rain, "rain", func(e *edge) bool { return gr.isMain(e) && !e.bridge }, rainSinks, true, math.Inf(1))
	sew := g.newLayout(layers.DrainPipe, layers.DrainNode, offSewage)
	g.drainTree(r, sew, "sewage", func(e *edge) bool { return e.line.class == "secondary" }, sewSinks, false, 3300)
	// waterlogging points at hollows of the ground on the streets
	for n, nd := range gr.nodes {
		if rain.junction[n] == nil && sew.junction[n] == nil {
			continue
		}
		low := true
		for _, ei := range gr.adj[n] {
			if g.ground(gr.nodes[gr.edges[ei].other(n)].p) <= g.ground(nd.p) {
				low = false
			}
		}
		if low && len(gr.adj[n]) >= 2 {
			p := nd.p
			f := g.add(layers.DrainNode, orb.Point{p[0] + 6, p[1] - 6}, map[string]any{"kind": "waterlogging_point", "name": gr.cols[nd.i].name + "与" + gr.rows[nd.j].name + "交口", "ground_elev_m": round(g.ground(p), 2)})
			g.drainNet.waterlogging = append(g.drainNet.waterlogging, f)
		}
	}
}

// drainTree lays one gravity network over the edges use admits, draining
// to sinks. With loops, the edges off the tree drain both ways from their
// middle; without, only the tree is laid.
func (g *gen) drainTree(r *rand.Rand, lo *layout, system string, use func(*edge) bool, sinks []int, loops bool, reach float64) {
	gr := g.grid
	parent, reached := gr.tree(use, sinks, reach)
	in := func(n int) bool { return parent[n] != -2 }
	slope := 0.001
	if system == "sewage" {
		slope = 0.0015
	}
	acc := make([]float64, len(gr.nodes)) // upstream pipe length
	// the edges laid: tree edges, and off-tree edges split in the middle
	var off []*edge
	if loops {
		for _, e := range gr.edges {
			if use(e) && in(e.a) && in(e.b) && parent[e.a] != e.idx && parent[e.b] != e.idx && r.Float64() < 0.3 {
				off = append(off, e)
			}
		}
	}
	for _, e := range off {
		acc[e.a] += e.len / 2
		acc[e.b] += e.len / 2
	}
	for k := len(reached) - 1; k >= 0; k-- { // leaves first
		n := reached[k]
		if p := parent[n]; p >= 0 {
			acc[gr.edges[p].other(n)] += acc[n] + gr.edges[p].len
		}
	}
	// inverts from the leaves down: each node at least 2 m deep and below
	// everything upstream of it by the pipe's fall
	inv := make([]float64, len(gr.nodes))
	for _, n := range reached {
		inv[n] = g.ground(gr.nodes[n].p) - 2.0
	}
	headInv := make([]float64, len(off))
	for k, e := range off {
		mp := lerp(gr.offsetPoint(e.a, lo.off), gr.offsetPoint(e.b, lo.off), 0.5)
		headInv[k] = g.ground(mp) - 2.0
		for _, n := range []int{e.a, e.b} {
			inv[n] = math.Min(inv[n], headInv[k]-slope*e.len/2)
		}
	}
	for k := len(reached) - 1; k >= 0; k-- {
		n := reached[k]
		if p := parent[n]; p >= 0 {
			m := gr.edges[p].other(n)
			inv[m] = math.Min(inv[m], inv[n]-slope*gr.edges[p].len)
		}
	}
	sys := func(a, b int) string {
		if system == "sewage" && g.zone(gr.nodes[a].p) == "old" && g.zone(gr.nodes[b].p) == "old" {
			return "combined"
		}
		return system
	}
	year := func(s string) int {
		if s == "combined" {
			return 1988 + r.IntN(10)
		}
		return 1998 + r.IntN(26)
	}
	// lay the pipes of a chain from node up (upstream) to down
	lay := func(up, down *layers.Feature, upInv, downInv, accUp, l float64, s, road string) {
		nseg := int(math.Ceil(l / 60))
		dn := drainDiameter(accUp+l, s)
		mat := "concrete"
		if dn <= 400 {
			mat = "hdpe"
		}
		y := year(s)
		pu, pd := up.Geometry.(orb.Point), down.Geometry.(orb.Point)
		prevInv := upInv
		k := 0
		lo.chain(up, down, nseg, func(k, n int) map[string]any {
			p := lerp(pu, pd, float64(k)/float64(n))
			return map[string]any{"kind": "manhole", "system": s, "ground_elev_m": round(g.ground(p), 2), "depth_m": round(g.ground(p)-(upInv+(downInv-upInv)*float64(k)/float64(n)), 2)}
		}, func() map[string]any {
			k++
			t := float64(k) / float64(nseg)
			di := upInv + (downInv-upInv)*t
			p := lerp(pu, pd, t-0.5/float64(nseg))
			props := map[string]any{"system": s, "diameter_mm": dn, "material": mat, "install_year": y, "road": road,
				"up_invert_m": round(prevInv, 3), "down_invert_m": round(di, 3), "depth_m": round(g.ground(p)-(prevInv+di)/2, 1)}
			prevInv = di
			return props
		})
	}
	mark := func(n int) *layers.Feature {
		f := lo.at(n)
		lo.fixed[n] = true
		f.Props["kind"] = "manhole"
		f.Props["system"] = sys(n, n)
		f.Props["ground_elev_m"] = round(g.ground(gr.nodes[n].p), 2)
		f.Props["depth_m"] = round(g.ground(gr.nodes[n].p)-inv[n], 2)
		return f
	}
	start := len(g.feats[layers.DrainPipe])
	for _, n := range reached {
		p := parent[n]
		if p < 0 {
			continue
		}
		e := gr.edges[p]
		m := e.other(n)
		lay(mark(n), mark(m), inv[n], inv[m], acc[n], e.len, sys(n, m), e.line.name)
	}
	for k, e := range off {
		mp := lerp(gr.offsetPoint(e.a, lo.off), gr.offsetPoint(e.b, lo.off), 0.5)
		s := sys(e.a, e.b)
		top := headInv[k]
		head := g.add(layers.DrainNode, mp, map[string]any{"kind": "manhole", "system": s, "ground_elev_m": round(g.ground(mp), 2), "depth_m": round(g.ground(mp)-top, 2)})
		for _, n := range []int{e.a, e.b} {
			lay(head, mark(n), top, inv[n], 0, e.len/2, s, e.line.name)
		}
	}
	// outlets: an outfall on the bank for rain, a pump station for sewage
	for _, s := range sinks {
		if !in(s) || lo.junction[s] == nil {
			continue
		}
		p := lo.junction[s].Geometry.(orb.Point)
		rv := g.riverAt(p[1])
		south, north := rv.banks(p[0])
		var f *layers.Feature
		if system == "rain" {
			y := south - 3
			if g.north(p) {
				y = north + 3
			}
			f = g.add(layers.DrainNode, orb.Point{p[0], y}, map[string]any{"kind": "outfall", "system": "rain", "name": gr.cols[gr.nodes[s].i].name + "雨水排口", "ground_elev_m": round(g.ground(p)-1, 2)})
			g.drainNet.outfalls = append(g.drainNet.outfalls, f)
		} else {
			f = g.add(layers.DrainNode, orb.Point{p[0] + 45, p[1]}, map[string]any{"kind": "pump_station", "system": "sewage", "name": gr.cols[gr.nodes[s].i].name + "污水泵站", "ground_elev_m": round(g.ground(p), 2)})
			g.drainNet.pumps = append(g.drainNet.pumps, f)
			g.add(layers.DrainNode, orb.Point{p[0] + 45, p[1] + 40*map[bool]float64{true: 1, false: -1}[g.north(p)]}, map[string]any{"kind": "storage_tank", "system": "sewage", "name": gr.cols[gr.nodes[s].i].name + "调蓄池", "ground_elev_m": round(g.ground(p), 2)})
		}
		acc0 := acc[s]
		l := dist(p, f.Geometry.(orb.Point))
		lay(lo.junction[s], f, inv[s], inv[s]-0.001*l-0.05, acc0, l, sys(s, s), gr.cols[gr.nodes[s].i].name)
	}
	for _, f := range g.feats[layers.DrainPipe][start:] {
		if f.Props["diameter_mm"].(int) < 800 {
			f.MinZoom = 13
		}
	}
	lo.finish()
}

// drainDiameter sizes a drain by the length of network upstream of it.
func drainDiameter(upstream float64, system string) int {
	if system == "rain" {
		upstream *= 2
	}
	for _, s := range []struct {
		l  float64
		dn int
	}{{600, 300}, {1500, 400}, {3000, 500}, {5000, 600}, {8000, 800}, {12000, 1000}, {20000, 1200}, {30000, 1500}} {
		if upstream < s.l {
			return s.dn
		}
	}
	return 1800
}
