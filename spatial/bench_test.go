package spatial_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store/memory"
	"github.com/paulmach/orb"
)

// The benchmarks run on the sample city, or on the city directory that
// ONEMAP_BENCH_CITY names (a scale-10 city from onemap gen --scale 10).
var bench struct {
	once  sync.Once
	store *memory.Store
	meta  city.Meta
	err   error
}

func benchStore(b *testing.B) *memory.Store {
	b.Helper()
	bench.once.Do(func() {
		cat := layers.Default()
		var c *city.City
		if dir := os.Getenv("ONEMAP_BENCH_CITY"); dir != "" {
			c, bench.err = city.ReadDir(dir, cat, city.Options{})
		} else {
			c, bench.err = city.Read(data.SampleCity(), cat)
		}
		if bench.err == nil {
			bench.store, bench.meta = memory.New(c), c.Meta
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.store
}

func randomPoints(m city.Meta, n int) []orb.Point {
	r := rand.New(rand.NewPCG(1, 2))
	ps := make([]orb.Point, n)
	for i := range ps {
		ps[i] = orb.Point{m.Bounds[0] + r.Float64()*(m.Bounds[2]-m.Bounds[0]), m.Bounds[1] + r.Float64()*(m.Bounds[3]-m.Bounds[1])}
	}
	return ps
}

// BenchmarkNearby500m searches protective targets and hazards within 500 m
// of random points of the city, from both cores.
func BenchmarkNearby500m(b *testing.B) {
	s := benchStore(b)
	ps := randomPoints(bench.meta, 4096)
	ls := []string{layers.ProtectiveTarget, layers.Hazard}
	hits := 0
	var mu sync.Mutex
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i, n := rand.IntN(len(ps)), 0
		for pb.Next() {
			h, err := spatial.Nearby(context.Background(), s, ps[i%len(ps)], 500, ls)
			if err != nil {
				b.Error(err)
				return
			}
			n += len(h)
			i++
		}
		mu.Lock()
		hits += n
		mu.Unlock()
	})
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
}

// BenchmarkGasNeighbourhood finds every underground space within 12.5 m of
// every gas pipe of the whole city.
func BenchmarkGasNeighbourhood(b *testing.B) {
	s := benchStore(b)
	m := bench.meta
	bound := orb.Bound{Min: orb.Point{m.Bounds[0], m.Bounds[1]}, Max: orb.Point{m.Bounds[2], m.Bounds[3]}}
	n := 0
	for b.Loop() {
		pairs, err := spatial.GasNeighbourhood(context.Background(), s, bound, spatial.GasDistance)
		if err != nil {
			b.Fatal(err)
		}
		n = len(pairs)
	}
	b.ReportMetric(float64(n), "pairs")
}

// BenchmarkAdjacentSpaces is the whole analysis behind the gas
// neighbourhood API and layer: the spaces, each with its nearest pipe,
// gas sensor and the people around, ranked by risk.
func BenchmarkAdjacentSpaces(b *testing.B) {
	s := benchStore(b)
	m := bench.meta
	bound := orb.Bound{Min: orb.Point{m.Bounds[0], m.Bounds[1]}, Max: orb.Point{m.Bounds[2], m.Bounds[3]}}
	n := 0
	for b.Loop() {
		spaces, err := spatial.AdjacentSpaces(context.Background(), s, bound, spatial.GasDistance, 15, 2026)
		if err != nil {
			b.Fatal(err)
		}
		n = len(spaces)
	}
	b.ReportMetric(float64(n), "spaces")
}

// BenchmarkValveClosure isolates random water pipes of the city's network
// (built once, as the server keeps it).
func BenchmarkValveClosure(b *testing.B) {
	s := benchStore(b)
	net, err := spatial.NewNetworks(layers.Default(), s).Get(context.Background(), layers.WaterPipe)
	if err != nil {
		b.Fatal(err)
	}
	var pipes []uint64
	s.Features(context.Background(), layers.WaterPipe, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, layers.MaxZoom, func(f *layers.Feature) error {
		pipes = append(pipes, f.ID)
		return nil
	})
	r := rand.New(rand.NewPCG(3, 4))
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := net.ValveClosure(pipes[r.IntN(len(pipes))], nil); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
