package server_test

import (
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server"
)

// TestProximityEverywhere asks /proximity for sites a box of vertices used
// to miss: a 100 km line bowing 234 m north of its ends, one along 80°N
// bowing 4 km, and a site cut at the antimeridian into parts on both
// sides, from either side. Distances are GeographicLib's.
func TestProximityEverywhere(t *testing.T) {
	const layer = `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"hv-line","geometry":{"type":"LineString","coordinates":[[30,50],[31.398,50]]}},
{"type":"Feature","id":"arctic-line","geometry":{"type":"LineString","coordinates":[[20,80],[30,80]]}},
{"type":"Feature","id":"island","geometry":{"type":"MultiPolygon","coordinates":[
 [[[179,10],[180,10],[180,11],[179,11],[179,10]]],[[[-180,10],[-179,10],[-179,11],[-180,11],[-180,10]]]]}}]}`
	l, err := geojson.DecodeLayer("energy", "energy.geojson", strings.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(l)
	if err != nil {
		t.Fatal(err)
	}
	current := new(atomic.Pointer[geo.Index])
	current.Store(ix)
	f := &fixture{ix: ix, current: current, e: server.New(server.Config{Index: current, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})}
	tests := []struct {
		query  string
		id     string
		meters float64
	}{
		{"lon=30.699&lat=50.0039&radius=300", "hv-line", 199.6095},
		{"lon=25&lat=80.05&radius=1500", "arctic-line", 1418.448},
		{"lon=179.5&lat=10.5&radius=1", "island", 0},
		{"lon=-179.5&lat=10.5&radius=1", "island", 0},
		{"lon=179.99&lat=11.01&radius=1200", "island", 1104.3444},
		{"lon=-179.99&lat=11.01&radius=1200", "island", 1104.3444},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rec := f.get(t, "/proximity?"+tt.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			features, _ := decode(t, rec.Body.Bytes())["features"].([]any)
			if len(features) != 1 {
				t.Fatalf("%d sites, want %s alone: %s", len(features), tt.id, rec.Body)
			}
			site := features[0].(map[string]any)
			props := site["properties"].(map[string]any)
			if site["id"] != tt.id || math.Abs(props["distance_m"].(float64)-tt.meters) > 0.01 {
				t.Errorf("site %v at %v m, want %s at %.4f m", site["id"], props["distance_m"], tt.id, tt.meters)
			}
		})
	}
}
