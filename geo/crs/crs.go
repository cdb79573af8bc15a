// Package crs converts coordinates between longitude/latitude on WGS84
// (CRS84, the coordinates protectmap stores) and the coordinate reference
// systems served beside it: EPSG:4326 (the same datum, latitude first),
// EPSG:3857 (Web Mercator) and the UTM zones that cover Ukraine, EPSG:32634
// to 32637.
//
// Transverse Mercator is Krüger's series to sixth order in the third
// flattening, as Karney (2011, "Transverse Mercator with an accuracy of a
// few nanometers") gives it, and as PROJ computes UTM: errors stay below
// 5 nm within 3,900 km of the zone's central meridian.
package crs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

// CRS is a coordinate reference system served; its coordinates are in the
// order its definition gives (northing or latitude second, but EPSG:4326:
// latitude first).
type CRS struct {
	// URI is the CRS's OGC URI, as OGC API - Features Part 2 names it.
	URI  string
	code int // EPSG code; 0 for CRS84
	zone int // UTM zone, 0 when not UTM
}

// OGC URIs of the CRSs served.
const (
	CRS84URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	epsgURI  = "http://www.opengis.net/def/crs/EPSG/0/"
)

// CRS84 is longitude, latitude in degrees on WGS84: the coordinates stored.
var CRS84 = &CRS{URI: CRS84URI}

// All are the CRSs served, CRS84 first.
var All = []*CRS{CRS84, epsg(4326, 0), epsg(3857, 0), epsg(32634, 34), epsg(32635, 35), epsg(32636, 36), epsg(32637, 37)}

func epsg(code, zone int) *CRS {
	return &CRS{URI: epsgURI + strconv.Itoa(code), code: code, zone: zone}
}

// URIs lists the URIs of All.
func URIs() []string {
	uris := make([]string, len(All))
	for i, c := range All {
		uris[i] = c.URI
	}
	return uris
}

// ErrUnknown is a CRS not served.
var ErrUnknown = errors.New("crs: not offered")

// Lookup finds a CRS by its OGC URI, its OGC URN, or a short name such as
// EPSG:3857 or CRS84; a URI in angle brackets (as Part 2's headers write
// them) is read too.
func Lookup(name string) (*CRS, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(name), "<"), ">")
	switch s {
	case CRS84URI, "http://www.opengis.net/def/crs/OGC/0/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "CRS84", "OGC:CRS84":
		return CRS84, nil
	}
	code := ""
	for _, prefix := range []string{epsgURI, "urn:ogc:def:crs:EPSG::", "EPSG:"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			code = rest
		}
	}
	for _, c := range All {
		if c.code != 0 && strconv.Itoa(c.code) == code {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: %q; offered: %s", ErrUnknown, name, strings.Join(URIs(), ", "))
}

// IsCRS84 is true for the stored coordinates, which need no conversion.
func (c *CRS) IsCRS84() bool { return c.code == 0 }

// Rectilinear is true when c's axes follow meridians and parallels, so a
// box in c is a box in longitude/latitude: all but UTM.
func (c *CRS) Rectilinear() bool { return c.zone == 0 }

// Web Mercator keeps latitudes within ±maxMercatorLat, where its square
// world ends; points beyond are drawn at that edge.
var maxMercatorLat = 2*math.Atan(math.Exp(math.Pi)) - math.Pi/2

// FromLonLat converts a longitude/latitude point to c.
func (c *CRS) FromLonLat(p orb.Point) orb.Point {
	switch {
	case c.code == 0:
		return p
	case c.code == 4326:
		return orb.Point{p[1], p[0]}
	case c.code == 3857:
		phi := math.Max(-maxMercatorLat, math.Min(maxMercatorLat, p[1]*math.Pi/180))
		return orb.Point{a * p[0] * math.Pi / 180, a * math.Atanh(math.Sin(phi))}
	}
	return utmForward(c.zone, p)
}

// ToLonLat converts a point of c to longitude/latitude; an error when the
// point lies outside what c can name.
func (c *CRS) ToLonLat(p orb.Point) (orb.Point, error) {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
		return p, fmt.Errorf("point %v is not finite", p)
	}
	var q orb.Point
	switch {
	case c.code == 0:
		q = p
	case c.code == 4326:
		q = orb.Point{p[1], p[0]}
	case c.code == 3857:
		if math.Abs(p[0]) > math.Pi*a*(1+1e-12) || math.Abs(p[1]) > math.Pi*a*(1+1e-12) {
			return p, fmt.Errorf("point %v is outside Web Mercator's square world of ±%.2f m", p, math.Pi*a)
		}
		q = orb.Point{p[0] / a * 180 / math.Pi, math.Atan(math.Sinh(p[1]/a)) * 180 / math.Pi}
	default:
		var err error
		if q, err = utmInverse(c.zone, p); err != nil {
			return p, err
		}
	}
	if !(q[0] >= -180 && q[0] <= 180 && q[1] >= -90 && q[1] <= 90) {
		return p, fmt.Errorf("point %v is outside [-180, 180] × [-90, 90] in longitude and latitude", p)
	}
	return q, nil
}

// Project returns a copy of g, given in longitude/latitude, in c.
func (c *CRS) Project(g orb.Geometry) orb.Geometry {
	if g == nil || c.code == 0 {
		return g
	}
	return project.Geometry(orb.Clone(g), c.FromLonLat)
}

// boxSteps is how many pieces each side of a box in UTM is cut into: its
// sides are straight in UTM and curved in longitude/latitude.
const boxSteps = 256

// BoxToLonLat converts the box with corners lo and hi (each in c's axis
// order, lo ≤ hi on both axes) to longitude/latitude: a Bound where the
// box's sides follow meridians and parallels (CRS84, EPSG:4326, Web
// Mercator), else a polygon through boxSteps points along each side.
func (c *CRS) BoxToLonLat(lo, hi orb.Point) (orb.Geometry, error) {
	if !(lo[0] <= hi[0] && lo[1] <= hi[1]) {
		return nil, fmt.Errorf("corners %v and %v are not ordered", lo, hi)
	}
	a, err := c.ToLonLat(lo)
	if err != nil {
		return nil, err
	}
	b, err := c.ToLonLat(hi)
	if err != nil {
		return nil, err
	}
	if c.zone == 0 {
		return orb.Bound{Min: orb.Point{math.Min(a[0], b[0]), math.Min(a[1], b[1])}, Max: orb.Point{math.Max(a[0], b[0]), math.Max(a[1], b[1])}}, nil
	}
	corners := []orb.Point{lo, {hi[0], lo[1]}, hi, {lo[0], hi[1]}, lo}
	ring := make(orb.Ring, 0, 4*boxSteps+1)
	for k := range 4 {
		p, q := corners[k], corners[k+1]
		for s := range boxSteps {
			t := float64(s) / boxSteps
			pt, err := c.ToLonLat(orb.Point{p[0] + t*(q[0]-p[0]), p[1] + t*(q[1]-p[1])})
			if err != nil {
				return nil, err
			}
			ring = append(ring, pt)
		}
	}
	return orb.Polygon{append(ring, ring[0])}, nil
}

// WGS84's semi-major axis (metres) and flattening.
const (
	a = 6378137.0
	f = 1 / 298.257223563
)

// UTM's scale on the central meridian and false easting (metres); the
// zones served are northern, without false northing.
const (
	k0       = 0.9996
	falseEst = 500000.0
)

// Krüger series terms for WGS84: n, the rectifying radius A, and the
// forward (alpha) and inverse (beta) coefficients.
var (
	n     = f / (2 - f)
	e2    = f * (2 - f)
	e     = math.Sqrt(e2)
	bigA  = a / (1 + n) * (1 + n*n/4 + math.Pow(n, 4)/64 + math.Pow(n, 6)/256)
	alpha = [6]float64{
		n/2 - 2*n*n/3 + 5*math.Pow(n, 3)/16 + 41*math.Pow(n, 4)/180 - 127*math.Pow(n, 5)/288 + 7891*math.Pow(n, 6)/37800,
		13*n*n/48 - 3*math.Pow(n, 3)/5 + 557*math.Pow(n, 4)/1440 + 281*math.Pow(n, 5)/630 - 1983433*math.Pow(n, 6)/1935360,
		61*math.Pow(n, 3)/240 - 103*math.Pow(n, 4)/140 + 15061*math.Pow(n, 5)/26880 + 167603*math.Pow(n, 6)/181440,
		49561*math.Pow(n, 4)/161280 - 179*math.Pow(n, 5)/168 + 6601661*math.Pow(n, 6)/7257600,
		34729*math.Pow(n, 5)/80640 - 3418889*math.Pow(n, 6)/1995840,
		212378941 * math.Pow(n, 6) / 319334400,
	}
	beta = [6]float64{
		n/2 - 2*n*n/3 + 37*math.Pow(n, 3)/96 - math.Pow(n, 4)/360 - 81*math.Pow(n, 5)/512 + 96199*math.Pow(n, 6)/604800,
		n*n/48 + math.Pow(n, 3)/15 - 437*math.Pow(n, 4)/1440 + 46*math.Pow(n, 5)/105 - 1118711*math.Pow(n, 6)/3870720,
		17*math.Pow(n, 3)/480 - 37*math.Pow(n, 4)/840 - 209*math.Pow(n, 5)/4480 + 5569*math.Pow(n, 6)/90720,
		4397*math.Pow(n, 4)/161280 - 11*math.Pow(n, 5)/504 - 830251*math.Pow(n, 6)/7257600,
		4583*math.Pow(n, 5)/161280 - 108847*math.Pow(n, 6)/3991680,
		20648693 * math.Pow(n, 6) / 638668800,
	}
)

// centralMeridian of a UTM zone, in degrees.
func centralMeridian(zone int) float64 { return float64(6*zone - 183) }

// conformal is τ′, the tangent of the conformal latitude, of τ = tan φ.
func conformal(tau float64) float64 {
	sigma := math.Sinh(e * math.Atanh(e*tau/math.Hypot(1, tau)))
	return tau*math.Hypot(1, sigma) - sigma*math.Hypot(1, tau)
}

func utmForward(zone int, p orb.Point) orb.Point {
	lam := (p[0] - centralMeridian(zone)) * math.Pi / 180
	lam = math.Remainder(lam, 2*math.Pi)
	phi := p[1] * math.Pi / 180
	tauP := conformal(math.Tan(phi))
	if math.Abs(p[1]) == 90 {
		tauP = math.Copysign(math.Inf(1), p[1])
	}
	xiP := math.Atan2(tauP, math.Cos(lam))
	etaP := math.Asinh(math.Sin(lam) / math.Hypot(tauP, math.Cos(lam)))
	xi, eta := xiP, etaP
	for j, aj := range alpha {
		k := 2 * float64(j+1)
		xi += aj * math.Sin(k*xiP) * math.Cosh(k*etaP)
		eta += aj * math.Cos(k*xiP) * math.Sinh(k*etaP)
	}
	return orb.Point{falseEst + k0*bigA*eta, k0 * bigA * xi}
}

func utmInverse(zone int, p orb.Point) (orb.Point, error) {
	xi := p[1] / (k0 * bigA)
	eta := (p[0] - falseEst) / (k0 * bigA)
	if math.Abs(xi) > math.Pi/2*(1+1e-9) || math.Abs(eta) > 4 {
		return p, fmt.Errorf("point %v is beyond the UTM zone's projection", p)
	}
	xiP, etaP := xi, eta
	for j, bj := range beta {
		k := 2 * float64(j+1)
		xiP -= bj * math.Sin(k*xi) * math.Cosh(k*eta)
		etaP -= bj * math.Cos(k*xi) * math.Sinh(k*eta)
	}
	tauP := math.Sin(xiP) / math.Hypot(math.Sinh(etaP), math.Cos(xiP))
	lam := math.Atan2(math.Sinh(etaP), math.Cos(xiP))
	// Newton's method for τ from τ′ (Karney 2011, eqs. 19-21).
	tau := tauP
	for range 10 {
		tp := conformal(tau)
		d := (tauP - tp) / math.Hypot(1, tp) * (1 + (1-e2)*tau*tau) / ((1 - e2) * math.Hypot(1, tau))
		tau += d
		if math.Abs(d) < 1e-15*math.Max(1, math.Abs(tau)) {
			break
		}
	}
	return orb.Point{math.Remainder(centralMeridian(zone)+lam*180/math.Pi, 360), math.Atan(tau) * 180 / math.Pi}, nil
}
