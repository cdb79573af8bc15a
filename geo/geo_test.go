package geo

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// layerOf indexes geometries with ids "f0", "f1", ... for tests.
func layerOf(t testing.TB, name string, geoms ...orb.Geometry) *Layer {
	t.Helper()
	fs := make([]Feature, len(geoms))
	for i, g := range geoms {
		fs[i] = Feature{ID: "f" + string(rune('0'+i)), Geometry: g}
	}
	l, err := NewLayer(name, name+".geojson", fs)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func indexOf(t testing.TB, layers ...*Layer) *Index {
	t.Helper()
	ix, err := NewIndex(layers...)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// square is a closed ring of side deg degrees with its south-west corner at (lon, lat).
func square(lon, lat, deg float64) orb.Ring {
	return orb.Ring{{lon, lat}, {lon + deg, lat}, {lon + deg, lat + deg}, {lon, lat + deg}, {lon, lat}}
}

func TestNearbyGeometryTypes(t *testing.T) {
	kyiv := orb.Point{30.5234, 50.4501}
	north1km := orb.Point{30.5234, 50.4501 + 1000/111_250.0}
	tests := []struct {
		name      string
		geom      orb.Geometry
		query     orb.Point
		wantMeter float64 // exact expectation, or -1 to only check against the brute force
		tolerance float64
	}{
		{"point same location", kyiv, kyiv, 0, 0},
		{"point 1 km north", north1km, kyiv, geodesy.Distance(kyiv, north1km), 1e-6},
		{"inside polygon is zero", orb.Polygon{square(30.5, 50.4, 0.1)}, kyiv, 0, 0},
		// Edges are geodesics, which bow poleward of the parallel through their ends.
		{"hole is excluded", orb.Polygon{square(30.4, 50.35, 0.2), square(30.5, 50.44, 0.04)}, kyiv, -1, 0},
		{"on a line vertex is zero", orb.LineString{{30.5, 50.45}, kyiv, {30.6, 50.46}}, kyiv, 0, 0},
		{"on a line edge is about zero", orb.LineString{{30.5234, 50.40}, {30.5234, 50.50}}, kyiv, 0, 1e-6},
		{"multipoint picks geodesy.Closest part", orb.MultiPoint{{31, 51}, north1km, {29, 49}}, kyiv, geodesy.Distance(kyiv, north1km), 1e-6},
		{"multilinestring picks geodesy.Closest part",
			orb.MultiLineString{{{31, 51}, {31.1, 51}}, {{30.5, 50.46}, {30.55, 50.46}}}, kyiv, -1, 0},
		{"multipolygon picks geodesy.Closest part",
			orb.MultiPolygon{{square(31, 51, 0.1)}, {square(30.52, 50.46, 0.01)}}, kyiv, -1, 0},
		{"geometry collection picks geodesy.Closest member",
			orb.Collection{orb.Point{31, 51}, orb.Polygon{square(30.5, 50.4, 0.1)}}, kyiv, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := indexOf(t, layerOf(t, "x", tt.geom))
			hits, err := ix.Nearby(tt.query, 200_000, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 1 {
				t.Fatalf("got %d hits, want 1", len(hits))
			}
			h := hits[0]
			if tt.wantMeter >= 0 && math.Abs(h.Meters-tt.wantMeter) > tt.tolerance {
				t.Errorf("distance %.6f m, want %.6f ± %g", h.Meters, tt.wantMeter, tt.tolerance)
			}
			// The reported point is where the distance is measured to.
			if got := geodesy.Distance(tt.query, h.Nearest); math.Abs(got-h.Meters) > 1e-6 {
				t.Errorf("distance to reported nearest point %.6f, reported %.6f", got, h.Meters)
			}
			if brute := bruteDistance(tt.geom, tt.query); math.Abs(h.Meters-brute) > 0.001 {
				t.Errorf("reported %.4f m, densified geodesic edges give %.4f m", h.Meters, brute)
			}
			if h.Meters == 0 != math.IsNaN(h.Bearing) {
				t.Errorf("bearing %v at distance %v: NaN exactly when the distance is 0", h.Bearing, h.Meters)
			}
		})
	}
}

// bruteDistance samples every edge along its geodesic every few metres and
// refines the best sample by ternary search: slow, simple, and independent
// of the search code.
func bruteDistance(g orb.Geometry, p orb.Point) float64 {
	if geodesy.ContainsPoint(g, p) {
		return 0
	}
	best := math.Inf(1)
	edge := func(a, b orb.Point) {
		length, azi, _ := geodesy.Inverse(a, b)
		at := func(s float64) float64 {
			x, _ := geodesy.Direct(a, azi, s)
			return geodesy.Distance(p, x)
		}
		n := max(1, int(length/5))
		step := length / float64(n)
		bestK := 0
		for k := 0; k <= n; k++ {
			if d := at(step * float64(k)); d < at(step*float64(bestK)) {
				bestK = k
			}
		}
		lo, hi := max(0, step*float64(bestK-1)), min(length, step*float64(bestK+1))
		for range 100 {
			m1, m2 := lo+(hi-lo)/3, hi-(hi-lo)/3
			if at(m1) < at(m2) {
				hi = m2
			} else {
				lo = m1
			}
		}
		best = min(best, at(lo), at(0), at(length))
	}
	geodesy.VertexRuns(g, func(pts []orb.Point, linear bool) {
		for i, p := range pts {
			if !linear || len(pts) == 1 {
				edge(p, p)
			} else if i > 0 {
				edge(pts[i-1], p)
			}
		}
	})
	return best
}

func TestNearbyRejectsBadQueries(t *testing.T) {
	ix := indexOf(t, layerOf(t, "x", orb.Point{30, 50}))
	cases := []struct {
		name   string
		p      orb.Point
		meters float64
		limit  int
		layers []string
		want   string
	}{
		{"negative radius", orb.Point{30, 50}, -5, 1, nil, "radius"},
		{"NaN radius", orb.Point{30, 50}, math.NaN(), 1, nil, "radius"},
		{"radius too large", orb.Point{30, 50}, 300_000, 1, nil, "radius"},
		{"latitude 91", orb.Point{30, 91}, 10, 1, nil, "latitude"},
		{"longitude NaN", orb.Point{math.NaN(), 50}, 10, 1, nil, "longitude"},
		{"zero limit", orb.Point{30, 50}, 10, 0, nil, "limit"},
		{"unknown layer", orb.Point{30, 50}, 10, 1, []string{"nope"}, "unknown layer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ix.Nearby(c.p, c.meters, c.limit, c.layers...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
