package tile

import (
	"bytes"
	"container/list"
	"hash/crc64"
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/protectmap/protectmap/geo"
)

// Tile is a rendered tile ready to serve over HTTP.
type Tile struct {
	// Gzip is the MVT compressed with gzip, to send with Content-Encoding:
	// gzip; nil when the tile is empty (HTTP 204).
	Gzip []byte
	// Size is the length of the uncompressed MVT in bytes.
	Size int
	// ETag is a strong entity tag, quoted, computed from the uncompressed
	// MVT: equal tiles have equal tags whatever the data version. It names
	// the gzip representation; one sent uncompressed needs a tag of its
	// own, such as this one with a suffix.
	ETag string
}

// Empty reports whether the tile has no features.
func (t *Tile) Empty() bool { return t.Size == 0 }

// MVT returns the uncompressed tile, for clients that do not accept gzip;
// nil when empty.
func (t *Tile) MVT() ([]byte, error) {
	if t.Empty() {
		return nil, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(t.Gzip))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// gzipLevel is the level a tile is compressed at, once per data version
// and then sent to every client: against level 5 (the library's default) it
// saves 2 % of a country tile's bytes for 0.5 ms more, once; levels above
// cost 1.5 to 4 times its CPU for 0.6 to 2.4 % fewer bytes
// (BenchmarkGzipLevels in server; see README's Performance).
const gzipLevel = 6

var (
	crcTable = crc64.MakeTable(crc64.ECMA)
	gzippers = sync.Pool{New: func() any {
		zw, _ := gzip.NewWriterLevel(io.Discard, gzipLevel)
		return zw
	}}
)

// newTile compresses a rendered MVT; mvt may be nil for an empty tile.
func newTile(mvt []byte) (*Tile, error) {
	t := &Tile{Size: len(mvt), ETag: `"` + strconv.FormatUint(crc64.Checksum(mvt, crcTable), 36) + `"`}
	if len(mvt) == 0 {
		return t, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(mvt) / 3)
	zw := gzippers.Get().(*gzip.Writer)
	defer gzippers.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(mvt); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	t.Gzip = bytes.Clone(buf.Bytes())
	return t, nil
}

// key names one tile of one version of one layer's data.
type key struct {
	layer, version string
	z, x, y        uint32
}

// Cache renders tiles and keeps them in a least-recently-used cache
// bounded in bytes. Concurrent requests for a tile being rendered wait for
// that rendering instead of starting their own. It is safe for concurrent
// use.
type Cache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	order    *list.List // of *entry, front is most recent
	entries  map[key]*list.Element
	flights  map[key]*flight
	hits     uint64
	misses   uint64
	render   func(l *geo.Layer, z, x, y uint32) ([]byte, error) // Render, but for tests
}

type entry struct {
	key  key
	tile *Tile
}

// flight is a rendering in progress.
type flight struct {
	done chan struct{}
	tile *Tile
	err  error
}

// entryOverhead approximates what an entry costs beyond its tile's bytes:
// list element, map slot, Tile and key.
const entryOverhead = 256

// NewCache makes a cache holding at most maxBytes of tiles; 0 keeps none.
func NewCache(maxBytes int) *Cache {
	return &Cache{maxBytes: maxBytes, order: list.New(), entries: map[key]*list.Element{}, flights: map[key]*flight{}, render: Render}
}

// Tile returns tile z/x/y of layer l, rendered (see Render) and
// compressed, from the cache when it holds it. version names the data the
// layer was loaded from: give a new one whenever the data reloads, so no
// tile of the old data is ever served; old tiles then age out. Errors are
// those of Render and are not cached.
func (c *Cache) Tile(l *geo.Layer, version string, z, x, y uint32) (*Tile, error) {
	if err := Check(z, x, y); err != nil {
		return nil, err
	}
	k := key{l.Name(), version, z, x, y}
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		c.hits++
		c.order.MoveToFront(el)
		c.mu.Unlock()
		return el.Value.(*entry).tile, nil
	}
	if f, ok := c.flights[k]; ok {
		c.hits++
		c.mu.Unlock()
		<-f.done
		return f.tile, f.err
	}
	c.misses++
	f := &flight{done: make(chan struct{})}
	c.flights[k] = f
	c.mu.Unlock()

	defer func() {
		c.mu.Lock()
		delete(c.flights, k)
		if f.err == nil && f.tile != nil {
			c.put(k, f.tile)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	var body []byte
	if body, f.err = c.render(l, z, x, y); f.err == nil {
		f.tile, f.err = newTile(body)
	}
	return f.tile, f.err
}

func size(k key, t *Tile) int {
	return len(t.Gzip) + len(t.ETag) + len(k.layer) + len(k.version) + entryOverhead
}

// put stores a tile, evicting the least recently used ones beyond the
// bound; c.mu must be held.
func (c *Cache) put(k key, t *Tile) {
	n := size(k, t)
	if n > c.maxBytes {
		return
	}
	c.entries[k] = c.order.PushFront(&entry{k, t})
	c.bytes += n
	for c.bytes > c.maxBytes {
		old := c.order.Back()
		e := old.Value.(*entry)
		c.order.Remove(old)
		delete(c.entries, e.key)
		c.bytes -= size(e.key, e.tile)
	}
}

// Stats are a cache's counters: requests answered without rendering
// (Hits) and with (Misses), and the tiles held and their bytes.
type Stats struct {
	Hits, Misses uint64
	Tiles, Bytes int
}

// Stats reports the cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Hits: c.hits, Misses: c.misses, Tiles: len(c.entries), Bytes: c.bytes}
}
