package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
)

// DefaultRetries is how many times a failed request is tried again when
// Options say nothing; NoRetries says none.
const (
	DefaultRetries = 10
	NoRetries      = -1
)

// Options say what to simulate and where to send it.
type Options struct {
	// URL is the server's base URL (readings go to URL + /api/v1/readings)
	// or the full URL of the readings endpoint.
	URL string
	// Token is the device token sent as "Authorization: Bearer <token>";
	// none when empty.
	Token string
	// City is the city whose sensors report; Run uses the embedded sample
	// city when it is nil.
	City *city.City
	// Rate is how many readings per second of wall time the whole city
	// sends, every sensor taking its turn; 0 lets each sensor report at its
	// own interval_s.
	Rate float64
	// Speed multiplies simulated time: 60 plays an hour a minute. Run never
	// dates a reading in the future: a fast simulation that catches up with
	// the present goes on in real time. 0 means 1.
	Speed float64
	// Start is the simulated time of the first reading, and what scenario
	// delays count from; Run uses the present when it is zero.
	Start time.Time
	// Scenarios are played over the normal readings.
	Scenarios []*Scenario
	// Seed makes a different but equally repeatable city day.
	Seed uint64
	// BatchSize is the most readings per request; 0 means 1,000.
	BatchSize int
	// NDJSON sends batches as newline-delimited JSON instead of a JSON array.
	NDJSON bool
	// Retries is how many times a failed request is tried again, with
	// backoff, before its batch is given up (and logged); 0 means
	// DefaultRetries, NoRetries (or any negative number) none.
	Retries int
	// Client sends the requests; nil means one with a 30 s timeout.
	Client *http.Client
	// Log receives progress, refused readings and failures; nil means
	// slog.Default().
	Log *slog.Logger
}

// DefaultBatchSize is the number of readings per request when
// Options.BatchSize is 0.
const DefaultBatchSize = 1000

// endpoint returns the readings URL.
func (o *Options) endpoint() (string, error) {
	if o.URL == "" {
		return "", errors.New("sim: no URL to send readings to")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("sim: URL %q is not an http or https URL", o.URL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/v1/readings"
	}
	return u.String(), nil
}

// withDefaults fills in what Run needs and the caller left out.
func (o Options) withDefaults() (Options, error) {
	if o.City == nil {
		c, err := SampleCity()
		if err != nil {
			return o, err
		}
		o.City = c
	}
	if o.Rate < 0 || o.Speed < 0 {
		return o, errors.New("sim: rate and speed cannot be negative")
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o, nil
}

// SampleCity reads the embedded sample city.
func SampleCity() (*city.City, error) {
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		return nil, fmt.Errorf("sim: sample city: %w", err)
	}
	return c, nil
}
