package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// alarmJSON is what a backup must keep of an alarm.
type alarmJSON struct {
	ID      uint64
	Sensor  uint64
	Started time.Time
	Changes []struct {
		Kind  string
		To    int
		Value float64
		At    time.Time
	}
	Acks []struct {
		By, Note string
		At       time.Time
	}
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func postJSON(url, body string) (int, string, error) {
	resp, err := postIngest(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func alarmsOf(t *testing.T, url string) map[uint64]alarmJSON {
	t.Helper()
	var list struct{ Alarms []struct{ ID uint64 } }
	getJSON(t, url+"/api/v1/alarms", &list)
	out := map[uint64]alarmJSON{}
	for _, a := range list.Alarms {
		var full alarmJSON
		getJSON(t, fmt.Sprintf("%s/api/v1/alarms/%d", url, a.ID), &full)
		out[a.ID] = full
	}
	return out
}

// readmeCommands returns the onemap commands of a README section, with its
// placeholders replaced.
func readmeCommands(t *testing.T, section string, names map[string]string) [][]string {
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
	var cmds [][]string
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, "go run ./cmd/onemap ")
		if !ok {
			continue
		}
		rest, _, _ = strings.Cut(rest, "#")
		args := strings.Fields(rest)
		for i, a := range args {
			if v, ok := names[a]; ok {
				args[i] = v
			}
		}
		cmds = append(cmds, args)
	}
	return cmds
}

// A backup taken while the server ingests and checkpoints every second,
// restored into a new directory, holds the alarms, acknowledgements and
// curves the server had when the backup began. The commands are README's.
func TestBackupRestore(t *testing.T) {
	dataA, dataB := t.TempDir(), filepath.Join(t.TempDir(), "restored")
	file := filepath.Join(t.TempDir(), "onemap-backup.tar.gz")
	cmds := readmeCommands(t, "Backup and restore", map[string]string{"onemap-data": dataA, "onemap-backup.tar.gz": file, "onemap-restored": dataB})
	if len(cmds) != 2 || cmds[0][0] != "backup" || cmds[1][0] != "restore" {
		t.Fatalf("README's backup examples: %v, want backup then restore", cmds)
	}
	cmd, url := startChild(t, "--data-dir", dataA, "--checkpoint-every", "1s")
	sensors := func() []uint64 {
		var d struct {
			Sensors []struct {
				ID      uint64
				Metrics []struct{ ID string }
			}
		}
		getJSON(t, url+"/api/v1/sensors?domain=gas", &d)
		var out []uint64
		for _, s := range d.Sensors {
			if len(s.Metrics) > 0 && s.Metrics[0].ID == "ch4_lel" {
				out = append(out, s.ID)
			}
		}
		return out
	}()
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
	duty := []*webSession{apiLogIn(t, url, dataA, "", "duty", "operator"), apiLogIn(t, url, dataA, "", "li", "operator")}
	for id := range before {
		for _, who := range duty {
			if code, b, err := who.do("POST", fmt.Sprintf("/api/v1/alarms/%d/ack", id), `{"note":"到场"}`); err != nil || code != 200 {
				t.Fatalf("ack: %d %s %v", code, b, err)
			}
		}
		break
	}
	before = alarmsOf(t, url)

	// A third detector reports every second of sensor time all along,
	// from 20 days ago.
	past := now.Add(-20 * 24 * time.Hour)
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
			code, body, err := postJSON(url+"/api/v1/readings", "["+strings.Join(b, ",")+"]")
			var res struct{ Accepted int }
			json.Unmarshal([]byte(body), &res)
			if err != nil || code != 200 || res.Accepted != 100 {
				return
			}
			acked.Store(int64(n + 100))
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cps, _ := filepath.Glob(filepath.Join(dataA, "checkpoints", "*.checkpoint"))
		if len(cps) > 0 && acked.Load() >= 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint or too few readings in 30 s (%d readings)", acked.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ackedBefore := int(acked.Load())
	var out bytes.Buffer
	if err := run(context.Background(), cmds[0], &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(out.String()), "; readings acknowledged before:", ackedBefore)
	cancel()
	<-done
	cmd.Process.Kill()
	cmd.Wait()

	// Bad restores change nothing.
	if err := run(context.Background(), []string{"restore", file, "--data-dir", dataA}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a used directory: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.tar.gz")
	os.WriteFile(junk, []byte("not a backup"), 0o644)
	if err := run(context.Background(), []string{"restore", junk, "--data-dir", dataB}, io.Discard, io.Discard); err == nil {
		t.Error("restored a file that is not a backup")
	}
	if err := run(context.Background(), cmds[1], io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	_, url = startChild(t, "--data-dir", dataB)
	after := alarmsOf(t, url)
	for id, b := range before {
		a, ok := after[id]
		if !ok {
			t.Errorf("alarm %d is not in the restored directory", id)
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("alarm %d restored as %+v, want %+v", id, a, b)
		}
	}
	var curve struct{ Buckets []struct{ N int } }
	getJSON(t, fmt.Sprintf("%s/api/v1/sensors/%d/series?metric=ch4_lel&from=%s&to=%s&step=1h", url, sensors[2],
		past.Format(time.RFC3339), past.Add(time.Duration(ackedBefore)*time.Second).Format(time.RFC3339)), &curve)
	n := 0
	for _, b := range curve.Buckets {
		n += b.N
	}
	if n != ackedBefore {
		t.Errorf("the restored curve holds %d of the %d readings acknowledged before the backup", n, ackedBefore)
	}
}
