package geo

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/tidwall/rtree"
)

// Feature is one protected site: a stable id, its geometry and its
// properties exactly as given (compact JSON, key order kept).
type Feature struct {
	// ID is unique within the feature's layer; see geojson.DecodeLayer for how it is chosen.
	ID string
	// Geometry is the site's real geometry in longitude/latitude degrees.
	Geometry orb.Geometry
	// Properties is the feature's properties object as compact JSON, or nil.
	Properties json.RawMessage
	// Name and Kind are the `name` and `kind` properties when they are strings.
	Name, Kind string
}

// Layer is a named, immutable collection of features with its own R-tree.
// Feature order is the order of the source file, which gives paging a stable
// order for a given data version.
type Layer struct {
	name     string
	source   string
	features []Feature
	byID     []int32 // feature indexes sorted by ID
	// order lists the features by position: first the Points, then the
	// rest, each along a Hilbert curve through their envelopes, so sites
	// near each other are near each other in memory. points holds the
	// Points' positions and geoms the others' geometries (geoms[0] is at
	// position len(points)): a Point is read in one step.
	order  []int32
	points []orb.Point
	geoms  []orb.Geometry
	// coords holds the vertices of the geometries in geoms, one geometry
	// after another in that order; vertex[g] is where the g-th begins, its
	// manyRuns bit set unless its vertices form one path (see run).
	coords []orb.Point
	vertex []int32
	// spans holds the geodesy.SpanEnvelopes of the long lines in geoms,
	// by their index there, so a proximity search measures the spans near
	// its point and not a whole line hundreds of kilometres long.
	spans map[int32][]orb.Bound
	// plain holds two bits for each geometry in geoms, by its index
	// there: whether a search has looked, and whether its R-tree envelope
	// is its vertices' own box rounded outward, with no geodesic bulge or
	// wrap widening it (see Layer.crosses). Searches set them as they go.
	plain []atomic.Uint64
	// tree holds each feature's envelope, rounded outward to float32, with
	// its position.
	tree  rtree.RTreeGN[float32, int32]
	bound orb.Bound
	// density tells proximity searches how far to look first.
	density density
	// kinds holds the features' Kind as small numbers, built on first use
	// (see KindOf).
	kinds struct {
		once  sync.Once
		names []string
		few   []uint8 // each feature's, when there are at most 256
		many  []uint32
	}
}

// NewLayer indexes features under name. The features' ids must be unique;
// a duplicate is reported as a *ParseError. source names where the features
// came from, for messages. The layer keeps its own copy of the features
// and their geometries, so later changes to them do not reach it.
func NewLayer(name, source string, features []Feature) (*Layer, error) {
	features = slices.Clone(features)
	bounds := make([]orb.Bound, len(features))
	points := 0
	for i := range features {
		bounds[i] = geodesy.Envelope(features[i].Geometry)
		points += RelocatedPoints(features[i].Geometry)
	}
	return NewOwnedLayer(name, source, features, bounds, points)
}

// NewOwnedLayer is NewLayer for features the layer may own, given their
// envelopes (each geodesy.Envelope of its geometry, as NewLayer computes
// them: a snapshot writes them so) and how many positions relocating them
// copies.
func NewOwnedLayer(name, source string, features []Feature, bounds []orb.Bound, points int) (*Layer, error) {
	if points > math.MaxInt32 {
		// Layer.vertex holds positions in the block as int32.
		return nil, fmt.Errorf("geo: %s holds %d positions, more than a layer's %d", source, points, math.MaxInt32)
	}
	l := &Layer{name: name, source: source, features: features}
	for i, b := range bounds {
		if i == 0 {
			l.bound = b
		} else {
			l.bound = l.bound.Union(b)
		}
	}
	// The id index, the tree and the relocated geometries are built at
	// once: they read and write different data.
	var wg sync.WaitGroup
	var dup error
	wg.Go(func() { dup = l.indexIDs() })
	curve := hilbertOrder(bounds, l.bound)
	at := l.place(curve)
	wg.Go(func() {
		// Inserting along the curve keeps each insertion's path through
		// the tree in cache.
		for k, i := range curve {
			lo, hi := box32(bounds[i])
			l.tree.Insert(lo, hi, at[k])
		}
	})
	// The other geometries are copied along the curve, their coordinates
	// into one block.
	l.coords = make([]orb.Point, points)
	l.vertex = make([]int32, len(l.geoms)+1)
	r := relocation{points: l.coords}
	l.spans = make(map[int32][]orb.Bound)
	l.plain = make([]atomic.Uint64, (len(l.geoms)+31)/32)
	for k, i := range curve {
		if g, ok := features[i].Geometry.(orb.Point); ok {
			l.points[at[k]] = g
			continue
		}
		g := int32(int(at[k]) - len(l.points))
		l.vertex[g] = int32(len(l.coords)-len(r.points)) | runs(features[i].Geometry)
		features[i].Geometry = r.geometry(features[i].Geometry)
		l.geoms[g] = features[i].Geometry
		if line, ok := features[i].Geometry.(orb.LineString); ok && isLong(line) {
			l.spans[g] = geodesy.SpanEnvelopes(line)
		}
	}
	l.vertex[len(l.geoms)] = int32(len(l.coords) - len(r.points))
	wg.Wait()
	if dup != nil {
		return nil, dup
	}
	l.density = newDensity(l.bound, bounds)
	return l, nil
}

// place gives each feature a position, Points first, both groups in the
// order of curve; it returns the positions in that order too and sizes
// l.order, l.points and l.geoms.
func (l *Layer) place(curve []int32) []int32 {
	n := 0
	for _, f := range l.features {
		if _, ok := f.Geometry.(orb.Point); ok {
			n++
		}
	}
	l.order = make([]int32, len(curve))
	l.points = make([]orb.Point, n)
	l.geoms = make([]orb.Geometry, len(curve)-n)
	at := make([]int32, len(curve))
	next, other := 0, n
	for k, i := range curve {
		if _, ok := l.features[i].Geometry.(orb.Point); ok {
			at[k] = int32(next)
			next++
		} else {
			at[k] = int32(other)
			other++
		}
		l.order[at[k]] = i
	}
	return at
}

// manyRuns marks an entry of Layer.vertex whose geometry is not one path.
const manyRuns = math.MinInt32

// runs is 0 for a geometry whose vertices form one path, a line or a
// polygon without holes, and manyRuns for any other.
func runs(g orb.Geometry) int32 {
	switch g := g.(type) {
	case orb.LineString:
		return 0
	case orb.Polygon:
		if len(g) == 1 {
			return 0
		}
	}
	return manyRuns
}

// run returns the vertices of geoms[g] when they form one path, read from
// coords: a search reaches them without the geometry's slice headers,
// each a cache miss of its own on a large layer.
func (l *Layer) run(g int) ([]orb.Point, bool) {
	from, to := l.vertex[g], l.vertex[g+1]&^manyRuns
	if from&manyRuns != 0 {
		return nil, false
	}
	return l.coords[from:to:to], true
}

// isLong reports whether a line has enough spans (geodesy.SpanVertices
// edges) for a search to skip the far ones.
func isLong(line orb.LineString) bool { return len(line) > 4*geodesy.SpanVertices }

// spansOf is the SpanEnvelopes of geoms[g], whose vertices are run, when
// it is a long line; nil otherwise (a polygon has none).
func (l *Layer) spansOf(g int, run []orb.Point) []orb.Bound {
	if !isLong(run) {
		return nil
	}
	return l.spans[int32(g)]
}

// geometry returns the geometry of the feature at position at.
func (l *Layer) geometry(at int32) orb.Geometry {
	if int(at) < len(l.points) {
		return l.points[at]
	}
	return l.geoms[int(at)-len(l.points)]
}

// indexIDs sorts the feature indexes by id into l.byID; two features with
// the same id are an error.
func (l *Layer) indexIDs() error {
	fs := l.features
	l.byID = make([]int32, len(fs))
	for i := range l.byID {
		l.byID[i] = int32(i)
	}
	slices.SortFunc(l.byID, func(a, b int32) int { return strings.Compare(fs[a].ID, fs[b].ID) })
	for k := 1; k < len(l.byID); k++ {
		prev, cur := l.byID[k-1], l.byID[k]
		if fs[prev].ID == fs[cur].ID {
			first, second := min(prev, cur), max(prev, cur)
			return &ParseError{File: l.source, Feature: int(second), ID: fs[second].ID, Err: errDuplicateID(int(first))}
		}
	}
	return nil
}

var layerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidLayerName reports whether name can be a layer (and collection) id:
// letters, digits, '_', '-' and '.', starting with a letter or digit.
func ValidLayerName(name string) bool { return layerName.MatchString(name) }

// Name is the layer's name, used as its collection id.
func (l *Layer) Name() string { return l.name }

// Source names the file or resource the layer was read from.
func (l *Layer) Source() string { return l.source }

// Len is the number of features in the layer.
func (l *Layer) Len() int { return len(l.features) }

// Feature returns the i-th feature in source order.
func (l *Layer) Feature(i int) *Feature { return &l.features[i] }

// KindOf is the Kind of the i-th feature. A filter on kind tests every
// feature in a box, hundreds a page, and reading each one's Feature,
// scattered over a large layer, took most of a filtered page's time; the
// kinds are read instead from a column of a byte a feature (4 bytes when
// there are more than 256 kinds), built the first time one is asked for,
// which caches hold where they cannot hold the features.
func (l *Layer) KindOf(i int) string {
	k := &l.kinds
	k.once.Do(l.numberKinds)
	if k.few != nil {
		return k.names[k.few[i]]
	}
	return k.names[k.many[i]]
}

// TouchKinds reads the kind of each feature in is from the column KindOf
// reads, as Touch reads features: a batch of candidates scattered over a
// large layer then waits on memory once rather than once a candidate.
func (l *Layer) TouchKinds(is []int32) {
	k := &l.kinds
	k.once.Do(l.numberKinds)
	var x uint32
	if k.few != nil {
		for _, i := range is {
			x += uint32(k.few[i])
		}
	} else {
		for _, i := range is {
			x += k.many[i]
		}
	}
	keep(x)
}

// numberKinds numbers the distinct kinds of l's features.
func (l *Layer) numberKinds() {
	k := &l.kinds
	number := map[string]uint32{}
	k.many = make([]uint32, len(l.features))
	for i := range l.features {
		n, ok := number[l.features[i].Kind]
		if !ok {
			n = uint32(len(k.names))
			number[l.features[i].Kind] = n
			k.names = append(k.names, l.features[i].Kind)
		}
		k.many[i] = n
	}
	if len(k.names) <= 256 {
		k.few = make([]uint8, len(k.many))
		for i, n := range k.many {
			k.few[i] = uint8(n)
		}
		k.many = nil
	}
}

// Bound is the envelope of all features; empty layers have a zero Bound.
func (l *Layer) Bound() orb.Bound { return l.bound }

// Lookup returns the feature with the given id and its index in source order.
func (l *Layer) Lookup(id string) (*Feature, int, bool) {
	k := sort.Search(len(l.byID), func(k int) bool { return l.features[l.byID[k]].ID >= id })
	if k < len(l.byID) && l.features[l.byID[k]].ID == id {
		i := int(l.byID[k])
		return &l.features[i], i, true
	}
	return nil, -1, false
}

// Touch reads the first byte of each feature's id and properties and the
// first position of its geometry. A page of features is scattered over a
// large layer, so those reads mostly miss the CPU caches; here, with
// nothing between them, the CPU waits for many at once, where encoding
// would wait for each in turn.
func (l *Layer) Touch(at []int32) {
	var x byte
	for _, i := range at {
		f := &l.features[i]
		if len(f.ID) > 0 {
			x += f.ID[0]
		}
		if len(f.Properties) > 0 {
			x += f.Properties[0]
		}
		x += byte(firstPosition(f.Geometry)[0])
	}
	keep(x)
}

// firstPosition is g's first position, reached through the slice headers
// an encoder reads; the zero Point for other kinds and empty geometries.
func firstPosition(g orb.Geometry) orb.Point {
	switch g := g.(type) {
	case orb.Point:
		return g
	case orb.LineString:
		if len(g) > 0 {
			return g[0]
		}
	case orb.Polygon:
		if len(g) > 0 && len(g[0]) > 0 {
			return g[0][0]
		}
	}
	return orb.Point{}
}

// keep makes its argument needed, so the compiler keeps the reads that
// produce it.
//
//go:noinline
func keep[T any](T) {}
