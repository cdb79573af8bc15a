package tile

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/synth"
	"github.com/protectmap/protectmap/geo/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

func defaultLayer(t testing.TB, name string) *geo.Layer {
	t.Helper()
	layers, err := geo.LoadFS(data.Layers)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		if l.Name() == name {
			return l
		}
	}
	t.Fatalf("no layer %s", name)
	return nil
}

func synthLayer(t testing.TB, n int) *geo.Layer {
	t.Helper()
	sites := synth.Sites(n, 42)
	fs := make([]geo.Feature, len(sites))
	for i, s := range sites {
		fs[i] = geo.Feature{ID: s.ID, Name: s.Name, Kind: s.Kind, Geometry: s.Geometry}
	}
	l, err := geo.NewLayer("synth", "synth", fs)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// toTile projects lon/lat to the tile's Extent units without rounding.
func toTile(t maptile.Tile, p orb.Point) orb.Point {
	n := math.Exp2(float64(t.Z)) * Extent
	lat := p[1] * math.Pi / 180
	x := (p[0] + 180) / 360 * n
	y := (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	return orb.Point{x - float64(t.X)*Extent, y - float64(t.Y)*Extent}
}

// pixel is one pixel of a 256-pixel tile, in Extent units.
const pixel = Extent / 256

func decode(t *testing.T, body []byte) *mvt.Layer {
	t.Helper()
	layers, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers", len(layers))
	}
	return layers[0]
}

// checkTile: every feature touching the tile is in it, and every decoded
// vertex lies within a pixel of the source geometry.
func checkTile(t *testing.T, l *geo.Layer, tl maptile.Tile) int {
	t.Helper()
	body, err := Render(l, uint32(tl.Z), tl.X, tl.Y)
	if err != nil {
		t.Fatal(err)
	}
	b := tl.Bound()
	var want []string
	l.Search(geo.BBox{MinLon: b.Min[0], MinLat: b.Min[1], MaxLon: b.Max[0], MaxLat: b.Max[1]}, func(i int) bool {
		want = append(want, l.Feature(i).ID)
		return true
	})
	if len(want) == 0 {
		return 0
	}
	if body == nil {
		t.Fatalf("tile %v empty, but %d features touch it", tl, len(want))
	}
	layer := decode(t, body)
	if layer.Name != l.Name() {
		t.Errorf("layer %q", layer.Name)
	}
	got := map[string]bool{}
	for _, f := range layer.Features {
		id, _ := f.Properties["id"].(string)
		got[id] = true
		src, _, ok := l.Lookup(id)
		if !ok {
			t.Fatalf("tile %v: unknown id %q", tl, id)
		}
		if d := farthestVertex(tl, f.Geometry, src.Geometry); d > pixel {
			t.Errorf("tile %v feature %s: a vertex is %.1f units (%.2f px) from the source", tl, id, d, d/pixel)
		}
	}
	for _, id := range want {
		if !got[id] {
			t.Errorf("tile %v lacks feature %s, which touches it", tl, id)
		}
	}
	return len(want)
}

// farthestVertex is the largest distance, in Extent units, from a decoded
// vertex to the source geometry, ignoring vertices made by clipping at the
// buffer's edge.
func farthestVertex(tl maptile.Tile, decoded, src orb.Geometry) float64 {
	var proj []orb.Point
	var segs [][2]orb.Point
	collect(src, func(pts []orb.Point) {
		prev := orb.Point{}
		for i, p := range pts {
			q := toTile(tl, p)
			proj = append(proj, q)
			if i > 0 {
				segs = append(segs, [2]orb.Point{prev, q})
			}
			prev = q
		}
	})
	worst := 0.0
	collect(decoded, func(pts []orb.Point) {
		for _, v := range pts {
			if v[0] <= -bufferUnits || v[1] <= -bufferUnits || v[0] >= Extent+bufferUnits || v[1] >= Extent+bufferUnits {
				continue
			}
			best := math.Inf(1)
			for _, p := range proj {
				best = min(best, math.Hypot(v[0]-p[0], v[1]-p[1]))
			}
			for _, s := range segs {
				best = min(best, segDist(v, s[0], s[1]))
			}
			worst = max(worst, best)
		}
	})
	return worst
}

func segDist(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = max(0, min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

func collect(g orb.Geometry, fn func([]orb.Point)) {
	switch g := g.(type) {
	case orb.Point:
		fn([]orb.Point{g})
	case orb.MultiPoint:
		fn(g)
	case orb.LineString:
		fn(g)
	case orb.Ring:
		fn(g)
	case orb.MultiLineString:
		for _, l := range g {
			fn(l)
		}
	case orb.Polygon:
		for _, r := range g {
			fn(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			collect(p, fn)
		}
	case orb.Collection:
		for _, c := range g {
			collect(c, fn)
		}
	}
}

func TestTilesZ0ToZ18(t *testing.T) {
	energy := defaultLayer(t, "energy")
	synthetic := synthLayer(t, 20_000)
	kyiv := orb.Point{30.5234, 50.4501}
	zaporizhzhia := orb.Point{34.586, 47.508} // the nuclear plant's outline
	for z := maptile.Zoom(0); z <= 18; z++ {
		n := 0
		for _, p := range []orb.Point{kyiv, zaporizhzhia} {
			n += checkTile(t, energy, maptile.At(p, z))
		}
		n += checkTile(t, synthetic, maptile.At(orb.Point{31.1, 48.3}, z))
		if n == 0 && z < 12 {
			t.Errorf("zoom %d: no features near the test points", z)
		}
	}
}

func TestEmptyAndOutOfRange(t *testing.T) {
	energy := defaultLayer(t, "energy")
	if body, err := Render(energy, 10, 0, 0); err != nil || body != nil {
		t.Errorf("ocean tile: %d bytes, %v", len(body), err)
	}
	for _, c := range [][3]uint32{{23, 0, 0}, {3, 8, 0}, {3, 0, 8}, {0, 1, 0}} {
		if _, err := Render(energy, c[0], c[1], c[2]); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("z/x/y %v: %v", c, err)
		}
	}
}

// TestAntimeridianTiles: a tile at the western edge of the world shows, in
// its buffer, what lies just east of +180°, and the other way round.
func TestAntimeridianTiles(t *testing.T) {
	l, err := geo.NewLayer("edge", "edge", []geo.Feature{
		{ID: "east", Geometry: orb.Point{179.999, 0.5}},
		{ID: "west", Geometry: orb.Point{-179.999, 0.5}},
		{ID: "line", Geometry: orb.LineString{{179.99, 0.4}, {180, 0.6}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	z := uint32(8)
	n := uint32(1) << z
	y := maptile.At(orb.Point{0, 0.5}, maptile.Zoom(z)).Y
	for _, c := range []struct {
		x    uint32
		want []string
	}{{0, []string{"east", "line", "west"}}, {n - 1, []string{"east", "line", "west"}}} {
		body, err := Render(l, z, c.x, y)
		if err != nil || body == nil {
			t.Fatalf("x=%d: %v", c.x, err)
		}
		var ids []string
		for _, f := range decode(t, body).Features {
			ids = append(ids, f.Properties["id"].(string))
			p := f.Geometry.Bound().Center()
			if p[0] < -bufferUnits || p[0] > Extent+bufferUnits {
				t.Errorf("x=%d: %s drawn at %v, outside the buffer", c.x, f.Properties["id"], p)
			}
		}
		sort.Strings(ids)
		if !slices.Equal(ids, c.want) {
			t.Errorf("x=%d: %v, want %v", c.x, ids, c.want)
		}
	}
}

// TestGoldenTile pins a representative tile's decoded content.
func TestGoldenTile(t *testing.T) {
	tl := maptile.At(orb.Point{30.5234, 50.4501}, 10) // Kyiv
	body, err := Render(defaultLayer(t, "energy"), uint32(tl.Z), tl.X, tl.Y)
	if err != nil || body == nil {
		t.Fatalf("tile: %v", err)
	}
	layer := decode(t, body)
	sort.Slice(layer.Features, func(i, j int) bool {
		return layer.Features[i].Properties["id"].(string) < layer.Features[j].Properties["id"].(string)
	})
	fc := map[string]any{"type": "FeatureCollection", "features": layer.Features}
	got, err := json.MarshalIndent(fc, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "testdata", "golden", "TestGoldenTile", "energy-kyiv-z10.json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tile differs from %s (run with -update if the change is intended)", path)
	}
}

// TestGDALReadsTiles: GDAL's MVT driver, a reader nobody here wrote, lists
// the layer and every feature.
func TestGDALReadsTiles(t *testing.T) {
	ogrinfo := testenv.Tool(t, "ogrinfo")
	l := defaultLayer(t, "energy")
	tl := maptile.At(orb.Point{30.5234, 50.4501}, 8)
	body, err := Render(l, uint32(tl.Z), tl.X, tl.Y)
	if err != nil || body == nil {
		t.Fatal(err)
	}
	want := len(decode(t, body).Features)
	dir := t.TempDir()
	file := filepath.Join(dir, "8-"+itoa(tl.X)+"-"+itoa(tl.Y)+".mvt")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ogrinfo, "-ro", "-so", "-al",
		"-oo", "X="+itoa(tl.X), "-oo", "Y="+itoa(tl.Y), "-oo", "Z=8", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "Layer name: energy") {
		t.Errorf("ogrinfo lists no energy layer:\n%s", text)
	}
	count := 0
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "Feature Count: "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			count += n
		}
	}
	if count != want {
		t.Errorf("ogrinfo counts %d features, the tile holds %d:\n%s", count, want, text)
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
