package cityimport

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/onemap/onemap/layers"
)

// fieldHints are the field names of pipe surveys (the pinyin initials of
// CJJ 61's attribute names and their common variants) and the attribute
// each usually holds.
var fieldHints = map[string]string{
	"GJ": "diameter_mm", "GXGJ": "diameter_mm", "DN": "diameter_mm", "GUANJING": "diameter_mm",
	"CZ": "material", "GXCZ": "material", "GC": "material", "CAIZHI": "material",
	"YLJB": "pressure_class", "YLDJ": "pressure_class",
	"YL": "pressure_mpa", "SJYL": "pressure_mpa",
	"MSNF": "install_year", "JSNF": "install_year", "MSRQ": "install_year", "JCNF": "install_year",
	"MS": "depth_m", "PJMS": "depth_m", "QDMS": "depth_m",
	"SZDL": "road", "DLMC": "road", "SZWZ": "road",
	"QSDW": "owner", "GLDW": "owner",
	"CD": "length_m", "GXCD": "length_m",
	"QDGC": "up_invert_m", "ZDGC": "down_invert_m", "QDGD": "up_invert_m", "ZDGD": "down_invert_m",
	"LX": "kind", "FSW": "kind", "TZ": "kind", "FSWLX": "kind",
	"MC": "name", "NAME": "name",
	"RL": "in_tunnel",
}

// idHints are the field names that usually number a survey's features.
var idHints = []string{"OBJECTID", "FID", "BH", "GXBH", "WTDH", "DHBH", "TZBH", "ID"}

// valueHints are survey values and the catalog value they usually mean.
var valueHints = map[string]string{
	"高压A": "high_a", "高压B": "high_b", "次高压A": "subhigh_a", "次高压B": "subhigh_b", "中压A": "medium_a", "中压B": "medium_b", "低压": "low",
	"钢": "steel", "钢管": "steel", "PE": "pe", "PE管": "pe", "聚乙烯": "pe", "球墨铸铁": "ductile_iron", "球墨铸铁管": "ductile_iron",
	"铸铁": "cast_iron", "铸铁管": "cast_iron", "砼": "concrete", "混凝土": "concrete", "钢筋混凝土": "concrete", "PVC": "pvc", "HDPE": "hdpe",
	"阀门": "valve", "阀门井": "valve", "三通": "tee", "调压箱": "regulator", "调压站": "regulator", "门站": "station", "弯头": "bend", "末端": "end",
	"检查井": "manhole", "窨井": "manhole", "雨水井": "manhole", "污水井": "manhole", "排放口": "outfall", "出水口": "outfall", "泵站": "pump_station",
	"雨水": "rain", "污水": "sewage", "雨污合流": "combined", "合流": "combined", "供水": "supply", "回水": "return", "消火栓": "hydrant",
}

// MaxSuggestValues is how many distinct values of a field a suggestion
// lists.
const MaxSuggestValues = 30

// Suggest drafts a mapping file for the sources: for each, the layer its
// geometry and name suggest, the id field, each field that looks like a
// catalog attribute, and for enumerations every value found with the
// catalog value it likely means. What it cannot tell is left as a TODO
// comment to fill in. crs and encoding are as in a mapping file.
func Suggest(ctx context.Context, sources []string, crs, encoding string, cat *layers.Catalog) ([]byte, error) {
	m := &Mapping{CRS: crs, Encoding: encoding}
	var b bytes.Buffer
	b.WriteString("# A draft of onemap import's mapping (docs/import.md): check every line, fill in each TODO.\n")
	b.WriteString("city:\n  name: TODO\n  name_en: TODO\n")
	if crs != "" {
		fmt.Fprintf(&b, "crs: %s\n", crs)
	}
	if encoding != "" {
		fmt.Fprintf(&b, "encoding: %s\n", encoding)
	}
	b.WriteString("topology:\n  snap_m: 0.5\nlayers:\n")
	for _, src := range sources {
		recs, err := m.readSource(ctx, LayerRule{Source: src})
		if err != nil {
			return nil, err
		}
		fields := fieldsOf(recs)
		l := guessLayer(src, recs, cat)
		fmt.Fprintf(&b, "  - source: %s\n", src)
		if l == nil {
			b.WriteString("    layer: TODO # one of " + strings.Join(sourceLayers(cat), ", ") + "\n")
		} else {
			noun := "features"
			if len(recs) == 1 {
				noun = "feature"
			}
			fmt.Fprintf(&b, "    layer: %s # %s, %d %s\n", l.ID, l.Title.Zh, len(recs), noun)
		}
		idField := ""
		for _, h := range idHints {
			if i := slices.IndexFunc(fields, func(f string) bool { return strings.EqualFold(f, h) }); i >= 0 {
				idField = fields[i]
				break
			}
		}
		if idField != "" {
			offset := ""
			if minNumber(recs, idField) == 0 {
				offset = ", offset: 1"
			}
			fmt.Fprintf(&b, "    id: {field: %s%s}\n", idField, offset)
		} else {
			b.WriteString("    id: {key: [TODO]} # the fields that tell a feature apart\n")
		}
		b.WriteString("    attributes:\n")
		for _, f := range fields {
			if f == idField {
				continue
			}
			attr := fieldHints[strings.ToUpper(f)]
			fd, ok := layers.Field{}, false
			if l != nil && attr != "" {
				fd, ok = field(l, attr)
			}
			values := distinct(recs, f)
			sample := strings.Join(values[:min(len(values), 5)], ", ")
			if !ok {
				fmt.Fprintf(&b, "      # TODO: {field: %s} # values such as %s\n", f, sample)
				continue
			}
			switch {
			case len(fd.Values) > 0:
				fmt.Fprintf(&b, "      %s:\n        field: %s\n        values:\n", attr, f)
				for _, v := range values {
					guess := valueHints[v]
					if !slices.Contains(fd.Values, guess) {
						fmt.Fprintf(&b, "          %q: TODO # one of %s\n", v, strings.Join(fd.Values, ", "))
						continue
					}
					fmt.Fprintf(&b, "          %q: %s\n", v, guess)
				}
			case attr == "diameter_mm" && maxNumber(recs, f) < 5:
				fmt.Fprintf(&b, "      %s: {field: %s, scale: 1000} # the survey gives metres\n", attr, f)
			default:
				fmt.Fprintf(&b, "      %s: {field: %s} # e.g. %s\n", attr, f, sample)
			}
		}
		if l != nil {
			var need []string
			for _, fd := range l.Fields {
				if fd.Required && fd.Name != layers.FromNode && fd.Name != layers.ToNode && !strings.Contains(b.String(), "      "+fd.Name+":") {
					need = append(need, fd.Name)
				}
			}
			if len(need) > 0 {
				b.WriteString("    defaults: # required, and no field was found for them\n")
				for _, n := range need {
					fmt.Fprintf(&b, "      %s: TODO\n", n)
				}
			}
		}
	}
	return b.Bytes(), nil
}

// guessLayer is the layer a source most likely is, from its file name and
// its geometry; nil when it cannot tell.
func guessLayer(src string, recs []record, cat *layers.Catalog) *layers.Layer {
	if len(recs) == 0 || recs[0].Geom == nil {
		return nil
	}
	geom := recs[0].Geom.GeoJSONType()
	geom = strings.TrimPrefix(geom, "Multi")
	name := strings.ToLower(filepath.Base(src))
	domains := []struct{ words, line, point string }{
		{"gas rq ranqi 燃气", layers.GasPipe, layers.GasNode},
		{"water js gs jishui gongshui 给水 供水", layers.WaterPipe, layers.WaterNode},
		{"drain ps paishui ys ws 排水 雨水 污水", layers.DrainPipe, layers.DrainNode},
		{"heat rl reli 热力", layers.HeatPipe, layers.HeatNode},
	}
	for _, d := range domains {
		for _, w := range strings.Fields(d.words) {
			if strings.Contains(name, w) {
				id := d.point
				if geom == "LineString" {
					id = d.line
				}
				l, err := cat.Layer(id)
				if err == nil {
					return l
				}
			}
		}
	}
	return nil
}

// distinct are the values a field takes, the most frequent first.
func distinct(recs []record, f string) []string {
	n := map[string]int{}
	for _, r := range recs {
		if v, ok := r.Props[f]; ok && v != nil && v != "" {
			n[strings.TrimSpace(text(v))]++
		}
	}
	out := slices.Sorted(maps.Keys(n))
	sort.SliceStable(out, func(i, j int) bool { return n[out[i]] > n[out[j]] })
	return out[:min(len(out), MaxSuggestValues)]
}

func minNumber(recs []record, f string) float64 {
	lo := 0.0
	for i, r := range recs {
		if v, ok := number(r.Props[f]); ok && (i == 0 || v < lo) {
			lo = v
		}
	}
	return lo
}

func maxNumber(recs []record, f string) float64 {
	hi := 0.0
	for _, r := range recs {
		if v, ok := number(r.Props[f]); ok && v > hi {
			hi = v
		}
	}
	return hi
}
