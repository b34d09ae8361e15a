package cityimport

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onemap/onemap/layers"
	"gopkg.in/yaml.v3"
)

// Mapping says how a city's survey becomes onemap's layers: which source
// layer becomes which layer, which field which attribute, how values map to
// the catalog's enumerations, the defaults, and how ids are made. It is
// read from YAML (or JSON, which YAML reads too).
type Mapping struct {
	City CityInfo `yaml:"city"`
	// CRS is the sources' coordinate reference system where a source does
	// not say (a Shapefile without .prj, GeoJSON in metres): "EPSG:4548",
	// or a PROJ string with +towgs84 for Xi'an 80 and Beijing 54 data.
	CRS string `yaml:"crs"`
	// Encoding is a Shapefile's attribute encoding where it has no .cpg,
	// such as GBK.
	Encoding string       `yaml:"encoding"`
	Topology TopologyRule `yaml:"topology"`
	Layers   []LayerRule  `yaml:"layers"`

	dir string // the mapping file's directory, which sources are relative to
}

// CityInfo is the city's name; its bounds and centre come from the data.
type CityInfo struct {
	Name   string  `yaml:"name"`
	NameEn string  `yaml:"name_en"`
	Zoom   float64 `yaml:"zoom"`
}

// TopologyRule says how the networks' nodes are made.
type TopologyRule struct {
	// SnapM is how far apart, in metres, a pipe's end and a node (or two
	// ends) may be and still be one node; DefaultSnapM when 0.
	SnapM float64 `yaml:"snap_m"`
}

// DefaultSnapM is the snapping tolerance of a mapping that gives none.
const DefaultSnapM = 0.5

// LayerRule is one source layer and the onemap layer it becomes.
type LayerRule struct {
	// Source is a file (Shapefile, GeoPackage, GeoJSON), relative to the
	// mapping file, or a PostgreSQL connection "PG:dbname=… host=…".
	Source string `yaml:"source"`
	// SourceLayer is a GeoPackage's or a database's table; SQL a query of
	// a database instead.
	SourceLayer string `yaml:"source_layer"`
	SQL         string `yaml:"sql"`
	// CRS and Encoding override the mapping's for this source.
	CRS      string `yaml:"crs"`
	Encoding string `yaml:"encoding"`
	// Layer is the onemap layer id.
	Layer string `yaml:"layer"`
	ID    IDRule `yaml:"id"`
	// Attributes maps onemap attributes to the source's fields.
	Attributes map[string]AttrRule `yaml:"attributes"`
	// Defaults give attributes that the source lacks or leaves empty.
	Defaults map[string]any `yaml:"defaults"`
}

// IDRule says how a feature's id is made: kept from a field (plus Offset,
// for a survey numbered from 0), or derived stably from the source's name
// and the Key fields, so that importing the same survey again gives the
// same ids. Either way the id carries the layer's code, so that ids are
// unique across layers.
type IDRule struct {
	Field  string   `yaml:"field"`
	Offset int64    `yaml:"offset"`
	Key    []string `yaml:"key"`
}

// AttrRule makes one attribute of a source field: its value scaled (a
// diameter in metres becomes millimetres with Scale 1000), or looked up in
// Values (中压A → medium_a).
type AttrRule struct {
	Field  string            `yaml:"field"`
	Scale  float64           `yaml:"scale"`
	Values map[string]string `yaml:"values"`
}

// MaxMappingSize bounds a mapping file.
const MaxMappingSize = 1 << 20

// ReadMapping reads and checks a mapping file against the catalog; dir is
// the directory its sources are relative to.
func ReadMapping(r io.Reader, dir string, cat *layers.Catalog) (*Mapping, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxMappingSize+1))
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	if len(data) > MaxMappingSize {
		return nil, fmt.Errorf("mapping: larger than %d bytes", MaxMappingSize)
	}
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	m.dir = dir
	if err := m.check(cat); err != nil {
		return nil, err
	}
	return &m, nil
}

// check refuses what cannot be imported, naming every mistake at once.
func (m *Mapping) check(cat *layers.Catalog) error {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if m.Topology.SnapM < 0 || m.Topology.SnapM > 100 || math.IsNaN(m.Topology.SnapM) {
		fail("topology.snap_m %v is not 0 to 100 metres", m.Topology.SnapM)
	}
	if m.City.Zoom < 0 || m.City.Zoom > layers.MaxZoom {
		fail("city.zoom %v is not 0 to %d", m.City.Zoom, layers.MaxZoom)
	}
	if len(m.Layers) == 0 {
		fail("no layers: say which source layer becomes which onemap layer")
	}
	for i, lr := range m.Layers {
		at := fmt.Sprintf("layers[%d]", i)
		if lr.Source == "" {
			fail("%s: no source", at)
		} else if strings.HasPrefix(lr.Source, "-") || strings.HasPrefix(lr.SourceLayer, "-") {
			fail("%s: a source or source_layer beginning with - (write ./%s for a file)", at, lr.Source)
		}
		l, err := cat.Layer(lr.Layer)
		if err != nil || l.Derived {
			fail("%s: layer %q is not a layer a city brings (%s)", at, lr.Layer, strings.Join(sourceLayers(cat), ", "))
			continue
		}
		at += " " + lr.Layer
		if (lr.ID.Field == "") == (len(lr.ID.Key) == 0) {
			fail("%s: id says either field (kept from it) or key (derived from its fields)", at)
		}
		if lr.ID.Offset < 0 || lr.ID.Offset > 1<<20 {
			fail("%s: id.offset %d is not 0 to %d", at, lr.ID.Offset, 1<<20)
		}
		for _, name := range slices.Sorted(maps.Keys(lr.Attributes)) {
			r := lr.Attributes[name]
			fd, ok := field(l, name)
			if !ok {
				fail("%s: attribute %q is not one of %s", at, name, strings.Join(fieldNames(l), ", "))
				continue
			}
			if r.Field == "" {
				fail("%s: attribute %s names no source field", at, name)
			}
			if r.Scale != 0 && fd.Type != layers.Number {
				fail("%s: attribute %s is not a number: it cannot be scaled", at, name)
			}
			if math.IsNaN(r.Scale) || math.IsInf(r.Scale, 0) {
				fail("%s: attribute %s: scale %v is not a number", at, name, r.Scale)
			}
			for src, v := range r.Values {
				if len(fd.Values) > 0 && !slices.Contains(fd.Values, v) {
					fail("%s: attribute %s maps %q to %q, which is not one of %s", at, name, src, v, strings.Join(fd.Values, ", "))
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(lr.Defaults)) {
			if _, ok := field(l, name); !ok {
				fail("%s: default %q is not an attribute of the layer", at, name)
			}
		}
	}
	if len(errs) > 0 {
		return &MappingError{Problems: errs}
	}
	return nil
}

// MappingError lists every mistake of a mapping file.
type MappingError struct{ Problems []string }

// Error lists the problems one a line.
func (e *MappingError) Error() string {
	return "mapping: " + strings.Join(e.Problems, "\n  ")
}

// snap is the snapping tolerance in metres.
func (m *Mapping) snap() float64 {
	if m.Topology.SnapM == 0 {
		return DefaultSnapM
	}
	return m.Topology.SnapM
}

// sourcePath resolves a file source against the mapping's directory.
func (m *Mapping) sourcePath(s string) string {
	if strings.HasPrefix(s, "PG:") || filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(m.dir, s)
}

func field(l *layers.Layer, name string) (layers.Field, bool) {
	for _, f := range l.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return layers.Field{}, false
}

func fieldNames(l *layers.Layer) []string {
	out := make([]string, len(l.Fields))
	for i, f := range l.Fields {
		out[i] = f.Name
	}
	return out
}

// sourceLayers are the layers a city brings: all but the derived ones.
func sourceLayers(cat *layers.Catalog) []string {
	var out []string
	for _, l := range cat.Layers() {
		if !l.Derived {
			out = append(out, l.ID)
		}
	}
	return out
}
