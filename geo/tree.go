package geo

import "math"

// tree is an R-tree packed once over envelopes given in the order of the
// layer's positions, which follow a Hilbert curve: each node covers
// nodeSize consecutive entries of the level below, and every level lies in
// one slice, so a search reads boxes next to each other in memory and
// follows no pointers. A layer never changes once built, so the tree needs
// no room to grow, and an item's position is its index in the lowest level.
type tree struct {
	boxes []rect // the items by position, then each level of nodes up to the root
	// levels[k] is where the k-th level begins in boxes (0 for the items);
	// the last entry is len(boxes).
	levels []int
}

// rect is an envelope as the tree stores it (see box32).
type rect struct{ lo, hi [2]float32 }

// nodeSize is how many entries a node covers: a node's boxes fill four
// cache lines.
const nodeSize = 16

// newTree packs boxes, the items' envelopes by position.
func newTree(boxes []rect) tree {
	t := tree{boxes: boxes, levels: []int{0}}
	for from, to := 0, len(boxes); to-from > 1; {
		for k := from; k < to; k += nodeSize {
			b := t.boxes[k]
			for _, c := range t.boxes[k+1 : min(k+nodeSize, to)] {
				b.lo = [2]float32{min(b.lo[0], c.lo[0]), min(b.lo[1], c.lo[1])}
				b.hi = [2]float32{max(b.hi[0], c.hi[0]), max(b.hi[1], c.hi[1])}
			}
			t.boxes = append(t.boxes, b)
		}
		t.levels = append(t.levels, to)
		from, to = to, len(t.boxes)
	}
	t.levels = append(t.levels, len(t.boxes))
	return t
}

// meets reports whether b and q share a point (touching counts).
func (b *rect) meets(q *rect) bool {
	return b.lo[0] <= q.hi[0] && b.hi[0] >= q.lo[0] && b.lo[1] <= q.hi[1] && b.hi[1] >= q.lo[1]
}

// top is the root's level.
func (t *tree) top() int { return len(t.levels) - 2 }

// children returns where the entries under the entry at i of level k > 0
// lie in boxes.
func (t *tree) children(k, i int) (from, to int) {
	from = t.levels[k-1] + (i-t.levels[k])*nodeSize
	return from, min(from+nodeSize, t.levels[k])
}

// Search calls fn with every item whose envelope meets the box lo–hi, in
// the order of their positions, until fn returns false.
func (t *tree) Search(lo, hi [2]float32, fn func(lo, hi [2]float32, at int32) bool) {
	k := t.top()
	t.search(k, t.levels[k], t.levels[k+1], &rect{lo, hi}, fn)
}

func (t *tree) search(k, from, to int, q *rect, fn func(lo, hi [2]float32, at int32) bool) bool {
	for i := from; i < to; i++ {
		b := &t.boxes[i]
		if !b.meets(q) {
			continue
		}
		if k == 0 {
			if !fn(b.lo, b.hi, int32(i)) {
				return false
			}
			continue
		}
		if c, d := t.children(k, i); !t.search(k-1, c, d, q, fn) {
			return false
		}
	}
	return true
}

// walkEntry is a node or an item waiting in a best-first walk.
type walkEntry struct {
	key   float64
	at    int32 // in boxes
	level int32
}

// Nearby walks the tree best first: entries come out in order of their
// keys, which key gives every node and item (item true), and which must
// not fall from a node to what it holds. An entry keyed +Inf is dropped
// with all it holds. fn is called with each item in turn until it returns
// false. queue is the walk's room, returned for the next walk to reuse.
func (t *tree) Nearby(queue []walkEntry, key func(lo, hi [2]float32, item bool) float64, fn func(lo, hi [2]float32, at int32, key float64) bool) []walkEntry {
	queue = queue[:0]
	if len(t.boxes) == 0 {
		return queue
	}
	k := t.top()
	root := &t.boxes[t.levels[k]]
	if d := key(root.lo, root.hi, k == 0); d <= math.MaxFloat64 {
		queue = append(queue, walkEntry{d, int32(t.levels[k]), int32(k)})
	}
	for len(queue) > 0 {
		e := queue[0]
		last := len(queue) - 1
		queue[0] = queue[last]
		queue = queue[:last]
		heapDown(queue, 0, lowerKey)
		if e.level == 0 {
			b := &t.boxes[e.at]
			if !fn(b.lo, b.hi, e.at, e.key) {
				return queue
			}
			continue
		}
		from, to := t.children(int(e.level), int(e.at))
		for i := from; i < to; i++ {
			b := &t.boxes[i]
			if d := key(b.lo, b.hi, e.level == 1); d <= math.MaxFloat64 {
				queue = heapPush(queue, walkEntry{d, int32(i), e.level - 1}, lowerKey)
			}
		}
	}
	return queue
}

func lowerKey(a, b *walkEntry) bool { return a.key < b.key }
