package geo

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"

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
	power struct {
		once  sync.Once
		layer *Layer
	}
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

// benchPowerLines is an energy layer of long transmission lines
// (synth.PowerLines), about 11 of whose envelopes cover a point of the
// benchmark set's extent.
func benchPowerLines() *Layer {
	bench.power.once.Do(func() {
		sites := synth.PowerLines(5_000, benchSeed)
		fs := make([]Feature, len(sites))
		for i, s := range sites {
			fs[i] = Feature{ID: s.ID, Kind: s.Kind, Name: s.Name, Geometry: s.Geometry}
		}
		l, err := NewLayer("power", "synthetic", fs)
		if err != nil {
			panic(err)
		}
		bench.power.layer = l
	})
	return bench.power.layer
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

// BenchmarkNearby: 5 km, limit 20, over 1M features, beside a linear scan
// that must give the same answers.
func BenchmarkNearby(b *testing.B) {
	benchProximity(b, 5000, func(ix *Index, p orb.Point) ([]Hit, error) { return ix.Nearby(p, 5000, 20) })
}

// BenchmarkNearbyPowerLines: BenchmarkNearby with a layer of long power
// lines beside the 1M features, as a real energy layer has; the lines are
// 20 to 200 km long, so every query lies within several of their envelopes.
func BenchmarkNearbyPowerLines(b *testing.B) {
	benchProximity(b, 5000, func(ix *Index, p orb.Point) ([]Hit, error) { return ix.Nearby(p, 5000, 20) }, benchPowerLines())
}

// BenchmarkNearest: the 20 nearest features over 1M, whatever their
// distance, beside a linear scan that must give the same answers.
func BenchmarkNearest(b *testing.B) {
	benchProximity(b, math.Inf(1), func(ix *Index, p orb.Point) ([]Hit, error) { return ix.Nearest(p, 20) })
}

// benchProximity times query, which asks for the 20 nearest features
// within meters, over the benchmark set and the layers more, and checks it
// against a linear scan.
func benchProximity(b *testing.B, meters float64, query func(*Index, orb.Point) ([]Hit, error), more ...*Layer) {
	l, sites := benchSet(b)
	ix, _ := NewIndex(append([]*Layer{l}, more...)...)
	qs := benchQueries(sites, 4096)
	b.Run("rtree", func(b *testing.B) {
		b.ReportAllocs()
		perQuery(b, func(i int) int {
			h, err := query(ix, qs[i%len(qs)])
			if err != nil {
				b.Fatal(err)
			}
			return len(h)
		})
	})
	b.Run("linear", func(b *testing.B) {
		for i := range b.N {
			p := qs[i%len(qs)]
			want := linearScan(ix.layers, p, meters, 20)
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
		perQuery(b, func(i int) (hits int) {
			l.Search(box(qs[i%len(qs)]), func(int) bool { hits++; return true })
			return hits
		})
	})
	// The R-tree's walk alone, every envelope meeting the box a candidate:
	// what Search adds to it is the exact test and the caller's function.
	b.Run("walk", func(b *testing.B) {
		perQuery(b, func(i int) (candidates int) {
			lo, hi := box32(box(qs[i%len(qs)]).parts()[0])
			l.tree.Search(lo, hi, func([2]float32, [2]float32, int32) bool { candidates++; return true })
			return candidates
		})
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

// BenchmarkSearchPowerLines: 0.1° × 0.1° boxes over the layer of long
// power lines alone, each box about a point of the 1M set's.
func BenchmarkSearchPowerLines(b *testing.B) {
	_, sites := benchSet(b)
	l := benchPowerLines()
	qs := benchQueries(sites, 4096)
	b.ReportAllocs()
	perQuery(b, func(i int) (hits int) {
		p := qs[i%len(qs)]
		l.Search(BBox{p[0] - 0.05, p[1] - 0.05, p[0] + 0.05, p[1] + 0.05}, func(int) bool { hits++; return true })
		return hits
	})
}

// perQuery runs query b.N times on a locked thread and reports the
// thread's CPU time per query and the hits query returned on average.
// CPU time, unlike ns/op, leaves out the time other processes on a shared
// machine took from this one.
func perQuery(b *testing.B, query func(i int) (hits int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	hits := 0
	start := testenv.ThreadCPU(b)
	for i := range b.N {
		hits += query(i)
	}
	b.ReportMetric(float64(testenv.ThreadCPU(b)-start)/1e3/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
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
