package series_test

import (
	"fmt"
	"time"

	"github.com/onemap/onemap/series"
)

func Example() {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := series.New(series.Options{Now: func() time.Time { return now }})
	k := series.Key{Sensor: 1001, Metric: "pressure"}
	for i := range 6 {
		s.Append(k, now.Add(time.Duration(i-6)*10*time.Minute), 0.30+float64(i)/100)
	}
	s.Append(k, now.Add(-60*time.Minute), 0.29) // a resent reading replaces the first

	for _, b := range s.Query(k, now.Add(-time.Hour), now, 30*time.Minute) {
		fmt.Printf("%s n=%d min=%.2f avg=%.2f max=%.2f\n", b.Start.Format("15:04"), b.Count, b.Min, b.Avg, b.Max)
	}
	t, v, _ := s.Last(k)
	fmt.Println("last", t.UTC().Format("15:04"), v)
	// Output:
	// 11:00 n=3 min=0.29 avg=0.31 max=0.32
	// 11:30 n=3 min=0.33 avg=0.34 max=0.35
	// last 11:50 0.35
}
