package layers

import (
	"fmt"
	"strings"
)

// Markdown describes, in Markdown, what a city directory holds for each of
// the catalog's layers: its file, geometry and attributes, with their types,
// units, whether they are required and the values of enumerations.
// docs/city-data.md carries it between two markers; a test keeps the two
// equal.
func (c *Catalog) Markdown() string {
	var b strings.Builder
	groups := map[string]Text{}
	for _, g := range c.groups {
		groups[g.ID] = g.Title
	}
	var derived []string
	for _, l := range c.layers {
		if l.Derived {
			derived = append(derived, "`"+l.ID+"`")
			continue
		}
		g := groups[l.Group]
		fmt.Fprintf(&b, "### `%s.geojson`: %s (%s)\n\n", l.ID, l.Title.Zh, l.Title.En)
		fmt.Fprintf(&b, "%s features (or %s), in the group %s (%s); drawn from zoom %d. Layer code %d.",
			l.Geometry, multi(l.Geometry), g.Zh, g.En, l.MinZoom, l.Code)
		if l.Nodes != "" {
			fmt.Fprintf(&b, " A network: `from_node` and `to_node` are ids of `%s` features, and the line's ends lie on them.", l.Nodes)
		}
		b.WriteString("\n\n| attribute | 中文 | English | type | unit | required | values and notes |\n|---|---|---|---|---|---|---|\n")
		for _, f := range l.Fields {
			req := ""
			if f.Required {
				req = "**yes**"
			}
			var notes []string
			for _, v := range f.Values {
				t := f.ValueTitle(v)
				notes = append(notes, fmt.Sprintf("`%s` %s (%s)", v, t.Zh, t.En))
			}
			if f.Personal {
				mask := string(f.Mask)
				if mask == "" {
					mask = "whole"
				}
				notes = append(notes, "personal data, masked: "+mask)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", f.Name, f.Title.Zh, f.Title.En, f.Type, f.Unit, req, strings.Join(notes, ", "))
		}
		b.WriteString("\n")
	}
	if len(derived) > 0 {
		fmt.Fprintf(&b, "onemap computes the layers %s from the others; a city directory has no file for them.\n", strings.Join(derived, ", "))
	}
	return b.String()
}

func multi(g GeomType) string { return "Multi" + string(g) }
