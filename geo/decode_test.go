package geo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func decodeString(t *testing.T, body string) (*Layer, error) {
	t.Helper()
	return DecodeLayer("t", "t.geojson", strings.NewReader(body))
}

func fc(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func TestDecodeValidation(t *testing.T) {
	point := `{"type":"Feature","id":"a","properties":{},"geometry":{"type":"Point","coordinates":[30,50]}}`
	tests := []struct {
		name    string
		body    string
		feature int    // expected feature index, -1 for the file
		reason  string // expected words of the reason
	}{
		{"not JSON", `{"type":`, -1, "invalid JSON"},
		{"not a FeatureCollection", `{"type":"Feature","geometry":null}`, -1, "not a FeatureCollection"},
		{"no features member", `{"type":"FeatureCollection"}`, -1, `no "features"`},
		{"array document", `[1,2]`, -1, "not a FeatureCollection"},
		{"trailing data", fc(point) + `{}`, -1, "after the FeatureCollection"},
		{"longitude out of range", fc(point, `{"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[200,50]}}`), 1, "longitude 200 out of range"},
		{"latitude out of range", fc(`{"type":"Feature","geometry":{"type":"Point","coordinates":[30,-91]}}`), 0, "latitude -91 out of range"},
		{"NaN coordinate", fc(`{"type":"Feature","geometry":{"type":"Point","coordinates":[NaN,50]}}`), -1, "invalid JSON"},
		{"infinite coordinate", fc(`{"type":"Feature","geometry":{"type":"Point","coordinates":[1e999,50]}}`), 0, "not a finite number"},
		{"too few points in a line", fc(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[30,50]]}}`), 0, "too few points"},
		{"empty line", fc(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[]}}`), 0, "too few points"},
		{"unclosed ring", fc(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[30,50],[31,50],[31,51],[30,51]]]}}`), 0, "unclosed ring"},
		{"short ring", fc(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[30,50],[31,50],[30,50]]]}}`), 0, "too few points"},
		{"polygon nested like a line", fc(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[30,50],[31,50],[31,51],[30,50]]}}`), 0, "wrong nesting"},
		{"point nested like a line", fc(`{"type":"Feature","geometry":{"type":"Point","coordinates":[[30,50]]}}`), 0, "wrong nesting"},
		{"hole outside the shell", fc(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[30,50],[31,50],[31,51],[30,50]],[[40,40],[40.1,40],[40.1,40.1],[40,40]]]}}`), 0, "outside the exterior ring"},
		{"antimeridian edge", fc(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[179.9,50],[-179.9,50]]}}`), 0, "antimeridian"},
		{"unknown geometry type", fc(`{"type":"Feature","geometry":{"type":"Circle","coordinates":[30,50]}}`), 0, "unknown geometry type"},
		{"missing geometry", fc(`{"type":"Feature","properties":{}}`), 0, "no geometry"},
		{"properties not an object", fc(`{"type":"Feature","properties":[1],"geometry":{"type":"Point","coordinates":[30,50]}}`), 0, "properties must be"},
		{"feature of wrong type", fc(`{"type":"Thing","geometry":{"type":"Point","coordinates":[30,50]}}`), 0, `want "Feature"`},
		{"id of wrong type", fc(`{"type":"Feature","id":{"a":1},"geometry":{"type":"Point","coordinates":[30,50]}}`), 0, "string or a number"},
		{"duplicate id", fc(point, point), 1, "duplicate id"},
		{"deep collection nesting", fc(`{"type":"Feature","geometry":` + strings.Repeat(`{"type":"GeometryCollection","geometries":[`, 10) + `{"type":"Point","coordinates":[1,1]}` + strings.Repeat(`]}`, 10) + `}`), 0, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeString(t, tt.body)
			if err == nil {
				t.Fatal("accepted")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != "t.geojson" || pe.Feature != tt.feature {
				t.Errorf("error names %s feature %d, want t.geojson feature %d", pe.File, pe.Feature, tt.feature)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

func TestDecodeReportsEveryBadFeature(t *testing.T) {
	bad := `{"type":"Feature","geometry":{"type":"Point","coordinates":[300,50]}}`
	_, err := decodeString(t, fc(bad, bad, `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`, bad))
	for _, want := range []string{"feature 0", "feature 1", "feature 3"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not report %s", err, want)
		}
	}
}

func TestDecodeAllGeometryTypes(t *testing.T) {
	l, err := decodeString(t, fc(
		`{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[30,50,120]}}`,
		`{"type":"Feature","id":"mp","geometry":{"type":"MultiPoint","coordinates":[[30,50],[31,51]]}}`,
		`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[30,50],[31,51]]},"properties":{"name":"Line","kind":"line"}}`,
		`{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[30,50],[31,51]],[[32,50],[33,51]]]}}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[30,50],[31,50],[31,51],[30,50]],[[30.5,50.1],[30.9,50.1],[30.9,50.4],[30.5,50.1]]]}}`,
		`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[30,50],[31,50],[31,51],[30,50]]],[[[32,50],[33,50],[33,51],[32,50]]]]}}`,
		`{"type":"Feature","properties":{"site_id":"gc"},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[30,50]},{"type":"LineString","coordinates":[[30,50],[31,51]]}]}}`,
	))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 7 {
		t.Fatalf("%d features", l.Len())
	}
	for _, id := range []string{"1", "mp", "gc"} {
		if _, _, ok := l.Lookup(id); !ok {
			t.Errorf("no feature %q", id)
		}
	}
	f := l.Feature(2)
	if f.Name != "Line" || f.Kind != "line" || string(f.Properties) != `{"name":"Line","kind":"line"}` {
		t.Errorf("feature 2: name %q kind %q properties %s", f.Name, f.Kind, f.Properties)
	}
	if !strings.HasPrefix(f.ID, "h-") || len(f.ID) != 18 {
		t.Errorf("content id %q", f.ID)
	}
}

// TestIDStability: ids without an id member come from content, so
// reordering a file keeps every feature's id.
func TestIDStability(t *testing.T) {
	a := `{"type":"Feature","properties":{"name":"A"},"geometry":{"type":"Point","coordinates":[30,50]}}`
	b := `{"type":"Feature","properties":{"name":"B"},"geometry":{"type":"Point","coordinates":[30,50]}}`
	c := `{"type":"Feature","properties":{ "name" : "A" },"geometry":{"type":"Point","coordinates":[31,50]}}`
	l1, err := decodeString(t, fc(a, b, c))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := decodeString(t, fc(c, a, b))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for i := range l1.Len() {
		f := l1.Feature(i)
		ids[f.Name+fmt.Sprint(f.Geometry)] = f.ID
	}
	seen := map[string]bool{}
	for i := range l2.Len() {
		f := l2.Feature(i)
		if ids[f.Name+fmt.Sprint(f.Geometry)] != f.ID {
			t.Errorf("feature %s changed id with its position", f.ID)
		}
		seen[f.ID] = true
	}
	if len(seen) != 3 {
		t.Errorf("ids not distinct: %v", seen)
	}
}
