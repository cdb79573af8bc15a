package tile

import (
	"container/list"
	"sync"
)

// Key names one rendered tile of one version of the data.
type Key struct {
	Layer   string
	Version string // changes whenever the data reloads, so stale tiles are never served
	Z, X, Y uint32
}

// Cache is a least-recently-used cache of rendered tiles bounded in bytes.
// It is safe for concurrent use.
type Cache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	order    *list.List // front is most recent
	entries  map[Key]*list.Element
	hits     uint64
	misses   uint64
}

type entry struct {
	key  Key
	tile []byte
}

// NewCache makes a cache holding at most maxBytes of tile data; 0 disables it.
func NewCache(maxBytes int) *Cache {
	return &Cache{maxBytes: maxBytes, order: list.New(), entries: map[Key]*list.Element{}}
}

// Get returns a cached tile; ok is false on a miss. An empty tile is cached
// as a nil slice with ok true.
func (c *Cache) Get(k Key) (tile []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.order.MoveToFront(el)
	return el.Value.(*entry).tile, true
}

// Put stores a tile, evicting the least recently used ones beyond the bound.
func (c *Cache) Put(k Key, tile []byte) {
	size := len(tile) + 64 // the key and bookkeeping cost something too
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.maxBytes {
		return
	}
	if el, ok := c.entries[k]; ok {
		c.bytes -= len(el.Value.(*entry).tile) + 64
		c.order.Remove(el)
	}
	c.entries[k] = c.order.PushFront(&entry{k, tile})
	c.bytes += size
	for c.bytes > c.maxBytes {
		old := c.order.Back()
		e := old.Value.(*entry)
		c.order.Remove(old)
		delete(c.entries, e.key)
		c.bytes -= len(e.tile) + 64
	}
}

// Stats reports hits, misses and bytes held.
func (c *Cache) Stats() (hits, misses uint64, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.bytes
}
