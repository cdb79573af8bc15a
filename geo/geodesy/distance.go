package geodesy

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

// Measure finds the exact distance from one query point to geometries,
// reusing the query's local frame.
type Measure struct {
	p     orb.Point
	Frame Frame
	line  shortLine
	pv    vec3 // p on the unit sphere, for far geometries
	far   bool // the current geometry lies outside the frame
	Cands []edgeCand
	reach float64     // the least upper bound on the distance to a kept edge
	spans []spanBound // LineEdges' scratch
}

func NewMeasure(p orb.Point) *Measure {
	m := new(Measure)
	m.Reset(p)
	return m
}

func (m *Measure) Reset(p orb.Point) {
	m.p, m.Frame, m.line, m.pv, m.far = p, NewFrame(p), newShortLine(p), toVec(p), false
}

// Closest is a point of a geometry with its exact distance from the query point.
type Closest struct {
	Meters float64
	Point  orb.Point
	// chord runs from the query point to Point through the ellipsoid, when
	// aimed; Azimuth reads the bearing off it.
	chord vec3
	aimed bool
}

// edgeBowPerMeter bounds how far, per metre of edge length squared, a
// geodesic edge strays from the straight chord between its ends' frame
// positions up to 56° of latitude (measured below 3e-8 /m; see
// TestPlanarLowerBound). The frame draws parallels straight, so the bow
// is chiefly a parallel's geodesic curvature tan φ / R over the edge,
// L²·tan φ / 8R, which grows towards the poles: frames farther north or
// south use twice that (frame.bow).
const edgeBowPerMeter = 6e-8

// edgeCand is an edge (a == b for a lone vertex) that may hold the nearest
// point: its estimated distance, the fraction along it of the estimate's
// nearest point, and a bound below its geodesic distance.
type edgeCand struct {
	a, b  orb.Point
	est   float64
	t     float64
	lower float64
}

// Edges appends to m.cands the edges of g that may hold its point nearest
// the query point (see keep), and returns the least of their lower bounds:
// a bound below the distance to g. It reports inside, appending nothing,
// when the query point lies in a polygon of g, whose envelope is box.
func (m *Measure) Edges(g orb.Geometry, box *orb.Bound, far bool) (lower float64, inside bool) {
	// Only a polygon around the query point holds it, and then its
	// envelope holds the point too.
	if box.Contains(m.p) && ContainsPoint(g, m.p) {
		return 0, true
	}
	m.far = far
	m.reach = math.Inf(1)
	start := len(m.Cands)
	switch g := g.(type) {
	// The common shapes skip paths' callback.
	case orb.LineString:
		m.keepPath(g, true)
	case orb.Polygon:
		for _, r := range g {
			m.keepPath(r, true)
		}
	default:
		VertexRuns(g, m.keepPath)
	}
	return m.lowest(start), false
}

// PathEdges is Edges for one path the frame covers, a line or a polygon's
// only ring, where the query point lies outside the polygon's envelope:
// the geometry's vertices are all it reads.
func (m *Measure) PathEdges(pts []orb.Point) (lower float64) {
	m.far = false
	m.reach = math.Inf(1)
	start := len(m.Cands)
	m.keepPath(pts, true)
	return m.lowest(start)
}

// lowest is the least lower bound of the candidate edges from start on.
func (m *Measure) lowest(start int) float64 {
	lower := math.Inf(1)
	for _, c := range m.Cands[start:] {
		lower = min(lower, c.lower)
	}
	return lower
}

// Exact returns the point of g nearest the query point and its geodesic
// distance; box is g's envelope. Edges are geodesics. An
// estimate (the frame, or the sphere for far geometries) bounds each edge's
// distance from below and above; the edges whose lower bound is within the
// least upper bound are refined exactly, in order of their lower bounds,
// until the next one's cannot beat the best exact distance so far.
func (m *Measure) Exact(g orb.Geometry, box *orb.Bound, far bool) Closest {
	if pt, ok := g.(orb.Point); ok {
		return m.ToPoint(pt)
	}
	start := len(m.Cands)
	_, inside := m.Edges(g, box, far)
	c := m.ClosestOf(m.Cands[start:], inside)
	m.Cands = m.Cands[:start]
	return c
}

// ClosestOf refines the candidate edges of a geometry (see edges) exactly
// and returns its point nearest the query point. It reorders cands.
func (m *Measure) ClosestOf(cands []edgeCand, inside bool) Closest {
	if inside {
		return Closest{Meters: 0, Point: m.p}
	}
	out := Closest{Meters: math.Inf(1)}
	// Usually one or two edges are refined: picking the next each time
	// beats sorting them all.
	for len(cands) > 0 {
		k := 0
		for j := 1; j < len(cands); j++ {
			if cands[j].lower < cands[k].lower {
				k = j
			}
		}
		c := cands[k]
		if c.lower > out.Meters {
			break
		}
		cands[k] = cands[len(cands)-1]
		cands = cands[:len(cands)-1]
		// Edges sharing the nearest vertex would measure the same point again.
		if (c.t <= 0 && c.a == out.Point) || (c.t >= 1 && c.b == out.Point) {
			continue
		}
		if r := m.onEdge(c.a, c.b, c.t); r.Meters < out.Meters {
			out = r
		}
	}
	return out
}

// keepPath estimates the distance to each edge of a run of vertices (to
// each vertex, unless linear) and keeps those that may hold the nearest
// point in m.cands.
func (m *Measure) keepPath(pts []orb.Point, linear bool) {
	if !linear || len(pts) == 1 {
		for _, p := range pts {
			est, t := m.estimate(p, p)
			m.keep(p, p, est, t, 0)
		}
		return
	}
	if m.far {
		for i := 1; i < len(pts); i++ {
			a, b := pts[i-1], pts[i]
			est, t := m.estimate(a, b)
			// The great circle the estimate follows may run kilometres
			// from a long geodesic edge, so the bound comes from the box
			// that holds the geodesic.
			// Far edges have no upper bound, so every one is kept.
			box := edgeEnvelope(a, b)
			m.Cands = append(m.Cands, edgeCand{a, b, est, t, sphereBoxLowerBound(m.p, &box)})
		}
		return
	}
	// In the frame each vertex is projected once, not once per edge.
	ax, ay := m.Frame.project(pts[0])
	for i := 1; i < len(pts); i++ {
		bx, by := m.Frame.project(pts[i])
		d2, t := segmentDistance2(ax, ay, bx, by)
		bow := m.Frame.bow * ((bx-ax)*(bx-ax) + (by-ay)*(by-ay))
		// Within the window frameError stays under 1 %, so an edge this far
		// cannot be kept: skip the square root.
		if far := (m.reach+frameSlackMeters)*1.01 + bow; d2 <= far*far {
			m.keep(pts[i-1], pts[i], math.Sqrt(d2), t, bow)
		}
		ax, ay = bx, by
	}
}

// keep adds the edge a–b to m.cands unless it surely lies beyond another
// kept edge. est estimates its distance; the geodesic edge may stray bow
// metres from the chord the estimate measured.
func (m *Measure) keep(a, b orb.Point, est, t, bow float64) {
	if lower := m.lower(est - bow); lower <= m.reach {
		m.reach = min(m.reach, m.upper(est+bow))
		m.Cands = append(m.Cands, edgeCand{a, b, est, t, lower})
	}
}

// lower turns an estimate into a bound below the true distance.
func (m *Measure) lower(est float64) float64 {
	if m.far {
		return (est - frameSlackMeters) / (1 + sphereEpsilon)
	}
	return lowerFromPlanar(est)
}

// upper turns an estimate into a bound above the true distance. Far from
// the query point the sphere's great-circle edge may lie well away from the
// geodesic one, so there is none.
func (m *Measure) upper(est float64) float64 {
	if m.far {
		return math.Inf(1)
	}
	// With g the geodesic distance, g(1−frameError(g)) ≤ est + slack, and
	// g ≤ 2(est+slack) as long as frameError stays below 1/2.
	d := est + frameSlackMeters
	return d * (1 + 2*frameError(2*d))
}

// estimate approximates the distance to edge a–b and the fraction along it
// of the nearest point.
func (m *Measure) estimate(a, b orb.Point) (meters, t float64) {
	if m.far {
		if a == b {
			return angle(m.pv, toVec(a)) * wgs84A, 0
		}
		r, t := arcDistance(m.pv, toVec(a), toVec(b))
		return r * wgs84A, t
	}
	ax, ay := m.Frame.project(a)
	if a == b {
		return math.Sqrt(ax*ax + ay*ay), 0
	}
	bx, by := m.Frame.project(b)
	return segmentDistance(ax, ay, bx, by)
}

func (m *Measure) ToPoint(q orb.Point) Closest {
	d, chord, ok := m.line.distanceAlong(q)
	if !ok {
		d, _ = karneyFrom(m.p, q)
	}
	return Closest{Meters: d, Point: q, chord: chord, aimed: ok}
}

// Bearing is the forward azimuth at the query point towards q, in degrees
// clockwise from north in [0, 360); NaN when q is the query point. Only the
// hits a query returns need it.
func (m *Measure) Bearing(q orb.Point) float64 {
	return m.Azimuth(Closest{Point: q})
}

// Azimuth is the Bearing of c.Point, from the chord that measuring c
// found when there was one: the distance and the bearing share the work
// of placing the point on the ellipsoid.
func (m *Measure) Azimuth(c Closest) float64 {
	q := c.Point
	if q == m.p {
		return math.NaN()
	}
	var azi float64
	if c.aimed {
		azi = m.line.aim(c.chord)
	} else {
		var ok bool
		if azi, ok = m.line.azimuth(q); !ok {
			_, azi = karneyFrom(m.p, q)
		}
	}
	if azi < 0 {
		// A tiny negative azimuth would become 360 itself.
		azi = math.Mod(azi+360, 360)
	}
	return azi
}

// onEdge finds the nearest point to the query point on the geodesic a–b,
// starting from the estimate's fraction t.
func (m *Measure) onEdge(a, b orb.Point, t float64) Closest {
	if t <= 0 || a == b {
		return m.ToPoint(a)
	}
	if t >= 1 {
		return m.ToPoint(b)
	}
	if !m.far {
		ax, ay := m.Frame.project(a)
		bx, by := m.Frame.project(b)
		if (bx-ax)*(bx-ax)+(by-ay)*(by-ay) < shortEdgeMeters*shortEdgeMeters {
			return m.ToPoint(onShortGeodesic(a, b, t))
		}
	}
	length, aziA, _ := Inverse(a, b)
	// Walk along the geodesic to the foot of the perpendicular from p: at the
	// foot the geodesic to p meets the edge at a right angle. Each step is
	// the spherical along-track offset, so convergence is quick.
	s := t * length
	var x orb.Point
	for range 12 {
		var aziX float64
		x, aziX = Direct(a, aziA, s)
		d, aziXP := inverseFrom(x, m.p)
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
		return m.ToPoint(a)
	case length:
		return m.ToPoint(b)
	}
	x, _ = Direct(a, aziA, s)
	return m.ToPoint(x)
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
	d2, t := segmentDistance2(ax, ay, bx, by)
	return math.Sqrt(d2), t
}

// segmentDistance2 is segmentDistance squared; it divides only when the
// nearest point lies strictly inside the segment.
func segmentDistance2(ax, ay, bx, by float64) (float64, float64) {
	dx, dy := bx-ax, by-ay
	num := -(ax*dx + ay*dy)
	if num <= 0 {
		return ax*ax + ay*ay, 0
	}
	l2 := dx*dx + dy*dy
	if num >= l2 {
		return bx*bx + by*by, 1
	}
	t := num / l2
	x, y := ax+t*dx, ay+t*dy
	return x*x + y*y, t
}

// VertexRuns calls fn with each run of vertices of g: the vertices of a
// Point or MultiPoint (linear false), and each line or ring (linear true).
func VertexRuns(g orb.Geometry, fn func(run []orb.Point, linear bool)) {
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
			VertexRuns(p, fn)
		}
	case orb.Collection:
		for _, c := range g {
			VertexRuns(c, fn)
		}
	}
}

// ContainsPoint reports whether p lies inside a polygon of g (holes
// excluded, boundary included), in plain longitude/latitude.
func ContainsPoint(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	case orb.Collection:
		for _, c := range g {
			if ContainsPoint(c, p) {
				return true
			}
		}
	}
	return false
}

// Within reports whether the box inner lies inside the box outer, edges
// included.
func Within(inner, outer orb.Bound) bool {
	return inner.Min[0] >= outer.Min[0] && inner.Max[0] <= outer.Max[0] &&
		inner.Min[1] >= outer.Min[1] && inner.Max[1] <= outer.Max[1]
}

// SpanVertices is how many edges each span of a long line holds (see
// SpanEnvelopes).
const SpanVertices = 32

// SpanEnvelopes returns the Envelopes of line's spans: runs of
// SpanVertices edges, the k-th from vertex k·SpanVertices to the next
// span's first vertex (or the last).
func SpanEnvelopes(line orb.LineString) []orb.Bound {
	out := make([]orb.Bound, 0, (len(line)-2)/SpanVertices+1)
	for from := 0; from < len(line)-1; from += SpanVertices {
		out = append(out, Envelope(line[from:min(from+SpanVertices+1, len(line))]))
	}
	return out
}

// LineEdges is Edges for a line the frame covers, given its SpanEnvelopes:
// spans are visited nearest first by their envelopes' bounds, and those
// whose bound exceeds the distance some edge already kept surely lies
// within are skipped whole. The cost then follows the spans near the
// query point, not the line's length.
func (m *Measure) LineEdges(line orb.LineString, spans []orb.Bound) (lower float64) {
	m.far = false
	m.reach = math.Inf(1)
	start := len(m.Cands)
	m.spans = m.spans[:0]
	for k := range spans {
		m.spans = append(m.spans, spanBound{m.Frame.LowerBound(&spans[k]), k})
	}
	slices.SortFunc(m.spans, func(a, b spanBound) int { return cmp.Compare(a.lower, b.lower) })
	for _, s := range m.spans {
		if s.lower > m.reach {
			break
		}
		from := s.k * SpanVertices
		m.keepPath(line[from:min(from+SpanVertices+1, len(line))], true)
	}
	return m.lowest(start)
}

// spanBound is a span of a line (see LineEdges) and a bound below its
// distance.
type spanBound struct {
	lower float64
	k     int
}
