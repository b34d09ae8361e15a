package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
)

const directoryUsage = `onemap directory: who is told of warnings (docs/notify.md)

  onemap directory check FILE              check a directory.json, naming what is wrong
  onemap directory import --db URL FILE    put FILE in place of the database's directory
  onemap directory export --db URL         write the database's directory as JSON
`

// runDirectory checks a directory file, or imports or exports the
// directory kept in a database.
func runDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, help, err := subcommand("directory", directoryUsage, args, stderr, "check", "import", "export")
	if help || err != nil {
		return err
	}
	fs := flag.NewFlagSet("onemap directory "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var db *string
	if sub != "check" {
		db = dbFlag(fs)
	}
	// FILE may come before the flags or after them.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	rest := fs.Args()
	if file == "" && len(rest) > 0 {
		file, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return fmt.Errorf("directory %s: unexpected argument %q", sub, rest[0])
	}
	var dir *directory.Directory
	if sub != "export" {
		if file == "" {
			return fmt.Errorf("directory %s: name one directory.json", sub)
		}
		if dir, err = (directory.FileStore{Path: file}).Directory(ctx); err != nil {
			return err
		}
		f := dir.File()
		if sub == "check" {
			fmt.Fprintf(stdout, "%s: %d units, %d people\n", file, len(f.Units), len(f.People))
			return nil
		}
	} else if file != "" {
		return fmt.Errorf("directory export: no FILE; it writes to standard output")
	}
	if *db == "" {
		return fmt.Errorf("directory %s: --db or DATABASE_URL is required; without a database the server reads --directory FILE", sub)
	}
	st, err := postgis.Open(ctx, *db, layers.Default(), slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "import" {
		if err := st.Directory().Replace(ctx, dir); err != nil {
			return err
		}
		f := dir.File()
		fmt.Fprintf(stdout, "imported %d units and %d people; the next warning is pushed by them\n", len(f.Units), len(f.People))
		return nil
	}
	if dir, err = st.Directory().Directory(ctx); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(dir.File())
}

// dbDirectory is the directory of a database, or the sample city's while
// the database holds none.
type dbDirectory struct{ db postgis.Directory }

// Directory reads the database's directory; the sample city's when it holds
// none.
func (d dbDirectory) Directory(ctx context.Context) (*directory.Directory, error) {
	dir, err := d.db.Directory(ctx)
	if errors.Is(err, postgis.ErrNoDirectory) {
		return directory.Default(), nil
	}
	return dir, err
}

// directoryStore is where the server's directory comes from: the database
// when it keeps the layers (where --directory is refused), else the file
// --directory names or the sample city's.
func directoryStore(ctx context.Context, cfg Config, st store.Store, log *slog.Logger) (directory.Store, error) {
	pg, ok := st.(*postgis.Store)
	if !ok {
		if cfg.Directory != "" {
			if _, err := (directory.FileStore{Path: cfg.Directory}).Directory(ctx); err != nil {
				return nil, fmt.Errorf("directory %s: %w", cfg.Directory, err)
			}
		}
		return directory.FileStore{Path: cfg.Directory}, nil
	}
	if cfg.Directory != "" {
		return nil, fmt.Errorf("--directory %s: with --db the directory is kept in the database: onemap directory import --db URL %s", cfg.Directory, cfg.Directory)
	}
	_, err := pg.Directory().Directory(ctx)
	switch {
	case errors.Is(err, postgis.ErrNoDirectory):
		log.Warn("the database holds no directory: warnings go to the sample city's units and people until onemap directory import")
	case err != nil:
		return nil, err
	}
	return dbDirectory{pg.Directory()}, nil
}
