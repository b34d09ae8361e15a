package city

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
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
