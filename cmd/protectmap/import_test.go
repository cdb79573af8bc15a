package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/geo/importer"
)

func TestImportOSMCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "import", "osm", "../../testdata/osm/areas.osm", "--out", dir, "--with", "clinics")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"energy.geojson: 7 features (7 added, 0 replaced, 0 unchanged, 0 removed, 0 kept, 0 merged into sites)",
		"hospitals.geojson: 5 features",
		"    clinic         1",
		"skipped 2:",
		"osm:way/112: node 999 is not in the file",
		"peak memory",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Not a terminal: one plain line per pass.
	if n := strings.Count(errOut, "import: "); n != 3 || !strings.Contains(errOut, "nodes (pass 3/3): done") {
		t.Errorf("progress lines:\n%s", errOut)
	}
	if code, out, _ := runCLI(t, "validate", dir); code != 0 || strings.Count(out, "ok ") != 3 {
		t.Errorf("the written layers do not validate: exit %d\n%s", code, out)
	}
	// serve --data DIR loads them the same way.
	ix, err := loadIndex(dir, nil)
	if err != nil {
		t.Fatalf("serving the imported layers: %v", err)
	}
	if ix.Len() != 7+5+2 {
		t.Errorf("serving %d features, want 14", ix.Len())
	}
}

func TestImportUsage(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no source", []string{"import"}, 2, "name a source"},
		{"unknown source", []string{"import", "shapefile", "x"}, 2, `unknown source "shapefile"`},
		{"no --out", []string{"import", "osm", "../../testdata/osm/areas.osm"}, 2, "--out DIR is required"},
		{"two files", []string{"import", "gppd", "a.csv", "b.csv", "--out", dir}, 2, "exactly one input file"},
		{"csv without layer", []string{"import", "csv", "a.csv", "--out", dir}, 2, "--layer NAME is required"},
		{"bad delimiter", []string{"import", "csv", "a.csv", "--out", dir, "--layer", "x", "--delimiter", "ab"}, 2, "--delimiter"},
		{"unknown optional group", []string{"import", "osm", "../../testdata/osm/areas.osm", "--out", dir, "--with", "schools"}, 1, `optional group "schools"`},
		{"missing file", []string{"import", "geojson", filepath.Join(dir, "none.geojson"), "--out", dir}, 1, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}

func TestImportMappingFile(t *testing.T) {
	code, out, _ := runCLI(t, "import", "osm", "--print-mapping")
	if code != 0 {
		t.Fatalf("--print-mapping: exit %d", code)
	}
	if _, err := importer.ReadMapping(strings.NewReader(out)); err != nil {
		t.Fatalf("the printed mapping does not read back: %v", err)
	}
	dir := t.TempDir()
	custom := filepath.Join(dir, "mapping.json")
	os.WriteFile(custom, []byte(`{"rules":[{"layer":"power","kind":"line","elements":"w","match":["power=line"],"keep":["voltage"]}]}`), 0o644)
	code, out, errOut := runCLI(t, "import", "osm", "../../testdata/osm/areas.osm", "--mapping", custom, "--out", filepath.Join(dir, "out"))
	if code != 0 || !strings.Contains(out, "power.geojson: 2 features") {
		t.Errorf("custom mapping: exit %d\n%s%s", code, out, errOut)
	}
	os.WriteFile(custom, []byte(`{"rules":[{"layer":"power","kind":"line","match":["=line"]}]}`), 0o644)
	code, _, errOut = runCLI(t, "import", "osm", "../../testdata/osm/areas.osm", "--mapping", custom, "--out", dir)
	if code != 2 || !strings.Contains(errOut, `rule 0 (layer "power", kind "line"): match 0: "=line": no tag key`) {
		t.Errorf("bad mapping: exit %d, %q", code, errOut)
	}
}

func TestImportCSVCommand(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "sites.csv")
	os.WriteFile(csv, []byte("code;title;X;Y;note\nh1;Central;30.52;50.45;main\nh2;Bad;30.5;abc;\nh3;Far;200;10;\nh4;Short\n"), 0o644)
	before := time.Now().UTC().Format(time.DateOnly)
	code, out, errOut := runCLI(t, "import", "csv", csv, "--out", dir, "--layer", "clinics", "--delimiter", ";",
		"--id", "code", "--id-prefix", "clinic:", "--name", "title", "--kind", "clinic",
		"--source", "Oblast clinic list", "--licence", "CC-BY-4.0")
	after := time.Now().UTC().Format(time.DateOnly)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"clinics.geojson: 1 features",
		`line 3: Y: "abc" is not a number`,
		"line 4: X: 200 is out of range ±180",
		"line 5: has 2 fields, the header has 5",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "clinics.geojson"))
	want := func(day string) string {
		return `{"type":"Feature","id":"clinic:h1","geometry":{"type":"Point","coordinates":[30.52,50.45]},"properties":{"name":"Central","kind":"clinic","note":"main","source":"Oblast clinic list","licence":"CC-BY-4.0","imported":"` + day + `"}}`
	}
	if !strings.Contains(string(b), want(before)) && !strings.Contains(string(b), want(after)) {
		t.Errorf("layer file:\n%s\nwant it to hold\n%s", b, want(after))
	}
	code, _, errOut = runCLI(t, "import", "csv", csv, "--out", dir, "--layer", "x", "--delimiter", ";", "--lon", "lng")
	if code != 1 || !strings.Contains(errOut, `lon: no column "lng" in the header (code, title, X, Y, note)`) {
		t.Errorf("unknown column: exit %d, %q", code, errOut)
	}
}

func TestLogProgress(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &logProgress{w: &buf, every: 5 * time.Second, now: func() time.Time { return now }}
	p.Start("ways (pass 2/3)", 100e6)
	for i := 1; i <= 10; i++ {
		now = now.Add(time.Second)
		p.Update(int64(i)*5e6, int64(i))
	}
	p.Finish()
	want := "import: ways (pass 2/3): 25.0 MB of 100.0 MB (25%), 5 found, 5.0 MB/s, ETA 15s\n" +
		"import: ways (pass 2/3): 50.0 MB of 100.0 MB (50%), 10 found, 5.0 MB/s, ETA 10s\n" +
		"import: ways (pass 2/3): done, 50.0 MB of 100.0 MB (50%), 10 found, 5.0 MB/s\n"
	if buf.String() != want {
		t.Errorf("got\n%swant\n%s", buf.String(), want)
	}
}

// TestBarProgress checks that the bar completes once, with the last finds:
// the file is read ahead of decoding, so bytes reach the total early.
func TestBarProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &barProgress{w: &buf}
	p.Start("nodes (pass 3/3)", 1000)
	p.Update(1000, 5)
	p.Update(1000, 7)
	p.Finish()
	out := buf.String()
	if strings.Count(out, "100%") != 1 || !strings.Contains(out, "nodes (pass 3/3), 7 found 100%") || !strings.Contains(out, "1.0/1.0 kB") {
		t.Errorf("bar output %q", out)
	}
}

// TestImportRemoveVanished: --remove-vanished drops a feature of the
// source that the file no longer holds, and says so.
func TestImportRemoveVanished(t *testing.T) {
	dir := t.TempDir()
	vanished := `{"type":"FeatureCollection","features":[{"type":"Feature","id":"osm:way/999","geometry":{"type":"Point","coordinates":[30.1,50.1]},` +
		`"properties":{"kind":"plant","source":"OpenStreetMap contributors (ODbL 1.0)"}}]}`
	if err := os.WriteFile(filepath.Join(dir, "energy.geojson"), []byte(vanished), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "import", "osm", "../../testdata/osm/areas.osm", "--out", dir, "--remove-vanished")
	if code != 0 || !strings.Contains(out, "energy.geojson: 7 features (7 added, 0 replaced, 0 unchanged, 1 removed, 0 kept") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestImportConflationReport: the summary names every record merged into a
// site the layer holds, and every point left beside a site of its kind.
func TestImportConflationReport(t *testing.T) {
	dir, in := t.TempDir(), filepath.Join(t.TempDir(), "plants.geojson")
	outline := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"osm:way/1","geometry":{"type":"Polygon","coordinates":[[[30,50],[30.01,50],[30.01,50.01],[30,50.01],[30,50]]]},"properties":{"name":"Plant","kind":"plant"}}]}`
	points := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"gem:G1","geometry":{"type":"Point","coordinates":[30.005,50.005]},"properties":{"name":"Plant (GEM)","kind":"plant"}},
{"type":"Feature","id":"gem:G2","geometry":{"type":"Point","coordinates":[30.017,50.005]},"properties":{"name":"Beside","kind":"plant"}}]}`
	if err := os.WriteFile(filepath.Join(dir, "energy.geojson"), []byte(outline), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, []byte(points), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "import", "geojson", in, "--out", dir, "--layer", "energy")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"energy.geojson: 2 features (1 added, 0 replaced, 0 unchanged, 0 removed, 1 kept, 1 merged into sites)",
		"merged gem:G1 into osm:way/1 (inside its outline)",
		"near miss: gem:G2 added 502 m from osm:way/1 of the same kind", // 0.007° of longitude at 50° N,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
