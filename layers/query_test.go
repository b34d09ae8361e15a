package layers

import (
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestDefaultTimeFields(t *testing.T) {
	c := Default()
	for _, l := range c.Layers() {
		if l.Time == "" {
			continue
		}
		f, ok := l.Field(l.Time)
		if !ok || (f.Type != Number && f.Type != String) {
			t.Errorf("%s: time %q is not a Number or String field", l.ID, l.Time)
		}
	}
	for id, want := range map[string]string{GasPipe: "install_year", Bridge: "build_year", Sensor: "installed", ProtectiveTarget: ""} {
		if l, _ := c.Layer(id); l.Time != want {
			t.Errorf("%s: time %q, want %q", id, l.Time, want)
		}
	}
	bad := []*Layer{{ID: "x", Code: 1, Group: "g", Time: "nope", Fields: []Field{{Name: "a", Type: Number}}}}
	if _, err := NewCatalog([]Group{{ID: "g"}}, bad); err == nil {
		t.Error("a layer whose time names no field was taken")
	}
}

func TestTimeFilter(t *testing.T) {
	c := Default()
	pipe, _ := c.Layer(GasPipe)
	sensor, _ := c.Layer(Sensor)
	target, _ := c.Layer(ProtectiveTarget)
	day := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	if f := target.NewTimeFilter(day("2020-01-01T00:00:00Z"), time.Time{}); f != nil {
		t.Errorf("a layer without time: %+v, want nil", f)
	}
	// Years: a pipe laid in 2005 spans 2005; an interval in 2005 meets it.
	y := pipe.NewTimeFilter(day("2005-06-01T00:00:00Z"), day("2005-06-02T00:00:00Z"))
	for v, want := range map[any]bool{2004.0: false, 2005.0: true, 2006.0: false, "2005": false, nil: false} {
		if y.Meets(v) != want {
			t.Errorf("2005-06-01/02 meets %v: %v, want %v", v, !want, want)
		}
	}
	open := pipe.NewTimeFilter(day("2010-01-01T00:00:00Z"), time.Time{})
	if open.Meets(2009.0) || !open.Meets(2010.0) || !open.Meets(3000.0) || !math.IsInf(open.ToYear, 1) {
		t.Errorf("2010/..: %+v", open)
	}
	// Dates, in UTC: 08:00 in Beijing is midnight UTC of the same day.
	d := sensor.NewTimeFilter(day("2021-03-05T08:00:00+08:00"), day("2021-03-06T23:00:00Z"))
	for v, want := range map[any]bool{"2021-03-04": false, "2021-03-05": true, "2021-03-06": true, "2021-03-07": false, "2021": false, 2021.0: false} {
		if d.Meets(v) != want {
			t.Errorf("%+v meets %v: %v, want %v", d, v, !want, want)
		}
	}
}

func TestParseValue(t *testing.T) {
	num, str, boo := Field{Type: Number}, Field{Type: String}, Field{Type: Boolean}
	for _, tt := range []struct {
		f    Field
		in   string
		want any
		ok   bool
	}{
		{num, "300", 300.0, true}, {num, "0.3", 0.3, true}, {num, "NaN", nil, false}, {num, "Inf", nil, false}, {num, "x", nil, false},
		{str, "pe", "pe", true}, {str, "", "", true},
		{boo, "true", true, true}, {boo, "false", false, true}, {boo, "1", nil, false}, {boo, "TRUE", nil, false},
	} {
		v, ok := tt.f.ParseValue(tt.in)
		if ok != tt.ok || ok && v != tt.want {
			t.Errorf("%s %q = %v, %v; want %v, %v", tt.f.Type, tt.in, v, ok, tt.want, tt.ok)
		}
	}
}

func TestIntersects(t *testing.T) {
	b := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	for _, tt := range []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"point inside", orb.Point{5, 5}, true},
		{"point on the edge", orb.Point{10, 5}, true},
		{"point outside", orb.Point{11, 5}, false},
		{"line across", orb.LineString{{-5, 5}, {15, 5}}, true},
		{"diagonal past the corner", orb.LineString{{8, 13}, {13, 8}}, false},
		{"line inside", orb.LineString{{1, 1}, {2, 2}}, true},
		{"polygon around", orb.Polygon{{{-5, -5}, {15, -5}, {15, 15}, {-5, 15}, {-5, -5}}}, true},
		{"polygon overlapping", orb.Polygon{{{8, 8}, {12, 8}, {12, 12}, {8, 12}, {8, 8}}}, true},
		{"triangle past the corner", orb.Polygon{{{9, 12}, {12, 12}, {12, 9}, {9, 12}}}, false},
		{"nil", nil, false},
	} {
		if got := Intersects(b, tt.g); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestQueryMatches(t *testing.T) {
	f := &Feature{ID: 1, Geometry: orb.Point{5, 5}, Props: map[string]any{"class": "medium_a", "diameter_mm": 300.0, "in_tunnel": false, "install_year": 2005.0}}
	pipe, _ := Default().Layer(GasPipe)
	in := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	out := orb.Bound{Min: orb.Point{20, 20}, Max: orb.Point{30, 30}}
	y2005 := time.Date(2005, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		q    Query
		want bool
	}{
		{Query{}, true},
		{Query{Equal: map[string]any{"class": "medium_a", "diameter_mm": 300.0, "in_tunnel": false}}, true},
		{Query{Equal: map[string]any{"class": "low"}}, false},
		{Query{Equal: map[string]any{"diameter_mm": "300"}}, false},
		{Query{Equal: map[string]any{"material": "pe"}}, false},
		{Query{Bound: &in}, true},
		{Query{Bound: &out}, false},
		{Query{Time: pipe.NewTimeFilter(y2005, y2005)}, true},
		{Query{Time: pipe.NewTimeFilter(y2005.AddDate(1, 0, 0), time.Time{})}, false},
	} {
		if got := tt.q.Matches(f); got != tt.want {
			t.Errorf("%+v: %v, want %v", tt.q, got, tt.want)
		}
	}
}
