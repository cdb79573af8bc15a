package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/internal/synth"
)

func searchIDs(l *Layer, b BBox) []string {
	var ids []string
	l.Search(b, func(i int) bool { ids = append(ids, l.Feature(i).ID); return true })
	sort.Strings(ids)
	return ids
}

func TestSearchRealGeometry(t *testing.T) {
	l := layerOf(t, "x",
		orb.Point{30.05, 50.05},                                                   // f0 inside the box
		orb.LineString{{29.9, 49.9}, {30.2, 50.2}},                                // f1 crosses the box, no vertex inside
		orb.LineString{{30.15, 49.85}, {30.35, 50.05}},                            // f2 envelope overlaps, line misses the box corner
		orb.Polygon{square(29.8, 49.8, 0.5)},                                      // f3 contains the whole box
		orb.Polygon{square(29.8, 49.8, 0.5), square(29.95, 49.95, 0.2)},           // f4 box sits in the hole
		orb.MultiPoint{{31, 51}, {30.09, 50.01}},                                  // f5 one part inside
		orb.Collection{orb.Point{35, 45}, orb.LineString{{30.1, 49}, {30.1, 51}}}, // f6 line member crosses
	)
	got := searchIDs(l, BBox{30, 50, 30.1, 50.1})
	want := []string{"f0", "f1", "f3", "f5", "f6"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestSearchAntimeridian(t *testing.T) {
	l := layerOf(t, "x",
		orb.Point{179.9, 10},                  // f0 east of the line
		orb.Point{-179.9, 10},                 // f1 west of it
		orb.Point{0, 10},                      // f2 far away
		orb.LineString{{179.5, 9}, {180, 11}}, // f3 touches ±180
		orb.Polygon{square(-180, 9.5, 1)},     // f4 on the west side, touching -180
	)
	cases := []struct {
		name string
		box  BBox
		want []string
	}{
		{"wraps across ±180", BBox{179.8, 9, -179.8, 11}, []string{"f0", "f1", "f3", "f4"}},
		{"east part only", BBox{179.8, 9, -179.95, 11}, []string{"f0", "f3", "f4"}},
		{"no wrap excludes both", BBox{-179.8, 9, 179.8, 11}, []string{"f2", "f3", "f4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := searchIDs(l, c.box); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseBBox(t *testing.T) {
	good := []struct {
		in   string
		want BBox
	}{
		{"22,44,40,53", BBox{22, 44, 40, 53}},
		{" 22 , 44 , 40 , 53 ", BBox{22, 44, 40, 53}},
		{"179.5,-10,-179.5,10", BBox{179.5, -10, -179.5, 10}},
		{"22,44,0,40,53,100", BBox{22, 44, 40, 53}},
	}
	for _, g := range good {
		b, err := ParseBBox(g.in)
		if err != nil || b != g.want {
			t.Errorf("ParseBBox(%q) = %v, %v; want %v", g.in, b, err, g.want)
		}
	}
	bad := map[string]string{
		"1,2,3":          "needs 4 numbers",
		"a,2,3,4":        "not a finite number",
		"1,2,3,NaN":      "not a finite number",
		"1,2,3,Inf":      "not a finite number",
		"-181,0,10,10":   "longitude",
		"0,-91,10,10":    "latitude",
		"0,20,10,10":     "exceeds maximum",
		"":               "needs 4 numbers",
		"1,2,3,4,5":      "needs 4 numbers",
		"1,2,3,4,5,6,7,": "needs 4 numbers",
	}
	for in, reason := range bad {
		if _, err := ParseBBox(in); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("ParseBBox(%q) error %v, want %q", in, err, reason)
		}
	}
}

// TestSearchFromEnvelopes: a line or polygon whose envelope lies within the
// box's span on one axis and overlaps it on the other is found without a
// look at its vertices, once a search has found its envelope is the
// vertices' own: not widened by a geodesic's bulge or its wrap across
// ±180°, not of parts apart, and not merely rounded to float32 across the
// box's edge.
func TestSearchFromEnvelopes(t *testing.T) {
	l := layerOf(t, "x",
		orb.LineString{{29.9, 50.02}, {30.05, 50.04}},                                       // f0 crosses the west side
		orb.LineString{{30.02, 50.05}, {30.04, 50.3}},                                       // f1 crosses the north side
		orb.LineString{{29.5, 50.06}, {30.6, 50.07}},                                        // f2 runs across the box
		orb.Polygon{square(30.08, 50.03, 0.05)},                                             // f3 crosses the east side
		orb.MultiLineString{{{29.8, 50.02}, {29.9, 50.08}}, {{30.2, 50.02}, {30.3, 50.08}}}, // f4 parts either side
		orb.LineString{{math.Nextafter(30.1, 31), 50.05}, {31, 50.06}},                      // f5 starts just east of the box
		orb.LineString{{30.02, 50.1 + 1e-9}, {30.08, 50.2}},                                 // f6 starts just north of it
	)
	// Each search twice: the first finds whether the envelopes are
	// plain, the second reads what the first kept.
	for pass := range 2 {
		got := searchIDs(l, BBox{30, 50, 30.1, 50.1})
		if want := []string{"f0", "f1", "f2", "f3"}; !slices.Equal(got, want) {
			t.Errorf("pass %d: got %v, want %v", pass, got, want)
		}
	}

	geodesic := layerOf(t, "y",
		orb.LineString{{20, 80}, {30, 80}},      // f0 bows 4 km north of 80°N
		orb.LineString{{170, 10}, {-170, 10.5}}, // f1's edge crosses ±180°: its envelope spans every longitude
	)
	// The envelopes overlap each box and lie within it across, but the
	// lines, taken in plain longitude and latitude, miss it.
	for pass := range 2 {
		for _, box := range []BBox{{19, 80.01, 31, 81}, {175, 9, 179, 11}} {
			if got := searchIDs(geodesic, box); len(got) != 0 {
				t.Errorf("pass %d, box %v: got %v, want none", pass, box, got)
			}
		}
	}
}

// searchAsScan returns the features Search finds in box (an ordinary
// one), failing t unless they are those testing every feature finds.
func searchAsScan(t *testing.T, l *Layer, box BBox) []int {
	t.Helper()
	var got, want []int
	l.Search(box, func(i int) bool { got = append(got, i); return true })
	for i := range l.features {
		if intersects(l.features[i].Geometry, box.parts()[0]) {
			want = append(want, i)
		}
	}
	sort.Ints(got)
	if !slices.Equal(got, want) {
		t.Fatalf("box %v: Search finds %v, a scan %v", box, got, want)
	}
	return got
}

// TestSearchAgreesWithScan: over generated sites, boxes of every size from
// a block to a city find what testing every feature exactly finds.
func TestSearchAgreesWithScan(t *testing.T) {
	l := synthLayer(t, "x", 20_000, 5)
	r := rand.New(rand.NewPCG(5, 9))
	found := 0
	for range 300 {
		c := l.Feature(r.IntN(20_000)).Geometry.Bound().Center()
		w, h := 0.005+r.Float64()*0.3, 0.005+r.Float64()*0.2
		box := BBox{c[0] - w/2, c[1] - h/2, c[0] + w/2, c[1] + h/2}
		found += len(searchAsScan(t, l, box))
	}
	if found < 10_000 {
		t.Errorf("the boxes found %d features in all: too few to tell", found)
	}
}

// TestSearchLongLines: a long line is tested against a box only along the
// spans whose envelopes meet it, and must be found wherever the box meets
// it: on any edge of any span, at the vertex two spans share, or crossed
// between vertices.
func TestSearchLongLines(t *testing.T) {
	sites := synth.PowerLines(40, 31)
	fs := make([]Feature, len(sites))
	long := 0
	for i, s := range sites {
		fs[i] = Feature{ID: s.ID, Geometry: s.Geometry}
		if isLong(s.Geometry.(orb.LineString)) {
			long++
		}
	}
	if long < len(sites)/2 {
		t.Fatalf("only %d of %d lines are long enough to have spans", long, len(sites))
	}
	l, err := NewLayer("power", "power", fs)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(31, 1))
	found, missed := 0, 0
	for range 2_000 {
		line := sites[r.IntN(len(sites))].Geometry.(orb.LineString)
		k := r.IntN(len(line) - 1)
		if r.IntN(4) == 0 {
			// The vertex two spans share.
			k = min(geodesy.SpanVertices*r.IntN(len(line)/geodesy.SpanVertices+1), len(line)-2)
		}
		f := r.Float64()
		c := orb.Point{line[k][0] + f*(line[k+1][0]-line[k][0]), line[k][1] + f*(line[k+1][1]-line[k][1])}
		// Boxes from metres to kilometres, some off the line.
		h := 0.0005 * math.Pow(40, r.Float64())
		c[0] += (r.Float64() - 0.5) * 6 * h
		c[1] += (r.Float64() - 0.5) * 6 * h
		box := BBox{c[0] - h, c[1] - h, c[0] + h, c[1] + h}
		if len(searchAsScan(t, l, box)) > 0 {
			found++
		} else {
			missed++
		}
	}
	if found < 500 || missed < 100 {
		t.Errorf("%d boxes met a line and %d none: the cases are lopsided", found, missed)
	}
}

// TestLineMeetsBoundAgreesWithClipping: skipping the edges whose ends lie
// beyond one side of the box changes no answer of clipping every edge.
// Vertices on a grid of quarter degrees often fall on the box's edges and
// corners, where touching counts, and their differences are exact.
func TestLineMeetsBoundAgreesWithClipping(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	grid := func() float64 { return float64(r.IntN(41)-14) / 4 }
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{3, 2}}
	met := 0
	for n := range 20_000 {
		line := make([]orb.Point, 2+r.IntN(3))
		for k := range line {
			line[k] = orb.Point{grid(), grid()}
		}
		want := false
		for k, p := range line {
			want = want || box.Contains(p) || k > 0 && segmentMeetsBound(line[k-1], p, box)
		}
		if got := lineMeetsBound(line, box); got != want {
			t.Fatalf("line %d %v: lineMeetsBound %v, clipping every edge %v", n, line, got, want)
		}
		if want {
			met++
		}
	}
	if met < 5_000 || met > 15_000 {
		t.Errorf("%d of 20,000 lines meet the box: the cases are lopsided", met)
	}
}

// TestSearchEnvelopes: each envelope given holds its feature's geometry,
// within float32 rounding of its exact envelope, and the features are
// those Search finds.
func TestSearchEnvelopes(t *testing.T) {
	l := synthLayer(t, "x", 5_000, 3)
	c := l.Feature(0).Geometry.Bound().Center()
	box := BBox{c[0] - 0.3, c[1] - 0.3, c[0] + 0.3, c[1] + 0.3}
	var want []int
	l.Search(box, func(i int) bool { want = append(want, i); return true })
	var got []int
	l.SearchEnvelopes(box, func(i int, env orb.Bound) bool {
		got = append(got, i)
		exact := l.Feature(i).Geometry.Bound()
		if !env.Contains(exact.Min) || !env.Contains(exact.Max) {
			t.Errorf("feature %d: envelope %v does not hold %v", i, env, exact)
		}
		for k := range 2 {
			if exact.Min[k]-env.Min[k] > 1e-5 || env.Max[k]-exact.Max[k] > 1e-5 {
				t.Errorf("feature %d: envelope %v is far from %v", i, env, exact)
			}
		}
		return true
	})
	if len(want) < 50 || !slices.Equal(got, want) {
		t.Errorf("SearchEnvelopes found %d features, Search %d", len(got), len(want))
	}
}

// FuzzParseBBox: never panics; every accepted box is finite, in range and
// ordered in latitude, and survives a round trip through String.
func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"22,44,40,53", "179.5,-10,-179.5,10", "1,2,3", "a,b,c,d", "1e309,0,0,0", "-0,-0,0,0", "1,2,0,3,4,0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBBox(s)
		if err != nil {
			return
		}
		for _, v := range []float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted non-finite %v", b)
			}
		}
		if b.MinLat > b.MaxLat || b.MinLon < -180 || b.MaxLon > 180 || b.MinLat < -90 || b.MaxLat > 90 {
			t.Fatalf("accepted out-of-range or unordered %v", b)
		}
		if again, err := ParseBBox(b.String()); err != nil || again != b {
			t.Fatalf("round trip %v -> %q -> %v, %v", b, b.String(), again, err)
		}
	})
}
