package geo

import (
	"context"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
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
	return ix.NearbyContext(context.Background(), p, meters, limit, layers...)
}

// NearbyContext is Nearby that gives up with ctx's error once ctx is done,
// which it checks every checkEvery candidates it measures.
func (ix *Index) NearbyContext(ctx context.Context, p orb.Point, meters float64, limit int, layers ...string) ([]Hit, error) {
	return ix.AppendNearby(ctx, nil, p, meters, limit, layers...)
}

// AppendNearby is NearbyContext that appends the hits to dst: a server
// answering many queries reuses one slice rather than filling fresh memory
// for each.
func (ix *Index) AppendNearby(ctx context.Context, dst []Hit, p orb.Point, meters float64, limit int, layers ...string) ([]Hit, error) {
	if !(meters >= 0 && meters <= MaxRadiusMeters) {
		return dst, badQuery("radius", "radius %v m outside [0, %d]", meters, MaxRadiusMeters)
	}
	return ix.nearest(ctx, dst, p, meters, limit, layers)
}

// Nearest returns the k features of the named layers (all when none are
// named) nearest to p, whatever their distance, nearest first.
func (ix *Index) Nearest(p orb.Point, k int, layers ...string) ([]Hit, error) {
	return ix.NearestContext(context.Background(), p, k, layers...)
}

// NearestContext is Nearest that gives up with ctx's error once ctx is
// done, which it checks every checkEvery candidates it measures.
func (ix *Index) NearestContext(ctx context.Context, p orb.Point, k int, layers ...string) ([]Hit, error) {
	return ix.AppendNearest(ctx, nil, p, k, layers...)
}

// AppendNearest is NearestContext that appends the hits to dst, as
// AppendNearby does.
func (ix *Index) AppendNearest(ctx context.Context, dst []Hit, p orb.Point, k int, layers ...string) ([]Hit, error) {
	return ix.nearest(ctx, dst, p, math.Inf(1), k, layers)
}

// checkEvery is how many candidates a search measures between looks at
// its context: tens of microseconds of work, against a look that takes a
// lock.
const checkEvery = 256

func (ix *Index) nearest(ctx context.Context, dst []Hit, p orb.Point, meters float64, limit int, names []string) ([]Hit, error) {
	if err := validPoint(p); err != nil {
		return dst, err
	}
	if limit < 1 {
		return dst, badQuery("limit", "limit %d must be at least 1", limit)
	}
	var picked [8]*Layer
	ls, err := ix.pick(picked[:0], names)
	if err != nil {
		return dst, err
	}
	q := queries.Get().(*query)
	defer queries.Put(q)
	q.m.Reset(p)
	q.radius, q.limit, q.bound, q.hits = meters, limit, meters, q.hits[:0]
	q.ctx, q.measured, q.err = ctx, 0, nil
	defer func() { q.ctx = nil }() // pooled: hold no request's context
	for _, l := range ls {
		if q.layer(l); q.err != nil {
			return dst, q.err
		}
	}
	// Positions become indexes in a loop of their own: the hits' entries
	// of order lie scattered, and with nothing between them the CPU
	// fetches them at once, where a loop that also sorted or measured
	// would wait for each in turn.
	for k := range q.hits {
		h := &q.hits[k].Hit
		h.Index = int(h.Layer.order[h.Index])
		h.Feature = &h.Layer.features[h.Index]
	}
	// The hits are sorted by their places in q.hits: a ranked hit is 120
	// bytes, which sorting the hits themselves moves several times over.
	q.sorted = q.sorted[:0]
	for k := range q.hits {
		q.sorted = append(q.sorted, int32(k))
	}
	slices.SortFunc(q.sorted, func(a, b int32) int {
		switch {
		case a == b:
			return 0
		case q.hits[a].less(&q.hits[b].Hit):
			return -1
		}
		return 1 // hits are distinct features, never equal
	})
	hits := slices.Grow(dst, len(q.hits))
	if hits == nil {
		hits = []Hit{} // none found: an empty list, which encodes as [] rather than null
	}
	for _, k := range q.sorted {
		hits = append(hits, q.hits[k].Hit)
		hits[len(hits)-1].Bearing = q.m.Azimuth(q.hits[k].at)
	}
	return hits, nil
}

func validPoint(p orb.Point) error {
	if !(p[0] >= -180 && p[0] <= 180) {
		return badQuery("lon", "longitude %v outside [-180, 180]", p[0])
	}
	if !(p[1] >= -90 && p[1] <= 90) {
		return badQuery("lat", "latitude %v outside [-90, 90]", p[1])
	}
	return nil
}

// less orders hits by distance, then layer and id, so equal distances come
// out the same way every time.
func (h *Hit) less(o *Hit) bool { return h.precedes(o, (*Hit).id) }

// precedes is less with the feature's id given by id.
func (h *Hit) precedes(o *Hit, id func(*Hit) string) bool {
	if h.Meters != o.Meters {
		return h.Meters < o.Meters
	}
	if h.Layer.name != o.Layer.name {
		return h.Layer.name < o.Layer.name
	}
	return id(h) < id(o)
}

func (h *Hit) id() string { return h.Layer.features[h.Index].ID }

// idAt is the id of a hit whose Index is still a position (see Layer.order),
// as while a query runs: only the hits it returns need their index.
func (h *Hit) idAt() string { return h.Layer.features[h.Layer.order[h.Index]].ID }

// query is one proximity search over each layer in turn. Every candidate
// carries a lower bound, in metres, on its geodesic distance; candidates are
// measured exactly in order of their bounds, and a layer is done when the
// smallest bound left exceeds the current bound (the radius, or the
// limit-th best exact distance).
//
// A layer is first searched in a box around the query point that holds
// every point within some distance r of it (the box stage): that costs a
// plain R-tree box search, without the priority queue of a best-first walk.
// If the limit-th distance found turns out no greater than r, every site
// that could beat it lay in the box. Otherwise r grows, and after a few
// tries the R-tree is walked best-first with its Nearby, keyed by a lower
// bound on every node box; what the box stage handled is skipped.
type query struct {
	m       geodesy.Measure
	radius  float64
	limit   int
	bound   float64  // the radius, or the limit-th best distance once hits is full
	hits    []ranked // heap, worst on top
	pending candHeap // waiting to be refined or measured, keyed into cands
	cands   []cand
	// Candidates whose box meets done and whose box bound is at most
	// doneMeters were dealt with by the box stage.
	done       orb.Bound
	doneMeters float64
	// ctx ends the search early with err; measured counts the candidates
	// taken, to look at ctx every checkEvery of them.
	ctx      context.Context
	measured int
	err      error
	// sorted is the order of hits once the search is done.
	sorted []int32
}

// queries recycles query state, whose slices would otherwise be allocated
// anew for every request.
var queries = sync.Pool{New: func() any { return new(query) }}

// ranked is a hit while its query runs, with the measurement its bearing
// is worked out from once it is among those returned.
type ranked struct {
	Hit
	at geodesy.Closest
}

func worseHit(a, b *ranked) bool { return b.precedes(&a.Hit, (*Hit).idAt) }

// cand is a feature (its position, see Layer.order) waiting in the pending
// heap, which holds only its lower bound and its place in q.cands: a heap
// of whole cands moved two and a half times the bytes. Its first lower
// bound is its envelope's; lines and polygons near the query point are
// then refined by their edges (refined), and the edges that may hold their
// nearest point wait in q.m.cands[from:to], none when the query point lies
// inside.
type cand struct {
	lo, hi   [2]float32 // the envelope, as the R-tree holds it
	index    int32
	from, to int32
	refined  bool
}

// boxStageTries is how many growing boxes are searched before the
// best-first walk takes over.
const boxStageTries = 3

func (q *query) layer(l *Layer) {
	q.pending, q.cands, q.m.Cands = q.pending[:0], q.cands[:0], q.m.Cands[:0]
	q.doneMeters = -1
	if q.boxStage(l) {
		return
	}
	f := &q.m.Frame
	l.tree.Nearby(
		func(lo, hi [2]float32, _ int32, item bool) float64 {
			b := bound64(lo, hi)
			key := f.LowerBound(&b)
			// Infinity keeps an entry at the bottom of the queue: it cannot
			// qualify (the bound only shrinks) or was measured already.
			if key > q.bound || item && q.handled(key, &b) {
				return math.Inf(1)
			}
			return key
		},
		func(lo, hi [2]float32, i int32, key float64) bool {
			if math.IsInf(key, 1) {
				return false
			}
			q.push(key, cand{lo: lo, hi: hi, index: i})
			return q.drain(l, key)
		},
	)
	q.drain(l, math.Inf(1))
}

// handled reports whether the box stage dealt with a feature whose
// envelope b has the lower bound key.
func (q *query) handled(key float64, b *orb.Bound) bool {
	return key <= q.doneMeters && b.Intersects(q.done)
}

// boxStage searches growing boxes around the query point. It reports
// whether the layer is done.
func (q *query) boxStage(l *Layer) bool {
	f := &q.m.Frame
	// Start where limit sites are expected at the local density. A wider
	// first box would spare the quarter of queries that need a second one,
	// but cost the rest more than it saves.
	meters := min(q.bound, l.density.reach(f, q.limit))
	for range boxStageTries {
		found := len(q.cands)
		box, ok := f.Around(meters)
		if !ok {
			return false
		}
		lo, hi := box32(box)
		l.tree.Search(lo, hi, func(lo, hi [2]float32, i int32) bool {
			b := bound64(lo, hi)
			key := f.LowerBound(&b)
			if key > meters || key > q.bound || q.handled(key, &b) {
				return true
			}
			q.push(key, cand{lo: lo, hi: hi, index: i})
			return true
		})
		touchGeometries(l, q.cands[found:])
		q.drain(l, math.Inf(1))
		// Whatever is left lies outside the box or has a bound above
		// meters, so it is farther than meters.
		if q.bound <= meters || q.err != nil {
			return true
		}
		q.done, q.doneMeters = box, meters
		// Grow to where limit sites are expected at the density of the
		// layer's sites found within meters, and a fifth more. Most boxes
		// that fall short hold most of limit already, so a fixed doubling
		// would search four times the area where half as much again does.
		within := 0
		for k := range q.hits {
			if h := &q.hits[k]; h.Layer == l && h.Meters <= meters {
				within++
			}
		}
		grow := 1.2 * math.Sqrt(float64(q.limit)/float64(max(within, 1)))
		meters = min(q.bound, meters*min(max(grow, 1.25), 8))
	}
	return false
}

// drain takes pending candidates whose lower bound is at most key, in
// order, refining or measuring each; it returns false once nothing pending
// or unseen can beat the bound.
func (q *query) drain(l *Layer, key float64) bool {
	for len(q.pending) > 0 && q.pending[0].lower <= key {
		if q.measured++; q.measured%checkEvery == 0 {
			if q.err = q.ctx.Err(); q.err != nil {
				q.pending = q.pending[:0]
				return false
			}
		}
		top := q.pending.pop()
		if top.lower > q.bound {
			q.pending = q.pending[:0]
			return false
		}
		c := &q.cands[top.at]
		// A point's envelope bound is already tight.
		if int(c.index) < len(l.points) {
			q.record(l, c.index, q.m.ToPoint(l.points[c.index]))
			continue
		}
		if c.refined {
			q.record(l, c.index, q.m.ClosestOf(q.m.Cands[c.from:c.to], c.from == c.to))
			continue
		}
		at := int(c.index) - len(l.points)
		box := bound64(c.lo, c.hi)
		if !q.m.Frame.Covers(&box) {
			// Geometries the frame does not cover are rare enough to
			// measure exactly at once.
			q.record(l, c.index, q.m.Exact(l.geoms[at], &box, true))
			continue
		}
		c.from = int32(len(q.m.Cands))
		var lower float64
		// Only a polygon whose envelope holds the query point may hold
		// the point itself, which only its geometry tells; a polygon's
		// ring is closed, so an open path is read from the block alone.
		run, ok := l.run(at)
		if ok && !(run[0] == run[len(run)-1] && box.Contains(q.m.Frame.Center())) {
			if spans := l.spansOf(at, run); spans != nil {
				lower = q.m.LineEdges(run, spans)
			} else {
				lower = q.m.PathEdges(run)
			}
		} else {
			lower, _ = q.m.Edges(l.geoms[at], &box, false)
		}
		c.to, c.refined = int32(len(q.m.Cands)), true
		q.pending.push(pendingCand{lower: lower, at: top.at})
	}
	return true
}

// record keeps the feature at position at, measured, if it is among the
// limit nearest.
func (q *query) record(l *Layer, at int32, c geodesy.Closest) {
	if c.Meters > q.radius {
		return
	}
	h := ranked{Hit{Layer: l, Index: int(at), Meters: c.Meters, Nearest: c.Point}, c}
	if len(q.hits) < q.limit {
		q.hits = heapPush(q.hits, h, worseHit)
	} else if worseHit(&q.hits[0], &h) {
		q.hits[0] = h
		heapDown(q.hits, 0, worseHit)
	} else {
		return
	}
	if len(q.hits) == q.limit {
		q.bound = min(q.radius, q.hits[0].Meters)
	}
}

// push adds c, whose lower bound is lower, to the pending candidates.
func (q *query) push(lower float64, c cand) {
	q.cands = append(q.cands, c)
	q.pending.push(pendingCand{lower: lower, at: int32(len(q.cands) - 1)})
}

// touchGeometries reads the vertices of each pending site, one in each
// cache line they span (only the first of a long line's, most of which a
// search skips). Candidates lie scattered over a large layer, so those
// reads mostly miss the CPU caches; with nothing between them the CPU
// waits for many at once, where measuring would wait for each in turn.
func touchGeometries(l *Layer, pending []cand) {
	const perLine = 4 // 16-byte points in a 64-byte cache line
	var x float64
	for _, c := range pending {
		at := int(c.index) - len(l.points)
		if at < 0 {
			x += l.points[c.index][0]
			continue
		}
		from, to := int(l.vertex[at]&^manyRuns), int(l.vertex[at+1]&^manyRuns)
		if to-from > 4*geodesy.SpanVertices {
			to = from + 1
		}
		for k := from; k < to; k += perLine {
			x += l.coords[k][0]
		}
		if to > from {
			x += l.coords[to-1][0]
		}
	}
	keep(x)
}
