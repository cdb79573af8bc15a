// Package tile renders protectmap layers as Mapbox Vector Tiles in the
// WebMercatorQuad tiling scheme, on request from the R-tree, and keeps the
// results in a bounded cache.
package tile

import (
	"errors"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"
	"github.com/paulmach/orb/simplify"
	"github.com/protectmap/protectmap/geo"
)

// MaxZoom is the deepest zoom level served.
const MaxZoom = 22

// Extent is the tile's coordinate resolution, MVT's usual 4096 units.
const Extent = mvt.DefaultExtent

// bufferUnits is how far beyond the tile edge geometry is kept, so lines
// and outlines join across tiles without seams (in Extent units).
const bufferUnits = 64

// simplifyUnits is the Douglas-Peucker tolerance in Extent units: a quarter
// of a 256-pixel tile's pixel, so simplified geometry stays within one
// pixel of the original.
const simplifyUnits = 4

// ErrOutOfRange reports z/x/y outside the tile matrix.
var ErrOutOfRange = errors.New("tile: out of range")

// Check reports whether z/x/y names a tile of WebMercatorQuad.
func Check(z, x, y uint32) error {
	if z > MaxZoom {
		return fmt.Errorf("%w: zoom %d above %d", ErrOutOfRange, z, MaxZoom)
	}
	n := uint32(1) << z
	if x >= n || y >= n {
		return fmt.Errorf("%w: at zoom %d x and y run from 0 to %d, got x=%d y=%d", ErrOutOfRange, z, n-1, x, y)
	}
	return nil
}

// Render returns the tile z/x/y of layer l as an uncompressed MVT with one
// layer named after l. Each feature carries its MVT id (its position in the
// layer plus one, since MVT ids are integers) and the properties id (the
// site's id), name and kind. An empty tile is nil.
func Render(l *geo.Layer, z, x, y uint32) ([]byte, error) {
	if err := Check(z, x, y); err != nil {
		return nil, err
	}
	t := maptile.New(x, y, maptile.Zoom(z))
	fc := geojson.NewFeatureCollection()
	for _, part := range searchParts(t) {
		l.Search(part.box, func(i int) bool {
			f := l.Feature(i)
			g := orb.Clone(f.Geometry)
			if part.shift != 0 {
				g = shiftLon(g, part.shift)
			}
			gf := geojson.NewFeature(g)
			gf.ID = i + 1
			gf.Properties["id"] = f.ID
			if f.Name != "" {
				gf.Properties["name"] = f.Name
			}
			if f.Kind != "" {
				gf.Properties["kind"] = f.Kind
			}
			fc.Append(gf)
			return true
		})
	}
	if len(fc.Features) == 0 {
		return nil, nil
	}
	layer := mvt.NewLayer(l.Name(), fc)
	layer.ProjectToTile(t)
	collapseToPoints(layer)
	layer.Clip(orb.Bound{
		Min: orb.Point{-bufferUnits, -bufferUnits},
		Max: orb.Point{Extent + bufferUnits, Extent + bufferUnits},
	})
	// Simplifying can wear a small area down to nothing (mvt.Layer.Simplify
	// would drop it): keep it as a point where it was.
	dp := simplify.DouglasPeucker(simplifyUnits)
	for _, f := range layer.Features {
		if g := dp.Simplify(orb.Clone(f.Geometry)); g != nil && !degenerate(g) {
			f.Geometry = g
		} else {
			f.Geometry = f.Geometry.Bound().Center()
		}
	}
	if len(layer.Features) == 0 {
		return nil, nil
	}
	return mvt.Marshal(mvt.Layers{layer})
}

// collapseToPoints turns lines and areas smaller than one tile unit, which
// clipping and encoding would otherwise drop, into points: at low zoom a
// plant's outline is still on the map, as a dot.
func collapseToPoints(layer *mvt.Layer) {
	for _, f := range layer.Features {
		if f.Geometry == nil || f.Geometry.Dimensions() == 0 {
			continue
		}
		b := f.Geometry.Bound()
		if b.Max[0]-b.Min[0] < 1 && b.Max[1]-b.Min[1] < 1 || degenerate(f.Geometry) {
			f.Geometry = b.Center()
		}
	}
}

// degenerate reports an area with no area or a line with no length left.
func degenerate(g orb.Geometry) bool {
	if g.Bound().IsEmpty() && g.Dimensions() > 0 {
		return true
	}
	switch g.Dimensions() {
	case 1:
		return planar.Length(g) == 0
	case 2:
		return planar.Area(g) == 0
	}
	return false
}

// part is one search box of a tile and the longitude shift that moves what
// it finds next to the tile, for buffers that wrap across ±180°.
type part struct {
	box   geo.BBox
	shift float64
}

func searchParts(t maptile.Tile) []part {
	pad := float64(bufferUnits) / float64(Extent)
	b := t.Bound(pad)
	minLat, maxLat := max(b.Min[1], -90), min(b.Max[1], 90)
	parts := []part{{box: geo.BBox{MinLon: max(b.Min[0], -180), MinLat: minLat, MaxLon: min(b.Max[0], 180), MaxLat: maxLat}}}
	if b.Min[0] < -180 {
		parts = append(parts, part{box: geo.BBox{MinLon: b.Min[0] + 360, MinLat: minLat, MaxLon: 180, MaxLat: maxLat}, shift: -360})
	}
	if b.Max[0] > 180 {
		parts = append(parts, part{box: geo.BBox{MinLon: -180, MinLat: minLat, MaxLon: b.Max[0] - 360, MaxLat: maxLat}, shift: 360})
	}
	return parts
}

func shiftLon(g orb.Geometry, by float64) orb.Geometry {
	return project.Geometry(g, func(p orb.Point) orb.Point { return orb.Point{p[0] + by, p[1]} })
}
