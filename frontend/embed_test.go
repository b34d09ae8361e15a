package frontend

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	for _, name := range []string{
		"index.html", "app.js", "app.css", "login.html", "login.js", "session.js", "user.js", "audit.js", "admin.js",
		"incident.js", "inbox.js", "tasks.js", "replay.js", "stats.js", "quality.js", "report.css",
		"vendor/README.md",
		"vendor/maplibre-gl/maplibre-gl.mjs",
		"vendor/maplibre-gl/maplibre-gl-worker.mjs",
		"vendor/maplibre-gl/maplibre-gl.css",
		"vendor/maplibre-gl/LICENSE.txt",
		"vendor/deck.gl/dist.min.js",
		"vendor/deck.gl/LICENSE",
		"scene3d.js", "scene-model.js", "analysis.js", "analysis-map.js", "analysis-text.js",
	} {
		b, err := fs.ReadFile(FS, name)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
	index, _ := fs.ReadFile(FS, "index.html")
	for _, ref := range []string{`src="/app.js"`, `href="/app.css"`, `href="/vendor/maplibre-gl/maplibre-gl.css"`} {
		if !strings.Contains(string(index), ref) {
			t.Errorf("index.html does not load %s", ref)
		}
	}
	login, _ := fs.ReadFile(FS, "login.html")
	for _, ref := range []string{`src="/login.js"`, `href="/app.css"`, `id="login-form"`} {
		if !strings.Contains(string(login), ref) {
			t.Errorf("login.html lacks %s", ref)
		}
	}
	app, _ := fs.ReadFile(FS, "app.js")
	if !strings.Contains(string(app), `from '/vendor/maplibre-gl/maplibre-gl.mjs'`) {
		t.Error("app.js does not import the vendored MapLibre")
	}
}

// The pages keep to the content security policy the server sends: scripts
// only from files, and no style attributes or inline handlers in the HTML.
func TestPagesWithoutInlineCode(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)
	for _, name := range []string{"index.html", "login.html"} {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s has inline code or style: %q", name, m)
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(b, -1) {
			if !strings.Contains(string(tag), `src="/`) {
				t.Errorf("%s: a script not loaded from this server: %s", name, tag)
			}
		}
	}
}
