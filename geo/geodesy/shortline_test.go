package geodesy

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// TestShortLine compares the chord solution with Karney's algorithm over
// random lines from a tenth of a millimetre to beyond shortLineMeters,
// anywhere on earth but the poles.
func TestShortLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var worstM, worstRel, worstAz float64
	for range 200_000 {
		p := orb.Point{rng.Float64()*360 - 180, rng.Float64()*2*shortLineMaxLat - shortLineMaxLat}
		meters := math.Exp(math.Log(1e-4) + rng.Float64()*math.Log(1.5*shortLineMeters/1e-4))
		q, _ := Direct(p, rng.Float64()*360-180, meters)
		want, wantAz := karneyFrom(p, q)
		s := newShortLine(p)
		got, ok := s.distance(q)
		az, azOK := s.azimuth(q)
		if ok != azOK {
			t.Fatalf("%v to %v: distance solved %t, azimuth %t", p, q, ok, azOK)
		}
		if !ok {
			// A chord is shorter than its geodesic.
			if math.Abs(q[1]) <= shortLineMaxLat && want <= shortLineMeters {
				t.Fatalf("%v to %v (%.3f m): not solved", p, q, want)
			}
			continue
		}
		worstM = max(worstM, math.Abs(got-want))
		worstRel = max(worstRel, math.Abs(got-want)/want)
		if want > 1 {
			worstAz = max(worstAz, math.Abs(math.Remainder(az-wantAz, 360)))
		}
		if math.Abs(got-want) > shortLineTolerance {
			t.Errorf("%v to %v: %.9f m, Karney %.9f m", p, q, got, want)
		}
		if want > 1 && math.Abs(math.Remainder(az-wantAz, 360)) > 1e-4 {
			t.Errorf("%v to %v (%.0f m): azimuth %.8f°, Karney %.8f°", p, q, want, az, wantAz)
		}
	}
	t.Logf("worst |Δ| %.2e m, relative %.2e, azimuth %.2e°", worstM, worstRel, worstAz)
}

// BenchmarkInverse compares the chord solution with Karney's algorithm on
// lines up to 5 km, the proximity queries' usual reach.
func BenchmarkInverse(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 5))
	p := orb.Point{30.52, 50.45}
	qs := make([]orb.Point, 1024)
	for i := range qs {
		qs[i], _ = Direct(p, rng.Float64()*360, rng.Float64()*5000)
	}
	line := newShortLine(p)
	b.Run("chord", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok := line.distance(qs[i%len(qs)]); !ok {
				b.Fatal("not solved")
			}
		}
	})
	b.Run("karney", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			karneyFrom(p, qs[i%len(qs)])
		}
	})
}
