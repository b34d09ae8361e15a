package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// idConstants returns the string constants that ids.go declares, by name.
func idConstants(t *testing.T) map[string]string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("ids.go: %s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				consts[name.Name] = v
			}
		}
	}
	return consts
}

// camel is the Go name of a snake_case id: gas_adjacent_space is GasAdjacentSpace.
func camel(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// TestLayerIDsNamed checks that every default-catalog layer is named by a
// constant of ids.go, called after its id, and that every constant there
// names a catalog layer or the field by which every network's pipes name
// their end nodes: a layer added without a name fails here.
func TestLayerIDsNamed(t *testing.T) {
	c := Default()
	consts := idConstants(t)
	named := map[string]string{}
	for name, v := range consts {
		named[v] = name
	}
	for _, l := range c.Layers() {
		name, ok := named[l.ID]
		if !ok {
			t.Errorf("layer %s has no constant in ids.go (want %s = %q)", l.ID, camel(l.ID), l.ID)
			continue
		}
		if name != camel(l.ID) {
			t.Errorf("layer %s is named %s, want %s", l.ID, name, camel(l.ID))
		}
	}
	var networks int
	for name, v := range consts {
		if _, err := c.Layer(v); err == nil {
			continue
		}
		if name != camel(v) {
			t.Errorf("%s = %q: want the name %s", name, v, camel(v))
		}
		var lacking []string
		for _, l := range c.Layers() {
			if l.Nodes == "" {
				continue
			}
			networks++
			if _, ok := l.Field(v); !ok {
				lacking = append(lacking, l.ID)
			}
		}
		if len(lacking) > 0 {
			t.Errorf("%s = %q names neither a catalog layer nor a field of every network (not of %v)", name, v, lacking)
		}
	}
	if networks == 0 {
		t.Error("no network layer to check the node fields against")
	}
	if len(consts) != len(named) {
		t.Errorf("%d constants for %d distinct ids: two constants share an id", len(consts), len(named))
	}
}
