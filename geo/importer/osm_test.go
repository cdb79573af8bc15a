package importer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

const fixtures = "../../testdata/osm"

// imported is an import written to a fresh directory and loaded back by geo,
// as the server would load it.
type imported struct {
	res     *Result
	summary *Summary
	dir     string
	layers  map[string]*geo.Layer
}

func importOSMFixture(t *testing.T, file string, opt OSMOptions) *imported {
	t.Helper()
	res, err := OSM(context.Background(), file, opt)
	if err != nil {
		t.Fatal(err)
	}
	return writeAndLoad(t, res, t.TempDir())
}

func writeAndLoad(t *testing.T, res *Result, dir string) *imported {
	t.Helper()
	res.Imported = testImportTime()
	s, err := res.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := geojson.LoadDir(dir)
	if err != nil {
		t.Fatalf("the written layers do not load: %v", err)
	}
	im := &imported{res: res, summary: s, dir: dir, layers: map[string]*geo.Layer{}}
	for _, l := range layers {
		im.layers[l.Name()] = l
	}
	return im
}

// feature returns a written feature and its properties.
func (im *imported) feature(t *testing.T, layer, id string) (*geo.Feature, map[string]any) {
	t.Helper()
	l, ok := im.layers[layer]
	if !ok {
		t.Fatalf("no layer %s", layer)
	}
	f, _, ok := l.Lookup(id)
	if !ok {
		return nil, nil
	}
	var props map[string]any
	if err := json.Unmarshal(f.Properties, &props); err != nil {
		t.Fatalf("%s: properties: %v", id, err)
	}
	return f, props
}

// expectSkips checks that exactly these items were skipped, each with a
// reason containing the given text.
func (im *imported) expectSkips(t *testing.T, want map[string]string) {
	t.Helper()
	for item, reason := range want {
		if r := im.skipReason(item); !strings.Contains(r, reason) {
			t.Errorf("%s: skip reason %q, want one containing %q", item, r, reason)
		}
	}
	if im.summary.SkippedTotal != len(want) {
		t.Errorf("skipped %v, want only %v", im.summary.Skipped, want)
	}
}

// skipReason is the reason item was skipped, or "".
func (im *imported) skipReason(item string) string {
	for _, s := range im.summary.Skipped {
		if s.Item == item {
			return s.Reason
		}
	}
	return ""
}

func TestClosedWayAreas(t *testing.T) {
	im := importOSMFixture(t, filepath.Join(fixtures, "areas.osm"), OSMOptions{})
	cases := []struct {
		name, layer, id, geometry, kind, class string
	}{
		{"power=plant closed, drawn clockwise", "energy", "osm:way/101", "Polygon", "plant", "power_plant"},
		{"power=line closed stays a line", "energy", "osm:way/102", "LineString", "line", "transmission_line"},
		{"area=yes makes even a power line an area", "energy", "osm:way/103", "Polygon", "line", "transmission_line"},
		{"area=no keeps a substation outline a line", "energy", "osm:way/104", "LineString", "substation", "substation"},
		{"hospital building", "hospitals", "osm:way/105", "Polygon", "hospital", ""},
		{"healthcare=hospital alone is an area by the rule", "hospitals", "osm:way/106", "Polygon", "hospital", ""},
		{"area=no beats the rule", "hospitals", "osm:way/107", "LineString", "hospital", ""},
		{"open way is a line whatever its tags", "energy", "osm:way/108", "LineString", "plant", "power_plant"},
		{"closed highway bridge is a line", "bridges", "osm:way/109", "LineString", "bridge", ""},
		{"man_made=bridge closed is an area", "bridges", "osm:way/110", "Polygon", "bridge", ""},
		{"A-B-A is not a ring", "energy", "osm:way/111", "LineString", "generator", "power_plant"},
		{"generator node", "energy", "osm:node/201", "Point", "generator", "power_plant"},
		{"first matching rule of a layer wins", "hospitals", "osm:node/203", "Point", "hospital", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, props := im.feature(t, c.layer, c.id)
			if f == nil {
				t.Fatalf("%s missing from %s; skipped: %q", c.id, c.layer, im.skipReason(c.id))
			}
			if got := f.Geometry.GeoJSONType(); got != c.geometry {
				t.Errorf("geometry %s, want %s", got, c.geometry)
			}
			if props["kind"] != c.kind || props["source"] != osmSourceProperty || props["licence"] != osmLicence {
				t.Errorf("properties %v, want kind %q and the OSM source and licence", props, c.kind)
			}
			if class, _ := props["energy_class"].(string); class != c.class {
				t.Errorf("energy_class %q, want %q", class, c.class)
			}
			if p, ok := f.Geometry.(orb.Polygon); ok && p[0].Orientation() != orb.CCW {
				t.Errorf("exterior ring is not counter-clockwise: %v", p[0])
			}
		})
	}
	_, props := im.feature(t, "energy", "osm:way/101")
	want := map[string]any{"name": "Clockwise plant", "kind": "plant", "plant:source": "solar", "energy_class": "power_plant", "source": osmSourceProperty, "licence": osmLicence, "imported": testImportDay}
	if !equalJSON(props, want) {
		t.Errorf("osm:way/101 properties %v, want %v", props, want)
	}
	for _, absent := range []struct{ layer, id string }{
		{"bridges", "osm:way/113"},    // bridge=no
		{"hospitals", "osm:node/202"}, // clinics are off by default
	} {
		if f, _ := im.feature(t, absent.layer, absent.id); f != nil {
			t.Errorf("%s should not be in %s", absent.id, absent.layer)
		}
	}
	im.expectSkips(t, map[string]string{
		"osm:way/112": "node 999 is not in the file",
		"osm:way/114": "antimeridian",
	})
	if got := layerNames(im); !slices.Equal(got, []string{"bridges", "energy", "hospitals"}) {
		t.Errorf("layers %v", got)
	}
}

func TestOptionalClinics(t *testing.T) {
	im := importOSMFixture(t, filepath.Join(fixtures, "areas.osm"), OSMOptions{With: []string{"clinics"}})
	if f, props := im.feature(t, "hospitals", "osm:node/202"); f == nil || props["kind"] != "clinic" {
		t.Errorf("clinic node: %v %v", f, props)
	}
	if _, props := im.feature(t, "hospitals", "osm:node/203"); props["kind"] != "hospital" {
		t.Errorf("a hospital also tagged clinic is a %v, want hospital", props["kind"])
	}
	if _, err := OSM(context.Background(), filepath.Join(fixtures, "areas.osm"), OSMOptions{With: []string{"schools"}}); err == nil {
		t.Error("an unknown optional group was accepted")
	}
}

func TestMultipolygons(t *testing.T) {
	im := importOSMFixture(t, filepath.Join(fixtures, "multipolygon.osm"), OSMOptions{})
	f, props := im.feature(t, "energy", "osm:relation/1")
	if f == nil {
		t.Fatalf("relation 1 missing; skipped: %q", im.skipReason("osm:relation/1"))
	}
	if props["name"] != "Two-part plant" || props["plant:source"] != "hydro" {
		t.Errorf("properties %v", props)
	}
	mp, ok := f.Geometry.(orb.MultiPolygon)
	if !ok {
		t.Fatalf("geometry %T, want MultiPolygon", f.Geometry)
	}
	// Largest first: the plant joined from three ways with its hole, the
	// second outer with a hole whose role wrongly says outer, and the
	// island inside the first hole.
	want := []struct {
		outer orb.Bound
		holes []orb.Bound
	}{
		{box(30.60, 50.50, 30.62, 50.52), []orb.Bound{box(30.605, 50.505, 30.615, 50.515)}},
		{box(30.63, 50.50, 30.642, 50.51), []orb.Bound{box(30.632, 50.502, 30.634, 50.504)}},
		{box(30.608, 50.508, 30.612, 50.512), nil},
	}
	if len(mp) != len(want) {
		t.Fatalf("%d polygons, want %d: %v", len(mp), len(want), mp)
	}
	for i, w := range want {
		p := mp[i]
		if !p[0].Bound().Equal(w.outer) || len(p)-1 != len(w.holes) {
			t.Errorf("polygon %d: outer %v with %d holes, want %v with %d", i, p[0].Bound(), len(p)-1, w.outer, len(w.holes))
			continue
		}
		if p[0].Orientation() != orb.CCW || len(p[0]) != 5 {
			t.Errorf("polygon %d: outer ring %v is not a counter-clockwise ring of 5 positions", i, p[0])
		}
		for k, h := range w.holes {
			if !p[k+1].Bound().Equal(h) || p[k+1].Orientation() != orb.CW {
				t.Errorf("polygon %d hole %d: %v, want clockwise ring around %v", i, k, p[k+1], h)
			}
		}
	}
	if f, _ := im.feature(t, "hospitals", "osm:relation/6"); f == nil || f.Geometry.GeoJSONType() != "Polygon" {
		t.Errorf("relation 6: %v", f)
	}
	im.expectSkips(t, map[string]string{
		"osm:relation/2": "member way 999 is not in the file",
		"osm:relation/3": "ring not closed: member way 410 ends at node 4093",
		"osm:relation/4": "node 998 is not in the file",
		"osm:relation/8": "no way members",
	})
	// A route relation and an untagged multipolygon match no rule.
	for _, l := range im.layers {
		for _, id := range []string{"osm:relation/5", "osm:relation/7"} {
			if _, _, ok := l.Lookup(id); ok {
				t.Errorf("%s in layer %s", id, l.Name())
			}
		}
	}
}

func box(minLon, minLat, maxLon, maxLat float64) orb.Bound {
	return orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}
}

func TestBridgeMerge(t *testing.T) {
	im := importOSMFixture(t, filepath.Join(fixtures, "bridges.osm"), OSMOptions{})
	cases := []struct {
		name   string
		id     string
		coords [][]float64 // lon of each position per line (all lines here run along a latitude but the Y)
		ways   []any
	}{
		{"three segments, one drawn backwards", "osm:way/301", [][]float64{{30.60, 30.61, 30.62, 30.63}}, []any{301.0, 302.0, 303.0}},
		{"same name but apart", "osm:way/304", [][]float64{{30.70, 30.71}}, nil},
		{"same ref, no name", "osm:way/305", [][]float64{{30.60, 30.61, 30.62}}, []any{305.0, 306.0}},
		{"touching but another name", "osm:way/307", [][]float64{{30.63, 30.64}}, nil},
		{"unnamed segments stay apart", "osm:way/308", [][]float64{{30.60, 30.61}}, nil},
		{"unnamed segments stay apart", "osm:way/309", [][]float64{{30.61, 30.62}}, nil},
		{"three arms meeting at one node", "osm:way/310", [][]float64{{30.60, 30.61}, {30.62, 30.61}, {30.61, 30.61}}, []any{310.0, 311.0, 312.0}},
		{"a loop closes on itself", "osm:way/314", [][]float64{{30.70, 30.71, 30.71, 30.70, 30.70}}, []any{314.0, 315.0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, props := im.feature(t, "bridges", c.id)
			if f == nil {
				t.Fatalf("%s missing", c.id)
			}
			var lines []orb.LineString
			switch g := f.Geometry.(type) {
			case orb.LineString:
				lines = []orb.LineString{g}
			case orb.MultiLineString:
				lines = g
			default:
				t.Fatalf("geometry %T", g)
			}
			var lons [][]float64
			for _, l := range lines {
				var xs []float64
				for _, p := range l {
					xs = append(xs, p[0])
				}
				lons = append(lons, xs)
			}
			if !equalJSON(lons, c.coords) {
				t.Errorf("longitudes %v, want %v", lons, c.coords)
			}
			if got, _ := props["osm_ways"].([]any); !equalJSON(got, c.ways) {
				t.Errorf("osm_ways %v, want %v", props["osm_ways"], c.ways)
			}
		})
	}
	if n := im.layers["bridges"].Len(); n != len(cases) {
		t.Errorf("%d bridges, want %d", n, len(cases))
	}
	if r := im.skipReason("osm:way/313"); !strings.Contains(r, "node 999") {
		t.Errorf("way 313 skip reason %q", r)
	}

	separate := importOSMFixture(t, filepath.Join(fixtures, "bridges.osm"), OSMOptions{NoMerge: true})
	if n := separate.layers["bridges"].Len(); n != 14 {
		t.Errorf("without merging: %d bridges, want the 14 complete ways", n)
	}
}

// TestMergeIntoExisting checks that an import replaces features by id in
// place, drops the segments a merged bridge now stands for, keeps
// everything else, and that importing twice changes nothing.
func TestMergeIntoExisting(t *testing.T) {
	dir := t.TempDir()
	existing := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"osm:way/301","geometry":{"type":"LineString","coordinates":[[30.6,50.4],[30.61,50.4]]},"properties":{"name":"old"}},
{"type":"Feature","id":"manual:1","geometry":{"type":"Point","coordinates":[30.5,50.4]},"properties":{"name":"Kept","kind":"bridge"}},
{"type":"Feature","id":"osm:way/302","geometry":{"type":"LineString","coordinates":[[30.62,50.4],[30.61,50.4]]},"properties":{}}
]}`
	if err := os.WriteFile(filepath.Join(dir, "bridges.geojson"), []byte(existing), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := OSM(context.Background(), filepath.Join(fixtures, "bridges.osm"), OSMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	im := writeAndLoad(t, res, dir)
	var got LayerSummary
	for _, l := range im.summary.Layers {
		if l.Name == "bridges" {
			got = l
		}
	}
	if got.Replaced != 1 || got.Removed != 1 || got.Kept != 1 || got.Added != 7 || got.Kinds["bridge"] != 8 {
		t.Errorf("summary %+v, want 1 replaced, 1 removed, 1 kept, 7 added, 8 bridges imported", got)
	}
	l := im.layers["bridges"]
	if l.Feature(0).ID != "osm:way/301" || l.Feature(0).Name != "Pivdennyi Bridge" || l.Feature(1).ID != "manual:1" {
		t.Errorf("replacement not in place: %s (%s), %s", l.Feature(0).ID, l.Feature(0).Name, l.Feature(1).ID)
	}
	if _, _, ok := l.Lookup("osm:way/302"); ok {
		t.Error("osm:way/302 is merged into osm:way/301 but still in the layer")
	}
	first, err := os.ReadFile(filepath.Join(dir, "bridges.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	again := writeAndLoad(t, res, dir)
	second, err := os.ReadFile(filepath.Join(dir, "bridges.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Error("importing the same data twice changed the layer")
	}
	for _, l := range again.summary.Layers {
		if l.Added != 0 || l.Removed != 0 {
			t.Errorf("second import: %+v", l)
		}
	}
}

func TestBrokenExistingLayerIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	broken := []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,"properties":{}}]}`)
	file := filepath.Join(dir, "energy.geojson")
	if err := os.WriteFile(file, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := OSM(context.Background(), filepath.Join(fixtures, "areas.osm"), OSMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = res.WriteDir(dir)
	if err == nil || !strings.Contains(err.Error(), "energy.geojson is not a valid layer") {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != string(broken) {
		t.Error("the broken layer was overwritten")
	}
	if _, err := os.Stat(filepath.Join(dir, "hospitals.geojson")); err != nil {
		t.Errorf("the other layers should still be written: %v", err)
	}
}

func TestOSMFormats(t *testing.T) {
	want := importOSMFixture(t, filepath.Join(fixtures, "areas.osm"), OSMOptions{})
	raw, err := os.ReadFile(filepath.Join(fixtures, "areas.osm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, ext string }{{"gzip", ".osm.gz"}, {"bzip2", ".osm.bz2"}} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "areas"+c.ext)
			writeCompressed(t, file, c.name, raw)
			got := importOSMFixture(t, file, OSMOptions{})
			for name, l := range want.layers {
				if got.layers[name].Len() != l.Len() {
					t.Errorf("%s: %d features, want %d", name, got.layers[name].Len(), l.Len())
				}
			}
		})
	}
	if _, err := OSM(context.Background(), filepath.Join(fixtures, "missing.osm"), OSMOptions{}); err == nil {
		t.Error("a missing file was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.osm")
	os.WriteFile(bad, []byte("<osm>\n<node id=\"1\" lat=\"1\" lon=\"2\"/>\n<node id=\"2\"\n lat=\"x\" lon=\"2\"/>\n</osm>"), 0o644)
	if _, err := OSM(context.Background(), bad, OSMOptions{}); err == nil || !strings.Contains(err.Error(), "bad.osm: reading relations (pass 1/3): line 4: ") {
		t.Errorf("bad XML: error %v, want one naming the file and line", err)
	}
}

type phaseLog struct {
	phases []string
	last   [][2]int64 // final bytes and finds of each phase
}

func (p *phaseLog) Start(phase string, total int64) {
	p.phases = append(p.phases, phase)
	p.last = append(p.last, [2]int64{})
}
func (p *phaseLog) Update(read, found int64) { p.last[len(p.last)-1] = [2]int64{read, found} }
func (p *phaseLog) Finish()                  {}

func TestOSMProgress(t *testing.T) {
	file := filepath.Join(fixtures, "multipolygon.osm")
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	var log phaseLog
	if _, err := OSM(context.Background(), file, OSMOptions{Progress: &log}); err != nil {
		t.Fatal(err)
	}
	wantPhases := []string{"relations (pass 1/3)", "ways (pass 2/3)", "nodes (pass 3/3)"}
	if !slices.Equal(log.phases, wantPhases) {
		t.Fatalf("phases %q, want %q", log.phases, wantPhases)
	}
	// 5 matching multipolygons with way members; no matching ways or nodes.
	for i, found := range []int64{5, 0, 0} {
		if log.last[i] != [2]int64{st.Size(), found} {
			t.Errorf("%s ended at %v, want %d bytes and %d found", log.phases[i], log.last[i], st.Size(), found)
		}
	}
}

func layerNames(im *imported) []string {
	var names []string
	for _, l := range im.summary.Layers {
		names = append(names, l.Name)
	}
	return names
}

// equalJSON compares values by their JSON form.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// TestRemoveVanished imports into a layer holding a feature the OSM file
// no longer has and one of another source: with RemoveVanished the first
// goes, the other stays; without, both stay.
func TestRemoveVanished(t *testing.T) {
	for _, remove := range []bool{false, true} {
		dir := t.TempDir()
		existing := `{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","id":"osm:way/999","geometry":{"type":"Point","coordinates":[30.1,50.1]},"properties":{"kind":"plant","source":"` + osmSourceProperty + `"}},` +
			`{"type":"Feature","id":"gppd:WRI1","geometry":{"type":"Point","coordinates":[30.2,50.2]},"properties":{"kind":"plant","source":"` + gppdSourceProperty + `"}}]}`
		if err := os.WriteFile(filepath.Join(dir, "energy.geojson"), []byte(existing), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := OSM(context.Background(), filepath.Join(fixtures, "areas.osm"), OSMOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res.RemoveVanished = remove
		im := writeAndLoad(t, res, dir)
		if f, _ := im.feature(t, "energy", "osm:way/999"); (f == nil) != remove {
			t.Errorf("RemoveVanished %v: the vanished OSM feature is there: %v", remove, f != nil)
		}
		if f, _ := im.feature(t, "energy", "gppd:WRI1"); f == nil {
			t.Errorf("RemoveVanished %v: the GPPD feature was removed", remove)
		}
		var energy *LayerSummary
		for i := range im.summary.Layers {
			if im.summary.Layers[i].Name == "energy" {
				energy = &im.summary.Layers[i]
			}
		}
		if want := map[bool]int{false: 0, true: 1}[remove]; energy == nil || energy.Removed != want {
			t.Errorf("RemoveVanished %v: summary %+v, want %d removed", remove, energy, want)
		}
	}
}
