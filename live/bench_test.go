package live_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/wal"
)

// sampleSensors are the sample city's sensors.
func sampleSensors(b *testing.B) *live.Sensors {
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		b.Fatal(err)
	}
	return live.NewSensors(c.Features[layers.Sensor])
}

// BenchmarkIngest1000 posts batches of 1,000 readings of the sample city's
// sensors through the whole path: decode, check, journal with fsync, rules,
// alarms and curves. Each op is one batch.
func BenchmarkIngest1000(b *testing.B) {
	sensors := sampleSensors(b)
	j, err := wal.Open(b.TempDir(), wal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	now := time.Now()
	svc, err := live.NewService(live.Options{Sensors: sensors, Journal: live.WALJournal{Log: j}, Series: series.New(series.Options{}), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	all := sensors.All()
	start := now.Add(-29 * 24 * time.Hour)
	var mu sync.Mutex
	next := 0
	batch := func() string {
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
			// Each sensor reports every 60 s of sensor time, values in the
			// normal band of its first metric.
			fmt.Fprintf(&sb, `{"sensor":%d,"metric":%q,"value":%d,"ts":%d}`, s.ID, s.Metrics[0], i%3,
				start.Add(time.Duration(i/len(all))*time.Minute).UnixMilli())
		}
		sb.WriteByte(']')
		return sb.String()
	}
	var took []time.Duration
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			body := batch()
			t0 := time.Now()
			res, err := svc.Ingest(context.Background(), strings.NewReader(body), nil)
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

// BenchmarkIngestBadBodies posts the bodies an attacker would: a million
// {} (3 MB; refused at its first element), and a full batch of 50,000
// readings of unknown sensors (every one refused, 100 listed). B/op is
// what one body costs the server.
func BenchmarkIngestBadBodies(b *testing.B) {
	sensors := sampleSensors(b)
	now := time.Now()
	svc, err := live.NewService(live.Options{Sensors: sensors, Series: series.New(series.Options{}), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, body string }{
		{"MillionEmptyObjects", "[" + strings.Repeat("{},", 1e6) + "{}]"},
		{"UnknownSensors50000", "[" + strings.Repeat(`{"sensor":"NOPE-1","metric":"ch4_lel","value":1,"ts":1767225600000},`, live.MaxBatch-1) +
			`{"sensor":"NOPE-1","metric":"ch4_lel","value":1,"ts":1767225600000}]`},
		{"UnknownSensorsPastCap", "[" + strings.Repeat(`{"sensor":"NOPE-1"},`, 1e6) + `{"sensor":"NOPE-1"}]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				res, _ := svc.Ingest(context.Background(), strings.NewReader(bc.body), nil)
				if res == nil || len(res.Refused) > live.MaxRefusals {
					b.Fatalf("%+v", res)
				}
			}
		})
	}
}
