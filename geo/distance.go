package geo

import (
	"cmp"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Edges shorter than this take the nearest point's position along the edge
// from the local frame; longer ones are refined along the geodesic itself.
const shortEdgeMeters = 500

// Geodesic refinement stops when a step moves the foot less than this.
const footToleranceMeters = 1e-4

// sphereEpsilon bounds the relative error of sphere distances used to pick
// candidate edges far from the query point (sphere versus ellipsoid < 0.6 %).
const sphereEpsilon = 0.01

// measure finds the exact distance from one query point to geometries,
// reusing the query's local frame.
type measure struct {
	p     orb.Point
	f     frame
	pv    vec3 // p on the unit sphere, for far geometries
	far   bool // the current geometry lies outside the frame
	cands []edgeCand
}

func newMeasure(p orb.Point) *measure {
	m := new(measure)
	m.reset(p)
	return m
}

func (m *measure) reset(p orb.Point) {
	m.p, m.f, m.pv, m.far = p, newFrame(p), toVec(p), false
}

// closest is a point of a geometry with its exact distance from the query point.
type closest struct {
	meters  float64
	point   orb.Point
	azimuth float64 // at the query point, degrees; NaN when meters is 0
}

// edgeBowPerMeter bounds how far, per metre of edge length squared, a
// geodesic edge strays from the straight chord between its ends' frame
// positions (measured below 3e-8 /m; see TestPlanarLowerBound).
const edgeBowPerMeter = 6e-8

// planarLowerBound bounds the geodesic distance from the query point to g
// from below using the frame alone; g must lie within the frame's spans.
func (m *measure) planarLowerBound(g orb.Geometry) float64 {
	if containsPoint(g, m.p) {
		return 0
	}
	best := math.Inf(1)
	paths(g, func(pts []orb.Point, linear bool) {
		ax, ay := m.f.project(pts[0])
		if !linear || len(pts) == 1 {
			for _, p := range pts {
				x, y := m.f.project(p)
				best = min(best, math.Sqrt(x*x+y*y))
			}
			return
		}
		for _, p := range pts[1:] {
			bx, by := m.f.project(p)
			d, _ := segmentDistance(ax, ay, bx, by)
			best = min(best, d-edgeBowPerMeter*((bx-ax)*(bx-ax)+(by-ay)*(by-ay)))
			ax, ay = bx, by
		}
	})
	return lowerFromPlanar(best)
}

// edgeCand is an edge (a == b for a lone vertex) that may hold the nearest
// point: its estimated distance and the fraction along it of the estimate's
// nearest point.
type edgeCand struct {
	a, b orb.Point
	est  float64
	t    float64
}

// exact returns the point of g nearest the query point and its geodesic
// distance (Karney's inverse). Edges are geodesics. An estimate (the frame,
// or the sphere for far geometries) ranks the edges; they are refined
// exactly in that order until the next one's estimate, less its error bound,
// cannot beat the best exact distance so far.
func (m *measure) exact(g orb.Geometry, far bool) closest {
	if containsPoint(g, m.p) {
		return closest{meters: 0, point: m.p, azimuth: math.NaN()}
	}
	if pt, ok := g.(orb.Point); ok {
		return m.toPoint(pt)
	}
	m.far = far
	m.cands = m.cands[:0]
	best := math.Inf(1)
	keep := func(a, b orb.Point, est, t float64) {
		if m.lower(est) <= best {
			best = min(best, est)
			m.cands = append(m.cands, edgeCand{a, b, est, t})
		}
	}
	paths(g, func(pts []orb.Point, linear bool) {
		if !linear || len(pts) == 1 {
			for _, p := range pts {
				est, t := m.estimate(p, p)
				keep(p, p, est, t)
			}
			return
		}
		for i := 1; i < len(pts); i++ {
			est, t := m.estimate(pts[i-1], pts[i])
			keep(pts[i-1], pts[i], est, t)
		}
	})
	slices.SortFunc(m.cands, func(x, y edgeCand) int { return cmp.Compare(x.est, y.est) })
	out := closest{meters: math.Inf(1)}
	for _, c := range m.cands {
		if m.lower(c.est) > out.meters {
			break
		}
		// Edges sharing the nearest vertex would measure the same point again.
		if (c.t <= 0 && c.a == out.point) || (c.t >= 1 && c.b == out.point) {
			continue
		}
		if r := m.onEdge(c.a, c.b, c.t); r.meters < out.meters {
			out = r
		}
	}
	return out
}

// lower turns an estimate into a bound below the true distance.
func (m *measure) lower(est float64) float64 {
	if m.far {
		return (est - frameSlackMeters) / (1 + sphereEpsilon)
	}
	return lowerFromPlanar(est)
}

// estimate approximates the distance to edge a–b and the fraction along it
// of the nearest point.
func (m *measure) estimate(a, b orb.Point) (meters, t float64) {
	if m.far {
		if a == b {
			return angle(m.pv, toVec(a)) * wgs84A, 0
		}
		r, t := arcDistance(m.pv, toVec(a), toVec(b))
		return r * wgs84A, t
	}
	ax, ay := m.f.project(a)
	if a == b {
		return math.Sqrt(ax*ax + ay*ay), 0
	}
	bx, by := m.f.project(b)
	return segmentDistance(ax, ay, bx, by)
}

func (m *measure) toPoint(q orb.Point) closest {
	d, azi, _ := inverse(m.p, q)
	if d == 0 {
		azi = math.NaN()
	}
	return closest{meters: d, point: q, azimuth: azi}
}

// onEdge finds the nearest point to the query point on the geodesic a–b,
// starting from the estimate's fraction t.
func (m *measure) onEdge(a, b orb.Point, t float64) closest {
	if t <= 0 || a == b {
		return m.toPoint(a)
	}
	if t >= 1 {
		return m.toPoint(b)
	}
	if !m.far {
		ax, ay := m.f.project(a)
		bx, by := m.f.project(b)
		if (bx-ax)*(bx-ax)+(by-ay)*(by-ay) < shortEdgeMeters*shortEdgeMeters {
			return m.toPoint(onShortGeodesic(a, b, t))
		}
	}
	length, aziA, _ := inverse(a, b)
	// Walk along the geodesic to the foot of the perpendicular from p: at the
	// foot the geodesic to p meets the edge at a right angle. Each step is
	// the spherical along-track offset, so convergence is quick.
	s := t * length
	var x orb.Point
	for range 12 {
		var aziX float64
		x, aziX = direct(a, aziA, s)
		d, aziXP, _ := inverse(x, m.p)
		r := 6371008.8
		step := r * math.Atan(math.Tan(d/r)*math.Cos((aziXP-aziX)*rad))
		next := min(max(s+step, 0), length)
		if math.Abs(next-s) < footToleranceMeters {
			s = next
			break
		}
		s = next
	}
	switch s {
	case 0:
		return m.toPoint(a)
	case length:
		return m.toPoint(b)
	}
	x, _ = direct(a, aziA, s)
	return m.toPoint(x)
}

// onShortGeodesic returns the point of the short geodesic a–b at about
// fraction t along it. The geodesic bows poleward of the straight lon/lat
// chord; on the sphere, with φ(λ) along a great circle,
// φ” = −sin φ cos φ − 2 tan φ φ'², so at the chord's middle the bow is
// (sin φ cos φ Δλ² + 2 tan φ Δφ²) / 8 radians of latitude, and parabolic
// along it. Over 500 m that places the point within a micrometre of the
// ellipsoidal geodesic; its position along the edge may shift by as much,
// which changes the distance to the query point by far less.
func onShortGeodesic(a, b orb.Point, t float64) orb.Point {
	phi := (a[1] + b[1]) / 2 * rad
	s, c := math.Sincos(phi)
	dlon, dlat := (b[0]-a[0])*rad, (b[1]-a[1])*rad
	bow := (s*c*dlon*dlon + 2*s/c*dlat*dlat) / 8
	return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1]) + 4*t*(1-t)*bow/rad}
}

// segmentDistance is the planar distance from the origin to segment a–b and
// the fraction along it of the nearest point.
func segmentDistance(ax, ay, bx, by float64) (float64, float64) {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = min(max(-(ax*dx+ay*dy)/l2, 0), 1)
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Sqrt(x*x + y*y), t
}

// paths calls fn with each run of vertices of g: the vertices of point
// geometries (linear false), and each line or ring (linear true).
func paths(g orb.Geometry, fn func(pts []orb.Point, linear bool)) {
	switch g := g.(type) {
	case orb.Point:
		fn([]orb.Point{g}, false)
	case orb.MultiPoint:
		if len(g) > 0 {
			fn(g, false)
		}
	case orb.LineString:
		fn(g, true)
	case orb.Ring:
		fn(g, true)
	case orb.MultiLineString:
		for _, l := range g {
			fn(l, true)
		}
	case orb.Polygon:
		for _, r := range g {
			fn(r, true)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			paths(p, fn)
		}
	case orb.Collection:
		for _, c := range g {
			paths(c, fn)
		}
	}
}

// containsPoint reports whether p lies inside a polygon of g (holes
// excluded, boundary included), in plain longitude/latitude.
func containsPoint(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	case orb.Collection:
		for _, c := range g {
			if containsPoint(c, p) {
				return true
			}
		}
	}
	return false
}
