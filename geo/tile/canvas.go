package tile

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// maxLat is the latitude where Web Mercator's square world ends.
const maxLat = 85.05112877980659

// canvas draws geometries of one tile as MVT command streams: it clips
// them to the buffered tile in longitude/latitude, projects to tile units,
// densifying long edges so they stay straight in longitude/latitude as
// RFC 7946 and the bbox search read them, simplifies with Douglas–Peucker
// and snaps to the integer grid, all in scratch buffers reused from
// feature to feature.
type canvas struct {
	world     float64   // tile units across the world at the tile's zoom
	x0, y0    float64   // the tile's top-left corner in world units
	shift     float64   // degrees added to longitudes, for buffers across ±180°
	tolerance float64   // Douglas–Peucker tolerance in tile units
	buffered  orb.Bound // the buffered tile in longitude/latitude, before the shift
	box       orb.Bound // buffered, less the shift: where source coordinates are kept
	// perLon and perLat are tile units per degree of longitude, and at most
	// per degree of latitude within the buffered tile.
	perLon, perLat float64
	// flat is the latitude span, in radians, below which no edge bends by a
	// unit even at Web Mercator's highest latitude.
	flat float64

	pts, tmp []orb.Point // projected vertices; clipped vertices
	ends     []int       // where each part of a clipped line ends
	keep     []bool
	stack    [][2]int
	q, alt   []int32 // snapped x, y pairs of the current part; a fallback part
	cmds     []uint32
	cx, cy   int32 // the command cursor
}

// bendUnits is how far, in tile units, a projected edge may stray from the
// edge straight in longitude/latitude before it is densified.
const bendUnits = 1

func (c *canvas) setTile(t maptile.Tile) {
	c.world = math.Ldexp(Extent, int(t.Z))
	c.x0, c.y0 = float64(t.X)*Extent, float64(t.Y)*Extent
	c.buffered = t.Bound(float64(bufferUnits) / Extent)
	c.perLon = c.world / 360
	// Tile units per degree of latitude grow with latitude as sec φ.
	c.perLat = c.world / 360 / math.Cos(min(maxLat, max(math.Abs(c.buffered.Min[1]), math.Abs(c.buffered.Max[1])))*math.Pi/180)
	c.flat = math.Sqrt(8 * bendUnits / (c.world / (2 * math.Pi) * bend(maxLat*math.Pi/180)))
	c.setShift(0)
}

func (c *canvas) setShift(shift float64) {
	c.shift = shift
	c.box = orb.Bound{
		Min: orb.Point{c.buffered.Min[0] - shift, c.buffered.Min[1]},
		Max: orb.Point{c.buffered.Max[0] - shift, c.buffered.Max[1]},
	}
}

// bend is the second derivative of Web Mercator's y (in radians) by
// latitude φ, sec φ tan φ: how much an edge straight in latitude curves.
func bend(φ float64) float64 {
	c := math.Cos(φ)
	return math.Sin(φ) / (c * c)
}

func (c *canvas) project(p orb.Point) orb.Point {
	s := math.Sin(min(max(p[1], -maxLat), maxLat) * (math.Pi / 180))
	return orb.Point{
		(p[0]+c.shift+180)*c.perLon - c.x0,
		(0.5-math.Log((1+s)/(1-s))/(4*math.Pi))*c.world - c.y0,
	}
}

// envelope is the projected bounding box of g, given its longitude/latitude
// box b (a Point is projected exactly): projection is monotonic in each
// axis, so two corners suffice.
func (c *canvas) envelope(g orb.Geometry, b orb.Bound) orb.Bound {
	if p, ok := g.(orb.Point); ok {
		q := c.project(p)
		return orb.Bound{Min: q, Max: q}
	}
	return orb.Bound{Min: c.project(orb.Point{b.Min[0], b.Max[1]}), Max: c.project(orb.Point{b.Max[0], b.Min[1]})}
}

// draw encodes g, a layer's geometry other than a collection, into c.cmds
// and returns its MVT geometry type, or 0 when nothing of it lies in the
// buffered tile. A line or area under one unit across becomes a point,
// and one that snapping wears down to nothing becomes a line or a point
// where it was, so no feature that touches the tile disappears.
func (c *canvas) draw(g orb.Geometry) byte {
	c.cmds, c.cx, c.cy = c.cmds[:0], 0, 0
	if p, ok := g.(orb.Point); ok {
		return c.dot(p)
	}
	b := g.Bound()
	if g.Dimensions() > 0 && (b.Max[0]-b.Min[0])*c.perLon < 1 && (b.Max[1]-b.Min[1])*c.perLat < 1 {
		return c.dot(b.Center())
	}
	inside := c.box.Contains(b.Min) && c.box.Contains(b.Max)
	c.alt = c.alt[:0]
	var gtype byte
	switch g := g.(type) {
	case orb.MultiPoint:
		return c.multiPoint(g)
	case orb.LineString:
		gtype = c.line(g, inside)
	case orb.MultiLineString:
		for _, l := range g {
			gtype = max(gtype, c.line(l, inside))
		}
	case orb.Polygon:
		gtype = c.polygon(g, inside)
	case orb.MultiPolygon:
		for _, p := range g {
			gtype = max(gtype, c.polygon(p, inside))
		}
	}
	if gtype != 0 {
		return gtype
	}
	switch {
	case len(c.alt) >= 4:
		c.moveTo(c.alt[:2])
		c.lineTo(c.alt[2:])
		return geomLineString
	case len(c.alt) == 2:
		c.moveTo(c.alt)
		return geomPoint
	}
	return 0
}

func (c *canvas) dot(p orb.Point) byte {
	if !c.box.Contains(p) {
		return 0
	}
	q := c.project(p)
	c.q = append(c.q[:0], snap(q[0]), snap(q[1]))
	c.moveTo(c.q)
	return geomPoint
}

func (c *canvas) multiPoint(mp orb.MultiPoint) byte {
	c.q = c.q[:0]
	for _, p := range mp {
		if c.box.Contains(p) {
			q := c.project(p)
			c.q = append(c.q, snap(q[0]), snap(q[1]))
		}
	}
	if len(c.q) == 0 {
		return 0
	}
	c.moveTo(c.q)
	return geomPoint
}

// line draws each part of l left after clipping with at least two
// distinct vertices; a part snapped to a single vertex is kept as the
// fallback.
func (c *canvas) line(l orb.LineString, inside bool) byte {
	parts := []orb.Point(l)
	c.ends = append(c.ends[:0], len(l))
	if !inside {
		parts = c.clipLine(l)
	}
	var gtype byte
	start := 0
	for _, end := range c.ends {
		c.snapAll(c.simplify(c.projectAll(parts[start:end])))
		start = end
		if len(c.q) >= 4 {
			c.moveTo(c.q[:2])
			c.lineTo(c.q[2:])
			gtype = geomLineString
		} else if len(c.alt) == 0 {
			c.alt = append(c.alt, c.q...)
		}
	}
	return gtype
}

// polygon draws p's rings that keep an area: the exterior wound with
// positive area in tile coordinates (clockwise on screen), holes
// negative, as MVT 2.1 §4.3.4.4 defines them. A polygon whose exterior
// loses its area leaves that exterior as the fallback.
func (c *canvas) polygon(p orb.Polygon, inside bool) byte {
	for i, r := range p {
		ring := []orb.Point(r)
		if !inside {
			ring = c.clipRing(r)
		}
		c.snapAll(c.simplify(c.projectAll(ring)))
		if n := len(c.q); n >= 4 && c.q[0] == c.q[n-2] && c.q[1] == c.q[n-1] {
			c.q = c.q[:n-2] // the ring closes itself with ClosePath
		}
		area := ringArea(c.q)
		if len(c.q) < 6 || area == 0 {
			if i == 0 {
				if len(c.alt) == 0 {
					c.alt = append(c.alt, c.q...)
				}
				return 0
			}
			continue
		}
		if (i == 0) != (area > 0) {
			reversePairs(c.q)
		}
		c.moveTo(c.q[:2])
		c.lineTo(c.q[2:])
		c.cmds = append(c.cmds, command(cmdClosePath, 1))
	}
	return geomPolygon
}

// projectAll projects pts into c.pts, adding vertices along edges that
// would otherwise stray more than bendUnits from their course straight
// in longitude/latitude.
func (c *canvas) projectAll(pts []orb.Point) []orb.Point {
	c.pts = c.pts[:0]
	for i, p := range pts {
		if i > 0 {
			c.densify(pts[i-1], p)
		}
		c.pts = append(c.pts, c.project(p))
	}
	return c.pts
}

// densify appends the projected inner vertices that split edge a–b into
// pieces bending at most bendUnits. A piece of latitude span Δφ at
// latitude φ bends by about s sec φ tan φ Δφ²/8 units, s being the tile
// units per radian.
func (c *canvas) densify(a, b orb.Point) {
	span := math.Abs(b[1]-a[1]) * math.Pi / 180
	if span <= c.flat {
		return
	}
	φ := min(maxLat, max(math.Abs(a[1]), math.Abs(b[1]))) * math.Pi / 180
	bent := c.world / (2 * math.Pi) * bend(φ) * span * span / 8
	n := math.Ceil(math.Sqrt(bent / bendUnits))
	for k := 1.0; k < n; k++ {
		c.pts = append(c.pts, c.project(lerp(a, b, k/n)))
	}
}

// clipLine cuts l to c.box, segment by segment (Liang–Barsky), into parts
// ending at c.ends.
func (c *canvas) clipLine(l orb.LineString) []orb.Point {
	out := c.tmp[:0]
	c.ends = c.ends[:0]
	open := false
	for i := 1; i < len(l); i++ {
		a, b := l[i-1], l[i]
		t0, t1, ok := clipSegment(a, b, c.box)
		if !ok {
			open = false
			continue
		}
		if !open || t0 > 0 {
			if open {
				c.ends = append(c.ends, len(out))
			}
			out = append(out, lerp(a, b, t0))
		}
		out = append(out, lerp(a, b, t1))
		open = t1 == 1
		if !open {
			c.ends = append(c.ends, len(out))
		}
	}
	if open {
		c.ends = append(c.ends, len(out))
	}
	c.tmp = out
	return out
}

// clipSegment returns the parameters where a–b enters and leaves box.
func clipSegment(a, b orb.Point, box orb.Bound) (t0, t1 float64, ok bool) {
	t0, t1 = 0, 1
	d := orb.Point{b[0] - a[0], b[1] - a[1]}
	for axis := range 2 {
		for _, edge := range [2]struct{ p, q float64 }{{-d[axis], a[axis] - box.Min[axis]}, {d[axis], box.Max[axis] - a[axis]}} {
			if edge.p == 0 {
				if edge.q < 0 {
					return 0, 0, false
				}
				continue
			}
			r := edge.q / edge.p
			if edge.p < 0 {
				t0 = max(t0, r)
			} else {
				t1 = min(t1, r)
			}
		}
	}
	return t0, t1, t0 <= t1
}

// clipRing cuts the closed ring r to c.box (Sutherland–Hodgman, one pass
// per edge) and returns it closed again.
func (c *canvas) clipRing(r orb.Ring) []orb.Point {
	in, out := []orb.Point(r), c.tmp
	if n := len(in); n > 1 && in[0] == in[n-1] {
		in = in[:n-1]
	}
	spare := c.pts[:0] // free until projection, after clipping
	for edge := range 4 {
		axis, lower := edge/2, edge%2 == 0
		limit := c.box.Max[axis]
		if lower {
			limit = c.box.Min[axis]
		}
		keeps := func(p orb.Point) bool {
			if lower {
				return p[axis] >= limit
			}
			return p[axis] <= limit
		}
		out = out[:0]
		for i, p := range in {
			prev := in[(i+len(in)-1)%len(in)]
			if keeps(p) {
				if !keeps(prev) {
					out = append(out, cross(prev, p, axis, limit))
				}
				out = append(out, p)
			} else if keeps(prev) {
				out = append(out, cross(prev, p, axis, limit))
			}
		}
		// The next pass reads out; it writes where this pass read, unless
		// that was the source ring.
		if edge == 0 {
			in, out = out, spare
		} else {
			in, out = out, in
		}
	}
	if len(in) > 0 {
		in = append(in, in[0])
	}
	c.tmp, c.pts = in, out[:0]
	return in
}

// cross is where segment a–b meets the line where coordinate axis equals limit.
func cross(a, b orb.Point, axis int, limit float64) orb.Point {
	t := (limit - a[axis]) / (b[axis] - a[axis])
	p := lerp(a, b, t)
	p[axis] = limit
	return p
}

func lerp(a, b orb.Point, t float64) orb.Point {
	return orb.Point{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t}
}

// simplify applies Douglas–Peucker in place: the result keeps the ends
// and every vertex farther than the tolerance from the simplified line.
func (c *canvas) simplify(pts []orb.Point) []orb.Point {
	n := len(pts)
	if n <= 2 || c.tolerance <= 0 {
		return pts
	}
	if cap(c.keep) < n {
		c.keep = make([]bool, n)
	}
	c.keep = c.keep[:n]
	clear(c.keep)
	c.keep[0], c.keep[n-1] = true, true
	tol2 := c.tolerance * c.tolerance
	c.stack = append(c.stack[:0], [2]int{0, n - 1})
	for len(c.stack) > 0 {
		s := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		worst, at := tol2, -1
		for k := s[0] + 1; k < s[1]; k++ {
			if d := segDist2(pts[k], pts[s[0]], pts[s[1]]); d > worst {
				worst, at = d, k
			}
		}
		if at >= 0 {
			c.keep[at] = true
			c.stack = append(c.stack, [2]int{s[0], at}, [2]int{at, s[1]})
		}
	}
	out := pts[:0]
	for k, p := range pts {
		if c.keep[k] {
			out = append(out, p)
		}
	}
	return out
}

// segDist2 is the squared distance from p to segment a–b.
func segDist2(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = max(0, min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	ex, ey := p[0]-a[0]-t*dx, p[1]-a[1]-t*dy
	return ex*ex + ey*ey
}

// snapAll rounds pts to the integer grid into c.q, dropping repeats.
func (c *canvas) snapAll(pts []orb.Point) {
	c.q = c.q[:0]
	for _, p := range pts {
		x, y := snap(p[0]), snap(p[1])
		if n := len(c.q); n == 0 || c.q[n-2] != x || c.q[n-1] != y {
			c.q = append(c.q, x, y)
		}
	}
}

func snap(v float64) int32 { return int32(math.Round(v)) }

// ringArea is twice the signed area of a ring given without its closing
// vertex (the surveyor's formula): positive when clockwise on screen.
func ringArea(q []int32) int64 {
	var a int64
	n := len(q)
	for i := 0; i < n; i += 2 {
		j := (i + 2) % n
		a += int64(q[i])*int64(q[j+1]) - int64(q[j])*int64(q[i+1])
	}
	return a
}

func reversePairs(q []int32) {
	for i, j := 0, len(q)-2; i < j; i, j = i+2, j-2 {
		q[i], q[i+1], q[j], q[j+1] = q[j], q[j+1], q[i], q[i+1]
	}
}

func (c *canvas) moveTo(q []int32) { c.commands(cmdMoveTo, q) }
func (c *canvas) lineTo(q []int32) { c.commands(cmdLineTo, q) }

// commands appends one command for the x, y pairs in q, as deltas from
// the cursor.
func (c *canvas) commands(id uint32, q []int32) {
	c.cmds = append(c.cmds, command(id, uint32(len(q)/2)))
	for i := 0; i < len(q); i += 2 {
		c.cmds = append(c.cmds, zigzag(q[i]-c.cx), zigzag(q[i+1]-c.cy))
		c.cx, c.cy = q[i], q[i+1]
	}
}
