package crs_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/crs"
	"github.com/protectmap/protectmap/internal/testenv"
)

// samplePoints covers Ukraine and its neighbours (22°E to 41°E, 44°N to
// 53°N) on a grid, with random points between, and Kyiv.
func samplePoints() []orb.Point {
	pts := []orb.Point{{30.5234, 50.4501}}
	for lon := 22.0; lon <= 41; lon += 1.9 {
		for lat := 44.0; lat <= 53; lat += 1.5 {
			pts = append(pts, orb.Point{lon, lat})
		}
	}
	r := rand.New(rand.NewPCG(7, 21))
	for range 200 {
		pts = append(pts, orb.Point{22 + 19*r.Float64(), 44 + 9*r.Float64()})
	}
	return pts
}

// cs2cs converts pts from CRS84 to target with PROJ's cs2cs.
func cs2cs(t *testing.T, target string, pts []orb.Point) []orb.Point {
	t.Helper()
	bin := testenv.Tool(t, "cs2cs")
	var in bytes.Buffer
	for _, p := range pts {
		fmt.Fprintf(&in, "%.12f %.12f\n", p[0], p[1])
	}
	cmd := exec.Command(bin, "-f", "%.10f", "OGC:CRS84", target)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cs2cs %s: %v", target, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(pts) {
		t.Fatalf("cs2cs %s: %d lines for %d points", target, len(lines), len(pts))
	}
	got := make([]orb.Point, len(lines))
	for i, line := range lines {
		fields := strings.Fields(line)
		x, errX := strconv.ParseFloat(fields[0], 64)
		y, errY := strconv.ParseFloat(fields[1], 64)
		if errX != nil || errY != nil {
			t.Fatalf("cs2cs %s: line %q", target, line)
		}
		got[i] = orb.Point{x, y}
	}
	return got
}

// TestAgainstPROJ converts sample points to every CRS served and back, and
// compares with cs2cs: within 0.1 mm (1e-9° for degrees) each way.
func TestAgainstPROJ(t *testing.T) {
	pts := samplePoints()
	for _, c := range crs.All {
		t.Run(c.URI, func(t *testing.T) {
			target, tol := "OGC:CRS84", 1e-9
			if code, ok := strings.CutPrefix(c.URI, "http://www.opengis.net/def/crs/EPSG/0/"); ok {
				target = "EPSG:" + code
				if code != "4326" {
					tol = 1e-4
				}
			}
			want := cs2cs(t, target, pts)
			worst := 0.0
			for i, p := range pts {
				got := c.FromLonLat(p)
				d := math.Max(math.Abs(got[0]-want[i][0]), math.Abs(got[1]-want[i][1]))
				worst = math.Max(worst, d)
				if d > tol {
					t.Errorf("%v: %v, cs2cs %v", p, got, want[i])
				}
				back, err := c.ToLonLat(want[i])
				if err != nil || math.Abs(back[0]-p[0]) > 1e-9 || math.Abs(back[1]-p[1]) > 1e-9 {
					t.Errorf("%v back from %v: %v, %v", p, want[i], back, err)
				}
			}
			t.Logf("%d points, worst difference from cs2cs %.3g", len(pts), worst)
		})
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name, uri string
	}{
		{"http://www.opengis.net/def/crs/OGC/1.3/CRS84", crs.CRS84URI},
		{"<http://www.opengis.net/def/crs/OGC/1.3/CRS84>", crs.CRS84URI},
		{"urn:ogc:def:crs:OGC:1.3:CRS84", crs.CRS84URI},
		{"EPSG:3857", "http://www.opengis.net/def/crs/EPSG/0/3857"},
		{"urn:ogc:def:crs:EPSG::4326", "http://www.opengis.net/def/crs/EPSG/0/4326"},
		{"http://www.opengis.net/def/crs/EPSG/0/32636", "http://www.opengis.net/def/crs/EPSG/0/32636"},
	} {
		c, err := crs.Lookup(tc.name)
		if err != nil || c.URI != tc.uri {
			t.Errorf("Lookup(%q) = %v, %v; want %s", tc.name, c, err, tc.uri)
		}
	}
	for _, bad := range []string{"", "EPSG:32633", "EPSG:32638", "http://www.opengis.net/def/crs/EPSG/0/2154", "EPSG:3857x", "EPSG:+3857"} {
		if c, err := crs.Lookup(bad); err == nil {
			t.Errorf("Lookup(%q) = %v, want an error", bad, c)
		}
	}
}

// TestBoxToLonLat: a box in Web Mercator or EPSG:4326 is a box in
// longitude/latitude; one in UTM is a polygon through its corners whose
// sides, converted back, are the box's.
func TestBoxToLonLat(t *testing.T) {
	merc, _ := crs.Lookup("EPSG:3857")
	g, err := merc.BoxToLonLat(merc.FromLonLat(orb.Point{30, 50}), merc.FromLonLat(orb.Point{31, 51}))
	b, ok := g.(orb.Bound)
	if err != nil || !ok || math.Abs(b.Min[0]-30) > 1e-9 || math.Abs(b.Max[1]-51) > 1e-9 {
		t.Errorf("Web Mercator box: %v, %v", g, err)
	}
	lat, _ := crs.Lookup("EPSG:4326")
	if g, err := lat.BoxToLonLat(orb.Point{50, 30}, orb.Point{51, 31}); err != nil || g.Bound() != (orb.Bound{Min: orb.Point{30, 50}, Max: orb.Point{31, 51}}) {
		t.Errorf("EPSG:4326 box: %v, %v", g, err)
	}
	utm, _ := crs.Lookup("EPSG:32636")
	lo, hi := orb.Point{300000, 5500000}, orb.Point{400000, 5600000}
	g, err = utm.BoxToLonLat(lo, hi)
	poly, ok := g.(orb.Polygon)
	if err != nil || !ok {
		t.Fatalf("UTM box: %v, %v", g, err)
	}
	for _, p := range poly[0] {
		q := utm.FromLonLat(p)
		onX := math.Abs(q[0]-lo[0]) < 1e-6 || math.Abs(q[0]-hi[0]) < 1e-6
		onY := math.Abs(q[1]-lo[1]) < 1e-6 || math.Abs(q[1]-hi[1]) < 1e-6
		if !onX && !onY || q[0] < lo[0]-1e-6 || q[0] > hi[0]+1e-6 || q[1] < lo[1]-1e-6 || q[1] > hi[1]+1e-6 {
			t.Fatalf("UTM box outline point %v is %v, off the box's sides", p, q)
		}
	}
	if _, err := utm.BoxToLonLat(hi, lo); err == nil {
		t.Error("unordered corners accepted")
	}
	if _, err := merc.ToLonLat(orb.Point{3e7, 0}); err == nil {
		t.Error("a point beyond Web Mercator's world accepted")
	}
}

// FuzzToLonLat: any finite point either converts to a longitude and
// latitude in range or is refused; never NaN.
func FuzzToLonLat(f *testing.F) {
	f.Add(uint8(3), 322520.83, 5591652.15)
	f.Add(uint8(2), 2e7, -2e7)
	f.Add(uint8(1), 91.0, 0.0)
	f.Fuzz(func(t *testing.T, which uint8, x, y float64) {
		c := crs.All[int(which)%len(crs.All)]
		p, err := c.ToLonLat(orb.Point{x, y})
		if err == nil && !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
			t.Fatalf("%s: %v, %v to %v", c.URI, x, y, p)
		}
	})
}
