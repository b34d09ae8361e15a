// Package attachtest holds the tests every attach.Store must pass, so that
// the stores in files and in a database behave alike.
package attachtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/incident/attach"
)

// Base is the time the clock given to the store starts at: whole seconds,
// which every store keeps exactly.
var Base = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Clock is a clock for the store under test, moved by the tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at Base.
func NewClock() *Clock { return &Clock{t: Base} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func photo(seed uint8) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := range 16 {
		for y := range 12 {
			img.Set(x, y, color.RGBA{seed, uint8(x * 16), uint8(y * 20), 255})
		}
	}
	return img
}

// PNG returns a small PNG image, different for each seed.
func PNG(seed uint8) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, photo(seed)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// JPEG returns a small JPEG image, different for each seed.
func JPEG(seed uint8) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, photo(seed), nil); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// WebP returns the bytes of a WebP file header and a few bytes of payload.
func WebP(seed uint8) []byte {
	return append([]byte("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00"), seed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
}

func code(err error) string {
	var e *attach.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fmt.Sprintf("not an *attach.Error: %v", err)
}

// Run runs the tests of a Store. open returns an empty store taking times
// from clock and at most max bytes in an attachment.
func Run(t *testing.T, open func(t *testing.T, clock *Clock, max int64) attach.Store) {
	ctx := context.Background()

	t.Run("PutGet", func(t *testing.T) {
		clock := NewClock()
		s := open(t, clock, 1<<20)
		for _, c := range []struct {
			name, typ string
			data      []byte
		}{
			{"png", "image/png", PNG(1)},
			{"jpeg", "image/jpeg", JPEG(2)},
			{"webp", "image/webp", WebP(3)},
		} {
			a, err := s.Put(ctx, c.data, c.typ, "zhang.san")
			if err != nil {
				t.Fatalf("Put %s: %v", c.name, err)
			}
			if a.ID != attach.ID(c.data) || len(a.ID) != 64 || a.Type != c.typ || a.Size != int64(len(c.data)) ||
				!a.Created.Equal(Base) || a.By != "zhang.san" {
				t.Errorf("Put %s: %+v", c.name, a)
			}
			got, data, err := s.Get(ctx, a.ID)
			if err != nil {
				t.Fatalf("Get %s: %v", c.name, err)
			}
			if !bytes.Equal(data, c.data) {
				t.Errorf("Get %s: %d bytes differ from the %d put", c.name, len(data), len(c.data))
			}
			if got.ID != a.ID || got.Type != a.Type || got.Size != a.Size || !got.Created.Equal(a.Created) || got.By != a.By {
				t.Errorf("Get %s: %+v, want %+v", c.name, got, a)
			}
		}
	})

	t.Run("TypeFromBytes", func(t *testing.T) {
		s := open(t, NewClock(), 1<<20)
		// No claimed type, or one with parameters and another case.
		a, err := s.Put(ctx, PNG(4), "", "")
		if err != nil || a.Type != "image/png" {
			t.Errorf("Put without a type: %+v, %v", a, err)
		}
		if a, err := s.Put(ctx, JPEG(5), "Image/JPEG; q=1", "li.si"); err != nil || a.Type != "image/jpeg" {
			t.Errorf("Put with parameters: %+v, %v", a, err)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		s := open(t, NewClock(), 1<<20)
		for _, c := range []struct {
			name, typ, by, code string
			data                []byte
		}{
			{"text", "", "", "bad_type", []byte("just some text, not a photo")},
			{"text claimed png", "image/png", "", "bad_type", []byte("just some text")},
			{"gif", "image/gif", "", "bad_type", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")},
			{"pdf", "", "", "bad_type", []byte("%PDF-1.7\n")},
			{"empty", "", "", "bad_type", nil},
			{"png claimed jpeg", "image/jpeg", "", "bad_type", PNG(6)},
			{"too large", "image/png", "", "too_large", append(PNG(7), make([]byte, 1<<20)...)},
			{"long login", "", strings.Repeat("x", attach.MaxBy+1), "bad_by", PNG(8)},
		} {
			_, err := s.Put(ctx, c.data, c.typ, c.by)
			if code(err) != c.code || !errors.Is(err, attach.ErrAttach) {
				t.Errorf("Put %s: %v, want %s", c.name, err, c.code)
			}
		}
		// A refused put keeps nothing.
		if _, _, err := s.Get(ctx, attach.ID(PNG(6))); !errors.Is(err, attach.ErrNotFound) {
			t.Errorf("Get of a refused put: %v, want not_found", err)
		}
	})

	t.Run("AtTheLimit", func(t *testing.T) {
		s := open(t, NewClock(), 4096)
		data := append(PNG(9), make([]byte, 4096)...)[:4096]
		if _, err := s.Put(ctx, data, "", ""); err != nil {
			t.Errorf("Put of exactly the limit: %v", err)
		}
		if _, err := s.Put(ctx, append(data, 0), "", ""); code(err) != "too_large" {
			t.Errorf("Put of one byte more: %v, want too_large", err)
		}
	})

	t.Run("GetRefusals", func(t *testing.T) {
		s := open(t, NewClock(), 1<<20)
		for _, id := range []string{"", "abc", "../../../../etc/passwd", strings.Repeat("G", 64), strings.ToUpper(attach.ID(PNG(1)))} {
			if _, _, err := s.Get(ctx, id); code(err) != "bad_id" {
				t.Errorf("Get %q: %v, want bad_id", id, err)
			}
		}
		if _, _, err := s.Get(ctx, attach.ID([]byte("never put"))); !errors.Is(err, attach.ErrNotFound) || code(err) != "not_found" {
			t.Errorf("Get of an id never put: %v, want not_found", err)
		}
	})

	t.Run("SameBytesKeptOnce", func(t *testing.T) {
		clock := NewClock()
		s := open(t, clock, 1<<20)
		first, err := s.Put(ctx, PNG(10), "", "wang.wu")
		if err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Hour)
		again, err := s.Put(ctx, PNG(10), "image/png", "zhao.liu")
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || !again.Created.Equal(first.Created) || again.By != "wang.wu" {
			t.Errorf("the same bytes again: %+v, want the first %+v", again, first)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := open(t, NewClock(), 1<<20)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Go(func() {
				// Half put the same photo, half each their own.
				seed := uint8(20)
				if i%2 == 1 {
					seed = uint8(21 + i)
				}
				a, err := s.Put(ctx, PNG(seed), "", "")
				if err == nil && a.ID != attach.ID(PNG(seed)) {
					err = fmt.Errorf("id %s for seed %d", a.ID, seed)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if _, data, err := s.Get(ctx, attach.ID(PNG(20))); err != nil || !bytes.Equal(data, PNG(20)) {
			t.Errorf("the photo put by many: %v", err)
		}
	})
}
