package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/synth"
)

func synthLayer(t testing.TB, name string, n int, seed uint64) *Layer {
	t.Helper()
	sites := synth.Sites(n, seed)
	fs := make([]Feature, len(sites))
	for i, s := range sites {
		fs[i] = Feature{ID: s.ID, Kind: s.Kind, Name: s.Name, Geometry: s.Geometry}
	}
	l, err := NewLayer(name, name, fs)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// linearScan is the baseline the index must agree with: measure every
// feature exactly, keep those within meters, sort, cut at limit.
func linearScan(layers []*Layer, p orb.Point, meters float64, limit int) []Hit {
	m := newMeasure(p)
	var all []Hit
	for _, l := range layers {
		for i := range l.features {
			c := m.exact(l.features[i].Geometry, !m.f.covers(&l.bounds[i]))
			if c.meters <= meters {
				all = append(all, Hit{Layer: l, Index: i, Meters: c.meters})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].less(&all[j]) })
	return all[:min(limit, len(all))]
}

func TestNearbyAgreesWithLinearScan(t *testing.T) {
	a := synthLayer(t, "a", 8_000, 1)
	b := synthLayer(t, "b", 2_000, 2)
	ix := indexOf(t, a, b)
	r := rand.New(rand.NewPCG(7, 7))
	for q := range 150 {
		p := orb.Point{22 + r.Float64()*18, 44 + r.Float64()*9}
		meters := 200 + r.Float64()*r.Float64()*30_000
		limit := 1 + r.IntN(30)
		var names []string
		if q%3 == 0 {
			names = []string{"b"}
		}
		layers, _ := ix.pick(names)
		got, err := ix.Nearby(p, meters, limit, names...)
		if err != nil {
			t.Fatal(err)
		}
		want := linearScan(layers, p, meters, limit)
		compareHits(t, p, got, want)
	}
}

func TestNearestFarAway(t *testing.T) {
	ix := indexOf(t, synthLayer(t, "a", 3_000, 3))
	for _, p := range []orb.Point{{-30, 40}, {30, 75}, {179.9, -60}, {35, 0}, {0, 89.9}} {
		got, err := ix.Nearest(p, 5)
		if err != nil {
			t.Fatal(err)
		}
		compareHits(t, p, got, linearScan(ix.layers, p, math.Inf(1), 5))
	}
}

func compareHits(t *testing.T, p orb.Point, got, want []Hit) {
	t.Helper()
	ids := func(hs []Hit) []string {
		var s []string
		for _, h := range hs {
			s = append(s, h.Layer.name+"/"+h.Layer.features[h.Index].ID)
		}
		return s
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("query %v: index gives %v, linear scan %v", p, ids(got), ids(want))
	}
	for i := range got {
		if math.Abs(got[i].Meters-want[i].Meters) > 1e-9 {
			t.Errorf("query %v hit %d: %.4f m, linear scan %.4f m", p, i, got[i].Meters, want[i].Meters)
		}
	}
}

// TestFrameAccuracy checks the bound the search's pruning relies on: inside
// its spans the local frame's distance is within frameError of the
// geodesic distance.
func TestFrameAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	worst := 0.0
	for range 200_000 {
		c := orb.Point{-180 + r.Float64()*360, -75 + r.Float64()*150}
		f := newFrame(c)
		scale := []float64{0.001, 0.01, 0.05, 0.2, 1}[r.IntN(5)]
		q := orb.Point{
			wrapLon(c[0] + (r.Float64()*2-1)*frameLonSpan*scale),
			c[1] + (r.Float64()*2-1)*frameLatSpan*scale,
		}
		x, y := f.project(q)
		planar, exact := math.Hypot(x, y), Distance(c, q)
		if exact < 1 {
			continue
		}
		// How much of its error budget the frame uses.
		worst = max(worst, math.Abs(planar-exact)/(frameError(exact)*exact+frameSlackMeters))
	}
	t.Logf("worst frame error: %.2f of the bound", worst)
	if worst > 1 {
		t.Fatalf("frame error exceeds frameError by a factor %.2f", worst)
	}
}

// TestPlanarLowerBound checks that the frame's bound on the distance to a
// geometry, long geodesic edges included, never exceeds the exact distance.
func TestPlanarLowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	clampPt := func(p orb.Point) orb.Point { return orb.Point{wrapLon(p[0]), max(-89, min(89, p[1]))} }
	checked := 0
	for range 40_000 {
		p := orb.Point{-180 + r.Float64()*360, -75 + r.Float64()*150}
		s := []float64{0.01, 0.1, 1, 2}[r.IntN(4)]
		a := clampPt(orb.Point{p[0] + (r.Float64()*2-1)*s*2, p[1] + (r.Float64()*2-1)*s*1.5})
		span := []float64{0.01, 2}[r.IntN(2)]
		b := clampPt(orb.Point{a[0] + (r.Float64()*2-1)*span, a[1] + (r.Float64()*2-1)*span*0.75})
		g := orb.LineString{a, b}
		m := newMeasure(p)
		gb := outward(g.Bound())
		if !m.f.covers(&gb) || crossesAntimeridian(g) != nil {
			continue
		}
		checked++
		if lb, exact := m.planarLowerBound(g), m.exact(g, true).meters; lb > exact {
			t.Fatalf("point %v edge %v: lower bound %.4f m exceeds exact %.4f m", p, g, lb, exact)
		}
	}
	if checked < 10_000 {
		t.Fatalf("only %d cases inside the frame", checked)
	}
}
