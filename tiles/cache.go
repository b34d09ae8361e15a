package tiles

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"fmt"
	"hash/fnv"
	"sync"
)

// Entry is an encoded tile as the cache keeps it: the MVT bytes, the same
// bytes gzipped on the first request that asks for them (so a hot tile is
// compressed once, and a tile nobody wants gzipped never is) and an ETag
// derived from the content.
type Entry struct {
	Data []byte // nil for an empty tile
	ETag string

	gzipOnce sync.Once
	gzip     []byte
}

// NewEntry builds the cache entry of an encoded tile.
func NewEntry(data []byte) (*Entry, error) {
	h := fnv.New64a()
	h.Write(data)
	return &Entry{Data: data, ETag: fmt.Sprintf(`"%016x"`, h.Sum64())}, nil
}

// Gzip returns the tile gzipped.
func (e *Entry) Gzip() []byte {
	e.gzipOnce.Do(func() {
		if len(e.Data) == 0 {
			return
		}
		var buf bytes.Buffer
		// BestSpeed: on dense tiles the default level costs more CPU than
		// encoding, for a few per cent of size.
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(e.Data)
		zw.Close() // writing to memory cannot fail
		e.gzip = buf.Bytes()
	})
	return e.gzip
}

// size is what the entry holds, counting the gzipped form as if it were
// made: most clients ask for it.
func (e *Entry) size() int { return 2*len(e.Data) + len(e.ETag) + 64 }

// Cache is a least-recently-used cache of encoded tiles bounded by the bytes
// it holds. Keys name the layers, their versions and the tile, so a new
// layer version never meets an old tile.
type Cache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	ll       *list.List
	items    map[string]*list.Element
	hits     uint64
	misses   uint64
}

type cacheItem struct {
	key   string
	entry *Entry
}

// NewCache returns a cache holding at most maxBytes of tiles; 0 disables it.
func NewCache(maxBytes int) *Cache {
	return &Cache{maxBytes: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

// Get returns the tile under key, if cached.
func (c *Cache) Get(key string) (*Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.ll.MoveToFront(el)
	return el.Value.(*cacheItem).entry, true
}

// Put stores a tile under key, evicting the least recently used tiles to
// stay within the byte bound.
func (c *Cache) Put(key string, e *Entry) {
	size := e.size() + len(key)
	if size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.bytes -= el.Value.(*cacheItem).entry.size() + len(key)
		el.Value.(*cacheItem).entry = e
		c.ll.MoveToFront(el)
	} else {
		c.items[key] = c.ll.PushFront(&cacheItem{key, e})
	}
	c.bytes += size
	for c.bytes > c.maxBytes {
		last := c.ll.Back()
		it := last.Value.(*cacheItem)
		c.ll.Remove(last)
		delete(c.items, it.key)
		c.bytes -= it.entry.size() + len(it.key)
	}
}

// CacheStats counts what the cache holds and how it has answered.
type CacheStats struct {
	Tiles, Bytes, MaxBytes int
	Hits, Misses           uint64
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Tiles: len(c.items), Bytes: c.bytes, MaxBytes: c.maxBytes, Hits: c.hits, Misses: c.misses}
}
