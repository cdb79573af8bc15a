package geo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/testenv"
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
	m := geodesy.NewMeasure(p)
	var all []Hit
	for _, l := range layers {
		for i := range l.features {
			g := l.features[i].Geometry
			box := g.Bound()
			c := m.Exact(g, &box, !m.Frame.Covers(&box))
			if c.Meters <= meters {
				all = append(all, Hit{Layer: l, Index: i, Meters: c.Meters})
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
		layers, _ := ix.pick(nil, names)
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

// TestAppendNearbyKeepsDst: AppendNearby and AppendNearest append after
// what dst holds, the same hits as Nearby and Nearest, and none found is an
// empty list rather than nil.
func TestAppendNearbyKeepsDst(t *testing.T) {
	ix := indexOf(t, synthLayer(t, "a", 3_000, 4))
	p := ix.layers[0].features[0].Geometry.Bound().Center()
	wantNearest, err := ix.Nearest(p, 3)
	if err != nil {
		t.Fatal(err)
	}
	radius := wantNearest[len(wantNearest)-1].Meters + 1 // the 3 nearest, and maybe more
	want, err := ix.Nearby(p, radius, 7)
	if err != nil || len(want) < 3 {
		t.Fatalf("Nearby: %d hits, %v", len(want), err)
	}
	first := Hit{Index: -1}
	for _, c := range []struct {
		name   string
		append func(dst []Hit) ([]Hit, error)
		want   []Hit
	}{
		{"AppendNearby", func(dst []Hit) ([]Hit, error) { return ix.AppendNearby(context.Background(), dst, p, radius, 7) }, want},
		{"AppendNearest", func(dst []Hit) ([]Hit, error) { return ix.AppendNearest(context.Background(), dst, p, 3) }, wantNearest},
	} {
		got, err := c.append(append(make([]Hit, 0, 2), first))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1+len(c.want) || got[0] != first {
			t.Fatalf("%s: %d hits, first %+v; want %d after the one dst held", c.name, len(got), got[0], len(c.want))
		}
		for i := range c.want {
			if got[1+i] != c.want[i] && !(math.IsNaN(got[1+i].Bearing) && math.IsNaN(c.want[i].Bearing)) {
				t.Errorf("%s hit %d: %+v, want %+v", c.name, i, got[1+i], c.want[i])
			}
		}
	}
	none, err := ix.AppendNearby(context.Background(), nil, orb.Point{-30, 40}, 10, 5)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("nothing near: %v (nil %v), %v; want an empty list", none, none == nil, err)
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

// TestNearbyBoxStageHandsOver covers the hand-over from the box stage to
// the best-first walk: a few sites close to the query point, too few for
// the limit, and a dense cluster far off. The walk must skip what the box
// stage measured, or sites would come out twice.
func TestNearbyBoxStageHandsOver(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 31))
	p := orb.Point{30.5, 50.4}
	var geoms []orb.Geometry
	for range 6 {
		geoms = append(geoms, orb.Point{p[0] + r.NormFloat64()*0.01, p[1] + r.NormFloat64()*0.01})
	}
	geoms = append(geoms, orb.LineString{{p[0] - 0.02, p[1] + 0.005}, {p[0] + 0.02, p[1] + 0.006}})
	for range 3000 {
		geoms = append(geoms, orb.Point{p[0] + 1.5 + r.NormFloat64()*0.001, p[1] + r.NormFloat64()*0.001})
	}
	fs := make([]Feature, len(geoms))
	for i, g := range geoms {
		fs[i] = Feature{ID: "f" + strconv.Itoa(i), Geometry: g}
	}
	l, err := NewLayer("x", "x", fs)
	if err != nil {
		t.Fatal(err)
	}
	ix := indexOf(t, l)
	for _, limit := range []int{3, 7, 10, 50} {
		for _, meters := range []float64{2_000, 150_000} {
			got, err := ix.Nearby(p, meters, limit)
			if err != nil {
				t.Fatal(err)
			}
			compareHits(t, p, got, linearScan([]*Layer{l}, p, meters, limit))
		}
	}
}

// TestNearbyPointLikeGeometries: a geometry whose envelope is a single
// point is measured as that point, whatever its type.
func TestNearbyPointLikeGeometries(t *testing.T) {
	a := orb.Point{30.52, 50.46}
	p := orb.Point{30.5234, 50.4501}
	for _, g := range []orb.Geometry{a, orb.MultiPoint{a, a}, orb.LineString{a, a}, orb.Collection{a, orb.MultiPoint{a}}} {
		hits, err := indexOf(t, layerOf(t, "x", g)).Nearby(p, 5000, 1)
		if err != nil || len(hits) != 1 {
			t.Fatalf("%T: %d hits, %v", g, len(hits), err)
		}
		if want := geodesy.Distance(p, a); hits[0].Meters != want || hits[0].Nearest != a {
			t.Errorf("%T: %.6f m to %v, want %.6f m to %v", g, hits[0].Meters, hits[0].Nearest, want, a)
		}
	}
}

// TestNearbyStopsWhenCancelled: a search told to stop stops within
// checkEvery candidates, with the context's error, and a search never told
// looks at its context all along its way.
func TestNearbyStopsWhenCancelled(t *testing.T) {
	ix := indexOf(t, synthLayer(t, "a", 50_000, 3))
	p := orb.Point{30.5, 50.4}
	for _, tc := range []struct {
		name   string
		search func(ctx context.Context) ([]Hit, error)
	}{
		{"nearby", func(ctx context.Context) ([]Hit, error) { return ix.NearbyContext(ctx, p, MaxRadiusMeters, 20_000) }},
		{"nearest", func(ctx context.Context) ([]Hit, error) { return ix.NearestContext(ctx, p, 20_000) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := testenv.NewCancelAfter(0)
			hits, err := tc.search(whole)
			if err != nil || len(hits) < 5_000 {
				t.Fatalf("uncancelled: %d hits, %v; want thousands", len(hits), err)
			}
			if whole.Looks() < 20 {
				t.Fatalf("a search of %d sites looked at its context %d times; it should look every %d candidates", len(hits), whole.Looks(), checkEvery)
			}
			stop := testenv.NewCancelAfter(whole.Looks() / 2)
			hits, err = tc.search(stop)
			if !errors.Is(err, context.Canceled) || hits != nil {
				t.Fatalf("cancelled half way: %d hits, %v; want none and context.Canceled", len(hits), err)
			}
			if stop.Looks() != stop.At {
				t.Fatalf("looked at its context %d times, told to stop at look %d: it went on", stop.Looks(), stop.At)
			}
		})
	}
}

// TestQueryErrorsNameTheirParameter: a query argument out of its domain
// is a *QueryError naming it, matching ErrBadQuery, with the sentinel's text.
func TestQueryErrorsNameTheirParameter(t *testing.T) {
	ix := indexOf(t, synthLayer(t, "a", 10, 1))
	_, bboxErr := ParseBBox("30,50,31")
	_, radiusErr := ix.Nearby(orb.Point{30, 50}, -1, 1)
	_, latErr := ix.Nearby(orb.Point{30, 95}, 10, 1)
	_, limitErr := ix.Nearby(orb.Point{30, 50}, 10, 0)
	for _, c := range []struct {
		param string
		err   error
	}{{"bbox", bboxErr}, {"radius", radiusErr}, {"lat", latErr}, {"limit", limitErr}} {
		var qe *QueryError
		if !errors.As(c.err, &qe) || qe.Param != c.param || !errors.Is(c.err, ErrBadQuery) ||
			!strings.HasPrefix(c.err.Error(), "geo: bad query: "+c.param) {
			t.Errorf("%s: %v (%#v), want a QueryError naming it", c.param, c.err, qe)
		}
	}
}

// TestKindOf: every feature's kind read from the numbered column, by
// readers racing to build it, is the kind it was given, absent ones too,
// with a few kinds (a byte each) and with more than a byte can number.
func TestKindOf(t *testing.T) {
	few := []string{"substation", "", "hospital", "substation", "bridge", "", "hospital"}
	for _, c := range []struct {
		kind  func(i int) string
		names int
	}{
		{func(i int) string { return few[i%len(few)] }, 4},
		{func(i int) string { return fmt.Sprint("k", i%300) }, 300},
	} {
		fs := make([]Feature, 600)
		for i := range fs {
			fs[i] = Feature{ID: fmt.Sprint("f", i), Kind: c.kind(i), Geometry: orb.Point{30 + float64(i)*1e-3, 50}}
		}
		l, err := NewLayer("x", "x", fs)
		if err != nil {
			t.Fatal(err)
		}
		all := make([]int32, len(fs))
		for i := range all {
			all[i] = int32(i)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				// Reading ahead may be the first read, beside others.
				if g%2 == 0 {
					l.TouchKinds(all)
				}
				for i := range fs {
					if got := l.KindOf(i); got != fs[i].Kind {
						t.Errorf("feature %d: kind %q, want %q", i, got, fs[i].Kind)
						return
					}
				}
			})
		}
		wg.Wait()
		if len(l.kinds.names) != c.names || (l.kinds.few != nil) != (c.names <= 256) {
			t.Errorf("%d kinds numbered (a byte each: %v), want %d", len(l.kinds.names), l.kinds.few != nil, c.names)
		}
	}
}
