package series

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// reading makes plausible sensor values: a daily cycle, noise and, when digits ≥ 0,
// rounding to the instrument's resolution (digits after the point).
type reading struct {
	base, swing, noise float64
	digits             int
}

func (g reading) at(r *rand.Rand, t time.Time) float64 {
	day := float64(t.Unix()%86400) / 86400
	v := g.base + g.swing*math.Sin(2*math.Pi*day) + g.noise*r.NormFloat64()
	if g.digits < 0 {
		return v
	}
	return math.Round(v*pow10[g.digits]) / pow10[g.digits]
}

// cityMetrics mixes readings the way the sample city's metrics do: many gas detectors
// that mostly read zero, batteries, then pressures, levels, flows and temperatures.
var cityMetrics = []struct {
	name string
	gen  reading
}{
	{"ch4_lel", reading{0, 0, 0.05, 1}},
	{"battery", reading{87, 0, 0.3, 0}},
	{"pressure", reading{0.35, 0.02, 0.002, 3}},
	{"level", reading{42, 8, 0.5, 1}},
	{"flow", reading{120, 40, 3, 2}},
	{"temperature", reading{21, 4, 0.1, 1}},
}

// loadSeries appends n readings every interval ending at end, with up to jitter of
// random delay on each timestamp; full makes the values full-precision floats.
func loadSeries(s *Store, r *rand.Rand, k Key, g reading, end time.Time, n int, interval, jitter time.Duration, full bool) {
	if full {
		g.digits = -1
	}
	start := end.Add(-time.Duration(n) * interval)
	for i := range n {
		ts := start.Add(time.Duration(i) * interval)
		if jitter > 0 {
			ts = ts.Add(time.Duration(r.Int64N(int64(jitter))))
		}
		s.Append(k, ts, g.at(r, ts))
	}
}

// BenchmarkAppend measures one reading's append from two goroutines, each feeding its
// own 1,000 series in time order.
func BenchmarkAppend(b *testing.B) {
	now := time.Now()
	s := New(Options{Retention: 100 * 365 * 24 * time.Hour})
	const perG = 1000
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			keys := make([]Key, perG)
			for i := range keys {
				keys[i] = Key{uint64(g*perG + i), cityMetrics[i%len(cityMetrics)].name}
			}
			n := b.N / 2
			start := now.Add(-time.Duration(n/perG+1) * time.Minute)
			for i := range n {
				k := i % perG
				ts := start.Add(time.Duration(i/perG) * time.Minute)
				s.Append(keys[k], ts, float64(r.IntN(10000))/100)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}

// BenchmarkQuery30d1m queries one series holding 30 days at 60 s for 30 days at a
// 1-minute step, the analyst's longest curve at its finest step.
func BenchmarkQuery30d1m(b *testing.B) {
	for _, full := range []bool{false, true} {
		name := "decimal"
		if full {
			name = "float"
		}
		b.Run(name, func(b *testing.B) {
			now := time.Now().Truncate(time.Minute)
			s := New(Options{})
			k := Key{1, "pressure"}
			loadSeries(s, rand.New(rand.NewPCG(1, 1)), k, cityMetrics[2].gen, now, 30*24*60, time.Minute, 0, full)
			from := now.Add(-30 * 24 * time.Hour)
			if n := len(s.Query(k, from, now, time.Minute)); n < 30*24*60-1 {
				b.Fatalf("%d buckets", n)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				t := time.Now()
				s.Query(k, from, now, time.Minute)
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
		})
	}
}

// BenchmarkCity30d loads 30 days of the sample city's load into one store and reports
// its memory: 5,500 series, one in five at 60 s and the rest at 300 s (the sample
// city's proportion). Variants: values rounded to the instruments' resolution with
// timestamps on the second ("rounded"), the same with up to 1 s of millisecond jitter
// ("rounded-jitter"), and full-precision floats with jitter ("float-jitter", the worst
// case, run on a tenth of the series and scaled up in "MB-at-5500").
func BenchmarkCity30d(b *testing.B) {
	variants := []struct {
		name   string
		series int
		jitter time.Duration
		full   bool
	}{
		{"rounded", 5500, 0, false},
		{"rounded-jitter", 5500, time.Second, false},
		{"float-jitter", 550, time.Second, true},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				cityLoad(b, v.series, v.jitter, v.full)
			}
		})
	}
}

func cityLoad(b *testing.B, nseries int, jitter time.Duration, full bool) {
	now := time.Now().Truncate(time.Second)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	s := New(Options{})
	var readings [2]int
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for i := g; i < nseries; i += 2 {
				interval, n := 300*time.Second, 30*24*12
				if i%5 == 0 {
					interval, n = time.Minute, 30*24*60
				}
				cm := cityMetrics[i%len(cityMetrics)]
				loadSeries(s, r, Key{uint64(i), cm.name}, cm.gen, now, n, interval, jitter, full)
				readings[g] += n
			}
		})
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	n := float64(readings[0] + readings[1])
	heap := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
	b.ReportMetric(n, "readings")
	b.ReportMetric(heap/n, "heap-B/reading")
	b.ReportMetric(float64(s.Bytes())/n, "est-B/reading")
	b.ReportMetric(heap/1e6, "heap-MB")
	b.ReportMetric(heap/1e6*5500/float64(nseries), "MB-at-5500")
	runtime.KeepAlive(s)
}

// BenchmarkChunkDecode measures decoding one 2-hour chunk of 10-second readings.
func BenchmarkChunkDecode(b *testing.B) {
	for _, full := range []bool{false, true} {
		b.Run(fmt.Sprintf("full=%v", full), func(b *testing.B) {
			g := cityMetrics[2].gen
			if full {
				g.digits = -1
			}
			r := rand.New(rand.NewPCG(3, 3))
			pts := genSamples(r, 0, 720, 10_000, 0, func(i int) float64 { return g.at(r, time.UnixMilli(int64(i)*10_000)) })
			data := string(encodeChunk(nil, 0, pts))
			b.SetBytes(int64(len(pts)))
			for b.Loop() {
				it := newChunkIter(data, 0)
				for it.next() {
				}
			}
			b.ReportMetric(float64(len(data))/float64(len(pts)), "B/reading")
		})
	}
}

// BenchmarkAppendLate measures a reading that lands in a closed chunk of 120 readings,
// which is decoded, extended and encoded again.
func BenchmarkAppendLate(b *testing.B) {
	now := time.Now().Truncate(time.Hour)
	s := New(Options{Now: func() time.Time { return now }})
	k := Key{1, "pressure"}
	loadSeries(s, rand.New(rand.NewPCG(4, 4)), k, cityMetrics[2].gen, now, 24*60, time.Minute, 0, false)
	late := now.Add(-12 * time.Hour).Add(30 * time.Second)
	i := 0
	for b.Loop() {
		s.Append(k, late.Add(time.Duration(i%60)*time.Minute), 0.351) // replaces after the first 60
		i++
	}
}
