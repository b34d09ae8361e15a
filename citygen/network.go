package citygen

import (
	"math"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// layout lays one pipe network along the street grid at a fixed offset
// from the centre lines: its junctions sit at each intersection it uses,
// and each street between them is split into pipes between nodes.
type layout struct {
	g            *gen
	pipes, nodes string
	off          float64
	junction     []*layers.Feature // by grid node
	deg          []int
	fixed        []bool // the junction's kind was chosen, not derived
	dirs         []uint8
	order        []int // grid nodes in the order their junctions were made
}

func (g *gen) newLayout(pipes, nodes string, off float64) *layout {
	n := len(g.grid.nodes)
	return &layout{g: g, pipes: pipes, nodes: nodes, off: off,
		junction: make([]*layers.Feature, n), deg: make([]int, n), fixed: make([]bool, n), dirs: make([]uint8, n)}
}

// at returns the junction at grid node n, making it if needed.
func (lo *layout) at(n int) *layers.Feature {
	if lo.junction[n] == nil {
		lo.junction[n] = lo.g.add(lo.nodes, lo.g.grid.offsetPoint(n, lo.off), map[string]any{"kind": "tee"})
		lo.order = append(lo.order, n)
	}
	return lo.junction[n]
}

// fix sets a junction's kind and keeps it from being derived from its degree.
func (lo *layout) fix(n int, kind string) *layers.Feature {
	f := lo.at(n)
	f.Props["kind"] = kind
	lo.fixed[n] = true
	return f
}

// street lays the pipes of grid edge e from its node a to b (or b to a when
// reverse), in nseg pipes. mid gives the props of the k-th inner node
// (1…nseg-1); props gives each pipe's.
func (lo *layout) street(e *edge, reverse bool, nseg int, mid func(k, n int) map[string]any, props func() map[string]any) []*layers.Feature {
	a, b := e.a, e.b
	if reverse {
		a, b = b, a
	}
	fa, fb := lo.at(a), lo.at(b)
	lo.deg[a]++
	lo.deg[b]++
	bit := uint8(1)
	if e.line.vertical {
		bit = 2
	}
	lo.dirs[a] |= bit
	lo.dirs[b] |= bit
	return lo.chain(fa, fb, nseg, mid, props)
}

// chain joins node a to node b with nseg straight pipes through new inner nodes.
func (lo *layout) chain(a, b *layers.Feature, nseg int, mid func(k, n int) map[string]any, props func() map[string]any) []*layers.Feature {
	pa, pb := a.Geometry.(orb.Point), b.Geometry.(orb.Point)
	nseg = max(nseg, 1)
	prev := a
	var out []*layers.Feature
	for k := 1; k <= nseg; k++ {
		next := b
		if k < nseg {
			next = lo.g.add(lo.nodes, lerp(pa, pb, float64(k)/float64(nseg)), mid(k, nseg))
		}
		out = append(out, lo.pipe(prev, next, props()))
		prev = next
	}
	return out
}

// pipe adds one pipe from node a to node b.
func (lo *layout) pipe(a, b *layers.Feature, props map[string]any) *layers.Feature {
	pa, pb := a.Geometry.(orb.Point), b.Geometry.(orb.Point)
	props[layers.FromNode] = a.ID
	props[layers.ToNode] = b.ID
	props["length_m"] = round(dist(pa, pb), 1)
	return lo.g.add(lo.pipes, orb.LineString{pa, pb}, props)
}

// finish derives the kind of each junction not fixed: an end, a bend where
// the network turns a corner, a tee otherwise.
func (lo *layout) finish() {
	for _, n := range lo.order {
		if lo.fixed[n] {
			continue
		}
		k := "tee"
		switch {
		case lo.deg[n] <= 1:
			k = "end"
		case lo.deg[n] == 2 && lo.dirs[n] == 3:
			k = "bend"
		}
		lo.junction[n].Props["kind"] = k
	}
}

// segments is how many pipes of about l metres a street of length d takes.
func segments(d, l float64) int { return max(1, int(math.Round(d/l))) }

// subRuns splits the runs of a line into pieces between arterial crossings.
func (gr *grid) subRuns(l *line) [][]*edge {
	var out [][]*edge
	for _, run := range gr.runs(l) {
		var cur []*edge
		for _, e := range run {
			cur = append(cur, e)
			other := gr.cols[gr.nodes[e.b].i]
			if l.vertical {
				other = gr.rows[gr.nodes[e.b].j]
			}
			if other.class == "arterial" || other.class == "expressway" {
				out = append(out, cur)
				cur = nil
			}
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
	}
	return out
}

// onArterial reports whether grid node n lies on an arterial that crosses line l.
func (gr *grid) onArterial(n int, l *line) bool {
	other := gr.cols[gr.nodes[n].i]
	if l.vertical {
		other = gr.rows[gr.nodes[n].j]
	}
	return other.class == "arterial" || other.class == "expressway"
}
