package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// testParams keep tests fast; the format and the checks are the same.
var testParams = HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0)
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not the PHC string of the parameters", enc)
	}
	if ok, rehash, err := h.Verify(ctx, enc, "correct horse battery"); !ok || rehash || err != nil {
		t.Errorf("right password: %v %v %v", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, enc, "correct horse batterx"); ok || err != nil {
		t.Errorf("wrong password: %v %v", ok, err)
	}
	enc2, _ := h.Hash(ctx, "correct horse battery")
	if enc2 == enc {
		t.Error("two hashes of one password share a salt")
	}
	// New parameters: the old hash still verifies, and asks to be replaced.
	h2 := NewHasher(HashParams{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	if ok, rehash, err := h2.Verify(ctx, enc, "correct horse battery"); !ok || !rehash || err != nil {
		t.Errorf("old parameters: %v %v %v, want a rehash", ok, rehash, err)
	}
	if ok, rehash, _ := h2.Verify(ctx, enc, "wrong password"); ok || rehash {
		t.Error("a wrong password asked for a rehash")
	}
}

// A hash from the argon2 reference implementation's tests verifies, so
// hashes move between onemap and other tools.
func TestVerifyReferenceHash(t *testing.T) {
	const enc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h := NewHasher(testParams, 1)
	ok, rehash, err := h.Verify(context.Background(), enc, "password")
	if !ok || !rehash || err != nil {
		t.Errorf("reference hash: %v %v %v, want it verified and marked for a rehash", ok, rehash, err)
	}
}

func TestParsePHCBad(t *testing.T) {
	good := hashWith(testParams, "x")
	parts := strings.Split(good, "$")
	salt, hash := parts[4], parts[5]
	cases := map[string]string{
		"Empty":        "",
		"Bcrypt":       "$2a$10$abcdefghijklmnopqrstuu",
		"Argon2i":      "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash,
		"OldVersion":   "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + hash,
		"Reordered":    "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + hash,
		"Missing":      "$argon2id$v=19$m=64,t=1$" + salt + "$" + hash,
		"Extra":        "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + hash,
		"HugeMemory":   "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + hash,
		"HugeTime":     "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + hash,
		"ZeroThreads":  "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + hash,
		"Negative":     "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + hash,
		"ShortSalt":    "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + hash,
		"PaddedSalt":   "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash,
		"ShortHash":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFzaA",
		"NotBase64":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("!", 43),
		"TrailingPart": good + "$",
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := parsePHC(enc); !errors.Is(err, ErrHashFormat) {
				t.Errorf("%q: %v", enc, err)
			}
			if ok, _, err := NewHasher(testParams, 1).Verify(context.Background(), enc, "x"); ok || err == nil {
				t.Errorf("verified %q", enc)
			}
		})
	}
	if _, err := parsePHC(good); err != nil {
		t.Errorf("good hash: %v", err)
	}
}

func TestHasherCancelled(t *testing.T) {
	h := NewHasher(testParams, 1)
	h.sem <- struct{}{} // every slot taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "some password"); !errors.Is(err, context.Canceled) {
		t.Errorf("hash while full and cancelled: %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		login, pw string
		ok        bool
	}{
		{"ann", "ten chars!", true},
		{"ann", "nine char", false},
		{"ann", "密码密码密码密码密码", true}, // ten characters, thirty bytes
		{"ann", strings.Repeat("x", 256), true},
		{"ann", strings.Repeat("x", 257), false},
		{"annabelle1", "annabelle1", false},
		{"annabelle1", "AnnaBelle1", false},
		{"ann", "bad \xff utf-8 here", false},
	}
	for _, c := range cases {
		err := CheckPassword(c.login, c.pw)
		if (err == nil) != c.ok {
			t.Errorf("%q for %q: %v", c.pw, c.login, err)
		}
		if err != nil && !errors.Is(err, ErrBadPassword) {
			t.Errorf("%v does not match ErrBadPassword", err)
		}
	}
}

// BenchmarkLogin is one login's password check with the default parameters.
func BenchmarkLogin(b *testing.B) {
	ctx := context.Background()
	h := NewHasher(DefaultHashParams, 1)
	enc, _ := h.Hash(ctx, "correct horse battery")
	for b.Loop() {
		if ok, _, _ := h.Verify(ctx, enc, "correct horse battery"); !ok {
			b.Fatal("refused")
		}
	}
}
