package series

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// bruteForce downsamples readings the obvious way.
func bruteForce(pts []sample, from, to time.Time, step time.Duration) []Bucket {
	var out []Bucket
	for _, p := range pts {
		tn := time.UnixMilli(p.t)
		if tn.Before(from) || !tn.Before(to) {
			continue
		}
		i := int64(tn.Sub(from) / step)
		start := from.Add(time.Duration(i) * step)
		if n := len(out); n > 0 && out[n-1].Start.Equal(start) {
			b := &out[n-1]
			b.Min = math.Min(b.Min, p.v)
			b.Max = math.Max(b.Max, p.v)
			b.Avg += p.v // the sum until the end
			b.Count++
			continue
		}
		out = append(out, Bucket{Start: start, Min: p.v, Max: p.v, Avg: p.v, Count: 1})
	}
	for i := range out {
		out[i].Avg /= float64(out[i].Count)
	}
	return out
}

func TestQueryAgainstBruteForce(t *testing.T) {
	now := t0
	s := newTestStore(2*time.Hour, &now)
	r := rand.New(rand.NewPCG(9, 10))
	m := model{}
	keys := []Key{{1, "pressure"}, {2, "flow"}, {3, "strain"}}
	start := t0.Add(-10 * 24 * time.Hour)
	for i, k := range keys {
		ts := start
		x := 0.0
		for ts.Before(t0) {
			x += r.NormFloat64()
			v := x
			if i == 0 {
				v = math.Round(x*100) / 100
			}
			s.Append(k, ts, v)
			m.put(k, ts, v)
			if r.IntN(50) == 0 { // some late readings and duplicates
				late := ts.Add(-time.Duration(r.IntN(5*3600)) * time.Second)
				s.Append(k, late, -v)
				m.put(k, late, -v)
			}
			ts = ts.Add(time.Duration(10+r.IntN(300))*time.Second + time.Duration(r.IntN(1000))*time.Millisecond)
			if r.IntN(500) == 0 { // a dropout
				ts = ts.Add(time.Duration(r.IntN(20)) * time.Hour)
			}
		}
	}
	steps := []time.Duration{time.Millisecond, time.Second, 7 * time.Second, time.Minute, 5 * time.Minute,
		time.Hour, 2 * time.Hour, 25 * time.Hour, 30 * 24 * time.Hour, 1234567 * time.Microsecond}
	for range 300 {
		k := keys[r.IntN(len(keys))]
		from := start.Add(time.Duration(r.Int64N(int64(11*24*time.Hour))) - 12*time.Hour).Add(time.Duration(r.IntN(1e6)) * time.Nanosecond)
		to := from.Add(time.Duration(r.Int64N(int64(4 * 24 * time.Hour))))
		step := steps[r.IntN(len(steps))]
		if step < time.Second && to.Sub(from) > time.Hour {
			to = from.Add(time.Hour)
		}
		want := bruteForce(m.sorted(k, from.Add(-time.Second).UnixMilli(), to.Add(time.Second).UnixMilli()), from, to, step)
		got := s.Query(k, from, to, step)
		if len(got) != len(want) {
			t.Fatalf("%v [%v, %v) step %v: %d buckets, want %d", k, from, to, step, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if !g.Start.Equal(w.Start) || g.Min != w.Min || g.Max != w.Max || g.Count != w.Count ||
				math.Abs(g.Avg-w.Avg) > 1e-9*math.Max(1, math.Abs(w.Avg)) {
				t.Fatalf("%v [%v, %v) step %v bucket %d: got %+v, want %+v", k, from, to, step, i, g, w)
			}
		}
	}
}

func TestQueryEdges(t *testing.T) {
	now := t0
	s := newTestStore(time.Hour, &now)
	k := Key{1, "x"}
	for i := range 10 {
		s.Append(k, t0.Add(-time.Duration(10-i)*time.Minute), float64(i))
	}
	from, to := t0.Add(-10*time.Minute), t0
	tests := []struct {
		name     string
		from, to time.Time
		step     time.Duration
		want     int // buckets
		count    int // readings in the first bucket
	}{
		{"WholeRange", from, to, 0, 1, 10},
		{"ToExclusive", from, to.Add(-time.Minute), time.Hour, 1, 9},
		{"FromInclusive", from, to, time.Minute, 10, 1},
		{"SubMillisecondFrom", from.Add(time.Microsecond), to, time.Hour, 1, 9},
		{"Empty", to, to.Add(time.Hour), time.Minute, 0, 0},
		{"Backwards", to, from, time.Minute, 0, 0},
		{"TinyStepManyBuckets", from, to, time.Nanosecond, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Query(k, tt.from, tt.to, tt.step)
			if len(got) != tt.want {
				t.Fatalf("%d buckets, want %d: %+v", len(got), tt.want, got)
			}
			if tt.want > 0 && got[0].Count != tt.count {
				t.Fatalf("first bucket %+v, want count %d", got[0], tt.count)
			}
		})
	}
	if got := s.Query(Key{2, "x"}, from, to, time.Minute); got != nil {
		t.Fatalf("unknown key: %+v", got)
	}
	n := 0
	s.Raw(k, from, to, func(time.Time, float64) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("Raw went on after false: %d calls", n)
	}
}
