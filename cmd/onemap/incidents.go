package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/server"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/wal"
)

// openIncidents opens the incident journal (the store's own table when it
// keeps one, as PostGIS does, or a write-ahead log of its own in the data
// directory) and reads the incidents back into a book whose reviews and
// signatures are checked against the roles in force.
func openIncidents(ctx context.Context, cfg Config, st store.Store, authz *auth.Authorizer, log *slog.Logger) (*incident.Book, func() error, error) {
	var j incident.Journal
	closeJournal := func() error { return nil }
	if p, ok := st.(interface{ IncidentJournal() incident.Journal }); ok {
		j = p.IncidentJournal()
	} else {
		l, err := wal.Open(incidentDir(cfg.DataDir), wal.Options{Log: log})
		if err != nil {
			return nil, nil, fmt.Errorf("incident journal: %w", err)
		}
		j, closeJournal = incident.WALJournal{Log: l}, l.Close
	}
	if authz == nil {
		authz = auth.NewAuthorizer(nil)
	}
	b := incident.NewBook(j, nil, server.Approver(authz))
	if err := b.Load(ctx, nil); err != nil {
		closeJournal()
		return nil, nil, err
	}
	if n := len(b.List()); n > 0 {
		log.Info("incidents read back", "incidents", n)
	}
	return b, closeJournal, nil
}

// levelRules reads the warning level rules file, or takes the defaults.
func levelRules(file string) (*incident.LevelRules, error) {
	if file == "" {
		return incident.DefaultLevelRules(), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("level rules: %w", err)
	}
	r, err := incident.ParseLevelRules(b)
	if err != nil {
		return nil, fmt.Errorf("level rules %s: %w", file, err)
	}
	return r, nil
}
