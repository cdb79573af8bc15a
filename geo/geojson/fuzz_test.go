package geojson

import (
	"bytes"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// FuzzDecodeLayer: never panics or hangs; every accepted feature has a
// unique non-empty id without NUL, properties without NUL or a lone
// surrogate, and finite coordinates in range.
func FuzzDecodeLayer(f *testing.F) {
	for _, s := range []string{
		fc(`{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[30,50]}}`),
		fc(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[30,50],[31,50],[31,51],[30,50]]]},"properties":{"name":"x"}}`),
		fc(`{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[{"type":"MultiLineString","coordinates":[[[1,2],[3,4]]]}]}}`),
		fc(`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[30,50],[31,50],[31,51],[30,50]]]]}}`),
		`{"type":"FeatureCollection","features":[]}`,
		`{"features":[{"type":"Feature"}],"type":"FeatureCollection"}`,
		fc(`{"type":"Feature","id":"a\u0001","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"name":"\ud83d\ude00"}}`),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecoded(t, "fuzz", body) })
}

// FuzzDecodeZones: the same of a zones layer, whose lines with a width_m
// become corridors.
func FuzzDecodeZones(f *testing.F) {
	for _, s := range []string{
		fc(`{"type":"Feature","id":"c","geometry":{"type":"LineString","coordinates":[[30,46],[30.5,46.2],[31,46.1]]},"properties":{"width_m":4000}}`),
		fc(`{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[179.9,0],[179.95,0.1]],[[1,89.9],[2,89.95]]]},"properties":{"width_m":100000}}`),
		fc(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[30,46],[30,46]]},"properties":{"width_m":1e-9}}`),
		fc(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[30,46],[31,46]]},"properties":{"width_m":"wide"}}`),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecoded(t, ZonesLayer, body) })
}

// checkDecoded decodes body as the layer name: an accepted layer has unique
// non-empty ids and finite positions in range.
func checkDecoded(t *testing.T, name string, body []byte) {
	l, err := DecodeLayer(name, "fuzz.geojson", bytes.NewReader(body))
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for i := range l.Len() {
		ft := l.Feature(i)
		if ft.ID == "" || seen[ft.ID] {
			t.Fatalf("feature %d: empty or duplicate id %q", i, ft.ID)
		}
		if strings.ContainsRune(ft.ID, 0) || jsonscan.CheckText(ft.Properties) != nil {
			t.Fatalf("feature %d: accepted NUL or a lone surrogate: id %q, properties %s", i, ft.ID, ft.Properties)
		}
		seen[ft.ID] = true
		geodesy.VertexRuns(ft.Geometry, func(pts []orb.Point, _ bool) {
			for _, p := range pts {
				if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
					t.Fatalf("feature %d: accepted position %v", i, p)
				}
			}
		})
	}
}
