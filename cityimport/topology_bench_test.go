package cityimport

import (
	"maps"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/citygen"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
)

// BenchNetworks are the pipe layers of the benchmarks, each with its node
// layer: the four networks whose topology an import builds.
var BenchNetworks = []string{layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.HeatPipe}

// BenchScale is the scale of the city the benchmarks generate: SCALE, 1
// when it is not set.
func BenchScale(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv("SCALE")
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		tb.Fatalf("SCALE=%q is not a whole number from 1", s)
	}
	return n
}

// SampleHeap samples the heap in use every 10 ms until the function it
// returns is called, which returns the most it saw.
func SampleHeap() func() uint64 {
	done, finished := make(chan struct{}), make(chan struct{})
	var peak uint64
	go func() {
		defer close(finished)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak
	}
}

// BenchmarkTopology builds the topology of each network of a generated
// city at SCALE alone, as an import does after reading the survey: the
// pipes without from_node and to_node, the nodes as points, snapped at the
// default 0.5 m. It reports the pipe ends given a node a second, the pipes
// split at a node on their line, the nodes made where no node was, and how
// far the heap grew above what it held before (the city among it).
func BenchmarkTopology(b *testing.B) {
	scale := BenchScale(b)
	cat := layers.Default()
	c, err := citygen.Generate(citygen.Options{Seed: citygen.DefaultSeed, Scale: scale})
	if err != nil {
		b.Fatal(err)
	}
	// The plane is the one an import of these layers projects on.
	sub := &city.City{Features: map[string][]*layers.Feature{}}
	for _, id := range BenchNetworks {
		l, _ := cat.Layer(id)
		sub.Features[id], sub.Features[l.Nodes] = c.Features[id], c.Features[l.Nodes]
	}
	bd, _ := bound(sub)
	pl := spatial.NewPlane(bd.Center())
	for _, id := range BenchNetworks {
		pipes, _ := cat.Layer(id)
		nodes, _ := cat.Layer(pipes.Nodes)
		origPipes, origNodes := c.Features[pipes.ID], c.Features[nodes.ID]
		b.Run(id, func(b *testing.B) {
			var ends, split, made int
			var took time.Duration
			var grew uint64 // the heap's peak over what it held before
			for range b.N {
				b.StopTimer()
				ps, ns := surveyed(origPipes), surveyed(origNodes)
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				stop := SampleHeap()
				b.StartTimer()
				t0 := time.Now()
				gotPipes, gotNodes := buildTopology(pipes, nodes, ps, ns, DefaultSnapM, pl)
				took += time.Since(t0)
				b.StopTimer()
				if top := stop(); top > ms.HeapInuse {
					grew = max(grew, top-ms.HeapInuse)
				}
				for _, p := range gotPipes {
					if _, ok := p.Props[layers.FromNode]; !ok {
						b.Fatalf("%s %d has no from_node", pipes.ID, p.ID)
					}
				}
				ends += 2 * len(gotPipes)
				split, made = len(gotPipes)-len(origPipes), len(gotNodes)-len(origNodes)
				b.StartTimer()
			}
			b.ReportMetric(float64(ends)/took.Seconds(), "ends/s")
			b.ReportMetric(float64(len(origPipes)), "pipes")
			b.ReportMetric(float64(len(origNodes)), "nodes")
			b.ReportMetric(float64(split), "parts-added")
			b.ReportMetric(float64(made), "nodes-made")
			b.ReportMetric(float64(grew)/(1<<20), "heap-growth-MB")
		})
	}
}

// surveyed copies features as a survey brings them: pipes without their
// ends, every attribute map a new one, since the topology fills them in.
func surveyed(fs []*layers.Feature) []*layers.Feature {
	out := make([]*layers.Feature, len(fs))
	for i, f := range fs {
		props := maps.Clone(f.Props)
		delete(props, layers.FromNode)
		delete(props, layers.ToNode)
		out[i] = &layers.Feature{ID: f.ID, Layer: f.Layer, Geometry: f.Geometry, Props: props, MinZoom: f.MinZoom}
	}
	return out
}
