package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemap/onemap/live"
)

var _ live.Journal = (*Journal)(nil)

// Journal keeps the live state's journal in PostGIS: readings in a table
// partitioned by month (made as readings need them), acknowledgements
// beside them, both numbered by one sequence in the order they came.
type Journal struct {
	s         *Store
	retention time.Duration
	// now is the clock retention is measured on.
	now func() time.Time

	mu     sync.Mutex
	months map[string]bool // partitions known to exist
}

// Journal returns the store's journal; replay reads back retention.
func (s *Store) Journal(retention time.Duration) *Journal {
	return &Journal{s: s, retention: retention, now: time.Now, months: map[string]bool{}}
}

// LiveJournal offers the store's journal to the live state: on PostGIS the
// database is the system of record of readings and events too.
func (s *Store) LiveJournal(retention time.Duration) (live.Journal, error) {
	return s.Journal(retention), nil
}

// WithClock sets the clock the journal measures retention on, for tests.
func (j *Journal) WithClock(now func() time.Time) *Journal {
	j.now = now
	return j
}

// partition makes sure the month holding t has its partition.
func (j *Journal) partition(ctx context.Context, t time.Time) error {
	m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	name := fmt.Sprintf("reading_%04d_%02d", m.Year(), m.Month())
	j.mu.Lock()
	known := j.months[name]
	j.mu.Unlock()
	if known {
		return nil
	}
	_, err := j.s.pool.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF reading FOR VALUES FROM ('%s') TO ('%s')`,
		qi(name), m.Format(time.RFC3339), m.AddDate(0, 1, 0).Format(time.RFC3339)))
	if err != nil {
		return fmt.Errorf("postgis: partition %s: %w", name, err)
	}
	j.mu.Lock()
	j.months[name] = true
	j.mu.Unlock()
	return nil
}

// AppendReadings copies the readings in, in one transaction; a reading
// already kept (same sensor, metric and time) is left as it was.
func (j *Journal) AppendReadings(ctx context.Context, rs []live.Reading) error {
	for _, r := range rs {
		if err := j.partition(ctx, r.Time); err != nil {
			return err
		}
	}
	tx, err := j.s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE reading_in (sensor bigint, metric text, ts timestamptz, value double precision, unit text) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	i := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"reading_in"}, []string{"sensor", "metric", "ts", "value", "unit"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rs) {
				return nil, nil
			}
			r := rs[i]
			i++
			return []any{int64(r.Sensor), r.Metric, r.Time, r.Value, r.Unit}, nil
		}))
	if err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO reading (sensor, metric, ts, value, unit) SELECT sensor, metric, ts, value, unit FROM reading_in ON CONFLICT DO NOTHING`); err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	return nil
}

// AppendEvents keeps history events, in one transaction.
func (j *Journal) AppendEvents(ctx context.Context, evs []live.HistoryEvent) error {
	return j.insertEvents(ctx, evs, `INSERT INTO journal_event (at, kind, alarm, body) VALUES ($1, $2, $3, $4)`)
}

// ArchiveEvents keeps the events of message seq of a cluster's history
// stream, in one transaction; a message kept before is left as it was.
func (j *Journal) ArchiveEvents(ctx context.Context, seq uint64, evs []live.HistoryEvent) error {
	return j.insertEvents(ctx, evs, `INSERT INTO journal_event (at, kind, alarm, body, cluster_seq, cluster_idx) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (cluster_seq, cluster_idx) WHERE cluster_seq IS NOT NULL DO NOTHING`, int64(seq))
}

// insertEvents runs sql for each event, in one transaction, with its time,
// kind, alarm and body, then seq and its place among evs when seq is given.
func (j *Journal) insertEvents(ctx context.Context, evs []live.HistoryEvent, sql string, seq ...int64) error {
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i := range evs {
		body, err := json.Marshal(&evs[i])
		if err != nil {
			return fmt.Errorf("postgis: journal: %w", err)
		}
		args := []any{evs[i].At, string(evs[i].Kind), int64(evs[i].Alarm), body}
		if len(seq) > 0 {
			args = append(args, seq[0], i)
		}
		b.Queue(sql, args...)
	}
	tx, err := j.s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	return nil
}

// Replay reads back, after position after, the readings of the retention
// and every event, in the order they came.
func (j *Journal) Replay(ctx context.Context, after uint64, onReading func(live.Reading) error, onEvent func(live.HistoryEvent) error) error {
	rows, err := j.s.pool.Query(ctx, `
		SELECT lsn, sensor, metric, ts, value, unit, NULL::jsonb FROM reading WHERE ts >= $1 AND lsn > $2
		UNION ALL
		SELECT lsn, 0, '', at, 0, '', body FROM journal_event WHERE lsn > $2
		ORDER BY 1`, j.now().Add(-j.retention), int64(after))
	if err != nil {
		return fmt.Errorf("postgis: replay: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var lsn, sensor int64
		var metric, unit string
		var ts time.Time
		var value float64
		var body []byte
		if err := rows.Scan(&lsn, &sensor, &metric, &ts, &value, &unit, &body); err != nil {
			return fmt.Errorf("postgis: replay: %w", err)
		}
		if body == nil {
			err = onReading(live.Reading{Sensor: uint64(sensor), Metric: metric, Time: ts, Value: value, Unit: unit})
		} else {
			var ev live.HistoryEvent
			if err := json.Unmarshal(body, &ev); err != nil {
				return fmt.Errorf("postgis: replay: event %d: %w", lsn, err)
			}
			err = onEvent(ev)
		}
		if err != nil {
			return err
		}
	}
	return rows.Err()
}

// Mark returns the journal sequence's next value: every record committed
// before has a lower one.
func (j *Journal) Mark(ctx context.Context) (uint64, error) {
	var pos int64
	if err := j.s.pool.QueryRow(ctx, `SELECT nextval('journal_lsn')`).Scan(&pos); err != nil {
		return 0, fmt.Errorf("postgis: journal: %w", err)
	}
	return uint64(pos), nil
}

// SaveCheckpoint keeps the checkpoint and removes all but the two latest.
func (j *Journal) SaveCheckpoint(ctx context.Context, c live.Checkpoint) error {
	tx, err := j.s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgis: checkpoint: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO journal_checkpoint (lsn, at, data) VALUES ($1, $2, $3) ON CONFLICT (lsn) DO UPDATE SET at = excluded.at, data = excluded.data`,
		int64(c.Pos), c.At, c.Data); err != nil {
		return fmt.Errorf("postgis: checkpoint: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM journal_checkpoint WHERE lsn NOT IN (SELECT lsn FROM journal_checkpoint ORDER BY lsn DESC LIMIT 2)`); err != nil {
		return fmt.Errorf("postgis: checkpoint: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgis: checkpoint: %w", err)
	}
	return nil
}

// LastCheckpoint returns the latest checkpoint, nil when there is none.
func (j *Journal) LastCheckpoint(ctx context.Context) (*live.Checkpoint, error) {
	var c live.Checkpoint
	var pos int64
	err := j.s.pool.QueryRow(ctx, `SELECT lsn, at, data FROM journal_checkpoint ORDER BY lsn DESC LIMIT 1`).Scan(&pos, &c.At, &c.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgis: checkpoint: %w", err)
	}
	c.Pos, c.At = uint64(pos), c.At.UTC()
	return &c, nil
}

// Prune drops the month partitions of readings all older than before. The
// events stay: they are the alarms' archive.
func (j *Journal) Prune(ctx context.Context, _ uint64, before time.Time) error {
	rows, err := j.s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'reading'::regclass`)
	if err != nil {
		return fmt.Errorf("postgis: prune: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgis: prune: %w", err)
	}
	for _, name := range names {
		var y, m int
		if _, err := fmt.Sscanf(name, "reading_%04d_%02d", &y, &m); err != nil {
			continue // not a partition onemap made
		}
		if end := time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC); end.After(before) {
			continue
		}
		if _, err := j.s.pool.Exec(ctx, `DROP TABLE IF EXISTS `+qi(name)); err != nil {
			return fmt.Errorf("postgis: prune %s: %w", name, err)
		}
		j.mu.Lock()
		delete(j.months, name)
		j.mu.Unlock()
	}
	return nil
}
