package spatial

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// net builds a network from "from-to" pipe specs over nodes placed 100 m
// apart on a line by their number; kinds name the valves and sources.
func testNetwork(t *testing.T, kinds map[uint64]string, pipes map[uint64][2]uint64) *Network {
	t.Helper()
	var ns, ps []*layers.Feature
	for id, kind := range kinds {
		ns = append(ns, &layers.Feature{ID: id, Layer: layers.WaterNode, Geometry: at(float64(id)*100, 0), Props: map[string]any{"kind": kind}})
	}
	for id, e := range pipes {
		ps = append(ps, &layers.Feature{ID: id, Layer: layers.WaterPipe,
			Geometry: orb.LineString{at(float64(e[0])*100, 0), at(float64(e[1])*100, 0)},
			Props:    map[string]any{layers.FromNode: float64(e[0]), layers.ToNode: float64(e[1])}})
	}
	n, err := NewNetwork(layers.WaterPipe, layers.WaterNode, ps, ns, func(f *layers.Feature) bool { return f.Props["kind"] == "plant" })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A plant S(1), valve V1(2), tee T1(3), valve V2(4), tee T2(5), end E(6),
// and a branch from T1 through valve V3(7) to tee T3(8):
//
//	S -p11- V1 -p12- T1 -p13- V2 -p14- T2 -p15- E
//	                 T1 -p16- V3 -p17- T3
func branched(t *testing.T) *Network {
	return testNetwork(t,
		map[uint64]string{1: "plant", 2: "valve", 3: "tee", 4: "valve", 5: "tee", 6: "end", 7: "valve", 8: "tee"},
		map[uint64][2]uint64{11: {1, 2}, 12: {2, 3}, 13: {3, 4}, 14: {4, 5}, 15: {5, 6}, 16: {3, 7}, 17: {7, 8}})
}

func TestValveClosure(t *testing.T) {
	tests := []struct {
		name                      string
		net                       func(*testing.T) *Network
		pipe                      uint64
		failed                    []uint64
		valves, isoPipes, isoNode []uint64
		cutPipes, cutNodes        []uint64
	}{
		{"Branch", branched, 13, nil,
			[]uint64{2, 4, 7}, []uint64{12, 13, 16}, []uint64{3},
			[]uint64{14, 15, 17}, []uint64{5, 6, 8}},
		{"DeadEnd", branched, 15, nil,
			[]uint64{4}, []uint64{14, 15}, []uint64{5, 6}, nil, nil},
		{"SecondClosure", branched, 13, []uint64{4},
			[]uint64{2, 7}, []uint64{12, 13, 14, 15, 16}, []uint64{3, 4, 5, 6},
			[]uint64{17}, []uint64{8}},
		// A loop S -p21- A -p22- Va -p23- B -p24- Vb -p25- C -p26- A keeps C
		// fed round the other way.
		{"Loop", func(t *testing.T) *Network {
			return testNetwork(t, map[uint64]string{1: "plant", 2: "tee", 3: "valve", 4: "tee", 5: "valve", 6: "tee"},
				map[uint64][2]uint64{21: {1, 2}, 22: {2, 3}, 23: {3, 4}, 24: {4, 5}, 25: {5, 6}, 26: {6, 2}})
		}, 23, nil, []uint64{3, 5}, []uint64{23, 24}, []uint64{4}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.net(t).ValveClosure(tt.pipe, tt.failed)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want []uint64) {
				if !slices.Equal(got, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("valves", c.Valves, tt.valves)
			check("isolated pipes", c.IsolatedPipes, tt.isoPipes)
			check("isolated nodes", c.IsolatedNodes, tt.isoNode)
			check("cut-off pipes", c.CutOffPipes, tt.cutPipes)
			check("cut-off nodes", c.CutOffNodes, tt.cutNodes)
			// Nodes lie 100 m apart by number, so a pipe is 100 m times the
			// difference of its ends' numbers.
			net := tt.net(t)
			want := 0.0
			for _, p := range append(slices.Clone(tt.isoPipes), tt.cutPipes...) {
				f, _ := net.Pipe(p)
				want += 100 * math.Abs(f.Props[layers.ToNode].(float64)-f.Props[layers.FromNode].(float64))
			}
			if !near(c.LengthOutOfService, want, want*0.002) {
				t.Errorf("length out of service %.1f m, want %v", c.LengthOutOfService, want)
			}
		})
	}
}

func TestValveClosureErrors(t *testing.T) {
	n := branched(t)
	if _, err := n.ValveClosure(99, nil); !errors.Is(err, ErrNotPipe) {
		t.Errorf("unknown pipe: err = %v", err)
	}
	if _, err := n.ValveClosure(13, []uint64{3}); !errors.Is(err, ErrNotValve) {
		t.Errorf("a tee as a failed valve: err = %v", err)
	}
	_, err := NewNetwork(layers.WaterPipe, layers.WaterNode,
		[]*layers.Feature{{ID: 1, Geometry: orb.LineString{at(0, 0), at(1, 0)}, Props: map[string]any{layers.FromNode: 7.0, layers.ToNode: 8.0}}},
		nil, IsValve)
	if !errors.Is(err, ErrDisconnected) {
		t.Errorf("pipe to missing nodes: err = %v", err)
	}
}
