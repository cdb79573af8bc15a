package tile

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
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
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geodesy"
	pmjson "github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

func defaultLayer(t testing.TB, name string) *geo.Layer {
	t.Helper()
	layers, err := pmjson.LoadFS(data.Layers())
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
	l, err := newSynthLayer(n)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newSynthLayer(n int) (*geo.Layer, error) {
	sites := synth.Sites(n, 42)
	fs := make([]geo.Feature, len(sites))
	for i, s := range sites {
		fs[i] = geo.Feature{ID: s.ID, Name: s.Name, Kind: s.Kind, Geometry: s.Geometry}
	}
	return geo.NewLayer("synth", "synth", fs)
}

// toTile projects lon/lat to the tile's Extent units without rounding.
func toTile(t maptile.Tile, p orb.Point) orb.Point {
	n := math.Exp2(float64(t.Z)) * Extent
	lat := p[1] * math.Pi / 180
	x := (p[0] + 180) / 360 * n
	y := (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	return orb.Point{x - float64(t.X)*Extent, y - float64(t.Y)*Extent}
}

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

// checkTile: the tile fits MaxBytes, every feature touching it is in it
// on its own, with the properties of its level, and every decoded vertex
// lies within a pixel of the source geometry.
func checkTile(t *testing.T, l *geo.Layer, tl maptile.Tile) int {
	t.Helper()
	body, d, err := render(l, uint32(tl.Z), tl.X, tl.Y)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > MaxBytes {
		t.Fatalf("tile %v: %d bytes", tl, len(body))
	}
	if d.cellPx != 0 {
		t.Fatalf("tile %v of %d bytes is aggregated (%+v) though it need not be", tl, len(body), d)
	}
	var want []int
	l.Search(tileBox(tl), func(i int) bool {
		want = append(want, i)
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
	got := map[int]bool{}
	for _, f := range layer.Features {
		i := mvtIndex(t, l, f)
		got[i] = true
		src := l.Feature(i)
		checkProps(t, d.props, src, f.Properties)
		if dist := farthestVertex(tl, f.Geometry, src.Geometry, simplifyUnits); dist > pixelUnits {
			t.Errorf("tile %v feature %s: a vertex is %.1f units (%.2f px) from the source", tl, src.ID, dist, dist/pixelUnits)
		}
	}
	for _, i := range want {
		if !got[i] {
			t.Errorf("tile %v lacks feature %s, which touches it", tl, l.Feature(i).ID)
		}
	}
	return len(want)
}

// mvtIndex is the layer position a feature's MVT id names.
func mvtIndex(t *testing.T, l *geo.Layer, f *geojson.Feature) int {
	t.Helper()
	id, ok := f.ID.(float64)
	if !ok || id < 1 || int(id) > l.Len() {
		t.Fatalf("feature with MVT id %v in a layer of %d", f.ID, l.Len())
	}
	return int(id) - 1
}

// checkProps: a feature carries exactly the properties of its level, with
// the source's values.
func checkProps(t *testing.T, p props, src *geo.Feature, got geojson.Properties) {
	t.Helper()
	want := geojson.Properties{}
	if p <= propsIDKind {
		want["id"] = src.ID
	}
	if p == propsIDNameKind && src.Name != "" {
		want["name"] = src.Name
	}
	if src.Kind != "" {
		want["kind"] = src.Kind
	}
	if !maps.Equal(got, want) {
		t.Errorf("feature %s at level %d has properties %v, want %v", src.ID, p, got, want)
	}
}

// farthestVertex is the largest distance, in Extent units, from a decoded
// vertex, or a point every pixel along a decoded edge, to the source
// geometry, whose edges run straight in longitude/latitude: each is
// followed in pieces short enough to be straight in the tile too. Points
// near the buffer's edge, where clipping draws edges of its own that
// simplification may move by up to tolerance units, are left out.
func farthestVertex(tl maptile.Tile, decoded, src orb.Geometry, tolerance float64) float64 {
	lo, hi := -bufferUnits+tolerance+1, Extent+bufferUnits-tolerance-1
	// Edges wholly two buffers off the tile cannot be nearest to anything
	// drawn in it.
	near := orb.Bound{Min: toLonLat(tl, orb.Point{-3 * bufferUnits, Extent + 3*bufferUnits}), Max: toLonLat(tl, orb.Point{Extent + 3*bufferUnits, -3 * bufferUnits})}
	var points []orb.Point
	var segs [][2]orb.Point
	geodesy.VertexRuns(src, func(pts []orb.Point, linear bool) {
		if !linear {
			for _, p := range pts {
				points = append(points, toTile(tl, p))
			}
			return
		}
		for i := 1; i < len(pts); i++ {
			a, b := pts[i-1], pts[i]
			if !near.Intersects(orb.MultiPoint{a, b}.Bound()) {
				continue
			}
			prev, last := toTile(tl, a), toTile(tl, b)
			n := min(1024, max(1, math.Ceil(math.Hypot(last[0]-prev[0], last[1]-prev[1])/64)))
			for k := 1.0; k <= n; k++ {
				q := toTile(tl, orb.Point{a[0] + (b[0]-a[0])*k/n, a[1] + (b[1]-a[1])*k/n})
				segs = append(segs, [2]orb.Point{prev, q})
				prev = q
			}
		}
	})
	worst := 0.0
	geodesy.VertexRuns(decoded, func(pts []orb.Point, linear bool) {
		var along []orb.Point
		for i, v := range pts {
			along = append(along, v)
			if linear && i+1 < len(pts) {
				w := pts[i+1]
				n := math.Ceil(math.Hypot(w[0]-v[0], w[1]-v[1]) / pixelUnits)
				for k := 1.0; k < n; k++ {
					along = append(along, orb.Point{v[0] + (w[0]-v[0])*k/n, v[1] + (w[1]-v[1])*k/n})
				}
			}
		}
		for _, v := range along {
			if v[0] <= lo || v[1] <= lo || v[0] >= hi || v[1] >= hi {
				continue
			}
			best := math.Inf(1)
			for _, p := range points {
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
// the layer, its fields and every feature, and in an aggregated tile
// finds counts that add up to the features touching the tile.
func TestGDALReadsTiles(t *testing.T) {
	ogrinfo := testenv.Tool(t, "ogrinfo")
	kyiv := maptile.At(orb.Point{30.5234, 50.4501}, 8)
	dense := maptile.At(orb.Point{30.5, 50.4}, 10)
	for _, c := range []struct {
		name   string
		l      *geo.Layer
		tl     maptile.Tile
		fields []string
	}{
		{"energy", defaultLayer(t, "energy"), kyiv, []string{"id", "name", "kind"}},
		{"aggregated", crowd(t, dense, 60_000, 4, 6, 6), dense, []string{"id", "kind", "count"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, err := Render(c.l, uint32(c.tl.Z), c.tl.X, c.tl.Y)
			if err != nil || body == nil {
				t.Fatal(err)
			}
			decoded := decode(t, body).Features
			file := filepath.Join(t.TempDir(), "tile.mvt")
			if err := os.WriteFile(file, body, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-ro", "-al", "-oo", "X=" + itoa(c.tl.X), "-oo", "Y=" + itoa(c.tl.Y), "-oo", "Z=" + itoa(uint32(c.tl.Z)), file}
			out, err := exec.Command(ogrinfo, append([]string{"-so"}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("ogrinfo: %v\n%s", err, out)
			}
			text := string(out)
			if !strings.Contains(text, "Layer name: "+c.l.Name()) {
				t.Errorf("ogrinfo lists no %s layer:\n%s", c.l.Name(), text)
			}
			for _, f := range c.fields {
				if !strings.Contains(text, "\n"+f+": ") {
					t.Errorf("ogrinfo lists no field %s:\n%s", f, text)
				}
			}
			if n := sumAfter(text, "Feature Count: "); n != len(decoded) {
				t.Errorf("ogrinfo counts %d features, the tile holds %d:\n%s", n, len(decoded), text)
			}
			if !slices.Contains(c.fields, "count") {
				return
			}
			out, err = exec.Command(ogrinfo, append([]string{"-q", "-geom=NO"}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("ogrinfo: %v\n%s", err, out)
			}
			counted := sumAfter(string(out), "count (Integer) = ")
			alone := strings.Count(string(out), "\n  id (String) = ")
			if want := c.l.Count(tileBox(c.tl)); counted+alone != want {
				t.Errorf("GDAL reads counts of %d and %d sites on their own; %d touch the tile", counted, alone, want)
			}
		})
	}
}

// sumAfter adds up the numbers following prefix at the start of lines,
// after indentation.
func sumAfter(text, prefix string) int {
	sum := 0
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			sum += n
		}
	}
	return sum
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
