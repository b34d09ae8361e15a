package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// HashParams are the argon2id parameters (RFC 9106) a password is hashed
// with.
type HashParams struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen, KeyLen uint32
}

// DefaultHashParams are 19 MiB, 2 passes, 1 thread, the first of OWASP's
// argon2id settings: about 24 ms of one core per login on the reference
// machine (BenchmarkLogin in docs/auth.md), and little enough memory that
// the hashing semaphore's few concurrent logins fit on a small server.
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on the parameters a stored hash may carry, so that a hash written
// into the users file cannot make a login take gigabytes or minutes.
const (
	maxHashMemory  = 1 << 20 // KiB: 1 GiB
	maxHashTime    = 16
	maxHashThreads = 16
	minSaltLen     = 8
	maxSaltLen     = 64
	minKeyLen      = 16
	maxKeyLen      = 64
)

// ErrHashFormat is returned for a password hash that is not an argon2id PHC
// string within bounds.
var ErrHashFormat = errors.New("auth: not an argon2id PHC string")

var b64 = base64.RawStdEncoding

// phc is a parsed PHC string.
type phc struct {
	params     HashParams
	salt, hash []byte
}

// Hasher hashes and checks passwords, letting only a few hash at once: each
// takes HashParams.Memory, and a flood of logins must not take the server's
// memory.
type Hasher struct {
	Params HashParams
	sem    chan struct{}

	dummyOnce sync.Once
	dummy     string

	verified atomic.Int64 // argon2 runs of Verify, for the tests of equal cost
}

// NewHasher returns a Hasher with params (DefaultHashParams if zero) letting
// concurrent hashes run at once (2 if 0 or less).
func NewHasher(params HashParams, concurrent int) *Hasher {
	if params == (HashParams{}) {
		params = DefaultHashParams
	}
	if concurrent <= 0 {
		concurrent = 2
	}
	return &Hasher{Params: params, sem: make(chan struct{}, concurrent)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash a password: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns password's hash in the PHC string format:
// $argon2id$v=19$m=M,t=T,p=P$SALT$HASH, salt and hash in unpadded base64.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return hashWith(h.Params, password), nil
}

func hashWith(p HashParams, password string) string {
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches the PHC string encoded, comparing
// in constant time, and whether the hash should be replaced because its
// parameters are not the Hasher's. A malformed hash is an error.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	ph, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	h.verified.Add(1)
	key := argon2.IDKey([]byte(password), ph.salt, ph.params.Time, ph.params.Memory, ph.params.Threads, uint32(len(ph.hash)))
	ok = subtle.ConstantTimeCompare(key, ph.hash) == 1
	return ok, ok && ph.params != h.Params, nil
}

// VerifyDummy does the work of Verify against a hash of no one's password,
// so that a login that names no user costs what one that does costs.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	h.dummyOnce.Do(func() {
		var b [32]byte
		rand.Read(b[:])
		h.dummy = hashWith(h.Params, b64.EncodeToString(b[:]))
	})
	h.Verify(ctx, h.dummy, password) //nolint:errcheck // the answer is always no
}

// parsePHC parses an argon2id PHC string, refusing parameters out of bounds.
func parsePHC(s string) (phc, error) {
	var out phc
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return out, ErrHashFormat
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return out, fmt.Errorf("%w: version %q, not v=%d", ErrHashFormat, parts[2], argon2.Version)
	}
	var m, t, p uint64
	seen := 0
	for i, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || i > 2 {
			return out, fmt.Errorf("%w: parameters %q", ErrHashFormat, parts[3])
		}
		switch {
		case k == "m" && i == 0:
			m = n
		case k == "t" && i == 1:
			t = n
		case k == "p" && i == 2:
			p = n
		default:
			return out, fmt.Errorf("%w: parameters %q", ErrHashFormat, parts[3])
		}
		seen++
	}
	if seen != 3 || t < 1 || t > maxHashTime || p < 1 || p > maxHashThreads || m < 8*p || m > maxHashMemory {
		return out, fmt.Errorf("%w: parameters %q out of bounds", ErrHashFormat, parts[3])
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return out, fmt.Errorf("%w: salt", ErrHashFormat)
	}
	hash, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(hash) < minKeyLen || len(hash) > maxKeyLen {
		return out, fmt.Errorf("%w: hash", ErrHashFormat)
	}
	out.params = HashParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(p), SaltLen: uint32(len(salt)), KeyLen: uint32(len(hash))}
	out.salt, out.hash = salt, hash
	return out, nil
}
