package stats

import (
	"math"
	"slices"
	"time"
)

// DurationQuery asks for the times of the incidents opened in [From, To),
// optionally by domain, district or level.
type DurationQuery struct {
	By   string    `json:"by,omitempty"` // "", domain, district or level
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Validate checks the query; a refusal is an *Error.
func (q *DurationQuery) Validate() error {
	switch q.By {
	case ByNone, ByDomain, ByDistrict, ByLevel:
	default:
		return refuse(CodeBadGroup, "by %q is not domain, district or level", clip(q.By))
	}
	return checkSpan(q.From, q.To)
}

// Summary is the nearest-rank p50 and p90 of Count durations, in seconds;
// both 0 when Count is 0.
type Summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_s"`
	P90   float64 `json:"p90_s"`
}

// Times are the durations of the steps of incidents: Verify from opened
// to verified, Publish from opened to the first published warning,
// Receipt from that publication to its first receipt, Resolve from
// opened to resolved.
type Times struct {
	Key       string  `json:"key"` // a domain, district, level "1" to "4", Unknown or "all"
	Incidents int     `json:"incidents"`
	Verify    Summary `json:"verify"`
	Publish   Summary `json:"publish"`
	Receipt   Summary `json:"receipt"`
	Resolve   Summary `json:"resolve"`
}

// Durations is the times of the incidents of a range: Total over all of
// them and, when crossed, Groups by key (Unknown last).
type Durations struct {
	By     string    `json:"by"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Total  Times     `json:"total"`
	Groups []Times   `json:"groups"`
}

// Percentile returns the nearest-rank p-th percentile of sorted, which is
// in ascending order: the value at rank ⌈p/100 × n⌉ (1-based), the first
// for p ≤ 0, the last for p ≥ 100; 0 for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

func summarize(ds []time.Duration) Summary {
	slices.Sort(ds)
	return Summary{Count: len(ds), P50: Percentile(ds, 50).Seconds(), P90: Percentile(ds, 90).Seconds()}
}

type steps struct {
	n                                 int
	verify, publish, receipt, resolve []time.Duration
}

// since appends to-from when both are set and to is not before from: a
// step not reached, or recorded before what it follows, is left out.
func since(ds []time.Duration, from, to time.Time) []time.Duration {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return ds
	}
	return append(ds, to.Sub(from))
}

func (s *steps) add(in *Incident) {
	s.n++
	s.verify = since(s.verify, in.Opened, in.Verified)
	s.publish = since(s.publish, in.Opened, in.Published)
	s.receipt = since(s.receipt, in.Published, in.Receipt)
	s.resolve = since(s.resolve, in.Opened, in.Resolved)
}

func (s *steps) times(key string) Times {
	return Times{Key: key, Incidents: s.n, Verify: summarize(s.verify), Publish: summarize(s.publish),
		Receipt: summarize(s.receipt), Resolve: summarize(s.resolve)}
}

// StepDurations computes the p50 and p90 of the steps of the incidents
// opened in [q.From, q.To), overall and by q.By.
func StepDurations(incidents []Incident, q DurationQuery) (*Durations, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var total steps
	groups := make(map[string]*steps)
	for i := range incidents {
		in := &incidents[i]
		if !inRange(in.Opened, q.From, q.To) {
			continue
		}
		total.add(in)
		if q.By == ByNone {
			continue
		}
		var k string
		switch q.By {
		case ByDomain:
			k = nameKey(in.Domain)
		case ByDistrict:
			k = nameKey(in.District)
		default:
			k = levelKey(in.Level)
		}
		g := groups[k]
		if g == nil {
			if len(groups) == MaxGroups {
				return nil, refuse(CodeTooMany, "more than %d groups by %s", MaxGroups, q.By)
			}
			g = &steps{}
			groups[k] = g
		}
		g.add(in)
	}
	out := &Durations{By: q.By, From: q.From, To: q.To, Total: total.times(All), Groups: []Times{}}
	for _, k := range sortedKeys(groups) {
		out.Groups = append(out.Groups, groups[k].times(k))
	}
	return out, nil
}
