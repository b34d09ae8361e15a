package city

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// shapes warns of lines that cross themselves and of lines and areas of a
// layer drawn exactly alike (a survey imported twice). Points alike are
// not told: a monitoring point holds several sensors, one place one label.
func (ck *checker) shapes(read map[string][]*feat) {
	for _, l := range ck.cat.Layers() {
		file := l.ID + ".geojson"
		seen := map[string]*feat{}
		for _, f := range read[l.ID] {
			if !f.geomOK {
				continue
			}
			if ls, ok := f.f.Geometry.(orb.LineString); ok {
				if i, j, ok := selfCrossing(ls); ok {
					ck.add(Problem{Kind: KindSelfCrossing, Layer: l.ID, File: file, Index: f.index, ID: f.f.ID, Geometry: ck.drawable(f),
						Reason: fmt.Sprintf("the line crosses itself: its segments %d and %d meet", i+1, j+1)})
				}
			}
			if _, ok := f.f.Geometry.(orb.Point); ok {
				continue
			}
			key := geometryKey(f.f.Geometry)
			if first, dup := seen[key]; dup {
				ck.add(Problem{Kind: KindDuplicateGeometry, Layer: l.ID, File: file, Index: f.index, ID: f.f.ID, Geometry: ck.drawable(f),
					Reason: fmt.Sprintf("drawn exactly as feature %d (id %d): the same thing twice?", first.index, first.f.ID)})
				continue
			}
			seen[key] = f
		}
	}
}

// geometryKey is a geometry's coordinates as text, to find equal ones.
func geometryKey(g orb.Geometry) string {
	var b strings.Builder
	var add func(g orb.Geometry)
	add = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			fmt.Fprintf(&b, "%.9f %.9f,", g[0], g[1])
		case orb.LineString:
			for _, p := range g {
				add(p)
			}
		case orb.Ring:
			for _, p := range g {
				add(p)
			}
		case orb.Polygon:
			for _, r := range g {
				add(r)
				b.WriteByte(';')
			}
		}
	}
	b.WriteString(g.GeoJSONType())
	add(g)
	return b.String()
}

// selfCrossing finds two segments of ls, not neighbours, that meet.
func selfCrossing(ls orb.LineString) (int, int, bool) {
	if len(ls) > 2000 {
		return 0, 0, false // bounded: a survey's pipes have a few dozen vertices
	}
	closed := len(ls) > 3 && ls[0] == ls[len(ls)-1]
	for i := 0; i+1 < len(ls); i++ {
		for j := i + 2; j+1 < len(ls); j++ {
			if closed && i == 0 && j == len(ls)-2 {
				continue // a ring's last segment meets its first at its start
			}
			if segmentsMeet(ls[i], ls[i+1], ls[j], ls[j+1]) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func segmentsMeet(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1 != o2 && o3 != o4 {
		return true
	}
	return o1 == 0 && onSegment(a, c, b) || o2 == 0 && onSegment(a, d, b) || o3 == 0 && onSegment(c, a, d) || o4 == 0 && onSegment(c, b, d)
}

func orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, p, b orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// sourceKinds are the kinds of node a network is fed from (or drains to):
// a part of a network that reaches none of them is an island.
var sourceKinds = []string{"station", "plant", "outfall", "pump_station"}

// junctionKinds are the kinds of node that are there to join pipes: one
// that no pipe reaches is misplaced. Other nodes (a waterlogging point, a
// hydrant) may stand on their own.
var junctionKinds = []string{"tee", "bend", "valve", "manhole", "end", "regulator"}

// topology warns of nodes no pipe reaches, of tees and bends only one pipe
// reaches, and of the parts of a network joined to none of its sources —
// once a network's ends all name its nodes.
func (ck *checker) topology(read map[string][]*feat) {
	for _, l := range ck.cat.Layers() {
		if l.Nodes == "" || len(read[l.ID]) == 0 {
			continue
		}
		nodes := map[uint64]*feat{}
		for _, n := range read[l.Nodes] {
			nodes[n.f.ID] = n
		}
		parent := map[uint64]uint64{}
		find := func(x uint64) uint64 {
			for parent[x] != x {
				parent[x] = parent[parent[x]]
				x = parent[x]
			}
			return x
		}
		for id := range nodes {
			parent[id] = id
		}
		degree := map[uint64]int{}
		complete := true
		for _, p := range read[l.ID] {
			a, okA := p.f.Props[layers.FromNode].(float64)
			b, okB := p.f.Props[layers.ToNode].(float64)
			if !okA || !okB || nodes[uint64(a)] == nil || nodes[uint64(b)] == nil {
				complete = false
				continue
			}
			degree[uint64(a)]++
			degree[uint64(b)]++
			if ra, rb := find(uint64(a)), find(uint64(b)); ra != rb {
				parent[ra] = rb
			}
		}
		if !complete {
			continue // told already: unknown nodes
		}
		file := l.Nodes + ".geojson"
		fed := map[uint64]bool{}
		for id, n := range nodes {
			kind, _ := n.f.Props["kind"].(string)
			if slices.Contains(sourceKinds, kind) {
				fed[find(id)] = true
			}
			switch d := degree[id]; {
			case d == 0 && slices.Contains(junctionKinds, kind):
				ck.add(Problem{Kind: KindDanglingNode, Layer: l.Nodes, File: file, Index: n.index, ID: id, Geometry: ck.drawable(n),
					Reason: fmt.Sprintf("no pipe of %s starts or ends at this %s", l.ID, kindOr(kind))})
			case d == 1 && (kind == "tee" || kind == "bend"):
				ck.add(Problem{Kind: KindDanglingNode, Layer: l.Nodes, File: file, Index: n.index, ID: id, Geometry: ck.drawable(n),
					Reason: fmt.Sprintf("a %s that only one pipe reaches: a pipe drawn through it instead of ending there?", kind)})
			}
		}
		if len(fed) == 0 {
			continue // a network without sources: islands cannot be told
		}
		islands := map[uint64][]*feat{}
		for _, p := range read[l.ID] {
			a := uint64(p.f.Props[layers.FromNode].(float64))
			if r := find(a); !fed[r] {
				islands[r] = append(islands[r], p)
			}
		}
		roots := make([]uint64, 0, len(islands))
		for r := range islands {
			roots = append(roots, r)
		}
		slices.SortFunc(roots, func(a, b uint64) int { return islands[a][0].index - islands[b][0].index })
		for _, r := range roots {
			ps := islands[r]
			ck.add(Problem{Kind: KindIsland, Layer: l.ID, File: l.ID + ".geojson", Index: ps[0].index, ID: ps[0].f.ID, Geometry: ck.drawable(ps[0]),
				Reason: fmt.Sprintf("%d pipes joined to no %s of the network: cut off, or a junction missing?", len(ps), strings.Join(sourceKinds, ", "))})
		}
	}
}

func kindOr(kind string) string {
	if kind == "" {
		return "node"
	}
	return kind
}
