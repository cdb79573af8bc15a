package tile

import (
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

// drawOne renders a layer of the single feature g at tile tl and returns
// the decoded geometry of each MVT feature.
func drawOne(t *testing.T, tl maptile.Tile, g orb.Geometry) []orb.Geometry {
	t.Helper()
	l, err := geo.NewLayer("one", "one", []geo.Feature{{ID: "g", Geometry: g}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := Render(l, uint32(tl.Z), tl.X, tl.Y)
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		return nil
	}
	var out []orb.Geometry
	for _, f := range decode(t, body).Features {
		if f.ID != float64(1) || f.Properties["id"] != "g" {
			t.Errorf("feature %v %v", f.ID, f.Properties)
		}
		out = append(out, f.Geometry)
	}
	return out
}

// inTile maps tile units to lon/lat of tl.
func inTile(tl maptile.Tile, pts ...orb.Point) []orb.Point {
	out := make([]orb.Point, len(pts))
	for i, p := range pts {
		out[i] = toLonLat(tl, p)
	}
	return out
}

// TestWinding: MVT wants exteriors with positive area in tile units
// (clockwise on screen) and holes negative, whatever the source's
// winding; orb's decoder, which relies on it, then sees one polygon with
// its hole, not two polygons.
func TestWinding(t *testing.T) {
	tl := maptile.At(orb.Point{30.5, 50.4}, 12)
	outer := inTile(tl, orb.Point{500, 500}, orb.Point{3500, 500}, orb.Point{3500, 3500}, orb.Point{500, 3500}, orb.Point{500, 500})
	hole := inTile(tl, orb.Point{1000, 1000}, orb.Point{1000, 2000}, orb.Point{2000, 2000}, orb.Point{2000, 1000}, orb.Point{1000, 1000})
	reversed := func(pts []orb.Point) orb.Ring {
		r := orb.Ring(append([]orb.Point(nil), pts...))
		r.Reverse()
		return r
	}
	for _, c := range []struct {
		name string
		p    orb.Polygon
	}{
		{"as drawn", orb.Polygon{outer, hole}},
		{"reversed", orb.Polygon{reversed(outer), reversed(hole)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := drawOne(t, tl, c.p)
			if len(got) != 1 {
				t.Fatalf("%d features", len(got))
			}
			p, ok := got[0].(orb.Polygon)
			if !ok || len(p) != 2 {
				t.Fatalf("decoded %T %v, want a polygon with one hole", got[0], got[0])
			}
			if p[0].Orientation() != orb.CCW || p[1].Orientation() != orb.CW {
				t.Errorf("exterior %v, hole %v: want positive then negative area", p[0].Orientation(), p[1].Orientation())
			}
		})
	}
}

// TestClipping: what leaves the tile is cut at the buffer's edge, into
// as many parts as it enters; what covers the tile is the buffered tile.
func TestClipping(t *testing.T) {
	tl := maptile.At(orb.Point{30.5, 50.4}, 12)
	lo, hi := float64(-bufferUnits), float64(Extent+bufferUnits)
	inBuffer := func(g orb.Geometry) bool {
		b := g.Bound()
		return b.Min[0] >= lo && b.Min[1] >= lo && b.Max[0] <= hi && b.Max[1] <= hi
	}
	t.Run("a line leaving and entering twice", func(t *testing.T) {
		zigzag := orb.LineString(inTile(tl, orb.Point{-2000, 1000}, orb.Point{1000, 1000}, orb.Point{1000, -2000},
			orb.Point{3000, -2000}, orb.Point{3000, 3000}, orb.Point{6000, 3000}))
		got := drawOne(t, tl, zigzag)
		mls, ok := got[0].(orb.MultiLineString)
		if len(got) != 1 || !ok || len(mls) != 2 {
			t.Fatalf("decoded %v, want two parts", got)
		}
		if !inBuffer(mls) {
			t.Errorf("parts %v leave the buffered tile", mls)
		}
		if d := farthestVertex(tl, mls, zigzag, simplifyUnits); d > pixelUnits {
			t.Errorf("a vertex is %.1f units from the line", d)
		}
	})
	t.Run("an area covering the tile", func(t *testing.T) {
		big := orb.Polygon{orb.Ring(inTile(tl, orb.Point{-9000, -9000}, orb.Point{-9000, 9000}, orb.Point{9000, 9000}, orb.Point{9000, -9000}, orb.Point{-9000, -9000}))}
		got := drawOne(t, tl, big)
		p, ok := got[0].(orb.Polygon)
		if len(got) != 1 || !ok || len(p) != 1 {
			t.Fatalf("decoded %v", got)
		}
		if b := p.Bound(); b != (orb.Bound{Min: orb.Point{lo, lo}, Max: orb.Point{hi, hi}}) {
			t.Errorf("clipped to %v, want the buffered tile", b)
		}
	})
}

// TestSmallShapes: what snapping would wear away stays as what is left
// of it: a sliver as a line, a speck as a point, and a collection as its
// members.
func TestSmallShapes(t *testing.T) {
	tl := maptile.At(orb.Point{30.5, 50.4}, 12)
	for _, c := range []struct {
		name string
		g    orb.Geometry
		want []string
	}{
		{"speck", orb.Polygon{inTile(tl, orb.Point{100, 100}, orb.Point{100.3, 100}, orb.Point{100.3, 100.3}, orb.Point{100, 100})}, []string{"Point"}},
		{"sliver", orb.Polygon{inTile(tl, orb.Point{100, 100}, orb.Point{900, 100.2}, orb.Point{900, 100.4}, orb.Point{100, 100})}, []string{"LineString"}},
		{"short line", orb.LineString(inTile(tl, orb.Point{100, 100}, orb.Point{100.4, 100.2})), []string{"Point"}},
		{"collection", orb.Collection{
			orb.Point(inTile(tl, orb.Point{10, 10})[0]),
			orb.LineString(inTile(tl, orb.Point{100, 100}, orb.Point{400, 100})),
		}, []string{"Point", "LineString"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var types []string
			for _, g := range drawOne(t, tl, c.g) {
				types = append(types, g.GeoJSONType())
				if d := farthestVertex(tl, g, c.g, simplifyUnits); d > pixelUnits {
					t.Errorf("%s: a vertex is %.1f units from the source", g.GeoJSONType(), d)
				}
			}
			if !slices.Equal(types, c.want) {
				t.Errorf("drawn as %v, want %v", types, c.want)
			}
		})
	}
}

// TestLongEdges: an edge spanning tens of degrees is drawn along its course
// straight in longitude/latitude, as RFC 7946 and the bbox search read
// it, not along the chord between its projected ends, which strays from
// it by many pixels in the tiles of low zoom that hold its middle.
func TestLongEdges(t *testing.T) {
	line := orb.LineString{{10, 35}, {50, 65}}
	area := orb.Polygon{{{10, 35}, {50, 35}, {50, 65}, {10, 35}}}
	for z := maptile.Zoom(0); z <= 10; z++ {
		for _, g := range []orb.Geometry{line, area} {
			tl := maptile.At(orb.Point{30, 50}, z)
			got := drawOne(t, tl, g)
			if len(got) != 1 {
				t.Fatalf("zoom %d %s: %d features", z, g.GeoJSONType(), len(got))
			}
			// Simplification may stray a quarter pixel, snapping half a unit.
			if d := farthestVertex(tl, got[0], g, simplifyUnits); d > simplifyUnits+1 {
				t.Errorf("zoom %d %s: %.1f units from its course", z, g.GeoJSONType(), d)
			}
		}
	}
}
