package postgis

import (
	"context"
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

	mu     sync.Mutex
	months map[string]bool // partitions known to exist
}

// Journal returns the store's journal; replay reads back retention.
func (s *Store) Journal(retention time.Duration) *Journal {
	return &Journal{s: s, retention: retention, months: map[string]bool{}}
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

// AppendAck keeps an acknowledgement.
func (j *Journal) AppendAck(ctx context.Context, alarm uint64, a live.Ack) error {
	_, err := j.s.pool.Exec(ctx, `INSERT INTO alarm_ack (alarm, at, by_whom, note) VALUES ($1, $2, $3, $4)`, int64(alarm), a.At, a.By, a.Note)
	if err != nil {
		return fmt.Errorf("postgis: journal: %w", err)
	}
	return nil
}

// Replay reads back the readings of the retention and every
// acknowledgement, in the order they came.
func (j *Journal) Replay(ctx context.Context, onReading func(live.Reading) error, onAck func(uint64, live.Ack) error) error {
	rows, err := j.s.pool.Query(ctx, `
		SELECT lsn, 1, sensor, metric, ts, value, unit FROM reading WHERE ts >= $1
		UNION ALL
		SELECT lsn, 2, alarm, by_whom, at, 0, note FROM alarm_ack
		ORDER BY 1`, time.Now().Add(-j.retention))
	if err != nil {
		return fmt.Errorf("postgis: replay: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var lsn, id int64
		var kind int
		var text, text2 string
		var ts time.Time
		var value float64
		if err := rows.Scan(&lsn, &kind, &id, &text, &ts, &value, &text2); err != nil {
			return fmt.Errorf("postgis: replay: %w", err)
		}
		if kind == 1 {
			err = onReading(live.Reading{Sensor: uint64(id), Metric: text, Time: ts, Value: value, Unit: text2})
		} else {
			err = onAck(uint64(id), live.Ack{By: text, At: ts.UTC(), Note: text2})
		}
		if err != nil {
			return err
		}
	}
	return rows.Err()
}
