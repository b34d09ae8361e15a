// Package data holds the files the onemap binary carries with it: the
// generated sample city, so that the server runs with nothing beside it.
// It holds no code that reads them; package city does.
package data

import (
	"embed"
	"io/fs"
)

//go:embed sample-city
var files embed.FS

// SampleCity returns the sample city's directory (city.json and one
// GeoJSON file per layer) as a file system rooted at that directory.
func SampleCity() fs.FS {
	sub, err := fs.Sub(files, "sample-city")
	if err != nil {
		panic(err) // the directory is embedded above; fs.Sub fails only on a bad name
	}
	return sub
}
