// Package tile renders protectmap layers as Mapbox Vector Tiles (MVT 2.1)
// in the WebMercatorQuad tiling scheme, on request from the R-tree, and
// keeps rendered tiles in a bounded cache.
//
// A tile holds one MVT layer named after the protectmap layer, Extent
// (4096) units on a side: a pixel of a 256-pixel tile is 16 units.
// Vertices are projected to Web Mercator and joined by edges straight in
// the projection, as web maps draw them; geometry is clipped to the tile
// plus a buffer of 64 units so lines join without seams, simplified with
// Douglas–Peucker to a quarter pixel and snapped to the integer grid. A
// line or area under one unit across is kept as a point, so at low zoom a
// plant's outline is still on the map as a dot; an area that snapping
// wears down to nothing is kept as its outline or a point.
//
// # Levels of detail
//
// No tile is larger than MaxBytes uncompressed, so the bound holds for
// clients that do not accept gzip too (gzip shrinks tiles two to three
// times more). Render serves the richest of these levels that fits:
//
//  1. Every feature touching the tile or its buffer, with its MVT id (its
//     position in the layer plus one) and the properties id (the site's
//     id), name and kind.
//  2. The same without name.
//  3. The same with kind alone; the MVT id still names every site.
//  4. Aggregated, for tiles with more features than any of the above can
//     carry (a zoom-6 tile over a country of a million sites). Each
//     feature touching the tile whose envelope fits in a cell of one
//     pixel is counted in the cell of its envelope's centre; each occupied
//     cell and kind becomes one point, at the mean of those centres, with
//     properties kind and count. Larger lines and areas stay on their own
//     with their MVT id and properties id and kind, simplified to a
//     quarter of a cell. When that is still too big, cells of 2, 4, …
//     pixels are tried; at 256 pixels one cell is the whole tile and
//     every feature is counted; should even that not fit (thousands of
//     kinds), the kinds are merged.
//
// So every feature touching a tile is in it, on its own or counted in
// exactly one point, and the counts of an aggregated tile add up to the
// features touching that tile. Aggregated tiles have no buffer, so their
// counts cover only features touching them (one touching two tiles is
// counted in each). A client tells aggregate points by their count
// property, which nothing else has.
package tile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

// MaxZoom is the deepest zoom level served.
const MaxZoom = 22

// Extent is the tile's coordinate resolution, MVT's usual 4096 units.
const Extent = 4096

// MaxBytes is the most bytes an uncompressed tile holds.
const MaxBytes = 500_000

// ContentType is the media type of a tile.
const ContentType = "application/vnd.mapbox-vector-tile"

// pixelUnits is one pixel of a 256-pixel tile, in Extent units.
const pixelUnits = Extent / 256

// bufferUnits is how far beyond the tile edge geometry is kept, so lines
// and outlines join across tiles without seams (in Extent units).
const bufferUnits = 64

// simplifyUnits is the Douglas–Peucker tolerance in Extent units: a
// quarter pixel, so simplified geometry stays within one pixel of the
// original after snapping.
const simplifyUnits = pixelUnits / 4

// minFeatureBytes is the least an MVT feature drawn on its own takes: an
// id, a type and a one-point geometry, with their field keys and lengths.
const minFeatureBytes = 11

var (
	// ErrOutOfRange reports z/x/y outside the tile matrix (HTTP 404).
	ErrOutOfRange = errors.New("tile: out of range")
	// ErrBadPath reports a tile path that is not z/x/y numbers (HTTP 400).
	ErrBadPath = errors.New("tile: bad path")
)

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

// ParsePath reads a tile path "z/x/y", optionally ending in ".mvt" or
// ".pbf", as URLs of XYZ tiles write it. Numbers are plain decimal digits.
// A malformed path wraps ErrBadPath; a tile outside the matrix wraps
// ErrOutOfRange.
func ParsePath(path string) (z, x, y uint32, err error) {
	for _, ext := range []string{".mvt", ".pbf"} {
		if p, ok := strings.CutSuffix(path, ext); ok {
			path = p
			break
		}
	}
	parts := strings.Split(path, "/")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("%w: want z/x/y, got %q", ErrBadPath, path)
	}
	var v [3]uint32
	for i, s := range parts {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: %s %q is not a whole number", ErrBadPath, [3]string{"z", "x", "y"}[i], s)
		}
		v[i] = uint32(n)
	}
	if err := Check(v[0], v[1], v[2]); err != nil {
		return 0, 0, 0, err
	}
	return v[0], v[1], v[2], nil
}

// Render returns the tile z/x/y of layer l as an uncompressed MVT with one
// layer named after l, at the richest level of detail that fits MaxBytes
// (see the package documentation). An empty tile is nil.
func Render(l *geo.Layer, z, x, y uint32) ([]byte, error) {
	body, _, err := render(l, z, x, y)
	return body, err
}

// props are the properties features drawn on their own carry.
type props uint8

const (
	propsIDNameKind props = iota
	propsIDKind
	propsKind
)

// detail is a level of detail: the properties of features drawn on their
// own and, when aggregating, the cell size.
type detail struct {
	props      props
	cellPx     int // 0: every feature on its own
	mergeKinds bool
}

func (d detail) last() bool { return d.mergeKinds }

func (d detail) coarser() detail {
	if d.cellPx < 256 {
		d.cellPx *= 2
	} else {
		d.mergeKinds = true
	}
	return d
}

var renderers = sync.Pool{New: func() any { return new(renderer) }}

func render(l *geo.Layer, z, x, y uint32) ([]byte, detail, error) {
	if err := Check(z, x, y); err != nil {
		return nil, detail{}, err
	}
	r := renderers.Get().(*renderer)
	defer renderers.Put(r)
	t := maptile.New(x, y, maptile.Zoom(z))
	r.setTile(t)
	parts := searchParts(t)
	if r.search(l, parts) {
		for _, p := range []props{propsIDNameKind, propsIDKind, propsKind} {
			if body, ok := r.individual(l, parts, p); ok {
				return body, detail{props: p}, nil
			}
		}
	}
	r.touching(l, t)
	for d := (detail{props: propsIDKind, cellPx: 1}); ; d = d.coarser() {
		if body, ok := r.aggregate(l, d); ok {
			return body, d, nil
		}
	}
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

// tileBox is the tile itself, without buffer, as a search box.
func tileBox(t maptile.Tile) geo.BBox {
	b := t.Bound()
	return geo.BBox{MinLon: b.Min[0], MinLat: b.Min[1], MaxLon: b.Max[0], MaxLat: b.Max[1]}
}
