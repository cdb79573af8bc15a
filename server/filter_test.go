package server_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/cql2"
)

// TestFilter selects items with CQL2 filters, as text and as JSON, and
// compares every page with the features chosen here by hand.
func TestFilter(t *testing.T) {
	f := newFixture(t)
	energy, _ := f.ix.Layer("energy")
	prop := func(i int, key string) any {
		var p map[string]any
		json.Unmarshal(energy.Feature(i).Properties, &p)
		return p[key]
	}
	num := func(i int, key string) float64 {
		if v, ok := prop(i, key).(float64); ok {
			return v
		}
		return math.NaN()
	}
	str := func(i int, key string) string { s, _ := prop(i, key).(string); return s }
	kyivBox := geo.BBox{MinLon: 30.3, MinLat: 50.3, MaxLon: 30.8, MaxLat: 50.6}
	inKyiv := map[int]bool{}
	energy.Search(kyivBox, func(i int) bool { inKyiv[i] = true; return true })
	// Distances by the unbounded nearest search, a different path from
	// DWITHIN's bounded one.
	p := orb.Point{30.52, 50.45}
	all, err := f.ix.Nearest(p, energy.Len(), "energy")
	if err != nil {
		t.Fatal(err)
	}
	meters := map[int]float64{}
	for _, h := range all {
		meters[h.Index] = h.Meters
	}
	// Literals for the DE-9IM relations: the Kyiv box, the end of the
	// first line, the first polygon and a box overlapping it.
	kyivPolygon := orb.Bound{Min: orb.Point{30.3, 50.3}, Max: orb.Point{30.8, 50.6}}.ToPolygon()
	var lineEnd orb.Point
	var polygon orb.Geometry
	for i := energy.Len() - 1; i >= 0; i-- {
		switch g := energy.Feature(i).Geometry.(type) {
		case orb.LineString:
			lineEnd = g[len(g)-1]
		case orb.Polygon:
			polygon = g
		}
	}
	// A box from the polygon's middle outward overlaps it.
	mid := polygon.Bound().Center()
	corner := orb.Bound{Min: mid, Max: orb.Point{mid[0] + 1, mid[1] + 1}}
	polygonJSON, err := geojson.NewGeometry(polygon).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	relation := func(rel func(a, b orb.Geometry) bool, lit orb.Geometry) func(i int) bool {
		return func(i int) bool { return rel(energy.Feature(i).Geometry, lit) }
	}
	tests := []struct {
		name, lang, filter string
		keep               func(i int) bool
	}{
		{"s_crosses", "", "S_CROSSES(geometry, BBOX(30.3, 50.3, 30.8, 50.6))", relation(cql2.Cross, kyivPolygon)},
		{"s_overlaps", "cql2-json", fmt.Sprintf(`{"op":"s_overlaps","args":[{"property":"geometry"},{"bbox":[%v,%v,%v,%v]}]}`, corner.Min[0], corner.Min[1], corner.Max[0], corner.Max[1]),
			relation(cql2.Overlap, corner.ToPolygon())},
		{"s_touches", "", fmt.Sprintf("S_TOUCHES(geometry, POINT(%v %v))", lineEnd[0], lineEnd[1]), relation(cql2.Touch, lineEnd)},
		{"s_equals", "cql2-json", `{"op":"s_equals","args":[` + string(polygonJSON) + `,{"property":"geometry"}]}`, relation(cql2.Equal, polygon)},
		{"equality", "", "kind = 'substation'", func(i int) bool { return str(i, "kind") == "substation" }},
		{"comparison and", "cql2-text", "voltage_kv >= 330 AND kind <> 'line'", func(i int) bool { return num(i, "voltage_kv") >= 330 && str(i, "kind") != "line" }},
		{"or, not", "", "NOT (kind = 'substation') OR capacity_mw > 1000", func(i int) bool {
			return str(i, "kind") != "substation" && str(i, "kind") != "" || num(i, "capacity_mw") > 1000
		}},
		{"like casei", "", "CASEI(name) LIKE '%kyiv%'", func(i int) bool { return strings.Contains(strings.ToLower(str(i, "name")), "kyiv") }},
		{"between", "", "voltage_kv BETWEEN 200 AND 400", func(i int) bool { v := num(i, "voltage_kv"); return v >= 200 && v <= 400 }},
		{"in", "", "fuel IN ('nuclear', 'hydro')", func(i int) bool { return str(i, "fuel") == "nuclear" || str(i, "fuel") == "hydro" }},
		{"is null", "", "operator IS NULL", func(i int) bool { return prop(i, "operator") == nil }},
		{"boolean", "", "in_service = false", func(i int) bool { return prop(i, "in_service") == false }},
		{"s_intersects bbox", "", "S_INTERSECTS(geometry, BBOX(30.3, 50.3, 30.8, 50.6))", func(i int) bool { return inKyiv[i] }},
		{"s_intersects and equality", "", "kind = 'substation' AND S_INTERSECTS(geometry, POLYGON((30.3 50.3, 30.8 50.3, 30.8 50.6, 30.3 50.6, 30.3 50.3)))",
			func(i int) bool { return inKyiv[i] && str(i, "kind") == "substation" }},
		{"s_disjoint", "", "S_DISJOINT(geometry, BBOX(30.3, 50.3, 30.8, 50.6))", func(i int) bool { return !inKyiv[i] }},
		{"s_within", "", "S_WITHIN(geometry, BBOX(22, 44, 41, 53))", func(i int) bool {
			b := energy.Feature(i).Geometry.Bound()
			return b.Min[0] >= 22 && b.Max[0] <= 41 && b.Min[1] >= 44 && b.Max[1] <= 53
		}},
		{"s_contains point", "", "S_CONTAINS(geometry, POINT(30.58 50.43))", func(i int) bool {
			q := orb.Point{30.58, 50.43}
			switch g := energy.Feature(i).Geometry.(type) {
			case orb.Polygon:
				return planar.PolygonContains(g, q)
			case orb.MultiPolygon:
				return planar.MultiPolygonContains(g, q)
			case orb.Point:
				return g == q
			}
			return false
		}},
		{"dwithin", "", "DWITHIN(geometry, POINT(30.52 50.45), 25000)", func(i int) bool { return meters[i] <= 25000 }},
		{"dwithin and bbox", "", "DWITHIN(geometry, POINT(30.52 50.45), 25000) AND S_INTERSECTS(geometry, BBOX(30.3, 50.3, 30.8, 50.6))",
			func(i int) bool { return meters[i] <= 25000 && inKyiv[i] }},
		{"json", "cql2-json", `{"op":"and","args":[{"op":">","args":[{"property":"voltage_kv"},100]},{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[22,44,41,53]}]}]}`,
			func(i int) bool {
				b := energy.Feature(i).Geometry.Bound()
				return num(i, "voltage_kv") > 100 && b.Max[0] >= 22 && b.Min[0] <= 41 && b.Max[1] >= 44 && b.Min[1] <= 53
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := expected(energy, tc.keep)
			if tc.name != "is null" && tc.name != "s_disjoint" && len(want) == 0 || len(want) == energy.Len() {
				t.Fatalf("the filter keeps %d of %d: no test", len(want), energy.Len())
			}
			target := "/collections/energy/items?limit=3&filter=" + url.QueryEscape(tc.filter)
			if tc.lang != "" {
				target += "&filter-lang=" + tc.lang
			}
			var got []string
			for pages := 0; target != ""; pages++ {
				ids, matched, next, _ := fetchPage(t, f, target)
				if matched != len(want) {
					t.Errorf("numberMatched %d, want %d", matched, len(want))
				}
				got = append(got, ids...)
				target = next
				if pages > energy.Len() {
					t.Fatal("too many pages")
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
		})
	}
}

// TestFilterErrors: a filter that cannot be used is a 400 naming the
// parameter and, for syntax, the position and what was expected there.
func TestFilterErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ query, param, reason string }{
		{"filter=kind%20%3D", "filter", "cql2-text: at position 7: expected a property, a literal or a function, found the end of the filter"},
		{"filter=kind%20%3D%20'x'%20voltage_kv", "filter", "at position 12: expected AND, OR or the end of the filter"},
		{"filter=nope%20%3D%201", "filter", `"nope" is not a property of this collection`},
		{"filter=kind%20%3D%20'x'&filter-lang=cql3", "filter-lang", `"cql3" is not offered`},
		{"filter=%7B%22op%22%3A%22x%22%7D&filter-lang=cql2-json", "filter", "cql2-json: at op:"},
		{"filter=kind%20%3D%20'x'&filter-crs=EPSG%3A2154", "filter-crs", "not offered"},
		{"filter=S_INTERSECTS(geometry%2C%20POINT(4e7%200))&filter-crs=EPSG%3A3857", "filter", "Web Mercator"},
		{"filter=DWITHIN(geometry%2C%20POINT(30%2050)%2C%201e9)", "filter", "DWITHIN distance"},
	}
	for _, tc := range tests {
		rec := f.get(t, "/collections/energy/items?"+tc.query)
		if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", tc.query, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		var p struct {
			InvalidParams []struct{ Name, Reason string } `json:"invalid-params"`
		}
		json.Unmarshal(rec.Body.Bytes(), &p)
		if len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != tc.param || !strings.Contains(p.InvalidParams[0].Reason, tc.reason) {
			t.Errorf("%s: %s, want %s: …%s…", tc.query, rec.Body, tc.param, tc.reason)
		}
	}
}
