package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"time"

	"github.com/onemap/onemap/sim"
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

// simulateAlongside streams the sample scenarios and the city's normal
// readings at the server itself, starting three minutes in the past at four
// times real time, so that the first alarms show within a minute.
func simulateAlongside(ctx context.Context, url, token string, log *slog.Logger) {
	scs, err := sim.SampleScenarios()
	if err != nil {
		log.Error("simulate", "err", err)
		return
	}
	c, err := sim.SampleCity()
	if err != nil {
		log.Error("simulate", "err", err)
		return
	}
	// Four times real time until the simulation catches up with the present.
	o := sim.Options{URL: url, Token: token, City: c, Scenarios: scs, Start: time.Now().Add(-3 * time.Minute), Speed: 4, Seed: 1, Log: log.With("part", "simulator")}
	if err := sim.Run(ctx, o); err != nil && ctx.Err() == nil {
		log.Error("simulate", "err", err)
	}
}
