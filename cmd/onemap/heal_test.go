package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onemap/onemap/wal"
)

// syncBuffer is a buffer a child process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// count counts the log lines at level that contain every one of words.
func (s *syncBuffer) count(level string, words ...string) int {
	n := 0
	for _, line := range strings.Split(s.String(), "\n") {
		ok := strings.Contains(line, "level="+level)
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			n++
		}
	}
	return n
}

// startLogged runs onemap serve in a child process, its log in stderr, and
// returns it with its URL.
func startLogged(t testing.TB, stderr io.Writer, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return startCommand(t, nil, stderr, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, args...)...)
}

// startCommand runs onemap with args in a child process, with env added to
// this process's environment and its log in stderr, and returns it with the
// URL it says it serves at.
func startCommand(t testing.TB, env []string, stderr io.Writer, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "ONEMAP_TEST_RUN_MAIN=1"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u := regexp.MustCompile(`https?://\S+`).FindString(sc.Text()); u != "" {
				urlc <- u
			}
		}
	}()
	select {
	case u := <-urlc:
		return cmd, u
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start:\n%s", stderr)
	}
	return nil, ""
}

// stopChild stops a server as an operator does, with SIGTERM.
func stopChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server stopped with %v", err)
	}
}

// needAll skips a test whose needs this machine lacks, or fails it where
// everything must run (CI).
func needAll(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("ONEMAP_REQUIRE_ALL") != "" {
		t.Fatalf("%s, and ONEMAP_REQUIRE_ALL is set", why)
	}
	t.Skip(why)
}

// mountTmpfs mounts a tmpfs of the given size on a new directory, unmounted
// when the test ends.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		needAll(t, "mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		needAll(t, fmt.Sprintf("mount -t tmpfs: %v: %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// The last partial blocks too.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	return path
}

// readingsBody is n ch4_lel readings of sensor, one every 2 s from start
// plus first × 2 s, as NDJSON.
func readingsBody(sensor uint64, start time.Time, first, n int) string {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "{\"sensor\":%d,\"metric\":\"ch4_lel\",\"value\":%d,\"ts\":%d}\n", sensor, i%40, start.Add(time.Duration(i)*2*time.Second).UnixMilli())
	}
	return b.String()
}

// postReadings sends a batch and returns the answer's status, its error code
// if any and its Retry-After header.
func postReadings(t *testing.T, url, body string) (status int, code, retryAfter string) {
	t.Helper()
	resp, err := postIngest(url+"/api/v1/readings", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Accepted int
		Error    struct{ Code string }
	}
	json.NewDecoder(resp.Body).Decode(&res)
	return resp.StatusCode, res.Error.Code, resp.Header.Get("Retry-After")
}

// countReadings counts the readings of a sensor's ch4_lel curve from start,
// one every 2 s, at most n of them.
func countReadings(t *testing.T, url string, sensor uint64, start time.Time, n int) int {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/sensors/%d/series?metric=ch4_lel&from=%s&to=%s&step=2s",
		url, sensor, start.Format(time.RFC3339), start.Add(time.Duration(n)*2*time.Second).Format(time.RFC3339)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct{ Buckets []struct{ N int } }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("series: %d %v", resp.StatusCode, err)
	}
	total := 0
	for _, b := range s.Buckets {
		total += b.N
	}
	return total
}

type healthJournal struct {
	Status  string
	Journal struct {
		State       string
		Error       string
		Quarantined []struct {
			Segment     string
			Quarantined string
			RecordsLost uint64 `json:"records_lost"`
		}
	}
}

func getHealth(t *testing.T, url string) healthJournal {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h healthJournal
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %d %v", resp.StatusCode, err)
	}
	return h
}

// TestDiskFull fills the disk under a server's data directory: ingest is
// refused with 507 storage_full and Retry-After while reads go on, takes
// readings again within seconds of space coming back, with no restart, and
// after a restart every accepted reading is there.
func TestDiskFull(t *testing.T) {
	dataDir := mountTmpfs(t, "2m")
	var log syncBuffer
	cmd, url := startLogged(t, &log, "--data-dir", dataDir)
	sensor := firstSensor(t, url, "ch4_lel")
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	const batch = 200
	accepted := 0
	send := func() (int, string, string) {
		st, code, ra := postReadings(t, url, readingsBody(sensor, start, accepted, batch))
		if st == 200 {
			accepted += batch
		}
		return st, code, ra
	}
	if st, code, _ := send(); st != 200 {
		t.Fatalf("ingest before the disk is full: %d %s", st, code)
	}

	filler := fillDisk(t, dataDir)
	for range 3 {
		st, code, ra := send()
		if st != http.StatusInsufficientStorage || code != "storage_full" || ra == "" {
			t.Fatalf("ingest on a full disk: %d %q Retry-After %q, want 507 storage_full with Retry-After", st, code, ra)
		}
	}
	if h := getHealth(t, url); h.Status != "degraded" || h.Journal.State != "no_space" {
		t.Fatalf("healthz on a full disk: %+v", h)
	}
	// Reads are served.
	if n := countReadings(t, url, sensor, start, 10*batch); n != accepted {
		t.Fatalf("the curve has %d readings on a full disk, want %d", n, accepted)
	}
	if resp, err := http.Get(url + "/api/v1/alarms"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("alarms on a full disk: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	for getHealth(t, url).Journal.State != "ok" {
		if time.Since(freed) > 10*time.Second {
			t.Fatalf("the journal is not writable 10 s after space came back")
		}
	}
	t.Logf("the journal took writes again %v after space came back", time.Since(freed).Round(time.Millisecond))
	for range 2 {
		if st, code, _ := send(); st != 200 {
			t.Fatalf("ingest after space came back: %d %s", st, code)
		}
	}
	if h := getHealth(t, url); h.Status != "ok" || h.Journal.State != "ok" {
		t.Fatalf("healthz after recovery: %+v", h)
	}
	if n := log.count("WARN", "cannot write"); n != 1 {
		t.Errorf("%d WARN lines for the full disk, want 1:\n%s", n, log.String())
	}
	if n := log.count("INFO", "writes again"); n != 1 {
		t.Errorf("%d INFO lines for its end, want 1:\n%s", n, log.String())
	}
	if n := log.count("ERROR"); n != 0 {
		t.Errorf("%d ERROR lines, want none:\n%s", n, log.String())
	}

	stopChild(t, cmd)
	_, url = startLogged(t, io.Discard, "--data-dir", dataDir)
	if n := countReadings(t, url, sensor, start, 10*batch); n != accepted {
		t.Fatalf("after a restart the curve has %d readings, want the %d accepted", n, accepted)
	}
}

// damagedDataDir makes a data directory whose journal has a flipped byte
// in the middle of acknowledged data, and returns it with the number of
// readings the server accepted.
func damagedDataDir(t *testing.T) (dataDir string, sensor uint64, start time.Time, accepted int) {
	t.Helper()
	dataDir = t.TempDir()
	cmd, url := startLogged(t, io.Discard, "--data-dir", dataDir)
	sensor = firstSensor(t, url, "ch4_lel")
	start = time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	const batch = 100
	for ; accepted < 20*batch; accepted += batch {
		if st, code, _ := postReadings(t, url, readingsBody(sensor, start, accepted, batch)); st != 200 {
			t.Fatalf("ingest: %d %s", st, code)
		}
	}
	// Killed, not stopped: a clean stop saves a checkpoint, and the next
	// start would read the readings from it rather than from the journal.
	cmd.Process.Kill()
	cmd.Wait()
	segs, err := filepath.Glob(filepath.Join(dataDir, "journal", "*.wal"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v", segs, err)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte in the payload of the reading nearest the middle: the
	// journal holds alarm events too. A record is a 20-byte header (CRC,
	// length with a last-of-write bit, LSN, place in its write) and its
	// payload, whose first byte is its kind, 1 for a reading.
	for off := 0; off+20 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+4:]) &^ (1 << 31))
		if off >= len(b)/2 && b[off+20] == 1 {
			b[off+20+5] ^= 0x01
			break
		}
		off += 20 + n
	}
	if err := os.WriteFile(segs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dataDir, sensor, start, accepted
}

// TestServeDamagedJournal starts a server on a data directory whose journal
// is damaged: it serves what is intact, and /healthz names the quarantined
// segment and the records lost.
func TestServeDamagedJournal(t *testing.T) {
	dataDir, sensor, start, accepted := damagedDataDir(t)
	var log syncBuffer
	_, url := startLogged(t, &log, "--data-dir", dataDir)
	h := getHealth(t, url)
	if h.Status != "ok" || len(h.Journal.Quarantined) != 1 {
		t.Fatalf("healthz: %+v, want one quarantined segment", h)
	}
	q := h.Journal.Quarantined[0]
	if _, err := os.Stat(q.Quarantined); err != nil || q.RecordsLost == 0 {
		t.Fatalf("quarantined %+v: %v", q, err)
	}
	if n := countReadings(t, url, sensor, start, accepted); n != accepted-int(q.RecordsLost) {
		t.Fatalf("the curve has %d readings, want %d accepted less %d lost", n, accepted, q.RecordsLost)
	}
	if log.count("WARN", "damaged", q.Segment, fmt.Sprintf("records_lost=%d", q.RecordsLost)) != 1 {
		t.Fatalf("no WARN naming the segment and the records lost:\n%s", log.String())
	}
	if st, code, _ := postReadings(t, url, readingsBody(sensor, start, accepted, 10)); st != 200 {
		t.Fatalf("ingest after quarantine: %d %s", st, code)
	}
}

// runJournalCmd runs onemap journal with args and returns its output and error.
func runJournalCmd(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"journal"}, args...), &out, &errb)
	return out.String() + errb.String(), err
}

func TestJournalCommands(t *testing.T) {
	dataDir, _, _, accepted := damagedDataDir(t)
	journal := filepath.Join(dataDir, "journal")
	before, _ := wal.Check(journal)

	out, err := runJournalCmd("check", "--data-dir", dataDir)
	if err == nil || !strings.Contains(out, "DAMAGED at offset") || !strings.Contains(err.Error(), "1 damaged segment") {
		t.Fatalf("check of a damaged journal: %v\n%s", err, out)
	}
	t.Logf("check:\n%s%v", out, err)
	records, lost, _ := before.Totals()
	if lost != 1 || records < uint64(accepted)-1 || !strings.Contains(out, fmt.Sprintf("%d record(s), ", records)) {
		t.Errorf("check does not count the %d intact records and the 1 lost:\n%s", records, out)
	}

	// Not while a server has the directory.
	cmd, _ := startLogged(t, io.Discard, "--data-dir", dataDir)
	for _, sub := range []string{"check", "repair"} {
		if out, err := runJournalCmd(sub, "--data-dir", dataDir); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("%s while a server runs: %v\n%s", sub, err, out)
		}
	}
	stopChild(t, cmd) // it quarantined the segment at start

	dataDir, _, _, _ = damagedDataDir(t)
	out, err = runJournalCmd("repair", "--data-dir", dataDir)
	if err != nil || !strings.Contains(out, "quarantined as") {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	t.Logf("repair:\n%s", out)
	if q, _ := filepath.Glob(filepath.Join(dataDir, "journal", wal.QuarantineDir, "*.wal")); len(q) != 1 {
		t.Fatalf("quarantine holds %v, want the damaged segment", q)
	}
	out, err = runJournalCmd("check", "--data-dir", dataDir)
	if err != nil || !strings.Contains(out, "quarantined earlier") {
		t.Fatalf("check after repair: %v\n%s", err, out)
	}

	for _, tt := range [][]string{{}, {"fix"}, {"check", "--data-dir", filepath.Join(dataDir, "nope")}, {"check", "stray"}} {
		if _, err := runJournalCmd(tt...); err == nil {
			t.Errorf("journal %v succeeded", tt)
		}
	}
}

// TestReadmeJournalExamples runs the journal commands of README's "When
// things go wrong" on a damaged data directory, as written there.
func TestReadmeJournalExamples(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## When things go wrong")
	if !ok {
		t.Fatal(`README has no "When things go wrong" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var cmds [][]string
	for _, line := range strings.Split(section, "\n") {
		if rest, ok := strings.CutPrefix(line, "go run ./cmd/onemap "); ok {
			rest, _, _ = strings.Cut(rest, "#")
			cmds = append(cmds, strings.Fields(rest))
		}
	}
	if len(cmds) != 2 || cmds[0][1] != "check" || cmds[1][1] != "repair" {
		t.Fatalf("README's journal examples: %v, want check then repair", cmds)
	}
	dataDir, _, _, _ := damagedDataDir(t)
	runAs := func(args []string) (string, error) {
		var out, errb bytes.Buffer
		args = append([]string(nil), args...)
		for i := range args {
			if args[i] == "onemap-data" {
				args[i] = dataDir
			}
		}
		err := run(context.Background(), args, &out, &errb)
		return out.String() + errb.String(), err
	}
	if out, err := runAs(cmds[0]); err == nil || !strings.Contains(out, "DAMAGED") {
		t.Fatalf("%v on a damaged journal: %v, want an error (exit 1)\n%s", cmds[0], err, out)
	}
	if out, err := runAs(cmds[1]); err != nil || !strings.Contains(out, "quarantined as") {
		t.Fatalf("%v: %v\n%s", cmds[1], err, out)
	}
	if out, err := runAs(cmds[0]); err != nil {
		t.Fatalf("%v after repair: %v\n%s", cmds[0], err, out)
	}
}
