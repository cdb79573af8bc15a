package server_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

// serveLoopback serves f on a free loopback port for real clients.
func serveLoopback(t *testing.T, f *fixture) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.e, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// run executes a client with a deadline and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=30", "CPL_DEBUG=OFF")
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
		}
	}()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestGDAL drives the server with GDAL's OAPIF driver, the client QGIS
// shares: ogrinfo lists every collection with its feature count, and
// ogr2ogr copies a collection, whole, within a box, and filtered by a
// property, exactly as the index holds it.
func TestGDAL(t *testing.T) {
	ogrinfo := testenv.Tool(t, "ogrinfo")
	ogr2ogr := testenv.Tool(t, "ogr2ogr")
	var logs logBuffer
	f := newFixture(t, logTo(&logs))
	base := serveLoopback(t, f)

	out := run(t, ogrinfo, "-ro", "-al", "-so", "OAPIF:"+base)
	counts := map[string]int{}
	layerRe := regexp.MustCompile(`(?m)^Layer name: (\S+)\s*$`)
	countRe := regexp.MustCompile(`(?m)^Feature Count: (\d+)\s*$`)
	names, nums := layerRe.FindAllStringSubmatch(out, -1), countRe.FindAllStringSubmatch(out, -1)
	if len(names) != len(nums) {
		t.Fatalf("ogrinfo listed %d layers and %d counts:\n%s", len(names), len(nums), out)
	}
	for i := range names {
		counts[names[i][1]], _ = strconv.Atoi(nums[i][1])
	}
	for _, l := range f.ix.Layers() {
		if n, ok := counts[l.Name()]; !ok || n != l.Len() {
			t.Errorf("ogrinfo: layer %s has %d features (listed: %v), the index %d", l.Name(), n, ok, l.Len())
		}
	}
	if len(counts) != len(f.ix.Layers()) {
		t.Errorf("ogrinfo listed %v, the index has %d layers", counts, len(f.ix.Layers()))
	}

	energy, _ := f.ix.Layer("energy")
	all := expected(energy, func(int) bool { return true })
	box := geo.BBox{MinLon: 30.4, MinLat: 50.3, MaxLon: 30.8, MaxLat: 50.6}
	inBox := map[int]bool{}
	energy.Search(box, func(i int) bool { inBox[i] = true; return true })
	substations := func(i int) bool { return energy.Feature(i).Kind == "substation" }
	tests := []struct {
		name string
		args []string
		want []string
		// sent is what the server must have been asked: filters run
		// there, not in the client.
		sent string
	}{
		{"whole", nil, all, "/collections/energy/items?limit="},
		{"small pages", []string{"-oo", "PAGE_SIZE=4"}, all, "cursor=n3"},
		{"bbox", []string{"-spat", "30.4", "50.3", "30.8", "50.6"}, expected(energy, func(i int) bool { return inBox[i] }), "&bbox=30.39"},
		// GDAL 3.6 sends a where clause as CQL text to a server whose API
		// lists the language; later versions to one declaring the filter
		// conformance classes. Either way it is the server that filters.
		{"property filter", []string{"-where", "kind = 'substation'"}, expected(energy, substations), "filter=kind%20%3D%20'substation'&filter-lang=cql-text"},
		{"comparison filter", []string{"-where", "voltage_kv >= 330"}, expected(energy, func(i int) bool { return number(energy, i, "voltage_kv") >= 330 }),
			"filter=voltage_kv%20%3E%3D%20330&filter-lang=cql-text"},
		{"or filter", []string{"-where", "kind = 'plant' OR voltage_kv < 330"}, expected(energy, func(i int) bool {
			v := number(energy, i, "voltage_kv")
			return energy.Feature(i).Kind == "plant" || !math.IsNaN(v) && v < 330
		}), "filter=(kind%20%3D%20'plant')%20OR%20(voltage_kv%20%3C%20330)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "out.geojson")
			args := append([]string{"-f", "GeoJSON", dst, "OAPIF:" + base, "energy"}, tc.args...)
			run(t, ogr2ogr, args...)
			got := readGeoJSON(t, dst)
			var ids []string
			for _, g := range got {
				ids = append(ids, g.id)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("ogr2ogr copied %v\nwant %v", ids, tc.want)
			}
			if !strings.Contains(logs.String(), tc.sent) {
				t.Errorf("no request with %q reached the server:\n%s", tc.sent, logs.String())
			}
			for _, g := range got {
				src, _, _ := energy.Lookup(g.id)
				if want := geojson.AppendGeometry(nil, src.Geometry); !sameGeometry(t, g.geometry, want) {
					t.Errorf("%s: geometry %s, want %s", g.id, g.geometry, want)
				}
				if g.name != src.Name {
					t.Errorf("%s: name %q, want %q", g.id, g.name, src.Name)
				}
			}
		})
	}
}

// number is feature i's numeric property key, NaN when it has none.
func number(l *geo.Layer, i int, key string) float64 {
	var p map[string]any
	json.Unmarshal(l.Feature(i).Properties, &p)
	if v, ok := p[key].(float64); ok {
		return v
	}
	return math.NaN()
}

type copied struct {
	id, name string
	geometry json.RawMessage
}

// readGeoJSON reads what ogr2ogr wrote: GDAL keeps a string feature id as
// the "id" field.
func readGeoJSON(t *testing.T, path string) []copied {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			ID         any             `json:"id"`
			Geometry   json.RawMessage `json:"geometry"`
			Properties map[string]any  `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	out := make([]copied, len(fc.Features))
	for i, f := range fc.Features {
		id := f.Properties["id"]
		if id == nil {
			id = f.ID
		}
		name, _ := f.Properties["name"].(string)
		out[i] = copied{id: strings.TrimSuffix(strings.TrimSuffix(jsonText(id), ".0"), "\n"), name: name, geometry: f.Geometry}
	}
	return out
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// sameGeometry compares two GeoJSON geometries, coordinates to 1e-9
// degrees: GDAL writes 15 significant digits.
func sameGeometry(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return closeValues(x, y)
}

func closeValues(x, y any) bool {
	switch x := x.(type) {
	case float64:
		y, ok := y.(float64)
		return ok && math.Abs(x-y) < 1e-9
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !closeValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !closeValues(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return x == y
}

// TestGDALStrikes: GDAL reads the strike log as the OGC collection
// strikes, every page of it, as QGIS would.
func TestGDALStrikes(t *testing.T) {
	ogrinfo := testenv.Tool(t, "ogrinfo")
	f := newStrikeFixture(t, sqliteStore(t))
	var features []string
	for i := range 7 {
		features = append(features, strikeAt(30+float64(i)/10, 50, moratoriumStart.Add(time.Duration(i)*time.Minute), ""))
	}
	f.post(t, "application/geo+json", collectionOf(features...), http.StatusCreated)
	base := serveLoopback(t, f.fixture)
	for _, pageSize := range []string{"100", "3"} {
		out := run(t, ogrinfo, "-ro", "-al", "-so", "-oo", "PAGE_SIZE="+pageSize, "OAPIF:"+base, "strikes")
		if !regexp.MustCompile(`(?m)^Feature Count: 7\s*$`).MatchString(out) {
			t.Errorf("PAGE_SIZE=%s: ogrinfo does not count the 7 strikes:\n%s", pageSize, out)
		}
	}
	if log := f.logs.String(); !strings.Contains(log, "/collections/strikes/items?cursor=") {
		t.Errorf("GDAL did not follow the next links:\n%s", log)
	}
}

// TestStrikesExport: f=ndjson and f=kml (or Accept) stream every strike
// matching, across the store's pages, once each and in time order; GDAL
// reads both, and a CSV page, with the right count and coordinates.
func TestStrikesExport(t *testing.T) {
	ogrinfo := testenv.Tool(t, "ogrinfo")
	f := newStrikeFixture(t, sqliteStore(t))
	const n = 10_050 // more than a store page
	features := make([]string, n)
	for i := range features {
		features[i] = strikeAt(30+float64(i%100)/100, 48+float64(i/100)/100, moratoriumStart.Add(time.Duration(i)*time.Second), "")
	}
	f.post(t, "application/geo+json", collectionOf(features...), http.StatusCreated)

	rec := f.get(t, "/collections/strikes/items?f=ndjson")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("f=ndjson: %d %q\n%.300s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
	seen := map[string]bool{}
	last := ""
	for i, line := range lines {
		feature := decode(t, []byte(line))
		id, _ := feature["id"].(string)
		when, _ := props(t, feature)["datetime"].(string)
		if seen[id] || when < last {
			t.Fatalf("line %d: strike %s at %s repeated or out of order", i+1, id, when)
		}
		seen[id], last = true, when
	}
	if len(lines) != n {
		t.Errorf("f=ndjson: %d strikes, want %d", len(lines), n)
	}
	// Filters apply; limit does not: an export is the whole selection.
	if rec := f.get(t, "/strikes?f=ndjson&limit=5&bbox=29.9,47.9,30.095,48.015"); strings.Count(rec.Body.String(), "\n") != 10*2 {
		t.Errorf("bbox export: %d strikes, want 20", strings.Count(rec.Body.String(), "\n"))
	}

	dir := t.TempDir()
	all, firstPage := "Extent: (30.000000, 48.000000) - (30.990000, 49.000000)", "Extent: (30.000000, 48.000000) - (30.990000, 48.990000)"
	for _, format := range []struct {
		query, accept, file, want string
		count                     int
		extent                    string
	}{
		{"?f=kml", "", "strikes.kml", "application/vnd.google-earth.kml+xml", n, all},
		{"", "application/x-ndjson", "strikes.geojsonl", "application/x-ndjson", n, all},
		// CSV stays a page of the log, its geometry in the wkt column.
		{"?limit=10000", "text/csv", "strikes.csv", "text/csv", 10_000, firstPage},
	} {
		rec := f.get(t, "/collections/strikes/items"+format.query, "Accept: "+format.accept)
		if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusOK || !strings.HasPrefix(ct, format.want) {
			t.Fatalf("%s %s: %d %q", format.query, format.accept, rec.Code, ct)
		}
		path := filepath.Join(dir, format.file)
		if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out := run(t, ogrinfo, "-ro", "-al", "-so", path)
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^Feature Count: %d\s*$`, format.count)).MatchString(out) {
			t.Errorf("%s: ogrinfo does not count %d strikes:\n%s", format.file, format.count, out)
		}
		if !strings.Contains(out, format.extent) {
			t.Errorf("%s: ogrinfo gives another extent than %s:\n%s", format.file, format.extent, out)
		}
	}
}
