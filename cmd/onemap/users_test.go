package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onemap/onemap/auth"
)

// onemap runs the command line and returns its output, failing the test on
// an error unless wantErr.
func onemap(t *testing.T, wantErr bool, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	if (err != nil) != wantErr {
		t.Fatalf("onemap %s: err %v (want error: %v)\n%s%s", strings.Join(args, " "), err, wantErr, out.String(), errOut.String())
	}
	if err != nil {
		return err.Error()
	}
	return out.String()
}

func TestUsersCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dd := "--data-dir=" + dir

	out := onemap(t, false, "users", "add", dd, "--login", "li.wei", "--name", "Li Wei", "--roles", "operator,viewer")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("users add printed no password:\n%s", out)
	}
	acc := func() *auth.Accounts {
		store, err := auth.OpenUsers(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return auth.NewAccounts(auth.AccountsOptions{Users: store})
	}
	// The server, on the same store, logs the user in with that password.
	if _, err := acc().Login(ctx, "li.wei", m[1], "10.0.0.1:5000"); err != nil {
		t.Fatalf("login with the printed password: %v", err)
	}

	stdin = strings.NewReader("a new long password\n")
	t.Cleanup(func() { stdin = os.Stdin })
	onemap(t, false, "users", "passwd", dd, "--login", "li.wei", "--password-stdin")
	if _, err := acc().Login(ctx, "li.wei", "a new long password", "10.0.0.1:5000"); err != nil {
		t.Fatalf("login after passwd: %v", err)
	}
	if _, err := acc().Login(ctx, "li.wei", m[1], "10.0.0.1:5000"); err == nil {
		t.Fatal("the old password still logs in")
	}

	onemap(t, false, "users", "roles", dd, "--login", "li.wei", "--roles", "commander")
	if out := onemap(t, true, "users", "roles", dd, "--login", "li.wei", "--roles", "king"); !strings.Contains(out, "unknown role") {
		t.Errorf("unknown role: %s", out)
	}
	onemap(t, false, "users", "disable", dd, "--login", "li.wei")
	if _, err := acc().Login(ctx, "li.wei", "a new long password", "10.0.0.2:5000"); err == nil {
		t.Fatal("a disabled user logs in")
	}
	list := onemap(t, false, "users", "list", dd)
	if !regexp.MustCompile(`(?m)^li\.wei\s+Li Wei\s+commander\s+-\s+disabled`).MatchString(list) {
		t.Errorf("users list:\n%s", list)
	}
	onemap(t, false, "users", "disable", dd, "--login", "li.wei", "--enable")
	if _, err := acc().Login(ctx, "li.wei", "a new long password", "10.0.0.3:5000"); err != nil {
		t.Fatalf("login after enable: %v", err)
	}

	for _, bad := range [][]string{
		{"users"},
		{"users", "add", dd, "--login", "x"},
		{"users", "add", dd, "--login", "li.wei", "--roles", "viewer"}, // taken
		{"users", "passwd", dd, "--login", "nobody"},
	} {
		onemap(t, true, bad...)
	}

	// Every change is in the audit log, which verifies.
	out = onemap(t, false, "audit", "verify", dd)
	if !strings.Contains(out, "chain intact") {
		t.Errorf("audit verify: %s", out)
	}
	data, _ := os.ReadFile(filepath.Join(dir, auth.AuditFile))
	for _, action := range []string{"users.add", "users.passwd", "users.roles", "users.disable"} {
		if !bytes.Contains(data, []byte(`"action":"`+action)) {
			t.Errorf("audit log lacks %s", action)
		}
	}
	if bytes.Contains(data, []byte("a new long password")) || bytes.Contains(data, []byte(m[1])) {
		t.Error("audit log holds a password")
	}
}

func TestTokensCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	out := onemap(t, false, "tokens", "add", dd, "--name", "station 7", "--scopes", "ingest", "--sensors", "30,10,20")
	m := regexp.MustCompile(`(?m)^issued (tok-\w+) .*\ntoken: (om_\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tokens add:\n%s", out)
	}
	id, secret := m[1], m[2]
	ts := func() *auth.Tokens {
		store, err := auth.OpenTokens(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return auth.NewTokens(auth.TokensOptions{Store: store})
	}
	tok, err := ts().Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("the printed token: %v", err)
	}
	az := auth.NewAuthorizer(nil)
	p := az.ForToken(&tok)
	if !az.AllowedOn(&p, auth.PermIngestWrite, auth.Target{Sensor: 20}) || az.AllowedOn(&p, auth.PermIngestWrite, auth.Target{Sensor: 21}) {
		t.Error("the token is not limited to sensors 10, 20, 30")
	}
	onemap(t, false, "tokens", "add", dd, "--name", "dashboard", "--scopes", "read")
	list := onemap(t, false, "tokens", "list", dd)
	if strings.Contains(list, secret) || !regexp.MustCompile(`(?m)^`+id+`\s+station 7\s+ingest\s+3\s+\S+\s+\S+\s+active`).MatchString(list) ||
		!strings.Contains(list, "dashboard") {
		t.Errorf("tokens list:\n%s", list)
	}
	onemap(t, false, "tokens", "revoke", dd, "--id", id)
	if _, err := ts().Authenticate(ctx, secret); err == nil {
		t.Error("a revoked token authenticates")
	}
	if list := onemap(t, false, "tokens", "list", dd); !strings.Contains(list, "revoked") {
		t.Errorf("tokens list after revoke:\n%s", list)
	}
	for _, bad := range [][]string{
		{"tokens", "add", dd, "--name", "x", "--scopes", "admin"},
		{"tokens", "add", dd, "--name", "x", "--scopes", "read", "--sensors", "1"},
		{"tokens", "add", dd, "--name", "x", "--scopes", "ingest", "--sensors", "GAS-1"},
		{"tokens", "revoke", dd, "--id", "tok-none"},
	} {
		onemap(t, true, bad...)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	for _, name := range []string{"a", "b", "c"} {
		onemap(t, false, "tokens", "add", dd, "--name", name, "--scopes", "read")
	}
	if out := onemap(t, false, "audit", "verify", dd); !strings.Contains(out, "3 entries, chain intact") {
		t.Fatalf("audit verify: %s", out)
	}
	path := filepath.Join(dir, auth.AuditFile)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(data, []byte(`"target":"tok-`), []byte(`"target":"TOK-`), 1), 0o600)
	out := onemap(t, true, "audit", "verify", dd)
	if !strings.Contains(out, "broken at entry 2") {
		t.Errorf("audit verify of a changed entry 1: %s", out)
	}
	onemap(t, true, "audit", "verify", "--data-dir="+t.TempDir()) // no log
}

// TestBackupKeepsAccounts backs up a data directory with people, a device
// token and the audit log, restores it, and logs in, authenticates the
// token and verifies the audit chain in the restored directory.
func TestBackupKeepsAccounts(t *testing.T) {
	ctx := context.Background()
	dir, restored := t.TempDir(), filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(journalDir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + dir
	pw := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(onemap(t, false, "users", "add", dd, "--login", "li.wei", "--name", "Li Wei", "--roles", "operator"))
	tok := regexp.MustCompile(`token: (om_\S+)`).FindStringSubmatch(onemap(t, false, "tokens", "add", dd, "--name", "station 7", "--scopes", "ingest"))
	if pw == nil || tok == nil {
		t.Fatal("users add or tokens add printed no secret")
	}
	file := filepath.Join(t.TempDir(), "b.tar.gz")
	onemap(t, false, "backup", dd, "--out", file)
	onemap(t, false, "restore", file, "--data-dir", restored)

	for _, name := range accountFiles {
		fi, err := os.Stat(filepath.Join(restored, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("restored %s: %v, mode %v; want it, 0600", name, err, fi.Mode())
		}
	}
	users, err := auth.OpenUsers(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewAccounts(auth.AccountsOptions{Users: users}).Login(ctx, "li.wei", pw[1], "10.0.0.1:5000"); err != nil {
		t.Errorf("login in the restored directory: %v", err)
	}
	tokens, err := auth.OpenTokens(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewTokens(auth.TokensOptions{Store: tokens}).Authenticate(ctx, tok[1]); err != nil {
		t.Errorf("the token in the restored directory: %v", err)
	}
	if out := onemap(t, false, "audit", "verify", "--data-dir="+restored); !strings.Contains(out, "2 entries, chain intact") {
		t.Errorf("audit verify of the restored log: %s", out)
	}
}
