package geo

import (
	"container/heap"
	"math/rand/v2"
	"testing"
)

// candQueue is container/heap's way to the same queue as candHeap.
type candQueue []pendingCand

func (q candQueue) Len() int           { return len(q) }
func (q candQueue) Less(i, j int) bool { return q[i].lower < q[j].lower }
func (q candQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *candQueue) Push(x any)        { *q = append(*q, x.(pendingCand)) }
func (q *candQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// heapCands are the lower bounds of a query's candidates: a few hundred,
// as a 5 km proximity query over the 1M set meets.
func heapCands() []pendingCand {
	r := rand.New(rand.NewPCG(7, 8))
	cs := make([]pendingCand, 300)
	for i := range cs {
		cs[i] = pendingCand{lower: r.Float64() * 5000, at: int32(i)}
	}
	return cs
}

// TestCandHeapOrder: candHeap pops in the order container/heap does.
func TestCandHeapOrder(t *testing.T) {
	cs := heapCands()
	var h candHeap
	q := &candQueue{}
	for _, c := range cs {
		h.push(c)
		heap.Push(q, c)
	}
	for len(h) > 0 {
		got, want := h.pop(), heap.Pop(q).(pendingCand)
		if got.lower != want.lower {
			t.Fatalf("candHeap popped %v, container/heap %v", got.lower, want.lower)
		}
	}
}

// BenchmarkCandHeap pushes a query's candidates and pops them all, with
// the hand-written heap and with container/heap.
func BenchmarkCandHeap(b *testing.B) {
	cs := heapCands()
	b.Run("candHeap", func(b *testing.B) {
		b.ReportAllocs()
		h := make(candHeap, 0, len(cs))
		for range b.N {
			for _, c := range cs {
				h.push(c)
			}
			for len(h) > 0 {
				h.pop()
			}
		}
	})
	b.Run("container-heap", func(b *testing.B) {
		b.ReportAllocs()
		q := make(candQueue, 0, len(cs))
		for range b.N {
			for _, c := range cs {
				heap.Push(&q, c)
			}
			for q.Len() > 0 {
				heap.Pop(&q)
			}
		}
	})
}
