package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/wal"
	"github.com/paulmach/orb"
)

var world = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}

// loadSensors reads the sensor layer into a registry, with each sensor's
// asset kind and district.
func loadSensors(ctx context.Context, st store.Store) (*live.Sensors, error) {
	var fs, districts []*layers.Feature
	collect := func(dst *[]*layers.Feature) func(*layers.Feature) error {
		return func(f *layers.Feature) error { *dst = append(*dst, f); return nil }
	}
	if err := st.Features(ctx, layers.Sensor, world, layers.MaxZoom, collect(&fs)); err != nil {
		return nil, fmt.Errorf("read sensors: %w", err)
	}
	if err := st.Features(ctx, layers.District, world, layers.MaxZoom, collect(&districts)); err != nil {
		return nil, fmt.Errorf("read districts: %w", err)
	}
	reg := live.NewSensors(fs)
	reg.Describe(ctx, st, districts)
	return reg, nil
}

// openLive opens the journal (the store's own when it offers one, as
// PostGIS does, or a write-ahead log in the data directory) and rebuilds
// the live state from it. The write-ahead log is returned for the health
// check; it is nil when the store keeps the journal. onCommit, if set, is
// told of each group the write-ahead log makes durable.
//
// Shared over a cluster, the cluster's streams are the journal: nothing is
// opened, and the state is rebuilt by following them (followCluster).
func openLive(ctx context.Context, cfg Config, st store.Store, sensors *live.Sensors, curves *series.Store, log *slog.Logger, onEvent func(live.Event), onCommit func(wal.Commit), shared live.Shared) (*live.Service, *wal.Log, func() error, error) {
	o := live.Options{Sensors: sensors, Attrs: live.AssetAttrs(st), Series: curves, History: curves, Log: log, OnEvent: onEvent, Retention: cfg.Retention, Shared: shared}
	if cfg.Rules != "" {
		b, err := os.ReadFile(cfg.Rules)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("rules: %w", err)
		}
		rs, err := live.ParseRulesWithin(b, cfg.Retention)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("rules %s: %w", cfg.Rules, err)
		}
		o.Rules, o.RulesJSON = rs, b
	}
	closeJournal := func() error { return nil }
	var wlog *wal.Log
	switch jp, ok := st.(live.JournalProvider); {
	case shared != nil:
		// The cluster's streams are the journal.
	case ok:
		j, err := jp.LiveJournal(cfg.Retention)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("journal: %w", err)
		}
		o.Journal = j
	default:
		j, err := wal.Open(journalDir(cfg.DataDir), wal.Options{Log: log, OnCommit: onCommit})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("journal: %w", err)
		}
		o.Journal, closeJournal, wlog = live.WALJournal{Log: j, Dir: filepath.Join(cfg.DataDir, "checkpoints")}, j.Close, j
	}
	svc, err := live.NewService(o)
	if err != nil {
		closeJournal()
		return nil, nil, nil, err
	}
	return svc, wlog, closeJournal, nil
}

// checkpoint saves the live state and prunes what it covers, logging what
// it took.
func checkpoint(ctx context.Context, svc *live.Service, log *slog.Logger) {
	info, err := svc.Checkpoint(ctx)
	if err != nil {
		log.Error("checkpoint", "err", err)
		return
	}
	log.Info("checkpoint", "pos", info.Pos, "bytes", info.Bytes, "pause", info.Pause.Round(time.Millisecond),
		"took", info.Took.Round(time.Millisecond), "alarms_pruned", info.Alarms)
}
