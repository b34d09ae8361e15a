package mapstyle

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/glyphs.sha256 from the glyphs this build makes")

// TestGlyphsGolden checks every glyph range of every font against the
// checksums of the PBFs as first served: a browser that cached a range must
// get the same bytes from a new build. Run with -update after a deliberate
// change to the glyphs.
func TestGlyphsGolden(t *testing.T) {
	names := make([]string, 0, len(glyphFonts))
	for name := range glyphFonts {
		names = append(names, name)
	}
	slices.Sort(names)
	var got bytes.Buffer
	fmt.Fprintln(&got, "# fontstack, range, bytes, SHA-256 of the glyph PBF")
	for _, name := range names {
		for start := 0; start <= 0xFF00; start += 256 {
			b, err := Glyphs(name, start)
			if err != nil {
				t.Fatalf("%s %d: %v", name, start, err)
			}
			fmt.Fprintf(&got, "%s\t%d-%d\t%d\t%x\n", name, start, start+255, len(b), sha256.Sum256(b))
		}
	}
	path := filepath.Join("testdata", "glyphs.sha256")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gotLines, wantLines := bytes.Split(got.Bytes(), []byte("\n")), bytes.Split(want, []byte("\n"))
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d lines, want %d", len(gotLines), len(wantLines))
	}
	for i := range gotLines {
		if !bytes.Equal(gotLines[i], wantLines[i]) {
			t.Errorf("got  %s\nwant %s", gotLines[i], wantLines[i])
		}
	}
}
