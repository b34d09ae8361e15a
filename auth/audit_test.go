package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeAudit appends n entries to a new log and returns its path.
func writeAudit(t *testing.T, c *clock, n int) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), AuditFile)
	a, err := OpenAudit(ctx, path, AuditOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := 1; i <= n; i++ {
		res := "ok"
		if i%2 == 0 {
			res = "denied"
		}
		e := Entry{Who: fmt.Sprintf("user%d", i%3), Roles: []string{"operator"}, Remote: "10.0.0.1",
			Action: "alarms.ack", Target: fmt.Sprintf("alarm:%d", i), Result: res}
		if err := a.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
	}
	return path
}

func auditLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(data, []byte("\n"))[:bytes.Count(data, []byte("\n"))]
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func chainError(t *testing.T, err error) *ChainError {
	t.Helper()
	var ce *ChainError
	if !errors.As(err, &ce) || !errors.Is(err, ErrChainBroken) {
		t.Fatalf("Verify: %v, want a ChainError", err)
	}
	return ce
}

func TestAuditAppendVerify(t *testing.T) {
	ctx := context.Background()
	path := writeAudit(t, newClock(), 5)
	rep, err := Verify(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	lines := auditLines(t, path)
	last := sha256.Sum256(bytes.TrimSuffix(lines[4], []byte("\n")))
	if rep.Entries != 5 || rep.Torn || rep.Head != hex.EncodeToString(last[:]) {
		t.Errorf("report %+v: want 5 entries, head the hash of the last line", rep)
	}
	first := sha256.Sum256([]byte(Genesis))
	if !bytes.Contains(lines[0], []byte(`"n":1,`)) || !bytes.Contains(lines[0], []byte(hex.EncodeToString(first[:]))) {
		t.Errorf("first line %s: want number 1 chained to the genesis", lines[0])
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", fi.Mode().Perm())
	}

	// Reopened, the log carries the chain on.
	a, err := OpenAudit(ctx, path, AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Append(ctx, Entry{Who: "admin", Action: "login", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if rep, err := Verify(ctx, path); err != nil || rep.Entries != 6 {
		t.Errorf("after reopening: %+v, %v; want 6 entries", rep, err)
	}
	// An empty log verifies, chained to nothing.
	empty := filepath.Join(t.TempDir(), AuditFile)
	os.WriteFile(empty, nil, 0o600)
	if rep, err := Verify(ctx, empty); err != nil || rep.Entries != 0 || rep.Head != hex.EncodeToString(first[:]) {
		t.Errorf("empty log: %+v, %v", rep, err)
	}
}

func TestAuditVerifyTamperedLine(t *testing.T) {
	ctx := context.Background()
	path := writeAudit(t, newClock(), 5)
	lines := auditLines(t, path)
	// Entry 2 was denied; someone makes it read ok. The line is still in
	// the log's own form, so the break shows at entry 3, which carries the
	// hash of the line as it was.
	changed := bytes.Replace(lines[1], []byte(`"result":"denied"`), []byte(`"result":"ok"`), 1)
	if bytes.Equal(changed, lines[1]) {
		t.Fatalf("line 2 %s has no denied result", lines[1])
	}
	lines[1] = changed
	writeLines(t, path, lines)
	rep, err := Verify(ctx, path)
	ce := chainError(t, err)
	if ce.Entry != 3 || !strings.Contains(ce.Reason, "entry 2") || rep.Entries != 2 {
		t.Errorf("tampered entry 2: %v with %d entries good, want entry 3 naming entry 2, 2 good", err, rep.Entries)
	}

	// A change that leaves the log's form is found at the line itself.
	lines = auditLines(t, writeAudit(t, newClock(), 5))
	lines[3] = bytes.Replace(lines[3], []byte(`"who":`), []byte(`"who": `), 1)
	writeLines(t, path, lines)
	if ce := chainError(t, func() error { _, err := Verify(ctx, path); return err }()); ce.Entry != 4 {
		t.Errorf("reformatted entry 4: reported %d", ce.Entry)
	}

	// So is a line that is not JSON at all.
	lines[3] = []byte("rm -rf /\n")
	writeLines(t, path, lines)
	if ce := chainError(t, func() error { _, err := Verify(ctx, path); return err }()); ce.Entry != 4 || !strings.Contains(ce.Reason, "not an entry") {
		t.Errorf("garbage entry 4: %v", ce)
	}
}

func TestAuditVerifyDeletedLine(t *testing.T) {
	ctx := context.Background()
	path := writeAudit(t, newClock(), 5)
	lines := auditLines(t, path)
	writeLines(t, path, append(lines[:2:2], lines[3:]...))
	rep, err := Verify(ctx, path)
	ce := chainError(t, err)
	if ce.Entry != 3 || !strings.Contains(ce.Reason, "numbered 4") || rep.Entries != 2 {
		t.Errorf("entry 3 deleted: %v, %d good; want entry 3 numbered 4", err, rep.Entries)
	}

	// The first line deleted: the chain no longer starts at the genesis.
	lines = auditLines(t, path)
	writeLines(t, path, lines[1:])
	if ce := chainError(t, func() error { _, err := Verify(ctx, path); return err }()); ce.Entry != 1 {
		t.Errorf("entry 1 deleted: reported %d", ce.Entry)
	}

	// A line inserted (a copy of another) is found too.
	lines = auditLines(t, writeAudit(t, newClock(), 5))
	writeLines(t, path, [][]byte{lines[0], lines[1], lines[1], lines[2], lines[3], lines[4]})
	if ce := chainError(t, func() error { _, err := Verify(ctx, path); return err }()); ce.Entry != 3 {
		t.Errorf("entry 2 repeated: reported %d", ce.Entry)
	}
}

func TestAuditTruncatedLastLine(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	path := writeAudit(t, c, 5)
	data, _ := os.ReadFile(path)
	// A crash in the middle of writing entry 5.
	os.WriteFile(path, data[:len(data)-20], 0o600)
	rep, err := Verify(ctx, path)
	if err != nil || !rep.Torn || rep.Entries != 4 {
		t.Fatalf("torn last line: %+v, %v; want 4 entries and torn", rep, err)
	}
	// Opening cuts it, and the next entry is number 5 again, chained to 4.
	a, err := OpenAudit(ctx, path, AuditOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Append(ctx, Entry{Who: "admin", Action: "login", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	rep, err = Verify(ctx, path)
	if err != nil || rep.Torn || rep.Entries != 5 {
		t.Errorf("after reopening: %+v, %v; want 5 whole entries", rep, err)
	}
}

func TestAuditConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), AuditFile)
	// Two logs on one file stand for the server and an onemap command.
	var logs [2]*AuditLog
	for i := range logs {
		a, err := OpenAudit(ctx, path, AuditOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		logs[i] = a
	}
	const workers, each = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e := Entry{Who: fmt.Sprintf("w%d", w), Action: "rules.write", Target: fmt.Sprint(i), Result: "ok"}
				if err := logs[w%2].Append(ctx, e); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, path)
	if err != nil || rep.Entries != workers*each {
		t.Fatalf("after %d concurrent appends: %+v, %v", workers*each, rep, err)
	}
	for w := range workers {
		got, err := logs[0].Query(ctx, AuditFilter{Who: fmt.Sprintf("w%d", w), Limit: MaxAuditLimit})
		if err != nil || len(got) != each {
			t.Errorf("worker %d: %d entries, %v; want %d", w, len(got), err, each)
		}
	}
}

func TestAuditCleansFields(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), AuditFile)
	a, err := OpenAudit(ctx, path, AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.Append(ctx, Entry{Who: "eve\n{\"n\":99}", Action: "login", Target: strings.Repeat("t", 1000) + "\xff", Result: "denied"})
	if err != nil {
		t.Fatal(err)
	}
	if lines := auditLines(t, path); len(lines) != 1 {
		t.Fatalf("%d lines, want one", len(lines))
	}
	got, err := a.Query(ctx, AuditFilter{})
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if strings.ContainsAny(got[0].Who, "\n") || len(got[0].Target) > maxAuditField {
		t.Errorf("entry %+v: control characters kept or target not cut", got[0])
	}
	if _, err := Verify(ctx, path); err != nil {
		t.Error(err)
	}
}

func TestAuditQuery(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	start := c.Now()
	path := filepath.Join(t.TempDir(), AuditFile)
	a, err := OpenAudit(ctx, path, AuditOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	add := func(who, action string) {
		if err := a.Append(ctx, Entry{Who: who, Action: action, Result: "ok"}); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
	}
	add("ann", "login")           // 08:00
	add("bob", "login")           // 08:01
	add("ann", "users.add")       // 08:02
	add("ann", "users.passwd")    // 08:03
	add("bob", "alarms.ack")      // 08:04
	add("ann", "users.disable")   // 08:05
	add("ann", "usersx.whatever") // 08:06

	actions := func(f AuditFilter) string {
		t.Helper()
		got, err := a.Query(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range got {
			s = append(s, fmt.Sprintf("%d:%s", e.Seq, e.Action))
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		f    AuditFilter
		want string
	}{
		{AuditFilter{}, "7:usersx.whatever 6:users.disable 5:alarms.ack 4:users.passwd 3:users.add 2:login 1:login"},
		{AuditFilter{Who: "bob"}, "5:alarms.ack 2:login"},
		{AuditFilter{What: "login"}, "2:login 1:login"},
		{AuditFilter{What: "users."}, "6:users.disable 4:users.passwd 3:users.add"},
		{AuditFilter{Who: "ann", What: "users.", Limit: 2}, "6:users.disable 4:users.passwd"},
		{AuditFilter{From: start.Add(2 * time.Minute), To: start.Add(5 * time.Minute)}, "5:alarms.ack 4:users.passwd 3:users.add"},
		{AuditFilter{From: start.Add(6 * time.Minute)}, "7:usersx.whatever"},
		{AuditFilter{To: start.Add(time.Minute)}, "1:login"},
		{AuditFilter{Who: "carl"}, ""},
	} {
		if got := actions(tc.f); got != tc.want {
			t.Errorf("Query(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
	for _, bad := range []AuditFilter{
		{Limit: MaxAuditLimit + 1},
		{Limit: -1},
		{From: start.Add(time.Hour), To: start},
		{Who: strings.Repeat("a", 65)},
	} {
		if _, err := a.Query(ctx, bad); !errors.Is(err, ErrBadFilter) {
			t.Errorf("Query(%+v): %v, want ErrBadFilter", bad, err)
		}
	}
	if got, err := a.Query(ctx, AuditFilter{Limit: MaxAuditLimit}); err != nil || len(got) != 7 {
		t.Errorf("limit %d: %d entries, %v", MaxAuditLimit, len(got), err)
	}
}

// FuzzAuditVerify reads arbitrary bytes as an audit log: Verify must not
// panic, and what it accepts must be whole lines in the log's own form.
func FuzzAuditVerify(f *testing.F) {
	c := newClock()
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.log")
	a, err := OpenAudit(context.Background(), seed, AuditOptions{Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	a.Append(context.Background(), Entry{Who: "ann", Roles: []string{"admin"}, Action: "login", Result: "ok"})
	a.Append(context.Background(), Entry{Who: "bob", Action: "rules.write", Target: "v2", Result: "denied"})
	a.Close()
	data, _ := os.ReadFile(seed)
	f.Add(data)
	f.Add(data[:len(data)-3])
	f.Add([]byte("\n"))
	f.Add([]byte(`{"n":1}` + "\n"))
	f.Add([]byte{})
	path := filepath.Join(dir, AuditFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(context.Background(), path)
		var ce *ChainError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("Verify: %v, not a ChainError", err)
		}
		if ce != nil && (ce.Entry != rep.Entries+1) {
			t.Fatalf("broken entry %d after %d good ones", ce.Entry, rep.Entries)
		}
		if err == nil {
			whole := bytes.Count(data, []byte("\n"))
			if rep.Entries != whole || rep.Torn != (len(data) > 0 && data[len(data)-1] != '\n') {
				t.Fatalf("accepted %d entries (torn %v) of %d lines", rep.Entries, rep.Torn, whole)
			}
		}
	})
}
