package layers

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/city-data.md's layer tables from the catalog")

const (
	docPath  = "../docs/city-data.md"
	docBegin = "<!-- The layers below are generated from the catalog: go test ./layers -run TestCityDataDoc -update -->\n"
	docEnd   = "<!-- End of the generated layers. -->\n"
)

// TestCityDataDoc keeps docs/city-data.md's description of each layer equal
// to what the catalog says.
func TestCityDataDoc(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := bytes.Cut(doc, []byte(docBegin))
	if !ok {
		t.Fatalf("%s has no line %q", docPath, docBegin)
	}
	old, after, ok := bytes.Cut(rest, []byte(docEnd))
	if !ok {
		t.Fatalf("%s has no line %q", docPath, docEnd)
	}
	want := "\n" + Default().Markdown() + "\n"
	if string(old) == want {
		return
	}
	if *update {
		out := append(append(append(before, docBegin...), want...), docEnd...)
		if err := os.WriteFile(docPath, append(out, after...), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s differs from the catalog at line %d:\n  file:    %s\n  catalog: %s\nregenerate it with: go test ./layers -run TestCityDataDoc -update",
		docPath, bytes.Count(before, []byte("\n"))+2+firstDiff(string(old), want), lineAt(string(old), firstDiff(string(old), want)), lineAt(want, firstDiff(string(old), want)))
}

// firstDiff returns the index of the first line where a and b differ.
func firstDiff(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i
		}
	}
	return min(len(al), len(bl))
}

func lineAt(s string, i int) string {
	ls := strings.Split(s, "\n")
	if i < len(ls) {
		return ls[i]
	}
	return "(end)"
}

func TestMarkdown(t *testing.T) {
	md := Default().Markdown()
	for _, want := range []string{
		"### `gas_pipe.geojson`: 燃气管线 (Gas pipes)",
		"| `diameter_mm` | 管径(mm) | Diameter (mm) | Number | mm | **yes** |",
		"`medium_a` 中压A (Medium pressure A)",
		"personal data, masked: phone",
		"`from_node` and `to_node` are ids of `gas_node` features",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the catalog's Markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "risk_zone.geojson") {
		t.Error("a derived layer is described as a file of the city directory")
	}
}
