package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemap/onemap/incident/attach"
)

var _ attach.Store = (*Attachments)(nil)

// Attachments keeps the files attached to incidents in the
// incident_attachment table, by the SHA-256 of their bytes.
type Attachments struct {
	s   *Store
	opt attach.Options
}

// Attachments returns the store's attachments, checked and stamped as opt
// says.
func (s *Store) Attachments(opt attach.Options) *Attachments {
	return &Attachments{s: s, opt: opt.WithDefaults()}
}

// Put checks data and inserts it unless the same bytes are kept already;
// either way it returns the row kept.
func (a *Attachments) Put(ctx context.Context, data []byte, contentType, by string) (attach.Attachment, error) {
	typ, err := attach.Check(data, contentType, by, a.opt.MaxSize)
	if err != nil {
		return attach.Attachment{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	id := attach.ID(data)
	_, err = a.s.pool.Exec(ctx, `INSERT INTO incident_attachment (id, type, size, data, created, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		id, typ, len(data), data, a.opt.Now().UTC(), by)
	if err != nil {
		return attach.Attachment{}, fmt.Errorf("postgis: put attachment %s: %w", id, err)
	}
	var at attach.Attachment
	err = a.s.pool.QueryRow(ctx, `SELECT id, type, size, created, created_by FROM incident_attachment WHERE id = $1`, id).
		Scan(&at.ID, &at.Type, &at.Size, &at.Created, &at.By)
	if err != nil {
		return attach.Attachment{}, fmt.Errorf("postgis: put attachment %s: %w", id, err)
	}
	at.Created = at.Created.UTC()
	return at, nil
}

// Get reads the attachment with id.
func (a *Attachments) Get(ctx context.Context, id string) (attach.Attachment, []byte, error) {
	if err := attach.CheckID(id); err != nil {
		return attach.Attachment{}, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var at attach.Attachment
	var data []byte
	err := a.s.pool.QueryRow(ctx, `SELECT id, type, size, created, created_by, data FROM incident_attachment WHERE id = $1`, id).
		Scan(&at.ID, &at.Type, &at.Size, &at.Created, &at.By, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return attach.Attachment{}, nil, fmt.Errorf("postgis: attachment %s: %w", id, attach.ErrNotFound)
	}
	if err != nil {
		return attach.Attachment{}, nil, fmt.Errorf("postgis: attachment %s: %w", id, err)
	}
	at.Created = at.Created.UTC()
	return at, data, nil
}
