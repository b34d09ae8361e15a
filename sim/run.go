package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// tickEvery is how often Run generates what simulated time has passed. A
// fifth of a second keeps batches flowing smoothly without many tiny
// requests at low rates.
const tickEvery = 200 * time.Millisecond

// ErrRefused is returned by Run when the server refuses the device token
// (401 or 403): every further batch would be refused too.
var ErrRefused = errors.New("sim: the server refused the device token")

// batch is one request's readings.
type batch struct{ readings []Reading }

// Run streams the readings of o.City to o.URL until ctx is cancelled, then
// returns nil. Batches go out one after another; a batch that fails is tried
// again with backoff (network errors, 429 and 5xx), split in two on 413, and
// given up with an error in the log after o.Retries. Run returns an error at
// once for bad options or a refused device token.
func Run(ctx context.Context, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	endpoint, err := o.endpoint()
	if err != nil {
		return err
	}
	g, err := NewGenerator(o)
	if err != nil {
		return err
	}
	o.Log.Info("simulating", "sensors", g.Sensors(), "url", endpoint, "start", o.Start.Format(time.RFC3339),
		"speed", speedOf(o), "rate", o.Rate, "seed", o.Seed)
	for i, p := range g.plays {
		o.Log.Info("scenario", "id", p.sc.ID, "title", p.sc.Title, "at", time.UnixMilli(p.start).Format(time.RFC3339),
			"length", p.sc.Length(), "targets", g.Targets(i))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 4)
	p := &poster{o: o, url: endpoint}
	var fatal error
	var wg sync.WaitGroup
	wg.Go(func() {
		for b := range batches {
			if err := p.send(ctx, b.readings); err != nil {
				if errors.Is(err, ErrRefused) {
					fatal = err
					cancel()
					continue
				}
				p.addUnsent(len(b.readings)) // cancelled before it was answered
			}
		}
	})
	produce(ctx, o, g, batches, p)
	close(batches)
	wg.Wait()
	p.logTotals()
	return fatal
}

// produce generates readings as simulated time passes and hands them over
// in batches until ctx is done. A slow server holds it back (the channel is
// small); simulated time then catches up with bigger windows, so no reading
// is skipped.
func produce(ctx context.Context, o Options, g *Generator, out chan<- batch, p *poster) {
	wall0, sim0 := time.Now(), o.Start
	speed := speedOf(o)
	cur := sim0
	buf := make([]Reading, 0, o.BatchSize)
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	report := time.Now()
	for {
		now := time.Now()
		elapsed := now.Sub(wall0)
		simNow := sim0.Add(time.Duration(float64(elapsed) * speed))
		if speed > 1 {
			// Never ahead of the present, unless the start itself was.
			simNow = minTime(simNow, maxTime(now, sim0.Add(elapsed)))
		}
		for r := range g.Readings(cur, simNow) {
			buf = append(buf, r)
			if len(buf) == o.BatchSize {
				select {
				case out <- batch{buf}:
				case <-ctx.Done():
					p.addUnsent(len(buf))
					return
				}
				buf = make([]Reading, 0, o.BatchSize)
			}
		}
		cur = simNow
		if len(buf) > 0 {
			select {
			case out <- batch{buf}:
			case <-ctx.Done():
				p.addUnsent(len(buf))
				return
			}
			buf = make([]Reading, 0, o.BatchSize)
		}
		if time.Since(report) >= 10*time.Second {
			report = time.Now()
			p.logProgress(cur)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// poster sends batches and keeps count.
type poster struct {
	o   Options
	url string

	mu                                    sync.Mutex
	sent, accepted, refused, lost, unsent int
	requests, retries                     int
}

func (p *poster) addUnsent(n int) {
	p.mu.Lock()
	p.unsent += n
	p.mu.Unlock()
}

func (p *poster) logProgress(simNow time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.o.Log.Info("simulator progress", "sim_time", simNow.Format(time.RFC3339), "sent", p.sent,
		"accepted", p.accepted, "refused", p.refused, "lost", p.lost, "requests", p.requests, "retries", p.retries)
}

func (p *poster) logTotals() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.o.Log.Info("simulator stopped", "sent", p.sent, "accepted", p.accepted, "refused", p.refused,
		"lost", p.lost, "not_sent", p.unsent, "requests", p.requests, "retries", p.retries)
	if p.unsent > 0 {
		p.o.Log.Warn("readings not sent because the simulator stopped", "readings", p.unsent)
	}
}

// answer is the ingest API's response body.
type answer struct {
	Accepted int `json:"accepted"`
	Refused  []struct {
		Index   int    `json:"index"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"refused"`
}

// encode writes readings as a JSON array or as NDJSON.
func encode(rs []Reading, ndjson bool) []byte {
	b := make([]byte, 0, len(rs)*120)
	if !ndjson {
		b = append(b, '[')
	}
	for i, r := range rs {
		if i > 0 && !ndjson {
			b = append(b, ',')
		}
		b = r.AppendJSON(b)
		if ndjson {
			b = append(b, '\n')
		}
	}
	if !ndjson {
		b = append(b, ']')
	}
	return b
}

// send posts one batch until it is answered, given up, or ctx is done; it
// returns an error only for a cancelled context or a refused token, and
// logs every batch it gives up.
func (p *poster) send(ctx context.Context, rs []Reading) error {
	body := encode(rs, p.o.NDJSON)
	for attempt := 0; ; attempt++ {
		status, wait, err := p.post(ctx, body, rs)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err == nil:
			return nil
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			p.lose(len(rs))
			return fmt.Errorf("%w: %w", ErrRefused, err)
		case status == http.StatusRequestEntityTooLarge && len(rs) > 1:
			p.o.Log.Warn("batch too large, sending it in two halves", "readings", len(rs))
			h := len(rs) / 2
			if err := p.send(ctx, rs[:h]); err != nil {
				return err
			}
			return p.send(ctx, rs[h:])
		case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
			p.o.Log.Error("batch refused whole, not retried", "readings", len(rs), "err", err)
			p.lose(len(rs))
			return nil
		case attempt >= p.o.Retries:
			p.o.Log.Error("batch given up", "readings", len(rs), "attempts", attempt+1,
				"first", rs[0].Time.Format(time.RFC3339), "err", err)
			p.lose(len(rs))
			return nil
		}
		if wait == 0 {
			// Exponential backoff from 250 ms to 10 s, with ±25 % jitter so
			// several simulators do not retry in step.
			wait = min(250*time.Millisecond<<attempt, 10*time.Second)
			wait = time.Duration(float64(wait) * (0.75 + 0.5*rand.Float64()))
		}
		p.mu.Lock()
		p.retries++
		p.mu.Unlock()
		p.o.Log.Warn("request failed, retrying", "readings", len(rs), "attempt", attempt+1, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (p *poster) lose(n int) {
	p.mu.Lock()
	p.lost += n
	p.mu.Unlock()
}

// post makes one request; it returns the status (0 without an answer), the
// wait the server asked for in Retry-After, and an error unless the batch
// was answered with 2xx.
func (p *poster) post(ctx context.Context, body []byte, rs []Reading) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	if p.o.NDJSON {
		req.Header.Set("Content-Type", "application/x-ndjson")
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	if p.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.o.Token)
	}
	p.mu.Lock()
	p.requests++
	p.mu.Unlock()
	resp, err := p.o.Client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	// Answers are small; a megabyte is plenty for thousands of refusals.
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode/100 != 2 {
		var wait time.Duration
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = min(time.Duration(s)*time.Second, time.Minute)
		}
		return resp.StatusCode, wait, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg[:min(len(msg), 300)]))
	}
	var a answer
	if err := json.Unmarshal(msg, &a); err != nil {
		// The server took the batch but its answer is unreadable: count it
		// as sent, and say so, rather than send it twice.
		p.o.Log.Warn("unreadable answer to a batch", "readings", len(rs), "err", err)
		a.Accepted = len(rs)
	}
	p.mu.Lock()
	p.sent += len(rs)
	p.accepted += a.Accepted
	p.refused += len(a.Refused)
	p.mu.Unlock()
	if len(a.Refused) > 0 {
		first := a.Refused[0]
		attrs := []any{"readings", len(rs), "refused", len(a.Refused), "code", first.Code, "message", first.Message}
		if first.Index >= 0 && first.Index < len(rs) {
			r := rs[first.Index]
			attrs = append(attrs, "sensor", r.Sensor, "metric", r.Metric, "value", r.Value)
		}
		p.o.Log.Warn("readings refused", attrs...)
	}
	return resp.StatusCode, 0, nil
}
