package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/wal"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

var world = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}

// loadSensors reads the sensor layer into a registry, with each sensor's
// asset kind (rules differ for a manhole and a restaurant) and district.
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
	for _, sn := range reg.All() {
		if sn.Asset != 0 {
			if a, err := st.Feature(ctx, sn.Asset); err == nil {
				sn.AssetKind, _ = a.Props["kind"].(string)
			}
		}
		for _, d := range districts {
			if contains(d.Geometry, sn.Location) {
				sn.District, _ = d.Props["name"].(string)
				break
			}
		}
	}
	return reg, nil
}

func contains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}

// assetAttrs gives relative rules the numbers of a sensor's asset (nominal
// pressure, rated load), read once per asset.
func assetAttrs(st store.Store) func(*live.Sensor) map[string]float64 {
	var cache sync.Map
	return func(sn *live.Sensor) map[string]float64 {
		if v, ok := cache.Load(sn.Asset); ok {
			return v.(map[string]float64)
		}
		attrs := map[string]float64{}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if f, err := st.Feature(ctx, sn.Asset); err == nil {
			for k, v := range f.Props {
				if x, ok := v.(float64); ok {
					attrs[k] = x
				}
			}
		}
		cache.Store(sn.Asset, attrs)
		return attrs
	}
}

// seriesOf lets the live state append to the curves.
type seriesOf struct{ s *series.Store }

func (a seriesOf) Append(sensor uint64, metric string, t time.Time, v float64) {
	a.s.Append(series.Key{Sensor: sensor, Metric: metric}, t, v)
}

// openLive opens the journal in the data directory and rebuilds the live
// state from it.
func openLive(ctx context.Context, cfg Config, st store.Store, sensors *live.Sensors, curves *series.Store, log *slog.Logger, onEvent func(live.Event)) (*live.Service, func() error, error) {
	o := live.Options{Sensors: sensors, Attrs: assetAttrs(st), Series: seriesOf{curves}, Log: log, OnEvent: onEvent}
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
	j, err := wal.Open(filepath.Join(cfg.DataDir, "journal"), wal.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	o.Journal = j
	svc, err := live.NewService(o)
	if err != nil {
		j.Close()
		return nil, nil, err
	}
	return svc, j.Close, nil
}
