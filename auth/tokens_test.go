package auth

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newFileTokens(t *testing.T, dir string, c *clock) *Tokens {
	t.Helper()
	store, err := OpenTokens(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return NewTokens(TokensOptions{Store: store, Now: c.Now})
}

func TestTokenIssueAuthenticate(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	dir := t.TempDir()
	ts := newFileTokens(t, dir, c)
	admin := NewAuthorizer(nil).ForRoles("root", []string{"admin"}, Scopes{})

	secret, tok, err := ts.Issue(ctx, &admin, NewToken{Name: "station 12", Scopes: []string{ScopeIngest}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "om_") || len(secret) != 46 {
		t.Fatalf("secret %q: want om_ and 43 base64url characters", secret)
	}
	raw, err := base64.RawURLEncoding.DecodeString(secret[3:])
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret body: %d bytes, %v; want 32", len(raw), err)
	}
	if tok.CreatedBy != "root" || !tok.Created.Equal(c.Now()) {
		t.Errorf("token %+v: want created by root now", tok)
	}

	// The file holds the hash, never the secret, and is 0600.
	data, err := os.ReadFile(filepath.Join(dir, TokensFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) || strings.Contains(string(data), secret[3:]) {
		t.Fatal("tokens file holds the secret")
	}
	h := HashSecret(secret)
	if !strings.Contains(string(data), hexOf(h)) {
		t.Fatal("tokens file lacks the secret's SHA-256")
	}
	if fi, _ := os.Stat(filepath.Join(dir, TokensFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("tokens file mode %v, want 0600", fi.Mode().Perm())
	}

	c.Add(5 * time.Minute)
	got, err := ts.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tok.ID || got.Hash != "" {
		t.Errorf("authenticated %+v: want %s without its hash", got, tok.ID)
	}
	if !got.LastUsed.Equal(c.Now().Truncate(time.Minute)) {
		t.Errorf("last used %v, want %v", got.LastUsed, c.Now())
	}

	// Another process (a new store on the same directory) sees the same
	// token and its last use.
	other := newFileTokens(t, dir, c)
	list, err := other.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != tok.ID || list[0].Hash != "" || list[0].LastUsed.IsZero() {
		t.Fatalf("list %+v: want the one token, no hash, last use noted", list)
	}
	if _, err := other.Authenticate(ctx, secret); err != nil {
		t.Fatalf("second store: %v", err)
	}
}

func hexOf(h [32]byte) string { return hex.EncodeToString(h[:]) }

func TestTokenUnknownAndRevoked(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	dir := t.TempDir()
	ts := newFileTokens(t, dir, c)
	secret, tok, err := ts.Issue(ctx, nil, NewToken{Name: "gis import", Scopes: []string{ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	// A second token stays good when the first is revoked.
	secret2, _, err := ts.Issue(ctx, nil, NewToken{Name: "sms gateway", Scopes: []string{ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}

	for _, bad := range []string{
		"",
		"om_",
		secret[:len(secret)-1],
		secret + "A",
		"xx_" + secret[3:],
		TokenPrefix + strings.Repeat("A", 43), // well formed, never issued
	} {
		if _, err := ts.Authenticate(ctx, bad); !errors.Is(err, ErrBadToken) || errors.Is(err, ErrTokenRevoked) {
			t.Errorf("Authenticate(%q) = %v, want ErrBadToken (not revoked)", bad, err)
		}
	}

	c.Add(time.Hour)
	rev, err := ts.Revoke(ctx, nil, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !rev.Revoked.Equal(c.Now()) || rev.Active() {
		t.Errorf("revoked %+v: want revoked now", rev)
	}
	if _, err := ts.Authenticate(ctx, secret); !errors.Is(err, ErrBadToken) || !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("revoked token: %v, want ErrBadToken and ErrTokenRevoked", err)
	}
	// Revocation is in the file: a fresh store refuses it too.
	if _, err := newFileTokens(t, dir, c).Authenticate(ctx, secret); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("revoked token through a new store: %v", err)
	}
	if _, err := ts.Authenticate(ctx, secret2); err != nil {
		t.Errorf("other token after a revocation: %v", err)
	}
	// Revoking again keeps the first time.
	c.Add(time.Hour)
	again, err := ts.Revoke(ctx, nil, tok.ID)
	if err != nil || !again.Revoked.Equal(rev.Revoked) {
		t.Errorf("revoke again: %v at %v, want the first time %v", err, again.Revoked, rev.Revoked)
	}
	if _, err := ts.Revoke(ctx, nil, "tok-nope"); !errors.Is(err, ErrNoToken) {
		t.Errorf("revoke unknown: %v, want ErrNoToken", err)
	}
	// A revoked token's principal may do nothing.
	az := NewAuthorizer(nil)
	p := az.ForToken(&rev)
	if az.Allowed(&p, PermMapView) {
		t.Error("a revoked token's principal may view the map")
	}
}

func TestTokenScopes(t *testing.T) {
	ctx := context.Background()
	az := NewAuthorizer(nil)
	ts := NewTokens(TokensOptions{Now: newClock().Now})

	issue := func(nt NewToken) Principal {
		t.Helper()
		secret, _, err := ts.Issue(ctx, nil, nt)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		return az.ForToken(&tok)
	}

	ingest := issue(NewToken{Name: "all sensors", Scopes: []string{ScopeIngest}})
	if !az.AllowedOn(&ingest, PermIngestWrite, Target{Sensor: 987654}) {
		t.Error("ingest token refused a sensor")
	}
	if az.Allowed(&ingest, PermAlarmsRead) || az.Allowed(&ingest, PermMapView) {
		t.Error("ingest token may read")
	}
	if ingest.Name != "token:all sensors" {
		t.Errorf("principal name %q", ingest.Name)
	}

	some := issue(NewToken{Name: "station 7", Scopes: []string{ScopeIngest}, Sensors: []uint64{30, 10, 20, 10}})
	for id, want := range map[uint64]bool{10: true, 20: true, 30: true, 11: false, 0: false, 40: false} {
		if got := az.AllowedOn(&some, PermIngestWrite, Target{Sensor: id}); got != want {
			t.Errorf("sensor-set token on sensor %d: %v, want %v", id, got, want)
		}
	}

	read := issue(NewToken{Name: "dashboard", Scopes: []string{ScopeRead}})
	if !az.Allowed(&read, PermAlarmsRead) || !az.Allowed(&read, PermMapView) {
		t.Error("read token may not read")
	}
	for _, perm := range []Permission{PermIngestWrite, PermAlarmsAck, PermRulesWrite, PermContactsRead, PermAuditRead, PermTokensAdmin} {
		if az.Allowed(&read, perm) {
			t.Errorf("read token holds %v", perm)
		}
	}

	for _, bad := range []NewToken{
		{Name: "", Scopes: []string{ScopeRead}},
		{Name: " padded", Scopes: []string{ScopeRead}},
		{Name: "bell\a", Scopes: []string{ScopeRead}},
		{Name: strings.Repeat("x", 65), Scopes: []string{ScopeRead}},
		{Name: "none"},
		{Name: "admin", Scopes: []string{"admin"}},
		{Name: "read with sensors", Scopes: []string{ScopeRead}, Sensors: []uint64{1}},
		{Name: "empty sensors", Scopes: []string{ScopeIngest}, Sensors: []uint64{}},
		{Name: "too many", Scopes: []string{ScopeIngest}, Sensors: make([]uint64, MaxTokenSensors+1)},
	} {
		if _, _, err := ts.Issue(ctx, nil, bad); !errors.Is(err, ErrBadTokenSpec) {
			t.Errorf("Issue(%.40q, %v, %d sensors) = %v, want ErrBadTokenSpec", bad.Name, bad.Scopes, len(bad.Sensors), err)
		}
	}
}

func TestTokenLastUsedOncePerMinute(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	dir := t.TempDir()
	ts := newFileTokens(t, dir, c)
	secret, _, err := ts.Issue(ctx, nil, NewToken{Name: "meter", Scopes: []string{ScopeIngest}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, TokensFile)
	before, _ := os.Stat(path)
	c.Add(10 * time.Second)
	if _, err := ts.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !os.SameFile(before, after) {
		t.Error("a second use within the minute rewrote the tokens file")
	}
	c.Add(time.Minute)
	got, err := ts.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastUsed.Equal(c.Now().Truncate(time.Minute)) {
		t.Errorf("last used %v after a minute, want %v", got.LastUsed, c.Now().Truncate(time.Minute))
	}
}

func TestTokensAudited(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	dir := t.TempDir()
	log, err := OpenAudit(ctx, filepath.Join(dir, AuditFile), AuditOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ts := NewTokens(TokensOptions{Audit: log, Now: c.Now})
	admin := NewAuthorizer(nil).ForRoles("root", []string{"admin"}, Scopes{})
	secret, tok, err := ts.Issue(ctx, &admin, NewToken{Name: "probe", Scopes: []string{ScopeIngest}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Revoke(ctx, &admin, tok.ID); err != nil {
		t.Fatal(err)
	}
	got, err := log.Query(ctx, AuditFilter{What: "tokens."})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Action != "tokens.revoke" || got[1].Action != "tokens.issue" || got[1].Who != "root" {
		t.Fatalf("audit %+v: want issue then revoke by root", got)
	}
	data, _ := os.ReadFile(filepath.Join(dir, AuditFile))
	if strings.Contains(string(data), secret) {
		t.Error("audit log holds a token's secret")
	}
}

// BenchmarkTokenAuthenticate is one check of a token's secret against a
// file store of 1,000 tokens (the last use already noted this minute).
func BenchmarkTokenAuthenticate(b *testing.B) {
	ctx := context.Background()
	c := newClock()
	store, err := OpenTokens(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ts := NewTokens(TokensOptions{Store: store, Now: c.Now})
	var secret string
	for i := range 1000 {
		s, _, err := ts.Issue(ctx, nil, NewToken{Name: "device", Scopes: []string{ScopeIngest}, Sensors: []uint64{uint64(i + 1)}})
		if err != nil {
			b.Fatal(err)
		}
		if i == 500 {
			secret = s
		}
	}
	if _, err := ts.Authenticate(ctx, secret); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Authenticate(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzTokensFile reads arbitrary bytes as tokens.json: opening must not
// panic, and every token it accepts can be looked up by its hash.
func FuzzTokensFile(f *testing.F) {
	ctx := context.Background()
	seedDir := f.TempDir()
	store, err := OpenTokens(ctx, seedDir)
	if err != nil {
		f.Fatal(err)
	}
	ts := NewTokens(TokensOptions{Store: store, Now: newClock().Now})
	ts.Issue(ctx, nil, NewToken{Name: "a", Scopes: []string{ScopeIngest}, Sensors: []uint64{3, 1}})
	ts.Issue(ctx, nil, NewToken{Name: "b", Scopes: []string{ScopeRead}})
	data, _ := os.ReadFile(filepath.Join(seedDir, TokensFile))
	f.Add(data)
	f.Add([]byte(`{"version":1,"tokens":[]}`))
	f.Add([]byte(`{"version":1,"tokens":[{"id":"x","hash":"zz"}]}`))
	f.Add([]byte(`{"version":1,"tokens":[{"id":"x","hash":"abababababababababababababababababababababababababababababababab"},{"id":"y","hash":"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"}]}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, TokensFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenTokens(ctx, dir)
		if err != nil {
			return
		}
		list, err := s.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range list {
			var h [32]byte
			if n, err := hex.Decode(h[:], []byte(tok.Hash)); err != nil || n != 32 {
				t.Fatalf("accepted token %s with hash %q", tok.ID, tok.Hash)
			}
			got, err := s.TokenByHash(ctx, h)
			if err != nil || got.ID != tok.ID {
				t.Fatalf("token %s not found by its hash: %v", tok.ID, err)
			}
		}
	})
}
