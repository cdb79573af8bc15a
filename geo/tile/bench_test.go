package tile

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

var benchLayer = sync.OnceValue(func() *geo.Layer { return synthLayer(&testing.B{}, 1_000_000) })

// benchTiles are tiles at zoom z around random sites of the set.
func benchTiles(l *geo.Layer, z maptile.Zoom, n int) []maptile.Tile {
	r := rand.New(rand.NewPCG(uint64(z), 9))
	out := make([]maptile.Tile, n)
	for i := range out {
		c := l.Feature(r.IntN(l.Len())).Geometry.Bound().Center()
		out[i] = maptile.At(c, z)
	}
	return out
}

// BenchmarkRender renders 1,000 random tiles per zoom level from the 1M set
// uncached and reports median and p99 render time and tile size.
func BenchmarkRender(b *testing.B) {
	l := benchLayer()
	for _, z := range []maptile.Zoom{6, 10, 14} {
		b.Run("z"+itoa(uint32(z)), func(b *testing.B) {
			tiles := benchTiles(l, z, 1000)
			b.ReportAllocs()
			var times []time.Duration
			var bytes, biggest int
			for i := range b.N {
				t := tiles[i%len(tiles)]
				start := time.Now()
				body, err := Render(l, uint32(t.Z), t.X, t.Y)
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(body)
				biggest = max(biggest, len(body))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds()), "median-µs")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(bytes)/float64(b.N), "B/tile")
			b.ReportMetric(float64(biggest), "max-B/tile")
		})
	}
}

// BenchmarkCachedPan replays a pan session: a 4×3 viewport of z10 tiles
// moving one tile at a time east, then back west, through the cache.
func BenchmarkCachedPan(b *testing.B) {
	l := benchLayer()
	start := maptile.At(l.Feature(0).Geometry.Bound().Center(), 10)
	var session []maptile.Tile
	for step := range 16 {
		dx := step
		if step >= 8 {
			dx = 15 - step
		}
		for x := range 4 {
			for y := range 3 {
				session = append(session, maptile.New(start.X+uint32(dx+x), start.Y+uint32(y), 10))
			}
		}
	}
	cache := NewCache(64 << 20)
	b.ReportAllocs()
	for i := range b.N {
		t := session[i%len(session)]
		k := Key{Layer: l.Name(), Version: "v", Z: uint32(t.Z), X: t.X, Y: t.Y}
		if _, ok := cache.Get(k); ok {
			continue
		}
		body, err := Render(l, uint32(t.Z), t.X, t.Y)
		if err != nil {
			b.Fatal(err)
		}
		cache.Put(k, body)
	}
	hits, misses, _ := cache.Stats()
	b.ReportMetric(float64(hits)/float64(hits+misses), "hit-rate")
}
