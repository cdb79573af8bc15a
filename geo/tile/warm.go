package tile

import (
	"context"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

// MaxWarmZoom bounds Warm: beyond it a country takes thousands of tiles,
// which requests render as they come.
const MaxWarmZoom = 8

// Warm renders into the cache the tiles of zooms 0 to maxZoom (at most
// MaxWarmZoom) over l's extent, lowest zoom first, so the first views of a
// large layer need no rendering. It stops when ctx ends or the tiles it
// warmed fill half the cache, leaving the rest to requests, and returns how
// many tiles it rendered. Tiles already cached are left as they are.
func (c *Cache) Warm(ctx context.Context, l *geo.Layer, version string, maxZoom uint32) (int, error) {
	if l.Len() == 0 || c.maxBytes == 0 {
		return 0, nil
	}
	b := l.Bound()
	rendered, bytes := 0, 0
	for z := range min(maxZoom, MaxWarmZoom) + 1 {
		// Tiles count y downwards: the north-west corner has the least.
		nw := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z))
		se := maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
		for x := nw.X; x <= se.X; x++ {
			for y := nw.Y; y <= se.Y; y++ {
				if ctx.Err() != nil || 2*bytes > c.maxBytes {
					return rendered, ctx.Err()
				}
				if c.cached(l, version, z, x, y) {
					continue
				}
				t, err := c.Tile(l, version, z, x, y)
				if err != nil {
					return rendered, err
				}
				rendered++
				bytes += len(t.Gzip)
			}
		}
	}
	return rendered, nil
}

// cached reports whether the cache holds the tile.
func (c *Cache) cached(l *geo.Layer, version string, z, x, y uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[key{l.Name(), version, z, x, y}]
	return ok
}
