package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/onemap/onemap/citygen"
)

func runGen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("onemap gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", citygen.DefaultSeed, "random seed; the same seed and scale give the same city byte for byte")
	scale := fs.Int("scale", 1, "scale: the city covers scale² times the area of scale 1, at the same density")
	out := fs.String("out", "", "directory to write the city to (required; data/sample-city is the embedded sample's source)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("gen: say where: --out DIR (data/sample-city regenerates the embedded sample city's source)")
	}
	if *scale < 1 || *scale > 100 {
		return fmt.Errorf("--scale %d: want 1 to 100", *scale)
	}
	start := time.Now()
	if err := citygen.Write(*out, citygen.Options{Seed: *seed, Scale: *scale}); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	fmt.Fprintf(stdout, "wrote city (seed %d, scale %d) to %s in %s\n", *seed, *scale, *out, time.Since(start).Round(time.Millisecond))
	return nil
}
