package geodesy

import (
	"math"

	"github.com/paulmach/orb"
)

// vec3 is a point on the unit sphere, used to rank candidates too far from
// the query point for the local frame.
type vec3 struct{ x, y, z float64 }

func toVec(p orb.Point) vec3 {
	sl, cl := math.Sincos(p[1] * rad)
	so, co := math.Sincos(p[0] * rad)
	return vec3{cl * co, cl * so, sl}
}

func (a vec3) dot(b vec3) float64 { return a.x*b.x + a.y*b.y + a.z*b.z }

func (a vec3) cross(b vec3) vec3 {
	return vec3{a.y*b.z - a.z*b.y, a.z*b.x - a.x*b.z, a.x*b.y - a.y*b.x}
}

func angle(a, b vec3) float64 {
	return math.Atan2(math.Sqrt(a.cross(b).dot(a.cross(b))), a.dot(b))
}

// arcDistance returns the central angle from p to the great-circle arc a–b
// and the fraction t along the arc of its nearest point.
func arcDistance(p, a, b vec3) (radians, t float64) {
	n := a.cross(b)
	nn := n.dot(n)
	if nn > 1e-30 {
		// p lies beside the arc when it sits between the planes through a and b.
		if a.cross(p).dot(n) >= 0 && p.cross(b).dot(n) >= 0 {
			sinCross := math.Abs(p.dot(n)) / math.Sqrt(nn)
			// Project p onto the arc's plane to find how far along it lies.
			inv := 1 / math.Sqrt(nn)
			nu := vec3{n.x * inv, n.y * inv, n.z * inv}
			d := p.dot(nu)
			q := vec3{p.x - d*nu.x, p.y - d*nu.y, p.z - d*nu.z}
			return math.Asin(math.Min(1, sinCross)), angle(a, q) / angle(a, b)
		}
	}
	da, db := angle(p, a), angle(p, b)
	if db < da {
		return db, 1
	}
	return da, 0
}
