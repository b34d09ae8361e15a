package sim

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
)

// Flags defines the simulator's flags on fs and returns the Options they
// fill in when fs is parsed:
//
//	--url URL          the onemap server (default http://localhost:8080)
//	--token T          device token
//	--rate N           readings per second for the whole city (0: each sensor at its interval)
//	--speed X          time multiplier
//	--start T          RFC 3339 time or an offset from now such as -2h
//	--scenario A,B     sample scenarios by id, or paths of scenario .json files
//	--city DIR         a city directory instead of the embedded sample city
//	--seed N, --batch N, --ndjson, --retries N
func Flags(fs *flag.FlagSet) *Options {
	o := &Options{}
	fs.StringVar(&o.URL, "url", "http://localhost:8080", "onemap server to send readings to")
	fs.StringVar(&o.Token, "token", os.Getenv("ONEMAP_DEVICE_TOKEN"), "device token (default $ONEMAP_DEVICE_TOKEN)")
	fs.Float64Var(&o.Rate, "rate", 0, "readings per second for the whole city; 0: each sensor at its own interval")
	fs.Float64Var(&o.Speed, "speed", 1, "time multiplier (never runs ahead of the present)")
	fs.Func("start", "simulated start: RFC 3339 time or an offset from now such as -2h (default now)", func(s string) error {
		t, err := parseStart(s, time.Now())
		o.Start = t
		return err
	})
	fs.Func("scenario", "scenarios to play, comma-separated: sample scenario ids or .json files", func(s string) error {
		scs, err := scenariosFlag(s)
		o.Scenarios = append(o.Scenarios, scs...)
		return err
	})
	fs.Func("city", "city directory (default: the embedded sample city)", func(dir string) error {
		c, err := city.ReadDir(dir, layers.Default(), city.Options{})
		o.City = c
		return err
	})
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed; the same seed gives the same readings")
	fs.IntVar(&o.BatchSize, "batch", DefaultBatchSize, "readings per request")
	fs.BoolVar(&o.NDJSON, "ndjson", false, "send NDJSON instead of a JSON array")
	o.Retries = DefaultRetries
	fs.Func("retries", fmt.Sprintf("retries of a failed request before its batch is given up (logged); 0: none (default %d)", DefaultRetries), func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1000 {
			return fmt.Errorf("%q is not a number of retries from 0 to 1000", s)
		}
		o.Retries = n
		if n == 0 {
			o.Retries = NoRetries
		}
		return nil
	})
	return o
}

func parseStart(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor an offset such as -2h", s)
	}
	return now.Add(d), nil
}

func scenariosFlag(list string) ([]*Scenario, error) {
	var out []*Scenario
	var sample []*Scenario
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if strings.HasSuffix(id, ".json") {
			b, err := os.ReadFile(id)
			if err != nil {
				return nil, err
			}
			name := strings.TrimSuffix(filepath.Base(id), ".json")
			s, err := ParseScenario(name, b)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			continue
		}
		if sample == nil {
			var err error
			if sample, err = SampleScenarios(); err != nil {
				return nil, err
			}
		}
		s, err := Pick(sample, id)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}
