package series

import "time"

// Add appends a reading of a sensor's metric; with Stats it is what the
// live state asks of its curves.
func (s *Store) Add(sensor uint64, metric string, t time.Time, v float64) {
	s.Append(Key{Sensor: sensor, Metric: metric}, t, v)
}

// Stats returns the least, greatest and mean value of a series over
// [from, to) and how many readings it holds there.
func (s *Store) Stats(sensor uint64, metric string, from, to time.Time) (lo, hi, avg float64, n int) {
	bs := s.Query(Key{Sensor: sensor, Metric: metric}, from, to, to.Sub(from))
	if len(bs) == 0 {
		return 0, 0, 0, 0
	}
	return bs[0].Min, bs[0].Max, bs[0].Avg, bs[0].Count
}

// Has reports whether the curves hold a reading of a sensor's metric at t
// (to the millisecond): what makes a late copy of a reading a duplicate.
func (s *Store) Has(sensor uint64, metric string, t time.Time) bool {
	ms := time.UnixMilli(t.UnixMilli())
	found := false
	s.Raw(Key{Sensor: sensor, Metric: metric}, ms, ms.Add(time.Millisecond), func(time.Time, float64) bool {
		found = true
		return false
	})
	return found
}
