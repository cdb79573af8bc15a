package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomRects are n boxes up to 2 units wide in a 100 × 100 square.
func randomRects(r *rand.Rand, n int) []rect {
	out := make([]rect, n)
	for i := range out {
		x, y := r.Float32()*100, r.Float32()*100
		out[i] = rect{[2]float32{x, y}, [2]float32{x + r.Float32()*2, y + r.Float32()*2}}
	}
	return out
}

// TestTreeSearch: the packed tree finds what a scan of every box finds, at
// sizes around the nodes' boundaries, each item once, in position order.
func TestTreeSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, nodeSize - 1, nodeSize, nodeSize + 1, nodeSize * nodeSize, nodeSize*nodeSize + 1, 5000} {
		boxes := randomRects(r, n)
		tr := newTree(slices.Clone(boxes))
		for range 50 {
			q := randomRects(r, 1)[0]
			q.hi = [2]float32{q.hi[0] + r.Float32()*20, q.hi[1] + r.Float32()*20}
			var want, got []int32
			for i := range boxes {
				if boxes[i].meets(&q) {
					want = append(want, int32(i))
				}
			}
			tr.Search(q.lo, q.hi, func(lo, hi [2]float32, at int32) bool {
				if lo != boxes[at].lo || hi != boxes[at].hi {
					t.Fatalf("n=%d: item %d given box %v–%v, holds %v", n, at, lo, hi, boxes[at])
				}
				got = append(got, at)
				return true
			})
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d, box %v: found %v, want %v", n, q, got, want)
			}
		}
	}
}

// TestTreeNearby: a best-first walk gives every item whose key is finite,
// in order of their keys, and none whose node was dropped.
func TestTreeNearby(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var queue []walkEntry
	for _, n := range []int{0, 1, nodeSize + 1, 3000} {
		boxes := randomRects(r, n)
		tr := newTree(slices.Clone(boxes))
		for range 20 {
			px, py := r.Float32()*100, r.Float32()*100
			limit := float64(r.Float32() * 30)
			dist := func(lo, hi [2]float32) float64 {
				dx := max(lo[0]-px, 0, px-hi[0])
				dy := max(lo[1]-py, 0, py-hi[1])
				return math.Hypot(float64(dx), float64(dy))
			}
			var want []float64
			for i := range boxes {
				if d := dist(boxes[i].lo, boxes[i].hi); d <= limit {
					want = append(want, d)
				}
			}
			slices.Sort(want)
			var got []float64
			queue = tr.Nearby(queue,
				func(lo, hi [2]float32, item bool) float64 {
					if d := dist(lo, hi); d <= limit {
						return d
					}
					return math.Inf(1)
				},
				func(lo, hi [2]float32, at int32, key float64) bool {
					if key != dist(boxes[at].lo, boxes[at].hi) {
						t.Fatalf("n=%d: item %d keyed %v", n, at, key)
					}
					got = append(got, key)
					return true
				})
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d: walked %v, want %v", n, got, want)
			}
		}
	}
}
