package spatial

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// featureStore is a versioned source that finds features by id, as a
// store does.
type featureStore struct{ versioned }

func (s *featureStore) Feature(_ context.Context, id uint64) (*layers.Feature, error) {
	for _, f := range s.sliceSource {
		if f.ID == id {
			return f, nil
		}
	}
	return nil, fmt.Errorf("feature %d: %w", id, errNotFound)
}

var errNotFound = errors.New("not found")

// supplyLine is a water main on a line, nodes 100 m apart by number:
//
//	S(1) -p11- V1(2) -p12- L(3) -p13- V2(4) -p14- R(5) -p15- E(6)
//
// with S a plant, L a large user and R a regulator, and buildings beside
// it: 41 30 m from p12, 42 35 m from p14, 43 10 m from p12 and p13 both,
// 44 beside p11 and 45 50 m from p12, both too far from what is closed.
func supplyLine() *featureStore {
	kinds := map[uint64]string{1: "plant", 2: "valve", 3: "large_user", 4: "valve", 5: "regulator", 6: "end"}
	var fs sliceSource
	for id, kind := range kinds {
		fs = append(fs, &layers.Feature{ID: id, Layer: layers.WaterNode, Geometry: at(float64(id)*100, 0), Props: map[string]any{"kind": kind, "name": fmt.Sprintf("node %d", id)}})
	}
	for id := uint64(11); id <= 15; id++ {
		from, to := id-10, id-9
		fs = append(fs, &layers.Feature{ID: id, Layer: layers.WaterPipe, Geometry: orb.LineString{at(float64(from)*100, 0), at(float64(to)*100, 0)},
			Props: map[string]any{layers.FromNode: float64(from), layers.ToNode: float64(to)}})
	}
	building := func(id uint64, x, y, pop float64) *layers.Feature {
		return &layers.Feature{ID: id, Layer: layers.Building, Geometry: orb.Polygon{{at(x-2, y), at(x+2, y), at(x+2, y+sign(y)*4), at(x-2, y+sign(y)*4), at(x-2, y)}},
			Props: map[string]any{"use": "residential", "population": pop}}
	}
	fs = append(fs, building(43, 300, 10, 7), building(41, 250, 30, 100), building(42, 450, -35, 50), building(44, 150, 20, 1000), building(45, 250, 50, 1000))
	return &featureStore{versioned{fs, map[string]uint64{layers.WaterPipe: 1, layers.WaterNode: 1}}}
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func TestValveClosureReport(t *testing.T) {
	ctx := context.Background()
	st := supplyLine()
	r, err := ValveClosureReport(ctx, st, NewNetworks(layers.Default(), st), 12, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(fs []*layers.Feature) []uint64 {
		var out []uint64
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	if r.Network != layers.WaterPipe || !slices.Equal(r.Closure.Valves, []uint64{2, 4}) || !slices.Equal(ids(r.Valves), []uint64{2, 4}) {
		t.Errorf("network %s valves %v %v, want water_pipe [2 4]", r.Network, r.Closure.Valves, ids(r.Valves))
	}
	// The large user is in the closed section, the regulator cut off past it.
	if got := ids(r.LargeUsers); !slices.Equal(got, []uint64{3, 5}) {
		t.Errorf("large users %v, want [3 5]", got)
	}
	if got := ids(r.Buildings); !slices.Equal(got, []uint64{41, 42, 43}) {
		t.Errorf("buildings %v, want [41 42 43]", got)
	}
	if r.People != 157 {
		t.Errorf("people %v, want 157", r.People)
	}
}

func TestValveClosureReportNoneAffected(t *testing.T) {
	ctx := context.Background()
	st := supplyLine()
	// The end pipe: the regulator and the end go out, no large user, no building.
	r, err := ValveClosureReport(ctx, st, NewNetworks(layers.Default(), st), 15, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Closure.Valves, []uint64{4}) || len(r.LargeUsers) != 1 || r.LargeUsers[0].ID != 5 {
		t.Errorf("valves %v large users %v", r.Closure.Valves, r.LargeUsers)
	}
	if r.Buildings == nil || len(r.Buildings) != 1 || r.People != 50 {
		t.Errorf("buildings %v people %v, want [42] and 50", r.Buildings, r.People)
	}
}

func TestValveClosureReportErrors(t *testing.T) {
	ctx := context.Background()
	st := supplyLine()
	ns := NewNetworks(layers.Default(), st)
	if _, err := ValveClosureReport(ctx, st, ns, 99, nil); !errors.Is(err, errNotFound) {
		t.Errorf("unknown pipe: err = %v, want the store's", err)
	}
	var nv *NoValvesError
	if _, err := ValveClosureReport(ctx, st, ns, 41, nil); !errors.As(err, &nv) || nv.Layer != layers.Building ||
		err.Error() != "feature is a building; valve closure takes a gas, water or heating pipe" {
		t.Errorf("a building: err = %v", err)
	}
	if _, err := ValveClosureReport(ctx, st, ns, 12, []uint64{3}); !errors.Is(err, ErrNotValve) {
		t.Errorf("a large user as a failed valve: err = %v", err)
	}
}

func TestIsLargeUser(t *testing.T) {
	for kind, want := range map[string]bool{"large_user": true, "substation": true, "regulator": true, "valve": false, "tee": false, "": false} {
		if got := IsLargeUser(&layers.Feature{Props: map[string]any{"kind": kind}}); got != want {
			t.Errorf("%q: %v, want %v", kind, got, want)
		}
	}
}
