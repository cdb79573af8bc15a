package cql2

import (
	"slices"

	"github.com/paulmach/orb"
)

// Where a point lies with respect to a geometry, as the DE-9IM names the
// rows and columns of its matrix.
type location int8

const (
	inside location = iota
	onBoundary
	outside
)

// matrix is a DE-9IM intersection matrix: the dimension (0, 1, 2) of the
// intersection of the interior, boundary and exterior of one geometry with
// those of another; -1 where they do not meet.
type matrix [3][3]int8

// shape is a geometry of one dimension (0 points, 1 lines, 2 polygons),
// as relating it to another needs it.
type shape struct {
	dim    int8
	points []orb.Point
	lines  [][]orb.Point
	polys  []orb.Polygon
	// ends counts how often each point ends one of the lines: those
	// ending an odd number are the boundary (the mod-2 rule).
	ends map[orb.Point]int
}

// segment is an edge of a line or a polygon's ring; left tells, for a ring,
// whether the polygon's interior lies left of a→b.
type segment struct {
	a, b orb.Point
	left bool
}

// newShape splits g by dimension; ok is false when g is empty or mixes
// dimensions (a collection of points and polygons, say), which the DE-9IM
// relations here leave undefined.
func newShape(g orb.Geometry) (s shape, ok bool) {
	eachPart(g, func(pts []orb.Point, line bool) {
		if !line {
			s.points = append(s.points, pts...)
			return
		}
		if len(pts) < 2 {
			return
		}
		s.lines = append(s.lines, pts)
		if s.ends == nil {
			s.ends = map[orb.Point]int{}
		}
		s.ends[pts[0]]++
		s.ends[pts[len(pts)-1]]++
	}, func(p orb.Polygon) {
		if len(p) > 0 && len(p[0]) > 0 {
			s.polys = append(s.polys, p)
		}
	})
	kinds := 0
	for _, n := range []int{len(s.points), len(s.lines), len(s.polys)} {
		if n > 0 {
			kinds++
		}
	}
	switch {
	case len(s.polys) > 0:
		s.dim = 2
	case len(s.lines) > 0:
		s.dim = 1
	}
	return s, kinds == 1
}

// locate is where q lies with respect to s.
func (s *shape) locate(q orb.Point) location {
	switch s.dim {
	case 0:
		if slices.Contains(s.points, q) {
			return inside
		}
	case 1:
		for _, l := range s.lines {
			if onPath(l, q) {
				return s.lineVertex(q)
			}
		}
	case 2:
		for _, p := range s.polys {
			if onPolygonBoundary(p, q) {
				return onBoundary
			}
		}
		for _, p := range s.polys {
			if polygonContains(p, q) {
				return inside
			}
		}
	}
	return outside
}

// lineVertex is where a point of s's lines lies: on the boundary when it
// ends an odd number of them.
func (s *shape) lineVertex(q orb.Point) location {
	if s.ends[q]%2 == 1 {
		return onBoundary
	}
	return inside
}

// segments lists the edges of s's lines or rings, dropping those of no
// length.
func (s *shape) segments() []segment {
	var out []segment
	add := func(pts []orb.Point, left bool) {
		for i := 0; i+1 < len(pts); i++ {
			if pts[i] != pts[i+1] {
				out = append(out, segment{a: pts[i], b: pts[i+1], left: left})
			}
		}
	}
	for _, l := range s.lines {
		add(l, false)
	}
	for _, p := range s.polys {
		for i, r := range p {
			// A shell wound anticlockwise has the interior on its left; a
			// hole has it on its right.
			add(r, (i == 0) == (signedArea(r) > 0))
		}
	}
	return out
}

func signedArea(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

// intersectionMatrix computes the DE-9IM matrix of a and b.
func intersectionMatrix(a, b *shape) matrix {
	var m matrix
	for i := range m {
		for j := range m[i] {
			m[i][j] = -1
		}
	}
	m[outside][outside] = 2
	as, bs := a.segments(), b.segments()
	sweep(&m, a, b, as, bs, false)
	sweep(&m, b, a, bs, as, true)
	return m
}

// sweep records in m what x's pieces meet of y: its points, the pieces of
// its edges between the places y touches them, and its vertices; with
// transposed, x is the matrix's second geometry.
func sweep(m *matrix, x, y *shape, xs, ys []segment, transposed bool) {
	put := func(i, j location, d int8) {
		if transposed {
			i, j = j, i
		}
		m[i][j] = max(m[i][j], d)
	}
	if x.dim > y.dim {
		// Fewer dimensions never cover more.
		put(inside, outside, x.dim)
	}
	for _, q := range x.points {
		put(inside, y.locate(q), 0)
	}
	if x.dim == 0 {
		return
	}
	// The edges of a line are its interior, of a polygon its boundary.
	edge, yEdge := inside, inside
	if x.dim == 2 {
		edge = onBoundary
	}
	if y.dim == 2 {
		yEdge = onBoundary
	}
	for _, s := range xs {
		for _, v := range [2]orb.Point{s.a, s.b} {
			vx := onBoundary
			if x.dim == 1 {
				vx = x.lineVertex(v)
			}
			put(vx, y.locate(v), 0)
		}
		ts := []float64{0, 1}
		at := func(v orb.Point) {
			if onSegment(s.a, s.b, v) {
				ts = append(ts, along(s.a, s.b, v))
			}
		}
		for _, q := range y.points {
			at(q)
		}
		for _, t := range ys {
			at(t.a)
			at(t.b)
			if segmentsCross(s.a, s.b, t.a, t.b) {
				o1, o2 := orient(t.a, t.b, s.a), orient(t.a, t.b, s.b)
				ts = append(ts, o1/(o1-o2))
				put(edge, yEdge, 0)
			}
		}
		slices.Sort(ts)
		for k := 0; k+1 < len(ts); k++ {
			if ts[k+1] <= ts[k] {
				continue
			}
			t := (ts[k] + ts[k+1]) / 2
			mid := orb.Point{s.a[0] + t*(s.b[0]-s.a[0]), s.a[1] + t*(s.b[1]-s.a[1])}
			loc, on := y.locatePiece(s, mid, ys)
			put(edge, loc, 1)
			if x.dim == 2 && y.dim == 2 {
				// Beside the piece lie x's interior on one side and its
				// exterior on the other.
				switch {
				case loc == inside:
					put(inside, inside, 2)
					put(outside, inside, 2)
				case loc == outside:
					put(inside, outside, 2)
				case sameSide(s, on):
					put(inside, inside, 2)
				default:
					put(inside, outside, 2)
					put(outside, inside, 2)
				}
			}
		}
	}
}

// along is how far v lies along a→b, from 0 at a to 1 at b.
func along(a, b, v orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	return ((v[0]-a[0])*dx + (v[1]-a[1])*dy) / (dx*dx + dy*dy)
}

// locatePiece is where a piece of segment s, whose middle is mid, lies
// with respect to s's other shape: a piece lies wholly on one of y's
// edges, or off them all, since s was cut wherever y's vertices and edges
// touch it. on is the edge of y's boundary it lies on.
func (s *shape) locatePiece(x segment, mid orb.Point, ys []segment) (loc location, on segment) {
	if s.dim == 0 {
		return outside, on
	}
	for _, t := range ys {
		if orient(t.a, t.b, x.a) == 0 && orient(t.a, t.b, x.b) == 0 &&
			mid[0] >= min(t.a[0], t.b[0]) && mid[0] <= max(t.a[0], t.b[0]) &&
			mid[1] >= min(t.a[1], t.b[1]) && mid[1] <= max(t.a[1], t.b[1]) {
			if s.dim == 1 {
				return inside, t
			}
			return onBoundary, t
		}
	}
	if s.dim == 2 {
		for _, p := range s.polys {
			if polygonContains(p, mid) {
				return inside, on
			}
		}
	}
	return outside, on
}

// sameSide reports whether two polygons' edges lying on each other have
// their polygons' interiors on the same side.
func sameSide(s, t segment) bool {
	forward := (s.b[0]-s.a[0])*(t.b[0]-t.a[0])+(s.b[1]-s.a[1])*(t.b[1]-t.a[1]) > 0
	return s.left == (t.left == forward)
}

// relation reads the DE-9IM matrix of a and b, with their dimensions;
// ok is false when either is empty or of mixed dimensions, or their boxes
// do not meet.
func relation(a, b orb.Geometry) (m matrix, da, db int8, ok bool) {
	if a == nil || b == nil || !a.Bound().Intersects(b.Bound()) {
		return m, 0, 0, false
	}
	sa, okA := newShape(a)
	sb, okB := newShape(b)
	if !okA || !okB {
		return m, 0, 0, false
	}
	return intersectionMatrix(&sa, &sb), sa.dim, sb.dim, true
}

// Equal reports whether a and b are the same set of points (S_EQUALS,
// DE-9IM T*F**FFF*), whatever their vertices.
func Equal(a, b orb.Geometry) bool {
	m, _, _, ok := relation(a, b)
	return ok && m[inside][inside] >= 0 && m[inside][outside] < 0 && m[onBoundary][outside] < 0 &&
		m[outside][inside] < 0 && m[outside][onBoundary] < 0
}

// Touch reports whether a and b meet only on their boundaries (S_TOUCHES,
// DE-9IM FT*******, F**T***** or F***T****); two points or sets of points,
// having no boundary, never touch.
func Touch(a, b orb.Geometry) bool {
	m, _, _, ok := relation(a, b)
	return ok && m[inside][inside] < 0 &&
		(m[inside][onBoundary] >= 0 || m[onBoundary][inside] >= 0 || m[onBoundary][onBoundary] >= 0)
}

// Overlap reports whether a and b, of one dimension, share part of their
// interiors of that dimension and each has some the other lacks
// (S_OVERLAPS, DE-9IM T*T***T**, for two lines 1*T***T**).
func Overlap(a, b orb.Geometry) bool {
	m, da, db, ok := relation(a, b)
	if !ok || da != db || m[inside][outside] < 0 || m[outside][inside] < 0 {
		return false
	}
	if da == 1 {
		return m[inside][inside] == 1
	}
	return m[inside][inside] >= 0
}

// Cross reports whether a and b cross (S_CROSSES): a line crossing a line
// at points of both interiors (DE-9IM 0********), or points or a line
// partly in and partly out of a geometry of higher dimension (T*T******,
// T*****T** the other way round). Two geometries of one dimension other
// than lines never cross.
func Cross(a, b orb.Geometry) bool {
	m, da, db, ok := relation(a, b)
	switch {
	case !ok:
		return false
	case da < db:
		return m[inside][inside] >= 0 && m[inside][outside] >= 0
	case da > db:
		return m[inside][inside] >= 0 && m[outside][inside] >= 0
	case da == 1:
		return m[inside][inside] == 0
	}
	return false
}
