package wal

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// readingSize is about the size of one encoded reading.
const readingSize = 80

func batch(n int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf("%-*s", readingSize, fmt.Sprintf(`{"sensor":"GAS-%05d","metric":"ch4","value":%d.5}`, i, i%40)))
	}
	return recs
}

// benchmarkAppend appends b.N batches of 1,000 readings from the given number
// of goroutines, with fsync on, and reports records/s and fsyncs/s.
func benchmarkAppend(b *testing.B, goroutines int) {
	l, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	recs := batch(1000)
	b.SetBytes(int64(len(recs) * (readingSize + headerSize)))
	b.ResetTimer()
	start := time.Now()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if _, err := l.Append(context.Background(), recs...); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	b.StopTimer()
	st := l.Stats()
	b.ReportMetric(float64(st.Records)/secs, "records/s")
	b.ReportMetric(float64(st.Syncs)/secs, "fsyncs/s")
	b.ReportMetric(float64(st.Appends)/float64(st.Syncs), "appends/fsync")
}

// BenchmarkAppendBatch1000 is one appender writing batches of 1,000 readings.
func BenchmarkAppendBatch1000(b *testing.B) { benchmarkAppend(b, 1) }

// BenchmarkAppendBatch1000Concurrent8 is eight appenders writing batches of
// 1,000 readings at once, sharing fsyncs.
func BenchmarkAppendBatch1000Concurrent8(b *testing.B) { benchmarkAppend(b, 8) }
