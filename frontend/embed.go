package frontend

import (
	"embed"
	"io/fs"
)

//go:embed web
var web embed.FS

// FS is the web root: index.html, app.js, app.css and vendor/, with paths
// relative to "/" (FS.Open("index.html")).
var FS fs.FS = func() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // "web" is embedded above; it cannot be missing
	}
	return sub
}()
