package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/cityimport"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis"
)

// runImport brings a city's own survey in through a mapping file: to a
// checked city directory, or straight into PostGIS; or drafts the mapping.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("onemap import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mapping := fs.String("mapping", "", "the mapping file (YAML, docs/import.md): which source layer becomes which layer")
	out := fs.String("out", "", "write the city directory here (new or empty)")
	db := fs.String("db", "", "load the city into this PostGIS database instead (postgres://…)")
	report := fs.String("report", "", "write every problem found to this JSON file")
	suggest := fs.Bool("suggest", false, "draft a mapping file from the sources named after the flags, on standard output")
	crs := fs.String("crs", "", "with --suggest: the sources' CRS where they do not say, e.g. EPSG:4548")
	encoding := fs.String("encoding", "", "with --suggest: a Shapefile's encoding where it has no .cpg, e.g. GBK")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	cat := layers.Default()
	if *suggest {
		if fs.NArg() == 0 {
			return errors.New("import --suggest: name the survey's files, e.g. onemap import --suggest gas_line.shp gas_point.shp")
		}
		draft, err := cityimport.Suggest(ctx, fs.Args(), *crs, *encoding, cat)
		if err != nil {
			return fmt.Errorf("import --suggest: %w", err)
		}
		_, err = stdout.Write(draft)
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("import: unexpected argument %q (the sources are named in the mapping file)", fs.Arg(0))
	}
	if *mapping == "" || (*out == "") == (*db == "") {
		return errors.New("import: say onemap import --mapping FILE --out DIR, or --mapping FILE --db URL")
	}
	if *out != "" {
		if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
			return fmt.Errorf("import: --out %s holds files already: name a new or empty directory", *out)
		}
	}
	f, err := os.Open(*mapping)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	m, err := cityimport.ReadMapping(f, filepath.Dir(*mapping), cat)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *mapping, err)
	}
	c, err := cityimport.Import(ctx, m, cat)
	var refused *city.RefusedError
	if errors.As(err, &refused) {
		refused.Problems.WriteSummary(stderr, 5)
		if *report != "" {
			if werr := refused.Problems.WriteReport(*report, filepath.Dir(*mapping)); werr != nil {
				return werr
			}
			fmt.Fprintf(stderr, "every problem is in %s and, to open on a map, %s\n", *report, city.TwinPath(*report))
		}
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	// What is written must read back as a city, with the same checks as
	// serve, before it goes anywhere: into --out, or a scratch directory on
	// its way to the database.
	dir := *out
	if dir == "" {
		tmp, err := os.MkdirTemp("", "onemap-import-*")
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if err := city.Write(dir, c, cat); err != nil {
		return fmt.Errorf("import: write %s: %w", dir, err)
	}
	_, ps := city.CheckDir(dir, cat, city.Options{})
	if *report != "" {
		if err := ps.WriteReport(*report, filepath.Dir(*mapping)); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d errors, %d warnings; every one is in %s and, to open on a map, %s\n", ps.Errors(), ps.Warnings(), *report, city.TwinPath(*report))
	}
	if err := ps.Err(); err != nil {
		return fmt.Errorf("import: the city written does not pass its checks: %w", err)
	}
	if *db != "" {
		st, err := postgis.Open(ctx, *db, cat, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return err
		}
		defer st.Close()
		if err := postgis.Load(ctx, st.Pool(), cat, c, postgis.LoadOptions{}); err != nil {
			return err
		}
	}
	var counts []string
	for _, l := range cat.Layers() {
		if n := len(c.Features[l.ID]); n > 0 {
			counts = append(counts, fmt.Sprintf("%s %d", l.ID, n))
		}
	}
	where := *out
	if where == "" {
		where = "the database"
	}
	fmt.Fprintf(stdout, "imported %d features to %s: %s\n", c.Count(), where, strings.Join(counts, ", "))
	return nil
}
