package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemap/onemap/store/postgis/pgtest"
)

// TestMain lets a test run the command itself in a child process, so that
// it can be killed with SIGKILL like a real server.
func TestMain(m *testing.M) {
	if os.Getenv("ONEMAP_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Setenv("ONEMAP_INGEST_TOKEN", testIngestToken)
	os.Exit(m.Run())
}

// startChild runs onemap serve in a child process and returns its URL.
func startChild(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "ONEMAP_TEST_RUN_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u := regexp.MustCompile(`http://\S+`).FindString(sc.Text()); u != "" {
				urlc <- u
			}
		}
	}()
	select {
	case u := <-urlc:
		return cmd, u
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	return nil, ""
}

// TestKillLosesNothingAcknowledged streams batches of readings at a server,
// kills it with SIGKILL in the middle, starts it again on the same data
// directory or database, and finds every acknowledged reading there exactly
// once, on the embedded default and on PostGIS.
func TestKillLosesNothingAcknowledged(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		killAndCount(t, "--data-dir", t.TempDir())
	})
	t.Run("PostGIS", func(t *testing.T) {
		db := pgtest.URL(t)
		if err := run(context.Background(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
			t.Fatalf("load: %v", err)
		}
		killAndCount(t, "--data-dir", t.TempDir(), "--db", db)
	})
}

func killAndCount(t *testing.T, args ...string) {
	cmd, url := startChild(t, args...)
	sensor := firstSensor(t, url, "ch4_lel")
	start := time.Now().Add(-29 * 24 * time.Hour).Truncate(time.Minute)
	const every = 2 * time.Second
	ts := func(i int) time.Time { return start.Add(time.Duration(i) * every) }

	// Batches of 500 readings, one every 2 s of sensor time, value = index.
	const batch = 500
	acked := 0
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	killed := make(chan struct{})
	go func() {
		// The sleep is the test: the kill comes at a moment of the
		// server's choosing, in the middle of batches being written.
		time.Sleep(400 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		close(killed)
	}()
	for n := 0; ; n += batch {
		var b strings.Builder
		for i := n; i < n+batch; i++ {
			fmt.Fprintf(&b, "{\"sensor\":%d,\"metric\":\"ch4_lel\",\"value\":%d,\"ts\":%d}\n", sensor, i%40, ts(i).UnixMilli())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/readings", strings.NewReader(b.String()))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+testIngestToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			break // killed
		}
		var res struct{ Accepted int }
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			// Over the token's rate (a fast machine sends more than 100
			// batches before the kill): nothing of it was accepted; wait as
			// told and send it again, as a device does.
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			n -= batch
			continue
		}
		if resp.StatusCode != 200 || res.Accepted != batch {
			t.Fatalf("batch at %d: %d, accepted %d", n, resp.StatusCode, res.Accepted)
		}
		acked = n + batch
	}
	<-killed
	cmd.Wait()
	if acked == 0 {
		t.Fatal("no batch was acknowledged before the kill")
	}
	t.Logf("%d readings acknowledged before SIGKILL", acked)

	_, url = startChild(t, args...)
	seen := map[int]bool{}
	const window = 40000 // readings a query
	for from := 0; from < acked+5*batch; from += window {
		resp, err := http.Get(fmt.Sprintf("%s/api/v1/sensors/%d/series?metric=ch4_lel&from=%s&to=%s&step=2s",
			url, sensor, ts(from).Format(time.RFC3339), ts(from+window).Format(time.RFC3339)))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Buckets []struct {
				T   time.Time
				Min float64
				N   int
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("series: %d %v", resp.StatusCode, err)
		}
		for _, b := range s.Buckets {
			i := int(b.T.Sub(start) / every)
			if b.N != 1 {
				t.Errorf("reading %d stored %d times", i, b.N)
			}
			if b.Min != float64(i%40) {
				t.Errorf("reading %d has value %v, want %d", i, b.Min, i%40)
			}
			seen[i] = true
		}
	}
	for i := 0; i < acked; i++ {
		if !seen[i] {
			t.Fatalf("acknowledged reading %d is lost (%d of %d kept)", i, len(seen), acked)
		}
	}
}

// firstSensor returns the id of a sensor that measures metric.
func firstSensor(t *testing.T, url, metric string) uint64 {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/sensors")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var d struct {
		Sensors []struct {
			ID      uint64
			Metrics []struct{ ID string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Sensors {
		for _, m := range s.Metrics {
			if m.ID == metric {
				return s.ID
			}
		}
	}
	t.Fatalf("no sensor measures %s", metric)
	return 0
}
