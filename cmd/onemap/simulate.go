package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/sim"
	"github.com/onemap/onemap/store"
	"github.com/paulmach/orb"
)

func runSimulate(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("onemap simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := sim.Flags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	o.Log = slog.New(slog.NewTextHandler(stderr, nil))
	return sim.Run(ctx, *o)
}

// simulateAlongside streams the city's normal readings at the server
// itself — and, on the sample city, its scenarios — starting three minutes
// in the past at four times real time, so that the first alarms show within
// a minute. The city is the one served, read back from the store.
func simulateAlongside(ctx context.Context, url, token string, st store.Store, log *slog.Logger) {
	c, err := cityOf(ctx, st, layers.Default())
	if err != nil {
		log.Error("simulate", "err", err)
		return
	}
	var scs []*sim.Scenario
	if sample, err := sim.SampleCity(); err == nil && sample.Meta.Name == c.Meta.Name && sample.Meta.Seed == c.Meta.Seed && sample.Count() == c.Count() {
		if scs, err = sim.SampleScenarios(); err != nil {
			log.Error("simulate", "err", err)
			return
		}
	} else {
		log.Info("simulating the city's sensors without scenarios: the sample scenarios are the sample city's", "sensors", len(c.Features[layers.Sensor]))
	}
	// Four times real time until the simulation catches up with the present.
	o := sim.Options{URL: url, Token: token, City: c, Scenarios: scs, Start: time.Now().Add(-3 * time.Minute), Speed: 4, Seed: 1, Log: log.With("part", "simulator")}
	if err := sim.Run(ctx, o); err != nil && ctx.Err() == nil {
		log.Error("simulate", "err", err)
	}
}

// cityOf reads the whole city back from a store: every feature of every
// layer the city brings.
func cityOf(ctx context.Context, st store.Store, cat *layers.Catalog) (*city.City, error) {
	c := &city.City{Meta: st.Meta(), Features: map[string][]*layers.Feature{}}
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	for _, l := range cat.Layers() {
		if l.Derived {
			continue
		}
		err := st.Features(ctx, l.ID, world, layers.MaxZoom, func(f *layers.Feature) error {
			c.Features[l.ID] = append(c.Features[l.ID], f)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("simulate: read %s: %w", l.ID, err)
		}
	}
	return c, nil
}
