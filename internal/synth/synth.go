// Package synth generates country-scale sets of protected sites for
// benchmarks and load tests (internal/synthlayer writes them as GeoJSON): points, power lines and small plant outlines
// clustered around towns the way real infrastructure is. Output depends only
// on the seed, so figures are comparable between runs and machines.
package synth

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/paulmach/orb"
)

// Site is one generated feature.
type Site struct {
	ID       string
	Kind     string
	Name     string
	Geometry orb.Geometry
}

// Ukraine's extent, where the towns are scattered.
const (
	minLon, maxLon = 22.2, 40.2
	minLat, maxLat = 44.4, 52.3
)

// Sites returns n sites generated from seed: about 60 % points (substations,
// hospitals), 25 % power lines of 3–20 vertices with 100–400 m spans, and
// 15 % polygons of 5–12 vertices 50–500 m across.
func Sites(n int, seed uint64) []Site {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	towns := make([]orb.Point, max(1, n/500))
	spread := make([]float64, len(towns))
	for i := range towns {
		towns[i] = orb.Point{minLon + r.Float64()*(maxLon-minLon), minLat + r.Float64()*(maxLat-minLat)}
		spread[i] = 0.02 + r.ExpFloat64()*0.08 // degrees
	}
	out := make([]Site, n)
	for i := range out {
		t := r.IntN(len(towns))
		c := micro(orb.Point{
			clamp(towns[t][0]+r.NormFloat64()*spread[t], -180, 180),
			clamp(towns[t][1]+r.NormFloat64()*spread[t]*0.65, -85, 85),
		})
		s := &out[i]
		s.ID = "s" + strconv.Itoa(i)
		switch k := r.Float64(); {
		case k < 0.45:
			s.Kind, s.Geometry = "substation", c
		case k < 0.60:
			s.Kind, s.Geometry = "hospital", c
		case k < 0.85:
			s.Kind, s.Geometry = "line", line(r, c)
		default:
			s.Kind, s.Geometry = "plant", outline(r, c)
		}
		s.Name = s.Kind + " " + strconv.Itoa(i)
	}
	return out
}

// PowerLines returns n transmission lines generated from seed, each
// 20–200 km long in 100–400 m spans (50 to 2,000 vertices), across the same
// extent as Sites: the long lines a real energy layer holds beside its
// substations, whose envelopes each cover many towns.
func PowerLines(n int, seed uint64) []Site {
	r := rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))
	out := make([]Site, n)
	for i := range out {
		start := orb.Point{minLon + r.Float64()*(maxLon-minLon), minLat + r.Float64()*(maxLat-minLat)}
		spans := int(20_000 / 250 * math.Pow(10, r.Float64()))
		out[i] = Site{ID: "p" + strconv.Itoa(i), Kind: "power_line", Name: "line " + strconv.Itoa(i), Geometry: walk(r, start, 1+spans)}
	}
	return out
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// micro rounds a point to the micro-degree (about 0.1 m), as real layers
// are written, so a set written as GeoJSON and read back is the set made.
func micro(p orb.Point) orb.Point {
	return orb.Point{math.Round(p[0]*1e6) / 1e6, math.Round(p[1]*1e6) / 1e6}
}

// metres to degrees near 48° N, good enough for shapes.
const degPerMeterLat, degPerMeterLon = 1 / 111_200.0, 1 / 74_400.0

func line(r *rand.Rand, start orb.Point) orb.LineString {
	return walk(r, start, 3+r.IntN(18))
}

// walk is a line of n vertices from start in 100–400 m spans, its heading
// wandering a little at each.
func walk(r *rand.Rand, start orb.Point, n int) orb.LineString {
	heading := r.Float64() * 2 * math.Pi
	l := make(orb.LineString, n)
	l[0] = start
	for i := 1; i < n; i++ {
		heading += r.NormFloat64() * 0.2
		span := 100 + r.Float64()*300
		l[i] = micro(orb.Point{
			clamp(l[i-1][0]+math.Sin(heading)*span*degPerMeterLon, -180, 180),
			clamp(l[i-1][1]+math.Cos(heading)*span*degPerMeterLat, -85, 85),
		})
	}
	return l
}

func outline(r *rand.Rand, c orb.Point) orb.Polygon {
	n := 5 + r.IntN(8)
	radius := 25 + r.Float64()*225
	ring := make(orb.Ring, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		rr := radius * (0.7 + 0.3*r.Float64())
		ring[i] = micro(orb.Point{c[0] + math.Sin(a)*rr*degPerMeterLon, c[1] + math.Cos(a)*rr*degPerMeterLat})
	}
	ring[n] = ring[0]
	return orb.Polygon{ring}
}
