package tile

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

// crowd is a layer of n sites scattered over tile tl, with ids and names
// padded to the given lengths, of the given number of kinds, one of them
// no kind at all: points, and every thousandth a line across half the
// tile.
func crowd(t *testing.T, tl maptile.Tile, n, kinds, idLen, nameLen int) *geo.Layer {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), uint64(kinds)))
	b := tl.Bound()
	fs := make([]geo.Feature, n)
	for i := range fs {
		id := strconv.Itoa(i)
		kind := ""
		if k := i % kinds; k != kinds-1 {
			kind = "kind-" + strconv.Itoa(k)
		}
		at := func() orb.Point {
			return orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
		}
		var g orb.Geometry = at()
		if i%1000 == 999 {
			p := at()
			g = orb.LineString{p, {p[0] + (b.Max[0]-b.Min[0])/4, p[1]}, {p[0] + (b.Max[0]-b.Min[0])/2, p[1] + (b.Max[1]-b.Min[1])/4}}
		}
		fs[i] = geo.Feature{
			ID:       strings.Repeat("x", max(0, idLen-len(id))) + id,
			Name:     strings.Repeat("n", max(0, nameLen-len(id))) + id,
			Kind:     kind,
			Geometry: g,
		}
	}
	l, err := geo.NewLayer("crowd", "crowd", fs)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestDetailLadder: a tile keeps as much as fits MaxBytes: names go
// first, then the id property, and only a tile with more features than
// can be drawn one by one is aggregated.
func TestDetailLadder(t *testing.T) {
	tl := maptile.At(orb.Point{30.5234, 50.4501}, 10)
	for _, c := range []struct {
		name                     string
		n, kinds, idLen, nameLen int
		spread                   maptile.Zoom // the sites lie in the tile of this zoom holding tl
		want                     detail
	}{
		{"a thousand sites keep everything", 1000, 4, 6, 20, 10, detail{props: propsIDNameKind}},
		{"long names are dropped", 12_000, 4, 6, 40, 10, detail{props: propsIDKind}},
		{"long ids are dropped too", 12_000, 4, 40, 40, 10, detail{props: propsKind}},
		// Spread evenly, 60,000 sites of four kinds occupy most pixels in
		// each kind: one point per pixel or per 2×2 pixels is too many.
		{"too many sites are counted per cell", 60_000, 4, 6, 20, 10, detail{props: propsIDKind, cellPx: 4}},
		// Crowded into 4×4 pixels, they fit a point per pixel and kind,
		// even of so many kinds that not every cell of every kind has a slot.
		{"crowded sites of many kinds", 50_000, 40, 6, 6, 16, detail{props: propsIDKind, cellPx: 1}},
		// A point per kind would not fit either.
		{"thousands of kinds are merged", 60_000, 60_000, 6, 6, 10, detail{props: propsIDKind, cellPx: 256, mergeKinds: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := crowd(t, maptile.At(tl.Center(), c.spread), c.n, c.kinds, c.idLen, c.nameLen)
			_, d, err := render(l, uint32(tl.Z), tl.X, tl.Y)
			if err != nil {
				t.Fatal(err)
			}
			if d != c.want {
				t.Fatalf("level %+v, want %+v", d, c.want)
			}
			if d.cellPx == 0 {
				checkTile(t, l, tl)
			} else {
				checkAggregated(t, l, tl)
			}
		})
	}
}

// TestMillionZ6 renders every zoom-6 tile over the 1,000,000-feature set:
// each fits MaxBytes; those too dense to draw feature by feature are
// aggregated, and their counts add up, kind by kind, to the features
// touching the tile.
func TestMillionZ6(t *testing.T) {
	l, err := millionLayer()
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := maptile.At(orb.Point{l.Bound().Min[0], l.Bound().Max[1]}, 6), maptile.At(orb.Point{l.Bound().Max[0], l.Bound().Min[1]}, 6)
	aggregated := 0
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			tl := maptile.New(x, y, 6)
			_, d, err := render(l, 6, x, y)
			if err != nil {
				t.Fatal(err)
			}
			if d.cellPx == 0 {
				checkTile(t, l, tl)
				continue
			}
			aggregated++
			checkAggregated(t, l, tl)
		}
	}
	if aggregated == 0 {
		t.Error("no zoom-6 tile of a million sites was aggregated")
	}
}

// checkAggregated: the aggregated tile fits MaxBytes; its counts, plus
// the features drawn on their own, add up kind by kind to the features
// touching the tile; each count point has at least as many features of
// its kind within two cells; features on their own carry id and kind and
// lie within a quarter cell of their source.
func checkAggregated(t *testing.T, l *geo.Layer, tl maptile.Tile) {
	t.Helper()
	body, d, err := render(l, uint32(tl.Z), tl.X, tl.Y)
	if err != nil {
		t.Fatal(err)
	}
	if d.cellPx == 0 {
		t.Fatalf("tile %v not aggregated", tl)
	}
	if len(body) > MaxBytes {
		t.Fatalf("tile %v: %d bytes", tl, len(body))
	}
	kindOf := func(i int) string {
		if d.mergeKinds {
			return ""
		}
		return l.Feature(i).Kind
	}
	want := map[string]int{}
	touching := map[int]bool{}
	l.Search(tileBox(tl), func(i int) bool {
		want[kindOf(i)]++
		touching[i] = true
		return true
	})
	got := map[string]int{}
	alone := map[int]bool{}
	cellUnits := float64(d.cellPx * pixelUnits)
	for _, f := range decode(t, body).Features {
		kind, _ := f.Properties["kind"].(string)
		count, ok := f.Properties["count"].(float64)
		if !ok {
			i := mvtIndex(t, l, f)
			checkProps(t, propsIDKind, l.Feature(i), f.Properties)
			if dist := farthestVertex(tl, f.Geometry, l.Feature(i).Geometry, cellUnits/4); dist > max(pixelUnits, cellUnits/4+1) {
				t.Errorf("tile %v feature %s: a vertex is %.1f units from the source", tl, l.Feature(i).ID, dist)
			}
			if !alone[i] {
				alone[i] = true
				got[kindOf(i)]++
			}
			continue
		}
		got[kind] += int(count)
		p, ok := f.Geometry.(orb.Point)
		if !ok || p[0] < 0 || p[1] < 0 || p[0] > Extent || p[1] > Extent {
			t.Fatalf("tile %v: count %v at %v, outside the tile", tl, count, f.Geometry)
		}
		near := 0
		l.Search(toBox(tl, p, 2*cellUnits), func(i int) bool {
			if touching[i] && kindOf(i) == kind {
				near++
			}
			return true
		})
		if near < int(count) {
			t.Errorf("tile %v: %v sites of kind %q counted at %v, but only %d lie within two cells", tl, count, kind, p, near)
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("tile %v kind %q: the tile accounts for %d sites, %d touch it", tl, k, got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("tile %v: kinds %v, want %v", tl, got, want)
	}
}

// toBox is the box within r tile units of tile point p, in lon/lat.
func toBox(tl maptile.Tile, p orb.Point, r float64) geo.BBox {
	a, b := toLonLat(tl, orb.Point{p[0] - r, p[1] + r}), toLonLat(tl, orb.Point{p[0] + r, p[1] - r})
	return geo.BBox{MinLon: max(a[0], -180), MinLat: max(a[1], -90), MaxLon: min(b[0], 180), MaxLat: min(b[1], 90)}
}

// toLonLat inverts toTile.
func toLonLat(tl maptile.Tile, p orb.Point) orb.Point {
	n := math.Exp2(float64(tl.Z)) * Extent
	x, y := (float64(tl.X)*Extent+p[0])/n, (float64(tl.Y)*Extent+p[1])/n
	return orb.Point{x*360 - 180, math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi}
}
