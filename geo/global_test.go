package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// TestNearbyWorkedExamples are sites a box of vertices used to miss: edges
// that bow poleward past their ends, and features cut at the antimeridian.
// Distances are GeographicLib's.
func TestNearbyWorkedExamples(t *testing.T) {
	antimeridianSquares := orb.MultiPolygon{{square(179, 10, 1)}, {square(-180, 10, 1)}}
	antimeridianLine := orb.MultiLineString{{{179, 10}, {180, 10}}, {{-180, 10}, {-179, 10}}}
	northCap := orb.Polygon{{{-180, 85}, {-90, 85}, {0, 85}, {90, 85}, {180, 85}, {180, 90}, {0, 90}, {-180, 90}, {-180, 85}}}
	tests := []struct {
		name   string
		geom   orb.Geometry
		query  orb.Point
		radius float64
		meters float64
	}{
		// The line peaks at 50.0021054°N, 234 m north of its ends.
		{"100 km line along 50°N, 200 m north of its middle", orb.LineString{{30, 50}, {31.398, 50}},
			orb.Point{30.699, 50.0039}, 300, 199.6095},
		// The line peaks at 80.0372967°N, 4 km north of its ends.
		{"line along 80°N, 1.4 km north of its middle", orb.LineString{{20, 80}, {30, 80}},
			orb.Point{25, 80.05}, 1500, 1418.448},
		{"line along 80°S, south of its middle", orb.LineString{{20, -80}, {30, -80}},
			orb.Point{25, -80.05}, 1500, 1418.448},
		{"inside the eastern part of polygons cut at ±180°", antimeridianSquares, orb.Point{179.5, 10.5}, 1, 0},
		{"inside the western part of polygons cut at ±180°", antimeridianSquares, orb.Point{-179.5, 10.5}, 1, 0},
		{"beside polygons cut at ±180°, west of 180°", antimeridianSquares, orb.Point{179.99, 11.01}, 1200, 1104.3444},
		{"beside polygons cut at ±180°, east of -180°", antimeridianSquares, orb.Point{-179.99, 11.01}, 1200, 1104.3444},
		{"north of a line cut at ±180°", antimeridianLine, orb.Point{-179.5, 10.01}, 1100, 1064.541},
		{"across the antimeridian from a point", orb.Point{179.99, 0}, orb.Point{-179.99, 0}, 2300, 2226.390},
		{"across the north pole from a point", orb.Point{100, 89.99}, orb.Point{-80, 89.99}, 2300, 2233.880},
		{"across the north pole from a line", orb.LineString{{90, 89.99}, {110, 89.99}}, orb.Point{-80, 89.99}, 2300, 2216.9108},
		{"edge over the north pole", orb.LineString{{10, 80}, {-170, 80}}, orb.Point{100, 89.95}, 6000, 5584.699},
		// Edges along 85°N bow up to 86.46°N; inside is tested in lon/lat.
		{"inside a polygon holding the north pole", northCap, orb.Point{45, 89.5}, 1, 0},
		{"inside a polygon holding the north pole, across ±180°", northCap, orb.Point{-179.9, 87}, 1, 0},
		{"outside a polygon holding the north pole", northCap, orb.Point{45, 84.9}, 180_000, 174234.801},
		// At 74°S the frame bounded this edge's distance below by 267 m.
		{"long edge towards the frame's polar limit", orb.LineString{{109.14452518357925, -74.13887547871823}, {112.99376858262045, -74.0665797459985}},
			orb.Point{111.33410275517384, -74.10768706343822}, 200, 166.411},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := indexOf(t, layerOf(t, "x", tt.geom))
			hits, err := ix.Nearby(tt.query, tt.radius, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 1 {
				t.Fatalf("%d hits within %g m, want 1", len(hits), tt.radius)
			}
			if d := math.Abs(hits[0].Meters - tt.meters); d > 0.01 {
				t.Errorf("distance %.4f m, want %.4f m", hits[0].Meters, tt.meters)
			}
			ref := newRefFeature(tt.geom)
			if want := ref.distance(tt.query, math.Inf(1)); math.Abs(hits[0].Meters-want) > 0.01 {
				t.Errorf("distance %.4f m, the brute-force reference %.4f m", hits[0].Meters, want)
			}
		})
	}
}

// TestFrameEdgeBoundTowardsPoles checks the frame's bound below the
// distance to long edges near the frame's limit of 75°, where edges bow
// far more than at Ukraine's latitudes: points beside roughly east-west
// edges of up to 4.4° of longitude, 0.1 m to 3 km off.
func TestFrameEdgeBoundTowardsPoles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for range 5_000 {
		lat := math.Copysign(50+28*r.Float64(), r.Float64()-0.5)
		lon := -170 + 340*r.Float64()
		half := 0.2 + 2*r.Float64()
		a, b := orb.Point{lon - half, lat}, orb.Point{lon + half, lat + (r.Float64()-0.5)*0.2}
		length, azi, _ := geodesy.Inverse(a, b)
		foot, aziFoot := geodesy.Direct(a, azi, length*(0.3+0.4*r.Float64()))
		p, _ := geodesy.Direct(foot, aziFoot+90*float64(1-2*r.IntN(2)), logUniform(r, 0.1, 3000))
		g := orb.LineString{a, b}
		m := geodesy.NewMeasure(p)
		box := geodesy.Envelope(g)
		if !m.Frame.Covers(&box) {
			continue
		}
		checked++
		lower, _ := m.Edges(g, &box, false)
		ref := newRefFeature(g)
		if exact := ref.distance(p, math.Inf(1)); lower > exact {
			t.Fatalf("point %v edge %v: lower bound %.3f m exceeds the distance %.3f m", p, g, lower, exact)
		}
	}
	if checked < 1_000 {
		t.Fatalf("only %d edges inside the frame", checked)
	}
}
