package tile

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

func TestTileJSON(t *testing.T) {
	l := defaultLayer(t, "energy")
	const url = "https://maps.example/collections/energy/tiles/{z}/{x}/{y}.mvt"
	body, err := TileJSON(l, url, Meta{Attribution: "OpenStreetMap contributors"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TileJSON     string     `json:"tilejson"`
		Name         string     `json:"name"`
		Attribution  string     `json:"attribution"`
		Tiles        []string   `json:"tiles"`
		MinZoom      *int       `json:"minzoom"`
		MaxZoom      int        `json:"maxzoom"`
		Bounds       [4]float64 `json:"bounds"`
		Center       [3]float64 `json:"center"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.TileJSON != "3.0.0" || doc.Name != "energy" || doc.Attribution == "" || len(doc.Tiles) != 1 || doc.Tiles[0] != url ||
		doc.MinZoom == nil || *doc.MinZoom != 0 || doc.MaxZoom != MaxZoom {
		t.Errorf("document %s", body)
	}
	b := l.Bound()
	if doc.Bounds != [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		t.Errorf("bounds %v, layer %v", doc.Bounds, b)
	}
	// The center's zoom is the deepest at which the layer spans at most two
	// tiles each way.
	spans := func(z float64) float64 {
		lo, hi := maptile.Fraction(b.Min, maptile.Zoom(z)), maptile.Fraction(b.Max, maptile.Zoom(z))
		return max(hi[0]-lo[0], lo[1]-hi[1])
	}
	if c := doc.Center; c[0] != b.Center()[0] || c[1] != b.Center()[1] || spans(c[2]) > 2 || spans(c[2]+1) <= 2 {
		t.Errorf("center %v: the layer spans %.2f tiles at its zoom, %.2f one deeper", c, spans(c[2]), spans(c[2]+1))
	}
	if len(doc.VectorLayers) != 1 || doc.VectorLayers[0].ID != "energy" {
		t.Fatalf("vector_layers %+v", doc.VectorLayers)
	}
	// Every property a tile carries, at any level of detail, is listed.
	seen := map[string]bool{}
	crowded := crowd(t, maptile.At(orb.Point{30.5, 50.4}, 10), 60_000, 4, 6, 6)
	for _, c := range []struct {
		l  *geo.Layer
		tl maptile.Tile
	}{{l, maptile.At(orb.Point{30.5234, 50.4501}, 10)}, {crowded, maptile.At(orb.Point{30.5, 50.4}, 10)}} {
		body, err := Render(c.l, uint32(c.tl.Z), c.tl.X, c.tl.Y)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range decode(t, body).Features {
			for k := range f.Properties {
				seen[k] = true
			}
		}
	}
	for k := range seen {
		if doc.VectorLayers[0].Fields[k] == "" {
			t.Errorf("tiles carry %q, which vector_layers does not list", k)
		}
	}
	if len(seen) != len(doc.VectorLayers[0].Fields) {
		t.Errorf("tiles carry %v, vector_layers lists %v", seen, doc.VectorLayers[0].Fields)
	}
}

func TestTileJSONEdgeCases(t *testing.T) {
	empty, err := geo.NewLayer("empty", "empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := TileJSON(empty, "/t/{z}/{x}/{y}", Meta{Name: "Nothing yet"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"name":"Nothing yet"`) || !strings.Contains(string(body), `"bounds":[-180,-85.05112877980659,180,85.05112877980659]`) ||
		!strings.Contains(string(body), `"center":[0,0,1]`) {
		t.Errorf("empty layer: %s", body)
	}
	one, err := geo.NewLayer("one", "one", []geo.Feature{{ID: "a", Geometry: orb.Point{30, 50}}})
	if err != nil {
		t.Fatal(err)
	}
	if body, err := TileJSON(one, "/t/{z}/{x}/{y}", Meta{}); err != nil || !strings.Contains(string(body), `"center":[30,50,14]`) {
		t.Errorf("one point: %s %v", body, err)
	}
	for _, bad := range []string{"/t/{z}/{x}", "/t/{x}/{y}", ""} {
		if _, err := TileJSON(one, bad, Meta{}); err == nil {
			t.Errorf("%q accepted as a tiles URL", bad)
		}
	}
}
