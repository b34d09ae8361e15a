package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"text/tabwriter"

	"github.com/onemap/onemap/wal"
)

const journalUsage = `Usage:
  onemap journal check [--data-dir DIR]    tell what is intact and what is damaged; exit 1 on damage
  onemap journal repair [--data-dir DIR]   move damaged segments aside, as the server does at start

Both refuse to run while a server has the data directory open.
`

// journalDir is where the embedded default keeps its write-ahead log.
func journalDir(dataDir string) string { return filepath.Join(dataDir, "journal") }

// incidentsDir, in a data directory, holds the incident journal's log.
const incidentsDir = "incidents"

// incidentDir is where the embedded default keeps the incident journal.
func incidentDir(dataDir string) string { return filepath.Join(dataDir, incidentsDir) }

// runJournal checks or repairs the write-ahead log of a data directory.
func runJournal(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "repair") {
		fmt.Fprint(stderr, journalUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errors.New("journal: say check or repair")
	}
	sub, args := args[0], args[1:]
	dataDir := defaultConfig().DataDir
	fs := flag.NewFlagSet("onemap journal "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data directory (ONEMAP_DATA_DIR)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	dir := journalDir(dataDir)
	var rep wal.Report
	var err error
	if sub == "check" {
		rep, err = wal.Check(dir)
	} else {
		log := slog.New(slog.NewTextHandler(stderr, nil))
		rep, err = wal.Repair(dir, wal.Options{Log: log})
	}
	if errors.Is(err, wal.ErrLocked) {
		return fmt.Errorf("journal %s is in use: stop the server that has it open, then run this again", dir)
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", dir, err)
	}
	printReport(stdout, rep, sub == "repair")
	if n := rep.Damaged(); n > 0 && sub == "check" {
		_, lost, _ := rep.Totals()
		return fmt.Errorf("journal %s: %d damaged segment(s), %d record(s) lost; "+
			"onemap journal repair moves them aside (the server does so at start)", dir, n, lost)
	}
	return nil
}

// printReport writes a report as a table, one segment a line, then the totals.
func printReport(w io.Writer, rep wal.Report, repaired bool) {
	fmt.Fprintf(w, "journal %s\n", rep.Dir)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "segment\trecords\tbytes\tLSN\tstate")
	var first, last uint64
	for _, s := range rep.Segments {
		lsns := "-"
		if s.Records > 0 {
			lsns = fmt.Sprintf("%d-%d", s.FirstLSN, s.LastLSN)
			if first == 0 {
				first = s.FirstLSN
			}
			last = s.LastLSN
		}
		state := "intact"
		switch {
		case s.Damage != nil && repaired:
			state = fmt.Sprintf("damaged at offset %d (lsn %d): %s; quarantined as %s; %d record(s) lost",
				s.Damage.Offset, s.Damage.LSN, s.Damage.Reason, s.Quarantined, s.Lost)
		case s.Damage != nil:
			state = fmt.Sprintf("DAMAGED at offset %d (lsn %d): %s; %d record(s) cannot be read",
				s.Damage.Offset, s.Damage.LSN, s.Damage.Reason, s.Lost)
		case s.Quarantined != "":
			state = fmt.Sprintf("quarantined earlier as %s; %d record(s) lost", s.Quarantined, s.Lost)
		}
		if s.TornBytes > 0 {
			verb := "cut at the next start"
			if repaired {
				verb = "cut"
			}
			state += fmt.Sprintf("; a write torn by a crash at the end, %d bytes, never acknowledged: %s", s.TornBytes, verb)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", filepath.Base(s.Path), s.Records, s.Bytes, lsns, state)
	}
	tw.Flush()
	records, lost, bytes := rep.Totals()
	fmt.Fprintf(w, "%d segment(s), %d record(s), %d bytes, LSN %d-%d; %d damaged, %d record(s) lost\n",
		len(rep.Segments), records, bytes, first, last, rep.Damaged(), lost)
}
