package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const usage = `onemap serves the one map of a city's safety risks.

Usage:
  onemap [serve] [flags]     serve the map (the default)
  onemap gen --out DIR       generate a city (the sample city: seed 1, scale 1)
  onemap migrate --db URL    bring a PostGIS database to the newest schema
  onemap load --db URL       load a city (the sample city by default) into PostGIS
  onemap import --mapping FILE --out DIR|--db URL   bring a city's survey in
                             (Shapefile, GeoPackage, PostGIS, GeoJSON); --suggest drafts the mapping
  onemap simulate [flags]    stream realistic readings and scenarios at a server
  onemap journal check|repair [--data-dir DIR]
                             check the journal; move damaged segments aside
  onemap backup --out FILE   copy the data directory, while a server runs
  onemap restore FILE --data-dir DIR   bring a backup back into a new directory
  onemap users add|passwd|roles|list|disable   manage the users of --data-dir
  onemap tokens add|list|revoke                manage device and integration tokens
  onemap audit verify        check the audit log's hash chain
  onemap directory check|import|export   the units and people told of warnings
  onemap help                this text

Run "onemap COMMAND -h" for a command's flags.
`

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		args = []string{"help"}
	}
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr)
	case "gen":
		return runGen(args, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, stdout, stderr)
	case "load":
		return runLoad(ctx, args, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, args, stderr)
	case "journal":
		return runJournal(args, stdout, stderr)
	case "backup":
		return runBackup(args, stdout, stderr)
	case "restore":
		return runRestore(args, stdout, stderr)
	case "users":
		return runUsers(ctx, args, stdout, stderr)
	case "tokens":
		return runTokens(ctx, args, stdout, stderr)
	case "audit":
		return runAudit(ctx, args, stdout, stderr)
	case "directory":
		return runDirectory(ctx, args, stdout, stderr)
	case "import":
		return runImport(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		fmt.Fprint(stdout, "\nThe flags of onemap serve, the default command:\n")
		fs := flag.NewFlagSet("onemap serve", flag.ContinueOnError)
		cfg := defaultConfig()
		cfg.flags(fs)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// parseFlags parses a command's flags; -h prints them and is not an error.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return false, err
}
