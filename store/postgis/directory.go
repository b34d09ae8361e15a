package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemap/onemap/directory"
)

// Directory keeps the directory of units and people told of warnings in the
// tables directory_unit, directory_person and directory_level.
type Directory struct{ s *Store }

var _ directory.Store = Directory{}

// Directory returns the store's directory.
func (s *Store) Directory() Directory { return Directory{s} }

// ErrNoDirectory is returned by Directory.Directory when the tables hold no
// directory yet.
var ErrNoDirectory = errors.New("postgis: the database holds no directory: onemap directory import --db URL FILE")

// Directory reads the tables and checks them as directory.New checks a
// file; ErrNoDirectory when they are empty. It reads on every call, so an
// edit of the rows is taken up at the next push.
func (d Directory) Directory(ctx context.Context) (*directory.Directory, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var f directory.File
	tx, err := d.s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgis: directory: %w", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT id, name, name_en, kind, domains, districts, coalesce(parent, ''), coalesce(head, ''),
		coalesce(webhook_url, ''), coalesce(webhook_secret, '') FROM directory_unit ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("postgis: directory units: %w", err)
	}
	for rows.Next() {
		var u directory.Unit
		var kind, url, secret string
		if err := rows.Scan(&u.ID, &u.Name, &u.NameEn, &kind, &u.Domains, &u.Districts, &u.Parent, &u.Head, &url, &secret); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgis: directory units: %w", err)
		}
		u.Kind = directory.Kind(kind)
		if url != "" {
			u.Webhook = &directory.Webhook{URL: url, Secret: secret}
		}
		f.Units = append(f.Units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: directory units: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT id, name, unit, title, phone, coalesce(login, ''), channels, coalesce(superior, ''), expert_domains
		FROM directory_person ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("postgis: directory people: %w", err)
	}
	for rows.Next() {
		var p directory.Person
		var channels []string
		if err := rows.Scan(&p.ID, &p.Name, &p.Unit, &p.Title, &p.Phone, &p.Login, &channels, &p.Superior, &p.Expertise); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgis: directory people: %w", err)
		}
		for _, c := range channels {
			p.Channels = append(p.Channels, directory.Channel(c))
		}
		f.People = append(f.People, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: directory people: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT level, groups FROM directory_level ORDER BY level`)
	if err != nil {
		return nil, fmt.Errorf("postgis: directory levels: %w", err)
	}
	for rows.Next() {
		var l directory.LevelRule
		var groups []string
		if err := rows.Scan(&l.Level, &groups); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgis: directory levels: %w", err)
		}
		for _, g := range groups {
			l.Groups = append(l.Groups, directory.Reason(g))
		}
		f.Levels = append(f.Levels, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: directory levels: %w", err)
	}
	if len(f.Units) == 0 && len(f.People) == 0 && len(f.Levels) == 0 {
		return nil, ErrNoDirectory
	}
	dir, err := directory.New(f)
	if err != nil {
		return nil, fmt.Errorf("postgis: the directory in the database: %w", err)
	}
	return dir, nil
}

// Replace puts dir in place of the directory the tables hold, in one
// transaction: a reader sees the old directory or the new, never a mix.
func (d Directory) Replace(ctx context.Context, dir *directory.Directory) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	f := dir.File()
	err := pgx.BeginFunc(ctx, d.s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET CONSTRAINTS ALL DEFERRED`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM directory_level; DELETE FROM directory_person; DELETE FROM directory_unit`); err != nil {
			return err
		}
		units := make([][]any, len(f.Units))
		for i, u := range f.Units {
			var url, secret *string
			if u.Webhook != nil {
				url, secret = &u.Webhook.URL, &u.Webhook.Secret
			}
			units[i] = []any{u.ID, i, u.Name, u.NameEn, string(u.Kind), nonNil(u.Domains), nonNil(u.Districts), orNull(u.Parent), orNull(u.Head), url, secret}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"directory_unit"},
			[]string{"id", "position", "name", "name_en", "kind", "domains", "districts", "parent", "head", "webhook_url", "webhook_secret"},
			pgx.CopyFromRows(units)); err != nil {
			return fmt.Errorf("units: %w", err)
		}
		people := make([][]any, len(f.People))
		for i, p := range f.People {
			channels := make([]string, len(p.Channels))
			for j, c := range p.Channels {
				channels[j] = string(c)
			}
			people[i] = []any{p.ID, i, p.Name, p.Unit, p.Title, p.Phone, orNull(p.Login), channels, orNull(p.Superior), nonNil(p.Expertise)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"directory_person"},
			[]string{"id", "position", "name", "unit", "title", "phone", "login", "channels", "superior", "expert_domains"},
			pgx.CopyFromRows(people)); err != nil {
			return fmt.Errorf("people: %w", err)
		}
		for _, l := range f.Levels {
			groups := make([]string, len(l.Groups))
			for j, g := range l.Groups {
				groups[j] = string(g)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO directory_level (level, groups) VALUES ($1, $2)`, l.Level, groups); err != nil {
				return fmt.Errorf("levels: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: replace the directory: %w", err)
	}
	return nil
}

// orNull is nil for "", so that an absent reference is NULL.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nonNil is l, or an empty list for nil, for the NOT NULL array columns.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
