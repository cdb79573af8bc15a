package geo

import (
	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// relocation copies geometries so that their coordinates lie one after the
// other in a single block, in the order they are copied.
type relocation struct {
	points []orb.Point // the block, consumed from the front
}

// RelocatedPoints is the number of positions of g a relocation copies to
// its block: all but those of lone Points, which are boxed on their own.
func RelocatedPoints(g orb.Geometry) int {
	n := 0
	switch g := g.(type) {
	case orb.Point:
	case orb.Collection:
		for _, c := range g {
			n += RelocatedPoints(c)
		}
	default:
		geodesy.VertexRuns(g, func(pts []orb.Point, _ bool) { n += len(pts) })
	}
	return n
}

// geometry returns a copy of g whose coordinates come from the block.
// Point values are boxed afresh, which also places them in copy order.
func (r *relocation) geometry(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		return g
	case orb.MultiPoint:
		return orb.MultiPoint(r.take(g))
	case orb.LineString:
		return orb.LineString(r.take(g))
	case orb.Ring:
		return orb.Ring(r.take(g))
	case orb.MultiLineString:
		return each(g, func(l orb.LineString) orb.LineString { return r.take(l) })
	case orb.Polygon:
		return r.polygon(g)
	case orb.MultiPolygon:
		return each(g, r.polygon)
	case orb.Collection:
		return each(g, r.geometry)
	}
	return g
}

func (r *relocation) polygon(p orb.Polygon) orb.Polygon {
	return each(p, func(ring orb.Ring) orb.Ring { return r.take(ring) })
}

// each returns a new slice holding one applied to every part.
func each[S ~[]E, E any](parts S, one func(E) E) S {
	out := make(S, len(parts))
	for i, p := range parts {
		out[i] = one(p)
	}
	return out
}

// take copies pts to the front of the block; the copy's capacity ends with
// it, so an append to it cannot overwrite the next geometry.
func (r *relocation) take(pts []orb.Point) []orb.Point {
	n := copy(r.points, pts)
	out := r.points[:n:n]
	r.points = r.points[n:]
	return out
}
