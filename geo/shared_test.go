package geo

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/paulmach/orb"
	orbjson "github.com/paulmach/orb/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

// TestSharedLayers loads the real OpenStreetMap-derived layers and checks
// proximity over them, long straight grid lines included, against a linear scan.
func TestSharedLayers(t *testing.T) {
	files := []struct {
		name, rel string
		count     int
	}{
		{"stations", "osm_power_stations/power_stations_with_oblasts.geojson", 999},
		{"grid", "osm_hv_grid_2016/hv_lines_ukraine_bbox.geojson", 990},
		{"vertices", "osm_hv_grid_2016/hv_vertices_ukraine_bbox.geojson", 680},
		{"oblasts", "boundaries/geoBoundaries-UKR-ADM1_simplified.geojson", 27},
	}
	var layers []*Layer
	for _, f := range files {
		l := sharedLayer(t, f.name, testenv.SharedData(t, f.rel))
		if l.Len() != f.count {
			t.Errorf("%s: %d features, want %d", f.rel, l.Len(), f.count)
		}
		layers = append(layers, l)
	}
	ix := indexOf(t, layers...)
	r := rand.New(rand.NewPCG(3, 3))
	for range 60 {
		p := orb.Point{22 + r.Float64()*18, 44 + r.Float64()*9}
		grid := []*Layer{layers[0], layers[1], layers[2]}
		got, err := ix.Nearby(p, 50_000, 10, "stations", "grid", "vertices")
		if err != nil {
			t.Fatal(err)
		}
		compareHits(t, p, got, linearScan(grid, p, 50_000, 10))
		// Every point of Ukraine is in exactly one oblast (distance 0).
		in, err := ix.Nearby(p, 0, 30, "oblasts")
		if err != nil {
			t.Fatal(err)
		}
		compareHits(t, p, in, linearScan(layers[3:], p, 0, 30))
	}
}

// sharedLayer reads a GeoJSON file with orb's decoder (geo's own lives in
// geo/geojson, which imports geo), naming features by their position.
func sharedLayer(t *testing.T, name, file string) *Layer {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := orbjson.UnmarshalFeatureCollection(body)
	if err != nil {
		t.Fatal(err)
	}
	fs := make([]Feature, len(fc.Features))
	for i, f := range fc.Features {
		fs[i] = Feature{ID: strconv.Itoa(i), Geometry: f.Geometry}
	}
	l, err := NewLayer(name, file, fs)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
