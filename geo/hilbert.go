package geo

import (
	"slices"

	"github.com/paulmach/orb"
)

// hilbertOrder returns the indexes of boxes sorted along a Hilbert curve
// through their centres, on a grid of 2¹⁶ × 2¹⁶ cells over the bound all
// of them lie in: fine enough that only sites metres apart share a cell.
func hilbertOrder(boxes []orb.Bound, all orb.Bound) []int32 {
	type keyed struct {
		key   uint64
		index int32
	}
	ks := make([]keyed, len(boxes))
	for i, b := range boxes {
		c := b.Center()
		ks[i] = keyed{hilbert(cell(c[0], all.Min[0], all.Max[0]), cell(c[1], all.Min[1], all.Max[1])), int32(i)}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out := make([]int32, len(ks))
	for i, k := range ks {
		out[i] = k.index
	}
	return out
}

// cell is the grid column (or row) of x in [lo, hi].
func cell(x, lo, hi float64) uint32 {
	if hi <= lo {
		return 0
	}
	return uint32((x - lo) / (hi - lo) * (1<<16 - 1))
}

// hilbert is the distance along a Hilbert curve filling the 2¹⁶ × 2¹⁶ grid
// of the cell (x, y).
func hilbert(x, y uint32) uint64 {
	var d uint64
	for s := uint32(1) << 15; s > 0; s /= 2 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		// Rotate the quadrant so the curve inside it joins its neighbours.
		if ry == 0 {
			if rx == 1 {
				x, y = s-1-x, s-1-y
			}
			x, y = y, x
		}
	}
	return d
}
