package postgis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

// BenchmarkIngest1000 posts batches of 1,000 readings of the sample city's
// sensors through the live state with its journal in PostGIS: decode, check,
// COPY and commit, rules and alarms. Each op is one batch.
func BenchmarkIngest1000(b *testing.B) {
	ctx := context.Background()
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		b.Fatal(err)
	}
	s, err := postgis.Open(ctx, pgtest.URL(b), layers.Default(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sensors := live.NewSensors(c.Features[layers.Sensor])
	now := time.Now()
	svc, err := live.NewService(live.Options{Sensors: sensors, Journal: s.Journal(30 * 24 * time.Hour), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	all := sensors.All()
	start := now.Add(-29 * 24 * time.Hour)
	var mu sync.Mutex
	next := 0
	var took []time.Duration
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			mu.Lock()
			n := next
			next += 1000
			mu.Unlock()
			var sb strings.Builder
			sb.WriteByte('[')
			for i := n; i < n+1000; i++ {
				s := all[i%len(all)]
				if i > n {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, `{"sensor":%d,"metric":%q,"value":%d,"ts":%d}`, s.ID, s.Metrics[0], i%3, start.Add(time.Duration(i/len(all))*time.Minute).UnixMilli())
			}
			sb.WriteByte(']')
			t0 := time.Now()
			res, err := svc.Ingest(ctx, strings.NewReader(sb.String()), nil)
			if err != nil || res.Accepted != 1000 {
				b.Errorf("accepted %v, %v", res, err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		took = append(took, mine...)
		mu.Unlock()
	})
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "readings/s")
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ack-ms")
}

// BenchmarkNearby500m searches targets and hazards within 500 m of random
// points of the sample city, on geography, from both cores.
func BenchmarkNearby500m(b *testing.B) {
	ctx := context.Background()
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		b.Fatal(err)
	}
	s, err := postgis.Open(ctx, pgtest.URL(b), layers.Default(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := postgis.Load(ctx, s.Pool(), layers.Default(), c, postgis.LoadOptions{}); err != nil {
		b.Fatal(err)
	}
	m := c.Meta
	r := rand.New(rand.NewPCG(1, 2))
	ps := make([]orb.Point, 1024)
	for i := range ps {
		ps[i] = orb.Point{m.Bounds[0] + r.Float64()*(m.Bounds[2]-m.Bounds[0]), m.Bounds[1] + r.Float64()*(m.Bounds[3]-m.Bounds[1])}
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(1)) * 97
		for pb.Next() {
			if _, err := spatial.Nearby(ctx, s, ps[i%len(ps)], 500, []string{layers.ProtectiveTarget, layers.Hazard}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkGasNeighbourhood finds the whole city's gas neighbourhood in
// SQL, on a database ONEMAP_BENCH_DATABASE_URL names that holds a city
// already (onemap load --city /tmp/scale10); it skips without one.
func BenchmarkGasNeighbourhood(b *testing.B) {
	ctx := context.Background()
	s, bound := loadedCity(b)
	n := 0
	for b.Loop() {
		pairs, err := s.GasNeighbourhood(ctx, bound, spatial.GasDistance)
		if err != nil {
			b.Fatal(err)
		}
		n = len(pairs)
	}
	b.ReportMetric(float64(n), "pairs")
}

// BenchmarkAdjacentSpaces is the whole analysis behind the gas
// neighbourhood API and layer on a loaded database (as
// BenchmarkGasNeighbourhood): the spaces with their sensors and people.
func BenchmarkAdjacentSpaces(b *testing.B) {
	ctx := context.Background()
	s, bound := loadedCity(b)
	n := 0
	for b.Loop() {
		spaces, err := spatial.AdjacentSpaces(ctx, s, bound, spatial.GasDistance, 15, 2026)
		if err != nil {
			b.Fatal(err)
		}
		n = len(spaces)
	}
	b.ReportMetric(float64(n), "spaces")
}

// loadedCity opens the database ONEMAP_BENCH_DATABASE_URL names, which
// holds a city already (onemap load --city /tmp/scale10), and returns the
// city's bound; it skips without one.
func loadedCity(b *testing.B) (*postgis.Store, orb.Bound) {
	url := os.Getenv("ONEMAP_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("ONEMAP_BENCH_DATABASE_URL names no loaded city")
	}
	s, err := postgis.Open(context.Background(), url, layers.Default(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	m := s.Meta()
	return s, orb.Bound{Min: orb.Point{m.Bounds[0], m.Bounds[1]}, Max: orb.Point{m.Bounds[2], m.Bounds[3]}}
}

// BenchmarkTileStores renders the uncached composite tile of the six pipe
// and duct layers at z12, z14 and z16 over the whole sample city from the
// memory store and from PostGIS, side by side in one run, one tile at a
// time; each op is one tile. cpu-ns/feature is this process's CPU per
// feature drawn, plus, for PostGIS, the database's.
func BenchmarkTileStores(b *testing.B) {
	ctx := context.Background()
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		b.Fatal(err)
	}
	pg := open(b, c)
	defer pg.Close()
	mem := memory.New(c)
	c = nil // the memory store keeps its own columns
	runtime.GC()
	var pipes []*layers.Layer
	for _, id := range []string{layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.HeatPipe, layers.PowerDuct, layers.TelecomDuct} {
		l, _ := layers.Default().Layer(id)
		pipes = append(pipes, l)
	}
	bd := mem.Meta().Bounds
	city := orb.Bound{Min: orb.Point{bd[0], bd[1]}, Max: orb.Point{bd[2], bd[3]}}
	for _, z := range []int{12, 14, 16} {
		ts := tiles.Covering(city, z)
		// The features of each tile, counted once from the memory store.
		counts := make([]int, len(ts))
		for i, tl := range ts {
			tile, err := mem.RenderTile(ctx, pipes, tl)
			if err != nil {
				b.Fatal(err)
			}
			counts[i] = featureCount(b, tile)
		}
		for _, st := range []struct {
			name string
			r    tiles.Renderer
			db   bool
		}{{"memory", mem, false}, {"postgis", pg, true}} {
			b.Run(fmt.Sprintf("z%d/%s", z, st.name), func(b *testing.B) {
				features := 0
				cpu, dbCPU := cpuTime(), postgresCPU()
				for i := 0; b.Loop(); i++ {
					if _, err := st.r.RenderTile(ctx, pipes, ts[i%len(ts)]); err != nil {
						b.Fatal(err)
					}
					features += counts[i%len(ts)]
				}
				used := cpuTime() - cpu
				if st.db {
					used += postgresCPU() - dbCPU
				}
				b.ReportMetric(float64(features)/float64(b.N), "features/op")
				b.ReportMetric(float64(used.Nanoseconds())/float64(max(features, 1)), "cpu-ns/feature")
			})
		}
	}
}

// featureCount is the number of features in all layers of a tile.
func featureCount(b *testing.B, tile []byte) int {
	if len(tile) == 0 {
		return 0
	}
	ls, err := mvt.Unmarshal(tile)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, l := range ls {
		n += len(l.Features)
	}
	return n
}
