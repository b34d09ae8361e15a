package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
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
	if err := st.Features(ctx, "sensor", world, layers.MaxZoom, collect(&fs)); err != nil {
		return nil, fmt.Errorf("read sensors: %w", err)
	}
	if err := st.Features(ctx, "district", world, layers.MaxZoom, collect(&districts)); err != nil {
		return nil, fmt.Errorf("read districts: %w", err)
	}
	reg := live.NewSensors(fs)
	reg.Describe(ctx, st, districts)
	return reg, nil
}

// openLive opens the journal (in PostGIS, or in the data directory) and
// rebuilds the live state from it.
func openLive(ctx context.Context, cfg Config, st store.Store, sensors *live.Sensors, curves *series.Store, log *slog.Logger, onEvent func(live.Event)) (*live.Service, func() error, error) {
	o := live.Options{Sensors: sensors, Attrs: live.AssetAttrs(st), Series: curves, History: curves, Log: log, OnEvent: onEvent}
	if cfg.Rules != "" {
		b, err := os.ReadFile(cfg.Rules)
		if err != nil {
			return nil, nil, fmt.Errorf("rules: %w", err)
		}
		rs, err := live.ParseRules(b)
		if err != nil {
			return nil, nil, fmt.Errorf("rules %s: %w", cfg.Rules, err)
		}
		o.Rules, o.RulesJSON = rs, b
	}
	closeJournal := func() error { return nil }
	if pg, ok := st.(*postgis.Store); ok {
		// On PostGIS the database is the system of record of readings too.
		o.Journal = pg.Journal(series.DefaultRetention)
	} else {
		j, err := wal.Open(filepath.Join(cfg.DataDir, "journal"), wal.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("journal: %w", err)
		}
		o.Journal, closeJournal = live.WALJournal{Log: j}, j.Close
	}
	svc, err := live.NewService(o)
	if err != nil {
		closeJournal()
		return nil, nil, err
	}
	return svc, closeJournal, nil
}
