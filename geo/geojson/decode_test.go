package geojson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/testenv"
)

func decodeString(t *testing.T, body string) (*geo.Layer, error) {
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
		{"NUL in a property", fc(point, `{"type":"Feature","id":"b","properties":{"name":"Kyiv\u0000TPP"},"geometry":{"type":"Point","coordinates":[30,50]}}`), 1, `properties: a string holds NUL`},
		{"a property named twice", fc(point, `{"type":"Feature","id":"b","properties":{"kind":"plant","name":"A","kind":"substation"},"geometry":{"type":"Point","coordinates":[30,50]}}`), 1, `property "kind" appears twice`},
		{"a property named twice, once escaped", fc(`{"type":"Feature","properties":{"voltage":1,"volt\u0061ge":2},"geometry":{"type":"Point","coordinates":[30,50]}}`), 0, `property "voltage" appears twice`},
		{"NUL in a property name", fc(`{"type":"Feature","properties":{"\u0000":1},"geometry":{"type":"Point","coordinates":[30,50]}}`), 0, `properties: a string holds NUL`},
		{"NUL in the id", fc(`{"type":"Feature","id":"a\u0000","geometry":{"type":"Point","coordinates":[30,50]}}`), 0, `id: a string holds NUL`},
		{"lone surrogate in a property", fc(`{"type":"Feature","properties":{"name":"\ud83d"},"geometry":{"type":"Point","coordinates":[30,50]}}`), 0, "lone UTF-16 surrogate"},
		{"lone surrogate in the id", fc(`{"type":"Feature","id":"\ude00","geometry":{"type":"Point","coordinates":[30,50]}}`), 0, "lone UTF-16 surrogate"},
		{"deep collection nesting", fc(`{"type":"Feature","geometry":` + strings.Repeat(`{"type":"GeometryCollection","geometries":[`, 10) + `{"type":"Point","coordinates":[1,1]}` + strings.Repeat(`]}`, 10) + `}`), 0, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeString(t, tt.body)
			if err == nil {
				t.Fatal("accepted")
			}
			var pe *geo.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *geo.ParseError", err)
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
// TestNameAndKindReadExactly: a feature's name and kind are the members
// named exactly so, escapes resolved, as a filter reads them; "Kind" is
// another property.
func TestNameAndKindReadExactly(t *testing.T) {
	l, err := decodeString(t, fc(`{"type":"Feature","id":"a","properties":{"Kind":"plant","n\u0061me":"Paton","KIND":"x"},"geometry":{"type":"Point","coordinates":[30,50]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f := l.Feature(0); f.Name != "Paton" || f.Kind != "" {
		t.Errorf("name %q kind %q, want \"Paton\" and none", f.Name, f.Kind)
	}
}

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

// TestDecodeErrorNamesID: a feature's error names its id alone, whether
// from the id member or the site_id property, never its other strings.
func TestDecodeErrorNamesID(t *testing.T) {
	for _, tc := range []struct{ feature, id string }{
		{`{"type":"Feature","id":"far","properties":{"name":"Off the map","kind":"plant"},"geometry":{"type":"Point","coordinates":[200,50]}}`, "far"},
		{`{"type":"Feature","properties":{"name":"Off the map","site_id":7},"geometry":{"type":"Point","coordinates":[200,50]}}`, "7"},
		{`{"type":"Feature","properties":{"name":"Off the map"},"geometry":{"type":"Point","coordinates":[200,50]}}`, ""},
	} {
		_, err := decodeString(t, fc(tc.feature))
		var pe *geo.ParseError
		if !errors.As(err, &pe) || pe.ID != tc.id {
			t.Errorf("%s: error %v, want one naming id %q", tc.feature, err, tc.id)
		}
	}
}

// TestDecodeLargeStream reads a collection far larger than the runs it is
// cut into, with one feature larger than a run, through readers that hand
// out a byte or half a buffer at a time; a syntax error deep in the file
// is reported at its exact byte.
func TestDecodeLargeStream(t *testing.T) {
	var features []string
	for i := range 3000 {
		features = append(features, fmt.Sprintf(`{"type":"Feature","id":"p%d","properties":{"name":"site \"%d\""},"geometry":{"type":"Point","coordinates":[%d.5,%d.25]}}`, i, i, i%170, i%80))
	}
	var ring []string
	for k := range 20_000 {
		ring = append(ring, fmt.Sprintf("[%.6f,%.6f]", 30+float64(k)/40_000, 50+float64(k%2)/1000))
	}
	ring = append(ring, ring[0])
	features[1500] = `{"type":"Feature","id":"big","geometry":{"type":"Polygon","coordinates":[[` + strings.Join(ring, ",") + `,[30.6,50.9],` + ring[0] + `]]}}`
	body := fc(features...)
	if len(body) < 3*splitRun {
		t.Fatalf("document of %d bytes does not span several runs", len(body))
	}
	for name, r := range map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"bytewise": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"halves":   func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
	} {
		t.Run(name, func(t *testing.T) {
			l, err := DecodeLayer("t", "t.geojson", r(body))
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != 3000 {
				t.Fatalf("%d features", l.Len())
			}
			for _, i := range []int{0, 1499, 1501, 2999} {
				if f := l.Feature(i); f.ID != fmt.Sprint("p", i) || f.Name != fmt.Sprintf(`site "%d"`, i) {
					t.Errorf("feature %d: id %q name %q", i, f.ID, f.Name)
				}
			}
			if f := l.Feature(1500); f.ID != "big" || len(f.Geometry.(orb.Polygon)[0]) != 20_003 {
				t.Errorf("feature 1500: id %q", f.ID)
			}
			// The last point at longitude 140.5 lies in the last run.
			at := strings.LastIndex(body, `[140.5,`) + 1
			bad := body[:at] + "NaN" + body[at+len("140.5"):]
			_, err = DecodeLayer("t", "t.geojson", r(bad))
			if want := fmt.Sprintf("invalid JSON at byte %d:", at); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

// TestAppendFeatureIsValidJSON guards ids and strings that strconv.Quote
// would write with Go-only escapes: control characters and invalid UTF-8.
func TestAppendFeatureIsValidJSON(t *testing.T) {
	for _, id := range []string{"plain", "tab\there", "bell\a\x01", "quote\"back\\slash", "bad\xffutf8", "Київ ГЕС", "line\nbreak\u2028"} {
		f := geo.Feature{ID: id, Geometry: orb.Point{30, 50}, Properties: json.RawMessage(`{"name":"x"}`)}
		b := AppendFeature(nil, &f, Member{"note", "ctl\x02" + id})
		if !json.Valid(b) {
			t.Fatalf("id %q: invalid JSON %s", id, b)
		}
		var back struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &back); err != nil || (utf8.ValidString(id) && back.ID != id) {
			t.Errorf("id %q read back as %q (%v)", id, back.ID, err)
		}
	}
}

// TestLayerNumbers holds the layer decoder's coordinates to the same table.
func TestLayerNumbers(t *testing.T) {
	for _, tc := range testenv.NumberSyntax() {
		_, err := DecodeLayer("t", "t.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{},"geometry":{"type":"Point","coordinates":[`+tc.Text+`,50]}}]}`))
		if (err == nil) != tc.OK {
			t.Errorf("coordinate %q: %v, want ok %v", tc.Text, err, tc.OK)
		}
	}
}
