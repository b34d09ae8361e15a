package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/citygen"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
)

// presets are the sizes of city gen writes by name: the sample city, a
// large city (about Hefei's 7,000 km of pipe) and a province (over 100,000
// km of pipe and 150,000 sensors, as Anhui's province platform holds).
var presets = map[string]int{"sample": 1, "city": 4, "province": 14}

func runGen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("onemap gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", citygen.DefaultSeed, "random seed; the same seed and scale give the same city byte for byte")
	scale := fs.Int("scale", 1, "scale: the city covers scale² times the area of scale 1, at the same density")
	preset := fs.String("preset", "", "a named size instead of --scale: sample (scale 1), city (4: about 7,000 km of pipe), province (14: over 100,000 km of pipe and 150,000 sensors)")
	out := fs.String("out", "", "directory to write the city to (required; data/sample-city is the embedded sample's source)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("gen: say where: --out DIR (data/sample-city regenerates the embedded sample city's source)")
	}
	scaled := false
	fs.Visit(func(f *flag.Flag) { scaled = scaled || f.Name == "scale" })
	switch p, ok := presets[*preset]; {
	case *preset != "" && !ok:
		return fmt.Errorf("--preset %q: want sample, city or province", *preset)
	case ok && scaled:
		return fmt.Errorf("--preset and --scale exclude each other: --preset %s is --scale %d", *preset, p)
	case ok:
		*scale = p
	}
	if *scale < 1 || *scale > 100 {
		return fmt.Errorf("--scale %d: want 1 to 100", *scale)
	}
	start := time.Now()
	c, err := citygen.Generate(citygen.Options{Seed: *seed, Scale: *scale})
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := city.Write(*out, c, layers.Default()); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	pipes, ducts := 0.0, 0.0
	for _, l := range layers.Default().Layers() {
		km := &pipes
		switch {
		case l.ID == layers.PowerDuct || l.ID == layers.TelecomDuct:
			km = &ducts
		case l.Nodes == "":
			continue
		}
		for _, f := range c.Features[l.ID] {
			*km += spatial.Length(f.Geometry) / 1000
		}
	}
	fmt.Fprintf(stdout, "wrote city (seed %d, scale %d) to %s in %s: %d features, %d sensors, %.0f km of pipes and %.0f km of ducts\n",
		*seed, *scale, *out, time.Since(start).Round(time.Millisecond), c.Count(), len(c.Features[layers.Sensor]), pipes, ducts)
	return nil
}
