package layers

import (
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
)

// Query selects features of one layer, in the order of their ids: those
// that meet every condition set, counted whole (the matched), and a page
// of them.
type Query struct {
	// Bound, if set, keeps the features whose geometry meets it.
	Bound *orb.Bound
	// Equal keeps the features whose attributes have these values: a
	// string, a float64 or a bool, by the field's type. Only the layer's
	// catalog attributes may be named (see Layer.Filterable).
	Equal map[string]any
	// Time, if set, keeps the features whose time attribute meets it.
	Time *TimeFilter
	// After starts the page after the feature with this id (0: at the
	// start); Offset skips as many more. Neither changes the matched.
	After  uint64
	Offset int
	// Limit is the most features of the page; 0 asks for the count alone.
	Limit int
}

// TimeFilter keeps the features whose time attribute falls in an interval
// of days or years. A field holding a year (a Number) spans the whole year,
// one holding a date (a String, "2006-01-02…") the whole day; a feature
// meets the filter when that span meets the interval.
type TimeFilter struct {
	// Field is the attribute, the layer's Time.
	Field string
	// Years says the field holds years; else it holds dates.
	Years bool
	// FromYear and ToYear, of a field of years, are the first and last
	// year that meet; ±Inf where the interval is open.
	FromYear, ToYear float64
	// FromDate and ToDate, of a field of dates, are the first and last day
	// that meet ("2006-01-02"); empty where the interval is open.
	FromDate, ToDate string
}

// NewTimeFilter returns the filter of the layer's Time field for the
// interval from start to end, both included, each zero where the interval
// is open. It returns nil for a layer without a Time field: datetime then
// selects every feature.
func (l *Layer) NewTimeFilter(start, end time.Time) *TimeFilter {
	fd, ok := l.Field(l.Time)
	if l.Time == "" || !ok {
		return nil
	}
	f := &TimeFilter{Field: fd.Name, Years: fd.Type == Number, FromYear: math.Inf(-1), ToYear: math.Inf(1)}
	if !start.IsZero() {
		start = start.UTC()
		f.FromYear, f.FromDate = float64(start.Year()), start.Format(time.DateOnly)
	}
	if !end.IsZero() {
		end = end.UTC()
		f.ToYear, f.ToDate = float64(end.Year()), end.Format(time.DateOnly)
	}
	return f
}

// Meets reports whether an attribute value falls in the filter's interval.
func (f *TimeFilter) Meets(v any) bool {
	if f.Years {
		y, ok := v.(float64)
		return ok && y >= f.FromYear && y <= f.ToYear
	}
	s, ok := v.(string)
	if !ok || len(s) < len(time.DateOnly) {
		return false
	}
	d := s[:len(time.DateOnly)]
	return (f.FromDate == "" || d >= f.FromDate) && (f.ToDate == "" || d <= f.ToDate)
}

// Filterable returns the attribute of the layer that a query may select
// by: one of its catalog fields that is not Personal, since a filter on a
// contact would tell what it holds.
func (l *Layer) Filterable(name string) (Field, bool) {
	f, ok := l.Field(name)
	return f, ok && !f.Personal
}

// ParseValue reads a value of the field from a query's text: a String as
// it is, a Number as a finite decimal, a Boolean as true or false.
func (f Field) ParseValue(s string) (any, bool) {
	switch f.Type {
	case Number:
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
	case Boolean:
		v, err := strconv.ParseBool(s)
		return v, err == nil && (s == "true" || s == "false")
	}
	return s, true
}

// Matches reports whether a feature meets the query's conditions (its
// paging aside). It is the rule every store answers Items by.
func (q *Query) Matches(f *Feature) bool {
	for k, v := range q.Equal {
		if got, ok := f.Props[k]; !ok || got != v {
			return false
		}
	}
	if q.Time != nil && !q.Time.Meets(f.Props[q.Time.Field]) {
		return false
	}
	return q.Bound == nil || Intersects(*q.Bound, f.Geometry)
}

// Intersects reports whether a geometry meets a bound: a point inside it
// or on its edge, a line or polygon with some part inside it.
func Intersects(b orb.Bound, g orb.Geometry) bool {
	if g == nil || !b.Intersects(g.Bound()) {
		return false
	}
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if b.Contains(p) {
				return true
			}
		}
		return false
	}
	if b.Contains(g.Bound().Min) && b.Contains(g.Bound().Max) {
		return true // wholly inside
	}
	c := clip.Geometry(b, g)
	if c == nil {
		return false
	}
	switch c := c.(type) {
	case orb.MultiLineString:
		return len(c) > 0
	case orb.LineString:
		return len(c) > 0
	case orb.Polygon:
		return len(c) > 0 && len(c[0]) > 0
	case orb.MultiPolygon:
		return len(c) > 0
	}
	return true
}
