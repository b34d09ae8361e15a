package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store"
	"github.com/paulmach/orb"
)

var _ store.Store = (*Store)(nil)

// queryTimeout bounds one query on top of the caller's context.
const queryTimeout = 30 * time.Second

// Store is a city held in PostGIS.
type Store struct {
	pool *pgxpool.Pool
	cat  *layers.Catalog
	log  *slog.Logger

	mu       sync.RWMutex
	meta     city.Meta
	versions map[string]uint64
	counts   map[string]int
	bounds   map[string]orb.Bound // of the layers with features

	selects map[string]string // per layer: the SELECT list of Features
	stop    context.CancelFunc
	done    chan struct{}
}

// Open connects to the database at url, applies the migrations and starts
// following layer changes. The database needs the postgis extension
// available (the first migration creates it).
func Open(ctx context.Context, url string, cat *layers.Catalog, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := checkConnect(ctx, url); err != nil {
		return nil, err
	}
	if err := Migrate(ctx, url); err != nil {
		return nil, err
	}
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis: %w", err)
	}
	// Tile queries cross the JIT cost limits and pay hundreds of ms compiling;
	// parallel plans cost more than they give on one tile.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	cfg.ConnConfig.RuntimeParams["application_name"] = "onemap"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: connect: %w", err)
	}
	s := &Store{pool: pool, cat: cat, log: log, selects: map[string]string{}, done: make(chan struct{})}
	for _, l := range cat.Layers() {
		s.selects[l.ID] = selectCols(l, "")
	}
	if err := s.refresh(ctx, ""); err != nil {
		pool.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.listen(lctx)
	return s, nil
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops following changes and closes the pool.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	s.pool.Close()
	return nil
}

// refresh reads the city's description, the layer versions and counts; with
// a layer named, only that layer's.
func (s *Store) refresh(ctx context.Context, layer string) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var metaJSON []byte
	err := s.pool.QueryRow(ctx, `SELECT meta FROM city`).Scan(&metaJSON)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgis: read city: %w", err)
	}
	var meta city.Meta
	if metaJSON != nil {
		if err := json.Unmarshal(metaJSON, &meta); err != nil {
			return fmt.Errorf("postgis: read city: %w", err)
		}
	}
	versions := map[string]uint64{}
	rows, err := s.pool.Query(ctx, `SELECT layer, version FROM layer_version WHERE $1 = '' OR layer = $1`, layer)
	if err != nil {
		return fmt.Errorf("postgis: read layer versions: %w", err)
	}
	for rows.Next() {
		var l string
		var v int64
		if err := rows.Scan(&l, &v); err != nil {
			return err
		}
		versions[l] = uint64(v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgis: read layer versions: %w", err)
	}
	counts := map[string]int{}
	bounds := map[string]orb.Bound{}
	for l := range versions {
		if _, err := s.cat.Layer(l); err != nil {
			continue
		}
		var n int
		var minX, minY, maxX, maxY *float64
		if err := s.pool.QueryRow(ctx, `SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM `+qi(l)+`) q`).
			Scan(&n, &minX, &minY, &maxX, &maxY); err != nil {
			return fmt.Errorf("postgis: count %s: %w", l, err)
		}
		counts[l] = n
		if minX != nil && minY != nil && maxX != nil && maxY != nil {
			bounds[l] = orb.Bound{Min: orb.Point{*minX, *minY}, Max: orb.Point{*maxX, *maxY}}
		}
	}
	// Refreshes run concurrently (the change feed, Sync); versions only
	// grow, so a refresh that read older rows must not win.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.versions == nil {
		s.versions, s.counts, s.bounds = map[string]uint64{}, map[string]int{}, map[string]orb.Bound{}
	}
	newer := false
	for l, v := range versions {
		if v >= s.versions[l] {
			newer = newer || v > s.versions[l]
			s.versions[l] = v
			s.counts[l] = counts[l]
			if b, ok := bounds[l]; ok {
				s.bounds[l] = b
			} else {
				delete(s.bounds, l)
			}
		}
	}
	if newer || s.meta.Name == "" {
		s.meta = meta
	}
	return nil
}

// listen follows NOTIFY onemap_layer, sent by the triggers on every change
// of a layer's table, and refreshes that layer's version, so caches keyed by
// it miss from then on. It reconnects after a lost connection and refreshes
// every layer then, since notifications may have been missed.
func (s *Store) listen(ctx context.Context) {
	defer close(s.done)
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("postgis: lost the change feed; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN onemap_layer`); err != nil {
		return err
	}
	if err := s.refresh(ctx, ""); err != nil {
		return err
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if err := s.refresh(ctx, n.Payload); err != nil {
			return err
		}
		s.log.Debug("postgis: layer changed", "layer", n.Payload, "version", s.Version(n.Payload))
	}
}

// Meta describes the city loaded last.
func (s *Store) Meta() city.Meta {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta
}

// Version returns a layer's version; it grows on every change to its table.
func (s *Store) Version(layer string) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.versions[layer]
}

// Count returns the number of features of a layer, as of its last change.
func (s *Store) Count(_ context.Context, layer string) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.counts[layer], nil
}

// Bounds returns the box that holds every feature of a layer, as of the
// layer's last change.
func (s *Store) Bounds(_ context.Context, layer string) (orb.Bound, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.bounds[layer]
	return b, ok, nil
}

// Features calls fn for each feature of the layer whose bounds intersect b
// and whose minimum zoom is at most z.
func (s *Store) Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error {
	l, err := s.cat.Layer(layer)
	if err != nil {
		return err
	}
	if l.Derived {
		return nil // computed elsewhere, never stored
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+s.selects[layer]+` FROM `+qi(layer)+
		` WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND minzoom <= $5`,
		b.Min[0], b.Min[1], b.Max[0], b.Max[1], z)
	if err != nil {
		return fmt.Errorf("postgis: features of %s: %w", layer, err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanFeature(rows, l)
		if err != nil {
			return fmt.Errorf("postgis: features of %s: %w", layer, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgis: features of %s: %w", layer, err)
	}
	return nil
}

// Feature returns the feature with the given id. It looks first in the
// layer the id's code names, then in every layer, since data loaded from
// elsewhere need not number features by layer.
func (s *Store) Feature(ctx context.Context, id uint64) (*layers.Feature, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	order := s.cat.Layers()
	if l, err := s.cat.LayerOf(id); err == nil {
		order = append([]*layers.Layer{l}, order...)
	}
	for _, l := range order {
		if l.Derived {
			continue
		}
		rows, err := s.pool.Query(ctx, `SELECT `+s.selects[l.ID]+` FROM `+qi(l.ID)+` WHERE id = $1`, int64(id))
		if err != nil {
			return nil, fmt.Errorf("postgis: feature %d: %w", id, err)
		}
		var f *layers.Feature
		if rows.Next() {
			f, err = scanFeature(rows, l)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("postgis: feature %d: %w", id, err)
		}
		if f != nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("feature %d: %w", id, store.ErrNotFound)
}

// selectCols is the select list of a layer's features; alias (such as
// "s.") qualifies the columns.
func selectCols(l *layers.Layer, alias string) string {
	cols := []string{alias + "id", alias + "minzoom", "ST_AsBinary(" + alias + "geom)"}
	for _, f := range l.Fields {
		cols = append(cols, alias+qi(f.Name))
	}
	cols = append(cols, alias+"extra")
	return strings.Join(cols, ", ")
}

// scanFeature reads a row that starts with the columns of selectCols.
func scanFeature(rows pgx.Rows, l *layers.Layer) (*layers.Feature, error) {
	vals, err := rows.Values()
	if err != nil {
		return nil, err
	}
	return scanValues(vals, l)
}

// scanValues reads the values of a row that starts with the columns of selectCols.
func scanValues(vals []any, l *layers.Layer) (*layers.Feature, error) {
	id, _ := vals[0].(int64)
	mz, _ := vals[1].(int16)
	wkbBytes, _ := vals[2].([]byte)
	g, err := decodeWKB(wkbBytes)
	if err != nil {
		return nil, fmt.Errorf("feature %d: %w", id, err)
	}
	f := &layers.Feature{ID: uint64(id), Layer: l.ID, MinZoom: uint8(mz), Geometry: g, Props: make(map[string]any, len(l.Fields))}
	if extra, ok := vals[3+len(l.Fields)].(map[string]any); ok {
		for k, v := range extra {
			f.Props[k] = v
		}
	}
	for i, fd := range l.Fields {
		switch v := vals[3+i].(type) {
		case nil:
		case int16:
			f.Props[fd.Name] = float64(v)
		case int32:
			f.Props[fd.Name] = float64(v)
		case int64:
			f.Props[fd.Name] = float64(v)
		default:
			f.Props[fd.Name] = v
		}
	}
	return f, nil
}

// Sync re-reads the city's description and every layer's version and count,
// for a caller that has just changed the database and cannot wait for the
// change feed.
func (s *Store) Sync(ctx context.Context) error { return s.refresh(ctx, "") }
