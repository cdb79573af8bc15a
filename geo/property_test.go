package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/tidwall/geodesic"
)

// The property tests hold Nearby to a reference written apart from the
// search code: every feature measured by GeographicLib's algorithms
// (Karney's, through tidwall/geodesic) with brute force, against random
// features and query points all over the globe.

// refFeature is a feature with its edges' geodesic lengths, which the
// reference uses to skip edges that cannot come within a radius.
type refFeature struct {
	geom  orb.Geometry
	edges []refEdge
	polys []orb.Polygon // the polygons, for the inside test
}

type refEdge struct {
	a, b   orb.Point
	ea, eb [3]float64 // earth-centred positions in metres
	meters float64    // geodesic length
	azi    float64    // forward azimuth at a
}

func newRefFeature(g orb.Geometry) refFeature {
	f := refFeature{geom: g}
	geodesy.VertexRuns(g, func(run []orb.Point, linear bool) {
		if !linear || len(run) == 1 {
			for _, p := range run {
				f.edges = append(f.edges, refEdge{a: p, b: p, ea: ecef(p), eb: ecef(p)})
			}
			return
		}
		for i := 1; i < len(run); i++ {
			e := refEdge{a: run[i-1], b: run[i], ea: ecef(run[i-1]), eb: ecef(run[i])}
			geodesic.WGS84.Inverse(e.a[1], e.a[0], e.b[1], e.b[0], &e.meters, &e.azi, nil)
			f.edges = append(f.edges, e)
		}
	})
	var collect func(g orb.Geometry)
	collect = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Polygon:
			f.polys = append(f.polys, g)
		case orb.MultiPolygon:
			f.polys = append(f.polys, g...)
		case orb.Collection:
			for _, c := range g {
				collect(c)
			}
		}
	}
	collect(g)
	return f
}

// ecef is p's earth-centred position on WGS84 in metres.
func ecef(p orb.Point) [3]float64 {
	sl, cl := math.Sincos(p[1] * math.Pi / 180)
	so, co := math.Sincos(p[0] * math.Pi / 180)
	n := 6378137 / math.Sqrt(1-0.00669437999014*sl*sl)
	return [3]float64{n * cl * co, n * cl * so, n * (1 - 0.00669437999014) * sl}
}

func chord(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

func karney(a, b orb.Point) float64 {
	var s float64
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s, nil, nil)
	return s
}

// inRing is even-odd ray casting in plain longitude/latitude, as README
// states polygons are tested.
func inRing(p orb.Point, ring orb.Ring) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// onRing reports p exactly on a vertex or a straight lon/lat side of ring:
// the boundary, which counts as inside.
func onRing(p orb.Point, ring orb.Ring) bool {
	for i := 1; i < len(ring); i++ {
		a, b := ring[i-1], ring[i]
		cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
		if cross == 0 && p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) && p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1]) {
			return true
		}
	}
	return false
}

// distance is the reference distance from p to the feature, or +Inf when
// it surely exceeds meters: 0 inside a polygon (holes excluded), else the
// least over every edge of a brute-force minimum along the geodesic.
func (f *refFeature) distance(p orb.Point, meters float64) float64 {
	for _, poly := range f.polys {
		if onRing(p, poly[0]) || inRing(p, poly[0]) && !onRingOrIn(p, poly[1:]) {
			return 0
		}
	}
	pe := ecef(p)
	best := math.Inf(1)
	for _, e := range f.edges {
		// For X on the edge, 2·d(P,X) ≥ d(P,A) + d(P,B) − |AB|, and a
		// chord is never longer than the geodesic.
		lower := (chord(pe, e.ea) + chord(pe, e.eb) - e.meters) / 2
		if lower > meters || lower > best {
			continue
		}
		best = min(best, e.distance(p))
	}
	return best
}

func onRingOrIn(p orb.Point, holes []orb.Ring) bool {
	for _, h := range holes {
		if inRing(p, h) && !onRing(p, h) {
			return true
		}
	}
	return false
}

// distance samples the geodesic edge and refines the best sample by
// golden-section search, to a tenth of a millimetre along the edge.
func (e *refEdge) distance(p orb.Point) float64 {
	if e.meters == 0 {
		return karney(p, e.a)
	}
	at := func(s float64) float64 {
		var lat, lon float64
		geodesic.WGS84.Direct(e.a[1], e.a[0], e.azi, s, &lat, &lon, nil)
		return karney(p, orb.Point{lon, lat})
	}
	n := 32 + int(e.meters/10_000)
	step := e.meters / float64(n)
	k, best := 0, math.Inf(1)
	for i := 0; i <= n; i++ {
		if d := at(step * float64(i)); d < best {
			k, best = i, d
		}
	}
	lo, hi := max(0, step*float64(k-1)), min(e.meters, step*float64(k+1))
	const phi = 0.6180339887498949
	x1, x2 := hi-phi*(hi-lo), lo+phi*(hi-lo)
	f1, f2 := at(x1), at(x2)
	for hi-lo > 1e-4 {
		if f1 < f2 {
			hi, x2, f2 = x2, x1, f1
			x1 = hi - phi*(hi-lo)
			f1 = at(x1)
		} else {
			lo, x1, f1 = x1, x2, f2
			x2 = lo + phi*(hi-lo)
			f2 = at(x2)
		}
	}
	return min(best, f1, f2, karney(p, e.a), karney(p, e.b))
}

// world is a random layer of features over the whole globe with the
// reference's view of each.
type world struct {
	r     *rand.Rand
	geoms []orb.Geometry
	refs  []refFeature
}

func randomLon(r *rand.Rand) float64 { return -180 + 360*r.Float64() }

// randomPlace is anywhere on the globe, near a pole or near the
// antimeridian.
func randomPlace(r *rand.Rand) orb.Point {
	switch r.IntN(4) {
	case 0:
		return orb.Point{randomLon(r), math.Copysign(88+2*r.Float64(), r.Float64()-0.5)}
	case 1:
		return orb.Point{math.Copysign(179+r.Float64(), r.Float64()-0.5), -89 + 178*r.Float64()}
	default:
		return orb.Point{randomLon(r), math.Asin(2*r.Float64()-1) * 180 / math.Pi}
	}
}

func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

// randomPath is a line of geodesic edges up to 500 km from a, cut where it
// crosses the antimeridian into parts on either side of it (RFC 7946).
// Edges run within 10° of east or west when eastWest, where they bow most.
func randomPath(r *rand.Rand, a orb.Point, edges int, eastWest bool) orb.MultiLineString {
	parts := orb.MultiLineString{{a}}
	for range edges {
		azi, meters := 360*r.Float64(), logUniform(r, 10, 500_000)
		if eastWest {
			azi = float64(90+180*r.IntN(2)) + 20*(r.Float64()-0.5)
			meters = logUniform(r, 50_000, 500_000)
		}
		b := toward(a, azi, meters)
		if math.Abs(b[0]-a[0]) > 180 {
			// Find where the edge meets ±180° by bisection along it.
			lo, hi := 0.0, meters
			for range 60 {
				mid := (lo + hi) / 2
				if x := toward(a, azi, mid); math.Abs(x[0]-a[0]) > 180 || math.Signbit(x[0]) != math.Signbit(a[0]) {
					hi = mid
				} else {
					lo = mid
				}
			}
			x := toward(a, azi, lo)
			side := math.Copysign(180, a[0])
			parts[len(parts)-1] = append(parts[len(parts)-1], orb.Point{side, x[1]})
			parts = append(parts, orb.LineString{{-side, x[1]}})
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], b)
		a = b
	}
	var out orb.MultiLineString
	for _, l := range parts {
		if len(l) >= 2 && !(len(l) == 2 && l[0] == l[1]) {
			out = append(out, l)
		}
	}
	return out
}

// ring is a closed ring of n vertices about meters around c, or false when
// it would cross the antimeridian or come near a pole.
func ring(r *rand.Rand, c orb.Point, meters float64, n int) (orb.Ring, bool) {
	out := make(orb.Ring, 0, n+1)
	for k := range n {
		x := toward(c, 360*float64(k)/float64(n), meters*(0.6+0.4*r.Float64()))
		if math.Abs(x[0]-c[0]) > 90 || math.Abs(x[1]) > 89 {
			return nil, false
		}
		out = append(out, x)
	}
	return append(out, out[0]), crossesAntimeridian(append(out, out[0])) == nil
}

func newWorld(seed uint64, n int) *world {
	w := &world{r: rand.New(rand.NewPCG(seed, 22))}
	r := w.r
	for len(w.geoms) < n {
		c := randomPlace(r)
		var g orb.Geometry
		switch r.IntN(6) {
		case 0:
			g = c
		case 1:
			mp := orb.MultiPoint{c}
			for range 1 + r.IntN(3) {
				mp = append(mp, toward(c, 360*r.Float64(), logUniform(r, 1, 50_000)))
			}
			g = mp
		case 2, 3:
			eastWest := r.IntN(2) == 0
			if eastWest {
				// High latitudes, up to and past the local frame's limit.
				c[1] = math.Copysign(55+25*r.Float64(), c[1])
			}
			parts := randomPath(r, c, 1+r.IntN(4), eastWest)
			if len(parts) == 0 {
				continue
			}
			g = parts
			if len(parts) == 1 {
				g = parts[0]
			}
		case 4:
			size := logUniform(r, 100, 150_000)
			outer, ok := ring(r, c, size, 4+r.IntN(12))
			if !ok {
				continue
			}
			poly := orb.Polygon{outer}
			if hole, ok := ring(r, c, size*0.3, 4+r.IntN(5)); ok && r.IntN(2) == 0 {
				poly = append(poly, hole)
			}
			g = poly
		default:
			// Squares cut at the antimeridian, one part on each side.
			lat, side := -85+170*r.Float64(), logUniform(r, 0.001, 2)
			g = orb.MultiPolygon{
				{{{180 - side, lat}, {180, lat}, {180, lat + side}, {180 - side, lat + side}, {180 - side, lat}}},
				{{{-180, lat}, {-180 + side, lat}, {-180 + side, lat + side}, {-180, lat + side}, {-180, lat}}},
			}
		}
		if ValidGeometry(g) != nil {
			continue
		}
		w.geoms = append(w.geoms, g)
		w.refs = append(w.refs, newRefFeature(g))
	}
	return w
}

// query is a point on, beside or near a random feature: on a vertex, on
// an edge, in a hole, across the antimeridian or the pole from it, or up
// to 200 km off. It returns the feature too.
func (w *world) query() (orb.Point, int) {
	src := w.r.IntN(len(w.refs))
	return w.near(&w.refs[src]), src
}

func (w *world) near(f *refFeature) orb.Point {
	r := w.r
	e := f.edges[r.IntN(len(f.edges))]
	on := e.a
	if e.meters > 0 && r.IntN(2) == 0 {
		on = toward(e.a, e.azi, e.meters*r.Float64())
	}
	switch r.IntN(6) {
	case 0:
		return on
	case 1: // in a hole, or a polygon's middle
		if len(f.polys) > 0 {
			p := f.polys[r.IntN(len(f.polys))]
			ringAt := p[r.IntN(len(p))]
			c := ringAt.Bound().Center()
			return c
		}
		return on
	case 2: // the other side of the antimeridian
		return orb.Point{-math.Copysign(180-r.Float64()*0.01, on[0]), on[1]}
	case 3: // near a pole
		return orb.Point{randomLon(r), math.Copysign(90-logUniform(r, 1e-6, 0.5), on[1])}
	default:
		return toward(on, 360*r.Float64(), logUniform(r, 0.01, 200_000))
	}
}

// checkWorld runs queries against an index of w's features and the
// reference, and returns how many sites the index missed and added, and
// the worst distance difference relative to the promised tolerance.
//
// Half the radii are log-uniform from 1 m to the maximum; the other half
// reach just past the feature the query was made from, where a bound
// that is too high would drop it.
func checkWorld(t *testing.T, w *world, queries int, query func() (orb.Point, int)) (missed, extra, hits int, worst float64) {
	t.Helper()
	ix := indexOf(t, layerOf(t, "w", w.geoms...))
	l := ix.layers[0]
	r := w.r
	for range queries {
		p, src := query()
		meters := logUniform(r, 1, MaxRadiusMeters)
		if d := w.refs[src].distance(p, math.Inf(1)); r.IntN(2) == 0 && d < MaxRadiusMeters/2 {
			meters = max(1, d*(1+0.2*r.Float64())+acceptTolerance(d))
		}
		got, err := ix.Nearby(p, meters, l.Len())
		if err != nil {
			t.Fatal(err)
		}
		found := make(map[int]float64, len(got))
		for _, h := range got {
			found[h.Index] = h.Meters
		}
		for i := range w.refs {
			ref := w.refs[i].distance(p, meters+acceptTolerance(meters))
			d, ok := found[i]
			switch {
			case ok && math.IsInf(ref, 1) || ok && ref > meters+acceptTolerance(ref):
				extra++
				t.Errorf("query %v within %.3f m: feature %d %v at %.4f m is listed; reference %.4f m", p, meters, i, w.geoms[i], d, ref)
			case !ok && ref < meters-acceptTolerance(ref):
				missed++
				t.Errorf("query %v within %.3f m: feature %d %v at %.4f m is missed", p, meters, i, w.geoms[i], ref)
			case ok:
				hits++
				worst = max(worst, math.Abs(d-ref)/acceptTolerance(ref))
				if math.Abs(d-ref) > acceptTolerance(ref) {
					t.Errorf("query %v: feature %d %v at %.4f m, reference %.4f m", p, i, w.geoms[i], d, ref)
				}
			}
		}
		if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].Meters < got[j].Meters }) {
			t.Errorf("query %v: hits out of order", p)
		}
	}
	return missed, extra, hits, worst
}

// TestNearbyGlobalProperty: over 10,000 random queries on random worlds,
// Nearby lists exactly the features the reference puts within the radius
// (radii from 1 m to the maximum), with distances within 0.5 m or 0.01 %.
// Features ending within the tolerance of the radius may go either way.
func TestNearbyGlobalProperty(t *testing.T) {
	const worlds, features, queries = 10, 300, 1_000
	for k := range worlds {
		t.Run(fmt.Sprint("world", k), func(t *testing.T) {
			t.Parallel()
			w := newWorld(uint64(k), features)
			missed, extra, hits, worst := checkWorld(t, w, queries, w.query)
			t.Logf("%d queries: %d hits, %d missed, %d extra, worst distance %.2e of the tolerance", queries, hits, missed, extra, worst)
		})
	}
}

// TestNearbyUkraineProperty is TestNearbyGlobalProperty over the generated
// Ukraine-shaped set, queries near its sites.
func TestNearbyUkraineProperty(t *testing.T) {
	sites := synth.Sites(2_000, 22)
	w := &world{r: rand.New(rand.NewPCG(22, 2))}
	for _, s := range sites {
		w.geoms = append(w.geoms, s.Geometry)
		w.refs = append(w.refs, newRefFeature(s.Geometry))
	}
	queries := benchQueries(sites, 300)
	k := 0
	missed, extra, hits, worst := checkWorld(t, w, len(queries), func() (orb.Point, int) {
		k++
		return queries[k-1], w.r.IntN(len(w.refs))
	})
	t.Logf("%d queries: %d hits, %d missed, %d extra, worst distance %.2e of the tolerance", len(queries), hits, missed, extra, worst)
}

// TestNearbyLongLinesProperty is TestNearbyGlobalProperty over long power
// lines among generated sites, queries on, beside and near the lines: a
// search measures only the spans of a line near its point (see
// geodesy.LineEdges), and must find what measuring every edge finds.
func TestNearbyLongLinesProperty(t *testing.T) {
	lines := synth.PowerLines(30, 23)
	w := &world{r: rand.New(rand.NewPCG(23, 2))}
	for _, s := range append(lines, synth.Sites(300, 23)...) {
		w.geoms = append(w.geoms, s.Geometry)
		w.refs = append(w.refs, newRefFeature(s.Geometry))
	}
	long := 0
	for _, s := range lines {
		if isLong(s.Geometry.(orb.LineString)) {
			long++
		}
	}
	if long < len(lines)/2 {
		t.Fatalf("only %d of %d lines are long enough to be searched by span", long, len(lines))
	}
	missed, extra, hits, worst := checkWorld(t, w, 200, func() (orb.Point, int) {
		src := w.r.IntN(len(lines))
		e := w.refs[src].edges[w.r.IntN(len(w.refs[src].edges))]
		on := toward(e.a, e.azi, e.meters*w.r.Float64())
		return toward(on, 360*w.r.Float64(), logUniform(w.r, 0.01, 20_000)), src
	})
	t.Logf("200 queries: %d hits, %d missed, %d extra, worst distance %.2e of the tolerance", hits, missed, extra, worst)
}

// TestReferenceAgreesWithOracle holds the property tests' reference to
// GeographicLib's own figures.
func TestReferenceAgreesWithOracle(t *testing.T) {
	worst := 0.0
	for _, c := range readOracle(t) {
		ref := newRefFeature(c.geometry(t))
		d := ref.distance(c.Point, math.Inf(1))
		worst = max(worst, math.Abs(d-c.DistanceM))
		if math.Abs(d-c.DistanceM) > 1e-3 {
			t.Errorf("%s: reference %.6f m, GeographicLib %.6f m", c.Name, d, c.DistanceM)
		}
	}
	t.Logf("worst |Δ| %.2e m", worst)
}

// toward is the point meters from p along the geodesic at azimuth degrees.
func toward(p orb.Point, azimuth, meters float64) orb.Point {
	x, _ := geodesy.Direct(p, azimuth, meters)
	return x
}
