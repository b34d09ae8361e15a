package citygen

import (
	"math"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// line is one straight street of the grid, north–south (a column) or
// east–west (a row).
type line struct {
	k        int // index among the lines of its direction
	pos      float64
	vertical bool
	class    string
	name, en string
	width    float64
	lanes    int
}

// gnode is a grid intersection.
type gnode struct {
	p    orb.Point
	i, j int
	dry  bool
}

// edge is a street between two intersections; a bridge edge crosses the
// river and skips the intersections that would lie in it.
type edge struct {
	idx    int
	a, b   int // node indexes, a west or south of b
	line   *line
	bridge bool
	len    float64
}

// grid is the street grid: lines every ~250 m, arterials every ~1000 m with
// secondaries between them and branch streets in some blocks.
type grid struct {
	cols, rows []*line
	ny         int
	nodes      []gnode
	edges      []*edge
	adj        [][]int // node → edges
	hEdge      []int   // node → edge to the east, or -1
	vEdge      []int   // node → edge to the north, or -1
}

func (gr *grid) node(i, j int) int { return i*gr.ny + j }

// other returns the far end of edge e from node n.
func (e *edge) other(n int) int {
	if e.a == n {
		return e.b
	}
	return e.a
}

func (gr *grid) isMain(e *edge) bool {
	return e.line.class == "arterial" || e.line.class == "expressway"
}

const lineSpacing = 250.0

func roadClass(k int) string {
	switch {
	case k%4 == 0 && (k/4)%4 == 1:
		return "expressway"
	case k%4 == 0:
		return "arterial"
	case k%4 == 2:
		return "secondary"
	}
	return "branch"
}

// streets lays out the street grid and cuts it where it meets water.
func (g *gen) streets() {
	r := g.rng(streamGrid)
	n := int(g.size / lineSpacing)
	mk := func(vertical bool, off int) []*line {
		ls := make([]*line, n)
		for k := range n {
			c := roadClass(k)
			j := 18.0
			if c == "arterial" || c == "expressway" {
				j = 8
			}
			l := &line{k: k, vertical: vertical, class: c, pos: lineSpacing/2 + lineSpacing*float64(k) + between(r, -j, j)}
			l.name, l.en = streetName(k+off, c)
			switch c {
			case "expressway":
				l.width, l.lanes = 60, 8
			case "arterial":
				l.width, l.lanes = 50, 6
			case "secondary":
				l.width, l.lanes = 30, 4
			default:
				l.width, l.lanes = 18, 2
			}
			ls[k] = l
		}
		return ls
	}
	gr := &grid{ny: n}
	gr.cols = mk(true, 0)
	gr.rows = mk(false, len(stems)/2)
	gr.nodes = make([]gnode, n*n)
	for i, c := range gr.cols {
		for j, rw := range gr.rows {
			p := orb.Point{c.pos, rw.pos}
			gr.nodes[gr.node(i, j)] = gnode{p: p, i: i, j: j, dry: !g.wet(p, 40)}
		}
	}
	gr.adj = make([][]int, len(gr.nodes))
	gr.hEdge = make([]int, len(gr.nodes))
	gr.vEdge = make([]int, len(gr.nodes))
	for i := range gr.hEdge {
		gr.hEdge[i], gr.vEdge[i] = -1, -1
	}
	addEdge := func(a, b int, l *line, bridge bool) {
		e := &edge{idx: len(gr.edges), a: a, b: b, line: l, bridge: bridge, len: dist(gr.nodes[a].p, gr.nodes[b].p)}
		gr.edges = append(gr.edges, e)
		gr.adj[a] = append(gr.adj[a], e.idx)
		gr.adj[b] = append(gr.adj[b], e.idx)
		if l.vertical {
			gr.vEdge[a] = e.idx
		} else {
			gr.hEdge[a] = e.idx
		}
	}
	dryRun := func(a, b orb.Point) bool {
		d := dist(a, b)
		for t := 0.0; t <= d; t += 20 {
			if g.wet(lerp(a, b, t/d), 15) {
				return false
			}
		}
		return true
	}
	// east–west streets
	for j, rw := range gr.rows {
		for i := 0; i+1 < n; i++ {
			keep := rw.class != "branch" || r.Float64() < 0.6
			a, b := gr.node(i, j), gr.node(i+1, j)
			if keep && gr.nodes[a].dry && gr.nodes[b].dry && dryRun(gr.nodes[a].p, gr.nodes[b].p) {
				addEdge(a, b, rw, false)
			}
		}
	}
	// north–south streets; arterials bridge the river
	for i, c := range gr.cols {
		for j := 0; j+1 < n; j++ {
			keep := c.class != "branch" || r.Float64() < 0.6
			a := gr.node(i, j)
			if !keep || !gr.nodes[a].dry {
				continue
			}
			b := gr.node(i, j+1)
			if gr.nodes[b].dry && dryRun(gr.nodes[a].p, gr.nodes[b].p) {
				addEdge(a, b, c, false)
				continue
			}
			if c.class != "arterial" && c.class != "expressway" {
				continue
			}
			// the next dry intersection north; a bridge if the river lies between
			k := j + 1
			for k < n && !gr.nodes[gr.node(i, k)].dry {
				k++
			}
			if k == n {
				continue
			}
			b = gr.node(i, k)
			pa, pb := gr.nodes[a].p, gr.nodes[b].p
			rv := g.riverAt((pa[1] + pb[1]) / 2)
			s, nb := rv.banks(c.pos)
			if pa[1] < s && pb[1] > nb && pb[1]-pa[1] < 900 && !g.lakeBetween(pa, pb) {
				addEdge(a, b, c, true)
			}
		}
	}
	g.grid = gr
}

func (g *gen) lakeBetween(a, b orb.Point) bool {
	d := dist(a, b)
	for t := 0.0; t <= d; t += 20 {
		for _, l := range g.lakes {
			if l.inside(lerp(a, b, t/d), 15) {
				return true
			}
		}
	}
	return false
}

// walk follows a line's edges from node n in its direction and returns the
// nodes of the run and its edges.
func (gr *grid) walk(n int, vertical bool) ([]int, []*edge) {
	nodes := []int{n}
	var es []*edge
	for {
		ei := gr.hEdge[n]
		if vertical {
			ei = gr.vEdge[n]
		}
		if ei < 0 {
			return nodes, es
		}
		e := gr.edges[ei]
		es = append(es, e)
		n = e.b
		nodes = append(nodes, n)
	}
}

// runs returns every maximal run of consecutive edges along one line.
func (gr *grid) runs(l *line) [][]*edge {
	var out [][]*edge
	n := len(gr.cols)
	for s := 0; s < n; s++ {
		var node int
		if l.vertical {
			node = gr.node(l.k, s)
		} else {
			node = gr.node(s, l.k)
		}
		// a run starts where no edge of this line arrives
		if gr.arrives(node, l) {
			continue
		}
		_, es := gr.walk(node, l.vertical)
		if len(es) > 0 {
			out = append(out, es)
		}
	}
	return out
}

func (gr *grid) arrives(n int, l *line) bool {
	for _, ei := range gr.adj[n] {
		e := gr.edges[ei]
		if e.line == l && e.b == n {
			return true
		}
	}
	return false
}

// roads writes one road feature per run of a line's edges.
func (g *gen) roads() {
	gr := g.grid
	for _, ls := range [][]*line{gr.cols, gr.rows} {
		for _, l := range ls {
			for _, run := range gr.runs(l) {
				a, b := gr.nodes[run[0].a].p, gr.nodes[run[len(run)-1].b].p
				f := g.add(layers.Road, orb.LineString{a, b}, map[string]any{
					"name": l.name, "name_en": l.en, "class": l.class, "lanes": l.lanes, "width_m": l.width,
				})
				switch l.class {
				case "branch":
					f.MinZoom = 13
				case "secondary":
					f.MinZoom = 12
				}
			}
		}
	}
}

// offsetPoint is a grid node's position for a network laid off the street
// centre lines by off metres east and north.
func (gr *grid) offsetPoint(n int, off float64) orb.Point {
	p := gr.nodes[n].p
	return orb.Point{p[0] + off, p[1] + off}
}

// sideOf reports whether p lies north of its river.
func (g *gen) north(p orb.Point) bool {
	return p[1] > g.riverAt(p[1]).center(p[0])
}

var _ = math.Pi
