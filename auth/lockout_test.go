package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLockoutBackoff(t *testing.T) {
	c := newClock()
	l := NewLockout(LockoutOptions{Now: c.Now})
	k := LoginKey("ann")
	for i := 1; i <= 4; i++ {
		l.Fail(k)
		if w := l.Wait(k); w != 0 {
			t.Fatalf("after %d failures: wait %v, want none", i, w)
		}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, d := range want {
		l.Fail(k)
		if w := l.Wait(k); w != d {
			t.Fatalf("after %d failures: wait %v, want %v", 5+i, w, d)
		}
		c.Add(d - time.Millisecond)
		if l.Wait(k) <= 0 {
			t.Fatal("unlocked before its time")
		}
		c.Add(time.Millisecond)
		if w := l.Wait(k); w != 0 {
			t.Fatalf("still locked %v after the back-off", w)
		}
	}
	for range 30 {
		l.Fail(k)
	}
	if w := l.Wait(k); w != 15*time.Minute {
		t.Errorf("capped wait %v, want 15m", w)
	}
	l.Succeed(k)
	if w, n := l.Wait(k), l.Failures(k); w != 0 || n != 0 {
		t.Errorf("after a success: wait %v, %d failures", w, n)
	}
}

func TestLockoutKeysApart(t *testing.T) {
	c := newClock()
	l := NewLockout(LockoutOptions{Now: c.Now})
	a, b, addr := LoginKey("ann"), LoginKey("bob"), AddrKey("10.0.0.1:5555")
	for range 5 {
		l.Fail(a, addr)
	}
	if l.Wait(a) == 0 || l.Wait(addr) == 0 {
		t.Error("ann and her address are not locked")
	}
	if l.Wait(b) != 0 {
		t.Error("bob is locked by ann's failures")
	}
	if l.Wait(b, addr) == 0 {
		t.Error("bob from ann's address is not locked")
	}
	// A day without failures forgets them.
	c.Add(25 * time.Hour)
	l.Fail(a)
	if n := l.Failures(a); n != 1 {
		t.Errorf("%d failures after a quiet day, want 1", n)
	}
}

func TestLockoutBounded(t *testing.T) {
	c := newClock()
	l := NewLockout(LockoutOptions{Now: c.Now, MaxKeys: 100})
	for i := range 1000 {
		l.Fail(fmt.Sprintf("login:u%d", i))
	}
	if n := len(l.keys); n > 100 {
		t.Errorf("%d keys kept, bound 100", n)
	}
}

func TestAddrKey(t *testing.T) {
	cases := map[string]string{
		"10.0.0.1:80":                "addr:10.0.0.1",
		"10.0.0.1":                   "addr:10.0.0.1",
		"[::ffff:10.0.0.1]:80":       "addr:10.0.0.1",
		"[2001:db8:1:2:3:4:5:6]:443": "addr:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":       "addr:2001:db8:1:2::/64",
		"not an address":             "addr:not an address",
	}
	for in, want := range cases {
		if got := AddrKey(in); got != want {
			t.Errorf("AddrKey(%q) = %q, want %q", in, got, want)
		}
	}
	if LoginKey("Ann") != LoginKey("ann") {
		t.Error("logins differing in case have two counters")
	}
}
