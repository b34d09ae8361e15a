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

// BenchmarkOpen opens a log of 64 MiB of readings (two segments of 32 MiB),
// which reads every record to check it, then replays it as a start does;
// it reports the time of each.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	l, err := Open(dir, Options{NoSync: true, SegmentSize: 32 << 20})
	if err != nil {
		b.Fatal(err)
	}
	recs := batch(1000)
	var size int64
	for size < 64<<20 {
		if _, err := l.Append(context.Background(), recs...); err != nil {
			b.Fatal(err)
		}
		size += int64(len(recs) * (readingSize + headerSize))
	}
	l.Close()
	b.SetBytes(size)
	b.ResetTimer()
	var open, replay time.Duration
	for range b.N {
		start := time.Now()
		l, err := Open(dir, Options{NoSync: true, SegmentSize: 32 << 20})
		if err != nil {
			b.Fatal(err)
		}
		open += time.Since(start)
		start = time.Now()
		if err := l.Replay(1, func(uint64, []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
		replay += time.Since(start)
		l.Close()
	}
	b.ReportMetric(float64(open.Milliseconds())/float64(b.N), "open-ms")
	b.ReportMetric(float64(replay.Milliseconds())/float64(b.N), "replay-ms")
}
