package export

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

func defaultLayers(t *testing.T) []*geo.Layer {
	t.Helper()
	layers, err := geojson.LoadFS(data.Layers())
	if err != nil {
		t.Fatal(err)
	}
	return layers
}

func all(l *geo.Layer) func(yield func(*geo.Feature) bool) {
	return func(yield func(*geo.Feature) bool) {
		for i := range l.Len() {
			if !yield(l.Feature(i)) {
				return
			}
		}
	}
}

func writeAll(t *testing.T, l *geo.Layer, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, Options{Name: l.Name(), Columns: Columns(all(l))})
	if err != nil {
		t.Fatal(err)
	}
	for ft := range all(l) {
		if err := w.Write(ft); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGeoJSONRoundTrip: the GeoJSON export loads back as the same layer.
func TestGeoJSONRoundTrip(t *testing.T) {
	for _, l := range defaultLayers(t) {
		for _, f := range []Format{GeoJSON, NDJSON} {
			body := writeAll(t, l, f)
			if f == NDJSON {
				lines := strings.Split(strings.TrimSpace(string(body)), "\n")
				if len(lines) != l.Len() {
					t.Fatalf("%s ndjson: %d lines for %d features", l.Name(), len(lines), l.Len())
				}
				body = []byte(`{"type":"FeatureCollection","features":[` + strings.Join(lines, ",") + `]}`)
			}
			back, err := geojson.DecodeLayer(l.Name(), "export", bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s %s: %v", l.Name(), f, err)
			}
			for i := range l.Len() {
				a, b := l.Feature(i), back.Feature(i)
				if a.ID != b.ID || !orb.Equal(a.Geometry, b.Geometry) || !bytes.Equal(a.Properties, b.Properties) {
					t.Fatalf("%s %s feature %d differs after a round trip", l.Name(), f, i)
				}
			}
		}
	}
}

// TestGDALReadsExports: GDAL, a reader nobody here wrote, finds in the KML
// and CSV exports the same features with the same coordinates as the source.
func TestGDALReadsExports(t *testing.T) {
	ogr2ogr := testenv.Tool(t, "ogr2ogr")
	dir := t.TempDir()
	for _, l := range defaultLayers(t) {
		for _, f := range []Format{KML, CSV} {
			in := filepath.Join(dir, l.Name()+f.Ext())
			if err := os.WriteFile(in, writeAll(t, l, f), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, l.Name()+"-"+string(f)+".geojson")
			args := []string{"-f", "GeoJSON", out, in}
			if f == CSV {
				args = append(args, "-oo", "GEOM_POSSIBLE_NAMES=wkt", "-oo", "KEEP_GEOM_COLUMNS=NO")
			}
			if msg, err := exec.Command(ogr2ogr, args...).CombinedOutput(); err != nil {
				t.Fatalf("ogr2ogr %s: %v\n%s", in, err, msg)
			}
			compareGDAL(t, l, f, out)
		}
	}
}

func compareGDAL(t *testing.T, l *geo.Layer, f Format, file string) {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry   json.RawMessage `json:"geometry"`
			Properties map[string]any  `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != l.Len() {
		t.Fatalf("%s %s: GDAL reads %d features, the layer has %d", l.Name(), f, len(fc.Features), l.Len())
	}
	for _, gf := range fc.Features {
		id, _ := gf.Properties["id"].(string)
		src, _, ok := l.Lookup(id)
		if !ok {
			t.Fatalf("%s %s: GDAL reads unknown id %q", l.Name(), f, id)
		}
		back, err := geojson.DecodeLayer("x", "gdal", strings.NewReader(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":`+string(gf.Geometry)+`}]}`))
		if err != nil {
			t.Fatalf("%s %s %s: %v", l.Name(), f, id, err)
		}
		if d := maxOffset(src.Geometry, back.Feature(0).Geometry); d > 1e-9 {
			t.Errorf("%s %s %s: coordinates moved by %g°", l.Name(), f, id, d)
		}
	}
}

// maxOffset compares two geometries vertex by vertex (in degrees).
func maxOffset(a, b orb.Geometry) float64 {
	va, vb := vertices(a), vertices(b)
	if len(va) != len(vb) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range va {
		worst = max(worst, math.Abs(va[i][0]-vb[i][0]), math.Abs(va[i][1]-vb[i][1]))
	}
	return worst
}

func vertices(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.MultiPoint:
		out = append(out, g...)
	case orb.LineString:
		out = append(out, g...)
	case orb.MultiLineString:
		for _, l := range g {
			out = append(out, l...)
		}
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			out = append(out, vertices(p)...)
		}
	case orb.Collection:
		for _, c := range g {
			out = append(out, vertices(c)...)
		}
	}
	return out
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("%s: %v %v", f, got, err)
		}
	}
	if _, err := ParseFormat("shp"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("shp: %v", err)
	}
}
