package cityimport

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// problem is an error of the survey as the mapping reads it: in source's
// feature index (-1 for the whole source), with the closest allowed value
// told in its reason.
func problem(kind city.Kind, l, source string, index int, attr, reason, suggest string) city.Problem {
	if suggest != "" {
		reason += fmt.Sprintf(" (did you mean %q?)", suggest)
	}
	return city.Problem{Kind: kind, Severity: city.SeverityError, Layer: l, File: source, Index: index, Attribute: attr, Reason: reason, Suggestion: suggest}
}

// convert makes the features of one source layer, collecting what is wrong.
func convert(lr LayerRule, l *layers.Layer, recs []record, ps *city.Problems) []*layers.Feature {
	out := make([]*layers.Feature, 0, len(recs))
	seen := map[uint64]int{}
	missing := map[string]int{}
	for _, r := range recs {
		fail := func(kind city.Kind, attr, reason, suggest string) {
			p := problem(kind, l.ID, lr.Source, r.Index, attr, reason, suggest)
			if r.Geom != nil {
				p.Geometry = r.Geom
			}
			*ps = append(*ps, p)
		}
		id, err := makeID(lr, l, r)
		if err != nil {
			fail(city.KindBadID, lr.ID.Field, err.Error(), "")
			continue
		}
		if first, dup := seen[id]; dup {
			fail(city.KindDuplicateID, lr.ID.Field, fmt.Sprintf("id %d is also feature %d's", id, first), "")
			continue
		}
		seen[id] = r.Index
		g, err := single(r.Geom, l.Geometry)
		if err != nil {
			kind := city.KindWrongGeometry
			if errors.Is(err, errNoGeometry) {
				kind = city.KindNoGeometry
			}
			fail(kind, "", err.Error(), "")
			continue
		}
		props := map[string]any{}
		ok := true
		for _, name := range slices.Sorted(maps.Keys(lr.Attributes)) {
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
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		*ps = append(*ps, problem(city.KindNoField, l.ID, lr.Source, -1, name,
			fmt.Sprintf("%d features have no field %q", missing[name], name), likely(name, fieldsOf(recs))))
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
func value(fd layers.Field, rule AttrRule, raw any) (v any, kind city.Kind, why, suggest string) {
	if rule.Values != nil {
		s := strings.TrimSpace(text(raw))
		if m, ok := rule.Values[s]; ok {
			return m, "", "", ""
		}
		if len(fd.Values) > 0 && slices.Contains(fd.Values, s) {
			return s, "", "", ""
		}
		keys := slices.Sorted(maps.Keys(rule.Values))
		return nil, city.KindUnmappedValue, fmt.Sprintf("%q is not among the mapped values (%s)", s, strings.Join(keys, ", ")), likely(s, keys)
	}
	switch fd.Type {
	case layers.Number:
		n, ok := number(raw)
		if !ok {
			return nil, city.KindWrongType, fmt.Sprintf("%v is not a number", raw), ""
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
		return nil, city.KindWrongType, fmt.Sprintf("%v is not yes or no", raw), ""
	}
	s := strings.TrimSpace(text(raw))
	if len(fd.Values) > 0 && !slices.Contains(fd.Values, s) {
		return nil, city.KindUnknownValue, fmt.Sprintf("%q is not one of %s", s, strings.Join(fd.Values, ", ")), likely(s, fd.Values)
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
	return slices.Sorted(maps.Keys(seen))
}

// likely is the one of options nearest to s, when it is near enough to be
// a likely slip; "" otherwise.
func likely(s string, options []string) string {
	best, d := city.Closest(strings.ToLower(s), options)
	if d > max(2, len([]rune(s))/2) {
		return ""
	}
	return best
}
