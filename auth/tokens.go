package auth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Token scopes: what a device or integration token may do.
const (
	// ScopeIngest sends sensor readings (ingest.write), of every sensor or,
	// when the token lists sensors, of those only.
	ScopeIngest = "ingest"
	// ScopeRead reads the API: the map, alarms and sensors, and the
	// analyses, which change nothing (map.view, alarms.read, analysis.run).
	ScopeRead = "read"
	// ScopeMetrics reads the server's instruments, /metrics (metrics.read),
	// for a monitoring system's scraper.
	ScopeMetrics = "metrics"
)

// tokenScopes maps each scope to the permissions it grants.
var tokenScopes = map[string][]Permission{
	ScopeIngest:  {PermIngestWrite},
	ScopeRead:    {PermMapView, PermAlarmsRead, PermAnalysisRun},
	ScopeMetrics: {PermMetricsRead},
}

// TokenPrefix begins every token's secret, so that a leaked one is easy to
// find in logs and repositories.
const TokenPrefix = "om_"

// tokenSecretLen is the length of a secret: the prefix and 32 random bytes
// in base64url without padding.
const tokenSecretLen = len(TokenPrefix) + 43

// Limits of tokens.
const (
	MaxTokens        = 10000
	MaxTokenSensors  = 10000
	maxTokenNameLen  = 64
	maxTokensFile    = 64 << 20
	lastUsedInterval = time.Minute
)

// Token is a device or integration token as the store keeps it: never its
// secret, only the secret's SHA-256.
type Token struct {
	// ID is stable and not secret: "tok-" and 16 hex digits.
	ID string `json:"id"`
	// Name says what the token is for, such as "gas station 12"; 1–64
	// printable characters.
	Name string `json:"name"`
	// Scopes are some of ScopeIngest, ScopeRead and ScopeMetrics.
	Scopes []string `json:"scopes"`
	// Sensors, when not nil, are the only sensors (sorted) whose readings an
	// ingest token may send.
	Sensors []uint64 `json:"sensors,omitempty"`
	// Hash is the SHA-256 of the secret, hex.
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
	// LastUsed is when the token last authenticated, to the minute (zero:
	// never).
	LastUsed time.Time `json:"last_used,omitzero"`
	// Revoked is when the token was revoked (zero: it is not).
	Revoked time.Time `json:"revoked,omitzero"`
	// CreatedBy is the name of who issued it.
	CreatedBy string `json:"created_by,omitempty"`
}

// Active reports whether t has not been revoked.
func (t *Token) Active() bool { return t.Revoked.IsZero() }

func (t Token) clone() Token {
	t.Scopes = slices.Clone(t.Scopes)
	if t.Sensors != nil {
		t.Sensors = slices.Clone(t.Sensors)
	}
	return t
}

// Errors of tokens.
var (
	// ErrBadToken is returned by Authenticate for a secret that is not an
	// active token: malformed, unknown or revoked.
	ErrBadToken = errors.New("auth: invalid token")
	// ErrTokenRevoked is matched, with ErrBadToken, by a revoked token's error.
	ErrTokenRevoked = errors.New("auth: token revoked")
	// ErrNoToken is returned for a token id not in the store.
	ErrNoToken = errors.New("auth: no such token")
	// ErrBadTokenSpec is returned for a token that may not be issued.
	ErrBadTokenSpec = errors.New("auth: token refused")
)

// NewToken is what Issue needs to make a token.
type NewToken struct {
	Name   string
	Scopes []string
	// Sensors limit an ingest token to those sensors; nil for all.
	Sensors []uint64
}

// check validates nt and returns it with its scopes and sensors sorted and
// free of repeats.
func (nt NewToken) check() (NewToken, error) {
	if nt.Name == "" || utf8.RuneCountInString(nt.Name) > maxTokenNameLen || !utf8.ValidString(nt.Name) ||
		strings.ContainsFunc(nt.Name, isControl) || strings.TrimSpace(nt.Name) != nt.Name {
		return nt, fmt.Errorf("%w: a name is 1–%d printable characters, no space at either end", ErrBadTokenSpec, maxTokenNameLen)
	}
	if len(nt.Scopes) == 0 {
		return nt, fmt.Errorf("%w: no scope (the scopes are %s and %s)", ErrBadTokenSpec, ScopeIngest, ScopeRead)
	}
	scopes := slices.Clone(nt.Scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	for _, s := range scopes {
		if _, ok := tokenScopes[s]; !ok {
			return nt, fmt.Errorf("%w: unknown scope %.40q (the scopes are %s and %s)", ErrBadTokenSpec, s, ScopeIngest, ScopeRead)
		}
	}
	nt.Scopes = scopes
	if nt.Sensors != nil {
		if !slices.Contains(scopes, ScopeIngest) {
			return nt, fmt.Errorf("%w: sensors limit the %s scope, which the token does not have", ErrBadTokenSpec, ScopeIngest)
		}
		if len(nt.Sensors) == 0 {
			return nt, fmt.Errorf("%w: an empty sensor list would allow no reading", ErrBadTokenSpec)
		}
		if len(nt.Sensors) > MaxTokenSensors {
			return nt, fmt.Errorf("%w: %d sensors, over %d", ErrBadTokenSpec, len(nt.Sensors), MaxTokenSensors)
		}
		sensors := slices.Clone(nt.Sensors)
		slices.Sort(sensors)
		nt.Sensors = slices.Compact(sensors)
	}
	return nt, nil
}

// TokenStore keeps tokens. Implementations are safe for concurrent use and
// return copies.
type TokenStore interface {
	// Tokens returns every token, revoked ones too, by creation time.
	Tokens(ctx context.Context) ([]Token, error)
	// TokenByHash returns the token whose secret has the SHA-256 hash, or
	// an error matching ErrBadToken. It compares hash with every stored
	// hash in constant time, whichever matches, or looks it up by an index
	// of the hashes: the hash is of 256 random bits, so how long a lookup
	// takes tells nothing of any secret.
	TokenByHash(ctx context.Context, hash [32]byte) (Token, error)
	// CreateToken stores a new token.
	CreateToken(ctx context.Context, t Token) error
	// UpdateToken changes the token of id by fn, atomically, and returns
	// it; an error matching ErrNoToken if there is none. An error from fn
	// changes nothing and is returned.
	UpdateToken(ctx context.Context, id string, fn func(*Token) error) (Token, error)
}

// TokensOptions tune NewTokens.
type TokensOptions struct {
	Store TokenStore
	// Audit, when set, records every token issued and revoked.
	Audit *AuditLog
	Log   *slog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Tokens issues, lists, revokes and checks device and integration tokens.
type Tokens struct {
	store TokenStore
	audit *AuditLog
	log   *slog.Logger
	now   func() time.Time
}

// NewTokens returns Tokens over opt.Store (a new in-memory store if nil).
func NewTokens(opt TokensOptions) *Tokens {
	if opt.Store == nil {
		opt.Store = NewMemoryTokens()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Tokens{store: opt.Store, audit: opt.Audit, log: opt.Log, now: opt.Now}
}

// Issue makes a token and returns its secret, which is shown once and kept
// nowhere, and the token as stored.
func (ts *Tokens) Issue(ctx context.Context, by *Principal, nt NewToken) (string, Token, error) {
	nt, err := nt.check()
	if err != nil {
		return "", Token{}, err
	}
	secret := TokenPrefix + randomString(32)
	h := HashSecret(secret)
	t := Token{
		ID: newID("tok-"), Name: nt.Name, Scopes: nt.Scopes, Sensors: nt.Sensors,
		Hash: hex.EncodeToString(h[:]), Created: ts.now().UTC(),
	}
	if by != nil {
		t.CreatedBy = by.Name
	}
	err = ts.store.CreateToken(ctx, t)
	ts.record(ctx, by, "tokens.issue", t.ID+" "+t.Name, err)
	if err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// List returns every token, revoked ones too, by creation time. No secret
// is in them, and the hashes are cleared too.
func (ts *Tokens) List(ctx context.Context) ([]Token, error) {
	list, err := ts.store.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Hash = ""
	}
	return list, nil
}

// Revoke ends the token of id: Authenticate refuses it from now on. Revoking
// a revoked token changes nothing.
func (ts *Tokens) Revoke(ctx context.Context, by *Principal, id string) (Token, error) {
	t, err := ts.store.UpdateToken(ctx, id, func(t *Token) error {
		if t.Revoked.IsZero() {
			t.Revoked = ts.now().UTC()
		}
		return nil
	})
	ts.record(ctx, by, "tokens.revoke", truncate(id, 64), err)
	t.Hash = ""
	return t, err
}

// Authenticate returns the active token whose secret is secret. The secret's
// hash is compared with every stored hash in constant time, whichever
// matches, so the time taken tells nothing of how close a guess came. It
// notes the time of use, at most once a minute per token.
func (ts *Tokens) Authenticate(ctx context.Context, secret string) (Token, error) {
	if len(secret) != tokenSecretLen || !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, fmt.Errorf("%w: not a token", ErrBadToken)
	}
	t, err := ts.store.TokenByHash(ctx, HashSecret(secret))
	if err != nil {
		return Token{}, err
	}
	if !t.Active() {
		return Token{}, fmt.Errorf("%w: %w: %s", ErrBadToken, ErrTokenRevoked, t.ID)
	}
	now := ts.now().UTC()
	if now.Sub(t.LastUsed) >= lastUsedInterval {
		t, err = ts.store.UpdateToken(ctx, t.ID, func(t *Token) error {
			if !t.Active() {
				return fmt.Errorf("%w: %w: %s", ErrBadToken, ErrTokenRevoked, t.ID)
			}
			t.LastUsed = now.Truncate(lastUsedInterval)
			return nil
		})
		if err != nil {
			return Token{}, err
		}
	}
	t.Hash = ""
	return t, nil
}

func (ts *Tokens) record(ctx context.Context, by *Principal, action, target string, err error) {
	if ts.audit == nil {
		return
	}
	e := Entry{Action: action, Target: target, Result: result(err)}
	if by != nil {
		e.Who, e.Roles, e.Remote = by.Name, by.Roles, by.Remote
	}
	if err := ts.audit.Append(ctx, e); err != nil {
		ts.log.Error("auth: audit", "action", action, "err", err)
	}
}

// ForToken returns the principal of t: the permissions of its scopes, and
// for an ingest token limited to some sensors, those sensors. A revoked
// token may do nothing.
func (a *Authorizer) ForToken(t *Token) Principal {
	p := Principal{TokenID: t.ID, Name: "token:" + t.Name, fixed: true}
	if !t.Active() {
		return p
	}
	for _, s := range t.Scopes {
		for _, perm := range tokenScopes[s] {
			p.g.perms |= 1 << perm
		}
	}
	if t.Sensors != nil {
		p.Sensors = slices.Clone(t.Sensors)
	}
	return p
}

// MemoryTokens is a TokenStore in memory, for tests and for a server
// without a data directory.
type MemoryTokens struct {
	mu     sync.Mutex
	tokens []Token
	hashes [][32]byte // of tokens, by index
}

var _ TokenStore = (*MemoryTokens)(nil)

// NewMemoryTokens returns an empty MemoryTokens.
func NewMemoryTokens() *MemoryTokens { return &MemoryTokens{} }

// Tokens returns every token.
func (m *MemoryTokens) Tokens(ctx context.Context) ([]Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return cloneTokens(m.tokens), nil
}

// CreateToken stores t.
func (m *MemoryTokens) CreateToken(ctx context.Context, t Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Clipped, so that the append and the sort leave m.tokens alone if a
	// check fails.
	next, err := addToken(slices.Clip(m.tokens), t)
	if err != nil {
		return err
	}
	sortTokens(next)
	hashes, err := hashesOf(next)
	if err != nil {
		return err
	}
	m.tokens, m.hashes = next, hashes
	return nil
}

// TokenByHash returns the token of hash.
func (m *MemoryTokens) TokenByHash(ctx context.Context, hash [32]byte) (Token, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return byHash(m.tokens, m.hashes, hash)
}

// hashesOf decodes the tokens' hashes, for byHash.
func hashesOf(list []Token) ([][32]byte, error) {
	out := make([][32]byte, len(list))
	for i, t := range list {
		// Lower case only, so that one hash cannot be written two ways.
		if n, err := hex.Decode(out[i][:], []byte(t.Hash)); err != nil || n != 32 || hex.EncodeToString(out[i][:]) != t.Hash {
			return nil, fmt.Errorf("%w: token %s: the hash is not 64 lower-case hex digits", ErrBadTokenSpec, t.ID)
		}
	}
	return out, nil
}

// byHash finds the token of hash, comparing it with every one of hashes in
// constant time and picking the match without a branch on the comparisons.
func byHash(list []Token, hashes [][32]byte, hash [32]byte) (Token, error) {
	found := -1
	for i := range hashes {
		eq := subtle.ConstantTimeCompare(hashes[i][:], hash[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Token{}, fmt.Errorf("%w: unknown", ErrBadToken)
	}
	return list[found].clone(), nil
}

// UpdateToken changes the token of id by fn.
func (m *MemoryTokens) UpdateToken(ctx context.Context, id string, fn func(*Token) error) (Token, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return updateToken(m.tokens, id, fn)
}

func cloneTokens(list []Token) []Token {
	out := make([]Token, len(list))
	for i, t := range list {
		out[i] = t.clone()
	}
	return out
}

// addToken appends t to list, refusing a full store or a repeated id or hash.
func addToken(list []Token, t Token) ([]Token, error) {
	if len(list) >= MaxTokens {
		return nil, fmt.Errorf("%w: already %d tokens", ErrBadTokenSpec, MaxTokens)
	}
	for _, o := range list {
		if o.ID == t.ID || o.Hash == t.Hash {
			return nil, fmt.Errorf("%w: id or hash in use", ErrBadTokenSpec)
		}
	}
	return append(list, t.clone()), nil
}

// updateToken applies fn to a copy of the token of id and, if fn succeeds,
// puts the copy in list; the id and hash may not change.
func updateToken(list []Token, id string, fn func(*Token) error) (Token, error) {
	i := slices.IndexFunc(list, func(t Token) bool { return t.ID == id })
	if i < 0 {
		return Token{}, fmt.Errorf("%w: %.80s", ErrNoToken, id)
	}
	t := list[i].clone()
	if err := fn(&t); err != nil {
		return Token{}, err
	}
	if t.ID != list[i].ID || t.Hash != list[i].Hash {
		return Token{}, fmt.Errorf("%w: a token's id and hash cannot change", ErrBadTokenSpec)
	}
	list[i] = t
	return t.clone(), nil
}

// TokensFile is the name of the tokens file in the data directory.
const TokensFile = "tokens.json"

// FileTokens is a TokenStore kept in tokens.json in the data directory,
// replaced atomically (temporary file, fsync, rename, fsync of the
// directory; mode 0600) on every change, under a lock file, and read again
// whenever another process has replaced it, as FileUsers does.
type FileTokens struct {
	mu     sync.Mutex
	file   jsonFile
	tokens []Token // by creation time
	hashes [][32]byte
}

var _ TokenStore = (*FileTokens)(nil)

type tokensFileJSON struct {
	Version int     `json:"version"`
	Tokens  []Token `json:"tokens"`
}

// OpenTokens opens the tokens file of the data directory dir, creating dir
// (0700) if need be; a missing file holds no tokens.
func OpenTokens(ctx context.Context, dir string) (*FileTokens, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: tokens: %w", err)
	}
	s := &FileTokens{file: jsonFile{dir: dir, name: TokensFile, what: "tokens", limit: maxTokensFile}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// refresh reads the file again if it is not the version last read.
func (s *FileTokens) refresh(ctx context.Context) error {
	var f tokensFileJSON
	fi, same, err := s.file.read(ctx, &f)
	if err != nil || same {
		return err
	}
	if fi == nil {
		s.tokens, s.hashes, s.file.seen = nil, nil, nil
		return nil
	}
	if f.Version != 1 {
		return s.file.errorf("version %d, not 1", f.Version)
	}
	if len(f.Tokens) > MaxTokens {
		return s.file.errorf("%d tokens, over %d", len(f.Tokens), MaxTokens)
	}
	ids, hashes := map[string]bool{}, map[string]bool{}
	for i, t := range f.Tokens {
		if t.ID == "" || ids[t.ID] || len(t.Hash) != 64 || hashes[t.Hash] {
			return s.file.errorf("token %d: a missing or repeated id or hash", i+1)
		}
		if len(t.Sensors) > MaxTokenSensors {
			return s.file.errorf("token %d: over %d sensors", i+1, MaxTokenSensors)
		}
		if !slices.IsSorted(t.Sensors) {
			return s.file.errorf("token %d: sensors not sorted", i+1)
		}
		ids[t.ID], hashes[t.Hash] = true, true
	}
	sums, err := hashesOf(f.Tokens)
	if err != nil {
		return s.file.errorf("%v", err)
	}
	s.tokens, s.hashes, s.file.seen = f.Tokens, sums, fi
	return nil
}

// change applies fn to the tokens under the lock file and writes them back.
func (s *FileTokens) change(ctx context.Context, fn func(list []Token) ([]Token, error)) error {
	unlock, err := s.file.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.refresh(ctx); err != nil {
		return err
	}
	next, err := fn(cloneTokens(s.tokens))
	if err != nil {
		return err
	}
	sortTokens(next)
	sums, err := hashesOf(next)
	if err != nil {
		return err
	}
	fi, err := s.file.write(ctx, tokensFileJSON{Version: 1, Tokens: next})
	if err != nil {
		return err
	}
	s.tokens, s.hashes, s.file.seen = next, sums, fi
	return nil
}

// Tokens returns every token, by creation time.
func (s *FileTokens) Tokens(ctx context.Context) ([]Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	return cloneTokens(s.tokens), nil
}

// TokenByHash returns the token of hash.
func (s *FileTokens) TokenByHash(ctx context.Context, hash [32]byte) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx); err != nil {
		return Token{}, err
	}
	return byHash(s.tokens, s.hashes, hash)
}

// CreateToken stores t.
func (s *FileTokens) CreateToken(ctx context.Context, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change(ctx, func(list []Token) ([]Token, error) { return addToken(list, t) })
}

// UpdateToken changes the token of id by fn.
func (s *FileTokens) UpdateToken(ctx context.Context, id string, fn func(*Token) error) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out Token
	err := s.change(ctx, func(list []Token) ([]Token, error) {
		t, err := updateToken(list, id, fn)
		out = t
		return list, err
	})
	return out, err
}

// sortTokens orders tokens by creation time, then id.
func sortTokens(list []Token) {
	slices.SortFunc(list, func(a, b Token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
