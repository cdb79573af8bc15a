package tile

import (
	"context"
	"errors"
	"testing"

	"github.com/paulmach/orb/maptile"
)

// TestWarm: warming renders every tile over the layer up to the zoom given,
// once; requests for them then hit the cache. It stops when cancelled and
// leaves half a small cache to requests.
func TestWarm(t *testing.T) {
	l := synthLayer(t, 20_000)
	c := NewCache(64 << 20)
	n, err := c.Warm(context.Background(), l, "v1", 4)
	if err != nil || n == 0 {
		t.Fatalf("warmed %d tiles, %v", n, err)
	}
	if s := c.Stats(); s.Tiles != n || s.Misses != uint64(n) {
		t.Errorf("after warming %d tiles the cache holds %d and missed %d", n, s.Tiles, s.Misses)
	}
	// Every feature's tiles up to zoom 4 are warm.
	for i := 0; i < l.Len(); i += 997 {
		p := l.Feature(i).Geometry.Bound().Center()
		for z := range uint32(5) {
			tl := maptile.At(p, maptile.Zoom(z))
			if _, err := c.Tile(l, "v1", z, tl.X, tl.Y); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s := c.Stats(); s.Misses != uint64(n) || s.Hits == 0 {
		t.Errorf("requests after warming: %d hits, %d misses (warming made %d)", s.Hits, s.Misses, n)
	}
	if again, _ := c.Warm(context.Background(), l, "v1", 4); again != 0 {
		t.Errorf("warming again rendered %d tiles", again)
	}
	// A new data version is warmed anew.
	if fresh, _ := c.Warm(context.Background(), l, "v2", 4); fresh != n {
		t.Errorf("warming a new version rendered %d tiles, want %d", fresh, n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := NewCache(64<<20).Warm(ctx, l, "v1", 4); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled warming rendered %d tiles, %v", n, err)
	}
	all, _ := NewCache(1<<30).Warm(context.Background(), l, "v1", MaxWarmZoom)
	small := NewCache(64 << 10)
	if n, _ := small.Warm(context.Background(), l, "v1", MaxWarmZoom); n == 0 || n >= all {
		t.Errorf("a 64 KiB cache warmed %d of the %d tiles", n, all)
	}
	if empty, _ := NewCache(64<<20).Warm(context.Background(), synthLayer(t, 0), "v1", 4); empty != 0 {
		t.Errorf("an empty layer warmed %d tiles", empty)
	}
	if none, _ := NewCache(0).Warm(context.Background(), l, "v1", 4); none != 0 {
		t.Errorf("no cache, yet %d tiles warmed", none)
	}
}
