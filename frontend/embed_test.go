package frontend

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	for _, name := range []string{
		"index.html", "app.js", "app.css",
		"vendor/README.md",
		"vendor/maplibre-gl/maplibre-gl.mjs",
		"vendor/maplibre-gl/maplibre-gl-worker.mjs",
		"vendor/maplibre-gl/maplibre-gl.css",
		"vendor/maplibre-gl/LICENSE.txt",
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
	app, _ := fs.ReadFile(FS, "app.js")
	if !strings.Contains(string(app), `from '/vendor/maplibre-gl/maplibre-gl.mjs'`) {
		t.Error("app.js does not import the vendored MapLibre")
	}
}
