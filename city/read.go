package city

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
)

// NodeTolerance is how far, in metres, a pipe's first point may lie from
// the node its from_node names, and its last point from its to_node's.
// Farther is an error: the line or the id is wrong, and the network that the
// analyses walk is not the one the map draws. Half a metre passes the
// rounding of coordinates to 7 decimals (about a centimetre) and of
// survey-grade data, and is less than the size of any valve well.
const NodeTolerance = 0.5

// BoundsMargin is how far features may reach past the city's bounds, as a
// share of the bounds' width and height, before a warning says so: roads
// and pipes often run on a little past a district's box.
const BoundsMargin = 0.1

// MaxLatitude is the highest latitude, north or south, a web map shows.
const MaxLatitude = 85.06

// Options change how a city is read.
type Options struct {
	// Projected says coordinates are in a projected CRS (metres), not
	// longitude and latitude, so their range is not checked, nor whether
	// they lie in the city's bounds.
	Projected bool
}

// Read loads the city in fsys (the directory's root): city.json and every
// catalog layer's file that exists. Features are checked against the catalog;
// a city with errors is refused with a *RefusedError holding every problem.
func Read(fsys fs.FS, cat *layers.Catalog) (*City, error) {
	return ReadWith(fsys, cat, Options{})
}

// ReadWith is Read with options.
func ReadWith(fsys fs.FS, cat *layers.Catalog, o Options) (*City, error) {
	c, ps := Check(fsys, cat, o)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// ReadDir loads the city in a directory of the file system.
func ReadDir(dir string, cat *layers.Catalog, o Options) (*City, error) {
	c, ps := CheckDir(dir, cat, o)
	if err := ps.Err(); err != nil {
		return nil, fmt.Errorf("city %s: %w", dir, err)
	}
	return c, nil
}

// CheckDir is Check of a directory of the file system.
func CheckDir(dir string, cat *layers.Catalog, o Options) (*City, Problems) {
	return Check(os.DirFS(dir), cat, o)
}

// Check reads the city in fsys as Read does and returns every problem it
// found, all in one pass: a problem in one feature does not stop the
// reading of the next. The city is nil when a problem is an error; with
// warnings alone it is read.
func Check(fsys fs.FS, cat *layers.Catalog, o Options) (*City, Problems) {
	ck := &checker{cat: cat, o: o}
	c := &City{Features: map[string][]*layers.Feature{}}
	c.Meta = ck.readMeta(fsys)
	ck.unknownFiles(fsys)
	read := map[string][]*feat{}
	for _, l := range cat.Layers() {
		name := l.ID + ".geojson"
		r, err := fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			ck.add(Problem{Kind: KindUnreadable, Layer: l.ID, File: name, Index: -1, Reason: "cannot open the file: " + err.Error()})
			continue
		}
		fs, ps := readLayer(r, l, o, ck.bounds, ck.hasBounds)
		r.Close()
		ck.ps = append(ck.ps, ps...)
		read[l.ID] = fs
	}
	ck.duplicates(read)
	ck.shapes(read)
	ck.networks(read)
	ck.topology(read)
	if ck.ps.Errors() > 0 {
		return nil, ck.ps
	}
	for id, fs := range read {
		out := make([]*layers.Feature, len(fs))
		for i, f := range fs {
			out[i] = f.f
		}
		c.Features[id] = out
	}
	return c, ck.ps
}

// checker gathers the problems of one city directory.
type checker struct {
	cat       *layers.Catalog
	o         Options
	bounds    orb.Bound // the city's, from city.json
	hasBounds bool
	ps        Problems
}

// add records a problem; its severity is its kind's unless given.
func (ck *checker) add(p Problem) {
	if p.Severity == "" {
		p.Severity = severityOf(p.Kind)
	}
	ck.ps = append(ck.ps, p)
}

// severityOf returns a kind's severity: warnings for what does not stop the
// map from being drawn right, errors for the rest.
func severityOf(k Kind) Severity {
	switch k {
	case KindUnknownFile, KindOutsideBounds, KindSelfCrossing, KindDuplicateGeometry, KindDanglingNode, KindIsland:
		return SeverityWarning
	}
	return SeverityError
}

// feat is a feature as read, with whether its geometry can be measured.
type feat struct {
	f      *layers.Feature
	index  int
	geomOK bool
}

func (ck *checker) readMeta(fsys fs.FS) Meta {
	var m Meta
	const file = "city.json"
	p := Problem{Kind: KindUnreadable, File: file, Index: -1}
	b, err := fs.ReadFile(fsys, file)
	if errors.Is(err, fs.ErrNotExist) {
		p.Reason = "no city.json: a city directory needs one, with the city's name, bounds and centre"
		ck.add(p)
		return m
	}
	if err != nil {
		p.Reason = "cannot read city.json: " + err.Error()
		ck.add(p)
		return m
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		p.Reason = "city.json is not a JSON object: " + jsonError(b, err)
		ck.add(p)
		return m
	}
	if err := json.Unmarshal(b, &m); err != nil {
		p.Reason = "city.json: " + jsonError(b, err)
		ck.add(p)
		return m
	}
	missing := func(key, what string, sev Severity) {
		ck.add(Problem{Kind: KindCityMissing, Severity: sev, File: file, Index: -1, Attribute: key, Reason: "city.json has no " + key + ": " + what})
	}
	if strings.TrimSpace(m.Name) == "" {
		missing("name", "the city's name, shown on the map and in warnings", SeverityError)
	}
	_, hasBounds := keys["bounds"]
	_, hasCenter := keys["center"]
	if !hasBounds || m.Bounds == [4]float64{} {
		missing("bounds", "[minLon, minLat, maxLon, maxLat], the box the map opens on", SeverityError)
	} else if reason, cause := badBounds(m.Bounds); reason != "" {
		ck.add(Problem{Kind: KindCityBounds, File: file, Index: -1, Attribute: "bounds", Reason: reason, Cause: cause})
	} else {
		ck.bounds = orb.Bound{Min: orb.Point{m.Bounds[0], m.Bounds[1]}, Max: orb.Point{m.Bounds[2], m.Bounds[3]}}
		ck.hasBounds = true
	}
	if !hasCenter || m.Center == [2]float64{} {
		missing("center", "[lon, lat], where the map opens", SeverityError)
	} else if c := (orb.Point{m.Center[0], m.Center[1]}); ck.hasBounds && !ck.bounds.Contains(c) {
		p := Problem{Kind: KindCityCenter, File: file, Index: -1, Attribute: "center",
			Reason: fmt.Sprintf("the centre %s lies outside the bounds %v", pt(c), m.Bounds)}
		if ck.bounds.Contains(orb.Point{c[1], c[0]}) {
			p.Cause = CauseSwapped
			p.Reason += "; swapped axes? It is [longitude, latitude]"
		}
		ck.add(p)
	}
	if m.Zoom <= 0 {
		missing("zoom", "the zoom that shows the whole city (13 for a district); the map would open on the whole world", SeverityWarning)
	}
	return m
}

// badBounds says what is wrong with a city's bounds, if anything.
func badBounds(b [4]float64) (reason, cause string) {
	for _, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "the bounds are not finite numbers", ""
		}
	}
	if b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 {
		if math.Abs(b[1]) <= 180 && math.Abs(b[0]) <= 90 && math.Abs(b[3]) <= 180 && math.Abs(b[2]) <= 90 {
			return fmt.Sprintf("the bounds %v are not longitudes and latitudes; swapped axes? They are [minLon, minLat, maxLon, maxLat]", b), CauseSwapped
		}
		if looksProjected(b[0], b[1]) || looksProjected(b[2], b[3]) {
			return fmt.Sprintf("the bounds %v look like metres of a projected CRS; city.json takes longitudes and latitudes", b), CauseProjected
		}
		return fmt.Sprintf("the bounds %v are not longitudes from -180 to 180 and latitudes from -90 to 90", b), ""
	}
	if b[0] >= b[2] || b[1] >= b[3] {
		return fmt.Sprintf("the bounds %v are not a box: they are [minLon, minLat, maxLon, maxLat], each min below its max", b), ""
	}
	return "", ""
}

// docFile is a file a city directory may hold beside its data.
func docFile(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, ".") || strings.HasPrefix(n, "readme") || strings.HasPrefix(n, "license") ||
		strings.HasPrefix(n, "licence") || strings.HasSuffix(n, ".md") || strings.HasSuffix(n, ".txt")
}

// unknownFiles warns of files no layer reads: a misnamed layer file is
// otherwise silently left out. Directories (scenarios/) and documentation
// are let be.
func (ck *checker) unknownFiles(fsys fs.FS) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return // city.json's problem says the directory is not there
	}
	known := map[string]bool{"city.json": true}
	names := []string{"city"}
	for _, l := range ck.cat.Layers() {
		known[l.ID+".geojson"] = true
		names = append(names, l.ID)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || known[name] || docFile(name) {
			continue
		}
		p := Problem{Kind: KindUnknownFile, File: name, Index: -1}
		ext := ""
		stem := strings.ToLower(name)
		if i := strings.Index(stem, "."); i >= 0 {
			stem, ext = stem[:i], stem[i:]
		}
		best, d := Closest(stem, names)
		want := best + ".geojson"
		if best == "city" {
			want = "city.json"
		}
		switch {
		case d == 0 && ext != ".geojson" && ext != ".json" && best != "city":
			p.Suggestion = want
			p.Reason = fmt.Sprintf("not read: onemap reads GeoJSON; convert it to %s (ogr2ogr -f GeoJSON %s %s)", want, want, name)
		case d <= max(2, len(best)/3):
			p.Suggestion = want
			p.Reason = fmt.Sprintf("not read: no layer has that file name; did you mean %s?", want)
		default:
			p.Reason = "not read: a layer's file is named <layer>.geojson (docs/city-data.md lists them)"
		}
		ck.add(p)
	}
}

// duplicates finds ids that more than one feature has, in any layers.
func (ck *checker) duplicates(read map[string][]*feat) {
	type at struct {
		layer string
		index int
	}
	seen := map[uint64]at{}
	for _, l := range ck.cat.Layers() {
		for _, f := range read[l.ID] {
			if f.f.ID == 0 {
				continue
			}
			if first, dup := seen[f.f.ID]; dup {
				ck.add(Problem{Kind: KindDuplicateID, Layer: l.ID, File: l.ID + ".geojson", Index: f.index, ID: f.f.ID,
					Reason:   fmt.Sprintf("duplicate id %d: feature %d of %s.geojson has it too; ids are unique across all layers", f.f.ID, first.index, first.layer),
					Geometry: ck.drawable(f)})
				continue
			}
			seen[f.f.ID] = at{l.ID, f.index}
		}
	}
}

// networks checks that each pipe's from_node and to_node name features of
// its network's node layer, and that its ends lie on them.
func (ck *checker) networks(read map[string][]*feat) {
	for _, l := range ck.cat.Layers() {
		if l.Nodes == "" {
			continue
		}
		nodes := make(map[uint64]*feat, len(read[l.Nodes]))
		for _, n := range read[l.Nodes] {
			nodes[n.f.ID] = n
		}
		file := l.ID + ".geojson"
		for _, f := range read[l.ID] {
			ends := [2]*feat{}
			for i, name := range []string{layers.FromNode, layers.ToNode} {
				v, ok := f.f.Props[name].(float64)
				if !ok {
					continue // missing or of the wrong type: told already
				}
				n, ok := nodes[uint64(v)]
				if !ok || v != math.Trunc(v) || v <= 0 {
					ck.add(Problem{Kind: KindUnknownNode, Layer: l.ID, File: file, Index: f.index, ID: f.f.ID, Attribute: name, Geometry: ck.drawable(f),
						Reason: fmt.Sprintf("%s %s is not a feature of %s: no feature of %s.geojson has that id", name, num(v), l.Nodes, l.Nodes)})
					continue
				}
				ends[i] = n
			}
			if !f.geomOK {
				continue
			}
			first, last := lineEnds(f.f.Geometry)
			dist := ck.distance
			from, to := math.NaN(), math.NaN()
			if n := ends[0]; n != nil && n.geomOK {
				from = dist(first, n.f.Geometry.(orb.Point))
			}
			if n := ends[1]; n != nil && n.geomOK {
				to = dist(last, n.f.Geometry.(orb.Point))
			}
			if from > NodeTolerance && to > NodeTolerance && ends[0].geomOK && ends[1].geomOK &&
				dist(first, ends[1].f.Geometry.(orb.Point)) <= NodeTolerance && dist(last, ends[0].f.Geometry.(orb.Point)) <= NodeTolerance {
				ck.add(Problem{Kind: KindNodeFar, Layer: l.ID, File: file, Index: f.index, ID: f.f.ID, Attribute: layers.FromNode, Cause: CauseReversed, Geometry: ck.drawable(f),
					Reason: fmt.Sprintf("the line runs from its to_node %d to its from_node %d: from_node and to_node swapped, or the line drawn backwards?", ends[1].f.ID, ends[0].f.ID)})
				continue
			}
			for i, d := range []float64{from, to} {
				if !(d > NodeTolerance) {
					continue
				}
				name, verb := layers.FromNode, "starts"
				if i == 1 {
					name, verb = layers.ToNode, "ends"
				}
				ck.add(Problem{Kind: KindNodeFar, Layer: l.ID, File: file, Index: f.index, ID: f.f.ID, Attribute: name, Geometry: ck.drawable(f),
					Reason: fmt.Sprintf("the line %s %s from its %s %d, more than the %g m allowed", verb, metres(d), name, ends[i].f.ID, NodeTolerance)})
			}
		}
	}
}

// distance returns the distance in metres between two points: on the
// sphere for longitudes and latitudes, on the plane for projected ones.
func (ck *checker) distance(a, b orb.Point) float64 {
	if ck.o.Projected {
		return math.Hypot(a[0]-b[0], a[1]-b[1])
	}
	return geo.Distance(a, b)
}

// lineEnds returns a line's first and last points.
func lineEnds(g orb.Geometry) (first, last orb.Point) {
	switch g := g.(type) {
	case orb.LineString:
		return g[0], g[len(g)-1]
	case orb.MultiLineString:
		l := g[len(g)-1]
		return g[0][0], l[len(l)-1]
	}
	return
}

// metres writes a distance for a person.
func metres(d float64) string {
	switch {
	case d >= 10000:
		return fmt.Sprintf("%.0f km", d/1000)
	case d >= 1000:
		return fmt.Sprintf("%.1f km", d/1000)
	case d >= 10:
		return fmt.Sprintf("%.0f m", d)
	}
	return fmt.Sprintf("%.1f m", d)
}

// drawable returns a feature's geometry when a map can draw it: valid
// longitudes and latitudes.
func (ck *checker) drawable(f *feat) orb.Geometry {
	if f.geomOK && !ck.o.Projected {
		return f.f.Geometry
	}
	return nil
}

// ReadLayer reads one layer's GeoJSON FeatureCollection and checks each
// feature: a numeric id, a non-empty geometry of the layer's type with
// valid longitudes and latitudes, the required attributes with the right
// types. It returns the features without errors and every problem found.
func ReadLayer(r io.Reader, l *layers.Layer) ([]*layers.Feature, Problems) {
	fs, ps := readLayer(r, l, Options{}, orb.Bound{}, false)
	bad := map[int]bool{}
	for _, p := range ps {
		if p.Severity == SeverityError {
			bad[p.Index] = true
		}
	}
	if bad[-1] {
		return nil, ps
	}
	var out []*layers.Feature
	for _, f := range fs {
		if !bad[f.index] {
			out = append(out, f.f)
		}
	}
	return out, ps
}

// readLayer reads a layer's file and returns every feature it could decode,
// with the problems of all of them.
func readLayer(r io.Reader, l *layers.Layer, o Options, bounds orb.Bound, hasBounds bool) ([]*feat, Problems) {
	name := l.ID + ".geojson"
	fileProblem := func(reason string) Problems {
		return Problems{{Kind: KindUnreadable, Severity: SeverityError, Layer: l.ID, File: name, Index: -1, Reason: reason}}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fileProblem("cannot read the file: " + err.Error())
	}
	var raw struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fileProblem("not GeoJSON: " + jsonError(b, err))
	}
	if raw.Type != "FeatureCollection" {
		return nil, fileProblem(fmt.Sprintf("type %q, want FeatureCollection", raw.Type))
	}
	fr := &featureReader{l: l, o: o, bounds: bounds, hasBounds: hasBounds}
	if hasBounds {
		dx, dy := (bounds.Max[0]-bounds.Min[0])*BoundsMargin, (bounds.Max[1]-bounds.Min[1])*BoundsMargin
		fr.grown = orb.Bound{Min: orb.Point{bounds.Min[0] - dx, bounds.Min[1] - dy}, Max: orb.Point{bounds.Max[0] + dx, bounds.Max[1] + dy}}
	}
	out := make([]*feat, 0, len(raw.Features))
	for i, m := range raw.Features {
		if f := fr.read(i, m); f != nil {
			out = append(out, f)
		}
	}
	return out, fr.ps
}

// jsonError says where JSON went wrong, by line.
func jsonError(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset <= int64(len(b)) {
		return fmt.Sprintf("line %d: %v", 1+strings.Count(string(b[:se.Offset]), "\n"), err)
	}
	return err.Error()
}

// featureReader reads the features of one layer's file.
type featureReader struct {
	l         *layers.Layer
	o         Options
	bounds    orb.Bound
	grown     orb.Bound
	hasBounds bool
	ps        Problems
}

func (fr *featureReader) read(i int, m json.RawMessage) *feat {
	add := func(p Problem) {
		p.Layer, p.File, p.Index = fr.l.ID, fr.l.ID+".geojson", i
		if p.Severity == "" {
			p.Severity = severityOf(p.Kind)
		}
		fr.ps = append(fr.ps, p)
	}
	var head struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(m, &head); err != nil {
		add(Problem{Kind: KindUnreadable, Reason: "not a GeoJSON Feature: " + err.Error()})
		return nil
	}
	gf, err := geojson.UnmarshalFeature(m)
	if err != nil {
		add(Problem{Kind: KindUnreadable, Reason: "not a GeoJSON Feature: " + err.Error()})
		return nil
	}
	id, err := featureID(head.ID)
	if err != nil {
		add(Problem{Kind: KindBadID, Reason: err.Error()})
	}
	props := map[string]any(gf.Properties)
	if props == nil {
		props = map[string]any{}
	}
	f := &feat{index: i, f: &layers.Feature{ID: id, Layer: fr.l.ID, Geometry: gf.Geometry, Props: props, MinZoom: uint8(fr.l.MinZoom)}}
	// Every problem of the feature carries its id and, once it is known to
	// be drawable, its geometry.
	before := len(fr.ps)
	defer func() {
		for j := before; j < len(fr.ps); j++ {
			fr.ps[j].ID = id
			if f.geomOK && !fr.o.Projected {
				fr.ps[j].Geometry = gf.Geometry
			}
		}
	}()
	if gf.Geometry == nil {
		add(Problem{Kind: KindNoGeometry, Reason: "no geometry"})
	} else {
		ps, ok := fr.checkGeometry(gf.Geometry)
		for _, p := range ps {
			add(p)
		}
		f.geomOK = ok
	}
	if mz, ok := props["minzoom"]; ok {
		z, ok := mz.(float64)
		if !ok || z < 0 || z > layers.MaxZoom || z != math.Trunc(z) {
			add(Problem{Kind: KindBadMinZoom, Attribute: "minzoom", Reason: fmt.Sprintf("minzoom %v is not a zoom from 0 to %d", mz, layers.MaxZoom)})
		} else {
			f.f.MinZoom = uint8(max(z, float64(fr.l.MinZoom)))
		}
		delete(props, "minzoom")
	}
	for _, fd := range fr.l.Fields {
		v, ok := props[fd.Name]
		if !ok || v == nil {
			if fd.Required {
				add(Problem{Kind: KindMissingAttribute, Attribute: fd.Name, Reason: missingReason(fd, props, fr.l)})
			}
			continue
		}
		if p, bad := checkValue(fd, v); bad {
			add(p)
		}
	}
	return f
}

// missingReason says a required attribute is missing, and names an
// attribute of the feature that looks like a misspelling of it.
func missingReason(fd layers.Field, props map[string]any, l *layers.Layer) string {
	reason := fmt.Sprintf("missing required attribute %q", fd.Name)
	var others []string
	for k := range props {
		if _, known := l.Field(k); !known {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	if best, d := Closest(strings.ToLower(fd.Name), others); best != "" && (d <= 2 || strings.Contains(strings.ToLower(best), fd.Name) || strings.Contains(fd.Name, strings.ToLower(best))) {
		reason += fmt.Sprintf("; the feature has %q: a misspelling?", best)
	}
	return reason
}

func featureID(v any) (uint64, error) {
	switch v := v.(type) {
	case float64:
		if v > 0 && v == math.Trunc(v) && v < 1<<53 {
			return uint64(v), nil
		}
	case string:
		if id, err := strconv.ParseUint(v, 10, 64); err == nil && id > 0 {
			return id, nil
		}
	case nil:
		return 0, errors.New("no id: every feature needs a positive integer id")
	}
	return 0, fmt.Errorf("id %s is not a positive integer", describe(v))
}

// describe writes a JSON value for a person, with its type.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q (a string)", v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64) + " (a number)"
	case bool:
		return fmt.Sprintf("%v (true or false)", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprint(v)
}

// checkValue checks an attribute's value against its field.
func checkValue(fd layers.Field, v any) (Problem, bool) {
	wrong := func(want, hint string) (Problem, bool) {
		return Problem{Kind: KindWrongType, Attribute: fd.Name, Reason: fmt.Sprintf("attribute %q: %s is not %s%s", fd.Name, describe(v), want, hint)}, true
	}
	switch fd.Type {
	case layers.String:
		s, ok := v.(string)
		if !ok {
			return wrong("a string", "")
		}
		if len(fd.Values) > 0 && !slices.Contains(fd.Values, s) {
			best := suggestValue(fd, s)
			reason := fmt.Sprintf("attribute %q: %q is not one of %s", fd.Name, s, strings.Join(fd.Values, ", "))
			if best != "" {
				reason += fmt.Sprintf("; did you mean %s (%s)?", best, fd.ValueTitle(best).Zh)
			}
			return Problem{Kind: KindUnknownValue, Attribute: fd.Name, Reason: reason, Suggestion: best}, true
		}
	case layers.Number:
		x, ok := v.(float64)
		if !ok {
			hint := ""
			if s, isStr := v.(string); isStr {
				if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
					hint = ": write it without quotes"
				}
			}
			return wrong("a number", hint)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return wrong("a finite number", "")
		}
	case layers.Boolean:
		if _, ok := v.(bool); !ok {
			return wrong("true or false", "")
		}
	}
	return Problem{}, false
}

// normal folds case, spaces and hyphens, so that "Medium A" and
// "medium-a" both meet medium_a.
func normal(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// suggestValue returns the allowed value of fd that s most likely means: one
// equal but for case and separators, or to a value's Chinese or English
// title, or else the nearest by edit distance.
func suggestValue(fd layers.Field, s string) string {
	n := normal(s)
	for _, v := range fd.Values {
		t := fd.ValueTitle(v)
		if normal(v) == n || normal(t.Zh) == n || normal(t.En) == n {
			return v
		}
	}
	best, _ := Closest(n, fd.Values)
	return best
}

// Closest returns the option nearest s by edit distance (in runes, options
// compared lowercased and without separators), the first of equals, and
// the distance; "" when there are no options.
func Closest(s string, options []string) (string, int) {
	best, bd := "", math.MaxInt
	for _, o := range options {
		if d := editDistance(s, normal(o)); d < bd {
			best, bd = o, d
		}
	}
	return best, bd
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
