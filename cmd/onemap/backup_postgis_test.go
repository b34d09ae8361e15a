package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onemap/onemap/store/postgis/pgtest"
)

// readmeShell returns the lines of a README section's examples that start
// with one of the programs, split into words, with the placeholders
// replaced and comments cut.
func readmeShell(t *testing.T, section string, names map[string]string, programs ...string) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, text, ok := strings.Cut(string(b), "## "+section+"\n")
	if !ok {
		t.Fatalf("README has no %q section", section)
	}
	text, _, _ = strings.Cut(text, "\n## ")
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		words := strings.Fields(strings.SplitN(line, "#", 2)[0])
		if len(words) == 0 || !contains(programs, words[0]) {
			continue
		}
		for i, w := range words {
			for from, to := range names {
				w = strings.ReplaceAll(w, from, to)
			}
			words[i] = w
		}
		out = append(out, words)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// On PostGIS, README's pg_dump taken while the server ingests, restored
// with its pg_restore into an empty database, serves the alarms with their
// changes and acknowledgements, and every reading acknowledged before the
// dump began.
func TestBackupRestorePostGIS(t *testing.T) {
	dbA, dbB := pgtest.URL(t), pgtest.URL(t)
	for _, p := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed (PostgreSQL's client tools)", p)
		}
	}
	file := filepath.Join(t.TempDir(), "onemap.dump")
	cmds := readmeShell(t, "Backup and restore", map[string]string{`"$DATABASE_URL"`: dbA, `"$RESTORED_URL"`: dbB, "onemap.dump": file}, "pg_dump", "pg_restore")
	if len(cmds) != 2 || cmds[0][0] != "pg_dump" || cmds[1][0] != "pg_restore" {
		t.Fatalf("README's PostGIS backup examples: %v, want pg_dump then pg_restore", cmds)
	}
	if err := run(context.Background(), []string{"load", "--db", dbA, "--quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("load: %v", err)
	}
	url := startServer(t, "--db", dbA)
	var d struct {
		Sensors []struct {
			ID      uint64
			Metrics []struct{ ID string }
		}
	}
	getJSON(t, url+"/api/v1/sensors?domain=gas", &d)
	var sensors []uint64
	for _, s := range d.Sensors {
		if len(s.Metrics) > 0 && s.Metrics[0].ID == "ch4_lel" {
			sensors = append(sensors, s.ID)
		}
	}
	if len(sensors) < 3 {
		t.Fatalf("%d gas detectors", len(sensors))
	}
	now := time.Now().Add(-time.Hour).Truncate(time.Minute)
	reading := func(sensor uint64, v float64, at time.Time) string {
		return fmt.Sprintf(`{"sensor":%d,"metric":"ch4_lel","value":%v,"ts":%d}`, sensor, v, at.UnixMilli())
	}
	if code, b, err := postJSON(url+"/api/v1/readings", "["+reading(sensors[0], 30, now)+","+reading(sensors[1], 60, now)+"]"); err != nil || code != 200 {
		t.Fatalf("readings: %d %s %v", code, b, err)
	}
	before := alarmsOf(t, url)
	if len(before) != 2 {
		t.Fatalf("%d alarms, want 2", len(before))
	}
	duty := []*webSession{apiLogIn(t, url, "", dbA, "duty", "operator"), apiLogIn(t, url, "", dbA, "li", "operator")}
	for id := range before {
		for _, who := range duty {
			if code, b, err := who.do("POST", fmt.Sprintf("/api/v1/alarms/%d/ack", id), `{"note":"到场"}`); err != nil || code != 200 {
				t.Fatalf("ack: %d %s %v", code, b, err)
			}
		}
		break
	}
	before = alarmsOf(t, url)

	// A third detector reports every second of sensor time from two days
	// ago while the dump is taken.
	past := now.Add(-48 * time.Hour)
	var acked atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; ctx.Err() == nil; n += 100 {
			var b []string
			for i := n; i < n+100; i++ {
				b = append(b, reading(sensors[2], float64(i%3), past.Add(time.Duration(i)*time.Second)))
			}
			if code, _, err := postJSON(url+"/api/v1/readings", "["+strings.Join(b, ",")+"]"); err != nil || code != 200 {
				return
			}
			acked.Store(int64(n + 100))
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); acked.Load() < 500; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d readings in 30 s", acked.Load())
		}
	}
	ackedBefore := acked.Load()
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c[0], err, out)
		}
	}
	cancel()
	<-done

	url = startServer(t, "--db", dbB)
	after := alarmsOf(t, url)
	for id, b := range before {
		if a, ok := after[id]; !ok {
			t.Errorf("alarm %d is not in the restored database", id)
		} else if !reflect.DeepEqual(a, b) {
			t.Errorf("alarm %d restored as %+v, want %+v", id, a, b)
		}
	}
	var curve struct{ Buckets []struct{ N int } }
	getJSON(t, fmt.Sprintf("%s/api/v1/sensors/%d/series?metric=ch4_lel&from=%s&to=%s&step=1h", url, sensors[2],
		past.Format(time.RFC3339), past.Add(48*time.Hour).Format(time.RFC3339)), &curve)
	n := 0
	for _, b := range curve.Buckets {
		n += b.N
	}
	if int64(n) < ackedBefore || int64(n) > acked.Load() {
		t.Errorf("the restored curve holds %d readings; %d were acknowledged before the dump began, %d in all", n, ackedBefore, acked.Load())
	}
}
