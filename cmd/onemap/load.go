package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis"
	"github.com/schollz/progressbar/v3"
)

// dbFlag adds --db, defaulting to DATABASE_URL.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", os.Getenv("DATABASE_URL"), "PostgreSQL URL, postgres://user@host:port/db (DATABASE_URL)")
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("onemap migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *db == "" {
		return errors.New("migrate: --db or DATABASE_URL is required")
	}
	if err := postgis.Migrate(ctx, *db); err != nil {
		return err
	}
	v, _, err := postgis.SchemaVersion(*db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d\n", v)
	return nil
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("onemap load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	dir := fs.String("city", "", "city directory to load; empty loads the embedded sample city")
	srid := fs.Int("srid", 4326, "SRID of the city's coordinates, e.g. 4547 for CGCS2000 / 3-degree Gauss-Kruger CM 114E; transformed to 4326 on load")
	quiet := fs.Bool("quiet", false, "no progress bar")
	report := fs.String("report", "", "write every problem of the city directory to this JSON file, and the features at fault to its .geojson twin")
	snapshot := fs.String("snapshot", "", "write the city as a snapshot for onemap serve --snapshot to this file, instead of loading it into PostGIS")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *snapshot != "" {
		return writeSnapshot(*snapshot, *dir, *report, stdout, stderr)
	}
	if *db == "" {
		return errors.New("load: --db or DATABASE_URL is required, or --snapshot FILE")
	}
	if *srid <= 0 {
		return fmt.Errorf("load: --srid %d: want a positive EPSG code", *srid)
	}
	cat := layers.Default()
	start := time.Now()
	c, _, err := readCity(*dir, cat, city.Options{Projected: *srid != 4326 && *srid != 4490}, *report, stderr)
	if err != nil {
		return err
	}
	read := time.Since(start)
	st, err := postgis.Open(ctx, *db, cat, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer st.Close()

	total := c.Count()
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("loading"),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetVisibility(!*quiet && isTerminal(stderr)),
		progressbar.OptionClearOnFinish(),
	)
	done := map[string]int{}
	copied := 0
	progress := func(layer string, rows int) {
		copied += rows - done[layer]
		done[layer] = rows
		bar.Describe("loading " + layer)
		bar.Set(copied)
	}
	loadStart := time.Now()
	if err := postgis.Load(ctx, st.Pool(), cat, c, postgis.LoadOptions{SRID: *srid, Progress: progress}); err != nil {
		return err
	}
	bar.Finish()
	took := time.Since(loadStart)
	fmt.Fprintf(stdout, "loaded %d features of %s in %s (%.0f features/s; reading the files took %s)\n",
		total, c.Meta.Name, took.Round(time.Millisecond), float64(total)/took.Seconds(), read.Round(time.Millisecond))
	return nil
}

// isTerminal reports whether w is a terminal, where a progress bar belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
