package cql2

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// feature is a test feature: JSON properties and a geometry.
type feature struct {
	props map[string]any
	geom  orb.Geometry
}

func (f feature) Property(name string) Value {
	switch v := f.props[name].(type) {
	case string:
		return Value{Kind: String, Str: v}
	case float64:
		return Value{Kind: Number, Num: v}
	case bool:
		return Value{Kind: Bool, Bool: v}
	}
	return Value{}
}

func (f feature) Geometry() orb.Geometry { return f.geom }

func (f feature) WithinMeters(p orb.Point, meters float64) bool {
	// A degree of latitude is about 111 km: enough for the tests here.
	return f.geom.Bound().Center().Y()-p.Y() < meters/111e3
}

func newFeature(t *testing.T, props string, g orb.Geometry) feature {
	f := feature{geom: g}
	if err := json.Unmarshal([]byte(props), &f.props); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMatches(t *testing.T) {
	kyiv := newFeature(t, `{"name":"Kyiv North","kind":"substation","voltage_kv":330,"in_service":true,"opened":"1975-06-01","seen":"2024-03-01T08:00:00Z","note":null}`,
		orb.Point{30.5, 50.5})
	tests := []struct {
		filter string
		want   bool
	}{
		{"kind = 'substation'", true},
		{"kind <> 'substation'", false},
		{"voltage_kv >= 330 AND voltage_kv < 750", true},
		{"voltage_kv > 330 OR kind = 'substation'", true},
		{"NOT (voltage_kv > 330)", true},
		{"in_service = TRUE", true},
		{"in_service", false}, // a property alone is not a predicate: refused below
		{"name LIKE 'Kyiv%'", true},
		{"name LIKE 'kyiv%'", false},
		{"CASEI(name) LIKE CASEI('kyiv%')", true},
		{"CASEI(name) = CASEI('KYIV NORTH')", true},
		{"name LIKE 'Kyiv _orth'", true},
		{"name NOT LIKE '%South'", true},
		{`name LIKE 'Kyiv\%'`, false},
		{"voltage_kv BETWEEN 300 AND 330", true},
		{"voltage_kv NOT BETWEEN 300 AND 330", false},
		{"kind IN ('plant', 'substation')", true},
		{"kind NOT IN ('plant', 'line')", true},
		{"voltage_kv IN (110, 220)", false},
		{"note IS NULL", true},
		{"missing IS NULL", true},
		{"kind IS NOT NULL", true},
		{"missing = 1", false},
		{"NOT (missing = 1)", false}, // unknown stays unknown
		{"kind = 1", false},
		{"seen > TIMESTAMP('2024-01-01T00:00:00Z')", true},
		{"seen = TIMESTAMP('2024-03-01T10:00:00+02:00')", true},
		{"opened < DATE('1975-06-02')", true},
		{"opened = DATE('1975-06-01')", true},
		{"S_INTERSECTS(geometry, BBOX(30, 50, 31, 51))", true},
		{"S_INTERSECTS(geometry, POINT(30.5 50.5))", true},
		{"S_INTERSECTS(geometry, POLYGON((31 50, 32 50, 32 51, 31 50)))", false},
		{"S_DISJOINT(geometry, POLYGON((31 50, 32 50, 32 51, 31 50)))", true},
		{"S_WITHIN(geometry, POLYGON((30 50, 31 50, 31 51, 30 51, 30 50)))", true},
		{"S_CONTAINS(POLYGON((30 50, 31 50, 31 51, 30 51, 30 50)), geometry)", true},
		{"S_CONTAINS(geometry, POINT(30.5 50.5))", true},
		{"S_TOUCHES(geometry, BBOX(30.5, 50.5, 31, 51))", true},
		{"s_touches(LINESTRING(30 50, 30.5 50.5), geometry)", true},
		{"S_TOUCHES(geometry, POINT(30.5 50.5))", false},
		{"S_EQUALS(geometry, MULTIPOINT((30.5 50.5), (30.5 50.5)))", true},
		{"S_CROSSES(geometry, LINESTRING(30 50, 31 51))", false},
		{"S_CROSSES(MULTIPOINT((30.5 50.5), (40 50)), geometry)", false},
		{"S_OVERLAPS(MULTIPOINT((30.5 50.5), (40 50)), geometry)", false},
		{"S_INTERSECTS(geometry, BBOX(170, 50, -170, 51))", false},
		{"TRUE", true},
		{"FALSE OR kind = 'substation'", true},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := ParseText(tc.filter)
			if tc.filter == "in_service" {
				if err == nil {
					t.Fatal("a lone property parsed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := Matches(e, kyiv); got != tc.want {
				t.Errorf("%v, want %v", got, tc.want)
			}
		})
	}
}

// TestJSONMatchesText: the same filters as cql2-json select the same.
func TestJSONMatchesText(t *testing.T) {
	f := newFeature(t, `{"name":"Kyiv North","kind":"substation","voltage_kv":330}`, orb.Point{30.5, 50.5})
	tests := []struct {
		json string
		want bool
	}{
		{`{"op":"=","args":[{"property":"kind"},"substation"]}`, true},
		{`{"op":"and","args":[{"op":">=","args":[{"property":"voltage_kv"},330]},{"op":"like","args":[{"op":"casei","args":[{"property":"name"}]},{"op":"casei","args":["KYIV%"]}]}]}`, true},
		{`{"op":"between","args":[{"property":"voltage_kv"},100,200]}`, false},
		{`{"op":"in","args":[{"property":"kind"},["plant","substation"]]}`, true},
		{`{"op":"not","args":[{"op":"isNull","args":[{"property":"kind"}]}]}`, true},
		{`{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[30,50,31,51]}]}`, true},
		{`{"op":"s_within","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[31,50],[32,50],[32,51],[31,50]]]}]}`, false},
		{`{"op":"s_touches","args":[{"property":"geometry"},{"bbox":[30.5,50.5,31,51]}]}`, true},
		{`{"op":"s_equals","args":[{"type":"Point","coordinates":[30.5,50.5]},{"property":"geometry"}]}`, true},
		{`{"op":"s_crosses","args":[{"property":"geometry"},{"type":"LineString","coordinates":[[30,50],[31,51]]}]}`, false},
		{`{"op":"s_overlaps","args":[{"property":"geometry"},{"type":"MultiPoint","coordinates":[[30.5,50.5],[40,50]]}]}`, false},
		{`{"op":"dwithin","args":[{"property":"geometry"},{"type":"Point","coordinates":[30.5,50.49]},5000]}`, true},
	}
	for _, tc := range tests {
		e, err := ParseJSON([]byte(tc.json))
		if err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if got := Matches(e, f); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.json, got, tc.want)
		}
	}
}

// TestSyntaxErrors: each error names the position and what the grammar
// expects there.
func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		filter   string
		pos      int
		expected string
	}{
		{"kind = ", 8, "a property, a literal or a function"},
		{"kind 'x'", 6, "a comparison operator"},
		{"(kind = 'x'", 12, "AND, OR or )"},
		{"kind = 'x' AND", 15, "a property, a literal or a function"},
		{"kind = 'x' kind", 12, "AND, OR or the end of the filter"},
		{"kind = 'x", 10, "' closing the string begun at position 8"},
		{"kind NOT = 'x'", 10, "LIKE, BETWEEN or IN after NOT"},
		{"kind BETWEEN 1 OR 2", 16, "AND"},
		{"kind IN ('a' 'b')", 14, ", or ) closing the IN list"},
		{"kind IS NOTNULL", 9, "NULL"},
		{"S_INTERSECTS(geometry, POINT(1))", 24, "a well-formed WKT POINT"},
		{"S_INTERSECTS(geometry, BBOX(1,2,3))", 24, "BBOX(minLon, minLat, maxLon, maxLat)"},
		{"S_INTERSECTS(geometry, POINT(200 0))", 24, "longitude, latitude in degrees"},
		{"S_INTERSECTS(name, POINT(1 2))", 14, `the geometry property, a WKT geometry or BBOX(...)`},
		{"UPPER(name) = 'X'", 1, "CASEI, TIMESTAMP or DATE"},
		{"seen > TIMESTAMP('yesterday')", 18, "an RFC 3339 timestamp"},
		{"kind = AND", 8, "a property, a literal or a function"},
		{"kind = 1e999", 8, "a finite number"},
		{"DWITHIN(geometry, POINT(30 50), -1)", 33, "a distance in metres"},
		{"kind = #", 8, "a property, a literal, a function or ("},
		{strings.Repeat("(", MaxDepth+1) + "a = 1" + strings.Repeat(")", MaxDepth+1), MaxDepth + 1, "at most 100 levels of nesting"},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			_, err := ParseText(tc.filter)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SyntaxError", err)
			}
			if se.Pos != tc.pos || !strings.HasPrefix(se.Expected, tc.expected) {
				t.Errorf("%v; want position %d expecting %q", err, tc.pos, tc.expected)
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct{ json, path string }{
		{`{"op":"and","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"nope","args":[]}]}`, "args[1].op"},
		{`{"op":"=","args":[{"property":"a"}]}`, ""},
		{`{"op":"in","args":[{"property":"a"},[1,{}]]}`, "args[1][1]"},
		{`{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[1,2]}]}`, "args[1].bbox"},
		{`[1`, ""},
	}
	for _, tc := range tests {
		_, err := ParseJSON([]byte(tc.json))
		var je *JSONError
		if !errors.As(err, &je) || je.Path != tc.path {
			t.Errorf("%s: %v, want an error at %q", tc.json, err, tc.path)
		}
	}
}

func TestSpatial(t *testing.T) {
	square := orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}}
	holed := orb.Polygon{square[0], {{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}}
	notch := orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {2, 1}, {0, 4}, {0, 0}}}
	tests := []struct {
		name               string
		a, b               orb.Geometry
		intersects, within bool
	}{
		{"point inside", orb.Point{2, 2}, square, true, true},
		{"point on edge", orb.Point{4, 2}, square, true, true},
		{"point in hole", orb.Point{2, 2}, holed, false, false},
		{"point on hole edge", orb.Point{1, 2}, holed, true, true},
		{"line crossing", orb.LineString{{-1, 2}, {5, 2}}, square, true, false},
		{"line inside", orb.LineString{{1, 1}, {3, 3}}, square, true, true},
		{"line across a hole", orb.LineString{{0.5, 2}, {3.5, 2}}, holed, true, false},
		{"line across a notch", orb.LineString{{0.5, 3}, {3.5, 3}}, notch, true, false},
		{"line along an edge", orb.LineString{{0, 0}, {4, 0}}, square, true, true},
		{"lines touching", orb.LineString{{0, 0}, {1, 1}}, orb.LineString{{1, 1}, {2, 0}}, true, false},
		{"lines apart", orb.LineString{{0, 0}, {1, 1}}, orb.LineString{{0, 1}, {0.4, 0.6}}, false, false},
		{"polygon around a hole", orb.Polygon{{{0.5, 0.5}, {3.5, 0.5}, {3.5, 3.5}, {0.5, 3.5}, {0.5, 0.5}}}, holed, true, false},
		{"polygon inside", orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}}, square, true, true},
		{"polygon overlapping", orb.Polygon{{{3, 3}, {5, 3}, {5, 5}, {3, 3}}}, square, true, false},
		{"polygon around", square, orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}}, true, false},
		{"polygon apart", orb.Polygon{{{5, 5}, {6, 5}, {6, 6}, {5, 5}}}, square, false, false},
		{"collection", orb.Collection{orb.Point{2, 2}, orb.LineString{{1, 1}, {2, 3}}}, square, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Intersect(tc.a, tc.b); got != tc.intersects {
				t.Errorf("Intersect %v, want %v", got, tc.intersects)
			}
			if got := Intersect(tc.b, tc.a); got != tc.intersects {
				t.Errorf("Intersect swapped %v, want %v", got, tc.intersects)
			}
			if got := WithinGeometry(tc.a, tc.b); got != tc.within {
				t.Errorf("Within %v, want %v", got, tc.within)
			}
		})
	}
}

func TestLike(t *testing.T) {
	for _, tc := range []struct {
		s, p string
		want bool
	}{
		{"abc", "abc", true}, {"abc", "a%", true}, {"abc", "%c", true}, {"abc", "%b%", true},
		{"abc", "a_c", true}, {"abc", "a_", false}, {"", "%", true}, {"a%c", `a\%c`, true},
		{"abc", `a\%c`, false}, {"Київ", "К_їв", true}, {"aaa", "%a%a%a%a", false},
	} {
		if got := like(tc.s, tc.p); got != tc.want {
			t.Errorf("like(%q, %q) = %v", tc.s, tc.p, got)
		}
	}
}

// FuzzParseText: no filter panics or hangs, and each accepted one
// evaluates.
func FuzzParseText(f *testing.F) {
	for _, s := range []string{"kind = 'x'", "a BETWEEN 1 AND 2 OR NOT b IN ('x','y')", "S_WITHIN(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))",
		"S_TOUCHES(geometry, LINESTRING(0 0, 0.5 0.5))", "S_CROSSES(MULTILINESTRING((0 1, 1 0), (0 0, 1 1)), geometry)",
		"S_OVERLAPS(geometry, MULTIPOINT((0.5 0.5), (2 2))) OR S_EQUALS(geometry, POINT(0.5 0.5))",
		"S_EQUALS(geometry, GEOMETRYCOLLECTION(POINT(0 0), POLYGON((0 0, 1 0, 1 1, 0 0))))",
		"CASEI(name) LIKE '%x_'", "DWITHIN(geometry, POINT(30 50), 1000)", "t < TIMESTAMP('2024-01-01T00:00:00Z')", "((a = 1)", "'",
		"T_DURING(t, INTERVAL('2025-03-18', '..'))", "T_OVERLAPS(INTERVAL(a, b), INTERVAL(DATE('2025-01-01'), TIMESTAMP('2025-02-01T00:00:00Z')))"} {
		f.Add(s)
	}
	probe := feature{props: map[string]any{"a": 1.0, "kind": "x", "name": "y", "t": "2025-03-20T04:00:00Z", "b": "2025-03-21"}, geom: orb.Point{0.5, 0.5}}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseText(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos < 1 || se.Pos > len(s)+1 {
				t.Fatalf("%q: error %v out of range", s, err)
			}
			return
		}
		Matches(e, probe)
	})
}

// FuzzParseJSON: no filter panics.
func FuzzParseJSON(f *testing.F) {
	f.Add(`{"op":"and","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[0,0,1,1]}]}]}`)
	f.Add(`{"op":"in","args":[{"property":"a"},[1,2]]}`)
	f.Add(`{"op":"s_crosses","args":[{"property":"geometry"},{"type":"LineString","coordinates":[[0,0],[1,1]]}]}`)
	f.Add(`{"op":"or","args":[{"op":"s_touches","args":[{"type":"Point","coordinates":[0,0]},{"property":"geometry"}]},{"op":"s_equals","args":[{"property":"geometry"},{"bbox":[0,0,1,1]}]},{"op":"s_overlaps","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}]}]}`)
	f.Add(`{"op":"t_during","args":[{"property":"t"},{"interval":["2025-03-18",".."]}]}`)
	probe := feature{props: map[string]any{"a": 1.0}, geom: orb.Point{0.5, 0.5}}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := ParseJSON([]byte(s)); err == nil {
			Matches(e, probe)
		}
	})
}

func TestSplitBox(t *testing.T) {
	tests := []struct {
		filter, rest string
		split        bool
	}{
		{"S_INTERSECTS(geometry, BBOX(1, 2, 3, 4))", "cql2.BoolLiteral", true},
		{"kind = 'x' AND S_INTERSECTS(geometry, POLYGON((1 2, 3 2, 3 4, 1 4, 1 2)))", "cql2.Comparison", true},
		{"a = 1 AND S_INTERSECTS(geometry, BBOX(1, 2, 3, 4)) AND b = 2", "cql2.And", true},
		{"S_INTERSECTS(geometry, POLYGON((1 2, 3 2, 3 4, 1 2)))", "", false},
		{"S_INTERSECTS(geometry, BBOX(170, 2, -170, 4))", "", false},
		{"a = 1 OR S_INTERSECTS(geometry, BBOX(1, 2, 3, 4))", "", false},
		{"S_WITHIN(geometry, BBOX(1, 2, 3, 4))", "", false},
	}
	for _, tc := range tests {
		e, err := ParseText(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		box, rest, ok := SplitBox(e)
		if ok != tc.split || ok && (fmt.Sprintf("%T", rest) != tc.rest || box != (orb.Bound{Min: orb.Point{1, 2}, Max: orb.Point{3, 4}})) {
			t.Errorf("%s: split %v, box %v, rest %T", tc.filter, ok, box, rest)
		}
	}
}
