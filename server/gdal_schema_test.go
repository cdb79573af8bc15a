package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/protectmap/protectmap/internal/testenv"
)

// TestGDALKeepsEveryField copies every collection to a GeoPackage with
// GDAL's OAPIF driver reading two features a page: the fields come from
// the collection's schema, not from the first page, so every property of
// every feature survives with its type.
func TestGDALKeepsEveryField(t *testing.T) {
	ogr2ogr := testenv.Tool(t, "ogr2ogr")
	ogrinfo := testenv.Tool(t, "ogrinfo")
	f := newFixture(t)
	base := serveLoopback(t, f)
	// OGR field types by the JSON type of a property's values.
	ogrType := map[string]string{"string": "String", "integer": "Integer", "number": "Real", "boolean": "Integer(Boolean)", "date-time": "DateTime"}
	fieldRe := regexp.MustCompile(`(?m)^(\w+): (\w+(?:\(\w+\))?) `)
	for _, l := range f.ix.Layers() {
		if l.Len() == 0 {
			continue
		}
		t.Run(l.Name(), func(t *testing.T) {
			// What the source holds, typed independently of the server.
			want := map[string]string{}
			source := map[string]map[string]any{}
			for i := range l.Len() {
				var props map[string]any
				if err := json.Unmarshal(l.Feature(i).Properties, &props); err != nil {
					t.Fatal(err)
				}
				source[l.Feature(i).ID] = props
				for k, v := range props {
					want[k] = mergeType(want[k], jsonType(v))
				}
			}
			dir := t.TempDir()
			gpkg := filepath.Join(dir, "out.gpkg")
			run(t, ogr2ogr, "-f", "GPKG", gpkg, "OAPIF:"+base, l.Name(), "-oo", "PAGE_SIZE=2")
			got := map[string]string{}
			for _, m := range fieldRe.FindAllStringSubmatch(run(t, ogrinfo, "-so", gpkg, l.Name()), -1) {
				got[m[1]] = m[2]
			}
			for name, typ := range want {
				if typ == "mixed" || typ == "null" {
					continue // any type GDAL picks keeps the values below
				}
				if got[name] != ogrType[typ] {
					t.Errorf("field %s is %q, want %s (a %s property); fields %v", name, got[name], ogrType[typ], typ, got)
				}
			}
			back := filepath.Join(dir, "back.geojson")
			run(t, ogr2ogr, "-f", "GeoJSON", back, gpkg)
			copies := map[string]map[string]any{}
			for _, c := range readFeatures(t, back) {
				copies[jsonText(c["id"])] = c
			}
			for id, props := range source {
				c, ok := copies[id]
				if !ok {
					t.Errorf("feature %s lost; copied %d of %d", id, len(copies), len(source))
					continue
				}
				for k, v := range props {
					if v != nil && !sameValue(v, c[k]) {
						t.Errorf("%s: %s is %#v in the copy, %#v in the source", id, k, c[k], v)
					}
				}
			}
		})
	}
}

// jsonType names a decoded JSON value's type as the schema does.
func jsonType(v any) string {
	switch v := v.(type) {
	case string:
		if _, err := time.Parse(time.RFC3339, v); err == nil {
			return "date-time"
		}
		return "string"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case nil:
		return "null"
	}
	return "other"
}

// mergeType is the type of a property seen as a and then as b.
func mergeType(a, b string) string {
	switch {
	case a == "" || a == "null" || a == b:
		return b
	case b == "null":
		return a
	case a == "integer" && b == "number" || a == "number" && b == "integer":
		return "number"
	}
	return "mixed"
}

// sameValue compares a source value with GDAL's copy: booleans come back
// as booleans, date-times as instants and dates as days in any notation.
func sameValue(src, copied any) bool {
	if s, ok := src.(string); ok {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			c, _ := copied.(string)
			d2, err := time.Parse("2006/01/02", c)
			return c == s || err == nil && d.Equal(d2)
		}
		if t1, err := time.Parse(time.RFC3339, s); err == nil {
			c, _ := copied.(string)
			for _, layout := range []string{time.RFC3339, "2006/01/02 15:04:05-07", "2006/01/02 15:04:05+00"} {
				if t2, err := time.Parse(layout, c); err == nil {
					return t1.Equal(t2)
				}
			}
			return false
		}
	}
	return jsonText(src) == jsonText(copied)
}

// readFeatures reads each feature's properties, its id among them.
func readFeatures(t *testing.T, path string) []map[string]any {
	t.Helper()
	var fc struct {
		Features []struct {
			ID         any            `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(fc.Features))
	for i, f := range fc.Features {
		if f.Properties["id"] == nil {
			f.Properties["id"] = f.ID
		}
		out[i] = f.Properties
	}
	return out
}
