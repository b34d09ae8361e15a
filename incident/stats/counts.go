package stats

import (
	"slices"
	"strconv"
	"time"
)

// Counts is a count by period: Periods in order, every period of the
// range, and one Series per group, each count aligned with Periods.
type Counts struct {
	GroupBy string    `json:"group_by"`
	By      string    `json:"by"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Zone    string    `json:"zone"`    // the zone periods are cut in
	Periods []string  `json:"periods"` // "2026-12-03", "2026-12" or "2026"
	Series  []Series  `json:"series"`
	Total   int       `json:"total"`
}

// Series is the counts of one group, aligned with Counts.Periods.
type Series struct {
	// Key is the group: a domain, a district, a level "1" to "4",
	// Unknown, or "all" when the count is not crossed.
	Key    string `json:"key"`
	Counts []int  `json:"counts"`
	Total  int    `json:"total"`
}

// All is the key of the single series of a count that is not crossed.
const All = "all"

// CountAlarms counts the alarms raised (Started) in [q.From, q.To) by
// period and, when q.By is set, by domain, district or level.
func CountAlarms(alarms []Alarm, q Query) (*Counts, error) {
	return count(q, len(alarms), func(i int) (time.Time, string, string, int) {
		a := &alarms[i]
		return a.Started, a.Domain, a.District, a.Level
	})
}

// CountIncidents counts the incidents opened in [q.From, q.To) by period
// and, when q.By is set, by domain, district or final level.
func CountIncidents(incidents []Incident, q Query) (*Counts, error) {
	return count(q, len(incidents), func(i int) (time.Time, string, string, int) {
		in := &incidents[i]
		return in.Opened, in.Domain, in.District, in.Level
	})
}

var levelKeys = [...]string{Unknown, "1", "2", "3", "4"}

// levelKey is the key of a level: "1" to "4", else Unknown.
func levelKey(l int) string {
	if l < 1 || l > 4 {
		return Unknown
	}
	return levelKeys[l]
}

// sortedKeys returns the keys of m in order, Unknown last; levels sort
// as their digits do.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != Unknown {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if _, ok := m[Unknown]; ok {
		keys = append(keys, Unknown)
	}
	return keys
}

func nameKey(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

func count(q Query, n int, rec func(int) (time.Time, string, string, int)) (*Counts, error) {
	p, err := q.periods()
	if err != nil {
		return nil, err
	}
	out := &Counts{GroupBy: q.GroupBy, By: q.By, From: q.From, To: q.To, Zone: q.loc().String(), Periods: p.labels}
	np := len(p.labels)
	var byKey map[string][]int
	var all []int
	var levels [5][]int
	if q.By == ByNone {
		all = make([]int, np)
	} else {
		byKey = make(map[string][]int)
	}
	for i := range n {
		t, domain, district, level := rec(i)
		k := p.index(t)
		if k < 0 {
			continue
		}
		out.Total++
		switch q.By {
		case ByNone:
			all[k]++
			continue
		case ByLevel:
			l := level
			if l < 1 || l > 4 {
				l = 0
			}
			if levels[l] == nil {
				levels[l] = make([]int, np)
			}
			levels[l][k]++
			continue
		}
		key := domain
		if q.By == ByDistrict {
			key = district
		}
		row := byKey[key]
		if row == nil {
			if len(byKey) == MaxGroups {
				return nil, refuse(CodeTooMany, "more than %d groups by %s", MaxGroups, q.By)
			}
			row = make([]int, np)
			byKey[key] = row
		}
		row[k]++
	}
	switch q.By {
	case ByNone:
		out.Series = []Series{{Key: All, Counts: all}}
	case ByLevel:
		for l := 1; l <= 4; l++ {
			if levels[l] != nil {
				out.Series = append(out.Series, Series{Key: strconv.Itoa(l), Counts: levels[l]})
			}
		}
		if levels[0] != nil {
			out.Series = append(out.Series, Series{Key: Unknown, Counts: levels[0]})
		}
	default:
		merged := make(map[string][]int, len(byKey))
		for k, row := range byKey {
			k = nameKey(k)
			if m := merged[k]; m != nil {
				for i, c := range row {
					m[i] += c
				}
				continue
			}
			merged[k] = row
		}
		for _, k := range sortedKeys(merged) {
			out.Series = append(out.Series, Series{Key: k, Counts: merged[k]})
		}
	}
	if out.Series == nil {
		out.Series = []Series{}
	}
	for i := range out.Series {
		for _, c := range out.Series[i].Counts {
			out.Series[i].Total += c
		}
	}
	return out, nil
}
