package spatial

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/onemap/onemap/layers"
)

// Errors of the network analysis.
var (
	ErrNotPipe      = errors.New("spatial: not a pipe of this network")
	ErrNotValve     = errors.New("spatial: not a valve of this network")
	ErrDisconnected = errors.New("spatial: network refers to a node it does not have")
)

// Network is a pipe network as a graph: pipes are edges between nodes.
// Valves are the nodes that can be closed; sources (plants, gate stations)
// are where supply enters. Nodes and pipes are numbered densely so that a
// walk of the whole network (who is cut off) touches slices, not maps.
type Network struct {
	Layer, NodeLayer string
	nodeIdx          map[uint64]int32 // node id → index
	pipeIdx          map[uint64]int32 // pipe id → index
	nodes            []*layers.Feature
	pipes            []*layers.Feature
	valve            []bool     // by node index
	ends             [][2]int32 // by pipe index: from, to
	incident         [][]int32  // by node index: pipes
	length           []float64  // by pipe index, metres
	sources          []int32
}

// NewNetwork builds the graph of a pipe layer and its node layer. isSource
// says which nodes feed the network.
func NewNetwork(layer, nodeLayer string, pipes, nodes []*layers.Feature, isSource func(*layers.Feature) bool) (*Network, error) {
	// Ids in order, so indexes and answers do not depend on input order.
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) })
	pipes = slices.Clone(pipes)
	slices.SortFunc(pipes, func(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) })
	n := &Network{
		Layer: layer, NodeLayer: nodeLayer,
		nodeIdx: make(map[uint64]int32, len(nodes)), pipeIdx: make(map[uint64]int32, len(pipes)),
		nodes: nodes, pipes: pipes, valve: make([]bool, len(nodes)),
		ends: make([][2]int32, len(pipes)), incident: make([][]int32, len(nodes)), length: make([]float64, len(pipes)),
	}
	for i, f := range nodes {
		n.nodeIdx[f.ID] = int32(i)
		n.valve[i] = IsValve(f)
		if isSource(f) {
			n.sources = append(n.sources, int32(i))
		}
	}
	for i, p := range pipes {
		from, _ := p.Props[layers.FromNode].(float64)
		to, _ := p.Props[layers.ToNode].(float64)
		a, okA := n.nodeIdx[uint64(from)]
		b, okB := n.nodeIdx[uint64(to)]
		if !okA || !okB {
			return nil, fmt.Errorf("%w: pipe %d joins %d and %d", ErrDisconnected, p.ID, uint64(from), uint64(to))
		}
		n.pipeIdx[p.ID] = int32(i)
		n.ends[i] = [2]int32{a, b}
		n.incident[a] = append(n.incident[a], int32(i))
		if b != a {
			n.incident[b] = append(n.incident[b], int32(i))
		}
		n.length[i] = Length(p.Geometry)
	}
	return n, nil
}

// IsValve reports whether a node can be closed.
func IsValve(f *layers.Feature) bool { return f.Props["kind"] == "valve" }

// Closure is what closing valves around a burst pipe does.
type Closure struct {
	Pipe uint64 `json:"pipe"`
	// Valves to close, by id: the fewest that cut the burst pipe off.
	Valves []uint64 `json:"valves"`
	// FailedValves that could not be closed and were passed through.
	FailedValves []uint64 `json:"failed_valves,omitempty"`
	// Isolated pipes and nodes: the section between the closed valves.
	IsolatedPipes []uint64 `json:"isolated_pipes"`
	IsolatedNodes []uint64 `json:"isolated_nodes"`
	// CutOffPipes and CutOffNodes lose supply though outside the section:
	// no open path joins them to a source any more.
	CutOffPipes []uint64 `json:"cut_off_pipes"`
	CutOffNodes []uint64 `json:"cut_off_nodes"`
	// LengthOutOfService is the length of isolated and cut-off pipe, metres.
	LengthOutOfService float64 `json:"length_out_of_service_m"`
}

// ValveClosure finds the valves that isolate a burst pipe with the least
// disruption: walking the network from the pipe, every valve met is closed
// and the walk stops there. Valves in failed cannot close, so the walk goes
// on through them to the next ring (the second closure). Pipes and nodes
// that are then joined to no source are reported as cut off.
func (n *Network) ValveClosure(pipe uint64, failed []uint64) (*Closure, error) {
	start, ok := n.pipeIdx[pipe]
	if !ok {
		return nil, fmt.Errorf("%w: %d is not a %s", ErrNotPipe, pipe, n.Layer)
	}
	isFailed := make(map[int32]bool, len(failed))
	for _, v := range failed {
		i, ok := n.nodeIdx[v]
		if !ok || !n.valve[i] {
			return nil, fmt.Errorf("%w: %d is not a valve of %s", ErrNotValve, v, n.NodeLayer)
		}
		isFailed[i] = true
	}
	c := &Closure{Pipe: pipe}
	for i := range isFailed {
		c.FailedValves = append(c.FailedValves, n.nodes[i].ID)
	}
	slices.Sort(c.FailedValves)

	// Node marks: 1 walked into, 2 closed; pipe marks: isolated.
	const walked, closed = 1, 2
	node := make([]uint8, len(n.nodes))
	isolated := make([]bool, len(n.pipes))
	isolated[start] = true
	queue := []int32{start}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, v := range n.ends[p] {
			if node[v] != 0 {
				continue
			}
			if n.valve[v] && !isFailed[v] {
				node[v] = closed
				continue
			}
			node[v] = walked
			for _, q := range n.incident[v] {
				if !isolated[q] {
					isolated[q] = true
					queue = append(queue, q)
				}
			}
		}
	}
	for i, m := range node {
		switch m {
		case closed:
			c.Valves = append(c.Valves, n.nodes[i].ID)
		case walked:
			c.IsolatedNodes = append(c.IsolatedNodes, n.nodes[i].ID)
		}
	}
	for i, iso := range isolated {
		if iso {
			c.IsolatedPipes = append(c.IsolatedPipes, n.pipes[i].ID)
			c.LengthOutOfService += n.length[i]
		}
	}

	// What still has supply: walk from the sources, never through a closed
	// valve or an isolated pipe.
	if len(n.sources) > 0 {
		fed := make([]bool, len(n.nodes))
		var stack []int32
		for _, s := range n.sources {
			if node[s] == 0 {
				fed[s] = true
				stack = append(stack, s)
			}
		}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, p := range n.incident[v] {
				if isolated[p] {
					continue
				}
				for _, w := range n.ends[p] {
					if !fed[w] && node[w] != closed {
						fed[w] = true
						stack = append(stack, w)
					}
				}
			}
		}
		for i := range n.nodes {
			if !fed[i] && node[i] == 0 {
				c.CutOffNodes = append(c.CutOffNodes, n.nodes[i].ID)
			}
		}
		for i, e := range n.ends {
			if !isolated[i] && !fed[e[0]] && !fed[e[1]] {
				c.CutOffPipes = append(c.CutOffPipes, n.pipes[i].ID)
				c.LengthOutOfService += n.length[i]
			}
		}
	}
	return c, nil
}

// Pipe returns a pipe of the network.
func (n *Network) Pipe(id uint64) (*layers.Feature, bool) {
	i, ok := n.pipeIdx[id]
	if !ok {
		return nil, false
	}
	return n.pipes[i], true
}

// Node returns a node of the network.
func (n *Network) Node(id uint64) (*layers.Feature, bool) {
	i, ok := n.nodeIdx[id]
	if !ok {
		return nil, false
	}
	return n.nodes[i], true
}
