package geodesy

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/internal/synth"
)

// geodesicOutside samples the geodesic a–b every few kilometres (and at
// 65 points at least) and returns the first point outside box, if any, and
// how far north of the highest sample box reaches, in degrees.
func geodesicOutside(a, b orb.Point, box orb.Bound) (out orb.Point, bad bool, slack float64) {
	length, azi, _ := Inverse(a, b)
	n := max(64, int(length/2000))
	top := math.Max(a[1], b[1])
	for k := 0; k <= n; k++ {
		x, _ := Direct(a, azi, length*float64(k)/float64(n))
		top = math.Max(top, x[1])
		// Longitudes compare modulo 360: the library may give -180 for 180.
		// At a pole every longitude is the same point, and the library may
		// give the pole's latitude an ulp short.
		lonIn := math.Abs(x[1]) > 90-1e-12
		for _, lon := range []float64{x[0], x[0] - 360, x[0] + 360} {
			lonIn = lonIn || lon >= box.Min[0]-1e-9 && lon <= box.Max[0]+1e-9
		}
		// Direct rounds the far end's latitude by an ulp or so.
		if !lonIn || x[1] < box.Min[1]-1e-12 || x[1] > box.Max[1]+1e-12 {
			return x, true, 0
		}
	}
	return orb.Point{}, false, box.Max[1] - top
}

// TestEnvelopeHoldsGeodesics checks the bound over edges up to 500 km all
// over the globe, near the poles and across every longitude: every point
// sampled along each geodesic lies in its envelope, and the envelope
// reaches no more than a few centimetres past the highest sample.
func TestEnvelopeHoldsGeodesics(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 1))
	worstSlack := 0.0
	for i := range 6_000 {
		var a orb.Point
		switch i % 4 {
		case 0: // anywhere
			a = orb.Point{-180 + 360*r.Float64(), math.Asin(2*r.Float64()-1) / rad}
		case 1: // near a pole
			a = orb.Point{-180 + 360*r.Float64(), math.Copysign(85+5*r.Float64(), r.Float64()-0.5)}
		case 2: // east-west at high latitude, where edges bow most
			a = orb.Point{-180 + 360*r.Float64(), math.Copysign(60+29*r.Float64(), r.Float64()-0.5)}
		default: // near the antimeridian
			a = orb.Point{math.Copysign(175+5*r.Float64(), r.Float64()-0.5), -89 + 178*r.Float64()}
		}
		azi := 360 * r.Float64()
		if i%4 == 2 {
			azi = 90 + 10*(r.Float64()-0.5)
		}
		b, _ := Direct(a, azi, 500_000*r.Float64())
		if math.Abs(b[0]-a[0]) > 180 {
			continue // an edge across the antimeridian is cut before it gets here
		}
		box := Envelope(orb.LineString{a, b})
		x, bad, slack := geodesicOutside(a, b, box)
		if bad {
			t.Fatalf("edge %v–%v: geodesic point %v outside its envelope %v", a, b, x, box)
		}
		// Near a pole latitude turns too fast between samples to tell.
		if box.Max[1] < 89 {
			worstSlack = max(worstSlack, slack)
		}
	}
	// The samples lie up to 1 km from the peak, a bow of ~1e-5° at most.
	if worstSlack > 1e-4 {
		t.Errorf("envelopes reach %.2e° past the highest sample: the bound is loose", worstSlack)
	}
	t.Logf("worst slack %.2e°", worstSlack)
}

// TestEnvelopeWorkedExamples are the bows a box of vertices missed.
func TestEnvelopeWorkedExamples(t *testing.T) {
	tests := []struct {
		name     string
		line     orb.LineString
		peak     float64 // GeographicLib's highest (lowest) latitude along the line
		tolerant float64 // how much farther from the equator the envelope may reach
	}{
		{"along 80°N from 20°E to 30°E", orb.LineString{{20, 80}, {30, 80}}, 80.0372967, 1e-5},
		{"100 km along 50°N", orb.LineString{{30, 50}, {31.398, 50}}, 50.0021054, 1e-5},
		{"along 50°S bows south", orb.LineString{{30, -50}, {31.398, -50}}, -50.0021054, 1e-5},
		{"over the pole", orb.LineString{{10, 80}, {-170, 80}}, 90, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := Envelope(tt.line)
			edge := box.Max[1]
			if tt.peak < 0 {
				edge = box.Min[1]
			}
			if beyond := math.Abs(edge) - math.Abs(tt.peak); beyond < 0 || beyond > tt.tolerant {
				t.Errorf("envelope %v reaches %.7f°, the geodesic %.7f°", box, edge, tt.peak)
			}
		})
	}
}

// FuzzEnvelope: every point sampled along any edge lies in its envelope.
func FuzzEnvelope(f *testing.F) {
	f.Add(20.0, 80.0, 30.0, 80.0)
	f.Add(30.0, 50.0, 31.398, 50.0)
	f.Add(179.0, -60.0, 180.0, -61.0)
	f.Add(10.0, 89.9, -169.0, 89.9)
	f.Add(0.0, 0.0, 90.0, 0.0)
	f.Fuzz(func(t *testing.T, lon1, lat1, lon2, lat2 float64) {
		a, b := orb.Point{lon1, lat1}, orb.Point{lon2, lat2}
		if !onGlobe(a) || !onGlobe(b) || math.Abs(lon2-lon1) > 180 {
			return
		}
		box := Envelope(orb.LineString{a, b})
		if x, bad, _ := geodesicOutside(a, b, box); bad {
			t.Fatalf("edge %v–%v: geodesic point %v outside its envelope %v", a, b, x, box)
		}
	})
}

// BenchmarkEnvelope: the envelopes of the generated country-scale set's
// features, which loading computes once each, beside the boxes of their
// vertices it replaces.
func BenchmarkEnvelope(b *testing.B) {
	sites := synth.Sites(100_000, 2025) // the seed of the generated country-scale set
	for _, tt := range []struct {
		name string
		box  func(orb.Geometry) orb.Bound
	}{
		{"geodesic", Envelope},
		{"vertices", orb.Geometry.Bound},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var sum float64
			for i := range b.N {
				sum += tt.box(sites[i%len(sites)].Geometry).Max[1]
			}
			runtime.KeepAlive(sum)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/feature")
		})
	}
}

// onGlobe reports whether p is a longitude in [-180, 180] and a latitude in
// [-90, 90] (false for NaN).
func onGlobe(p orb.Point) bool {
	return p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}
