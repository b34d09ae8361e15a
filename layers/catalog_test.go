package layers

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDefaultCatalog(t *testing.T) {
	c := Default()
	want := []string{"district", "road", "building", "water", "label", "gas_pipe", "gas_node", "water_pipe", "water_node",
		"drain_pipe", "drain_node", "heat_pipe", "heat_node", "power_duct", "telecom_duct", "bridge", "utility_tunnel",
		"protective_target", "hazard", "sensor", "gas_adjacent_space", "risk_zone"}
	var got []string
	for _, l := range c.Layers() {
		got = append(got, l.ID)
		if l.Title.Zh == "" || l.Title.En == "" {
			t.Errorf("%s: missing a title", l.ID)
		}
		if l.Style.Color == "" {
			t.Errorf("%s: no colour", l.ID)
		}
		for _, f := range l.Fields {
			if f.Title.Zh == "" || f.Title.En == "" {
				t.Errorf("%s.%s: missing a title", l.ID, f.Name)
			}
			for _, v := range f.Values {
				if vt := f.ValueTitles[v]; vt.Zh == "" || vt.En == "" {
					t.Errorf("%s.%s: value %q has no title", l.ID, f.Name, v)
				}
			}
			// A unit in the title's brackets is the field's unit.
			if i := strings.LastIndex(f.Title.En, "("); i >= 0 && f.Type == Number {
				if u := strings.TrimSuffix(f.Title.En[i+1:], ")"); u != f.Unit {
					t.Errorf("%s.%s: unit %q, title says %q", l.ID, f.Name, f.Unit, u)
				}
			}
		}
		if l.Style.ColorBy != "" {
			f, ok := l.Field(l.Style.ColorBy)
			if !ok {
				t.Errorf("%s: colours by %q, which it does not have", l.ID, l.Style.ColorBy)
			}
			for _, v := range f.Values {
				if _, ok := l.Style.Colors[v]; !ok {
					t.Errorf("%s: no colour for %s %q", l.ID, f.Name, v)
				}
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("layers = %v\nwant %v", got, want)
	}
	used := map[string]bool{}
	for _, l := range c.Layers() {
		used[l.Group] = true
	}
	for _, g := range c.Groups() {
		if !used[g.ID] {
			t.Errorf("group %s has no layer", g.ID)
		}
	}
	gas, _ := c.Layer("gas_pipe")
	if f, _ := gas.Field("pressure_class"); !slices.Equal(f.Values, PressureClasses) {
		t.Errorf("gas pressure classes = %v", f.Values)
	}
	if f, _ := gas.Field("diameter_mm"); f.Unit != "mm" || !f.Required {
		t.Errorf("gas diameter = %+v, want a required field in mm", f)
	}
	if f, _ := gas.Field("pressure_class"); f.ValueTitle("medium_a") != (Text{"中压A", "Medium pressure A"}) {
		t.Errorf("medium_a is titled %v", f.ValueTitle("medium_a"))
	}
	if gas.Nodes != "gas_node" {
		t.Errorf("gas_pipe nodes = %q", gas.Nodes)
	}
}

func TestCatalogLookups(t *testing.T) {
	c := Default()
	if _, err := c.Layer("sewer"); !errors.Is(err, ErrUnknownLayer) {
		t.Errorf("Layer(sewer) err = %v", err)
	}
	id := MakeID(22, 12345)
	if CodeOf(id) != 22 || id&(1<<IDBits-1) != 12345 {
		t.Errorf("MakeID(22, 12345) = %d", id)
	}
	l, err := c.LayerOf(id)
	if err != nil || l.ID != "protective_target" {
		t.Errorf("LayerOf = %v, %v", l, err)
	}
	if _, err := c.LayerOf(MakeID(99, 1)); !errors.Is(err, ErrUnknownLayer) {
		t.Errorf("LayerOf(code 99) err = %v", err)
	}
	// Ids stay exact in a JavaScript number (the browser's feature-state).
	for _, l := range c.Layers() {
		if MakeID(l.Code, 1<<IDBits-1) >= 1<<53 {
			t.Errorf("%s: ids pass 2^53", l.ID)
		}
	}
}

func TestNewCatalogErrors(t *testing.T) {
	g := []Group{{ID: "base"}}
	pt := func(id string, code uint8) *Layer {
		return &Layer{ID: id, Code: code, Group: "base", Geometry: Point, MinZoom: 1, MaxZoom: 16}
	}
	tests := []struct {
		name   string
		layers []*Layer
		want   string
	}{
		{"NoID", []*Layer{pt("", 1)}, "without id"},
		{"DuplicateID", []*Layer{pt("a", 1), pt("a", 2)}, "duplicate layer"},
		{"DuplicateCode", []*Layer{pt("a", 1), pt("b", 1)}, "code 1 taken"},
		{"ZeroCode", []*Layer{pt("a", 0)}, "code 0"},
		{"UnknownGroup", []*Layer{{ID: "a", Code: 1, Group: "x", MaxZoom: 1}}, "unknown group"},
		{"BadZoom", []*Layer{{ID: "a", Code: 1, Group: "base", MinZoom: 10, MaxZoom: 5}}, "bad zoom range"},
		{"NodesNotPoints", []*Layer{{ID: "p", Code: 1, Group: "base", Geometry: LineString, MaxZoom: 1, Nodes: "q"}, {ID: "q", Code: 2, Group: "base", Geometry: Polygon, MaxZoom: 1}}, "not a point layer"},
		{"MaskNotPersonal", []*Layer{{ID: "a", Code: 1, Group: "base", MaxZoom: 1, Fields: []Field{{Name: "contact", Type: String, Mask: MaskName}}}}, "not personal"},
		{"MaskOnNumber", []*Layer{{ID: "a", Code: 1, Group: "base", MaxZoom: 1, Fields: []Field{{Name: "phone", Type: Number, Personal: true, Mask: MaskPhone}}}}, "on a Number field"},
		{"UnknownMask", []*Layer{{ID: "a", Code: 1, Group: "base", MaxZoom: 1, Fields: []Field{{Name: "id_card", Type: String, Personal: true, Mask: "id"}}}}, "unknown mask"},
		{"NodesNoFields", []*Layer{{ID: "p", Code: 1, Group: "base", Geometry: LineString, MaxZoom: 1, Nodes: "q"}, pt("q", 2)}, "no from_node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCatalog(g, tt.layers)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
