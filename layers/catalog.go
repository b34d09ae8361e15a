package layers

import (
	"errors"
	"fmt"
	"slices"
)

// MaxZoom is the highest zoom of web maps that onemap serves.
const MaxZoom = 24

// ErrUnknownLayer is returned for a layer id the catalog does not hold.
var ErrUnknownLayer = errors.New("layers: unknown layer")

// GeomType is the geometry type every feature of a layer has.
type GeomType string

// Geometry types of the catalog's layers.
const (
	Point      GeomType = "Point"
	LineString GeomType = "LineString"
	Polygon    GeomType = "Polygon"
)

// FieldType is an attribute's type as TileJSON's vector_layers name it.
type FieldType string

// Attribute types.
const (
	String  FieldType = "String"
	Number  FieldType = "Number"
	Boolean FieldType = "Boolean"
)

// Text is a name in Chinese and English.
type Text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// Field describes one attribute of a layer's features.
type Field struct {
	Name     string    `json:"name"`
	Type     FieldType `json:"type"`
	Title    Text      `json:"title"`
	Required bool      `json:"required,omitempty"`
	// Unit is the unit of a Number field's values ("mm", "MPa"); empty for
	// counts, years and ids. It follows from the name's suffix (diameter_mm).
	Unit string `json:"unit,omitempty"`
	// Values lists the allowed values of a String field that is an enumeration.
	Values []string `json:"values,omitempty"`
	// ValueTitles names each of Values in Chinese and English.
	ValueTitles map[string]Text `json:"value_titles,omitempty"`
	// Personal fields hold personal data (contact names, phone numbers):
	// tiles never carry them, and roles that do not need them see them
	// masked (see MaskProps).
	Personal bool `json:"personal,omitempty"`
	// Mask says how a Personal String field's values are masked; empty
	// masks the whole value.
	Mask MaskKind `json:"mask,omitempty"`
}

// Whole reports whether a Number field holds whole numbers only (ids,
// years, counts): PostGIS keeps them in integer columns and tiles carry them
// as integers, the other Number fields as doubles.
func (f Field) Whole() bool { return f.Type == Number && (IDFields[f.Name] || wholeFields[f.Name]) }

// IDFields are the Number attributes that hold feature ids.
var IDFields = map[string]bool{FromNode: true, ToNode: true, "asset": true, "building": true}

// wholeFields are the Number attributes, other than ids, that are whole
// numbers.
var wholeFields = map[string]bool{
	"install_year": true, "build_year": true, "floors": true, "lanes": true, "holes": true,
	"fire_zone": true, "leak_count": true, "interval_s": true, "population": true,
	"people_day": true, "people_night": true, "rank": true,
}

// Group is a legend group; its layers are switched together or one by one.
type Group struct {
	ID    string `json:"id"`
	Title Text   `json:"title"`
}

// Style holds the hints the MapLibre style is built from.
type Style struct {
	// Color is the default colour (#rrggbb).
	Color string `json:"color"`
	// ColorBy names a String field whose values pick the colour from Colors.
	ColorBy string            `json:"color_by,omitempty"`
	Colors  map[string]string `json:"colors,omitempty"`
	// Width is a line's width in pixels at zoom 15, or a polygon's outline.
	Width float64 `json:"width,omitempty"`
	// WidthBy names a Number field (such as diameter_mm) that widens lines.
	WidthBy string `json:"width_by,omitempty"`
	// Dash is a line dash pattern in line widths.
	Dash []float64 `json:"dash,omitempty"`
	// Opacity is a polygon's fill opacity.
	Opacity float64 `json:"opacity,omitempty"`
	// Icon names a sprite image; IconBy names a field whose value is the icon.
	Icon   string `json:"icon,omitempty"`
	IconBy string `json:"icon_by,omitempty"`
	// Radius is a point's circle radius in pixels when it has no icon.
	Radius float64 `json:"radius,omitempty"`
	// Label names the field drawn as a label, if any.
	Label string `json:"label,omitempty"`
}

// Layer is one layer of the one map.
type Layer struct {
	ID    string `json:"id"`
	Title Text   `json:"title"`
	Group string `json:"group"`
	// Code is the layer's number in feature ids; stable across releases.
	Code     uint8    `json:"code"`
	Geometry GeomType `json:"geometry"`
	Fields   []Field  `json:"fields"`
	MinZoom  int      `json:"minzoom"`
	MaxZoom  int      `json:"maxzoom"`
	Style    Style    `json:"style"`
	// Static layers change only when their data is reloaded; they are cached.
	Static bool `json:"static"`
	// Nodes names the node layer that a network layer's from_node and
	// to_node refer to; empty for layers that are not network edges.
	Nodes string `json:"nodes,omitempty"`
	// Derived layers are computed by onemap from other layers (an analysis
	// drawn as a layer); no store keeps them.
	Derived bool `json:"derived,omitempty"`
	// Live layers change with the live state (alarms): the style draws them
	// from a source of their own, whose tiles clients refetch when the live
	// channel announces a new version.
	Live bool `json:"live,omitempty"`
	// Time names the attribute that places a feature in time, a Number
	// holding a year (laid, built) or a String holding a date (installed);
	// OGC API's datetime selects by it. Empty for a layer without one.
	Time string `json:"time,omitempty"`
}

// ValueTitle returns the title of one of the field's values; the value
// itself, in both languages, when it has none.
func (f Field) ValueTitle(v string) Text {
	if t, ok := f.ValueTitles[v]; ok {
		return t
	}
	return Text{v, v}
}

// Field returns the layer's field with the given name.
func (l *Layer) Field(name string) (Field, bool) {
	for _, f := range l.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// HasPersonal reports whether any of the layer's fields is Personal.
func (l *Layer) HasPersonal() bool {
	return slices.ContainsFunc(l.Fields, func(f Field) bool { return f.Personal })
}

// PersonalFields returns the names of the layer's Personal fields, or nil.
func (l *Layer) PersonalFields() []string {
	var out []string
	for _, f := range l.Fields {
		if f.Personal {
			out = append(out, f.Name)
		}
	}
	return out
}

// Catalog is an ordered set of layers, drawn bottom to top in that order.
type Catalog struct {
	groups []Group
	layers []*Layer
	byID   map[string]*Layer
	byCode map[uint8]*Layer
}

// NewCatalog checks the layers and returns a catalog of them.
func NewCatalog(groups []Group, ls []*Layer) (*Catalog, error) {
	c := &Catalog{groups: groups, layers: ls, byID: map[string]*Layer{}, byCode: map[uint8]*Layer{}}
	for _, l := range ls {
		if l.ID == "" {
			return nil, errors.New("layers: layer without id")
		}
		if _, dup := c.byID[l.ID]; dup {
			return nil, fmt.Errorf("layers: duplicate layer %q", l.ID)
		}
		if other, dup := c.byCode[l.Code]; dup || l.Code == 0 {
			return nil, fmt.Errorf("layers: layer %q: code %d taken by %v", l.ID, l.Code, other)
		}
		if !slices.ContainsFunc(groups, func(g Group) bool { return g.ID == l.Group }) {
			return nil, fmt.Errorf("layers: layer %q: unknown group %q", l.ID, l.Group)
		}
		if l.MinZoom < 0 || l.MaxZoom > MaxZoom || l.MinZoom > l.MaxZoom {
			return nil, fmt.Errorf("layers: layer %q: bad zoom range %d–%d", l.ID, l.MinZoom, l.MaxZoom)
		}
		if fd, ok := l.Field(l.Time); l.Time != "" && (!ok || fd.Type == Boolean || fd.Personal) {
			return nil, fmt.Errorf("layers: layer %q: time %q is not a Number or String field", l.ID, l.Time)
		}
		for _, fd := range l.Fields {
			if err := checkMask(fd); err != nil {
				return nil, fmt.Errorf("layers: layer %q: %w", l.ID, err)
			}
		}
		c.byID[l.ID] = l
		c.byCode[l.Code] = l
	}
	for _, l := range ls {
		if l.Nodes == "" {
			continue
		}
		if n, ok := c.byID[l.Nodes]; !ok || n.Geometry != Point {
			return nil, fmt.Errorf("layers: layer %q: nodes %q is not a point layer", l.ID, l.Nodes)
		}
		for _, name := range []string{FromNode, ToNode} {
			if _, ok := l.Field(name); !ok {
				return nil, fmt.Errorf("layers: layer %q has nodes but no %s", l.ID, name)
			}
		}
	}
	return c, nil
}

// Layers returns the layers in drawing order.
func (c *Catalog) Layers() []*Layer { return c.layers }

// Groups returns the legend groups in order.
func (c *Catalog) Groups() []Group { return c.groups }

// Layer returns the layer with the given id.
func (c *Catalog) Layer(id string) (*Layer, error) {
	l, ok := c.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownLayer, id)
	}
	return l, nil
}

// LayerOf returns the layer a feature id belongs to.
func (c *Catalog) LayerOf(id uint64) (*Layer, error) {
	l, ok := c.byCode[CodeOf(id)]
	if !ok {
		return nil, fmt.Errorf("%w: no layer has code %d (feature %d)", ErrUnknownLayer, CodeOf(id), id)
	}
	return l, nil
}
