package city

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Kind names a kind of problem with a city directory. The names are stable:
// reports and scripts may rely on them.
type Kind string

// The kinds of problem, in the order a summary lists them.
const (
	KindUnreadable        Kind = "unreadable"          // a file that cannot be read, or is not the JSON it should be
	KindCityMissing       Kind = "city_missing"        // city.json lacks its name, bounds, centre or zoom
	KindCityBounds        Kind = "city_bounds"         // city.json's bounds are not a box of longitudes and latitudes
	KindCityCenter        Kind = "city_center_outside" // city.json's centre lies outside its bounds
	KindUnknownFile       Kind = "unknown_file"        // a file in the directory that no layer reads
	KindBadID             Kind = "bad_id"              // a feature without a positive integer id
	KindDuplicateID       Kind = "duplicate_id"        // an id that another feature, of any layer, has too
	KindNoGeometry        Kind = "no_geometry"         // a feature without a geometry
	KindWrongGeometry     Kind = "wrong_geometry"      // a geometry of another type than the layer's
	KindInvalidGeometry   Kind = "invalid_geometry"    // a line of one point, a ring not closed
	KindBadCoordinates    Kind = "bad_coordinates"     // not finite, or not a longitude and latitude
	KindOutsideBounds     Kind = "outside_bounds"      // valid coordinates, outside the city's bounds
	KindZeroLength        Kind = "zero_length"         // a line whose points are all one point
	KindMissingAttribute  Kind = "missing_attribute"   // a required attribute absent or null
	KindUnknownValue      Kind = "unknown_value"       // a value outside its attribute's enumeration
	KindWrongType         Kind = "wrong_type"          // a value of the wrong type
	KindBadMinZoom        Kind = "bad_minzoom"         // a minzoom that is not a zoom
	KindUnknownNode       Kind = "unknown_node"        // a from_node or to_node naming no node
	KindNodeFar           Kind = "node_far"            // a pipe's end farther than NodeTolerance from its node
	KindSelfCrossing      Kind = "self_crossing"       // a line that crosses itself
	KindDuplicateGeometry Kind = "duplicate_geometry"  // two features of a layer drawn exactly alike
	KindDanglingNode      Kind = "dangling_node"       // a node no pipe reaches, or a tee or bend only one pipe reaches
	KindIsland            Kind = "island"              // a part of a network joined to none of its sources
	// Kinds of problem that importing a survey finds (package cityimport).
	KindNoField       Kind = "no_field"       // a field the mapping names that a source's features lack
	KindUnmappedValue Kind = "unmapped_value" // a source value the mapping's values do not hold
	KindNoFeatures    Kind = "no_features"    // sources that hold no features at all
)

var kindOrder = []Kind{KindUnreadable, KindCityMissing, KindCityBounds, KindCityCenter, KindUnknownFile,
	KindBadID, KindDuplicateID, KindNoGeometry, KindWrongGeometry, KindInvalidGeometry, KindBadCoordinates,
	KindOutsideBounds, KindZeroLength, KindMissingAttribute, KindUnknownValue, KindWrongType, KindBadMinZoom,
	KindUnknownNode, KindNodeFar, KindSelfCrossing, KindDuplicateGeometry, KindDanglingNode, KindIsland, KindNoField, KindUnmappedValue, KindNoFeatures}

// Severity says whether a problem refuses the city (an error) or is only
// told (a warning).
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Likely causes of bad coordinates.
const (
	CauseProjected = "projected" // metres of a projected CRS read as degrees: a missing --srid
	CauseSwapped   = "swapped"   // latitude and longitude in each other's place
	CauseReversed  = "reversed"  // a pipe's from_node and to_node in each other's place
)

// Problem is one problem found in a city directory.
type Problem struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Layer is the layer whose file holds the problem; empty for city.json
	// and unknown files.
	Layer string `json:"layer,omitempty"`
	File  string `json:"file"`
	// Index is the feature's index in the file, from 0; -1 for a problem of
	// the whole file.
	Index int `json:"index"`
	// ID is the feature's id, 0 when it has none.
	ID uint64 `json:"id,omitempty"`
	// Attribute names the attribute at fault, if one is.
	Attribute string `json:"attribute,omitempty"`
	// Reason says what is wrong, in plain words, with any suggestion and
	// likely cause.
	Reason string `json:"reason"`
	// Suggestion is the likely intended value: the closest allowed value of
	// an enumeration, the closest layer file name, the closest attribute.
	Suggestion string `json:"suggestion,omitempty"`
	// Cause names the likely cause of bad coordinates: CauseProjected,
	// CauseSwapped or CauseReversed.
	Cause string `json:"cause,omitempty"`
	// Geometry is the feature's geometry, when it has longitudes and
	// latitudes a map can draw.
	Geometry orb.Geometry `json:"-"`
}

// Where returns the file and feature the problem is in.
func (p Problem) Where() string {
	switch {
	case p.Index < 0:
		return p.File
	case p.ID != 0:
		return fmt.Sprintf("%s: feature %d (id %d)", p.File, p.Index, p.ID)
	}
	return fmt.Sprintf("%s: feature %d", p.File, p.Index)
}

func (p Problem) String() string { return p.Where() + ": " + p.Reason }

// Problems are the problems found in a city directory, in the order they
// were found.
type Problems []Problem

// Errors returns the number of errors.
func (ps Problems) Errors() int {
	n := 0
	for _, p := range ps {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Warnings returns the number of warnings.
func (ps Problems) Warnings() int { return len(ps) - ps.Errors() }

// OfKind returns the problems of one kind.
func (ps Problems) OfKind(k Kind) Problems {
	var out Problems
	for _, p := range ps {
		if p.Kind == k {
			out = append(out, p)
		}
	}
	return out
}

// Err returns nil when there is no error among the problems, and otherwise
// a *RefusedError holding them all.
func (ps Problems) Err() error {
	if ps.Errors() == 0 {
		return nil
	}
	return &RefusedError{Problems: ps}
}

// RefusedError is a city refused for its errors.
type RefusedError struct {
	Problems Problems
}

func (e *RefusedError) Error() string {
	var first Problem
	for _, p := range e.Problems {
		if p.Severity == SeverityError {
			first = p
			break
		}
	}
	n := e.Problems.Errors()
	if n == 1 {
		return first.String()
	}
	return fmt.Sprintf("%s, %s; the first: %s", plural(n, "error"), plural(e.Problems.Warnings(), "warning"), first)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Count is the number of problems of one kind and severity in one layer.
type Count struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Layer    string   `json:"layer,omitempty"`
	File     string   `json:"file"`
	Count    int      `json:"count"`
}

// Summary counts the problems by kind, severity and file, in the order of
// the kinds, then of the files' first problems.
func (ps Problems) Summary() []Count {
	type key struct {
		k    Kind
		s    Severity
		file string
	}
	at := map[key]int{}
	var out []Count
	for _, p := range ps {
		k := key{p.Kind, p.Severity, p.File}
		if i, ok := at[k]; ok {
			out[i].Count++
			continue
		}
		at[k] = len(out)
		out = append(out, Count{p.Kind, p.Severity, p.Layer, p.File, 1})
	}
	slices.SortStableFunc(out, func(a, b Count) int {
		return cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind))
	})
	return out
}

// WriteSummary writes the problems for a person: their count by kind and
// layer, then the first perKind problems of each kind with file, feature
// and reason.
func (ps Problems) WriteSummary(w io.Writer, perKind int) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "%s, %s:\n", plural(ps.Errors(), "error"), plural(ps.Warnings(), "warning"))
	sum := ps.Summary()
	kw, fw := len("kind"), len("file")
	for _, c := range sum {
		kw, fw = max(kw, len(c.Kind)), max(fw, len(c.File))
	}
	for _, c := range sum {
		fmt.Fprintf(w, "  %-7s  %-*s  %-*s  %d\n", c.Severity, kw, c.Kind, fw, c.File, c.Count)
	}
	for _, k := range kindOrder {
		of := ps.OfKind(k)
		if len(of) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s (%d):\n", k, len(of))
		for _, p := range of[:min(perKind, len(of))] {
			fmt.Fprintf(w, "  %s\n", p)
		}
		if len(of) > perKind {
			fmt.Fprintf(w, "  … and %d more\n", len(of)-perKind)
		}
	}
}

// Report is the whole report of a city directory's problems, as
// WriteReport writes it.
type Report struct {
	Dir      string   `json:"dir"`
	Errors   int      `json:"errors"`
	Warnings int      `json:"warnings"`
	Refused  bool     `json:"refused"`
	Summary  []Count  `json:"summary"`
	Problems Problems `json:"problems"`
}

// TwinPath returns the path of the GeoJSON file that goes with a report's
// JSON file: report.json → report.geojson.
func TwinPath(path string) string {
	ext := filepath.Ext(path)
	if ext == ".geojson" {
		return strings.TrimSuffix(path, ext) + ".problems.geojson"
	}
	return strings.TrimSuffix(path, ext) + ".geojson"
}

// GeoJSON returns the problems as a GeoJSON FeatureCollection, one feature
// per problem with the problem as its properties (kind, severity, layer,
// file, index, id, attribute, reason, suggestion, cause) and the feature's
// geometry, or a null geometry where it has none a map can draw — as for
// the problems of a whole file, whose index is -1.
func (ps Problems) GeoJSON() *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, p := range ps {
		f := &geojson.Feature{Type: "Feature", Geometry: p.Geometry, Properties: geojson.Properties{
			"kind": p.Kind, "severity": p.Severity, "file": p.File, "index": p.Index, "reason": p.Reason,
		}}
		if p.Layer != "" {
			f.Properties["layer"] = p.Layer
		}
		if p.ID != 0 {
			f.ID = p.ID
			f.Properties["id"] = p.ID
		}
		for k, v := range map[string]string{"attribute": p.Attribute, "suggestion": p.Suggestion, "cause": p.Cause} {
			if v != "" {
				f.Properties[k] = v
			}
		}
		fc.Append(f)
	}
	return fc
}

// WithoutPersonal returns the problems with nothing of a personal
// attribute's value in them (a field of its layer marked Personal: a
// contact's name, a phone number): such a problem's reason names the
// attribute and its kind alone, and its suggestion is dropped. The others
// are as they were.
func (ps Problems) WithoutPersonal(cat *layers.Catalog) Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		out[i] = p
		if p.Attribute == "" || p.Layer == "" || cat == nil {
			continue
		}
		l, err := cat.Layer(p.Layer)
		if err != nil {
			continue
		}
		if fd, ok := l.Field(p.Attribute); ok && fd.Personal {
			out[i].Reason = fmt.Sprintf("attribute %q: %s (its value is personal data and not shown)", p.Attribute, p.Kind)
			out[i].Suggestion = ""
		}
	}
	return out
}

// WriteReport writes every problem of the city in dir as JSON to path, and
// to TwinPath(path) a GeoJSON FeatureCollection of the features at fault,
// one feature per problem with the problem as its properties, to open on a
// map. Problems without a drawable geometry have a null geometry there.
func (ps Problems) WriteReport(path, dir string) error {
	r := Report{Dir: dir, Errors: ps.Errors(), Warnings: ps.Warnings(), Refused: ps.Errors() > 0, Summary: ps.Summary(), Problems: ps}
	if r.Problems == nil {
		r.Problems = Problems{}
	}
	if r.Summary == nil {
		r.Summary = []Count{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	// The twin holds the features at fault; a whole file's problems are
	// in the JSON alone.
	var features Problems
	for _, p := range ps {
		if p.Index >= 0 {
			features = append(features, p)
		}
	}
	fc := features.GeoJSON()
	gb, err := fc.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(TwinPath(path), append(gb, '\n'), 0o644)
}
