package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// markdownTable returns the rows of the table whose header line is header,
// as cells without their backticks.
func markdownTable(t *testing.T, file, header string) [][]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), header+"\n")
	if !ok {
		t.Fatalf("%s has no table %q", file, header)
	}
	var rows [][]string
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if strings.HasPrefix(line, "|---") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.Trim(strings.TrimSpace(c), "`"))
		}
		rows = append(rows, cells)
	}
	return rows
}

// README's error table lists every code of codeList sent over HTTP, with
// its status, and nothing else.
func TestReadmeErrorTable(t *testing.T) {
	readme := map[string]int{}
	for _, row := range markdownTable(t, "../README.md", "| code | status | when |") {
		st, err := strconv.Atoi(row[1])
		if len(row) != 3 || err != nil {
			t.Errorf("README row %q: want | `code` | status | when |", row)
			continue
		}
		if _, dup := readme[row[0]]; dup {
			t.Errorf("README lists %s twice", row[0])
		}
		readme[row[0]] = st
	}
	ws := map[string]bool{}
	for _, row := range markdownTable(t, "../docs/websocket.md", "| code | when |") {
		ws[row[0]] = true
	}
	for _, c := range codeList {
		if c.Status == 0 {
			if !ws[c.Code] {
				t.Errorf("docs/websocket.md does not list %s", c.Code)
			}
			delete(ws, c.Code)
			continue
		}
		st, ok := readme[c.Code]
		switch {
		case !ok:
			t.Errorf("README does not list %s (%d)", c.Code, c.Status)
		case st != c.Status:
			t.Errorf("README gives %s status %d; it is sent with %d", c.Code, st, c.Status)
		}
		delete(readme, c.Code)
	}
	for code, st := range readme {
		t.Errorf("README lists %s (%d), which the server does not send", code, st)
	}
	for code := range ws {
		t.Errorf("docs/websocket.md lists %s, which the server does not send", code)
	}
}

// Every Code constant of the package is in codeList, and errors are made
// only with those names, never with a code written out.
func TestCodesDeclaredOnce(t *testing.T) {
	listed := map[string]bool{}
	for _, c := range codeList {
		listed[c.Code] = true
	}
	files, _ := filepath.Glob("*.go")
	bare := regexp.MustCompile(`errorf\("|"code":\s*"`)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if loc := bare.FindIndex(src); loc != nil {
			t.Errorf("%s:%d: an error code written out; name it in codes.go", name, 1+strings.Count(string(src[:loc[0]]), "\n"))
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					if name != "codes.go" {
						t.Errorf("%s declares %s; error codes are declared in codes.go", name, id.Name)
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						if v, _ := strconv.Unquote(lit.Value); !listed[v] {
							t.Errorf("%s = %s is not in codeList", id.Name, lit.Value)
						}
					}
				}
			}
		}
	}
}

func TestErrorfStatus(t *testing.T) {
	if e := errorf(CodeTooManyLayers, "x"); e.Status != 400 {
		t.Errorf("too_many_layers: %d", e.Status)
	}
	if e := errorf("no_such_code", "x"); e.Status != 500 || e.Code != CodeInternal {
		t.Errorf("an unlisted code: %+v, want internal", e)
	}
	if e := errorf(CodeRateLimited, "x"); e.Status != 500 {
		t.Errorf("a /ws code as an HTTP error: %+v, want internal", e)
	}
}

// The web app has words of its own, in Chinese and English, for every code
// the server sends over HTTP (frontend/web/errors.js), so that no English
// message of the server reaches its Chinese interface; and no words for
// codes the server does not send.
func TestFrontendErrorWords(t *testing.T) {
	b, err := os.ReadFile("../frontend/web/errors.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	zhStart, enStart := strings.Index(src, "  zh: {"), strings.Index(src, "  en: {")
	if zhStart < 0 || enStart < zhStart {
		t.Fatal("errors.js: no zh table followed by an en table")
	}
	entry := regexp.MustCompile(`(?m)^\s+err_([a-z_]+): '([^']+)',$`)
	table := func(s string) map[string]string {
		m := map[string]string{}
		for _, e := range entry.FindAllStringSubmatch(s, -1) {
			m[e[1]] = e[2]
		}
		return m
	}
	zh, en := table(src[zhStart:enStart]), table(src[enStart:])
	han := regexp.MustCompile(`\p{Han}`)
	for _, c := range codeList {
		if c.Status == 0 {
			continue
		}
		if w, ok := zh[c.Code]; !ok || !han.MatchString(w) {
			t.Errorf("errors.js: %s has no Chinese words (%q)", c.Code, w)
		}
		if w, ok := en[c.Code]; !ok || han.MatchString(w) {
			t.Errorf("errors.js: %s has no English words (%q)", c.Code, w)
		}
		delete(zh, c.Code)
		delete(en, c.Code)
	}
	for code := range zh {
		t.Errorf("errors.js has words for %s, which the server does not send", code)
	}
	for code := range en {
		t.Errorf("errors.js has English words for %s, which the server does not send", code)
	}
}
