package geodesy

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/tidwall/geodesic"
)

// WGS84 ellipsoid.
const (
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
	rad     = math.Pi / 180
)

// Inverse solves the geodesic inverse problem on WGS84 with Karney's
// algorithm (GeographicLib, via tidwall/geodesic): distance in metres and the
// forward azimuths at a and at b in degrees.
func Inverse(a, b orb.Point) (meters, aziA, aziB float64) {
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &meters, &aziA, &aziB)
	return meters, aziA, aziB
}

// karneyFrom is inverse without the azimuth at b, which costs an arc
// tangent.
func karneyFrom(a, b orb.Point) (meters, aziA float64) {
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &meters, &aziA, nil)
	return meters, aziA
}

// inverseFrom is karneyFrom, solving short lines from their chord.
func inverseFrom(a, b orb.Point) (meters, aziA float64) {
	line := newShortLine(a)
	meters, d, ok := line.distanceAlong(b)
	if !ok {
		return karneyFrom(a, b)
	}
	return meters, line.aim(d)
}

// Direct walks meters from a along azimuth; it returns the point reached and
// the forward azimuth there.
func Direct(a orb.Point, azimuth, meters float64) (orb.Point, float64) {
	var lat, lon, azi2 float64
	geodesic.WGS84.Direct(a[1], a[0], azimuth, meters, &lat, &lon, &azi2)
	return orb.Point{lon, lat}, azi2
}

// Distance is the geodesic distance in metres between two points on WGS84,
// as proximity queries measure it.
func Distance(a, b orb.Point) float64 {
	m, _ := inverseFrom(a, b)
	return m
}

// Frame measures approximate distances from a query point cheaply (a few
// multiplications per vertex), to rank candidates and bound them from below.
// It is the classic mid-latitude formula on the ellipsoid: north-south
// offsets use the meridian arc (second order in latitude), east-west offsets
// the parallel scale at the mean latitude of the two points, using
// d(N cos φ)/dφ = −M sin φ. Within frameLatSpan/frameLonSpan degrees of the
// centre its error stays under frameError (see TestFrameAccuracy).
type Frame struct {
	lon0, lat0         float64
	kx0, kx1, ky0, ky1 float64 // metres per degree, and their change per degree of latitude
	usable             bool    // false near the poles, where ranking falls back to the sphere
	// window is the box the frame ranks, when it does not cross the
	// antimeridian (plain); then covers is four comparisons.
	window orb.Bound
	plain  bool
	// outside bounds from below, in metres, the distance to any point
	// outside a plain window.
	outside float64
	// bow bounds how far an edge in the window strays from its chord, per
	// metre of its length squared (see edgeBowPerMeter).
	bow float64
}

// Beyond these spans from the centre, candidates are ranked on the sphere.
const (
	frameLatSpan = 3.0
	frameLonSpan = 4.5
	// frameSlackMeters absorbs rounding for very short distances.
	frameSlackMeters = 0.01
)

// meridianMetersPerDegree is the least length of a degree of latitude (at
// the equator, where the meridian's radius of curvature a(1−e²) is
// smallest). No path changes latitude by Δφ in less than Δφ times it.
const meridianMetersPerDegree = wgs84A * (1 - wgs84E2) * rad

// EquatorMetersPerDegree is the length of a degree of longitude at the
// equator; at latitude φ a degree of longitude is cos φ times it.
const EquatorMetersPerDegree = wgs84A * rad

// MeridianMetersPerDegree is the least length of a degree of latitude.
const MeridianMetersPerDegree = meridianMetersPerDegree

// frameError bounds |planar − geodesic| / geodesic for a distance of d
// metres inside the spans. The frame is second-order accurate, so the error
// grows with the square of the distance: measured 2e-7 at 6 km and 7.4e-4
// at 330 km (TestFrameAccuracy); this bound keeps a margin of over 2.
func frameError(d float64) float64 {
	r := d * 1e-5
	return 1e-6 + 2e-4*r*r
}

func NewFrame(p orb.Point) Frame {
	s, c := math.Sincos(p[1] * rad)
	w := math.Sqrt(1 - wgs84E2*s*s)
	n := wgs84A / w
	m := wgs84A * (1 - wgs84E2) / (w * w * w)
	dm := 3 * wgs84A * (1 - wgs84E2) * wgs84E2 * s * c / (w * w * w * w * w) // dM/dφ
	f := Frame{
		lon0: p[0], lat0: p[1],
		kx0: n * c * rad, kx1: -m * s * rad * rad / 2,
		ky0: m * rad, ky1: dm * rad * rad / 2,
		usable: math.Abs(p[1]) <= 75,
		window: orb.Bound{
			Min: orb.Point{p[0] - frameLonSpan, p[1] - frameLatSpan},
			Max: orb.Point{p[0] + frameLonSpan, p[1] + frameLatSpan},
		},
		plain: p[0]-frameLonSpan > -180 && p[0]+frameLonSpan < 180,
		bow:   edgeBowPerMeter,
	}
	if edge := math.Abs(p[1]) + frameLatSpan; edge > 56 {
		f.bow = max(f.bow, 2*math.Tan(min(edge, 89)*rad)/(8*sphereLowerRadius))
	}
	if f.usable && f.plain {
		// A path leaving the window crosses one of its parallels or, between
		// them, one of its meridians (both are as far, by symmetry).
		f.outside = min(meridianMetersPerDegree*frameLatSpan,
			sphereLowerRadius*centralToMeridianSegment(p[1], frameLonSpan, f.window.Min[1], f.window.Max[1]))
	}
	return f
}

// Center is the point the frame is centred on.
func (f *Frame) Center() orb.Point { return orb.Point{f.lon0, f.lat0} }

// Scale is the frame's metres per degree of longitude and of latitude at
// its centre.
func (f *Frame) Scale() (x, y float64) { return f.kx0, f.ky0 }

func wrapLon(d float64) float64 {
	if d > 180 {
		return d - 360
	}
	if d < -180 {
		return d + 360
	}
	return d
}

func (f *Frame) project(q orb.Point) (x, y float64) {
	dlat := q[1] - f.lat0
	dlon := q[0] - f.lon0
	if !f.plain {
		dlon = wrapLon(dlon)
	}
	return dlon * (f.kx0 + f.kx1*dlat), dlat * (f.ky0 + f.ky1*dlat)
}

// Covers reports whether the frame ranks everything inside the box.
func (f *Frame) Covers(b *orb.Bound) bool {
	if !f.usable {
		return false
	}
	if f.plain {
		return Within(*b, f.window)
	}
	// A box as wide as the window or wider (a feature cut at ±180° spans
	// every longitude) would fold onto itself once its sides are wrapped.
	if b.Min[1] < f.lat0-frameLatSpan || b.Max[1] > f.lat0+frameLatSpan || b.Max[0]-b.Min[0] > 2*frameLonSpan {
		return false
	}
	w := wrapLon(b.Min[0] - f.lon0)
	e := wrapLon(b.Max[0] - f.lon0)
	return w >= -frameLonSpan && e <= frameLonSpan && w <= e
}

// LowerBound returns metres no greater than the geodesic distance from the
// Frame's centre to any point of the box. It runs for every entry of every
// R-tree node a query opens, so the common case (a box inside a plain
// window) is kept to a few comparisons and multiplications.
func (f *Frame) LowerBound(b *orb.Bound) float64 {
	if !f.usable || !f.plain {
		if f.Covers(b) {
			return lowerFromPlanar(f.boxDistance(b))
		}
		return sphereBoxLowerBound(orb.Point{f.lon0, f.lat0}, b)
	}
	w := &f.window
	if Within(*b, *w) {
		return lowerFromPlanar(f.boxDistance(b))
	}
	c := orb.Bound{
		Min: orb.Point{max(b.Min[0], w.Min[0]), max(b.Min[1], w.Min[1])},
		Max: orb.Point{min(b.Max[0], w.Max[0]), min(b.Max[1], w.Max[1])},
	}
	if c.Min[0] > c.Max[0] || c.Min[1] > c.Max[1] {
		return sphereBoxLowerBound(orb.Point{f.lon0, f.lat0}, b)
	}
	// Part of the box lies in the window, the rest is at least f.outside away.
	return min(f.outside, lowerFromPlanar(f.boxDistance(&c)))
}

// boxDistance is the frame distance from the centre to the nearest point of
// a box the frame covers.
func (f *Frame) boxDistance(b *orb.Bound) float64 {
	south, north := b.Min[1]-f.lat0, b.Max[1]-f.lat0
	west, east := b.Min[0]-f.lon0, b.Max[0]-f.lon0
	if !f.plain {
		west, east = wrapLon(west), wrapLon(east)
	}
	near := 0.0 // latitude offset of the box's nearest parallel
	if south > 0 {
		near = south
	} else if north < 0 {
		near = north
	}
	dlon := 0.0
	if west > 0 {
		dlon = west
	} else if east < 0 {
		dlon = -east
	}
	// The mean-latitude parallel scale is linear in latitude, so it is
	// smallest at one of the box's latitude limits.
	edge := north
	if f.kx1 > 0 {
		edge = south
	}
	x := dlon * (f.kx0 + f.kx1*edge)
	y := near * min(f.ky0+f.ky1*near, f.ky0)
	return math.Sqrt(x*x + y*y)
}

// Around returns a box holding every point within meters of the centre, or
// false when that box would leave the window, where the frame cannot vouch
// for it.
func (f *Frame) Around(meters float64) (orb.Bound, bool) {
	if !f.usable || !f.plain || meters >= f.outside {
		return orb.Bound{}, false
	}
	// A point g metres away is at most g(1+frameError(g))+slack away in the
	// Frame, and frame offsets are at least the least scales times the
	// degree offsets.
	d := meters + meters*frameError(meters) + frameSlackMeters
	dlat := d / (f.ky0 - math.Abs(f.ky1)*frameLatSpan)
	dlon := d / (f.kx0 - math.Abs(f.kx1)*dlat)
	b := orb.Bound{Min: orb.Point{f.lon0 - dlon, f.lat0 - dlat}, Max: orb.Point{f.lon0 + dlon, f.lat0 + dlat}}
	return b, Within(b, f.window)
}

// lowerFromPlanar turns a frame distance d into a bound below the geodesic
// one g: if g < d then d ≤ g(1+frameError(g)) + slack ≤ g(1+frameError(d)) +
// slack, so g ≥ (d−slack)/(1+frameError(d)) ≥ d − slack − d·frameError(d),
// which avoids a division. It grows with d (over the frame's spans), so the
// bound for a box's nearest point holds for the whole box.
func lowerFromPlanar(d float64) float64 {
	return max(0, d-frameSlackMeters-d*frameError(d))
}

// sphereLowerRadius is a sphere radius small enough that central angles
// between geodetic coordinates times it never exceed WGS84 geodesic
// distances (the sphere-versus-ellipsoid discrepancy is under 0.6 %).
const sphereLowerRadius = 6.30e6

// sphereBoxLowerBound bounds the distance from p to a box from below on a
// shrunken sphere; it serves far boxes, which the local frame cannot rank.
func sphereBoxLowerBound(p orb.Point, b *orb.Bound) float64 {
	minLat, maxLat := b.Min[1], b.Max[1]
	if p[0] >= b.Min[0] && p[0] <= b.Max[0] {
		// The box spans p's meridian: the nearest point is due north or south.
		return sphereLowerRadius * rad * max(0, minLat-p[1], p[1]-maxLat)
	}
	// Otherwise the nearest point lies on the nearer of the box's sides,
	// east or west of p, whichever way round the globe.
	east := math.Mod(b.Min[0]-p[0]+720, 360)
	west := math.Mod(p[0]-b.Max[0]+720, 360)
	return sphereLowerRadius * centralToMeridianSegment(p[1], min(east, west), minLat, maxLat)
}

// centralToMeridianSegment is the central angle from a point at latitude lat
// to the meridian dlon degrees away, between latitudes lo and hi.
func centralToMeridianSegment(lat, dlon, lo, hi float64) float64 {
	if math.Abs(dlon) < 90 {
		// Foot of the perpendicular from the point to the meridian's great circle.
		foot := math.Atan(math.Tan(lat*rad)/math.Cos(dlon*rad)) / rad
		if foot >= lo && foot <= hi {
			return math.Asin(math.Min(1, math.Abs(math.Cos(lat*rad)*math.Sin(dlon*rad))))
		}
	}
	return math.Min(haversine(lat, dlon, lo), haversine(lat, dlon, hi))
}

func haversine(lat1, dlon, lat2 float64) float64 {
	s1 := math.Sin((lat2 - lat1) * rad / 2)
	s2 := math.Sin(dlon * rad / 2)
	h := s1*s1 + math.Cos(lat1*rad)*math.Cos(lat2*rad)*s2*s2
	return 2 * math.Asin(math.Min(1, math.Sqrt(h)))
}
