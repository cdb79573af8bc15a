package cql2

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"
)

// bboxGeometry is the polygon of a BBOX's four numbers (or six, with
// heights, which are dropped); two polygons when it crosses the
// antimeridian.
func bboxGeometry(n []float64) (orb.Geometry, error) {
	if len(n) == 6 {
		n = []float64{n[0], n[1], n[3], n[4]}
	}
	if len(n) != 4 {
		return nil, fmt.Errorf("%d numbers", len(n))
	}
	w, s, e, north := n[0], n[1], n[2], n[3]
	for _, x := range []float64{w, e} {
		if !(x >= -180 && x <= 180) {
			return nil, fmt.Errorf("longitude %v outside [-180, 180]", x)
		}
	}
	if !(s >= -90 && north <= 90 && s <= north) {
		return nil, fmt.Errorf("latitudes %v to %v not ordered within [-90, 90]", s, north)
	}
	if w > e {
		return orb.MultiPolygon{
			orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{180, north}}.ToPolygon(),
			orb.Bound{Min: orb.Point{-180, s}, Max: orb.Point{e, north}}.ToPolygon(),
		}, nil
	}
	return orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, north}}.ToPolygon(), nil
}

// Coordinates converts the coordinates a filter's geometries are written
// in (such as its filter-crs) to longitude/latitude.
type Coordinates interface {
	// ToLonLat converts one point, or says why it cannot.
	ToLonLat(p orb.Point) (orb.Point, error)
	// BoxToLonLat converts the box of corners lo and hi: a Bound, or a
	// polygon when its sides are not meridians and parallels.
	BoxToLonLat(lo, hi orb.Point) (orb.Geometry, error)
}

// lonLatIn converts g from in (nil: it is longitude/latitude already) and
// checks that it is within range.
func lonLatIn(g orb.Geometry, in Coordinates) (orb.Geometry, error) {
	if in != nil {
		var err error
		g = project.Geometry(orb.Clone(g), func(p orb.Point) orb.Point {
			q, perr := in.ToLonLat(p)
			if perr != nil && err == nil {
				err = perr
			}
			return q
		})
		if err != nil {
			return nil, err
		}
	}
	return g, checkLonLat(g)
}

// boxIn is the polygon of a BBOX's numbers in in's coordinates (nil:
// longitude/latitude, where a box may cross the antimeridian).
func boxIn(n []float64, in Coordinates) (orb.Geometry, error) {
	if in == nil {
		return bboxGeometry(n)
	}
	if len(n) == 6 {
		n = []float64{n[0], n[1], n[3], n[4]}
	}
	if len(n) != 4 {
		return nil, fmt.Errorf("%d numbers", len(n))
	}
	g, err := in.BoxToLonLat(orb.Point{n[0], n[1]}, orb.Point{n[2], n[3]})
	if err != nil {
		return nil, err
	}
	if b, ok := g.(orb.Bound); ok {
		return b.ToPolygon(), nil
	}
	return g, nil
}

// finite reports whether every coordinate of g is a finite number.
func finite(g orb.Geometry) bool {
	ok := true
	eachPoint(g, func(p orb.Point) {
		ok = ok && !math.IsNaN(p[0]) && !math.IsInf(p[0], 0) && !math.IsNaN(p[1]) && !math.IsInf(p[1], 0)
	})
	return ok
}

func checkLonLat(g orb.Geometry) error {
	var err error
	eachPoint(g, func(p orb.Point) {
		if err == nil && !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
			err = fmt.Errorf("point %v outside [-180, 180] × [-90, 90]", p)
		}
	})
	return err
}

func eachPoint(g orb.Geometry, fn func(orb.Point)) {
	eachPart(g, func(pts []orb.Point, _ bool) {
		for _, p := range pts {
			fn(p)
		}
	}, func(p orb.Polygon) {
		for _, r := range p {
			for _, q := range r {
				fn(q)
			}
		}
	})
}

// eachPart visits the points and lines (closed false) and the polygons of g.
func eachPart(g orb.Geometry, path func(pts []orb.Point, line bool), poly func(orb.Polygon)) {
	switch g := g.(type) {
	case orb.Point:
		path([]orb.Point{g}, false)
	case orb.MultiPoint:
		path(g, false)
	case orb.LineString:
		path(g, true)
	case orb.MultiLineString:
		for _, l := range g {
			path(l, true)
		}
	case orb.Ring:
		poly(orb.Polygon{g})
	case orb.Polygon:
		poly(g)
	case orb.MultiPolygon:
		for _, p := range g {
			poly(p)
		}
	case orb.Collection:
		for _, c := range g {
			eachPart(c, path, poly)
		}
	case orb.Bound:
		poly(g.ToPolygon())
	}
}

// part is one point, line or polygon of a geometry.
type part struct {
	pts  []orb.Point // a point (one), a line's vertices
	line bool
	poly orb.Polygon
}

func parts(g orb.Geometry) []part {
	var out []part
	eachPart(g, func(pts []orb.Point, line bool) {
		if line {
			out = append(out, part{pts: pts, line: true})
			return
		}
		for i := range pts {
			out = append(out, part{pts: pts[i : i+1]})
		}
	}, func(p orb.Polygon) {
		if len(p) > 0 {
			out = append(out, part{poly: p})
		}
	})
	return out
}

// Intersect reports whether a and b share a point, boundaries included.
func Intersect(a, b orb.Geometry) bool {
	if a == nil || b == nil || !a.Bound().Intersects(b.Bound()) {
		return false
	}
	pb := parts(b)
	for _, x := range parts(a) {
		for _, y := range pb {
			if partsIntersect(x, y) {
				return true
			}
		}
	}
	return false
}

func partsIntersect(x, y part) bool {
	if x.poly == nil && y.poly != nil || !x.line && x.poly == nil && y.line {
		x, y = y, x
	}
	switch {
	case x.poly != nil && y.poly != nil:
		return polygonContains(x.poly, y.poly[0][0]) || polygonContains(y.poly, x.poly[0][0]) || ringsCross(x.poly, y.poly)
	case x.poly != nil:
		return polygonContains(x.poly, y.pts[0]) || pathCrossesPolygon(y.pts, x.poly)
	case x.line && y.line:
		return pathsMeet(x.pts, y.pts)
	case x.line:
		return onPath(x.pts, y.pts[0])
	}
	return x.pts[0] == y.pts[0]
}

// polygonContains includes the boundary, holes' edges too.
func polygonContains(p orb.Polygon, q orb.Point) bool {
	if !planar.RingContains(p[0], q) {
		return false
	}
	for _, h := range p[1:] {
		if planar.RingContains(h, q) && !onPath(h, q) {
			return false
		}
	}
	return true
}

func ringsCross(a, b orb.Polygon) bool {
	for _, r := range a {
		for _, s := range b {
			if pathsMeet(r, s) {
				return true
			}
		}
	}
	return false
}

func pathCrossesPolygon(pts []orb.Point, p orb.Polygon) bool {
	for _, r := range p {
		if pathsMeet(pts, r) {
			return true
		}
	}
	return false
}

func pathsMeet(a, b []orb.Point) bool {
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			if segmentsMeet(a[i], a[i+1], b[j], b[j+1]) {
				return true
			}
		}
	}
	return false
}

func onPath(pts []orb.Point, q orb.Point) bool {
	if len(pts) == 1 {
		return pts[0] == q
	}
	for i := 0; i+1 < len(pts); i++ {
		if onSegment(pts[i], pts[i+1], q) {
			return true
		}
	}
	return false
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func onSegment(a, b, q orb.Point) bool {
	return orient(a, b, q) == 0 &&
		q[0] >= math.Min(a[0], b[0]) && q[0] <= math.Max(a[0], b[0]) &&
		q[1] >= math.Min(a[1], b[1]) && q[1] <= math.Max(a[1], b[1])
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func segmentsMeet(a, b, c, d orb.Point) bool {
	d1, d2 := sign(orient(c, d, a)), sign(orient(c, d, b))
	d3, d4 := sign(orient(a, b, c)), sign(orient(a, b, d))
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return d1 == 0 && onSegment(c, d, a) || d2 == 0 && onSegment(c, d, b) ||
		d3 == 0 && onSegment(a, b, c) || d4 == 0 && onSegment(a, b, d)
}

// segmentsCross reports whether two segments cross at a point interior
// to both.
func segmentsCross(a, b, c, d orb.Point) bool {
	return sign(orient(c, d, a))*sign(orient(c, d, b)) < 0 && sign(orient(a, b, c))*sign(orient(a, b, d)) < 0
}

// WithinGeometry reports whether every point of a lies in b (S_WITHIN):
// every vertex of a in b, no edge of a crossing an edge of b, the middle
// of every piece of a's edges between b's edges in b, and no hole of b
// inside a.
func WithinGeometry(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return false
	}
	ab, bb := a.Bound(), b.Bound()
	if !bb.Contains(ab.Min) || !bb.Contains(ab.Max) {
		return false
	}
	pb := parts(b)
	covered := func(q orb.Point) bool {
		for _, y := range pb {
			if partsIntersect(part{pts: []orb.Point{q}}, y) {
				return true
			}
		}
		return false
	}
	var edges [][2]orb.Point
	for _, y := range pb {
		eachEdge(y, func(c, d orb.Point) { edges = append(edges, [2]orb.Point{c, d}) })
	}
	ok := true
	check := func(pts []orb.Point, closed bool) {
		for i, q := range pts {
			if !ok {
				return
			}
			if !covered(q) {
				ok = false
				return
			}
			if i+1 == len(pts) {
				break
			}
			r := pts[i+1]
			for _, e := range edges {
				if segmentsCross(q, r, e[0], e[1]) {
					ok = false
					return
				}
			}
			// Between touches of b's boundary an edge may leave b: test
			// the middle of each stretch between them.
			for _, m := range stretchMiddles(q, r, edges) {
				if !covered(m) {
					ok = false
					return
				}
			}
		}
	}
	for _, x := range parts(a) {
		switch {
		case x.poly != nil:
			for _, r := range x.poly {
				check(r, true)
			}
			// A hole of b inside a leaves part of a outside b.
			for _, y := range pb {
				for _, h := range y.poly[min(1, len(y.poly)):] {
					if len(h) > 0 && polygonContains(x.poly, h[0]) && !onPolygonBoundary(x.poly, h[0]) {
						return false
					}
				}
			}
		default:
			check(x.pts, false)
		}
		if !ok {
			return false
		}
	}
	return ok
}

func onPolygonBoundary(p orb.Polygon, q orb.Point) bool {
	for _, r := range p {
		if onPath(r, q) {
			return true
		}
	}
	return false
}

func eachEdge(y part, fn func(c, d orb.Point)) {
	visit := func(pts []orb.Point) {
		for i := 0; i+1 < len(pts); i++ {
			fn(pts[i], pts[i+1])
		}
	}
	if y.poly != nil {
		for _, r := range y.poly {
			visit(r)
		}
	} else if y.line {
		visit(y.pts)
	}
}

// stretchMiddles splits segment q-r where b's edges touch it and returns
// the middle of each stretch.
func stretchMiddles(q, r orb.Point, edges [][2]orb.Point) []orb.Point {
	ts := []float64{0, 1}
	dx, dy := r[0]-q[0], r[1]-q[1]
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return nil
	}
	for _, e := range edges {
		for _, v := range e {
			if onSegment(q, r, v) {
				ts = append(ts, ((v[0]-q[0])*dx+(v[1]-q[1])*dy)/l2)
			}
		}
		if segmentsMeet(q, r, e[0], e[1]) && !onSegment(q, r, e[0]) && !onSegment(q, r, e[1]) {
			// A vertex of q-r on the edge's interior.
			if onSegment(e[0], e[1], q) {
				ts = append(ts, 0)
			}
			if onSegment(e[0], e[1], r) {
				ts = append(ts, 1)
			}
		}
	}
	slices.Sort(ts)
	var mids []orb.Point
	for i := 0; i+1 < len(ts); i++ {
		if ts[i+1] > ts[i] {
			t := (ts[i] + ts[i+1]) / 2
			mids = append(mids, orb.Point{q[0] + t*dx, q[1] + t*dy})
		}
	}
	return mids
}
