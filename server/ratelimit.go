package server

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiterKeys bounds the keys a keyedLimiter remembers: past it, the
// keys whose buckets are full again (idle ones) are forgotten, and if none
// is, the new key is refused, so that a flood of addresses costs bounded
// memory.
const maxLimiterKeys = 100_000

// keyedLimiter is a token bucket per key (an address, a token), on the
// server's clock.
type keyedLimiter struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newKeyedLimiter(every rate.Limit, burst int) *keyedLimiter {
	return &keyedLimiter{every: every, burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes one event of key at now; when refused it says how long to
// wait before the next is taken.
func (k *keyedLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l, ok := k.m[key]
	if !ok {
		if len(k.m) >= maxLimiterKeys {
			k.sweep(now)
			if len(k.m) >= maxLimiterKeys {
				return false, time.Second
			}
		}
		l = rate.NewLimiter(k.every, k.burst)
		k.m[key] = l
	}
	if l.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - l.TokensAt(now)
	wait := time.Duration(math.Ceil(missing / float64(k.every) * float64(time.Second)))
	return false, max(wait, time.Second)
}

// sweep forgets the keys whose buckets are full.
func (k *keyedLimiter) sweep(now time.Time) {
	for key, l := range k.m {
		if l.TokensAt(now) >= float64(k.burst) {
			delete(k.m, key)
		}
	}
}
