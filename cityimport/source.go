package cityimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// record is one feature of a source as read: its attributes and its
// geometry in longitude and latitude (EPSG:4326).
type record struct {
	Index int // in the source, from 0
	Props map[string]any
	Geom  orb.Geometry
}

// Ogr2ogr is the GDAL tool that reads Shapefiles, GeoPackages and
// databases and transforms coordinates (PROJ underneath); a GeoJSON file in
// longitude and latitude is read without it.
var Ogr2ogr = "ogr2ogr"

// MaxSourceFeatures bounds the features of one source.
const MaxSourceFeatures = 5_000_000

// readSource reads the features of lr's source in longitude and latitude:
// a GeoJSON file in them directly, anything else through ogr2ogr, which
// takes the source's own CRS (a .prj, a GeoPackage's srs) or the mapping's,
// and its encoding (a .cpg, or the mapping's).
func (m *Mapping) readSource(ctx context.Context, lr LayerRule) ([]record, error) {
	src := m.sourcePath(lr.Source)
	crs := lr.CRS
	ext := strings.ToLower(filepath.Ext(src))
	geoJSON := ext == ".geojson" || ext == ".json"
	if crs == "" && m.CRS != "" && ownCRS(src) == "" {
		crs = m.CRS
	}
	if geoJSON && crs == "" && lr.SQL == "" {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", lr.Source, err)
		}
		recs, err := decodeFeatures(f, lr.Source)
		f.Close()
		if !errors.Is(err, errOwnCRS) {
			return recs, err
		}
		// A GeoJSON file of the old kind that names another CRS: GDAL
		// reads it in that CRS.
	}
	args := []string{"-f", "GeoJSON", "/vsistdout/", src}
	if lr.SQL != "" {
		args = append(args, "-sql", lr.SQL)
	} else if lr.SourceLayer != "" {
		args = append(args, lr.SourceLayer)
	}
	if crs != "" {
		args = append(args, "-s_srs", crs)
	}
	args = append(args, "-t_srs", "EPSG:4326", "-lco", "RFC7946=NO", "-lco", "COORDINATE_PRECISION=9", "-lco", "WRITE_NAME=NO")
	enc := lr.Encoding
	if enc == "" && ext == ".shp" && !exists(strings.TrimSuffix(src, filepath.Ext(src))+".cpg") {
		enc = m.Encoding
	}
	if enc != "" {
		args = append(args, "--config", "SHAPE_ENCODING", enc)
	}
	if _, err := exec.LookPath(Ogr2ogr); err != nil {
		return nil, fmt.Errorf("%s: reading it needs GDAL's %s (apt-get install gdal-bin): %w", lr.Source, Ogr2ogr, err)
	}
	cmd := exec.CommandContext(ctx, Ogr2ogr, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, n: 8 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", lr.Source, err)
	}
	recs, derr := decodeFeatures(out, lr.Source)
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		return nil, fmt.Errorf("%s: %s: %s", lr.Source, Ogr2ogr, firstLine(msg, err.Error()))
	}
	return recs, derr
}

// ownCRS is the CRS a source file states itself: a Shapefile's .prj
// (its path), "" when it states none or for a GeoJSON file, which says it
// only in a member ogr2ogr reads.
func ownCRS(src string) string {
	switch strings.ToLower(filepath.Ext(src)) {
	case ".shp":
		if p := strings.TrimSuffix(src, filepath.Ext(src)) + ".prj"; exists(p) {
			return p
		}
		return ""
	case ".geojson", ".json":
		return ""
	}
	return "own" // a GeoPackage or a database keeps its CRS
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// decodeFeatures reads a GeoJSON FeatureCollection one feature at a time.
func decodeFeatures(r io.Reader, name string) ([]record, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("%s: not a GeoJSON FeatureCollection: %w", name, err)
	}
	var out []record
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		key, _ := t.(string)
		if key == "crs" {
			var c struct {
				Properties struct{ Name string } `json:"properties"`
			}
			if err := dec.Decode(&c); err != nil {
				return nil, fmt.Errorf("%s: crs: %w", name, err)
			}
			if n := c.Properties.Name; n != "" && !lonLatCRS(n) {
				return nil, errOwnCRS
			}
			continue
		}
		if key != "features" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if err := expectDelim(dec, '['); err != nil {
			return nil, fmt.Errorf("%s: features: %w", name, err)
		}
		for i := 0; dec.More(); i++ {
			if i >= MaxSourceFeatures {
				return nil, fmt.Errorf("%s: more than %d features", name, MaxSourceFeatures)
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, fmt.Errorf("%s: feature %d: %w", name, i, err)
			}
			f, err := geojson.UnmarshalFeature(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: feature %d: %w", name, i, err)
			}
			props := map[string]any(f.Properties)
			if props == nil {
				props = map[string]any{}
			}
			out = append(out, record{Index: i, Props: props, Geom: f.Geometry})
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, found %v", want, t)
	}
	return nil
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func firstLine(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var errNoGeometry = errors.New("no geometry")

// errOwnCRS says a GeoJSON file names a CRS of its own (the 2008 form's
// "crs" member) other than longitude and latitude.
var errOwnCRS = errors.New("the file names a CRS of its own")

// lonLatCRS reports whether a GeoJSON crs name is longitude and latitude:
// CRS84, EPSG:4326 or CGCS2000 geographic (EPSG:4490, the same to
// centimetres).
func lonLatCRS(name string) bool {
	n := strings.ToUpper(name)
	for _, s := range []string{"CRS84", "EPSG::4326", "EPSG:4326", "EPSG::4490", "EPSG:4490"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}
