package importer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/osm"
	"github.com/protectmap/protectmap/geo"
)

// nodeStore holds the positions of the nodes that matched ways and member
// ways use: their ids sorted, and each position in units of 1e-7 degrees,
// the precision OpenStreetMap stores: 16 bytes a node.
type nodeStore struct {
	ids       []osm.NodeID
	pos       []e7
	compacted int // len(ids) after the last compaction
}

type e7 struct{ lon, lat int32 }

// Sentinels in e7.lon: a valid longitude is within ±1.8e9.
const (
	notRead    = math.MinInt32
	outOfRange = math.MaxInt32
)

// need records ids to keep. Duplicates are folded now and then, so a way
// pass holds about one id per distinct node, not one per reference.
func (s *nodeStore) need(ids []osm.NodeID) {
	s.ids = append(s.ids, ids...)
	if len(s.ids) > 2*s.compacted+1<<20 {
		s.compact()
	}
}

func (s *nodeStore) compact() {
	slices.Sort(s.ids)
	s.ids = slices.Compact(s.ids)
	s.compacted = len(s.ids)
}

// freeze ends the recording: from here on has and set may be used.
func (s *nodeStore) freeze() {
	s.compact()
	s.ids = slices.Clip(s.ids)
	s.pos = make([]e7, len(s.ids))
	for i := range s.pos {
		s.pos[i].lon = notRead
	}
}

func (s *nodeStore) has(id osm.NodeID) bool {
	_, ok := slices.BinarySearch(s.ids, id)
	return ok
}

func (s *nodeStore) set(id osm.NodeID, lon, lat float64) {
	if i, ok := slices.BinarySearch(s.ids, id); ok {
		s.pos[i] = toE7(lon, lat)
	}
}

func toE7(lon, lat float64) e7 {
	if !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) {
		return e7{lon: outOfRange}
	}
	return e7{int32(math.Round(lon * 1e7)), int32(math.Round(lat * 1e7))}
}

func (p e7) point(id osm.NodeID) (orb.Point, error) {
	switch p.lon {
	case notRead:
		return orb.Point{}, fmt.Errorf("node %d is not in the file", id)
	case outOfRange:
		return orb.Point{}, fmt.Errorf("node %d has coordinates out of range", id)
	}
	return orb.Point{float64(p.lon) / 1e7, float64(p.lat) / 1e7}, nil
}

// line returns the positions of nodes, in order.
func (s *nodeStore) line(nodes []osm.NodeID) ([]orb.Point, error) {
	pts := make([]orb.Point, len(nodes))
	for i, id := range nodes {
		p := e7{lon: notRead}
		if k, ok := slices.BinarySearch(s.ids, id); ok {
			p = s.pos[k]
		}
		var err error
		if pts[i], err = p.point(id); err != nil {
			return nil, err
		}
	}
	return pts, nil
}

func feature(id string, g orb.Geometry, h hit) geo.Feature {
	return geo.Feature{ID: id, Geometry: g, Properties: h.props, Kind: h.rule.Kind}
}

// closed reports whether a way's nodes form a ring: back at the start, with
// at least three distinct nodes.
func closed(nodes []osm.NodeID) bool {
	return len(nodes) >= 4 && nodes[0] == nodes[len(nodes)-1]
}

// wayGeometry is a polygon for a closed way the rule calls an area, else a line.
func wayGeometry(nodes []osm.NodeID, pts []orb.Point, area bool) orb.Geometry {
	if area && closed(nodes) {
		r := orb.Ring(slices.Clone(pts))
		if r.Orientation() != orb.CCW {
			r.Reverse()
		}
		return orb.Polygon{r}
	}
	return orb.LineString(pts)
}

// segment is a line feature that may merge with its neighbours.
type segment struct {
	way   *wayRec
	hit   *hit
	nodes []osm.NodeID
	pts   []orb.Point
}

func (imp *osmImport) assembleWays() {
	type output struct {
		layer string
		f     newFeature
		seg   int // index in segs, or -1
	}
	var outs []output
	var segs []segment
	for i := range imp.ways {
		w := &imp.ways[i]
		if len(w.nodes) < 2 {
			imp.res.skip(wayID(w.id), fmt.Sprintf("way has %d node(s), a line needs 2", len(w.nodes)))
			continue
		}
		pts, err := imp.nodes.line(w.nodes)
		if err != nil {
			imp.res.skip(wayID(w.id), err.Error())
			continue
		}
		for k := range w.hits {
			h := &w.hits[k]
			g := wayGeometry(w.nodes, pts, h.area)
			if _, line := g.(orb.LineString); line && (h.name != "" || h.ref != "") {
				outs = append(outs, output{layer: h.rule.Layer, seg: len(segs)})
				segs = append(segs, segment{way: w, hit: h, nodes: w.nodes, pts: pts})
				continue
			}
			outs = append(outs, output{h.rule.Layer, newFeature{Feature: feature(wayID(w.id), g, *h), origin: wayID(w.id)}, -1})
		}
	}
	merged := mergeSegments(segs)
	for _, o := range outs {
		switch {
		case o.seg < 0:
			imp.res.add(o.layer, o.f)
		case merged[o.seg] != nil:
			imp.res.add(o.layer, *merged[o.seg])
		}
	}
}

// mergeSegments joins segments of the same rule, name and ref that share end
// nodes. The result is indexed like segs: each group's feature sits at the
// index of its lowest way id, whose id and properties it takes, and the
// other indexes are nil.
func mergeSegments(segs []segment) []*newFeature {
	type key struct {
		rule      *Rule
		name, ref string
	}
	groups := map[key][]int{}
	var order []key
	for i, s := range segs {
		k := key{s.hit.rule, s.hit.name, s.hit.ref}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	out := make([]*newFeature, len(segs))
	for _, k := range order {
		for _, comp := range touching(segs, groups[k]) {
			slices.SortFunc(comp, func(a, b int) int { return cmp.Compare(segs[a].way.id, segs[b].way.id) })
			first := &segs[comp[0]]
			f := newFeature{Feature: feature(wayID(first.way.id), orb.LineString(first.pts), *first.hit), origin: wayID(first.way.id)}
			if len(comp) > 1 {
				f.Geometry = chain(segs, comp)
				ids := []byte{'['}
				for n, i := range comp {
					if n > 0 {
						ids = append(ids, ',')
						f.replaces = append(f.replaces, wayID(segs[i].way.id))
					}
					ids = strconv.AppendInt(ids, int64(segs[i].way.id), 10)
				}
				f.Properties = withMember(first.hit.props, "osm_ways", append(ids, ']'))
			}
			out[comp[0]] = &f
		}
	}
	return out
}

// touching splits the segments idx into groups connected through shared
// end nodes (union-find).
func touching(segs []segment, idx []int) [][]int {
	parent := make(map[int]int, len(idx))
	var find func(int) int
	find = func(i int) int {
		if p := parent[i]; p != i {
			parent[i] = find(p)
		}
		return parent[i]
	}
	at := map[osm.NodeID]int{}
	for _, i := range idx {
		parent[i] = i
	}
	for _, i := range idx {
		n := segs[i].nodes
		for _, end := range []osm.NodeID{n[0], n[len(n)-1]} {
			if j, ok := at[end]; ok {
				parent[find(i)] = find(j)
			} else {
				at[end] = i
			}
		}
	}
	comps := map[int][]int{}
	var roots []int
	for _, i := range idx {
		r := find(i)
		if _, ok := comps[r]; !ok {
			roots = append(roots, r)
		}
		comps[r] = append(comps[r], i)
	}
	out := make([][]int, len(roots))
	for k, r := range roots {
		out[k] = comps[r]
	}
	return out
}

// chain joins connected segments end to end wherever exactly two of them
// meet; where three or more meet, or at dead ends, a line stops. One line
// comes out as a LineString, several as a MultiLineString.
func chain(segs []segment, comp []int) orb.Geometry {
	ends := map[osm.NodeID][]int{}
	for _, i := range comp {
		n := segs[i].nodes
		ends[n[0]] = append(ends[n[0]], i)
		ends[n[len(n)-1]] = append(ends[n[len(n)-1]], i)
	}
	used := map[int]bool{}
	var lines orb.MultiLineString
	walk := func(i int, reversed bool) {
		nodes, pts := oriented(&segs[i], reversed)
		used[i] = true
		for {
			end := nodes[len(nodes)-1]
			at := ends[end]
			if len(at) != 2 {
				break
			}
			j := at[0]
			if j == i {
				j = at[1]
			}
			if used[j] {
				break
			}
			n2, p2 := oriented(&segs[j], segs[j].nodes[0] != end)
			nodes, pts = append(nodes, n2[1:]...), append(pts, p2[1:]...)
			used[j], i = true, j
		}
		lines = append(lines, pts)
	}
	degree := func(id osm.NodeID) int { return len(ends[id]) }
	for _, i := range comp {
		if !used[i] && degree(segs[i].nodes[0]) != 2 {
			walk(i, false)
		}
	}
	for _, i := range comp {
		if n := segs[i].nodes; !used[i] && degree(n[len(n)-1]) != 2 {
			walk(i, true)
		}
	}
	for _, i := range comp { // what is left are loops
		if !used[i] {
			walk(i, false)
		}
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return lines
}

// oriented returns copies of a segment's nodes and points, reversed if asked.
func oriented(s *segment, reversed bool) ([]osm.NodeID, orb.LineString) {
	nodes, pts := slices.Clone(s.nodes), orb.LineString(slices.Clone(s.pts))
	if reversed {
		slices.Reverse(nodes)
		slices.Reverse(pts)
	}
	return nodes, pts
}

func (imp *osmImport) assembleRelations() {
	for _, r := range imp.rels {
		g, err := imp.multipolygon(r)
		if err != nil {
			imp.res.skip(relationID(r.id), "multipolygon: "+err.Error())
			continue
		}
		for _, h := range r.hits {
			imp.res.add(h.rule.Layer, newFeature{Feature: feature(relationID(r.id), g, h), origin: relationID(r.id)})
		}
	}
}

type memberWay struct {
	id    osm.WayID
	nodes []osm.NodeID
}

// ring is a closed ring of a multipolygon, with what nesting needs.
type ring struct {
	nodes []osm.NodeID
	pts   orb.Ring
	area  float64
	onIt  map[osm.NodeID]bool // its nodes, built when first needed
}

// multipolygon assembles a relation's member ways into rings and nests them
// by containment, not by their roles, which are often wrong: a ring inside
// an outer ring is a hole, a ring inside a hole an outer ring again. Outer
// rings wind counter-clockwise and holes clockwise, as RFC 7946 advises.
func (imp *osmImport) multipolygon(r relRec) (orb.Geometry, error) {
	var members []memberWay
	seen := map[osm.WayID]bool{}
	for _, id := range r.ways {
		if seen[id] {
			continue
		}
		seen[id] = true
		nodes, ok := imp.memberNodes[id]
		if !ok {
			return nil, fmt.Errorf("member way %d is not in the file", id)
		}
		if len(nodes) < 2 {
			return nil, fmt.Errorf("member way %d has %d node(s)", id, len(nodes))
		}
		members = append(members, memberWay{id, nodes})
	}
	nodeRings, err := closeRings(members)
	if err != nil {
		return nil, err
	}
	rings := make([]*ring, len(nodeRings))
	for i, nodes := range nodeRings {
		pts, err := imp.nodes.line(nodes)
		if err != nil {
			return nil, err
		}
		rings[i] = &ring{nodes: nodes, pts: pts, area: math.Abs(planar.Area(orb.Ring(pts)))}
	}
	slices.SortStableFunc(rings, func(a, b *ring) int { return cmp.Compare(b.area, a.area) })

	var polys orb.MultiPolygon
	polyOf := make([]int, len(rings)) // for an outer ring its polygon, for a hole -1
	for i, rg := range rings {
		parent := -1
		for j := i - 1; j >= 0; j-- { // the smallest enclosing ring comes first
			if rings[j].contains(rg) {
				parent = j
				break
			}
		}
		if parent >= 0 && polyOf[parent] >= 0 {
			polyOf[i] = -1
			if rg.pts.Orientation() != orb.CW {
				rg.pts.Reverse()
			}
			polys[polyOf[parent]] = append(polys[polyOf[parent]], rg.pts)
			continue
		}
		if rg.pts.Orientation() != orb.CCW {
			rg.pts.Reverse()
		}
		polyOf[i] = len(polys)
		polys = append(polys, orb.Polygon{rg.pts})
	}
	if len(polys) == 1 {
		return polys[0], nil
	}
	return polys, nil
}

// contains reports whether inner lies inside r, judged by a node of inner
// that is not on r (rings of a valid multipolygon may touch but not cross).
func (r *ring) contains(inner *ring) bool {
	if r.onIt == nil {
		r.onIt = make(map[osm.NodeID]bool, len(r.nodes))
		for _, id := range r.nodes {
			r.onIt[id] = true
		}
	}
	for i, id := range inner.nodes {
		if !r.onIt[id] {
			return planar.RingContains(r.pts, inner.pts[i])
		}
	}
	return false
}

// closeRings joins member ways end to end into closed rings of node ids.
func closeRings(members []memberWay) ([][]osm.NodeID, error) {
	ends := map[osm.NodeID][]int{}
	for i, m := range members {
		if m.nodes[0] != m.nodes[len(m.nodes)-1] {
			ends[m.nodes[0]] = append(ends[m.nodes[0]], i)
			ends[m.nodes[len(m.nodes)-1]] = append(ends[m.nodes[len(m.nodes)-1]], i)
		}
	}
	used := make([]bool, len(members))
	var rings [][]osm.NodeID
	for i, m := range members {
		if used[i] {
			continue
		}
		used[i] = true
		rg := slices.Clone(m.nodes)
		last := m.id
		for rg[0] != rg[len(rg)-1] {
			end := rg[len(rg)-1]
			next := -1
			for _, k := range ends[end] {
				if !used[k] {
					next = k
					break
				}
			}
			if next < 0 {
				return nil, fmt.Errorf("ring not closed: member way %d ends at node %d, where no other member way continues", last, end)
			}
			used[next] = true
			n := members[next].nodes
			if n[0] != end {
				n = slices.Clone(n)
				slices.Reverse(n)
			}
			rg = append(rg, n[1:]...)
			last = members[next].id
		}
		if !closed(rg) {
			return nil, fmt.Errorf("the ring through member way %d has fewer than 3 distinct nodes", m.id)
		}
		rings = append(rings, rg)
	}
	return rings, nil
}
