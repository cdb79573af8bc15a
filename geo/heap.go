package geo

// Binary heaps over plain slices: container/heap boxes every element in an
// interface, which costs an allocation per push on the query hot path.

func heapPush[T any](h []T, x T, less func(a, b *T) bool) []T {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !less(&h[i], &h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	return h
}

func heapDown[T any](h []T, i int, less func(a, b *T) bool) {
	for {
		smallest := i
		if l := 2*i + 1; l < len(h) && less(&h[l], &h[smallest]) {
			smallest = l
		}
		if r := 2*i + 2; r < len(h) && less(&h[r], &h[smallest]) {
			smallest = r
		}
		if smallest == i {
			return
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
}

// candHeap is a binary heap of candidates, smallest lower bound on top.
// It runs in the inner loop of every proximity query, so, unlike the
// generic heap, it compares in line rather than through a function value.
type candHeap []pendingCand

// pendingCand is a candidate's lower bound and its place in query.cands.
type pendingCand struct {
	lower float64
	at    int32
}

func (h *candHeap) push(c pendingCand) {
	s := append(*h, c)
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if s[parent].lower <= c.lower {
			break
		}
		s[i] = s[parent]
		i = parent
	}
	s[i] = c
	*h = s
}

func (h *candHeap) pop() pendingCand {
	s := *h
	top, last := s[0], s[len(s)-1]
	s = s[:len(s)-1]
	// Sift the last candidate down from the root, moving smaller
	// children up into the hole.
	i := 0
	for {
		child := 2*i + 1
		if child >= len(s) {
			break
		}
		if r := child + 1; r < len(s) && s[r].lower < s[child].lower {
			child = r
		}
		if last.lower <= s[child].lower {
			break
		}
		s[i] = s[child]
		i = child
	}
	if len(s) > 0 {
		s[i] = last
	}
	*h = s
	return top
}
