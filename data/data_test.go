package data_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

// energyClasses is the documented energy_class vocabulary (SOURCES.md) with
// the number of sites of each class the committed build holds. Agreement
// readings select on these names (agreement.EnergyClasses), so a rename must fail
// here first.
var energyClasses = map[string]int{
	"transformer":       0,
	"distribution":      0,
	"power_plant":       663,
	"nuclear_plant":     5,
	"hydro_dam":         10,
	"substation":        330,
	"transmission_line": 505,
	"oil_refinery":      0,
	"oil_gas_pipeline":  56,
	"oil_gas_storage":   16,
	"pumping_station":   16,
}

// layerFloor is the number of features each default layer must at least hold.
var layerFloor = map[string]int{"energy": 1500, "hospitals": 75, "bridges": 26, "zones": 1}

func loadDefaults(t *testing.T) map[string]*geo.Layer {
	t.Helper()
	layers, err := geojson.LoadFS(data.Layers())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*geo.Layer{}
	for _, l := range layers {
		byName[l.Name()] = l
	}
	return byName
}

func props(t *testing.T, l *geo.Layer, f *geo.Feature) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(f.Properties, &p); err != nil {
		t.Fatalf("%s/%s: %v", l.Name(), f.ID, err)
	}
	return p
}

// TestDefaultLayers: the embedded layers load cleanly, hold at least their
// floor of features, and every feature carries the documented conventions.
func TestDefaultLayers(t *testing.T) {
	layers := loadDefaults(t)
	want := map[string][]string{
		"energy":    {"plant", "substation", "line", "pipeline", "storage", "pumping_station"},
		"hospitals": {"hospital"},
		"bridges":   {"bridge"},
		"zones":     {"corridor", "port"},
	}
	if len(layers) != len(want) {
		t.Fatalf("%d layers, want %d", len(layers), len(want))
	}
	for name, l := range layers {
		if l.Len() < layerFloor[name] {
			t.Errorf("layer %s has %d features, want at least %d", name, l.Len(), layerFloor[name])
		}
		kinds := map[string]int{}
		for i := range l.Len() {
			f := l.Feature(i)
			p := props(t, l, f)
			keys := []string{"name", "kind", "source", "precision"}
			if name != geojson.ZonesLayer {
				// Sites on land lie in an oblast and are named by their source.
				keys = append(keys, "oblast_iso")
				if !strings.Contains(f.ID, ":") {
					t.Errorf("%s/%s: id has no source namespace", name, f.ID)
				}
			}
			for _, key := range keys {
				if s, _ := p[key].(string); s == "" {
					t.Errorf("%s/%s: no %s", name, f.ID, key)
				}
			}
			if name == "energy" {
				if s, _ := p["licence"].(string); s == "" {
					t.Errorf("%s/%s: no licence", name, f.ID)
				}
			}
			kinds[f.Kind]++
		}
		for _, k := range want[name] {
			if kinds[k] == 0 {
				t.Errorf("layer %s has no %s", name, k)
			}
		}
	}
}

// TestEnergyClasses: every energy site has a class of the vocabulary, and
// each class holds as many sites as the committed build made.
func TestEnergyClasses(t *testing.T) {
	l := loadDefaults(t)["energy"]
	got := map[string]int{}
	for i := range l.Len() {
		f := l.Feature(i)
		c, _ := props(t, l, f)["energy_class"].(string)
		if _, ok := energyClasses[c]; !ok {
			t.Errorf("%s: energy_class %q is not in the vocabulary", f.ID, c)
		}
		got[c]++
	}
	for c, n := range energyClasses {
		if got[c] != n {
			t.Errorf("energy_class %s: %d sites, want %d", c, got[c], n)
		}
		if !slices.Contains(agreement.EnergyClasses(), c) {
			t.Errorf("energy_class %s is not in agreement.EnergyClasses", c)
		}
	}
	for _, c := range agreement.EnergyClasses() {
		if _, ok := energyClasses[c]; !ok {
			t.Errorf("agreement.EnergyClasses has %s, which the default layer does not document", c)
		}
	}
}

// TestOneSiteOneFeature: no point of a layer lies inside an outline of the
// same kind in that layer; such a point would describe the outline's site a
// second time, and a strike there would hit two sites.
func TestOneSiteOneFeature(t *testing.T) {
	for name, l := range loadDefaults(t) {
		var outlines []*geo.Feature
		for i := range l.Len() {
			switch l.Feature(i).Geometry.(type) {
			case orb.Polygon, orb.MultiPolygon:
				outlines = append(outlines, l.Feature(i))
			}
		}
		for i := range l.Len() {
			f := l.Feature(i)
			pt, ok := f.Geometry.(orb.Point)
			if !ok {
				continue
			}
			for _, o := range outlines {
				if o.Kind == f.Kind && o.Geometry.Bound().Contains(pt) && geodesy.ContainsPoint(o.Geometry, pt) {
					t.Errorf("%s: point %s lies inside %s of the same kind %q", name, f.ID, o.ID, f.Kind)
				}
			}
		}
	}
}

// citedIDs collects every id the energy layer cites: feature ids, and the
// ids of source records merged into a feature (gppd_idnr, osm_id, gem_id).
func citedIDs(t *testing.T) map[string]bool {
	l := loadDefaults(t)["energy"]
	ids := map[string]bool{}
	for i := range l.Len() {
		f := l.Feature(i)
		ids[f.ID] = true
		p := props(t, l, f)
		for key, prefix := range map[string]string{"gppd_idnr": "gppd:", "osm_id": "osm:", "gem_id": ""} {
			s, _ := p[key].(string)
			for _, id := range strings.Split(s, ";") {
				if id != "" {
					ids[prefix+id] = true
				}
			}
		}
	}
	return ids
}

// TestGPPDPlantsPresent: every plant of the Global Power Plant Database's
// Ukraine subset is in the energy layer, as a site of its own or merged
// into the OSM outline of its site.
func TestGPPDPlantsPresent(t *testing.T) {
	rows := readCSV(t, testenv.SharedData(t, "gppd/ukraine_power_plants.csv"))
	ids := citedIDs(t)
	n := 0
	for _, r := range rows {
		if r["country"] != "UKR" {
			continue
		}
		n++
		if !ids["gppd:"+r["gppd_idnr"]] {
			t.Errorf("GPPD plant %s (%s) is missing", r["gppd_idnr"], r["name"])
		}
	}
	if n != 64 {
		t.Errorf("%d GPPD rows for Ukraine, want 64", n)
	}
}

// TestOSMStationsPresent: every plant and transmission substation of the
// shared OpenStreetMap export is in the energy layer, on its own or merged
// into the larger outline of the same site.
func TestOSMStationsPresent(t *testing.T) {
	b, err := os.ReadFile(testenv.SharedData(t, "osm_power_stations/power_stations_with_oblasts.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Properties struct {
				OSMID   int64  `json:"osm_id"`
				OSMType string `json:"osm_type"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	ids := citedIDs(t)
	for _, f := range fc.Features {
		id := "osm:" + f.Properties.OSMType + "/" + strconv.FormatInt(f.Properties.OSMID, 10)
		if !ids[id] {
			t.Errorf("OSM station %s is missing", id)
		}
	}
	if len(fc.Features) != 999 {
		t.Errorf("%d OSM stations, want 999", len(fc.Features))
	}
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func TestBasemap(t *testing.T) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data.Basemap(), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 27 {
		t.Fatalf("basemap: type %q, %d features, %v", fc.Type, len(fc.Features), err)
	}
}

// TestEmbeddedCopies: the gzip copies the binary holds decompress to
// exactly the committed files (build.py --gzip-only refreshes them), and
// the layers come back as a well-behaved fs.FS.
func TestEmbeddedCopies(t *testing.T) {
	layers := data.Layers()
	want := []string{"bridges.geojson", "energy.geojson", "hospitals.geojson", "zones.geojson"}
	if err := fstest.TestFS(layers, want...); err != nil {
		t.Fatal(err)
	}
	if len(layers) != len(want) {
		t.Errorf("%d layer files embedded, want %d", len(layers), len(want))
	}
	embedded := map[string][]byte{filepath.Join("basemap", "ukraine.geojson"): data.Basemap()}
	for _, name := range want {
		b, err := layers.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		embedded[name] = b
	}
	for name, b := range embedded {
		committed, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, committed) {
			t.Errorf("embedded %s (%d bytes) is not the committed file (%d bytes): run python3 data/build/build.py --gzip-only",
				name, len(b), len(committed))
		}
	}
}

// TestBuildReproduces: the committed layers are exactly what build/build.py
// makes from the public data sets it names (make data-check).
func TestBuildReproduces(t *testing.T) {
	python := testenv.Tool(t, "python3")
	shared := testenv.SharedData(t, ".")
	out, err := exec.Command(python, "build/build.py", shared, "--check").CombinedOutput()
	if err != nil {
		t.Fatalf("build.py --check: %v\n%s", err, out)
	}
	// Every layer the build makes is checked, none skipped for a missing input.
	for _, layer := range []string{"energy", "hospitals", "bridges"} {
		if !regexp.MustCompile(`(?m)^` + layer + `\.geojson +ok$`).Match(out) {
			t.Errorf("build.py --check did not prove %s.geojson:\n%s", layer, out)
		}
	}
}

// TestDefaultZones: the corridors of the default zones layer are served as
// the areas they cover, and the default agreements name only zones.
func TestDefaultZones(t *testing.T) {
	layers, err := geojson.LoadFS(data.Layers())
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(layers...)
	if err != nil {
		t.Fatal(err)
	}
	zones, ok := ix.Layer(geojson.ZonesLayer)
	if !ok {
		t.Fatal("no zones layer")
	}
	for i := range zones.Len() {
		f := zones.Feature(i)
		if typ := f.Geometry.GeoJSONType(); typ != "Polygon" {
			t.Errorf("zone %s is a %s, want a Polygon", f.ID, typ)
		}
	}
	set, err := agreement.LoadAgreements(ix, "agreements.json", bytes.NewReader(data.Agreements()))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range set.Agreements() {
		for _, r := range a.Readings {
			if len(r.Sources) == 0 || r.Notes == "" {
				t.Errorf("%s/%s: a reading needs its sources and notes", a.ID, r.ID)
			}
			for _, s := range r.Sources {
				if !strings.HasPrefix(s.URL, "https://") || s.Date == "" {
					t.Errorf("%s/%s: source %q lacks a URL or a date", a.ID, r.ID, s.Title)
				}
			}
		}
	}
}

// BenchmarkLayers measures what the compressed embedding costs at start:
// decompressing every default layer file once.
func BenchmarkLayers(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for _, f := range data.Layers() {
		n += len(f)
	}
	b.SetBytes(int64(n)) // MB/s of GeoJSON decompressed
	for b.Loop() {
		data.Layers()
	}
}
