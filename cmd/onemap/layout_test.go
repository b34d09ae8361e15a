package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/onemap/onemap/"

// packageImports returns, for each package of the module, the module's
// packages its non-test files import.
func packageImports(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (n == "testdata" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if dep, ok := strings.CutPrefix(p, module); ok {
				out[pkg] = append(out[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLayout checks that dependencies flow one way, as the README's layout
// says: the command wires the server and the stores, the server calls the
// domain packages, and those rest on the layer catalog.
func TestLayout(t *testing.T) {
	imports := packageImports(t)
	for _, want := range []string{"cmd/onemap", "server", "tiles", "mapstyle", "layers", "store"} {
		if _, ok := imports[want]; !ok {
			t.Fatalf("package %s not found: %v", want, imports)
		}
	}
	concrete := map[string]bool{"store/memory": true, "store/postgis": true}
	for pkg, deps := range imports {
		cmd := strings.HasPrefix(pkg, "cmd/")
		for _, dep := range deps {
			switch {
			case strings.HasPrefix(dep, "cmd/"):
				t.Errorf("%s imports %s: no package imports a command", pkg, dep)
			case dep == "server" && !cmd:
				t.Errorf("%s imports server: only the command does", pkg)
			case concrete[dep] && !cmd:
				t.Errorf("%s imports %s: only the command picks a store", pkg, dep)
			case pkg == "layers":
				t.Errorf("layers imports %s: the catalog rests on nothing of the module", dep)
			case pkg == "store" && (dep == "tiles" || dep == "mapstyle"):
				t.Errorf("store imports %s: the storage interface knows no tiles or style", dep)
			case strings.HasPrefix(pkg, "store") && dep == "mapstyle":
				t.Errorf("%s imports mapstyle: a store has no use for glyphs or sprites", pkg)
			case pkg == "tiles" && dep == "mapstyle", pkg == "mapstyle" && dep == "tiles":
				t.Errorf("%s imports %s: tiles and their style are made apart", pkg, dep)
			case (pkg == "tiles" || pkg == "mapstyle") && strings.HasPrefix(dep, "store"):
				t.Errorf("%s imports %s: it reads features through layers.Source", pkg, dep)
			}
		}
	}
}

// TestLayoutTable checks that the README's layout table names every package
// of the module, so a new package says what it holds where a reader looks.
func TestLayoutTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README has no ## Layout section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	named := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		parts := strings.Split(line, "`")
		for i := 1; i < len(parts); i += 2 {
			named[parts[i]] = true
		}
	}
	for pkg := range packageImports(t) {
		if pkg == "." || strings.HasPrefix(pkg, "scripts/") {
			continue
		}
		if !named[pkg] {
			t.Errorf("README's layout table does not name package %s", pkg)
		}
	}
}
