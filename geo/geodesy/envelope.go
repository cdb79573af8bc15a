package geodesy

import (
	"math"

	"github.com/paulmach/orb"
)

// Envelope returns a box holding every point of g with its edges taken as
// geodesics on WGS84, the shapes proximity measures. A geodesic leaves the
// box of its ends where it bows poleward (an edge along 80°N from 20°E to
// 30°E peaks 4 km north of its ends), so the box reaches each edge's
// highest and lowest latitude. An edge spanning more than 180° of
// longitude crosses the antimeridian, and its box spans every longitude.
func Envelope(g orb.Geometry) orb.Bound {
	if p, ok := g.(orb.Point); ok {
		// A point has no edges: boxed here, it spares the slice
		// VertexRuns would allocate to hand it on, one a site on load.
		return orb.Bound{Min: p, Max: p}
	}
	b := g.Bound()
	VertexRuns(g, func(run []orb.Point, linear bool) {
		if !linear {
			return
		}
		for i := 1; i < len(run); i++ {
			lo, hi, wraps := edgeLatitudes(run[i-1], run[i])
			b.Min[1], b.Max[1] = min(b.Min[1], lo), max(b.Max[1], hi)
			if wraps {
				b.Min[0], b.Max[0] = -180, 180
			}
		}
	})
	return b
}

// edgeEnvelope is the Envelope of the geodesic a–b.
func edgeEnvelope(a, b orb.Point) orb.Bound {
	lo, hi, wraps := edgeLatitudes(a, b)
	box := orb.Bound{Min: orb.Point{min(a[0], b[0]), lo}, Max: orb.Point{max(a[0], b[0]), hi}}
	if wraps {
		box.Min[0], box.Max[0] = -180, 180
	}
	return box
}

// reduced is the sine and cosine of a reduced latitude β, tan β = (1−f) tan φ.
type reduced struct{ sin, cos float64 }

func reducedLatitude(degrees float64) reduced {
	s, c := math.Sincos(degrees * rad)
	s *= 1 - wgs84F
	h := math.Hypot(s, c)
	return reduced{s / h, c / h}
}

// edgeLatitudes bounds the latitudes of the geodesic a–b: lo and hi hold
// every latitude along it.
// wraps reports an edge spanning more than 180° of longitude, which
// crosses the antimeridian.
//
// On Bessel's auxiliary sphere a geodesic is a great circle in reduced
// latitude β and a longitude ω, so its latitude peaks where the great
// circle through the ends does. Only the ends' ω offset is unknown without
// solving the inverse problem: it exceeds the longitude offset λ by
// f·sin α₀ times an integral whose integrand is at most 1 (Karney 2013,
// eq. 8), so by at most f·σ·cos β for either end's β (Clairaut: sin α₀ =
// cos β sin α all along), and the arc σ is at most |Δβ| + ω·cos β for the
// end farther from the equator. Taking the largest ω the ends can have is
// safe: a peak that lies between the ends stays between them, and only
// rises, as ω grows while the arc is under a quarter circle (cos σ > 0);
// longer arcs get the whole range of latitudes.
func edgeLatitudes(a, b orb.Point) (lo, hi float64, wraps bool) {
	lo, hi = min(a[1], b[1]), max(a[1], b[1])
	dlon := math.Abs(b[0] - a[0])
	if dlon > 180 {
		wraps, dlon = true, 360-dlon
	}
	if dlon == 0 || math.Abs(a[1]) == 90 || math.Abs(b[1]) == 90 {
		// A meridian (from a pole, that of the other end): latitude runs
		// straight from end to end.
		return lo, hi, wraps
	}
	// dβ/dφ lies between 1−f and 1/(1−f).
	dbeta := math.Abs(b[1]-a[1]) * rad / (1 - wgs84F)
	lambda := dlon * rad
	if math.Abs(a[1]) <= 84 && math.Abs(b[1]) <= 84 {
		// The test below without a sine, for the many short edges that are
		// not nearly east-west: here cos β ≥ cos 84°, so |sin β₁ − sin β₂|
		// ≥ 0.1045·(1−f)·|Δφ|, and σ ≤ |Δβ| + ω with cos β ≤ 1.
		omega := lambda + wgs84F*(dbeta+lambda)/(1-wgs84F)
		sigma := dbeta + omega
		if 0.1045*(1-wgs84F)*math.Abs(b[1]-a[1])*rad > sigma*sigma/2+1e-15 {
			return lo, hi, wraps
		}
	}
	ra, rb := reducedLatitude(a[1]), reducedLatitude(b[1])
	s1, c1, s2, c2 := ra.sin, ra.cos, rb.sin, rb.cos
	far := min(c1, c2)
	arc := (dbeta + lambda*far) / (1 - wgs84F*far*far)
	omega := lambda + wgs84F*far*arc
	if omega >= math.Pi {
		return -90, 90, wraps
	}
	// A peak between the ends needs the latitude to rise out of one end
	// and fall into the other (the tests below), which asks for
	// |sin β₁ − sin β₂| < (1 − cos σ)·max |sin β| ≤ σ²/2·max |sin β|: most
	// edges that are not nearly east-west fail that without a sine.
	sigma := dbeta + omega*far
	if math.Abs(s1-s2) > sigma*sigma/2*max(math.Abs(s1), math.Abs(s2))+1e-15 {
		return lo, hi, wraps
	}
	sw, cw := math.Sincos(omega)
	// The ends as unit vectors on the auxiliary sphere, the first at ω = 0.
	cosArc := s1*s2 + c1*c2*cw
	if cosArc <= 0 {
		return -90, 90, wraps
	}
	// The great circle's normal p1 × p2; its pole's latitude is 90° − the peak's.
	nx, ny, nz := c1*s2-s1*c2*cw, -s1*c2*sw, c1*c2*sw
	horiz := math.Hypot(nx, ny) // sin β_peak · |n|
	// The latitude rises out of the first end and falls into the second
	// exactly when the northern peak lies between them; the southern is
	// the mirror case.
	north := s2 > cosArc*s1 && s1 > cosArc*s2
	south := s2 < cosArc*s1 && s1 < cosArc*s2
	if !north && !south {
		return lo, hi, wraps
	}
	// tan φ = tan β / (1−f), with tan β_peak = horiz / |nz|.
	peak := math.Atan2(horiz, (1-wgs84F)*math.Abs(nz))/rad + envelopeSlackDegrees
	if north {
		hi = max(hi, min(peak, 90))
	} else {
		lo = min(lo, max(-peak, -90))
	}
	return lo, hi, wraps
}

// envelopeSlackDegrees covers rounding in the peak's latitude (a tenth of
// a millimetre).
const envelopeSlackDegrees = 1e-9
