package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

// osmCategory is one tag rule of the default mapping, counted twice: by
// osmium's tag filters (a chain of tags-filter runs, each an OR of
// expressions) and by picking the imported features it should produce.
type osmCategory struct {
	name    string
	filters [][]string
	pick    func(layer string, props map[string]any) bool
}

var osmCategories = []osmCategory{
	{"plants and generators", [][]string{{"nwr/power=plant,generator"}}, func(l string, p map[string]any) bool {
		return l == "energy" && (p["kind"] == "plant" || p["kind"] == "generator")
	}},
	{"substations", [][]string{{"nwr/power=substation"}}, func(l string, p map[string]any) bool {
		return l == "energy" && p["kind"] == "substation"
	}},
	{"power lines", [][]string{{"w/power=line,minor_line,cable"}}, func(l string, p map[string]any) bool {
		return l == "energy" && p["kind"] == "line"
	}},
	{"hospitals", [][]string{{"nwr/amenity=hospital", "nwr/healthcare=hospital"}}, func(l string, p map[string]any) bool {
		return l == "hospitals"
	}},
	{"road and rail bridges", [][]string{{"w/bridge!=no"}, {"w/highway", "w/railway"}}, func(l string, p map[string]any) bool {
		return l == "bridges" && (p["highway"] != nil || p["railway"] != nil)
	}},
	{"bridge structures", [][]string{{"wr/man_made=bridge"}}, func(l string, p map[string]any) bool {
		return l == "bridges" && p["highway"] == nil && p["railway"] == nil
	}},
}

// TestOSMExtracts imports the real OpenStreetMap extracts in ../shared/data
// and checks, category by category, that the imported elements are exactly
// those osmium's tag filters select, and that every imported geometry has
// the coordinates osmium exports for that element.
func TestOSMExtracts(t *testing.T) {
	// Features per category (nodes and ways) as ../shared/data/README.md
	// lists them, a check on the osmium filters themselves.
	readme := map[string][]int{
		"andorra-latest.osm.pbf":       {2, 3, -1, 11, 439, 6},
		"rutland-latest.osm.pbf":       {692, 11, -1, 1, 211, 1},
		"liechtenstein-latest.osm.pbf": {19, 2, -1, 1, 296, 1},
		"porto.osm.pbf":                {0, 8, -1, 10, 67, 2},
		"krems.osm.gz":                 {1, 0, -1, 2, 66, 0},
	}
	osmium := testenv.Tool(t, "osmium")
	for _, name := range slices.Sorted(maps.Keys(readme)) {
		t.Run(name, func(t *testing.T) {
			file := testenv.SharedData(t, filepath.Join("osm_extracts", name))
			im := importOSMFixture(t, file, OSMOptions{NoMerge: true})
			if im.summary.SkippedTotal != 0 {
				t.Errorf("skipped %d: %v", im.summary.SkippedTotal, im.summary.Skipped)
			}
			got := im.byCategory(t)
			tmp := t.TempDir()
			for i, c := range osmCategories {
				want := osmiumIDs(t, osmium, file, tmp, c.filters)
				if !slices.Equal(got[i], want) {
					t.Errorf("%s: imported %d %v, osmium selects %d %v", c.name, len(got[i]), diff(got[i], want), len(want), diff(want, got[i]))
				}
				if n := readme[name][i]; n >= 0 && len(want) != n {
					t.Errorf("%s: osmium selects %d, the data README says %d", c.name, len(want), n)
				}
			}
			im.compareGeometry(t, osmium, file, tmp)
		})
	}
}

// byCategory lists the imported elements of each category as osmium names
// them ("n12", "w34", "r56"), sorted.
func (im *imported) byCategory(t *testing.T) [][]string {
	t.Helper()
	out := make([][]string, len(osmCategories))
	for name, l := range im.layers {
		for i := range l.Len() {
			f := l.Feature(i)
			var props map[string]any
			if err := json.Unmarshal(f.Properties, &props); err != nil {
				t.Fatal(err)
			}
			for k, c := range osmCategories {
				if c.pick(name, props) {
					out[k] = append(out[k], osmiumName(f.ID))
				}
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// osmiumName turns "osm:way/34" into "w34".
func osmiumName(id string) string {
	typ, n, _ := strings.Cut(strings.TrimPrefix(id, "osm:"), "/")
	return typ[:1] + n
}

// osmiumIDs runs the filter chain and returns the selected elements; of
// relations only multipolygons count, as only they become features.
func osmiumIDs(t *testing.T, osmium, file, tmp string, chain [][]string) []string {
	t.Helper()
	ids := osmiumChain(t, osmium, file, tmp, chain)
	mp := osmiumChain(t, osmium, file, tmp, append(slices.Clone(chain), []string{"r/type=multipolygon"}))
	var out []string
	for _, id := range ids {
		if id[0] != 'r' || slices.Contains(mp, id) {
			out = append(out, id)
		}
	}
	return out
}

func osmiumChain(t *testing.T, osmium, file, tmp string, chain [][]string) []string {
	t.Helper()
	in := file
	for i, exprs := range chain {
		out := filepath.Join(tmp, fmt.Sprintf("step%d.osm.pbf", i))
		args := append([]string{"tags-filter", "-R", "-O", "-o", out, in}, exprs...)
		if b, err := exec.Command(osmium, args...).CombinedOutput(); err != nil {
			t.Fatalf("osmium %v: %v\n%s", args, err, b)
		}
		in = out
	}
	opl, err := exec.Command(osmium, "cat", "-f", "opl", in).Output()
	if err != nil {
		t.Fatalf("osmium cat: %v", err)
	}
	var ids []string
	for line := range strings.Lines(string(opl)) {
		if id, _, ok := strings.Cut(line, " "); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// compareGeometry exports the matching elements with osmium, every way as
// a line, and checks each imported point and line position by position,
// and each polygon ring against the way in either direction.
func (im *imported) compareGeometry(t *testing.T, osmium, file, tmp string) {
	t.Helper()
	sel := filepath.Join(tmp, "selected.osm.pbf")
	exprs := []string{"nwr/power=plant,generator,substation", "w/power=line,minor_line,cable",
		"nwr/amenity=hospital", "nwr/healthcare=hospital", "w/bridge", "nwr/man_made=bridge"}
	if b, err := exec.Command(osmium, append([]string{"tags-filter", "-O", "-o", sel, file}, exprs...)...).CombinedOutput(); err != nil {
		t.Fatalf("osmium tags-filter: %v\n%s", err, b)
	}
	cfg := filepath.Join(tmp, "export.json")
	os.WriteFile(cfg, []byte(`{"attributes":{"type":true,"id":true},"linear_tags":true,"area_tags":false}`), 0o644)
	out, err := exec.Command(osmium, "export", "-c", cfg, "-f", "geojsonseq", sel).Output()
	if err != nil {
		t.Fatalf("osmium export: %v", err)
	}
	exported := map[string][]orb.Point{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var f struct {
			Geometry struct {
				Type        string
				Coordinates json.RawMessage
			}
			Properties struct {
				Type string `json:"@type"`
				ID   int64  `json:"@id"`
			}
		}
		if err := json.Unmarshal(bytes.TrimLeft(sc.Bytes(), "\x1e"), &f); err != nil {
			t.Fatal(err)
		}
		var pts []orb.Point
		switch f.Geometry.Type {
		case "Point":
			var p orb.Point
			err = json.Unmarshal(f.Geometry.Coordinates, &p)
			pts = []orb.Point{p}
		case "LineString":
			err = json.Unmarshal(f.Geometry.Coordinates, &pts)
		case "MultiPolygon": // what osmium makes of an area=yes way: compare the ring
			var mp [][][]orb.Point
			err = json.Unmarshal(f.Geometry.Coordinates, &mp)
			if err == nil && len(mp) == 1 && len(mp[0]) == 1 {
				pts = mp[0][0]
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		exported[f.Properties.Type[:1]+strconv.FormatInt(f.Properties.ID, 10)] = pts
	}
	checked := 0
	for _, l := range im.layers {
		for i := range l.Len() {
			f := l.Feature(i)
			var got []orb.Point
			switch g := f.Geometry.(type) {
			case orb.Point:
				got = []orb.Point{g}
			case orb.LineString:
				got = g
			case orb.Polygon:
				got = g[0]
			default:
				continue
			}
			want, ok := exported[osmiumName(f.ID)]
			if !ok {
				t.Errorf("%s: osmium exported no geometry for it", f.ID)
				continue
			}
			if !slices.Equal(got, want) && !sameRing(got, want) {
				t.Errorf("%s: %v, osmium has %v", f.ID, got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no geometry compared")
	}
}

// sameRing reports whether closed rings a and b have the same positions in
// the same cyclic order, in either direction, from whichever start.
func sameRing(a, b []orb.Point) bool {
	if len(a) != len(b) || len(a) < 4 || a[0] != a[len(a)-1] || b[0] != b[len(b)-1] {
		return false
	}
	a, b = a[:len(a)-1], b[:len(b)-1]
	n := len(a)
	for start := range n {
		for _, step := range []int{1, n - 1} {
			same := true
			for i := 0; i < n && same; i++ {
				same = a[i] == b[(start+i*step)%n]
			}
			if same {
				return true
			}
		}
	}
	return false
}

// diff lists what a has and b lacks, at most 10 of them.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found && len(out) < 10 {
			out = append(out, x)
		}
	}
	return out
}

// ogrPoints reads a CSV of points with GDAL's CSV driver, an independent
// reader, and returns each row's point by the id column.
func ogrPoints(t *testing.T, file, lon, lat, id string) map[string]orb.Point {
	t.Helper()
	ogr := testenv.Tool(t, "ogr2ogr")
	out, err := exec.Command(ogr, "-f", "GeoJSON", "/vsistdout/", file, "-oo", "X_POSSIBLE_NAMES="+lon,
		"-oo", "Y_POSSIBLE_NAMES="+lat, "-oo", "KEEP_GEOM_COLUMNS=NO", "-select", id).Output()
	if err != nil {
		t.Fatalf("ogr2ogr: %v", err)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any
			Geometry   struct{ Coordinates orb.Point }
		}
	}
	if err := json.Unmarshal(out, &fc); err != nil {
		t.Fatal(err)
	}
	pts := map[string]orb.Point{}
	for _, f := range fc.Features {
		pts[fmt.Sprint(f.Properties[id])] = f.Geometry.Coordinates
	}
	return pts
}

func samePoint(a, b orb.Point) bool {
	return math.Abs(a[0]-b[0]) < 1e-9 && math.Abs(a[1]-b[1]) < 1e-9
}

// TestGPPDUkraine imports the Global Power Plant Database rows of Ukraine and
// checks them against WRI's own country summary and GDAL's reading of the
// same file.
func TestGPPDUkraine(t *testing.T) {
	file := testenv.SharedData(t, "gppd/ukraine_power_plants.csv")
	res, err := GPPD(context.Background(), file, GPPDOptions{Country: "UKR"})
	if err != nil {
		t.Fatal(err)
	}
	im := writeAndLoad(t, res, t.TempDir())
	l := im.layers["energy"]
	if l == nil || l.Len() != 64 || im.summary.SkippedTotal != 0 || im.summary.Ignored != 0 {
		t.Fatalf("summary %+v", im.summary)
	}
	ogr := ogrPoints(t, file, "longitude", "latitude", "gppd_idnr")
	fuels := map[string]int{}
	total := 0.0
	for i := range l.Len() {
		f := l.Feature(i)
		var p struct {
			Fuel       string
			GPPDIdnr   string  `json:"gppd_idnr"`
			CapacityMW float64 `json:"capacity_mw"`
		}
		json.Unmarshal(f.Properties, &p)
		if f.ID != "gppd:"+p.GPPDIdnr || f.Kind != "plant" {
			t.Errorf("%s: gppd_idnr %q, kind %q", f.ID, p.GPPDIdnr, f.Kind)
		}
		if want, ok := ogr[p.GPPDIdnr]; !ok || !samePoint(f.Geometry.(orb.Point), want) {
			t.Errorf("%s at %v, GDAL reads %v", f.ID, f.Geometry, want)
		}
		fuels[p.Fuel]++
		total += p.CapacityMW
	}
	want := map[string]int{"coal": 21, "gas": 2, "hydro": 10, "nuclear": 4, "solar": 27}
	if !equalJSON(fuels, want) {
		t.Errorf("plants by fuel %v, WRI says %v", fuels, want)
	}
	if math.Abs(total-48569.8) > 1e-6 {
		t.Errorf("total capacity %.3f MW, WRI says 48,569.8", total)
	}
	burshtyn, props := im.feature(t, "energy", "gppd:WRI1005097")
	if burshtyn == nil || !samePoint(burshtyn.Geometry.(orb.Point), orb.Point{24.6665, 49.2104}) ||
		props["name"] != "Burshtyn power station" || props["commissioning_year"] != 1979.0 || props["owner"] != "DTEK" ||
		props["source"] != gppdSourceProperty || props["licence"] != gppdLicence {
		t.Errorf("Burshtyn: %v %v", burshtyn, props)
	}

	other, err := GPPD(context.Background(), file, GPPDOptions{Country: "POL"})
	if err != nil {
		t.Fatal(err)
	}
	if other.Len() != 0 || other.ignored != 64 {
		t.Errorf("country POL: %d plants, %d ignored", other.Len(), other.ignored)
	}
}

// TestGPPDReplacesDefaultPlants merges the GPPD import into a copy of the
// embedded energy layer, which holds the same 64 plants: those that are
// sites of their own are replaced in place by id, those merged into the OSM
// outline of their site are merged there again (the site cites them), and
// nothing else changes.
func TestGPPDReplacesDefaultPlants(t *testing.T) {
	file := testenv.SharedData(t, "gppd/ukraine_power_plants.csv")
	dir := t.TempDir()
	def, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "data", "energy.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "energy.geojson"), def, 0o644)
	before, err := geojson.LoadFile("energy", filepath.Join(dir, "energy.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := GPPD(context.Background(), file, GPPDOptions{Country: "UKR"})
	if err != nil {
		t.Fatal(err)
	}
	im := writeAndLoad(t, res, dir)
	s := im.summary.Layers[0]
	own := 0
	for i := range before.Len() {
		if strings.HasPrefix(before.Feature(i).ID, "gppd:") {
			own++
		}
	}
	if own == 0 || own == 64 {
		t.Fatalf("the default layer has %d GPPD plants as sites of their own; the test needs some merged into OSM outlines", own)
	}
	if s.Replaced+s.Unchanged != own || s.Added != 0 || len(s.Merges) != 64-own || s.Kept != before.Len()-own {
		t.Errorf("summary %+v, layer had %d features, %d of them GPPD plants", s, before.Len(), own)
	}
	for _, m := range s.Merges {
		if f, _, ok := before.Lookup(m.Into); !ok || !strings.HasPrefix(m.Into, "osm:") || !strings.Contains(string(f.Properties), strings.TrimPrefix(m.Imported, "gppd:")) {
			t.Errorf("GPPD %s merged into %s, which does not cite it", m.Imported, m.Into)
		}
	}
	if after := im.layers["energy"]; after.Len() != before.Len() {
		t.Errorf("%d features after the import, %d before", after.Len(), before.Len())
	}
	after := im.layers["energy"]
	for i := range before.Len() {
		if a, b := after.Feature(i), before.Feature(i); a.ID != b.ID ||
			!strings.HasPrefix(a.ID, "gppd:") && string(a.Properties) != string(b.Properties) {
			t.Fatalf("feature %d: %s, was %s", i, a.ID, b.ID)
		}
	}
}

// TestCSVHealthFacilities imports the 15,936 HOT health facility points by
// their record number and compares each with GDAL's reading.
func TestCSVHealthFacilities(t *testing.T) {
	file := testenv.SharedData(t, "health_hotosm_points_geomonly/ukraine_health_facility_points_geomonly.csv")
	res, err := CSV(context.Background(), file, CSVMapping{Layer: "health", ID: "shp_record_no", IDPrefix: "hot:", Kind: "health facility"})
	if err != nil {
		t.Fatal(err)
	}
	im := writeAndLoad(t, res, t.TempDir())
	l := im.layers["health"]
	if l.Len() != 15936 || im.summary.SkippedTotal != 0 {
		t.Fatalf("%d features, skipped %v", l.Len(), im.summary.Skipped)
	}
	ogr := ogrPoints(t, file, "lon", "lat", "shp_record_no")
	for i := range l.Len() {
		f := l.Feature(i)
		if want, ok := ogr[strings.TrimPrefix(f.ID, "hot:")]; !ok || !samePoint(f.Geometry.(orb.Point), want) {
			t.Fatalf("%s at %v, GDAL reads %v", f.ID, f.Geometry, want)
		}
		if f.Kind != "health facility" {
			t.Fatalf("%s: kind %q", f.ID, f.Kind)
		}
	}
}

// TestGeoJSONPowerStations imports the OSM power station export as a layer.
func TestGeoJSONPowerStations(t *testing.T) {
	file := testenv.SharedData(t, "osm_power_stations/power_stations_with_oblasts.geojson")
	res, err := GeoJSON(file, GeoJSONOptions{Layer: "stations", Kind: "station"})
	if err != nil {
		t.Fatal(err)
	}
	im := writeAndLoad(t, res, t.TempDir())
	l := im.layers["stations"]
	if l.Len() != 999 {
		t.Fatalf("%d features, want 999", l.Len())
	}
	src, err := geojson.LoadFile("stations", file)
	if err != nil {
		t.Fatal(err)
	}
	for i := range l.Len() {
		a, b := l.Feature(i), src.Feature(i)
		if a.ID != b.ID || !equalJSON(a.Geometry, b.Geometry) || a.Kind != "station" {
			t.Fatalf("feature %d: %s (%s), source %s", i, a.ID, a.Kind, b.ID)
		}
	}
}
