package importer

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func importCSVText(t *testing.T, text string, m CSVMapping) (*imported, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "sites.csv")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := CSV(context.Background(), file, m)
	if err != nil {
		return nil, err
	}
	return writeAndLoad(t, res, t.TempDir()), nil
}

func TestCSVRows(t *testing.T) {
	text := "\ufeffLongitude,Latitude,Name,kind,phone\n" +
		"30.5,50.4,Central,hospital,123\n" + // line 2
		"30.5,50.4,Central,hospital,123\n" + // line 3: the same row again
		"30.6,,Nowhere,hospital,\n" + // line 4
		",,Blank,hospital,\n" + // line 5
		"30.7,50.5,Plain,,\n" // line 6: no kind
	im, err := importCSVText(t, text, CSVMapping{Layer: "sites"})
	if err != nil {
		t.Fatal(err)
	}
	l := im.layers["sites"]
	if l.Len() != 2 {
		t.Fatalf("%d features, want 2; skipped %v", l.Len(), im.summary.Skipped)
	}
	f := l.Feature(0)
	if !regexp.MustCompile(`^sites:h-[0-9a-f]{16}$`).MatchString(f.ID) || f.Name != "Central" || f.Kind != "hospital" ||
		string(f.Properties) != `{"name":"Central","kind":"hospital","phone":"123","imported":"`+testImportDay+`"}` || f.Geometry != (orb.Point{30.5, 50.4}) {
		t.Errorf("feature %s %s", f.ID, f.Properties)
	}
	im.expectSkips(t, map[string]string{
		"line 3": "same id",
		"line 4": `Latitude: "" is not a number`,
		"line 5": "Longitude, Latitude: no coordinates",
	})
}

func TestCSVWKT(t *testing.T) {
	text := "id\tshape\n" +
		"a\tPOLYGON((30 50, 31 50, 31 51, 30 51, 30 50))\n" +
		"b\tLINESTRING(30 50)\n" + // too short: geo says so
		"c\tPOLYGON((30 50, 31 50, 31 51, 30 51))\n" + // unclosed: geo says so
		"d\tCIRCLE(1 2)\n" +
		"e\tPOINT(NaN 1)\n" +
		"a\tPOINT(30 50)\n"
	im, err := importCSVText(t, text, CSVMapping{Layer: "areas", WKT: "shape", ID: "id", IDPrefix: "x:", Comma: '\t'})
	if err != nil {
		t.Fatal(err)
	}
	if l := im.layers["areas"]; l.Len() != 1 || l.Feature(0).ID != "x:a" || l.Feature(0).Geometry.GeoJSONType() != "Polygon" {
		t.Fatalf("layer: %d features; skipped %v", l.Len(), im.summary.Skipped)
	}
	im.expectSkips(t, map[string]string{
		"line 3": "too few points",
		"line 4": "unclosed ring",
		"line 5": "shape: ",
		"line 6": "not a finite number",
		"line 7": `same id "x:a" as line 2`,
	})
}

func TestCSVMappingErrors(t *testing.T) {
	cases := []struct {
		name, text string
		m          CSVMapping
		want       string
	}{
		{"empty file", "", CSVMapping{Layer: "a"}, "the file is empty"},
		{"no coordinates", "name,town\nA,B\n", CSVMapping{Layer: "a"}, "no coordinate columns"},
		{"wkt and lon", "wkt,lon,lat\n", CSVMapping{Layer: "a", WKT: "wkt", Lon: "lon", Lat: "lat"}, "either a WKT column or lon and lat"},
		{"lon alone", "lon,lat\n", CSVMapping{Layer: "a", Lon: "lon"}, "both the lon and the lat column"},
		{"unknown kept column", "lon,lat\n", CSVMapping{Layer: "a", Columns: []string{"phone"}}, `columns: no column "phone"`},
		{"bad layer name", "lon,lat\n", CSVMapping{Layer: "../etc"}, "not a valid layer name"},
		{"broken quoting", "lon,lat\n1,\"2\n", CSVMapping{Layer: "a"}, "extraneous or missing \" in quoted-field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := importCSVText(t, c.text, c.m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
