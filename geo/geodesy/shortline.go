package geodesy

import (
	"math"

	"github.com/paulmach/orb"
)

// Lines up to shortLineMeters long are solved from their chord through the
// ellipsoid (see shortLine.distance), over ten times faster than Karney's
// series; longer ones, and lines near a pole, by Karney's algorithm.
const (
	shortLineMeters = 200_000
	// shortLineMaxLat keeps the local east and north well defined.
	shortLineMaxLat = 89
	// shortLineTolerance bounds the difference from Karney's distance, in
	// metres (TestShortLine measures 8 µm at 200 km).
	shortLineTolerance = 1e-5
)

// shortLine solves the geodesic inverse problem from one fixed point, the
// query point, to points near it.
type shortLine struct {
	pos         vec3 // from on the ellipsoid, earth-centred, in metres
	normal      vec3 // the ellipsoid's unit normal at from
	east, north vec3 // unit vectors of the tangent plane at from
	usable      bool
}

// onEllipsoid returns p's earth-centred position in metres and the
// ellipsoid's unit normal there.
func onEllipsoid(p orb.Point) (pos, normal vec3) {
	normal = toVec(p)
	n := wgs84A / math.Sqrt(1-wgs84E2*normal.z*normal.z)
	return vec3{n * normal.x, n * normal.y, n * (1 - wgs84E2) * normal.z}, normal
}

func newShortLine(p orb.Point) shortLine {
	s := shortLine{usable: math.Abs(p[1]) <= shortLineMaxLat}
	s.pos, s.normal = onEllipsoid(p)
	so, co := math.Sincos(p[0] * rad)
	s.east = vec3{-so, co, 0}
	s.north = s.normal.cross(s.east)
	return s
}

// distance returns the geodesic distance in metres from the fixed point to
// q; ok is false when the line is too long or too near a pole, and Karney's
// algorithm must solve it.
//
// The plane through the fixed point's normal and q cuts the ellipsoid in a
// normal section, whose length differs from the geodesic's by far less than
// a micrometre at 200 km (Bowring 1983). Its length follows from the chord c
// as 2R·asin(c/2R), R being the radius of curvature midway along it, in the
// chord's direction (Euler's formula). TestShortLine holds the result to
// Karney's within shortLineTolerance.
func (s *shortLine) distance(q orb.Point) (meters float64, ok bool) {
	meters, _, ok = s.distanceAlong(q)
	return meters, ok
}

// distanceAlong is distance that also returns the chord to q, from which
// aim gives the azimuth without working it out again.
func (s *shortLine) distanceAlong(q orb.Point) (meters float64, d vec3, ok bool) {
	d, normal, ok := s.chord(q)
	c2 := d.dot(d)
	if !ok || c2 == 0 {
		return 0, d, ok
	}
	// Midway, the normal is about the mean of the ends' normals, and the
	// chord runs parallel to the section.
	u := vec3{s.normal.x + normal.x, s.normal.y + normal.y, s.normal.z + normal.z}
	inv := 1 / math.Sqrt(u.dot(u))
	u = vec3{u.x * inv, u.y * inv, u.z * inv}
	sin2 := u.z * u.z // sine squared of the latitude midway
	du := d.dot(u)
	// The chord's northward part: d along the unit vector (ẑ − sinφ u)/cosφ.
	dn := d.z - u.z*du
	cos2 := dn * dn / ((1 - sin2) * (c2 - du*du)) // cosine squared of the azimuth
	if !(cos2 <= 1) {                             // rounding on a meridian, or NaN for a vanishing chord
		cos2 = 1
	}
	w2 := 1 - wgs84E2*sin2
	// 1/R = cos²α/M + sin²α/N, with M = a(1−e²)/w³ and N = a/w.
	k := math.Sqrt(w2) / wgs84A * (cos2*w2/(1-wgs84E2) + 1 - cos2)
	x := c2 * k * k
	// 2R·asin(c/2R) as a series in (c/R)²; the next term is below 1e-12 m.
	return math.Sqrt(c2) * (1 + x*(1.0/24+x*(3.0/640+x*5.0/7168))), d, true
}

// azimuth returns the forward azimuth in degrees, in (−180, 180], at the
// fixed point towards q: the normal section's, within a tenth of an
// arcsecond of the geodesic's at 200 km. ok is as for distance.
func (s *shortLine) azimuth(q orb.Point) (degrees float64, ok bool) {
	d, _, ok := s.chord(q)
	return s.aim(d), ok
}

// aim is azimuth given the chord d to q.
func (s *shortLine) aim(d vec3) (degrees float64) {
	return math.Atan2(d.dot(s.east), d.dot(s.north)) / rad
}

// chord returns the chord from the fixed point to q and the normal at q; ok
// is false when q is too far or either end too near a pole.
func (s *shortLine) chord(q orb.Point) (d, normal vec3, ok bool) {
	if !s.usable || math.Abs(q[1]) > shortLineMaxLat {
		return d, normal, false
	}
	pos, normal := onEllipsoid(q)
	d = vec3{pos.x - s.pos.x, pos.y - s.pos.y, pos.z - s.pos.z}
	return d, normal, d.dot(d) <= shortLineMeters*shortLineMeters
}
