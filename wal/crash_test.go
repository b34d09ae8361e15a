package wal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashDirEnv, when set, makes TestCrash the appending child process: it appends
// to the log in that directory until it is killed.
const crashDirEnv = "WAL_CRASH_DIR"

// crashRecord is the content of record i of batch b of worker w in round r, so
// that the parent can check what the child acknowledged.
func crashRecord(r, w, b, i int) string {
	return fmt.Sprintf("round %d worker %d batch %d record %d", r, w, b, i)
}

// TestCrash kills a process appending to the log with SIGKILL, several times,
// and checks that every record it reported as acknowledged is in the log once,
// with its contents, at its LSN.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	type ack struct {
		lsn           uint64
		round, worker int
		batch, n      int
	}
	var acks []ack
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, fmt.Sprintf("WAL_CRASH_ROUND=%d", round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Kill the child mid-stream: after some acknowledgements, at a moment
		// that differs from round to round.
		killAt := 30 + 25*round
		killed := false
		n := 0
		for line := range lines {
			var a ack
			if _, err := fmt.Sscanf(line, "ack %d %d %d %d %d", &a.lsn, &a.round, &a.worker, &a.batch, &a.n); err != nil {
				t.Errorf("child: %s", line)
				continue
			}
			acks = append(acks, a)
			if n++; n == killAt && !killed {
				// The sleep is the test: a kill a few milliseconds later
				// each round lands at another point of a write or fsync.
				time.Sleep(time.Duration(round) * 3 * time.Millisecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("child exited before it was killed: %v", err)
		}
		t.Logf("round %d: %d acknowledged appends before SIGKILL", round, n)

		l, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		got := map[uint64]string{}
		seen := map[string]uint64{}
		err = l.Replay(1, func(lsn uint64, rec []byte) error {
			if lsn != uint64(len(got))+1 {
				return fmt.Errorf("lsn %d after %d records", lsn, len(got))
			}
			if old, dup := seen[string(rec)]; dup {
				return fmt.Errorf("%q at lsn %d and %d", rec, old, lsn)
			}
			got[lsn] = string(rec)
			seen[string(rec)] = lsn
			return nil
		})
		l.Close()
		if err != nil {
			t.Fatalf("round %d: replay: %v", round, err)
		}
		for _, a := range acks {
			for i := range a.n {
				want := crashRecord(a.round, a.worker, a.batch, i)
				if rec, ok := got[a.lsn+uint64(i)]; !ok || rec != want {
					t.Fatalf("round %d: acknowledged lsn %d: got %q (present %v), want %q", round, a.lsn+uint64(i), rec, ok, want)
				}
			}
		}
		t.Logf("round %d: %d records in the log, all acknowledged ones present once", round, len(got))
	}
}

// crashChild appends batches from several goroutines and prints each
// acknowledged one as "ack lsn round worker batch n", until it is killed.
func crashChild(dir string) {
	var round int
	fmt.Sscan(os.Getenv("WAL_CRASH_ROUND"), &round)
	l, err := Open(dir, Options{SegmentSize: 256 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for b := 0; ; b++ {
				n := 1 + (b*37+w*11)%300
				recs := make([][]byte, n)
				for i := range recs {
					recs[i] = []byte(crashRecord(round, w, b, i))
				}
				lsn, err := l.Append(context.Background(), recs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child:", err)
					os.Exit(2)
				}
				mu.Lock()
				// os.Stdout is unbuffered: once written, the parent can read it.
				fmt.Fprintf(os.Stdout, "ack %d %d %d %d %d\n", lsn, round, w, b, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
