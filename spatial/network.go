package spatial

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb/geo"
)

// Errors of the network analysis.
var (
	ErrNotPipe      = errors.New("spatial: not a pipe of this network")
	ErrNotValve     = errors.New("spatial: not a valve of this network")
	ErrDisconnected = errors.New("spatial: network refers to a node it does not have")
)

// Network is a pipe network as a graph: pipes are edges between nodes.
// Valves are the nodes that can be closed; sources (plants, gate stations)
// are where supply enters.
type Network struct {
	Layer, NodeLayer string
	pipes            map[uint64]*layers.Feature
	nodes            map[uint64]*layers.Feature
	ends             map[uint64][2]uint64 // pipe → from, to
	incident         map[uint64][]uint64  // node → pipes
	length           map[uint64]float64   // pipe → metres
	sources          []uint64
}

// NewNetwork builds the graph of a pipe layer and its node layer. isSource
// says which nodes feed the network.
func NewNetwork(layer, nodeLayer string, pipes, nodes []*layers.Feature, isSource func(*layers.Feature) bool) (*Network, error) {
	n := &Network{
		Layer: layer, NodeLayer: nodeLayer,
		pipes: make(map[uint64]*layers.Feature, len(pipes)), nodes: make(map[uint64]*layers.Feature, len(nodes)),
		ends: make(map[uint64][2]uint64, len(pipes)), incident: make(map[uint64][]uint64, len(nodes)),
		length: make(map[uint64]float64, len(pipes)),
	}
	for _, f := range nodes {
		n.nodes[f.ID] = f
		if isSource(f) {
			n.sources = append(n.sources, f.ID)
		}
	}
	slices.Sort(n.sources)
	for _, p := range pipes {
		from, _ := p.Props["from_node"].(float64)
		to, _ := p.Props["to_node"].(float64)
		a, b := uint64(from), uint64(to)
		if n.nodes[a] == nil || n.nodes[b] == nil {
			return nil, fmt.Errorf("%w: pipe %d joins %d and %d", ErrDisconnected, p.ID, a, b)
		}
		n.pipes[p.ID] = p
		n.ends[p.ID] = [2]uint64{a, b}
		n.incident[a] = append(n.incident[a], p.ID)
		if b != a {
			n.incident[b] = append(n.incident[b], p.ID)
		}
		n.length[p.ID] = geo.Length(p.Geometry)
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
	if _, ok := n.pipes[pipe]; !ok {
		return nil, fmt.Errorf("%w: %d is not a %s", ErrNotPipe, pipe, n.Layer)
	}
	isFailed := map[uint64]bool{}
	for _, v := range failed {
		f, ok := n.nodes[v]
		if !ok || !IsValve(f) {
			return nil, fmt.Errorf("%w: %d is not a valve of %s", ErrNotValve, v, n.NodeLayer)
		}
		isFailed[v] = true
	}
	c := &Closure{Pipe: pipe, FailedValves: slices.Sorted(maps.Keys(isFailed))}
	closed := map[uint64]bool{}
	seenPipe := map[uint64]bool{pipe: true}
	seenNode := map[uint64]bool{}
	queue := []uint64{pipe}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, node := range n.ends[p] {
			if seenNode[node] {
				continue
			}
			seenNode[node] = true
			if IsValve(n.nodes[node]) && !isFailed[node] {
				closed[node] = true
				continue
			}
			for _, q := range n.incident[node] {
				if !seenPipe[q] {
					seenPipe[q] = true
					queue = append(queue, q)
				}
			}
		}
	}
	c.Valves = slices.Sorted(maps.Keys(closed))
	c.IsolatedPipes = slices.Sorted(maps.Keys(seenPipe))
	for node := range seenNode {
		if !closed[node] {
			c.IsolatedNodes = append(c.IsolatedNodes, node)
		}
	}
	slices.Sort(c.IsolatedNodes)

	// What still has supply: walk from the sources, never through a closed
	// valve or an isolated pipe.
	fed := map[uint64]bool{}
	var stack []uint64
	for _, s := range n.sources {
		if !closed[s] && !seenNode[s] {
			fed[s] = true
			stack = append(stack, s)
		}
	}
	for len(stack) > 0 {
		node := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range n.incident[node] {
			if seenPipe[p] {
				continue
			}
			for _, next := range n.ends[p] {
				if !fed[next] && !closed[next] {
					fed[next] = true
					stack = append(stack, next)
				}
			}
		}
	}
	if len(n.sources) > 0 {
		for id := range n.nodes {
			if !fed[id] && !seenNode[id] && !closed[id] {
				c.CutOffNodes = append(c.CutOffNodes, id)
			}
		}
		for id, e := range n.ends {
			if !seenPipe[id] && !fed[e[0]] && !fed[e[1]] {
				c.CutOffPipes = append(c.CutOffPipes, id)
			}
		}
		slices.Sort(c.CutOffNodes)
		slices.Sort(c.CutOffPipes)
	}
	for _, p := range c.IsolatedPipes {
		c.LengthOutOfService += n.length[p]
	}
	for _, p := range c.CutOffPipes {
		c.LengthOutOfService += n.length[p]
	}
	return c, nil
}

// Pipe returns a pipe of the network.
func (n *Network) Pipe(id uint64) (*layers.Feature, bool) { f, ok := n.pipes[id]; return f, ok }

// Node returns a node of the network.
func (n *Network) Node(id uint64) (*layers.Feature, bool) { f, ok := n.nodes[id]; return f, ok }
