package cityimport

import (
	"encoding/binary"
	"hash/fnv"
	"maps"
	"math"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// network builds the topology of one pipe layer whose pipes come without
// from_node and to_node: a node of the survey on a pipe's line splits it;
// every pipe end within snap metres of a node of the node layer (a valve, a
// regulator, a manhole from the survey's points) ends at that node; ends
// near no node meet at a node made for them, within snap of each other;
// then drain pipes run from the higher invert to the lower.
type network struct {
	pipes, nodes *layers.Layer
	snap         float64
	pl           spatial.Plane
	// grid holds the nodes by cell of snap metres, for the nearest node.
	grid map[[2]int64][]*layers.Feature
}

// buildTopology fills the pipes' ends and returns the pipes (split where
// nodes lie on their lines) and the nodes (with those it made).
func buildTopology(pipes, nodes *layers.Layer, ps, ns []*layers.Feature, snap float64, pl spatial.Plane) ([]*layers.Feature, []*layers.Feature) {
	n := &network{pipes: pipes, nodes: nodes, snap: snap, pl: pl, grid: map[[2]int64][]*layers.Feature{}}
	for _, f := range ns {
		n.add(f)
	}
	ps = n.splitAtNodes(ps, ns)
	made := map[uint64]*layers.Feature{}
	degree := map[uint64]int{}
	for _, p := range ps {
		if _, has := p.Props[layers.FromNode]; has {
			if _, has := p.Props[layers.ToNode]; has {
				continue // the survey gave the ends
			}
		}
		ls := p.Geometry.(orb.LineString)
		for i, end := range []orb.Point{ls[0], ls[len(ls)-1]} {
			node := n.nearest(end)
			if node == nil {
				node = &layers.Feature{ID: n.madeID(end), Layer: nodes.ID, Geometry: end, Props: map[string]any{}, MinZoom: uint8(nodes.MinZoom)}
				n.add(node)
				made[node.ID] = node
			}
			degree[node.ID]++
			key := layers.FromNode
			if i == 1 {
				key = layers.ToNode
			}
			p.Props[key] = float64(node.ID)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(made)) {
		f := made[id]
		f.Props["kind"] = madeKind(nodes, degree[id])
		ns = append(ns, f)
	}
	for _, p := range ps {
		orderByInvert(p)
		if _, ok := field(pipes, "length_m"); ok {
			if _, set := p.Props["length_m"]; !set {
				p.Props["length_m"] = math.Round(spatial.Length(p.Geometry)*100) / 100
			}
		}
	}
	return ps, ns
}

func (n *network) cell(p orb.Point) [2]int64 {
	q := n.pl.Project(p)
	return [2]int64{int64(math.Floor(q[0] / n.snap)), int64(math.Floor(q[1] / n.snap))}
}

func (n *network) add(f *layers.Feature) {
	if p, ok := f.Geometry.(orb.Point); ok {
		c := n.cell(p)
		n.grid[c] = append(n.grid[c], f)
	}
}

// nearest is the node nearest to p within snap metres, the lowest id of
// equals; nil when there is none.
func (n *network) nearest(p orb.Point) *layers.Feature {
	c := n.cell(p)
	var best *layers.Feature
	bestD := math.Inf(1)
	for dx := int64(-1); dx <= 1; dx++ {
		for dy := int64(-1); dy <= 1; dy++ {
			for _, f := range n.grid[[2]int64{c[0] + dx, c[1] + dy}] {
				d := spatial.Metres(p, f.Geometry.(orb.Point))
				if d <= n.snap && (d < bestD || d == bestD && f.ID < best.ID) {
					best, bestD = f, d
				}
			}
		}
	}
	return best
}

// madeID is the id of a node made at p: derived from where it is, so that
// importing the same survey again makes the same node.
func (n *network) madeID(p orb.Point) uint64 {
	h := fnv.New64a()
	h.Write([]byte(n.nodes.ID))
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(int64(math.Round(p[0]*1e7))))
	binary.LittleEndian.PutUint64(b[8:], uint64(int64(math.Round(p[1]*1e7))))
	h.Write(b[:])
	return layers.MakeID(n.nodes.Code, max(h.Sum64()&(1<<layers.IDBits-1), 1))
}

// madeKind is the kind of a node made where degree pipe ends meet: an end,
// a bend, a tee — or, on drainage, a manhole, where pipes meet.
func madeKind(nodes *layers.Layer, degree int) string {
	kinds := []string{"end", "bend", "tee"}[min(degree, 3)-1:]
	fd, _ := field(nodes, "kind")
	for _, k := range append(kinds, "manhole") {
		if slices.Contains(fd.Values, k) {
			return k
		}
	}
	if len(fd.Values) > 0 {
		return fd.Values[0]
	}
	return "end"
}

// splitAtNodes splits each pipe where a node of the survey — a tee, a
// valve, a manhole — lies on its line away from its ends: a pipe drawn
// through a junction is two pipes of the network, one each side. The first
// part keeps the pipe's id; the others get ids derived from it.
func (n *network) splitAtNodes(ps, nodes []*layers.Feature) []*layers.Feature {
	if len(nodes) == 0 {
		return ps
	}
	// The nodes in an R-tree: each pipe looks only at those near its line.
	var tree rtree.RTreeGN[float64, orb.Point]
	for _, f := range nodes {
		if p, ok := f.Geometry.(orb.Point); ok {
			tree.Insert(p, p, p)
		}
	}
	out := make([]*layers.Feature, 0, len(ps))
	for _, p := range ps {
		ls := p.Geometry.(orb.LineString)
		var cuts []cut
		b := n.pl.Bound(ls.Bound(), n.snap)
		tree.Search(b.Min, b.Max, func(_, _ [2]float64, tp orb.Point) bool {
			if spatial.Metres(tp, ls[0]) <= n.snap || spatial.Metres(tp, ls[len(ls)-1]) <= n.snap {
				return true
			}
			if c, ok := n.onLine(ls, tp); ok {
				cuts = append(cuts, c)
			}
			return true
		})
		if len(cuts) == 0 {
			out = append(out, p)
			continue
		}
		slices.SortFunc(cuts, func(a, b cut) int {
			if a.seg != b.seg {
				return a.seg - b.seg
			}
			return int(math.Copysign(1, a.t-b.t))
		})
		parts := splitLine(ls, cuts)
		for i, part := range parts {
			f := &layers.Feature{ID: p.ID, Layer: p.Layer, Geometry: part, Props: maps.Clone(p.Props), MinZoom: p.MinZoom}
			if i > 0 {
				f.ID = splitID(n.pipes, p.ID, i)
			}
			delete(f.Props, "length_m")
			out = append(out, f)
		}
	}
	return out
}

// cut is where a line is cut: at point p, on segment seg, t along it.
type cut struct {
	seg int
	t   float64
	p   orb.Point
}

// onLine finds where p lies on ls, within snap metres.
func (n *network) onLine(ls orb.LineString, p orb.Point) (cut, bool) {
	q := n.pl.Project(p)
	for i := 0; i+1 < len(ls); i++ {
		a, b := n.pl.Project(ls[i]), n.pl.Project(ls[i+1])
		dx, dy := b[0]-a[0], b[1]-a[1]
		l2 := dx*dx + dy*dy
		if l2 == 0 {
			continue
		}
		t := ((q[0]-a[0])*dx + (q[1]-a[1])*dy) / l2
		if t <= 0 || t >= 1 {
			continue
		}
		c := orb.Point{a[0] + t*dx, a[1] + t*dy}
		if math.Hypot(c[0]-q[0], c[1]-q[1]) <= n.snap {
			return cut{seg: i, t: t, p: p}, true
		}
	}
	return cut{}, false
}

// splitLine cuts ls at the cuts, in order along it; each cut point ends one
// part and starts the next.
func splitLine(ls orb.LineString, cuts []cut) []orb.LineString {
	var parts []orb.LineString
	cur := orb.LineString{ls[0]}
	ci := 0
	for i := 0; i+1 < len(ls); i++ {
		for ci < len(cuts) && cuts[ci].seg == i {
			cur = append(cur, cuts[ci].p)
			parts = append(parts, cur)
			cur = orb.LineString{cuts[ci].p}
			ci++
		}
		cur = append(cur, ls[i+1])
	}
	return append(parts, cur)
}

// splitID is the id of the i-th part (from 1) of a pipe split at tees.
func splitID(l *layers.Layer, id uint64, i int) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], id)
	binary.LittleEndian.PutUint64(b[8:], uint64(i))
	h.Write(b[:])
	return layers.MakeID(l.Code, max(h.Sum64()&(1<<layers.IDBits-1), 1))
}

// orderByInvert turns a drain pipe drawn against its flow: water runs from
// the higher invert to the lower, so a pipe whose upstream invert is the
// lower is reversed, its ends and inverts swapped.
func orderByInvert(p *layers.Feature) {
	up, ok1 := p.Props["up_invert_m"].(float64)
	down, ok2 := p.Props["down_invert_m"].(float64)
	if !ok1 || !ok2 || up >= down {
		return
	}
	ls := p.Geometry.(orb.LineString)
	r := slices.Clone(ls)
	slices.Reverse(r)
	p.Geometry = r
	p.Props["up_invert_m"], p.Props["down_invert_m"] = down, up
	p.Props[layers.FromNode], p.Props[layers.ToNode] = p.Props[layers.ToNode], p.Props[layers.FromNode]
}
