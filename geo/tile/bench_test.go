package tile

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/testenv"
)

// millionLayer is the 1,000,000-feature generated set, built once per
// test binary: building it takes seconds.
var millionLayer = sync.OnceValues(func() (*geo.Layer, error) { return newSynthLayer(1_000_000) })

func benchLayer(b *testing.B) *geo.Layer {
	l, err := millionLayer()
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// benchTiles are n tiles at zoom z around random sites of the set, so
// they are where a map user would look.
func benchTiles(l *geo.Layer, z maptile.Zoom, n int) []maptile.Tile {
	r := rand.New(rand.NewPCG(uint64(z), 9))
	out := make([]maptile.Tile, n)
	for i := range out {
		c := l.Feature(r.IntN(l.Len())).Geometry.Bound().Center()
		out[i] = maptile.At(c, z)
	}
	return out
}

// quantiles reports the median and 99th percentile of ds under name.
func quantiles(b *testing.B, name string, ds []time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, name+"-median-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds())/1e3, name+"-p99-µs")
}

// BenchmarkRender renders random tiles per zoom level from the 1M set,
// uncached (run with -benchtime 1000x for 1,000 tiles), and reports
// median and p99 render time, in wall time and in CPU time of the
// rendering thread, the tiles' sizes raw and gzipped, and the share of
// tiles aggregated to fit MaxBytes.
func BenchmarkRender(b *testing.B) {
	l := benchLayer(b)
	for _, z := range []maptile.Zoom{6, 10, 14} {
		b.Run("z"+itoa(uint32(z)), func(b *testing.B) {
			tiles := benchTiles(l, z, b.N)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			wall := make([]time.Duration, 0, b.N)
			cpu := make([]time.Duration, 0, b.N)
			bodies := make([][]byte, 0, b.N)
			aggregated := 0
			for _, t := range tiles {
				start, startCPU := time.Now(), testenv.ThreadCPU(b)
				body, d, err := render(l, uint32(t.Z), t.X, t.Y)
				wall = append(wall, time.Since(start))
				cpu = append(cpu, testenv.ThreadCPU(b)-startCPU)
				if err != nil {
					b.Fatal(err)
				}
				bodies = append(bodies, body)
				if d.cellPx > 0 {
					aggregated++
				}
			}
			b.StopTimer()
			quantiles(b, "wall", wall)
			quantiles(b, "cpu", cpu)
			var raw, zipped, maxRaw, maxZipped int
			for _, body := range bodies {
				n := len(gzipped(b, body))
				raw, zipped = raw+len(body), zipped+n
				maxRaw, maxZipped = max(maxRaw, len(body)), max(maxZipped, n)
			}
			b.ReportMetric(float64(raw)/float64(b.N), "B/tile")
			b.ReportMetric(float64(maxRaw), "max-B/tile")
			b.ReportMetric(float64(zipped)/float64(b.N), "gz-B/tile")
			b.ReportMetric(float64(maxZipped), "max-gz-B/tile")
			b.ReportMetric(float64(aggregated)/float64(b.N), "aggregated")
		})
	}
}

func gzipped(b *testing.B, body []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkCachedPan replays a pan session through the cache: a 4×3
// viewport of z10 tiles moving one tile at a time east, then back west,
// 192 requests of 33 tiles, over and over. It reports the hit rate of the
// first pass and of all, and the time a cached tile takes.
func BenchmarkCachedPan(b *testing.B) {
	l := benchLayer(b)
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
	b.ResetTimer()
	var hit []time.Duration
	var firstPass Stats
	for i := range b.N {
		if i == len(session) {
			firstPass = cache.Stats()
		}
		t := session[i%len(session)]
		before := cache.Stats()
		begin := time.Now()
		if _, err := cache.Tile(l, "v1", uint32(t.Z), t.X, t.Y); err != nil {
			b.Fatal(err)
		}
		if cache.Stats().Hits > before.Hits {
			hit = append(hit, time.Since(begin))
		}
	}
	b.StopTimer()
	st := cache.Stats()
	b.ReportMetric(float64(st.Hits)/float64(st.Hits+st.Misses), "hit-rate")
	if firstPass.Hits+firstPass.Misses > 0 {
		b.ReportMetric(float64(firstPass.Hits)/float64(firstPass.Hits+firstPass.Misses), "first-pass-hit-rate")
	}
	if len(hit) > 0 {
		quantiles(b, "hit", hit)
	}
}
