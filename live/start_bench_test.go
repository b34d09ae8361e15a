package live_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/wal"
)

// envInt reads a whole number from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkStart fills the embedded default with ONEMAP_BENCH_DAYS days
// (default 1) of every metric of the sample city's sensors at their
// intervals (at most one reading a minute) — or of ONEMAP_BENCH_SENSORS sensors made by repeating them —
// through ingest, then measures a start from the whole journal, a
// checkpoint (its size, the pause ingest sees, the time it takes) and a
// start from the checkpoint, with the disk each uses. One op is the whole
// run: use -benchtime 1x.
func BenchmarkStart(b *testing.B) {
	days := envInt("ONEMAP_BENCH_DAYS", 1)
	sensors := sampleSensors(b)
	if n := envInt("ONEMAP_BENCH_SENSORS", 0); n > len(sensors.All()) {
		sensors = repeatSensors(sensors, n)
	}
	for range b.N {
		dir := b.TempDir()
		end := time.Now().Truncate(time.Minute)
		now := end
		clock := func() time.Time { return now }
		open := func() (*live.Service, *wal.Log, time.Duration) {
			b.Helper()
			t0 := time.Now()
			j, err := wal.Open(filepath.Join(dir, "journal"), wal.Options{})
			if err != nil {
				b.Fatal(err)
			}
			curves := series.New(series.Options{Now: clock})
			svc, err := live.NewService(live.Options{Sensors: sensors, Journal: live.WALJournal{Log: j, Dir: filepath.Join(dir, "checkpoints")},
				Series: curves, History: curves, Now: clock})
			if err != nil {
				b.Fatal(err)
			}
			return svc, j, time.Since(t0)
		}
		svc, j, _ := open()
		t0 := time.Now()
		n := fill(b, svc, sensors, end.Add(-time.Duration(days)*24*time.Hour), end)
		fillTook := time.Since(t0)
		j.Close()
		fullDisk := du(dir)

		_, j, fromJournal := open()
		j.Close()
		svc, j, _ = open()
		info, err := svc.Checkpoint(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		j.Close()
		_, j, fromCheckpoint := open()
		j.Close()
		b.ReportMetric(float64(n), "readings")
		b.ReportMetric(float64(n)/fillTook.Seconds(), "ingest-readings/s")
		b.ReportMetric(fromJournal.Seconds(), "start-journal-s")
		b.ReportMetric(float64(fullDisk)/(1<<20), "journal-MiB")
		b.ReportMetric(info.Pause.Seconds()*1000, "checkpoint-pause-ms")
		b.ReportMetric(info.Took.Seconds(), "checkpoint-s")
		b.ReportMetric(float64(info.Bytes)/(1<<20), "checkpoint-MiB")
		b.ReportMetric(fromCheckpoint.Seconds(), "start-checkpoint-s")
		b.ReportMetric(float64(du(dir))/(1<<20), "disk-after-MiB")
	}
}

// fill ingests every metric of every sensor at its interval from from to
// to, in batches of 5,000, and returns the number of readings.
func fill(b *testing.B, svc *live.Service, sensors *live.Sensors, from, to time.Time) int {
	all := sensors.All()
	next := make([]time.Time, len(all))
	every := make([]time.Duration, len(all))
	for i, s := range all {
		// Sensors that sample faster report a reading a minute, as the
		// sample city's mix in docs/series.md does.
		every[i] = max(s.Interval, time.Minute)
		next[i] = from.Add(time.Duration(i) * time.Second % every[i])
	}
	var sb strings.Builder
	n, inBatch := 0, 0
	flush := func() {
		if inBatch == 0 {
			return
		}
		sb.WriteByte(']')
		res, err := svc.Ingest(context.Background(), strings.NewReader(sb.String()), nil)
		if err != nil || len(res.Refused) > 0 {
			b.Fatalf("ingest: %v %v", err, res.Refused[:min(3, len(res.Refused))])
		}
		n += res.Accepted
		sb.Reset()
		inBatch = 0
	}
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		for i, s := range all {
			for !next[i].After(t) {
				for _, m := range s.Metrics {
					md := live.LookupMetric(m)
					if md == nil {
						continue
					}
					u := md.Units[0]
					v := min(u.Min+float64(n%3), u.Max)
					if inBatch == 0 {
						sb.WriteByte('[')
					} else {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, `{"sensor":%d,"metric":%q,"value":%g,"ts":%d}`, s.ID, m, v, next[i].UnixMilli())
					inBatch++
				}
				next[i] = next[i].Add(every[i])
			}
			if inBatch >= 5000 {
				flush()
			}
		}
	}
	flush()
	return n
}

// repeatSensors makes n sensors by repeating the sample city's with new ids.
func repeatSensors(s *live.Sensors, n int) *live.Sensors {
	all := s.All()
	fs := make([]*layers.Feature, 0, n)
	for i := range n {
		o := all[i%len(all)]
		fs = append(fs, &layers.Feature{ID: uint64(1<<40 + i), Layer: layers.Sensor, Geometry: o.Location, Props: map[string]any{
			"code": fmt.Sprintf("S-%07d", i), "domain": string(o.Domain), "kind": o.Kind, "metrics": strings.Join(o.Metrics, ","),
			"asset": float64(o.Asset), "asset_layer": o.AssetLayer, "interval_s": o.Interval.Seconds()}})
	}
	return live.NewSensors(fs)
}

// du returns the bytes of the files under dir.
func du(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
