package geo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// Search calls fn with the index of every feature whose real geometry
// intersects the box (touching counts), until fn returns false. The R-tree
// only proposes candidates by envelope; each is then tested exactly, in
// plain longitude/latitude as OGC bbox filters are. Order is unspecified.
func (l *Layer) Search(b BBox, fn func(i int) bool) {
	l.search(b, visitor{index: fn})
}

// SearchEnvelopes is Search that also gives each feature's envelope as the
// R-tree holds it: rounded outward to float32 (within about 2e-6° of the
// exact one), so it always holds the geometry, and costs nothing to get.
func (l *Layer) SearchEnvelopes(b BBox, fn func(i int, envelope orb.Bound) bool) {
	l.search(b, visitor{envelope: fn})
}

// visitor holds the function given to Search or to SearchEnvelopes, one of
// the two. The search calls it directly: adapting one to the other instead
// costs a call more for every feature found.
type visitor struct {
	index    func(i int) bool
	envelope func(i int, envelope orb.Bound) bool
}

func (l *Layer) search(b BBox, v visitor) {
	parts := b.parts()
	for k, part := range parts {
		more := true
		lo, hi := box32(part)
		l.tree.Search(lo, hi, func(lo, hi [2]float32, at int32) bool {
			// An envelope inside the box needs no look at the geometry, nor
			// does one that shows its feature crosses into the box.
			if !geodesy.Within(bound64(lo, hi), part) && !l.crosses(at, lo, hi, part) && !l.meets(at, part) {
				return true
			}
			// A feature touching both halves of a split box is reported once.
			if k == 1 && intersects(l.geometry(at), parts[0]) {
				return true
			}
			if v.index != nil {
				more = v.index(int(l.order[at]))
			} else {
				more = v.envelope(int(l.order[at]), bound64(lo, hi))
			}
			return more
		})
		if !more {
			return
		}
	}
}

// Count is the number of features Search would report.
func (l *Layer) Count(b BBox) int {
	n := 0
	l.Search(b, func(int) bool { n++; return true })
	return n
}

// meets is meets for the feature at position at, reading a line's or a
// polygon's only ring straight from the layer's coordinates.
func (l *Layer) meets(at int32, b orb.Bound) bool {
	g := int(at) - len(l.points)
	if g < 0 {
		return b.Contains(l.points[at])
	}
	run, ok := l.run(g)
	if !ok {
		return meets(l.geoms[g], b)
	}
	if spans := l.spansOf(g, run); spans != nil {
		// A long line, tested only along the spans whose envelopes meet
		// the box: a box meets few of them.
		for k := range spans {
			from := k * geodesy.SpanVertices
			if spans[k].Intersects(b) && lineMeetsBound(run[from:min(from+geodesy.SpanVertices+1, len(run))], b) {
				return true
			}
		}
		return false
	}
	if lineMeetsBound(run, b) {
		return true
	}
	// Only then is the geometry read, which is a cache miss of its own.
	_, polygon := l.geoms[g].(orb.Polygon)
	return polygon && planar.RingContains(run, b.Min)
}

// crosses reports, from the R-tree's envelope lo–hi of the feature at
// position at alone, that the feature meets b: the feature is plain (see
// Layer.plain), and its envelope lies within b's span on one axis and
// overlaps it on the other. Then every vertex lies within the first span,
// and either a vertex at an end of the second axis lies in b, or the path
// runs from one side of b to the other, and meets it on the way. Lines
// and polygons at a box's edge, the only ones a search must test, are
// mostly such. Whether a feature is plain is found the first time a search
// asks, from its vertices, and kept.
func (l *Layer) crosses(at int32, lo, hi [2]float32, b orb.Bound) bool {
	if !(inside(lo[1], hi[1], b.Min[1], b.Max[1]) && overlaps(lo[0], hi[0], b.Min[0], b.Max[0]) ||
		inside(lo[0], hi[0], b.Min[0], b.Max[0]) && overlaps(lo[1], hi[1], b.Min[1], b.Max[1])) {
		return false
	}
	g := int(at) - len(l.points)
	if g < 0 {
		return false
	}
	word, shift := &l.plain[g/32], 2*(g%32)
	if bits := word.Load() >> shift; bits&1 != 0 {
		return bits&2 != 0
	}
	plain := false
	// One path: a line, or a polygon with no holes.
	if run, ok := l.run(g); ok && len(run) > 0 {
		vlo, vhi := box32(orb.LineString(run).Bound())
		plain = vlo == lo && vhi == hi
	}
	seen := uint64(1)
	if plain {
		seen |= 2
	}
	word.Or(seen << shift)
	return plain
}

// inside reports whether [lo, hi] lies within [min, max].
func inside(lo, hi float32, min, max float64) bool {
	return float64(lo) >= min && float64(hi) <= max
}

// overlaps reports whether the interval that [lo, hi] was rounded outward
// from (see box32) surely overlaps [min, max]: it begins before the float32
// after lo, and ends after the one before hi.
func overlaps(lo, hi float32, min, max float64) bool {
	return float64(math.Nextafter32(lo, float32(math.Inf(1)))) <= max &&
		float64(math.Nextafter32(hi, float32(math.Inf(-1)))) >= min
}

// intersects reports whether geometry g meets bound b.
func intersects(g orb.Geometry, b orb.Bound) bool {
	gb := g.Bound()
	if !gb.Intersects(b) {
		return false
	}
	return geodesy.Within(gb, b) || meets(g, b)
}

// meets reports whether geometry g meets bound b, looking at every part.
func meets(g orb.Geometry, b orb.Bound) bool {
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if b.Contains(p) {
				return true
			}
		}
		return false
	case orb.LineString:
		return lineMeetsBound(g, b)
	case orb.MultiLineString:
		for _, l := range g {
			if lineMeetsBound(l, b) {
				return true
			}
		}
		return false
	case orb.Polygon:
		return polygonMeetsBound(g, b)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygonMeetsBound(p, b) {
				return true
			}
		}
		return false
	case orb.Collection:
		for _, c := range g {
			if intersects(c, b) {
				return true
			}
		}
	}
	return false
}

// lineMeetsBound reports whether a vertex of l lies in b or an edge
// crosses it. An edge whose ends both lie beyond the same side of the box
// cannot meet it: their outcodes share a bit, and only the other edges are
// clipped, few of a line that crosses the box's edge or passes by.
func lineMeetsBound(l []orb.Point, b orb.Bound) bool {
	var prev uint8
	for i, p := range l {
		code := outcode(p, b)
		if code == 0 {
			return true
		}
		if i > 0 && code&prev == 0 && segmentMeetsBound(l[i-1], p, b) {
			return true
		}
		prev = code
	}
	return false
}

// outcode says which sides of b p lies beyond: left, right, below, above,
// a bit each (Cohen–Sutherland); 0 when b contains p. A NaN coordinate
// lies beyond both sides of its axis, as b.Contains does not hold it.
func outcode(p orb.Point, b orb.Bound) uint8 {
	var code uint8
	if !(p[0] >= b.Min[0]) {
		code |= 1
	}
	if !(p[0] <= b.Max[0]) {
		code |= 2
	}
	if !(p[1] >= b.Min[1]) {
		code |= 4
	}
	if !(p[1] <= b.Max[1]) {
		code |= 8
	}
	return code
}

// polygonMeetsBound: an edge crosses the box, or the box lies inside the
// polygon (then its corner does too, and is not in a hole).
func polygonMeetsBound(p orb.Polygon, b orb.Bound) bool {
	for _, r := range p {
		if lineMeetsBound(r, b) {
			return true
		}
	}
	return planar.PolygonContains(p, b.Min)
}

// segmentMeetsBound clips segment a–b against the box (Liang–Barsky).
func segmentMeetsBound(a, b orb.Point, box orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := b[0]-a[0], b[1]-a[1]
	clip := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return false
			}
			t0 = max(t0, r)
		} else {
			if r < t0 {
				return false
			}
			t1 = min(t1, r)
		}
		return true
	}
	return clip(-dx, a[0]-box.Min[0]) && clip(dx, box.Max[0]-a[0]) &&
		clip(-dy, a[1]-box.Min[1]) && clip(dy, box.Max[1]-a[1]) && t0 <= t1
}
