package geo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// density counts a layer's features by the cell of a coarse grid over the
// layer's envelope that holds their envelope's centre. Sites cluster in
// towns, so how far the k-th nearest site lies varies a hundredfold across
// a layer; the counts near a query point guess it well enough that the
// first box searched is usually the last.
type density struct {
	bound      orb.Bound
	cols, rows int
	counts     []uint32 // row by row
	// spacing is the mean distance between features, in metres, were they
	// spread evenly over the envelope.
	spacing float64
}

// featuresPerCell sizes the grid: enough features per cell to estimate a
// density, few enough cells that the grid stays small (a quarter of a
// megabyte for a million features).
const featuresPerCell = 16

func newDensity(bound orb.Bound, bounds []orb.Bound) density {
	d := density{bound: bound, cols: 1, rows: 1, spacing: 1}
	n := len(bounds)
	if n == 0 {
		d.counts = make([]uint32, 1)
		return d
	}
	midLat := (bound.Min[1] + bound.Max[1]) / 2
	width := (bound.Max[0] - bound.Min[0]) * math.Cos(midLat*math.Pi/180) * geodesy.EquatorMetersPerDegree
	height := (bound.Max[1] - bound.Min[1]) * geodesy.MeridianMetersPerDegree
	d.spacing = max(1, math.Sqrt(width*height/float64(n)))
	// Cells about square on the ground.
	cells := float64(max(1, n/featuresPerCell))
	if width > 0 && height > 0 {
		d.cols = max(1, int(math.Round(math.Sqrt(cells*width/height))))
		d.rows = max(1, int(cells)/d.cols)
	}
	d.counts = make([]uint32, d.cols*d.rows)
	for _, b := range bounds {
		col, row := d.cell(b.Center())
		d.counts[row*d.cols+col]++
	}
	return d
}

// cell returns the grid cell of p, clamped to the grid.
func (d *density) cell(p orb.Point) (col, row int) {
	return slot(p[0], d.bound.Min[0], d.bound.Max[0], d.cols), slot(p[1], d.bound.Min[1], d.bound.Max[1], d.rows)
}

// slot is the one of n equal slots of [lo, hi] that x falls in, clamped.
func slot(x, lo, hi float64, n int) int {
	if hi <= lo {
		return 0
	}
	return min(n-1, max(0, int((x-lo)/(hi-lo)*float64(n))))
}

// reach guesses the distance in metres from p, the centre of frame f,
// within which k features lie: from the count of p's cell when it holds k,
// else of the 3 × 3 cells around it, else from the layer's mean spacing.
func (d *density) reach(f *geodesy.Frame, k int) float64 {
	p := f.Center()
	kx, ky := f.Scale()
	col, row := d.cell(p)
	cellW := (d.bound.Max[0] - d.bound.Min[0]) / float64(d.cols) * kx
	cellH := (d.bound.Max[1] - d.bound.Min[1]) / float64(d.rows) * ky
	count, cells := d.counts[row*d.cols+col], 1
	if int(count) < k {
		count, cells = 0, 0
		for r := max(0, row-1); r <= min(d.rows-1, row+1); r++ {
			for c := max(0, col-1); c <= min(d.cols-1, col+1); c++ {
				count += d.counts[r*d.cols+c]
				cells++
			}
		}
	}
	area := float64(cells) * cellW * cellH
	if count == 0 || !d.bound.Contains(p) || !(area > 0) {
		return d.spacing * math.Sqrt(float64(k)/math.Pi)
	}
	return math.Sqrt(float64(k) * area / (math.Pi * float64(count)))
}
