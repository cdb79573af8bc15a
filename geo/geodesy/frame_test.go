package geodesy

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// TestFrameAccuracy checks the bound the search's pruning relies on: inside
// its spans the local frame's distance is within frameError of the
// geodesic distance.
func TestFrameAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	worst := 0.0
	for range 200_000 {
		c := orb.Point{-180 + r.Float64()*360, -75 + r.Float64()*150}
		f := NewFrame(c)
		scale := []float64{0.001, 0.01, 0.05, 0.2, 1}[r.IntN(5)]
		q := orb.Point{
			wrapLon(c[0] + (r.Float64()*2-1)*frameLonSpan*scale),
			c[1] + (r.Float64()*2-1)*frameLatSpan*scale,
		}
		x, y := f.project(q)
		planar, exact := math.Hypot(x, y), Distance(c, q)
		if exact < 1 {
			continue
		}
		// How much of its error budget the frame uses.
		worst = max(worst, math.Abs(planar-exact)/(frameError(exact)*exact+frameSlackMeters))
	}
	t.Logf("worst Frame error: %.2f of the bound", worst)
	if worst > 1 {
		t.Fatalf("Frame error exceeds frameError by a factor %.2f", worst)
	}
}

// TestPlanarLowerBound checks that the frame's bound on the distance to a
// geometry's edges, long geodesic edges included, never exceeds the exact
// distance.
func TestPlanarLowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	clampPt := func(p orb.Point) orb.Point { return orb.Point{wrapLon(p[0]), max(-89, min(89, p[1]))} }
	checked := 0
	for range 40_000 {
		p := orb.Point{-180 + r.Float64()*360, -75 + r.Float64()*150}
		s := []float64{0.01, 0.1, 1, 2}[r.IntN(4)]
		a := clampPt(orb.Point{p[0] + (r.Float64()*2-1)*s*2, p[1] + (r.Float64()*2-1)*s*1.5})
		span := []float64{0.01, 2}[r.IntN(2)]
		b := clampPt(orb.Point{a[0] + (r.Float64()*2-1)*span, a[1] + (r.Float64()*2-1)*span*0.75})
		g := orb.LineString{a, b}
		m := NewMeasure(p)
		gb := g.Bound()
		if !m.Frame.Covers(&gb) || math.Abs(b[0]-a[0]) > 180 {
			continue
		}
		checked++
		lb, _ := m.Edges(g, &gb, false)
		if exact := m.Exact(g, &gb, true).Meters; lb > exact {
			t.Fatalf("point %v edge %v: lower bound %.4f m exceeds exact %.4f m", p, g, lb, exact)
		}
	}
	if checked < 10_000 {
		t.Fatalf("only %d cases inside the Frame", checked)
	}
}

// TestBoxLowerBound checks the bound every R-tree entry is keyed by: it
// never exceeds the geodesic distance to any point of the box, whether the
// box lies inside the frame's window, straddles its edge or lies beyond it.
func TestBoxLowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	sides := 0
	for range 20_000 {
		p := orb.Point{-180 + r.Float64()*360, -80 + r.Float64()*160}
		f := NewFrame(p)
		off := []float64{0.001, 0.05, 1, 4, 8}[r.IntN(5)]
		size := []float64{0, 0.0001, 0.01, 1, 6}[r.IntN(5)]
		lo := orb.Point{wrapLon(p[0] + (r.Float64()*2-1)*off*1.5), max(-89, min(89, p[1]+(r.Float64()*2-1)*off))}
		hi := orb.Point{min(180, lo[0]+r.Float64()*size), min(90, lo[1]+r.Float64()*size)}
		box := orb.Bound{Min: lo, Max: hi}
		if f.usable && f.plain && !f.Covers(&box) && box.Intersects(f.window) {
			sides++
		}
		lb := f.LowerBound(&box)
		// The nearest point of the box lies on its edge, or is p itself.
		near := math.Inf(1)
		if box.Contains(p) {
			near = 0
		}
		const n = 64
		for k := range n + 1 {
			s := float64(k) / n
			for _, q := range []orb.Point{
				{lo[0] + s*(hi[0]-lo[0]), lo[1]}, {lo[0] + s*(hi[0]-lo[0]), hi[1]},
				{lo[0], lo[1] + s*(hi[1]-lo[1])}, {hi[0], lo[1] + s*(hi[1]-lo[1])},
			} {
				near = min(near, Distance(p, q))
			}
		}
		if lb > near {
			t.Fatalf("point %v box %v: lower bound %.4f m exceeds %.4f m", p, box, lb, near)
		}
	}
	if sides < 500 {
		t.Fatalf("only %d boxes straddle the Frame's window", sides)
	}
}

// TestFrameOutside checks the bound on the distance to anything outside
// the frame's window, which keys the boxes that straddle its edge.
func TestFrameOutside(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 19))
	for range 20_000 {
		p := orb.Point{-170 + r.Float64()*340, -75 + r.Float64()*150}
		f := NewFrame(p)
		if !f.plain {
			continue
		}
		// A point on the window's edge, or a little beyond it.
		w := f.window
		q := orb.Point{w.Min[0] + r.Float64()*(w.Max[0]-w.Min[0]), w.Min[1] + r.Float64()*(w.Max[1]-w.Min[1])}
		beyond := r.Float64() * 0.5
		switch r.IntN(4) {
		case 0:
			q[0] = w.Min[0] - beyond
		case 1:
			q[0] = w.Max[0] + beyond
		case 2:
			q[1] = w.Min[1] - beyond
		default:
			q[1] = w.Max[1] + beyond
		}
		q[1] = max(-90, min(90, q[1]))
		if d := Distance(p, q); d < f.outside {
			t.Fatalf("point %v: %v beyond the window is %.3f m away, bound %.3f m", p, q, d, f.outside)
		}
	}
}

// TestFrameAround checks the box stage's box: it holds every point within
// the distance it was made for.
func TestFrameAround(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 23))
	checked := 0
	for range 50_000 {
		p := orb.Point{-180 + r.Float64()*360, -80 + r.Float64()*160}
		f := NewFrame(p)
		meters := []float64{0, 1, 100, 5_000, 50_000, 300_000}[r.IntN(6)] * r.Float64()
		box, ok := f.Around(meters)
		if !ok {
			continue
		}
		checked++
		q, _ := Direct(p, r.Float64()*360-180, meters*math.Sqrt(r.Float64()))
		if r.IntN(4) == 0 {
			// The rim, where the box is tightest.
			q, _ = Direct(p, r.Float64()*360-180, meters)
		}
		if !box.Contains(q) {
			t.Fatalf("point %v, %.3f m: %v (%.3f m away) lies outside %v", p, meters, q, Distance(p, q), box)
		}
	}
	if checked < 20_000 {
		t.Fatalf("only %d boxes fit their window", checked)
	}
}

// TestExactPicksEdges checks that ranking a geometry's edges in the frame,
// and refining only those that may hold the nearest point, gives the
// distance that refining every edge gives.
func TestExactPicksEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 29))
	checked := 0
	for range 5_000 {
		p := orb.Point{-170 + r.Float64()*340, -70 + r.Float64()*140}
		m := NewMeasure(p)
		line := orb.LineString{{p[0] + (r.Float64()*2-1)*0.1, p[1] + (r.Float64()*2-1)*0.07}}
		step := []float64{0.0005, 0.003, 0.05}[r.IntN(3)]
		for range 1 + r.IntN(30) {
			last := line[len(line)-1]
			line = append(line, orb.Point{last[0] + (r.Float64()*2-1)*step, last[1] + (r.Float64()*2-1)*step})
		}
		box := line.Bound()
		if !m.Frame.Covers(&box) {
			continue
		}
		checked++
		got := m.Exact(line, &box, false)
		every := math.Inf(1)
		for i := 1; i < len(line); i++ {
			ax, ay := m.Frame.project(line[i-1])
			bx, by := m.Frame.project(line[i])
			_, t := segmentDistance(ax, ay, bx, by)
			every = min(every, m.onEdge(line[i-1], line[i], t).Meters)
		}
		if math.Abs(got.Meters-every) > 1e-9 {
			t.Fatalf("point %v line %v: %.9f m, every edge refined gives %.9f m", p, line, got.Meters, every)
		}
	}
	if checked < 2_000 {
		t.Fatalf("only %d lines inside the Frame", checked)
	}
}
