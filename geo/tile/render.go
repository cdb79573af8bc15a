package tile

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
)

// renderer holds the scratch state of one tile's rendering; renderers are
// pooled, so a tile allocates little more than its own bytes.
type renderer struct {
	canvas
	w         layerWriter
	found     []found          // features in the buffered tile
	cands     []candidate      // features touching the tile, for aggregation
	kinds     map[string]int32 // kind to its position in kindNames
	kindNames []string
	cells     []cell
	// grid, or sparse for layers of very many kinds, holds for each kind
	// and aggregation cell the position in cells of its count, plus one.
	grid   []int32
	sparse map[int]int32
	tags   []uint32
	// idOf is the feature whose id is value idValue of the layer being written.
	idOf    int32
	idValue uint32
}

// found is a feature in one of a tile's search parts.
type found struct {
	index int32
	part  int32
}

// candidate is a feature touching the tile, as aggregation sees it.
type candidate struct {
	index int32
	kind  int32   // position in the tile's kinds
	x, y  float64 // its envelope's centre, moved into the tile
	size  float64 // its envelope's larger side, in tile units
}

// maxGridSlots bounds the renderer's grid of aggregation cells (4 bytes a slot).
const maxGridSlots = 1 << 20

// minCountBytes is the least an aggregate point takes: its count tag, type
// and one-point geometry, with their field keys and lengths.
const minCountBytes = 13

// cell counts the features of one kind in one aggregation cell.
type cell struct {
	kind   int32
	n      uint64
	sx, sy float64
}

// search collects the features of the buffered tile in layer order,
// giving up (false) once there are more than any tile of features on
// their own can hold.
func (r *renderer) search(l *geo.Layer, parts []part) bool {
	r.found = r.found[:0]
	complete := true
	for k, p := range parts {
		l.Search(p.box, func(i int) bool {
			if len(r.found) == MaxBytes/minFeatureBytes {
				complete = false
				return false
			}
			r.found = append(r.found, found{int32(i), int32(k)})
			return true
		})
	}
	if complete {
		// Drawn in layer order, ids run in order, which gzip likes.
		slices.SortFunc(r.found, func(a, b found) int { return int(a.index - b.index) })
	}
	return complete
}

// individual draws every found feature on its own with properties p;
// false when the tile would exceed MaxBytes.
func (r *renderer) individual(l *geo.Layer, parts []part, p props) ([]byte, bool) {
	r.reset(simplifyUnits)
	for _, fd := range r.found {
		r.setShift(parts[fd.part].shift)
		r.emit(l, fd.index, p, l.Feature(int(fd.index)).Geometry)
		if r.w.size(l.Name()) > MaxBytes {
			return nil, false
		}
	}
	return r.finish(l), true
}

// emit draws g, feature i's geometry or a part of it, as one MVT feature,
// or one per member of a collection, with properties p.
func (r *renderer) emit(l *geo.Layer, i int32, p props, g orb.Geometry) {
	if c, ok := g.(orb.Collection); ok {
		for _, m := range c {
			r.emit(l, i, p, m)
		}
		return
	}
	gtype := r.draw(g)
	if gtype == 0 {
		return
	}
	f := l.Feature(int(i))
	r.tags = r.tags[:0]
	if p <= propsIDKind {
		// Ids are unique in a layer: only the members of a collection,
		// drawn one after another, share one, so no map is needed.
		if r.idOf != i {
			r.idOf, r.idValue = i, r.w.unique(f.ID)
		}
		r.tags = append(r.tags, r.w.key("id"), r.idValue)
	}
	if p == propsIDNameKind && f.Name != "" {
		r.tags = append(r.tags, r.w.key("name"), r.w.str(f.Name))
	}
	if f.Kind != "" {
		r.tags = append(r.tags, r.w.key("kind"), r.w.str(f.Kind))
	}
	r.w.feature(uint64(i)+1, r.tags, gtype, r.cmds)
}

// reset starts a new attempt at the tile, simplifying to tolerance units.
func (r *renderer) reset(tolerance float64) {
	r.w.reset()
	r.idOf = -1
	r.tolerance = tolerance
}

// finish returns the tile drawn, nil when nothing was.
func (r *renderer) finish(l *geo.Layer) []byte {
	if len(r.w.features) == 0 {
		return nil
	}
	return r.w.tile(l.Name())
}

// touching collects the features touching the tile itself, with what
// aggregation needs of each.
func (r *renderer) touching(l *geo.Layer, t maptile.Tile) {
	r.cands = r.cands[:0]
	r.setShift(0)
	if r.kinds == nil {
		r.kinds = map[string]int32{}
	}
	clear(r.kinds)
	r.kindNames = r.kindNames[:0]
	inner := math.Nextafter(Extent, 0)
	l.SearchEnvelopes(tileBox(t), func(i int, lonLat orb.Bound) bool {
		f := l.Feature(i)
		env := r.envelope(f.Geometry, lonLat)
		c := env.Center()
		r.cands = append(r.cands, candidate{
			index: int32(i),
			kind:  r.kindOf(f.Kind),
			x:     min(max(c[0], 0), inner),
			y:     min(max(c[1], 0), inner),
			size:  max(env.Max[0]-env.Min[0], env.Max[1]-env.Min[1]),
		})
		return true
	})
}

// kindOf returns the position of kind in r.kindNames, adding it if new.
func (r *renderer) kindOf(kind string) int32 {
	// A layer has a handful of kinds, which a scan finds faster than a map.
	const scan = 8
	if len(r.kindNames) <= scan {
		for k, name := range r.kindNames {
			if name == kind {
				return int32(k)
			}
		}
		if len(r.kindNames) == scan {
			for k, name := range r.kindNames {
				r.kinds[name] = int32(k)
			}
		}
	}
	if k, ok := r.kinds[kind]; ok {
		return k
	}
	k := int32(len(r.kindNames))
	r.kindNames = append(r.kindNames, kind)
	if len(r.kindNames) > scan {
		r.kinds[kind] = k
	}
	return k
}

// aggregate draws the touching features at an aggregated level of detail;
// false when the tile would exceed MaxBytes, unless d is the last level,
// which always fits: one point per kind, or one point.
func (r *renderer) aggregate(l *geo.Layer, d detail) ([]byte, bool) {
	kinds := len(r.kindNames)
	if d.mergeKinds {
		kinds = 1
	}
	if !d.last() && kinds*minCountBytes > MaxBytes {
		return nil, false // a point per kind is already too many
	}
	r.reset(float64(d.cellPx) * simplifyUnits)
	cellUnits := float64(d.cellPx * pixelUnits)
	counted := func(c *candidate) bool { return d.cellPx >= 256 || c.size < cellUnits }
	perRow := 256 / d.cellPx
	perKind := perRow * perRow
	// A slot for every cell of every kind is fastest, but a layer of very
	// many kinds needs a map.
	dense := kinds*perKind <= maxGridSlots
	if dense {
		r.grid = append(r.grid[:0], make([]int32, kinds*perKind)...)
	} else if r.sparse == nil {
		r.sparse = map[int]int32{}
	} else {
		clear(r.sparse)
	}
	r.cells = r.cells[:0]
	for k := range r.cands {
		c := &r.cands[k]
		if !counted(c) {
			continue
		}
		kind := c.kind
		if d.mergeKinds {
			kind = 0
		}
		at := int(kind)*perKind + int(c.y/cellUnits)*perRow + int(c.x/cellUnits)
		var s int32
		if dense {
			s = r.grid[at]
		} else {
			s = r.sparse[at]
		}
		if s == 0 {
			r.cells = append(r.cells, cell{kind: kind})
			s = int32(len(r.cells))
			if dense {
				r.grid[at] = s
			} else {
				r.sparse[at] = s
			}
		}
		cl := &r.cells[s-1]
		cl.n++
		cl.sx += c.x
		cl.sy += c.y
	}
	for _, cl := range r.cells {
		r.tags = r.tags[:0]
		if !d.mergeKinds && r.kindNames[cl.kind] != "" {
			r.tags = append(r.tags, r.w.key("kind"), r.w.str(r.kindNames[cl.kind]))
		}
		r.tags = append(r.tags, r.w.key("count"), r.w.uint(cl.n))
		r.cmds, r.cx, r.cy = r.cmds[:0], 0, 0
		r.q = append(r.q[:0], snap(cl.sx/float64(cl.n)), snap(cl.sy/float64(cl.n)))
		r.moveTo(r.q)
		r.w.feature(0, r.tags, geomPoint, r.cmds)
	}
	if !d.last() && r.w.size(l.Name()) > MaxBytes {
		return nil, false
	}
	for k := range r.cands {
		c := &r.cands[k]
		if counted(c) {
			continue
		}
		r.emit(l, c.index, propsIDKind, l.Feature(int(c.index)).Geometry)
		if r.w.size(l.Name()) > MaxBytes {
			return nil, false
		}
	}
	return r.finish(l), true
}
