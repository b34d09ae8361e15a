package series

import (
	"sort"
	"time"
)

// Bucket summarises the readings of one step of a Query.
type Bucket struct {
	Start time.Time // from + i·step
	Min   float64
	Max   float64
	Avg   float64
	Count int
}

// snapshot returns, under the shard lock, what a reader needs of key's readings in
// [from, to): the closed chunks that may hold some (shared, never changed) and a copy
// of the open chunk's readings in range.
func (s *Store) snapshot(key Key, from, to int64) ([]chunk, []sample) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	se := sh.m[key]
	if se == nil {
		return nil, nil
	}
	cs := se.closed
	lo := sort.Search(len(cs), func(i int) bool { return se.chunkEnd(i) > from })
	hi := sort.Search(len(cs), func(i int) bool { return cs[i].start >= to })
	var open []sample
	if len(se.open) > 0 && se.openStart < to && se.open[len(se.open)-1].t >= from {
		a := sort.Search(len(se.open), func(i int) bool { return se.open[i].t >= from })
		b := sort.Search(len(se.open), func(i int) bool { return se.open[i].t >= to })
		open = append([]sample(nil), se.open[a:b]...)
	}
	if lo >= hi {
		return nil, open
	}
	return cs[lo:hi:hi], open
}

// Raw calls fn with each reading of key in [from, to), in time order, until fn returns
// false.
func (s *Store) Raw(key Key, from, to time.Time, fn func(t time.Time, v float64) bool) {
	f, e := rangeMs(from, to)
	cs, open := s.snapshot(key, f, e)
	for _, c := range cs {
		it := newChunkIter(c.data, c.start)
		for it.next() {
			if it.t < f {
				continue
			}
			if it.t >= e {
				return
			}
			if !fn(time.UnixMilli(it.t), it.v) {
				return
			}
		}
	}
	for _, p := range open {
		if !fn(time.UnixMilli(p.t), p.v) {
			return
		}
	}
}

// rangeMs turns [from, to) into whole milliseconds: a reading at ms t is inside when
// from ≤ t < to.
func rangeMs(from, to time.Time) (int64, int64) {
	f := from.UnixMilli()
	if from.After(time.UnixMilli(f)) {
		f++ // from has a fraction of a ms: the first ms inside is the next
	}
	e := to.UnixMilli()
	if to.After(time.UnixMilli(e)) {
		e++
	}
	return f, e
}

// Query downsamples key's readings in [from, to) into buckets of step, the first
// starting at from; buckets without readings are left out. A step ≤ 0 gives one
// bucket for the whole range.
func (s *Store) Query(key Key, from, to time.Time, step time.Duration) []Bucket {
	f, e := rangeMs(from, to)
	if f >= e {
		return nil
	}
	if step <= 0 {
		step = to.Sub(from)
	}
	cs, open := s.snapshot(key, f, e)
	if len(cs) == 0 && len(open) == 0 {
		return nil
	}

	points := len(open)
	for _, c := range cs {
		points += c.points()
	}
	nb := int64(to.Sub(from)/step) + 1
	if int64(points) < nb {
		nb = int64(points)
	}
	a := aggregator{
		from:  from,
		fromN: from.UnixNano(),
		step:  int64(step),
		out:   make([]Bucket, 0, nb),
		idx:   -1,
	}
	for _, c := range cs {
		it := newChunkIter(c.data, c.start)
		for it.next() {
			if it.t < f {
				continue
			}
			if it.t >= e {
				break
			}
			a.add(it.t, it.v)
		}
	}
	for _, p := range open {
		a.add(p.t, p.v)
	}
	return a.done()
}

// aggregator folds time-ordered readings into buckets.
type aggregator struct {
	from  time.Time
	fromN int64 // from in ns
	step  int64 // ns
	out   []Bucket

	idx      int64 // current bucket, -1 before the first
	end      int64 // ns at which the current bucket ends
	min, max float64
	sum      float64
	n        int
}

func (a *aggregator) add(t int64, v float64) {
	tn := t * int64(time.Millisecond)
	if a.idx < 0 || tn >= a.end {
		a.flush()
		a.idx = (tn - a.fromN) / a.step
		a.end = a.fromN + (a.idx+1)*a.step
		a.min, a.max, a.sum, a.n = v, v, v, 1
		return
	}
	if v < a.min {
		a.min = v
	}
	if v > a.max {
		a.max = v
	}
	a.sum += v
	a.n++
}

func (a *aggregator) flush() {
	if a.n == 0 {
		return
	}
	a.out = append(a.out, Bucket{
		Start: a.from.Add(time.Duration(a.idx * a.step)),
		Min:   a.min,
		Max:   a.max,
		Avg:   a.sum / float64(a.n),
		Count: a.n,
	})
	a.n = 0
}

func (a *aggregator) done() []Bucket {
	a.flush()
	return a.out
}
