package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/attach"
	"github.com/onemap/onemap/incident/response"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/notify"
	"github.com/onemap/onemap/server"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/wal"
)

// incidents are the linked response's parts, opened.
type incidents struct {
	book        *incident.Book
	desk        *response.Desk
	attachments attach.Store
}

// openIncidents opens the incident journal (the store's own table when it
// keeps one, as PostGIS does, or a write-ahead log of its own in the data
// directory) and reads the incidents back into a book whose reviews and
// signatures are checked against the roles in force, with the push, the
// plans and the photos beside it. The deliveries start sending at once.
// leading, when set, says whether this instance of a cluster escalates
// what is overdue.
func openIncidents(ctx context.Context, cfg Config, st store.Store, svc *live.Service, sensors *live.Sensors, access server.Access, leading func() bool, log *slog.Logger) (*incidents, func() error, error) {
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
	authz := access.Authorizer
	if authz == nil {
		authz = auth.NewAuthorizer(nil)
	}
	b := incident.NewBook(j, nil, server.Approver(authz))
	secrets, err := readSecrets(cfg.WebhookSecrets)
	if err != nil {
		closeJournal()
		return nil, nil, err
	}
	dir, err := directoryStore(ctx, cfg, st, log)
	if err != nil {
		closeJournal()
		return nil, nil, err
	}
	channels := []notify.Channel{&notify.InApp{}, &notify.Webhook{Secret: func(name string) ([]byte, error) {
		if s, ok := secrets[name]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("no secret %q in --webhook-secrets", name)
	}}}
	// Without a gateway, texts and calls fail with no_channel, visibly in
	// the push status.
	if cfg.SMSGateway != "" {
		channels = append(channels, &notify.SMS{Gateway: &notify.HTTPGateway{URL: cfg.SMSGateway, Token: cfg.SMSToken}})
	}
	if cfg.VoiceGateway != "" {
		channels = append(channels, &notify.Voice{Gateway: &notify.HTTPGateway{URL: cfg.VoiceGateway, Token: cfg.VoiceToken}})
	}
	desk, err := response.New(b, response.Options{
		Directory: dir,
		Channels:  channels,
		Sites:     response.LiveSites{Live: svc, Sensors: sensors},
		Approvers: approvers(access.Accounts, authz),
		Logger:    log,
	})
	if err != nil {
		closeJournal()
		return nil, nil, err
	}
	if err := desk.Load(ctx); err != nil {
		closeJournal()
		return nil, nil, err
	}
	if n := len(b.List()); n > 0 {
		log.Info("incidents read back", "incidents", n)
	}
	out := &incidents{book: b, desk: desk}
	if pg, ok := st.(*postgis.Store); ok {
		out.attachments = pg.Attachments(attach.Options{})
	} else if out.attachments, err = attach.NewDir(cfg.DataDir, attach.Options{}); err != nil {
		closeJournal()
		return nil, nil, err
	}
	desk.Leading = leading
	desk.Start(ctx)
	return out, func() error { desk.Close(); return closeJournal() }, nil
}

// approvers are the users who may take the next step of an incident's
// draft at its level — review it, or sign and publish it once reviewed —
// told in-app; never its drafter, nor a disabled user.
func approvers(acc *auth.Accounts, authz *auth.Authorizer) response.Approvers {
	if acc == nil {
		return nil
	}
	return func(ctx context.Context, in *incident.Incident) ([]directory.Recipient, error) {
		if in.Draft == nil {
			return nil, nil
		}
		perm := auth.PermWarningsSign
		if in.State == incident.InReview && in.Reviewer == "" {
			perm = auth.PermWarningsReview
		}
		users, err := acc.Users.Users(ctx)
		if err != nil {
			return nil, fmt.Errorf("approvers: %w", err)
		}
		var out []directory.Recipient
		for i := range users {
			u := &users[i]
			if u.Disabled || u.Login == in.Draft.Drafter {
				continue
			}
			p := authz.ForUser(u)
			if !authz.AllowedOn(&p, perm, auth.Target{Level: int(in.Draft.Level)}) {
				continue
			}
			inApp := []directory.Channel{directory.ChannelInApp}
			out = append(out, directory.Recipient{
				Person:  directory.Person{ID: "user:" + u.Login, Name: cmp.Or(u.Name, u.Login), Login: u.Login, Channels: inApp},
				Reasons: []directory.Reason{directory.ReasonApprover}, Channels: inApp})
		}
		return out, nil
	}
}

// readSecrets reads the webhook secrets file: a JSON object of a secret's
// name to the secret. It must not be readable by others.
func readSecrets(file string) (map[string]string, error) {
	if file == "" {
		return nil, nil
	}
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("webhook secrets: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("webhook secrets %s: readable by others (mode %v): chmod 600 it", file, fi.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("webhook secrets: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("webhook secrets %s: a JSON object of name to secret: %w", file, err)
	}
	return m, nil
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
