package server_test

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/internal/testenv"
)

// cs2csPoints converts [lon, lat] points to the EPSG CRS code with PROJ's
// cs2cs, in that CRS's axis order.
func cs2csPoints(t *testing.T, code string, pts [][2]float64) [][2]float64 {
	t.Helper()
	var in bytes.Buffer
	for _, p := range pts {
		fmt.Fprintf(&in, "%.12f %.12f\n", p[0], p[1])
	}
	cmd := exec.Command(testenv.Tool(t, "cs2cs"), "-f", "%.10f", "OGC:CRS84", "EPSG:"+code)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cs2cs: %v", err)
	}
	var got [][2]float64
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		x, _ := strconv.ParseFloat(f[0], 64)
		y, _ := strconv.ParseFloat(f[1], 64)
		got = append(got, [2]float64{x, y})
	}
	if len(got) != len(pts) {
		t.Fatalf("cs2cs: %d points for %d", len(got), len(pts))
	}
	return got
}

// positions flattens the coordinates of a decoded GeoJSON geometry, in order.
func positions(g any) [][2]float64 {
	var out [][2]float64
	var walk func(v any)
	walk = func(v any) {
		arr, ok := v.([]any)
		if !ok {
			return
		}
		if len(arr) >= 2 {
			if x, ok := arr[0].(float64); ok {
				out = append(out, [2]float64{x, arr[1].(float64)})
				return
			}
		}
		for _, a := range arr {
			walk(a)
		}
	}
	m, _ := g.(map[string]any)
	if gs, ok := m["geometries"].([]any); ok {
		for _, sub := range gs {
			out = append(out, positions(sub)...)
		}
		return out
	}
	walk(m["coordinates"])
	return out
}

const epsgPrefix = "http://www.opengis.net/def/crs/EPSG/0/"

// TestCRS serves every collection's items and one item in each CRS
// offered, and compares every coordinate with cs2cs's conversion of the
// CRS84 one; EPSG:4326 comes latitude first.
func TestCRS(t *testing.T) {
	f := newFixture(t)
	plain := decode(t, f.get(t, "/collections/energy/items?limit=100").Body.Bytes())["features"].([]any)
	var lonlat [][2]float64
	for _, ft := range plain {
		lonlat = append(lonlat, positions(ft.(map[string]any)["geometry"])...)
	}
	for _, code := range []string{"4326", "3857", "32634", "32635", "32636", "32637"} {
		t.Run(code, func(t *testing.T) {
			// Far from a UTM zone PROJ's series and ours part ways; compare
			// within 30° of the central meridian, as UTM is used.
			cm := float64(6*(atoiOr(code, 0)-32600) - 183)
			want := cs2csPoints(t, code, lonlat)
			for _, target := range []string{"/collections/energy/items?limit=100&crs=" + url.QueryEscape(epsgPrefix+code), "/collections/energy/items?limit=100&crs=EPSG:" + code} {
				rec := f.get(t, target)
				if rec.Code != 200 || rec.Header().Get("Content-Crs") != "<"+epsgPrefix+code+">" {
					t.Fatalf("GET %s: %d, Content-Crs %q", target, rec.Code, rec.Header().Get("Content-Crs"))
				}
				var got [][2]float64
				for _, ft := range decode(t, rec.Body.Bytes())["features"].([]any) {
					got = append(got, positions(ft.(map[string]any)["geometry"])...)
				}
				if len(got) != len(want) {
					t.Fatalf("%d positions, want %d", len(got), len(want))
				}
				tol := 1e-4 // metres
				if code == "4326" {
					tol = 1e-9
				}
				for i := range got {
					if strings.HasPrefix(code, "326") && math.Abs(lonlat[i][0]-cm) > 30 {
						continue
					}
					if math.Abs(got[i][0]-want[i][0]) > tol || math.Abs(got[i][1]-want[i][1]) > tol {
						t.Fatalf("%v: served %v, cs2cs %v", lonlat[i], got[i], want[i])
					}
				}
			}
		})
	}
	// One item, and its Content-Crs in CRS84 too.
	rec := f.get(t, "/collections/energy/items/sub-odesa?crs=EPSG:32636")
	pt := positions(decode(t, rec.Body.Bytes())["geometry"])
	want := cs2csPoints(t, "32636", [][2]float64{{30.7233, 46.4825}})
	if rec.Code != 200 || rec.Header().Get("Content-Crs") != "<"+epsgPrefix+"32636>" || len(pt) != 1 ||
		math.Abs(pt[0][0]-want[0][0]) > 1e-4 || math.Abs(pt[0][1]-want[0][1]) > 1e-4 {
		t.Errorf("one item in UTM 36N: %d %v %v, cs2cs %v", rec.Code, rec.Header().Get("Content-Crs"), pt, want)
	}
	if rec := f.get(t, "/collections/energy/items/sub-odesa"); rec.Header().Get("Content-Crs") != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
		t.Errorf("Content-Crs %q in CRS84", rec.Header().Get("Content-Crs"))
	}
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// TestBBoxAndFilterCRS: a box given in another CRS, as bbox with bbox-crs
// or as a filter's BBOX with filter-crs, selects what the same box in
// CRS84 does when its sides are meridians and parallels (EPSG:4326, Web
// Mercator); a UTM box selects the points whose UTM coordinates (by
// cs2cs) fall in it.
func TestBBoxAndFilterCRS(t *testing.T) {
	f := newFixture(t)
	ids := func(target string) []string {
		t.Helper()
		rec := f.get(t, target)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		got := featureIDs(t, decode(t, rec.Body.Bytes()))
		slices.Sort(got)
		return got
	}
	box := [2][2]float64{{30.3, 46.3}, {31.0, 50.6}}
	want := ids(fmt.Sprintf("/collections/energy/items?limit=100&bbox=%v,%v,%v,%v", box[0][0], box[0][1], box[1][0], box[1][1]))
	if len(want) < 3 {
		t.Fatalf("the box holds %v: too few to tell", want)
	}
	merc := cs2csPoints(t, "3857", box[:])
	for _, target := range []string{
		fmt.Sprintf("/collections/energy/items?limit=100&bbox-crs=EPSG:4326&bbox=%v,%v,%v,%v", box[0][1], box[0][0], box[1][1], box[1][0]),
		fmt.Sprintf("/collections/energy/items?limit=100&bbox-crs=%s&bbox=%.4f,%.4f,%.4f,%.4f", url.QueryEscape(epsgPrefix+"3857"), merc[0][0], merc[0][1], merc[1][0], merc[1][1]),
		"/collections/energy/items?limit=100&filter-crs=EPSG:3857&filter=" + url.QueryEscape(fmt.Sprintf("S_INTERSECTS(geometry, BBOX(%.4f, %.4f, %.4f, %.4f))", merc[0][0], merc[0][1], merc[1][0], merc[1][1])),
		"/collections/energy/items?limit=100&filter-crs=EPSG:4326&filter=" + url.QueryEscape(fmt.Sprintf("S_INTERSECTS(geometry, BBOX(%v, %v, %v, %v))", box[0][1], box[0][0], box[1][1], box[1][0])),
	} {
		if got := ids(target); !slices.Equal(got, want) {
			t.Errorf("GET %s: %v, want %v", target, got, want)
		}
	}

	// A UTM 36N box: the points inside it by their cs2cs coordinates.
	plain := decode(t, f.get(t, "/collections/energy/items?limit=100").Body.Bytes())["features"].([]any)
	var pointIDs []string
	var pts [][2]float64
	for _, ft := range plain {
		ft := ft.(map[string]any)
		if g := ft["geometry"].(map[string]any); g["type"] == "Point" {
			pointIDs = append(pointIDs, fmt.Sprint(ft["id"]))
			pts = append(pts, positions(g)[0])
		}
	}
	utm := cs2csPoints(t, "32636", pts)
	lo, hi := [2]float64{250000, 5300000}, [2]float64{420000, 5610000}
	var inside []string
	for i, p := range utm {
		if p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1] {
			inside = append(inside, pointIDs[i])
		}
	}
	slices.Sort(inside)
	if len(inside) < 3 || len(inside) == len(pointIDs) {
		t.Fatalf("the UTM box holds %v of %d points: not a test", inside, len(pointIDs))
	}
	got := slices.DeleteFunc(ids(fmt.Sprintf("/collections/energy/items?limit=100&bbox-crs=EPSG:32636&bbox=%.0f,%.0f,%.0f,%.0f", lo[0], lo[1], hi[0], hi[1])),
		func(id string) bool { return !slices.Contains(pointIDs, id) })
	if !slices.Equal(got, inside) {
		t.Errorf("UTM box: %v, want %v", got, inside)
	}
}

// TestStrikesCRS: the strike log serves its points in another CRS, with
// Content-Crs, takes a bbox in Web Mercator, and refuses a UTM bbox it
// cannot apply exactly.
func TestStrikesCRS(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	day := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	f.post(t, "application/geo+json", collectionOf(strikeAt(30.5, 50.4, day, `"source":"crs"`), strikeAt(36.2, 49.9, day.Add(time.Hour), `"source":"crs"`)), http.StatusCreated)
	rec := f.get(t, "/collections/strikes/items?crs=EPSG:32636")
	want := cs2csPoints(t, "32636", [][2]float64{{30.5, 50.4}, {36.2, 49.9}})
	var got [][2]float64
	for _, ft := range decode(t, rec.Body.Bytes())["features"].([]any) {
		got = append(got, positions(ft.(map[string]any)["geometry"])...)
	}
	if rec.Code != 200 || rec.Header().Get("Content-Crs") != "<"+epsgPrefix+"32636>" || len(got) != 2 {
		t.Fatalf("strikes in UTM: %d %q %v", rec.Code, rec.Header().Get("Content-Crs"), got)
	}
	for i := range got {
		if math.Abs(got[i][0]-want[i][0]) > 1e-4 || math.Abs(got[i][1]-want[i][1]) > 1e-4 {
			t.Errorf("strike %d: %v, cs2cs %v", i, got[i], want[i])
		}
	}
	one := f.getJSON(t, "/collections/strikes/items?limit=1")["features"].([]any)[0].(map[string]any)
	rec = f.get(t, "/collections/strikes/items/"+fmt.Sprint(one["id"])+"?crs=EPSG:4326")
	if pt := positions(decode(t, rec.Body.Bytes())["geometry"]); rec.Code != 200 || rec.Header().Get("Content-Crs") != "<"+epsgPrefix+"4326>" || len(pt) != 1 || pt[0] != [2]float64{50.4, 30.5} {
		t.Errorf("one strike in EPSG:4326: %d %q %v", rec.Code, rec.Header().Get("Content-Crs"), pt)
	}
	merc := cs2csPoints(t, "3857", [][2]float64{{30, 50}, {31, 51}})
	doc := f.getJSON(t, fmt.Sprintf("/collections/strikes/items?bbox-crs=EPSG:3857&bbox=%.4f,%.4f,%.4f,%.4f", merc[0][0], merc[0][1], merc[1][0], merc[1][1]))
	if doc["numberMatched"] != 1.0 {
		t.Errorf("Web Mercator bbox: %v strikes", doc["numberMatched"])
	}
	for _, target := range []string{"/collections/strikes/items?bbox-crs=EPSG:32636&bbox=300000,5500000,400000,5600000", "/strikes?crs=EPSG:3857&f=csv"} {
		if rec := f.get(t, target); rec.Code != 400 {
			t.Errorf("GET %s: %d, want 400", target, rec.Code)
		}
	}
}
