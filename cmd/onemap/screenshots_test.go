package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The screenshots of README.md and docs/ are made by the browser tests
// (ONEMAP_UPDATE_SCREENSHOTS=1 go test ./cmd/onemap -run TestBrowser), and
// docs/screenshots.txt records, for each, the UI it was made from: a hash
// of the frontend's files and the map's style. A screenshot of a UI that
// has changed since fails TestScreenshotsCurrent.

// screenshotsFile is the record of which UI each screenshot shows.
var screenshotsFile = filepath.Join("..", "..", "docs", "screenshots.txt")

// uiHash is the hash of what the screenshots show: every file of the web
// app (frontend/web) and the map's style, sprite and glyphs (mapstyle).
var uiHash = sync.OnceValues(func() (string, error) {
	h := sha256.New()
	add := func(root string, keep func(string) bool) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !keep(p) {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
			fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
			h.Write(b)
			return nil
		})
	}
	if err := add(filepath.Join("..", "..", "frontend", "web"), func(string) bool { return true }); err != nil {
		return "", err
	}
	goSource := func(p string) bool { return strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") }
	if err := add(filepath.Join("..", "..", "mapstyle"), goSource); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
})

// docImage matches an image of a Markdown page: ![..](x.png) or src="x.png".
var docImage = regexp.MustCompile(`\]\(([^)\s]+\.png)\)|src="([^"]+\.png)"`)

// docsImages is the screenshots README.md and docs/*.md show, as names in
// docs/.
func docsImages(t testing.TB) []string {
	t.Helper()
	pages, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	pages = append(pages, filepath.Join("..", "..", "README.md"))
	var names []string
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docImage.FindAllStringSubmatch(string(b), -1) {
			ref := m[1] + m[2]
			p := filepath.Clean(filepath.Join(filepath.Dir(page), ref))
			if filepath.Dir(p) != filepath.Join("..", "..", "docs") {
				t.Errorf("%s shows %s, outside docs/", page, ref)
				continue
			}
			names = append(names, filepath.Base(p))
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// kept is whether a screenshot stays as it was made: the "before" of a
// comparison shows a UI that is gone on purpose.
func kept(name string) bool { return strings.HasSuffix(name, "-before.png") }

// readScreenshots reads docs/screenshots.txt: name → UI hash.
func readScreenshots() (map[string]string, error) {
	f, err := os.Open(screenshotsFile)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("%s: line %q is not name and hash", screenshotsFile, line)
		}
		m[name] = hash
	}
	return m, sc.Err()
}

var screenshotsMu sync.Mutex

// updateDocsShot writes png as docs/name when ONEMAP_UPDATE_SCREENSHOTS is
// set and README.md or a page of docs/ shows it, and records the UI it
// shows in docs/screenshots.txt.
func updateDocsShot(t testing.TB, name string, png []byte) {
	t.Helper()
	if os.Getenv("ONEMAP_UPDATE_SCREENSHOTS") == "" || !slices.Contains(docsImages(t), name) {
		return
	}
	hash, err := uiHash()
	if err != nil {
		t.Fatal(err)
	}
	screenshotsMu.Lock()
	defer screenshotsMu.Unlock()
	if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := readScreenshots()
	if err != nil {
		t.Fatal(err)
	}
	m[name] = hash
	var b strings.Builder
	b.WriteString("# The UI each screenshot of README.md and docs/ was made from (cmd/onemap's\n# browser tests write it with ONEMAP_UPDATE_SCREENSHOTS=1).\n")
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, m[n])
	}
	if err := os.WriteFile(screenshotsFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every screenshot README.md and docs/ show is there and was made from the
// UI as it is, by a browser test.
func TestScreenshotsCurrent(t *testing.T) {
	hash, err := uiHash()
	if err != nil {
		t.Fatal(err)
	}
	made, err := readScreenshots()
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, name := range docsImages(t) {
		if _, err := os.Stat(filepath.Join("..", "..", "docs", name)); err != nil {
			t.Errorf("docs/%s is shown but missing", name)
			continue
		}
		if kept(name) {
			continue
		}
		switch h, ok := made[name]; {
		case !ok:
			t.Errorf("docs/%s was not made by a browser test", name)
		case h != hash:
			stale = append(stale, name)
		}
	}
	if len(stale) > 0 {
		t.Errorf("%d screenshots show an older UI than the frontend's (%s): %v; run ONEMAP_UPDATE_SCREENSHOTS=1 go test ./cmd/onemap -run TestBrowser", len(stale), hash, stale)
	}
}
