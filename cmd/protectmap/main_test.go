package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	for _, cmd := range [][]string{{"help"}, {"serve", "--help"}, {"validate", "--help"}, {"near", "--help"}, {"snapshot", "--help"}} {
		code, out, errOut := runCLI(t, cmd...)
		if code != 0 || !strings.Contains(out+errOut, "protectmap") {
			t.Errorf("%v: exit %d, output %q", cmd, code, out+errOut)
		}
	}
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
}

func TestValidate(t *testing.T) {
	code, out, _ := runCLI(t, "validate", "../../data")
	if code != 0 || strings.Count(out, "ok ") != 4 {
		t.Fatalf("default data: exit %d\n%s", code, out)
	}
	code, out, errOut := runCLI(t, "validate", "../../testdata/layers-broken/bad.geojson")
	if code != 1 {
		t.Fatalf("broken layer: exit %d", code)
	}
	for _, want := range []string{
		"bad.geojson: feature 1 (id \"far\"): Point: longitude 200 out of range",
		"bad.geojson: feature 2 (id \"open\"): unclosed ring",
		"bad.geojson: feature 3 (id \"twice\"): property \"kind\" appears twice",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "not a valid layer") {
		t.Errorf("stderr %q", errOut)
	}
	// Strict mode stops at the first broken layer; --keep-going checks on.
	_, out, _ = runCLI(t, "validate", "../../testdata/layers-broken/bad.geojson", "../../data/energy.geojson")
	if strings.Contains(out, "energy.geojson") {
		t.Errorf("strict mode went past the broken layer:\n%s", out)
	}
	code, out, _ = runCLI(t, "validate", "--keep-going", "../../testdata/layers-broken/bad.geojson", "../../data/energy.geojson")
	if code != 1 || !strings.Contains(out, "ok   ../../data/energy.geojson") {
		t.Errorf("--keep-going: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "validate"); code != 2 || !strings.Contains(errOut, "at least one") {
		t.Errorf("no arguments: exit %d %q", code, errOut)
	}
}

func TestNear(t *testing.T) {
	layers, err := geojson.LoadFS(data.Layers())
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := geo.NewIndex(layers...)
	kyiv := orb.Point{30.5234, 50.4501}
	want, err := ix.Nearby(kyiv, 5000, 3)
	if err != nil || len(want) != 3 {
		t.Fatalf("expectation: %v %v", want, err)
	}

	code, out, _ := runCLI(t, "near", "--lon", "30.5234", "--lat", "50.4501", "--radius", "5000", "--limit", "3")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header + 3 rows:\n%s", out)
	}
	for i, h := range want {
		if !strings.Contains(lines[i+1], h.Feature.ID) {
			t.Errorf("row %d %q lacks %s", i+1, lines[i+1], h.Feature.ID)
		}
	}

	code, out, _ = runCLI(t, "near", "--lon", "30.5234", "--lat", "50.4501", "--radius", "5000", "--limit", "3", "--format", "geojson")
	var fc struct {
		Features []struct {
			ID         string         `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &fc) != nil || len(fc.Features) != 3 {
		t.Fatalf("geojson: exit %d\n%s", code, out)
	}
	if fc.Features[0].ID != want[0].Feature.ID || fc.Features[0].Properties["distance_m"].(float64)-want[0].Meters > 0.001 {
		t.Errorf("first hit %v, want %s at %.3f m", fc.Features[0], want[0].Feature.ID, want[0].Meters)
	}

	for _, bad := range [][]string{
		{"near", "--lat", "50"},
		{"near", "--lon", "30", "--lat", "91"},
		{"near", "--lon", "30", "--lat", "50", "--radius", "-5"},
		{"near", "--lon", "30", "--lat", "50", "--format", "xml"},
		{"near", "--lon", "30", "--lat", "50", "--layers", "nope"},
	} {
		if code, _, errOut := runCLI(t, bad...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
}

func TestNearWithDataDir(t *testing.T) {
	dir := t.TempDir()
	layer := `{"type":"FeatureCollection","features":[{"type":"Feature","id":"x","properties":{"name":"Test site","kind":"plant"},"geometry":{"type":"Point","coordinates":[30.6,50.4]}}]}`
	if err := os.WriteFile(filepath.Join(dir, "sites.geojson"), []byte(layer), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "near", "--data", dir, "--lon", "30.6", "--lat", "50.4", "--layers", "sites")
	if code != 0 || !strings.Contains(out, "Test site") || !strings.Contains(out, "0.0") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	code, _, errOut := runCLI(t, "near", "--data", "../../testdata/layers-broken", "--lon", "30", "--lat", "50")
	if code != 1 || !strings.Contains(errOut, "longitude 200 out of range") {
		t.Fatalf("broken data dir: exit %d %q", code, errOut)
	}
}

// TestLoadDatasetAgreements: a data directory without agreements.json is
// judged by the embedded agreements, as --help says, or refused with a
// message saying so when they do not fit its layers; never by none.
func TestLoadDatasetAgreements(t *testing.T) {
	energy, err := data.Layers().ReadFile("energy.geojson")
	if err != nil {
		t.Fatal(err)
	}
	other := `{"type":"FeatureCollection","features":[{"type":"Feature","id":"x","properties":{},"geometry":{"type":"Point","coordinates":[30.6,50.4]}}]}`
	empty := filepath.Join(t.TempDir(), "none.json")
	if err := os.WriteFile(empty, []byte(noAgreements), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		files      map[string]string
		flag       string
		agreements int
		from, fail string
	}{
		{"embedded, fitting the layers", map[string]string{"energy.geojson": string(energy)}, "", 2, embeddedAgreements, ""},
		{"embedded, not fitting", map[string]string{"sites.geojson": other}, "", 0, "", "has no agreements.json, so the embedded agreements apply"},
		{"the directory's own", map[string]string{"sites.geojson": other, "agreements.json": noAgreements}, "", 0, "agreements.json", ""},
		{"the flag first", map[string]string{"energy.geojson": string(energy)}, empty, 0, empty, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d, from, err := loadDataset(dir, nil, tc.flag)
			if tc.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fail) {
					t.Fatalf("err %v, want one saying %q", err, tc.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Agreements) != tc.agreements || !strings.HasSuffix(from, tc.from) {
				t.Errorf("%d agreements from %s, want %d from %s", len(d.Agreements), from, tc.agreements, tc.from)
			}
			// The embedded agreements bring the zones they name.
			if _, ok := d.Index.Layer(geojson.ZonesLayer); ok != (from == embeddedAgreements) {
				t.Errorf("agreements from %s: zones layer served %v", from, ok)
			}
		})
	}
}

// TestServeRefusesBadReadings: an agreements file with a bad reading stops
// the server before it listens, naming the file, agreement, reading and
// member at fault.
func TestServeRefusesBadReadings(t *testing.T) {
	reading := func(over string) string {
		return `{"agreements":[{"id":"m","title":"M","readings":[{"id":"ua","party":"ua","start":"2025-03-25T00:00:00+02:00",` +
			`"sources":[{"title":"Zelensky"}],` + over + `}]}]}`
	}
	for _, tc := range []struct{ name, body, want string }{
		{"unknown class", reading(`"collections":["energy"],"energy_classes":["refinery"]`),
			`agreement 0 (id "m"), reading "ua": readings[0].energy_classes[0]: unknown class "refinery"`},
		{"ends before it starts", reading(`"collections":["energy"],"end":"2025-03-01T00:00:00Z"`),
			`agreement 0 (id "m"), reading "ua": readings[0].end: 2025-03-01T00:00:00Z is not after start`},
		{"zone that is no area", reading(`"sites":[{"collection":"energy","id":"gppd:WRI1005099"}],"zones":["nowhere"]`),
			`agreement 0 (id "m"), reading "ua": readings[0].zones[0]: no site "nowhere" in collection "zones"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(file, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runCLI(t, "serve", "--addr", "127.0.0.1:0", "--store", "off", "--agreements", file)
			if code == 0 || !strings.Contains(errOut, file+": "+tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to say %q", code, errOut, file+": "+tc.want)
			}
		})
	}
}
