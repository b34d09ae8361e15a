package auth

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// LockoutOptions tune a Lockout. Zero fields take the defaults.
type LockoutOptions struct {
	// Threshold is the failures allowed before back-off starts (5).
	Threshold int
	// Base is the first back-off (1 s); each further failure doubles it.
	Base time.Duration
	// Max caps the back-off (15 min).
	Max time.Duration
	// Forget drops a key with no failure for this long (24 h).
	Forget time.Duration
	// MaxKeys bounds the keys tracked (100,000), so that a spray of logins
	// from many addresses cannot take the server's memory.
	MaxKeys int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Lockout counts failed logins per key (a login, a remote address) and,
// past the threshold, makes each key wait before its next try: 1 s after
// the 5th failure, 2 s after the 6th, 4 s …, at most 15 min. A success
// resets. It is safe for concurrent use.
type Lockout struct {
	opt LockoutOptions

	mu   sync.Mutex
	keys map[string]*lockEntry
}

type lockEntry struct {
	failures int
	last     time.Time // of the last failure
	until    time.Time // no try before
}

// NewLockout returns a Lockout with opt.
func NewLockout(opt LockoutOptions) *Lockout {
	if opt.Threshold <= 0 {
		opt.Threshold = 5
	}
	if opt.Base <= 0 {
		opt.Base = time.Second
	}
	if opt.Max <= 0 {
		opt.Max = 15 * time.Minute
	}
	if opt.Forget <= 0 {
		opt.Forget = 24 * time.Hour
	}
	if opt.MaxKeys <= 0 {
		opt.MaxKeys = 100_000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Lockout{opt: opt, keys: map[string]*lockEntry{}}
}

// Wait returns how long the longest-locked of keys must still wait; 0 when
// none is locked.
func (l *Lockout) Wait(keys ...string) time.Duration {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if e := l.keys[k]; e != nil {
			wait = max(wait, e.until.Sub(now))
		}
	}
	return wait
}

// Fail counts a failure against each of keys.
func (l *Lockout) Fail(keys ...string) {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		e := l.keys[k]
		if e != nil && now.Sub(e.last) >= l.opt.Forget {
			e = nil
		}
		if e == nil {
			if len(l.keys) >= l.opt.MaxKeys {
				l.sweep(now)
			}
			e = &lockEntry{}
			l.keys[k] = e
		}
		e.failures++
		e.last = now
		if n := e.failures - l.opt.Threshold; n >= 0 {
			d := l.opt.Max
			if n < 40 {
				d = min(l.opt.Base<<n, l.opt.Max)
			}
			e.until = now.Add(d)
		}
	}
}

// Succeed resets each of keys.
func (l *Lockout) Succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.keys, k)
	}
}

// Failures returns the failures counted against key.
func (l *Lockout) Failures(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.keys[key]; e != nil {
		return e.failures
	}
	return 0
}

// sweep makes room: it drops the keys forgotten, then those not locked now,
// then any, until the map is at 90 % of its bound.
func (l *Lockout) sweep(now time.Time) {
	target := l.opt.MaxKeys * 9 / 10
	for k, e := range l.keys {
		if now.Sub(e.last) >= l.opt.Forget {
			delete(l.keys, k)
		}
	}
	for pass := 0; pass < 2 && len(l.keys) > target; pass++ {
		for k, e := range l.keys {
			if len(l.keys) <= target {
				break
			}
			if pass == 1 || !now.Before(e.until) {
				delete(l.keys, k)
			}
		}
	}
}

// LoginKey and AddrKey are the lockout keys of a login and of a remote
// address (host or host:port; IPv6 by its /64, which one machine usually
// holds whole).
func LoginKey(login string) string {
	if len(login) > MaxPasswordLen {
		login = login[:MaxPasswordLen]
	}
	return "login:" + strings.ToLower(login)
}

// AddrKey is the lockout key of a remote address.
func AddrKey(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		if len(host) > 64 {
			host = host[:64]
		}
		return "addr:" + host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + a.String()
}
