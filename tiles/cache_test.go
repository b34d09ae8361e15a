package tiles

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"testing"
)

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	e, err := NewEntry(bytes.Repeat([]byte("x"), 1000))
	if err != nil {
		t.Fatal(err)
	}
	per := e.size() + len("k0")
	c := NewCache(3 * per)
	for i := range 3 {
		c.Put(fmt.Sprintf("k%d", i), e)
	}
	c.Get("k0") // k1 is now the least recently used
	c.Put("k3", e)
	if _, ok := c.Get("k1"); ok {
		t.Error("k1 should have been evicted")
	}
	for _, k := range []string{"k0", "k2", "k3"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s evicted, want kept", k)
		}
	}
	if s := c.Stats(); s.Bytes > s.MaxBytes || s.Tiles != 3 {
		t.Errorf("stats = %+v", s)
	}
}

func TestCacheDisabled(t *testing.T) {
	c := NewCache(0)
	e, _ := NewEntry([]byte("tile"))
	c.Put("k", e)
	if _, ok := c.Get("k"); ok {
		t.Error("a zero-byte cache kept a tile")
	}
}

func TestEntry(t *testing.T) {
	data := bytes.Repeat([]byte("pipe"), 500)
	e, err := NewEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(e.Gzip()))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, data) {
		t.Error("gzip does not round-trip")
	}
	other, _ := NewEntry(append(data, '!'))
	if e.ETag == other.ETag {
		t.Error("different tiles share an ETag")
	}
	empty, _ := NewEntry(nil)
	if empty.Data != nil || empty.Gzip() != nil || empty.ETag == "" {
		t.Errorf("empty entry = %+v", empty)
	}
}
