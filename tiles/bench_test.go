package tiles_test

import (
	"context"
	"sync"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
)

// pipeLayers are the layers of the composite tile the benchmarks encode.
var pipeLayers = []string{layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.HeatPipe, layers.PowerDuct, layers.TelecomDuct}

var sample struct {
	once sync.Once
	c    *city.City
	err  error
}

func sampleCity(b testing.TB) *city.City {
	b.Helper()
	sample.once.Do(func() { sample.c, sample.err = city.Read(data.SampleCity(), layers.Default()) })
	if sample.err != nil {
		b.Fatal(sample.err)
	}
	return sample.c
}

// centreTiles are the tiles at zoom z over the middle ninth of the city.
func centreTiles(c *city.City, z int) []tiles.Tile {
	b := c.Meta.Bounds
	w, h := (b[2]-b[0])/3, (b[3]-b[1])/3
	return tiles.Covering(orb.Bound{Min: orb.Point{b[0] + w, b[1] + h}, Max: orb.Point{b[2] - w, b[3] - h}}, z)
}

func benchmarkEncode(b *testing.B, z int, names []string) {
	c := sampleCity(b)
	enc := tiles.NewEncoder(layers.Default(), memory.New(c))
	ts := centreTiles(c, z)
	ctx := context.Background()
	bytes := 0
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		data, err := enc.Encode(ctx, names, ts[i%len(ts)])
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(data)
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(bytes)/float64(b.N), "tile-bytes")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkEncodePipesZ14 encodes the composite tile of every pipe layer at
// zoom 14 over the city centre, uncached.
func BenchmarkEncodePipesZ14(b *testing.B) { benchmarkEncode(b, 14, pipeLayers) }

// BenchmarkEncodePipesZ12 is the same at zoom 12, where a tile covers a
// quarter of the sample city.
func BenchmarkEncodePipesZ12(b *testing.B) { benchmarkEncode(b, 12, pipeLayers) }

// BenchmarkEncodeAllZ14 encodes every layer of the one map at zoom 14.
func BenchmarkEncodeAllZ14(b *testing.B) {
	var all []string
	for _, l := range layers.Default().Layers() {
		all = append(all, l.ID)
	}
	benchmarkEncode(b, 14, all)
}
