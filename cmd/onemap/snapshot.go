package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
)

// snapshotPath is where serve keeps the city's snapshot; empty for none.
func snapshotPath(cfg Config) string {
	switch cfg.Snapshot {
	case "off":
		return ""
	case "":
		return filepath.Join(cfg.DataDir, "city.snap")
	}
	return cfg.Snapshot
}

// openMemory holds the city in memory: from its snapshot when that is of
// the same files, else read from them, writing the snapshot for the next
// start. A snapshot named with --snapshot and no --city is served as it is.
func openMemory(cfg Config, cat *layers.Catalog, log *slog.Logger, stderr io.Writer) (*memory.Store, city.Problems, error) {
	path := snapshotPath(cfg)
	if cfg.Report != "" {
		path = "" // the report needs the files read
	}
	trust := cfg.Snapshot != "" && cfg.City == ""
	var source string
	if path != "" && !trust {
		var err error
		if source, err = citySource(cfg.City); err != nil {
			path = "" // reading the city tells what is wrong with it
		}
	}
	if path != "" {
		start := time.Now()
		s, info, err := memory.OpenSnapshot(path, cat)
		switch {
		case err == nil && (trust || info.Source == source):
			log.Info("city read from its snapshot", "snapshot", path, "took", time.Since(start).Round(time.Millisecond))
			return s, info.Problems, nil
		case err == nil:
			log.Info("the city's files changed since its snapshot: reading them", "snapshot", path)
		case trust:
			return nil, nil, fmt.Errorf("--snapshot %s: %w", path, err)
		case !errors.Is(err, fs.ErrNotExist):
			log.Warn("the city's snapshot cannot be read: reading the city's files and writing it again", "snapshot", path, "err", err)
		}
	}
	c, ps, err := readCity(cfg.City, cat, city.Options{}, cfg.Report, stderr)
	if err != nil {
		return nil, nil, err
	}
	s := memory.NewWith(c, cat)
	c = nil
	// The decoded GeoJSON is garbage now; give its memory back.
	runtime.GC()
	debug.FreeOSMemory()
	if path != "" {
		start := time.Now()
		if err := s.SaveSnapshot(path, memory.SnapshotInfo{Source: source, Problems: ps}); err != nil {
			log.Warn("the city's snapshot was not written; the next start reads the files again", "snapshot", path, "err", err)
		} else {
			log.Info("city snapshot written", "snapshot", path, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return s, ps, nil
}

// citySource names the files a city is read from, so that a snapshot of
// other files, or of these before they changed, is told apart: each file's
// name, size and time of change for a directory, a hash of the embedded
// sample city's contents.
func citySource(dir string) (string, error) {
	h := sha256.New()
	if dir == "" {
		err := fs.WalkDir(data.SampleCity(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(data.SampleCity(), p)
			fmt.Fprintf(h, "%s %d\n", p, len(b))
			h.Write(b)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("sample city: %w", err)
		}
		return "embedded:" + hex.EncodeToString(h.Sum(nil)), nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--city: %w", err)
	}
	es, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("--city: %w", err)
	}
	names := make([]string, 0, len(es))
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(abs, n))
		if err != nil {
			return "", fmt.Errorf("--city: %w", err)
		}
		fmt.Fprintf(h, "%s %d %d\n", n, fi.Size(), fi.ModTime().UnixNano())
	}
	return "dir:" + abs + ":" + hex.EncodeToString(h.Sum(nil)), nil
}

// writeSnapshot reads a city and writes its snapshot (onemap load
// --snapshot).
func writeSnapshot(path, dir, report string, stdout, stderr io.Writer) error {
	cat := layers.Default()
	start := time.Now()
	source, err := citySource(dir)
	if err != nil {
		return err
	}
	c, ps, err := readCity(dir, cat, city.Options{}, report, stderr)
	if err != nil {
		return err
	}
	read := time.Since(start)
	n := c.Count()
	s := memory.NewWith(c, cat)
	if err := s.SaveSnapshot(path, memory.SnapshotInfo{Source: source, Problems: ps}); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	fmt.Fprintf(stdout, "wrote the snapshot of %d features of %s to %s (%.1f MB) in %s (reading the files took %s)\n",
		n, s.Meta().Name, path, float64(fi.Size())/1e6, time.Since(start).Round(time.Millisecond), read.Round(time.Millisecond))
	return nil
}
