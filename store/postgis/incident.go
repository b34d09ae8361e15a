package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemap/onemap/incident"
)

// IncidentJournal keeps the incident records in the table incident_record,
// one row a record, never changed or removed.
type IncidentJournal struct{ s *Store }

var _ incident.Journal = IncidentJournal{}

// IncidentJournal returns the store's incident journal.
func (s *Store) IncidentJournal() incident.Journal { return IncidentJournal{s} }

// AppendRecords inserts recs in one transaction: all or none. A record
// whose Seq is taken already is refused, and with it the rest, with
// incident.ErrTaken.
func (j IncidentJournal) AppendRecords(ctx context.Context, recs []incident.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := incident.CheckRecords(recs); err != nil {
		return err
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{int64(r.Seq), r.Incident, r.Kind, r.At, string(r.Data)}
	}
	_, err := j.s.pool.CopyFrom(ctx, pgx.Identifier{"incident_record"}, []string{"seq", "incident", "kind", "at", "body"}, pgx.CopyFromRows(rows))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		// Another instance on this database kept its record first.
		return fmt.Errorf("postgis: incident record %d: %w", recs[0].Seq, incident.ErrTaken)
	}
	if err != nil {
		return fmt.Errorf("postgis: incident records: %w", err)
	}
	return nil
}

// ReplayRecords reads the records after after, in order.
func (j IncidentJournal) ReplayRecords(ctx context.Context, after uint64, fn func(incident.Record) error) error {
	rows, err := j.s.pool.Query(ctx, `SELECT seq, incident, kind, at, body::text FROM incident_record WHERE seq > $1 ORDER BY seq`, int64(after))
	if err != nil {
		return fmt.Errorf("postgis: incident records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq      int64
			id, kind string
			at       time.Time
			body     string
		)
		if err := rows.Scan(&seq, &id, &kind, &at, &body); err != nil {
			return fmt.Errorf("postgis: incident records: %w", err)
		}
		if err := fn(incident.Record{Seq: uint64(seq), Incident: id, Kind: kind, At: at.UTC(), Data: json.RawMessage(body)}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgis: incident records: %w", err)
	}
	return nil
}
