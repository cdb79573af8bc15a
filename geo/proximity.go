package geo

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
)

// MaxRadiusMeters is the largest radius Nearby accepts.
const MaxRadiusMeters = 200_000

// Hit is a protected site near a query point.
type Hit struct {
	Layer   *Layer
	Feature *Feature
	// Index is the feature's position in its layer.
	Index int
	// Meters is the geodesic distance on WGS84 from the query point to the
	// nearest point of the feature's geometry; 0 inside a polygon or on a line.
	Meters float64
	// Nearest is that nearest point; the query point itself when Meters is 0.
	Nearest orb.Point
	// Bearing is the forward azimuth at the query point towards Nearest, in
	// degrees clockwise from north in [0, 360); NaN when Meters is 0.
	Bearing float64
}

// Nearby returns the features of the named layers (all when none are named)
// whose geometry lies within meters of p, nearest first, at most limit of
// them. Distances are exact geodesic distances to the real geometry.
func (ix *Index) Nearby(p orb.Point, meters float64, limit int, layers ...string) ([]Hit, error) {
	if !(meters >= 0 && meters <= MaxRadiusMeters) {
		return nil, fmt.Errorf("%w: radius %v m outside [0, %d]", ErrBadQuery, meters, MaxRadiusMeters)
	}
	return ix.nearest(p, meters, limit, layers)
}

// Nearest returns the k features of the named layers (all when none are
// named) nearest to p, whatever their distance, nearest first.
func (ix *Index) Nearest(p orb.Point, k int, layers ...string) ([]Hit, error) {
	return ix.nearest(p, math.Inf(1), k, layers)
}

func (ix *Index) nearest(p orb.Point, meters float64, limit int, names []string) ([]Hit, error) {
	if err := validPoint(p); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("%w: limit %d must be at least 1", ErrBadQuery, limit)
	}
	ls, err := ix.pick(names)
	if err != nil {
		return nil, err
	}
	q := queries.Get().(*query)
	defer queries.Put(q)
	q.m.reset(p)
	q.radius, q.limit, q.hits = meters, limit, q.hits[:0]
	for _, l := range ls {
		q.layer(l)
	}
	hits := slices.Clone(q.hits)
	slices.SortFunc(hits, func(a, b Hit) int {
		if a.less(&b) {
			return -1
		}
		return 1
	})
	for i := range hits {
		hits[i].Feature = &hits[i].Layer.features[hits[i].Index]
	}
	return hits, nil
}

func validPoint(p orb.Point) error {
	if !(p[0] >= -180 && p[0] <= 180) {
		return fmt.Errorf("%w: longitude %v outside [-180, 180]", ErrBadQuery, p[0])
	}
	if !(p[1] >= -90 && p[1] <= 90) {
		return fmt.Errorf("%w: latitude %v outside [-90, 90]", ErrBadQuery, p[1])
	}
	return nil
}

// less orders hits by distance, then layer and id, so equal distances come
// out the same way every time.
func (h *Hit) less(o *Hit) bool {
	if h.Meters != o.Meters {
		return h.Meters < o.Meters
	}
	if h.Layer.name != o.Layer.name {
		return h.Layer.name < o.Layer.name
	}
	return h.Layer.features[h.Index].ID < o.Layer.features[o.Index].ID
}

// query is one proximity search: a best-first walk of each layer's R-tree in
// which every key is a lower bound, in metres, on the geodesic distance of
// what it stands for. When the smallest key exceeds the current bound (the
// radius, or the limit-th best exact distance) nothing unseen can qualify.
type query struct {
	m       measure
	radius  float64
	limit   int
	hits    []Hit  // heap, worst on top
	pending []cand // heap, smallest lower bound on top: popped from the tree, waiting to be measured exactly
}

// queries recycles query state, whose slices would otherwise be allocated
// anew for every request.
var queries = sync.Pool{New: func() any { return new(query) }}

func worseHit(a, b *Hit) bool      { return b.less(a) }
func smallerLower(a, b *cand) bool { return a.lower < b.lower }

type cand struct {
	lower float64
	index int32
}

func (q *query) bound() float64 {
	if len(q.hits) == q.limit {
		return math.Min(q.radius, q.hits[0].Meters)
	}
	return q.radius
}

func (q *query) layer(l *Layer) {
	q.pending = q.pending[:0]
	f := &q.m.f
	l.tree.Nearby(
		func(lo, hi [2]float32, _ int32, _ bool) float64 {
			return f.lowerBound(&box32{lo[0], lo[1], hi[0], hi[1]})
		},
		func(lo, hi [2]float32, i int32, key float64) bool {
			if !q.drain(l, key) || key > q.bound() {
				return false
			}
			g := l.features[i].Geometry
			far := !f.covers(&box32{lo[0], lo[1], hi[0], hi[1]})
			if _, point := g.(orb.Point); point || far {
				// A point's box key is already tight; far geometries are
				// rare enough to measure exactly at once.
				q.measure(l, i, far)
				return true
			}
			q.pending = heapPush(q.pending, cand{lower: q.m.planarLowerBound(g), index: i}, smallerLower)
			return true
		},
	)
	q.drain(l, math.Inf(1))
}

// drain measures pending candidates whose lower bound is at most key; it
// returns false once nothing pending or unseen can beat the bound.
func (q *query) drain(l *Layer, key float64) bool {
	for len(q.pending) > 0 && q.pending[0].lower <= key {
		var c cand
		c, q.pending = heapPop(q.pending, smallerLower)
		if c.lower > q.bound() {
			return false
		}
		q.measure(l, c.index, false)
	}
	return true
}

func (q *query) measure(l *Layer, i int32, far bool) {
	c := q.m.exact(l.features[i].Geometry, far)
	if c.meters > q.radius {
		return
	}
	h := Hit{Layer: l, Index: int(i), Meters: c.meters, Nearest: c.point, Bearing: c.azimuth}
	if !math.IsNaN(h.Bearing) && h.Bearing < 0 {
		h.Bearing += 360
	}
	if len(q.hits) < q.limit {
		q.hits = heapPush(q.hits, h, worseHit)
	} else if h.less(&q.hits[0]) {
		q.hits[0] = h
		heapDown(q.hits, 0, worseHit)
	}
}
