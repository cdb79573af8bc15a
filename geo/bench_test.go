package geo

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/testenv"
)

// The country-scale benchmark set: generated, never committed.
const (
	benchFeatures = 1_000_000
	benchSeed     = 2025
)

var bench struct {
	once  sync.Once
	sites []synth.Site
	layer *Layer
}

func benchSet(b testing.TB) (*Layer, []synth.Site) {
	bench.once.Do(func() {
		bench.sites = synth.Sites(benchFeatures, benchSeed)
		fs := make([]Feature, len(bench.sites))
		for i, s := range bench.sites {
			fs[i] = Feature{ID: s.ID, Kind: s.Kind, Name: s.Name, Geometry: s.Geometry}
		}
		l, err := NewLayer("bench", "synthetic", fs)
		if err != nil {
			panic(err)
		}
		bench.layer = l
	})
	return bench.layer, bench.sites
}

// benchQueries are points near real sites, where analysts' questions are.
func benchQueries(sites []synth.Site, n int) []orb.Point {
	r := rand.New(rand.NewPCG(benchSeed, 1))
	out := make([]orb.Point, n)
	for i := range out {
		c := sites[r.IntN(len(sites))].Geometry.Bound().Center()
		out[i] = orb.Point{c[0] + r.NormFloat64()*0.02, c[1] + r.NormFloat64()*0.015}
	}
	return out
}

// BenchmarkLoad decodes and indexes the 1M-feature set from GeoJSON and
// reports the heap it keeps per feature and the resident memory it adds.
// The sites are generated afresh and dropped before loading, so the figures
// count the loaded layer alone.
func BenchmarkLoad(b *testing.B) {
	file := filepath.Join(b.TempDir(), "bench.geojson")
	fh, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := synth.WriteGeoJSON(fh, synth.Sites(benchFeatures, benchSeed)); err != nil {
		b.Fatal(err)
	}
	fh.Close()
	st, _ := os.Stat(file)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		heap, rss := settledMemory(b)
		b.StartTimer()
		start := time.Now()
		l, err := LoadFile("bench", file)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/load")
		b.StopTimer()
		heapAfter, rssAfter := settledMemory(b)
		b.ReportMetric(float64(heapAfter-heap)/float64(l.Len()), "heap-B/feature")
		b.ReportMetric(float64(rssAfter-rss)/(1<<20), "rss-MB")
		runtime.KeepAlive(l)
		b.StartTimer()
	}
}

// settledMemory collects garbage, returns freed pages to the system and
// reads the live heap and the resident set size, in bytes.
func settledMemory(b *testing.B) (heap, rss int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS line %q: %v", line, err)
			}
			rss = n << 10
		}
	}
	if rss == 0 {
		b.Fatal("no VmRSS in /proc/self/status")
	}
	return int64(ms.HeapAlloc), rss
}

// BenchmarkNearby: 5 km, limit 20, over 1M features, beside a linear scan
// that must give the same answers.
func BenchmarkNearby(b *testing.B) {
	benchProximity(b, 5000, func(ix *Index, p orb.Point) ([]Hit, error) { return ix.Nearby(p, 5000, 20) })
}

// BenchmarkNearest: the 20 nearest features over 1M, whatever their
// distance, beside a linear scan that must give the same answers.
func BenchmarkNearest(b *testing.B) {
	benchProximity(b, math.Inf(1), func(ix *Index, p orb.Point) ([]Hit, error) { return ix.Nearest(p, 20) })
}

// benchProximity times query, which asks for the 20 nearest features
// within meters, and checks it against a linear scan.
func benchProximity(b *testing.B, meters float64, query func(*Index, orb.Point) ([]Hit, error)) {
	l, sites := benchSet(b)
	ix, _ := NewIndex(l)
	qs := benchQueries(sites, 4096)
	b.Run("rtree", func(b *testing.B) {
		b.ReportAllocs()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		hits := 0
		start := testenv.ThreadCPU(b)
		for i := range b.N {
			h, err := query(ix, qs[i%len(qs)])
			if err != nil {
				b.Fatal(err)
			}
			hits += len(h)
		}
		// CPU time, unlike ns/op, leaves out the time other processes on
		// a shared machine took from this one.
		b.ReportMetric(float64(testenv.ThreadCPU(b)-start)/1e3/float64(b.N), "cpu-µs/op")
		b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	})
	b.Run("linear", func(b *testing.B) {
		for i := range b.N {
			p := qs[i%len(qs)]
			want := linearScan([]*Layer{l}, p, meters, 20)
			got, _ := query(ix, p)
			if !sameHits(got, want) {
				b.Fatalf("query %v: index and linear scan disagree", p)
			}
		}
	})
}

// BenchmarkSearch: 0.1° × 0.1° boxes over 1M features, beside a linear scan
// that must find the same features.
func BenchmarkSearch(b *testing.B) {
	l, sites := benchSet(b)
	qs := benchQueries(sites, 4096)
	box := func(p orb.Point) BBox { return BBox{p[0] - 0.05, p[1] - 0.05, p[0] + 0.05, p[1] + 0.05} }
	b.Run("rtree", func(b *testing.B) {
		b.ReportAllocs()
		hits := 0
		for i := range b.N {
			l.Search(box(qs[i%len(qs)]), func(int) bool { hits++; return true })
		}
		b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	})
	b.Run("linear", func(b *testing.B) {
		for i := range b.N {
			bb := box(qs[i%len(qs)])
			var want, got []int
			for _, part := range bb.parts() {
				for j := range l.features {
					if intersects(l.features[j].Geometry, part) {
						want = append(want, j)
					}
				}
			}
			l.Search(bb, func(j int) bool { got = append(got, j); return true })
			sort.Ints(got)
			if !slices.Equal(got, want) {
				b.Fatalf("box %v: index finds %d, linear scan %d", bb, len(got), len(want))
			}
		}
	})
}

func sameHits(a, b []Hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Index != b[i].Index || a[i].Layer != b[i].Layer || a[i].Meters != b[i].Meters {
			return false
		}
	}
	return true
}
