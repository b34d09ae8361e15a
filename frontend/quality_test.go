package frontend

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every kind of problem of city/problems.go (cityimport's included) has a
// title in both languages in quality.js, and is in its order of kinds.
func TestQualityKindTitles(t *testing.T) {
	src, err := os.ReadFile("../city/problems.go")
	if err != nil {
		t.Fatal(err)
	}
	kinds := regexp.MustCompile(`(?m)^\s+Kind\w+\s+Kind = "([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(kinds) < 20 {
		t.Fatalf("found %d kinds in city/problems.go", len(kinds))
	}
	js, err := fs.ReadFile(FS, "quality.js")
	if err != nil {
		t.Fatal(err)
	}
	text := string(js)
	for _, k := range kinds {
		if n := strings.Count(text, "kind_"+k[1]+": '"); n != 2 {
			t.Errorf("kind %s has %d titles in quality.js, want zh and en", k[1], n)
		}
		if !strings.Contains(text, "'"+k[1]+"'") {
			t.Errorf("kind %s is not in quality.js's KINDS", k[1])
		}
	}
}
