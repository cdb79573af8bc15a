package tile

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

// TestCache: tiles come back as rendered, from the cache the second time,
// until the data version changes or the byte bound evicts them.
func TestCache(t *testing.T) {
	l := defaultLayer(t, "energy")
	kyiv := maptile.At(orb.Point{30.5234, 50.4501}, 10)
	want, err := Render(l, 10, kyiv.X, kyiv.Y)
	if err != nil || want == nil {
		t.Fatal(err)
	}
	c := NewCache(1 << 20)
	get := func(version string, tl maptile.Tile) *Tile {
		t.Helper()
		tile, err := c.Tile(l, version, uint32(tl.Z), tl.X, tl.Y)
		if err != nil {
			t.Fatal(err)
		}
		return tile
	}
	first := get("v1", kyiv)
	if body, err := first.MVT(); err != nil || !bytes.Equal(body, want) || first.Size != len(want) {
		t.Fatalf("cached tile differs from the rendered one (%v)", err)
	}
	if again := get("v1", kyiv); again != first {
		t.Error("second request rendered again")
	}
	reloaded := get("v2", kyiv)
	if reloaded == first || reloaded.ETag != first.ETag {
		t.Errorf("a new version must render anew (%p %p) to the same content (%s %s)", reloaded, first, reloaded.ETag, first.ETag)
	}
	ocean := get("v1", maptile.New(0, 0, 10))
	if !ocean.Empty() || ocean.Gzip != nil || ocean.ETag == first.ETag {
		t.Errorf("empty tile: %+v", ocean)
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 3 || st.Tiles != 3 {
		t.Errorf("stats %+v, want 1 hit, 3 misses, 3 tiles", st)
	}
	if _, err := c.Tile(l, "v1", 3, 8, 0); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("out of range: %v", err)
	}
}

// TestCacheBound: the cache never holds more than its bound and keeps
// the tiles used most recently.
func TestCacheBound(t *testing.T) {
	l := synthLayer(t, 20_000)
	center := maptile.At(l.Feature(0).Geometry.Bound().Center(), 12)
	first, err := NewCache(1<<30).Tile(l, "v", 12, center.X, center.Y)
	if err != nil || first.Empty() {
		t.Fatalf("%v %+v", err, first)
	}
	bound := 3 * (len(first.Gzip) + 2*entryOverhead)
	c := NewCache(bound)
	for dx := range uint32(20) {
		for _, x := range []uint32{center.X, center.X + dx} { // the centre stays in use
			if _, err := c.Tile(l, "v", 12, x, center.Y); err != nil {
				t.Fatal(err)
			}
		}
		if st := c.Stats(); st.Bytes > bound {
			t.Fatalf("holds %d bytes, bound %d", st.Bytes, bound)
		}
	}
	before := c.Stats()
	if _, err := c.Tile(l, "v", 12, center.X, center.Y); err != nil {
		t.Fatal(err)
	}
	if after := c.Stats(); after.Hits != before.Hits+1 {
		t.Error("the tile used most recently was evicted")
	}
	if st := c.Stats(); st.Tiles >= 20 {
		t.Errorf("%d tiles held under a bound of %d bytes", st.Tiles, bound)
	}
	none := NewCache(0)
	if _, err := none.Tile(l, "v", 12, center.X, center.Y); err != nil || none.Stats().Tiles != 0 {
		t.Errorf("a cache of 0 bytes holds tiles (%v)", err)
	}
}

// TestCacheSharesRendering: requests for a tile being rendered wait for
// that rendering rather than start their own.
func TestCacheSharesRendering(t *testing.T) {
	l := defaultLayer(t, "energy")
	c := NewCache(0) // holds nothing, so only sharing saves a rendering
	release := make(chan struct{})
	renders := 0
	c.render = func(l *geo.Layer, z, x, y uint32) ([]byte, error) {
		renders++
		<-release
		return Render(l, z, x, y)
	}
	var wg sync.WaitGroup
	tiles := make([]*Tile, 8)
	for i := range tiles {
		wg.Go(func() {
			tile, err := c.Tile(l, "v", 6, 37, 21)
			if err != nil {
				t.Error(err)
			}
			tiles[i] = tile
		})
	}
	for c.Stats().Hits < uint64(len(tiles)-1) { // all but the renderer wait
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if renders != 1 {
		t.Errorf("%d renderings", renders)
	}
	for _, tile := range tiles {
		if tile != tiles[0] || tile.Empty() {
			t.Fatal("requests got different or empty tiles")
		}
	}
}
