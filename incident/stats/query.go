package stats

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// ErrQuery is matched by errors.Is for every *Error.
var ErrQuery = errors.New("stats: bad query")

// The stable codes of an *Error.
const (
	CodeBadPeriod = "bad_period" // group_by is not day, month or year
	CodeBadGroup  = "bad_group"  // by is not one the statistic knows
	CodeBadRange  = "bad_range"  // from/to missing, reversed or too long
	CodeBadLimit  = "bad_limit"  // a limit out of its bounds
	CodeTooMany   = "too_many"   // more groups than MaxGroups
)

// Error is a query refused; Code is stable, Reason says why in English.
type Error struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func (e *Error) Error() string { return "stats: " + e.Code + ": " + e.Reason }

// Is makes every Error match ErrQuery.
func (e *Error) Is(target error) bool { return target == ErrQuery }

func refuse(code, format string, args ...any) error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// The periods a count groups by.
const (
	Day   = "day"
	Month = "month"
	Year  = "year"
)

// The groups a statistic may be crossed with; "" is no crossing.
const (
	ByNone       = ""
	ByDomain     = "domain"
	ByDistrict   = "district"
	ByLevel      = "level"
	BySensorKind = "sensor_kind"
	ByRule       = "rule"
	BySensor     = "sensor"
)

// Bounds of a query.
const (
	MaxDays   = 400 // periods of a count by day
	MaxMonths = 120 // periods of a count by month
	MaxYears  = 50  // periods of a count by year
	// MaxSpan is the longest from–to of a rate or duration query.
	MaxSpan = 10 * 366 * 24 * time.Hour
	// MaxGroups is the most groups (series, rows) a result holds before
	// a limit; more is refused with too_many.
	MaxGroups = 100_000
	// MaxLimit bounds the rows of a false-alarm rate table.
	MaxLimit = 10_000
	// DefaultLimit is the rows of a rate table when the query gives none.
	DefaultLimit = 100
)

// Unknown is the key of a group whose value is empty (no district) or
// not valid (a level outside 1–4, a rule not known).
const Unknown = "unknown"

// DefaultZone is the zone periods are cut in when a query gives none.
const DefaultZone = "Asia/Shanghai"

// shanghai is Asia/Shanghai, or UTC+8 where the system has no zone data:
// the same for every date since 1991, when it last kept summer time.
var shanghai = func() *time.Location {
	if l, err := time.LoadLocation(DefaultZone); err == nil {
		return l
	}
	return time.FixedZone(DefaultZone, 8*3600)
}()

// Query asks for counts by period, optionally crossed with a group, of
// what happened in [From, To).
type Query struct {
	GroupBy string    `json:"group_by"`     // day, month or year
	By      string    `json:"by,omitempty"` // "", domain, district or level
	From    time.Time `json:"from"`         // inclusive
	To      time.Time `json:"to"`           // exclusive
	// Loc is the zone days, months and years are cut in; nil is
	// Asia/Shanghai.
	Loc *time.Location `json:"-"`
}

func (q *Query) loc() *time.Location {
	if q.Loc == nil {
		return shanghai
	}
	return q.Loc
}

// periods holds the bounds of the periods of a query: period i is
// [starts[i], starts[i+1]).
type periods struct {
	labels []string
	starts []int64 // Unix nanoseconds; one more than labels
	from   int64   // the query's own bounds
	to     int64
}

// index returns the period t falls in, or -1 outside [From, To).
func (p *periods) index(t time.Time) int {
	if t.IsZero() {
		return -1
	}
	n := t.UnixNano()
	if n < p.from || n >= p.to {
		return -1
	}
	// the last start not after n
	return sort.Search(len(p.labels), func(i int) bool { return p.starts[i+1] > n })
}

// Validate checks the query; a refusal is an *Error.
func (q *Query) Validate() error {
	_, err := q.periods()
	return err
}

func (q *Query) periods() (*periods, error) {
	var max int
	var layout string
	switch q.GroupBy {
	case Day:
		max, layout = MaxDays, "2006-01-02"
	case Month:
		max, layout = MaxMonths, "2006-01"
	case Year:
		max, layout = MaxYears, "2006"
	default:
		return nil, refuse(CodeBadPeriod, "group_by %q is not day, month or year", clip(q.GroupBy))
	}
	switch q.By {
	case ByNone, ByDomain, ByDistrict, ByLevel:
	default:
		return nil, refuse(CodeBadGroup, "by %q is not domain, district or level", clip(q.By))
	}
	if err := checkRange(q.From, q.To); err != nil {
		return nil, err
	}
	loc := q.loc()
	f := q.From.In(loc)
	var start time.Time
	switch q.GroupBy {
	case Day:
		start = time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	case Month:
		start = time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, loc)
	default:
		start = time.Date(f.Year(), 1, 1, 0, 0, 0, 0, loc)
	}
	p := &periods{from: q.From.UnixNano(), to: q.To.UnixNano()}
	for i := 0; start.Before(q.To); i++ {
		if i == max {
			return nil, refuse(CodeBadRange, "from %s to %s is more than %d periods of a %s", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), max, q.GroupBy)
		}
		p.labels = append(p.labels, start.Format(layout))
		p.starts = append(p.starts, start.UnixNano())
		switch q.GroupBy {
		case Day:
			start = time.Date(start.Year(), start.Month(), start.Day()+1, 0, 0, 0, 0, loc)
		case Month:
			start = time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, loc)
		default:
			start = time.Date(start.Year()+1, 1, 1, 0, 0, 0, 0, loc)
		}
	}
	p.starts = append(p.starts, start.UnixNano())
	return p, nil
}

// checkRange checks a [from, to) within the years 1900 to 2200.
func checkRange(from, to time.Time) error {
	if from.IsZero() || to.IsZero() {
		return refuse(CodeBadRange, "from and to are both needed")
	}
	if from.Year() < 1900 || to.Year() > 2200 {
		return refuse(CodeBadRange, "from and to are within the years 1900 to 2200")
	}
	if !from.Before(to) {
		return refuse(CodeBadRange, "from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return nil
}

// checkSpan checks a [from, to) of at most MaxSpan.
func checkSpan(from, to time.Time) error {
	if err := checkRange(from, to); err != nil {
		return err
	}
	if to.Sub(from) > MaxSpan {
		return refuse(CodeBadRange, "from %s to %s is longer than ten years", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return nil
}

// inRange reports whether t is in [from, to).
func inRange(t, from, to time.Time) bool {
	return !t.IsZero() && !t.Before(from) && t.Before(to)
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
