package city

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Meta is a city's description, stored as city.json.
type Meta struct {
	Name   string     `json:"name"`
	NameEn string     `json:"name_en"`
	Bounds [4]float64 `json:"bounds"` // minLon, minLat, maxLon, maxLat
	Center [2]float64 `json:"center"` // lon, lat
	Zoom   float64    `json:"zoom"`   // the zoom that shows the whole city
	Seed   uint64     `json:"seed,omitempty"`
	Scale  int        `json:"scale,omitempty"`
}

// City is a whole city: its description and its features by layer id.
type City struct {
	Meta     Meta
	Features map[string][]*layers.Feature
}

// Count returns the number of features in all layers.
func (c *City) Count() int {
	n := 0
	for _, fs := range c.Features {
		n += len(fs)
	}
	return n
}

// Error is a problem with one feature of a layer file.
type Error struct {
	File  string
	Index int // the feature's index in the file, from 0; -1 for the whole file
	Err   error
}

func (e *Error) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: feature %d: %v", e.File, e.Index, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Options change how a city is read.
type Options struct {
	// Projected says coordinates are in a projected CRS (metres), not
	// longitude and latitude, so their range is not checked.
	Projected bool
}

// Read loads the city in fsys (the directory's root): city.json and every
// catalog layer's file that exists. Features are checked against the catalog.
func Read(fsys fs.FS, cat *layers.Catalog) (*City, error) {
	return ReadWith(fsys, cat, Options{})
}

// ReadWith is Read with options.
func ReadWith(fsys fs.FS, cat *layers.Catalog, o Options) (*City, error) {
	b, err := fs.ReadFile(fsys, "city.json")
	if err != nil {
		return nil, fmt.Errorf("read city.json: %w", err)
	}
	c := &City{Features: map[string][]*layers.Feature{}}
	if err := json.Unmarshal(b, &c.Meta); err != nil {
		return nil, fmt.Errorf("read city.json: %w", err)
	}
	seen := map[uint64]string{}
	for _, l := range cat.Layers() {
		name := l.ID + ".geojson"
		r, err := fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		feats, err := readLayer(r, l, o)
		r.Close()
		if err != nil {
			return nil, err
		}
		for i, f := range feats {
			if other, dup := seen[f.ID]; dup {
				return nil, &Error{name, i, fmt.Errorf("duplicate id %d (also in %s)", f.ID, other)}
			}
			seen[f.ID] = l.ID
		}
		c.Features[l.ID] = feats
	}
	if err := checkNetworks(c, cat); err != nil {
		return nil, err
	}
	return c, nil
}

// checkNetworks checks that every pipe's end nodes are features of its
// network's node layer.
func checkNetworks(c *City, cat *layers.Catalog) error {
	for _, l := range cat.Layers() {
		if l.Nodes == "" {
			continue
		}
		nodes := make(map[uint64]bool, len(c.Features[l.Nodes]))
		for _, n := range c.Features[l.Nodes] {
			nodes[n.ID] = true
		}
		for i, f := range c.Features[l.ID] {
			for _, end := range []string{layers.FromNode, layers.ToNode} {
				v, _ := f.Props[end].(float64)
				if !nodes[uint64(v)] {
					return &Error{l.ID + ".geojson", i, fmt.Errorf("%s %v is not a feature of %s", end, f.Props[end], l.Nodes)}
				}
			}
		}
	}
	return nil
}

// ReadDir loads the city in a directory of the file system.
func ReadDir(dir string, cat *layers.Catalog, o Options) (*City, error) {
	c, err := ReadWith(os.DirFS(dir), cat, o)
	if err != nil {
		return nil, fmt.Errorf("city %s: %w", dir, err)
	}
	return c, nil
}

// ReadLayer reads one layer's GeoJSON FeatureCollection and checks each
// feature: a numeric id, a non-empty geometry of the layer's type, the
// required attributes with the right types.
func ReadLayer(r io.Reader, l *layers.Layer) ([]*layers.Feature, error) {
	return readLayer(r, l, Options{})
}

func readLayer(r io.Reader, l *layers.Layer, o Options) ([]*layers.Feature, error) {
	name := l.ID + ".geojson"
	var raw struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, &Error{name, -1, fmt.Errorf("not GeoJSON: %w", err)}
	}
	if raw.Type != "FeatureCollection" {
		return nil, &Error{name, -1, fmt.Errorf("type %q, want FeatureCollection", raw.Type)}
	}
	out := make([]*layers.Feature, 0, len(raw.Features))
	for i, m := range raw.Features {
		f, err := decodeFeature(m, l, o)
		if err != nil {
			return nil, &Error{name, i, err}
		}
		out = append(out, f)
	}
	return out, nil
}

func decodeFeature(m json.RawMessage, l *layers.Layer, o Options) (*layers.Feature, error) {
	var idf struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(m, &idf); err != nil {
		return nil, err
	}
	gf, err := geojson.UnmarshalFeature(m)
	if err != nil {
		return nil, err
	}
	id, err := featureID(idf.ID)
	if err != nil {
		return nil, err
	}
	if gf.Geometry == nil {
		return nil, errors.New("no geometry")
	}
	valid := validLonLat
	if o.Projected {
		valid = finite
	}
	if err := checkGeometry(gf.Geometry, l.Geometry, valid); err != nil {
		return nil, err
	}
	props := map[string]any(gf.Properties)
	if props == nil {
		props = map[string]any{}
	}
	f := &layers.Feature{ID: id, Layer: l.ID, Geometry: gf.Geometry, Props: props, MinZoom: uint8(l.MinZoom)}
	if mz, ok := props["minzoom"]; ok {
		z, ok := mz.(float64)
		if !ok || z < 0 || z > 24 || z != math.Trunc(z) {
			return nil, fmt.Errorf("minzoom %v is not a zoom from 0 to 24", mz)
		}
		f.MinZoom = uint8(max(z, float64(l.MinZoom)))
		delete(props, "minzoom")
	}
	for _, fd := range l.Fields {
		v, ok := props[fd.Name]
		if !ok || v == nil {
			if fd.Required {
				return nil, fmt.Errorf("missing required attribute %q", fd.Name)
			}
			continue
		}
		if err := checkValue(fd, v); err != nil {
			return nil, err
		}
	}
	return f, nil
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
	return 0, fmt.Errorf("id %v is not a positive integer", v)
}

func checkValue(fd layers.Field, v any) error {
	switch fd.Type {
	case layers.String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("attribute %q: %v is not a string", fd.Name, v)
		}
		if len(fd.Values) > 0 && !slices.Contains(fd.Values, s) {
			return fmt.Errorf("attribute %q: %q is not one of %v", fd.Name, s, fd.Values)
		}
	case layers.Number:
		if x, ok := v.(float64); !ok || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("attribute %q: %v is not a number", fd.Name, v)
		}
	case layers.Boolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("attribute %q: %v is not true or false", fd.Name, v)
		}
	}
	return nil
}

func checkGeometry(g orb.Geometry, want layers.GeomType, valid func(orb.Point) bool) error {
	ok := false
	allValid := func(ps []orb.Point) bool {
		for _, p := range ps {
			if !valid(p) {
				return false
			}
		}
		return true
	}
	validPolygon := func(p orb.Polygon) bool {
		if len(p) == 0 {
			return false
		}
		for _, r := range p {
			if len(r) < 4 || r[0] != r[len(r)-1] || !allValid(r) {
				return false
			}
		}
		return true
	}
	switch g := g.(type) {
	case orb.Point:
		ok = want == layers.Point && valid(g)
	case orb.LineString:
		ok = want == layers.LineString && len(g) >= 2 && allValid(g)
	case orb.MultiLineString:
		ok = want == layers.LineString && len(g) > 0
		for _, ls := range g {
			ok = ok && len(ls) >= 2 && allValid(ls)
		}
	case orb.Polygon:
		ok = want == layers.Polygon && validPolygon(g)
	case orb.MultiPolygon:
		ok = want == layers.Polygon && len(g) > 0
		for _, p := range g {
			ok = ok && validPolygon(p)
		}
	default:
		return fmt.Errorf("geometry %s is not allowed (layer takes %s)", g.GeoJSONType(), want)
	}
	if !ok {
		if string(want) != g.GeoJSONType() && "Multi"+string(want) != g.GeoJSONType() {
			return fmt.Errorf("geometry %s where the layer takes %s", g.GeoJSONType(), want)
		}
		return fmt.Errorf("invalid or empty %s", g.GeoJSONType())
	}
	return nil
}

func validLonLat(p orb.Point) bool {
	return p[0] >= -180 && p[0] <= 180 && p[1] >= -85.06 && p[1] <= 85.06
}

func finite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && !math.IsInf(p[0], 0) && !math.IsInf(p[1], 0)
}

// Write writes the city to dir, one file per layer, deterministically: the
// same city gives the same bytes. Features are written in id order, one per
// line, with coordinates rounded to 7 decimals (about a centimetre).
func Write(dir string, c *City, cat *layers.Catalog) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	meta, err := json.MarshalIndent(c.Meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "city.json"), append(meta, '\n'), 0o644); err != nil {
		return err
	}
	for _, l := range cat.Layers() {
		fs, ok := c.Features[l.ID]
		if !ok {
			continue
		}
		var buf bytes.Buffer
		if err := WriteLayer(&buf, l, fs); err != nil {
			return fmt.Errorf("write %s: %w", l.ID, err)
		}
		if err := os.WriteFile(filepath.Join(dir, l.ID+".geojson"), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteLayer writes one layer's features as a GeoJSON FeatureCollection.
func WriteLayer(w io.Writer, l *layers.Layer, fs []*layers.Feature) error {
	sorted := slices.Clone(fs)
	slices.SortFunc(sorted, func(a, b *layers.Feature) int { return cmp.Compare(a.ID, b.ID) })
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, f := range sorted {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		props := f.Props
		if f.MinZoom > uint8(l.MinZoom) {
			props = make(map[string]any, len(f.Props)+1)
			for k, v := range f.Props {
				props[k] = v
			}
			props["minzoom"] = int(f.MinZoom)
		}
		pb, err := json.Marshal(props) // map keys are sorted: stable output
		if err != nil {
			return fmt.Errorf("feature %d: %w", f.ID, err)
		}
		fmt.Fprintf(bw, `{"type":"Feature","id":%d,"geometry":`, f.ID)
		writeGeometry(bw, f.Geometry)
		bw.WriteString(`,"properties":`)
		bw.Write(pb)
		bw.WriteByte('}')
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

func writeGeometry(w *bufio.Writer, g orb.Geometry) {
	fmt.Fprintf(w, `{"type":%q,"coordinates":`, g.GeoJSONType())
	switch g := g.(type) {
	case orb.Point:
		writePoint(w, g)
	case orb.LineString:
		writePoints(w, g)
	case orb.MultiLineString:
		w.WriteByte('[')
		for i, ls := range g {
			if i > 0 {
				w.WriteByte(',')
			}
			writePoints(w, ls)
		}
		w.WriteByte(']')
	case orb.Polygon:
		writeRings(w, g)
	case orb.MultiPolygon:
		w.WriteByte('[')
		for i, p := range g {
			if i > 0 {
				w.WriteByte(',')
			}
			writeRings(w, p)
		}
		w.WriteByte(']')
	}
	w.WriteByte('}')
}

func writeRings(w *bufio.Writer, p orb.Polygon) {
	w.WriteByte('[')
	for i, r := range p {
		if i > 0 {
			w.WriteByte(',')
		}
		writePoints(w, r)
	}
	w.WriteByte(']')
}

func writePoints(w *bufio.Writer, ps []orb.Point) {
	w.WriteByte('[')
	for i, p := range ps {
		if i > 0 {
			w.WriteByte(',')
		}
		writePoint(w, p)
	}
	w.WriteByte(']')
}

func writePoint(w *bufio.Writer, p orb.Point) {
	w.WriteByte('[')
	w.WriteString(coord(p[0]))
	w.WriteByte(',')
	w.WriteString(coord(p[1]))
	w.WriteByte(']')
}

func coord(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e7)/1e7, 'f', -1, 64)
}
