package server

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSmallest keeps the same keys as sorting every key offered and taking
// the first limit, by value and by an order of its own, for limits from 0
// to beyond the keys offered, in every order the keys come in.
func TestSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	// descending orders keys from the largest, as a sort key would.
	descending := func(a, b int32) bool { return a > b }
	for n := range 2_000 {
		keys := r.Perm(1 + r.IntN(600))
		limit := r.IntN(len(keys) + len(keys)/4 + 2)
		switch n % 4 {
		case 1:
			slices.Sort(keys) // each key offered is the largest yet
		case 2:
			slices.Sort(keys)
			slices.Reverse(keys) // each key replaces the largest kept
		}
		for _, less := range []func(a, b int32) bool{nil, descending} {
			s := smallest{limit: limit, less: less}
			want := make([]int32, len(keys))
			for k, v := range keys {
				s.offer(int32(v))
				want[k] = int32(v)
				if len(s.keys) > max(2*limit-1, 0) {
					t.Fatalf("case %d: %d keys held at limit %d", n, len(s.keys), limit)
				}
			}
			cmp := func(a, b int32) int {
				if s.lt(a, b) {
					return -1
				}
				if s.lt(b, a) {
					return 1
				}
				return 0
			}
			slices.SortFunc(want, cmp)
			want = want[:min(limit, len(want))]
			got := slices.Clone(s.result())
			if less == nil && !slices.IsSorted(got) {
				t.Fatalf("case %d: %d keys, limit %d: by value, kept %v out of order", n, len(keys), limit, got)
			}
			slices.SortFunc(got, cmp)
			if !slices.Equal(got, want) {
				t.Fatalf("case %d: %d keys, limit %d, descending %v: kept %v, want %v", n, len(keys), limit, less != nil, got, want)
			}
		}
	}
}

// TestSortKeys sorts keys as slices.Sort does: negative and positive,
// sharing their high bytes or not, fewer and more than radixMin, with
// spare too short.
func TestSortKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	spans := []int32{1 << 8, 1 << 20, math.MaxInt32}
	var spare []int32
	for n := range 3_000 {
		keys := make([]int32, r.IntN(300))
		span := spans[n%len(spans)]
		for k := range keys {
			keys[k] = r.Int32N(span)
			if n%2 == 1 {
				keys[k] -= span / 2
			}
		}
		want := slices.Sorted(slices.Values(keys))
		if n%5 == 0 {
			spare = nil
		}
		spare = sortKeys(keys, spare)
		if !slices.Equal(keys, want) {
			t.Fatalf("case %d: sorted %v, want %v", n, keys, want)
		}
		if len(keys) >= radixMin && len(spare) < len(keys) {
			t.Fatalf("case %d: spare of %d for %d keys", n, len(spare), len(keys))
		}
	}
}

// BenchmarkSmallestDescending offers keys each smaller than every one
// before, which fill the room again every limit keys: a page of a layer
// whose file order runs against the R-tree's, at small and usual limits.
func BenchmarkSmallestDescending(b *testing.B) {
	for _, limit := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			const keys = 100_000
			var room pageKeys
			for range b.N {
				s := smallest{keys: room.keys[:0], spare: room.spare, limit: limit}
				for k := keys; k > 0; k-- {
					s.offer(int32(k))
				}
				if got := s.result(); len(got) != limit || got[0] != 1 {
					b.Fatalf("kept %v", got[:min(len(got), 3)])
				}
				s.giveBack(&room)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
		})
	}
}
