package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/store/postgis"
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

// accountsUnder is where a test's commands keep users and tokens: a data
// directory, and a database when db is set. flags are the flags that say so.
type accountsUnder struct {
	dir, db string
}

func (a accountsUnder) flags() []string {
	f := []string{"--data-dir=" + a.dir}
	if a.db != "" {
		f = append(f, "--db="+a.db)
	}
	return f
}

// stores opens the users, tokens and sessions the commands work on, as a
// server on the same data directory or database would.
func (a accountsUnder) stores(t *testing.T) (auth.UserStore, auth.TokenStore, auth.SessionStore) {
	t.Helper()
	ctx := context.Background()
	if a.db != "" {
		pg, err := postgis.OpenAuth(ctx, a.db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pg.Close)
		return pg.Users, pg.Tokens, pg.Sessions
	}
	users, err := auth.OpenUsers(ctx, a.dir)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.OpenTokens(ctx, a.dir)
	if err != nil {
		t.Fatal(err)
	}
	return users, tokens, auth.NewMemorySessions()
}

func TestUsersCommand(t *testing.T) { testUsersCommand(t, accountsUnder{dir: t.TempDir()}) }

func TestTokensCommand(t *testing.T) { testTokensCommand(t, accountsUnder{dir: t.TempDir()}) }

// testUsersCommand adds, changes and lists a user with onemap users, and
// logs the user in on the same store after each change.
func testUsersCommand(t *testing.T, under accountsUnder) {
	ctx := context.Background()
	cmd := func(wantErr bool, args ...string) string {
		t.Helper()
		return onemap(t, wantErr, append(args, under.flags()...)...)
	}

	out := cmd(false, "users", "add", "--login", "li.wei", "--name", "Li Wei", "--roles", "operator,viewer")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("users add printed no password:\n%s", out)
	}
	acc := func() *auth.Accounts {
		users, _, sessions := under.stores(t)
		return auth.NewAccounts(auth.AccountsOptions{Users: users, Sessions: auth.NewSessions(sessions, auth.SessionOptions{})})
	}
	// The server, on the same store, logs the user in with that password.
	if _, err := acc().Login(ctx, "li.wei", m[1], "10.0.0.1:5000"); err != nil {
		t.Fatalf("login with the printed password: %v", err)
	}

	stdin = strings.NewReader("a new long password\n")
	t.Cleanup(func() { stdin = os.Stdin })
	cmd(false, "users", "passwd", "--login", "li.wei", "--password-stdin")
	if _, err := acc().Login(ctx, "li.wei", "a new long password", "10.0.0.1:5000"); err != nil {
		t.Fatalf("login after passwd: %v", err)
	}
	if _, err := acc().Login(ctx, "li.wei", m[1], "10.0.0.1:5000"); err == nil {
		t.Fatal("the old password still logs in")
	}

	cmd(false, "users", "roles", "--login", "li.wei", "--roles", "commander")
	if out := cmd(true, "users", "roles", "--login", "li.wei", "--roles", "king"); !strings.Contains(out, "unknown role") {
		t.Errorf("unknown role: %s", out)
	}
	server := acc()
	login, err := server.Login(ctx, "li.wei", "a new long password", "10.0.0.2:5000")
	if err != nil {
		t.Fatal(err)
	}
	cmd(false, "users", "disable", "--login", "li.wei")
	if under.db != "" {
		// In a database the command ends the sessions itself.
		_, _, sessions := under.stores(t)
		if _, err := sessions.Session(ctx, login.Session.IDHash); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("the session of the disabled user is still in the database: %v", err)
		}
	}
	if _, err := acc().Login(ctx, "li.wei", "a new long password", "10.0.0.2:5000"); err == nil {
		t.Fatal("a disabled user logs in")
	}
	// The server looks at the users file again within a second.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, _, err := server.Authenticate(ctx, login.Secret); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session of a user disabled since goes on")
		}
	}
	list := cmd(false, "users", "list")
	if !regexp.MustCompile(`(?m)^li\.wei\s+Li Wei\s+commander\s+-\s+disabled`).MatchString(list) {
		t.Errorf("users list:\n%s", list)
	}
	cmd(false, "users", "disable", "--login", "li.wei", "--enable")
	if _, err := acc().Login(ctx, "li.wei", "a new long password", "10.0.0.3:5000"); err != nil {
		t.Fatalf("login after enable: %v", err)
	}

	for _, bad := range [][]string{
		{"users"},
		{"users", "add", "--login", "x"},
		{"users", "add", "--login", "li.wei", "--roles", "viewer"}, // taken
		{"users", "passwd", "--login", "nobody"},
	} {
		cmd(true, bad...)
	}

	// Every change is in the audit log of the data directory, which verifies.
	out = onemap(t, false, "audit", "verify", "--data-dir="+under.dir)
	if !strings.Contains(out, "chain intact") {
		t.Errorf("audit verify: %s", out)
	}
	data, _ := os.ReadFile(filepath.Join(under.dir, auth.AuditFile))
	for _, action := range []string{"users.add", "users.passwd", "users.roles", "users.disable"} {
		if !bytes.Contains(data, []byte(`"action":"`+action)) {
			t.Errorf("audit log lacks %s", action)
		}
	}
	if bytes.Contains(data, []byte("a new long password")) || bytes.Contains(data, []byte(m[1])) {
		t.Error("audit log holds a password")
	}
	_, err = os.Stat(filepath.Join(under.dir, auth.UsersFile))
	if under.db != "" && err == nil {
		t.Errorf("with --db the users went to %s too", auth.UsersFile)
	}
}

// testTokensCommand issues, lists and revokes tokens with onemap tokens,
// and authenticates them on the same store.
func testTokensCommand(t *testing.T, under accountsUnder) {
	ctx := context.Background()
	cmd := func(wantErr bool, args ...string) string {
		t.Helper()
		return onemap(t, wantErr, append(args, under.flags()...)...)
	}
	out := cmd(false, "tokens", "add", "--name", "station 7", "--scopes", "ingest", "--sensors", "30,10,20")
	m := regexp.MustCompile(`(?m)^issued (tok-\w+) .*\ntoken: (om_\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tokens add:\n%s", out)
	}
	id, secret := m[1], m[2]
	ts := func() *auth.Tokens {
		_, tokens, _ := under.stores(t)
		return auth.NewTokens(auth.TokensOptions{Store: tokens})
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
	cmd(false, "tokens", "add", "--name", "dashboard", "--scopes", "read")
	list := cmd(false, "tokens", "list")
	if strings.Contains(list, secret) || !regexp.MustCompile(`(?m)^`+id+`\s+station 7\s+ingest\s+3\s+\S+\s+\S+\s+active`).MatchString(list) ||
		!strings.Contains(list, "dashboard") {
		t.Errorf("tokens list:\n%s", list)
	}
	cmd(false, "tokens", "revoke", "--id", id)
	if _, err := ts().Authenticate(ctx, secret); err == nil {
		t.Error("a revoked token authenticates")
	}
	if list := cmd(false, "tokens", "list"); !strings.Contains(list, "revoked") {
		t.Errorf("tokens list after revoke:\n%s", list)
	}
	for _, bad := range [][]string{
		{"tokens", "add", "--name", "x", "--scopes", "admin"},
		{"tokens", "add", "--name", "x", "--scopes", "read", "--sensors", "1"},
		{"tokens", "add", "--name", "x", "--scopes", "ingest", "--sensors", "GAS-1"},
		{"tokens", "revoke", "--id", "tok-none"},
	} {
		cmd(true, bad...)
	}
	data, _ := os.ReadFile(filepath.Join(under.dir, auth.AuditFile))
	for _, action := range []string{"tokens.issue", "tokens.revoke"} {
		if !bytes.Contains(data, []byte(`"action":"`+action)) {
			t.Errorf("audit log lacks %s", action)
		}
	}
	_, err = os.Stat(filepath.Join(under.dir, auth.TokensFile))
	if under.db != "" && err == nil {
		t.Errorf("with --db the tokens went to %s too", auth.TokensFile)
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
