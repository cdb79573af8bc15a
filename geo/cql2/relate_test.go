package cql2

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/protectmap/protectmap/internal/testenv"
)

// relations are the four DE-9IM predicates, in the order of the columns
// TestRelations and the GEOS oracle give.
var relations = []struct {
	name string
	fn   func(a, b orb.Geometry) bool
}{{"equals", Equal}, {"touches", Touch}, {"overlaps", Overlap}, {"crosses", Cross}}

func TestRelations(t *testing.T) {
	square := orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}}
	holed := orb.Polygon{square[0], {{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}}
	tests := []struct {
		name                               string
		a, b                               orb.Geometry
		equals, touches, overlaps, crosses bool
	}{
		{"same square wound the other way from another corner", square,
			orb.Polygon{{{4, 4}, {4, 0}, {0, 0}, {0, 4}, {4, 4}}}, true, false, false, false},
		{"square with an extra vertex on an edge", square,
			orb.Polygon{{{0, 0}, {2, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}}, true, false, false, false},
		{"squares sharing an edge", square, orb.Polygon{{{4, 0}, {6, 0}, {6, 4}, {4, 4}, {4, 0}}}, false, true, false, false},
		{"squares sharing a corner", square, orb.Polygon{{{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}}}, false, true, false, false},
		{"squares overlapping", square, orb.Polygon{{{2, 2}, {6, 2}, {6, 6}, {2, 6}, {2, 2}}}, false, false, true, false},
		{"square inside another", orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 2}, {1, 1}}}, square, false, false, false, false},
		{"square filling a hole", orb.Polygon{{{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}}, holed, false, true, false, false},
		{"square over a hole's edge", orb.Polygon{{{2, 2}, {5, 2}, {5, 3}, {2, 3}, {2, 2}}}, holed, false, false, true, false},
		{"line across a square", orb.LineString{{-1, 2}, {5, 2}}, square, false, false, false, true},
		{"line inside a square", orb.LineString{{1, 2}, {3, 2}}, square, false, false, false, false},
		{"line along an edge", orb.LineString{{0, 0}, {4, 0}}, square, false, true, false, false},
		{"line ending on an edge", orb.LineString{{-1, 2}, {0, 2}}, square, false, true, false, false},
		{"line through a hole", orb.LineString{{0.5, 2}, {3.5, 2}}, holed, false, false, false, true},
		{"lines crossing", orb.LineString{{0, 0}, {2, 2}}, orb.LineString{{0, 2}, {2, 0}}, false, false, false, true},
		{"line ending on another", orb.LineString{{0, 0}, {1, 1}}, orb.LineString{{0, 2}, {2, 0}}, false, true, false, false},
		{"lines sharing a stretch", orb.LineString{{0, 0}, {2, 0}}, orb.LineString{{1, 0}, {3, 0}}, false, false, true, false},
		{"line within another", orb.LineString{{1, 0}, {2, 0}}, orb.LineString{{0, 0}, {3, 0}}, false, false, false, false},
		{"same line reversed", orb.LineString{{0, 0}, {1, 1}, {2, 0}}, orb.LineString{{2, 0}, {1, 1}, {0, 0}}, true, false, false, false},
		{"line ending on a closed line's start", orb.LineString{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, orb.LineString{{-1, 0}, {0, 0}}, false, true, false, false},
		{"line through a closed line's start", orb.LineString{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, orb.LineString{{-1, 1}, {1, -1}}, false, false, false, true},
		{"point on a line's end", orb.Point{0, 0}, orb.LineString{{0, 0}, {1, 1}}, false, true, false, false},
		{"point inside a line", orb.Point{1, 1}, orb.LineString{{0, 0}, {2, 2}}, false, false, false, false},
		{"point on a square's edge", orb.Point{4, 2}, square, false, true, false, false},
		{"points partly in a square", orb.MultiPoint{{1, 1}, {5, 5}}, square, false, false, false, true},
		{"points sharing one", orb.MultiPoint{{1, 1}, {5, 5}}, orb.MultiPoint{{1, 1}, {6, 6}}, false, false, true, false},
		{"same points", orb.MultiPoint{{1, 1}, {5, 5}}, orb.MultiPoint{{5, 5}, {1, 1}}, true, false, false, false},
		{"apart", orb.Point{9, 9}, square, false, false, false, false},
		{"mixed collection", orb.Collection{orb.Point{2, 2}, square}, square, false, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := []bool{tc.equals, tc.touches, tc.overlaps, tc.crosses}
			for k, r := range relations {
				if got := r.fn(tc.a, tc.b); got != want[k] {
					t.Errorf("%s: %v, want %v", r.name, got, want[k])
				}
				if got := r.fn(tc.b, tc.a); got != want[k] {
					t.Errorf("%s swapped: %v, want %v", r.name, got, want[k])
				}
			}
		})
	}
}

// geosRelations asks GEOS, through Python's shapely, the four relations of
// each pair.
func geosRelations(t *testing.T, pairs [][2]orb.Geometry) [][]bool {
	t.Helper()
	const script = `import sys
from shapely import wkt
for line in sys.stdin:
    a, b = (wkt.loads(s) for s in line.rstrip("\n").split("\t"))
    print("".join("1" if v else "0" for v in (a.equals(b), a.touches(b), a.overlaps(b), a.crosses(b))))
`
	python := testenv.PythonModule(t, "shapely")
	var in strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&in, "%s\t%s\n", wkt.MarshalString(p[0]), wkt.MarshalString(p[1]))
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("shapely: %v", err)
	}
	var got [][]bool
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		row := make([]bool, len(sc.Text()))
		for i, c := range sc.Text() {
			row[i] = c == '1'
		}
		got = append(got, row)
	}
	if len(got) != len(pairs) {
		t.Fatalf("shapely answered %d pairs of %d", len(got), len(pairs))
	}
	return got
}

// TestRelationsAgainstGEOS: on pairs of points, lines, polygons (holes
// included) and their multi forms, drawn on a small grid so they often
// share vertices and edges, the four relations agree with GEOS.
func TestRelationsAgainstGEOS(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var pairs [][2]orb.Geometry
	for range 600 {
		a := randomGeometry(r)
		var b orb.Geometry
		switch r.IntN(4) {
		case 0:
			b = reshaped(r, a)
		case 1:
			b = shifted(a, float64(r.IntN(5)-2), float64(r.IntN(5)-2))
		default:
			b = randomGeometry(r)
		}
		pairs = append(pairs, [2]orb.Geometry{a, b})
	}
	want := geosRelations(t, pairs)
	seen := make([]int, len(relations))
	for i, p := range pairs {
		for k, rel := range relations {
			got := rel.fn(p[0], p[1])
			if got {
				seen[k]++
			}
			if got != want[i][k] {
				t.Errorf("%s(%s, %s): %v, GEOS says %v", rel.name, wkt.MarshalString(p[0]), wkt.MarshalString(p[1]), got, want[i][k])
			}
		}
	}
	// The pairs must exercise every relation, true as well as false.
	for k, n := range seen {
		if n < 10 {
			t.Errorf("only %d of %d pairs %s: the generator misses cases", n, len(pairs), relations[k].name)
		}
	}
}

func gridPoint(r *rand.Rand) orb.Point { return orb.Point{float64(r.IntN(7)), float64(r.IntN(7))} }

// randomGeometry draws a valid geometry with vertices on a 7×7 grid.
func randomGeometry(r *rand.Rand) orb.Geometry {
	switch r.IntN(8) {
	case 0:
		return gridPoint(r)
	case 1:
		return orb.MultiPoint{gridPoint(r), gridPoint(r)}
	case 2, 3:
		return randomLine(r)
	case 4:
		return orb.MultiLineString{randomLine(r), randomLine(r)}
	case 5:
		return randomRectangle(r, 1)
	case 6:
		x, y := float64(r.IntN(3)), float64(r.IntN(3))
		outer := rectangle4(x, y, x+4, y+4)
		hole := rectangle4(x+1, y+1, x+1+float64(1+r.IntN(2)), y+1+float64(1+r.IntN(2)))
		return orb.Polygon{outer, hole}
	}
	// Two polygons apart: a valid MultiPolygon's parts meet at points at most.
	x := float64(r.IntN(3))
	return orb.MultiPolygon{
		{rectangle4(x, float64(r.IntN(3)), x+1+float64(r.IntN(2)), 4)},
		{rectangle4(x, 5, x+2, 6+float64(r.IntN(2)))},
	}
}

func randomLine(r *rand.Rand) orb.LineString {
	for {
		l := orb.LineString{gridPoint(r), gridPoint(r)}
		if r.IntN(2) == 0 {
			l = append(l, gridPoint(r))
		}
		// Kept simple: no vertex twice, no edge turning back along itself.
		ok := true
		for i := range l {
			for j := range i {
				ok = ok && l[i] != l[j]
			}
		}
		if len(l) == 3 && orient(l[0], l[1], l[2]) == 0 {
			ok = false
		}
		if ok {
			return l
		}
	}
}

func randomRectangle(r *rand.Rand, minSide int) orb.Polygon {
	x, y := r.IntN(6), r.IntN(6)
	w, h := minSide+r.IntN(6-x), minSide+r.IntN(6-y)
	if r.IntN(3) == 0 {
		// A triangle, half the rectangle.
		return orb.Polygon{{{float64(x), float64(y)}, {float64(x + w), float64(y)}, {float64(x), float64(y + h)}, {float64(x), float64(y)}}}
	}
	return orb.Polygon{rectangle4(float64(x), float64(y), float64(x+w), float64(y+h))}
}

func rectangle4(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

// reshaped is g as the same point set written otherwise: rings reversed
// or started elsewhere, a line reversed, a vertex added mid-edge.
func reshaped(r *rand.Rand, g orb.Geometry) orb.Geometry {
	switch g := orb.Clone(g).(type) {
	case orb.LineString:
		slices.Reverse(g)
		mid := orb.Point{(g[0][0] + g[1][0]) / 2, (g[0][1] + g[1][1]) / 2}
		return slices.Insert(g, 1, mid)
	case orb.Polygon:
		for _, ring := range g {
			if r.IntN(2) == 0 {
				slices.Reverse(ring)
			}
			k := 1 + r.IntN(len(ring)-2)
			rotated := append(slices.Clone(ring[k:len(ring)-1]), ring[:k]...)
			copy(ring, append(rotated, rotated[0]))
		}
		return g
	case orb.MultiPoint:
		slices.Reverse(g)
		return g
	}
	return g
}

func shifted(g orb.Geometry, dx, dy float64) orb.Geometry {
	c := orb.Clone(g)
	switch c := c.(type) {
	case orb.Point:
		return orb.Point{c[0] + dx, c[1] + dy}
	case orb.MultiPoint:
		moveAll(c, dx, dy)
	case orb.LineString:
		moveAll(c, dx, dy)
	case orb.MultiLineString:
		for _, l := range c {
			moveAll(l, dx, dy)
		}
	case orb.Polygon:
		for _, ring := range c {
			moveAll(ring, dx, dy)
		}
	case orb.MultiPolygon:
		for _, p := range c {
			for _, ring := range p {
				moveAll(ring, dx, dy)
			}
		}
	}
	return c
}

func moveAll(pts []orb.Point, dx, dy float64) {
	for i := range pts {
		pts[i][0] += dx
		pts[i][1] += dy
	}
}
