package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

func energyLayer(t *testing.T) *geo.Layer {
	t.Helper()
	layers, err := geojson.LoadFS(data.Layers())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		if l.Name() == "energy" {
			return l
		}
	}
	t.Fatal("no energy layer")
	return nil
}

// exportedIDs reads the feature ids of an export in any format, in order.
func exportedIDs(t *testing.T, format string, body []byte) []string {
	t.Helper()
	var ids []string
	switch format {
	case "geojson":
		l, err := geojson.DecodeLayer("back", "export", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.Len() {
			ids = append(ids, l.Feature(i).ID)
		}
	case "ndjson":
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		return exportedIDs(t, "geojson", []byte(`{"type":"FeatureCollection","features":[`+strings.Join(lines, ",")+`]}`))
	case "csv":
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0][:4], []string{"id", "wkt", "lon", "lat"}) {
			t.Fatalf("header %v", rows[0])
		}
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
		}
	case "kml":
		var doc struct {
			Placemarks []struct {
				Data []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value"`
				} `xml:"ExtendedData>Data"`
			} `xml:"Document>Placemark"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range doc.Placemarks {
			ids = append(ids, p.Data[0].Value)
		}
	}
	return ids
}

func TestExport(t *testing.T) {
	l := energyLayer(t)
	var all []string
	for i := range l.Len() {
		all = append(all, l.Feature(i).ID)
	}
	kyiv := geo.BBox{MinLon: 30.2, MinLat: 50.2, MaxLon: 30.9, MaxLat: 50.7}
	inBox := map[int]bool{}
	l.Search(kyiv, func(i int) bool {
		inBox[i] = true
		return true
	})
	var near []string
	for i := range l.Len() {
		if inBox[i] {
			near = append(near, l.Feature(i).ID)
		}
	}
	if len(near) == 0 || len(near) == len(all) {
		t.Fatalf("the Kyiv box picks %d of %d features", len(near), len(all))
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name, format string
		args         []string
		want         []string
	}{
		{"geojson to stdout", "geojson", nil, all},
		{"ndjson to a file", "ndjson", []string{"--format", "ndjson", "--out", "energy.geojsonl"}, all},
		{"csv named by the file", "csv", []string{"--out", "energy.csv"}, all},
		{"kml named by the file", "kml", []string{"--out", "energy.kml"}, all},
		{"bbox", "geojson", []string{"--bbox", kyiv.String()}, near},
		{"bbox as kml", "kml", []string{"--bbox", kyiv.String(), "--format", "kml"}, near},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"export", "--layer", "energy"}, c.args...)
			out := ""
			if i := slices.Index(args, "--out"); i >= 0 {
				out = filepath.Join(dir, args[i+1])
				args[i+1] = out
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			body := []byte(stdout)
			if out != "" {
				var err error
				if body, err = os.ReadFile(out); err != nil {
					t.Fatal(err)
				}
				if stdout != "" || !strings.Contains(stderr, "wrote ") {
					t.Errorf("stdout %q, stderr %q", stdout, stderr)
				}
			}
			if got := exportedIDs(t, c.format, body); !slices.Equal(got, c.want) {
				t.Errorf("exported %d features, want %d in layer order", len(got), len(c.want))
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	if code, stdout, _ := runCLI(t, "export", "--help"); code != 0 || !strings.Contains(stdout, "protectmap export --layer NAME") {
		t.Errorf("help: exit %d\n%s", code, stdout)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no layer", nil, 2, "--layer is required"},
		{"unknown layer", []string{"--layer", "dams"}, 2, `no layer "dams"; the layers are bridges, energy, hospitals`},
		{"unknown format", []string{"--layer", "energy", "--format", "shp"}, 2, `--format: export: unknown format "shp"`},
		{"bad bbox", []string{"--layer", "energy", "--bbox", "30,50,x,51"}, 2, `--bbox: geo: bad query: bbox value 3 ("x") is not a finite number`},
		{"bbox out of range", []string{"--layer", "energy", "--bbox", "30,50,31,95"}, 2, "latitude 95 outside"},
		{"broken data", []string{"--layer", "bad", "--data", "../../testdata/layers-broken"}, 1, "longitude 200 out of range"},
		{"no such directory", []string{"--layer", "energy", "--out", filepath.Join(dir, "none", "x.kml")}, 1, "no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"export"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %d bytes; want exit %d and %q", code, stderr, len(stdout), c.code, c.want)
			}
		})
	}
}
