package tile

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

// TestSharedLayerTiles renders real layers with long edges, OpenStreetMap's
// high-voltage lines (one straight span of up to 100 km per feature) and
// the oblasts' simplified outlines, at z0–z18, in the tiles holding the
// middle of their longest edges: where a line passes through a tile
// without a vertex in it, and where a projected edge bends away from its
// chord by far more than a pixel.
func TestSharedLayerTiles(t *testing.T) {
	for _, c := range []struct{ name, rel string }{
		{"grid", "osm_hv_grid_2016/hv_lines_ukraine_bbox.geojson"},
		{"oblasts", "boundaries/geoBoundaries-UKR-ADM1_simplified.geojson"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := geojson.LoadFile(c.name, testenv.SharedData(t, c.rel))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range longestEdgeMiddles(l, 4) {
				for z := maptile.Zoom(0); z <= 18; z++ {
					if checkTile(t, l, maptile.At(p, z)) == 0 {
						t.Fatalf("zoom %d: nothing at %v, the middle of an edge", z, p)
					}
				}
			}
		})
	}
}

// longestEdgeMiddles returns the middles, in longitude/latitude, of the n
// edges of l spanning most latitude.
func longestEdgeMiddles(l *geo.Layer, n int) []orb.Point {
	type edge struct {
		span float64
		mid  orb.Point
	}
	var edges []edge
	for i := range l.Len() {
		geodesy.VertexRuns(l.Feature(i).Geometry, func(pts []orb.Point, _ bool) {
			for k := 1; k < len(pts); k++ {
				a, b := pts[k-1], pts[k]
				edges = append(edges, edge{math.Abs(b[1] - a[1]), orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}})
			}
		})
	}
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Compare(b.span, a.span) })
	var out []orb.Point
	for _, e := range edges[:min(n, len(edges))] {
		out = append(out, e.mid)
	}
	return out
}
