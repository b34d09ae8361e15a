package cityimport

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// Problem is one thing wrong with the survey as the mapping reads it.
type Problem struct {
	Kind      string `json:"kind"` // a stable code, such as unmapped_value
	Layer     string `json:"layer"`
	Source    string `json:"source"`
	Index     int    `json:"index"` // the feature in its source, from 0; -1 for the whole source
	Attribute string `json:"attribute,omitempty"`
	Reason    string `json:"reason"`
	// Suggest is the closest allowed value, when there is one.
	Suggest string `json:"suggest,omitempty"`
}

// Problems are all the problems of an import, found in one pass.
type Problems []Problem

// Error lists the problems by kind, with the first few of each.
func (ps Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import: %d problems", len(ps))
	shown := map[string]int{}
	for _, p := range ps {
		if shown[p.Kind]++; shown[p.Kind] > 5 {
			continue
		}
		fmt.Fprintf(&b, "\n  %s: %s", p.Kind, p.String())
	}
	for k, n := range shown {
		if n > 5 {
			fmt.Fprintf(&b, "\n  %s: … and %d more", k, n-5)
		}
	}
	return b.String()
}

// String is where the problem is and why.
func (p Problem) String() string {
	at := p.Source
	if p.Index >= 0 {
		at += fmt.Sprintf(": feature %d", p.Index)
	}
	if p.Attribute != "" {
		at += fmt.Sprintf(": %s", p.Attribute)
	}
	s := at + ": " + p.Reason
	if p.Suggest != "" {
		s += fmt.Sprintf(" (did you mean %q?)", p.Suggest)
	}
	return s
}

// convert makes the features of one source layer, collecting what is wrong.
func convert(lr LayerRule, l *layers.Layer, recs []record, ps *Problems) []*layers.Feature {
	out := make([]*layers.Feature, 0, len(recs))
	seen := map[uint64]int{}
	missing := map[string]int{}
	for _, r := range recs {
		fail := func(kind, attr, reason, suggest string) {
			*ps = append(*ps, Problem{Kind: kind, Layer: l.ID, Source: lr.Source, Index: r.Index, Attribute: attr, Reason: reason, Suggest: suggest})
		}
		id, err := makeID(lr, l, r)
		if err != nil {
			fail("bad_id", lr.ID.Field, err.Error(), "")
			continue
		}
		if first, dup := seen[id]; dup {
			fail("duplicate_id", lr.ID.Field, fmt.Sprintf("id %d is also feature %d's", id, first), "")
			continue
		}
		seen[id] = r.Index
		g, err := single(r.Geom, l.Geometry)
		if err != nil {
			fail("bad_geometry", "", err.Error(), "")
			continue
		}
		props := map[string]any{}
		ok := true
		for _, name := range sortedKeys(lr.Attributes) {
			rule := lr.Attributes[name]
			raw, present := r.Props[rule.Field]
			if !present {
				missing[rule.Field]++
				continue
			}
			if raw == nil || raw == "" {
				continue
			}
			fd, _ := field(l, name)
			v, kind, why, suggest := value(fd, rule, raw)
			if kind != "" {
				fail(kind, name, why, suggest)
				ok = false
				continue
			}
			props[name] = v
		}
		for name, v := range lr.Defaults {
			if _, set := props[name]; !set {
				props[name] = v
			}
		}
		if ok {
			out = append(out, &layers.Feature{ID: id, Layer: l.ID, Geometry: g, Props: props, MinZoom: uint8(l.MinZoom)})
		}
	}
	for _, name := range sortedKeys(missing) {
		*ps = append(*ps, Problem{Kind: "no_field", Layer: l.ID, Source: lr.Source, Index: -1, Attribute: name,
			Reason: fmt.Sprintf("%d features have no field %q", missing[name], name), Suggest: closest(name, fieldsOf(recs))})
	}
	return out
}

// makeID is a feature's id: from its id field, or derived from its key.
func makeID(lr LayerRule, l *layers.Layer, r record) (uint64, error) {
	if lr.ID.Field != "" {
		n, ok := number(r.Props[lr.ID.Field])
		if !ok || n != math.Trunc(n) {
			return 0, fmt.Errorf("id field %s is %v, not a whole number", lr.ID.Field, r.Props[lr.ID.Field])
		}
		n += float64(lr.ID.Offset)
		if n < 1 || n >= 1<<layers.IDBits {
			return 0, fmt.Errorf("id %v is not 1 to 2^%d (a survey numbered from 0 says id.offset: 1)", n, layers.IDBits)
		}
		return layers.MakeID(l.Code, uint64(n)), nil
	}
	h := fnv.New64a()
	h.Write([]byte(lr.Source))
	for _, k := range lr.ID.Key {
		v, ok := r.Props[k]
		if !ok || v == nil || v == "" {
			return 0, fmt.Errorf("key field %s is empty", k)
		}
		h.Write([]byte{0})
		h.Write([]byte(text(v)))
	}
	n := h.Sum64() & (1<<layers.IDBits - 1)
	return layers.MakeID(l.Code, max(n, 1)), nil
}

// value is an attribute's value from a source field's, or the kind of
// problem, why, and the closest allowed value.
func value(fd layers.Field, rule AttrRule, raw any) (v any, kind, why, suggest string) {
	if rule.Values != nil {
		s := strings.TrimSpace(text(raw))
		if m, ok := rule.Values[s]; ok {
			return m, "", "", ""
		}
		if len(fd.Values) > 0 && contains(fd.Values, s) {
			return s, "", "", ""
		}
		keys := sortedKeys(rule.Values)
		return nil, "unmapped_value", fmt.Sprintf("%q is not among the mapped values (%s)", s, strings.Join(keys, ", ")), closest(s, keys)
	}
	switch fd.Type {
	case layers.Number:
		n, ok := number(raw)
		if !ok {
			return nil, "bad_value", fmt.Sprintf("%v is not a number", raw), ""
		}
		if rule.Scale != 0 {
			n *= rule.Scale
		}
		return n, "", "", ""
	case layers.Boolean:
		switch strings.ToLower(strings.TrimSpace(text(raw))) {
		case "true", "1", "y", "yes", "是", "t":
			return true, "", "", ""
		case "false", "0", "n", "no", "否", "f":
			return false, "", "", ""
		}
		return nil, "bad_value", fmt.Sprintf("%v is not yes or no", raw), ""
	}
	s := strings.TrimSpace(text(raw))
	if len(fd.Values) > 0 && !contains(fd.Values, s) {
		return nil, "bad_value", fmt.Sprintf("%q is not one of %s", s, strings.Join(fd.Values, ", ")), closest(s, fd.Values)
	}
	return s, "", "", ""
}

// number reads a number from a JSON number or a numeric string.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return n, err == nil && !math.IsNaN(n) && !math.IsInf(n, 0)
	}
	return 0, false
}

// text is a value as the survey wrote it: numbers without exponents.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// single is g as the layer's geometry type: a multi-geometry of one part
// is that part.
func single(g orb.Geometry, want layers.GeomType) (orb.Geometry, error) {
	switch m := g.(type) {
	case nil:
		return nil, errNoGeometry
	case orb.MultiPoint:
		if len(m) == 1 {
			g = m[0]
		}
	case orb.MultiLineString:
		if len(m) == 1 {
			g = m[0]
		}
	case orb.MultiPolygon:
		if len(m) == 1 {
			g = m[0]
		}
	}
	if g.GeoJSONType() != string(want) {
		return nil, fmt.Errorf("a %s where the layer holds %ss", g.GeoJSONType(), want)
	}
	return g, nil
}

func fieldsOf(recs []record) []string {
	seen := map[string]bool{}
	for i, r := range recs {
		if i > 100 {
			break
		}
		for k := range r.Props {
			seen[k] = true
		}
	}
	return sortedKeys(seen)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// closest is the one of options nearest to s by edit distance, when it is
// near enough to be a likely slip; "" otherwise.
func closest(s string, options []string) string {
	best, bestD := "", math.MaxInt
	for _, o := range options {
		if d := editDistance(strings.ToLower(s), strings.ToLower(o)); d < bestD {
			best, bestD = o, d
		}
	}
	if bestD > max(2, len([]rune(s))/2) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
