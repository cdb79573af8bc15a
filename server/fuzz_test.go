package server

import (
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/geo"
)

// parsed runs a query parser on a fuzzed query string: it reports false
// when the parser refused it, failing unless the refusal is a *ParamError,
// or a 406 naming the f value refused.
func parsed[Q any](t *testing.T, raw string, parse func(string) (Q, error)) (Q, bool) {
	q, err := parse(raw)
	if err != nil {
		na, refusedF := err.(*notAcceptableError)
		f, _ := pairValue(parseQuery(nil, raw), "f")
		if _, ok := err.(*ParamError); !ok && !(refusedF && na.f != "" && na.f == f) {
			t.Fatalf("%q: error %T %v is neither a *ParamError nor a 406 for its f", raw, err, err)
		}
		return q, false
	}
	return q, true
}

// fuzzMeta is a collection with one queryable of each type.
var fuzzMeta = &layerMeta{queryables: []queryable{
	{"capacity_mw", "number"}, {"in_service", "boolean"}, {"kind", "string"}, {"voltage_kv", "integer"},
}, fields: []field{{Name: "capacity_mw"}, {Name: "in_service"}, {Name: "kind"}, {Name: "name"}, {Name: "voltage_kv"}}}

// FuzzParseItemsQuery: any query string is either refused with a
// *ParamError or gives a usable query: a limit in range, a valid box,
// filters only on queryables, a non-empty time span.
func FuzzParseItemsQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=10", "bbox=30,50,31,51", "bbox=179,60,-179,70", "bbox=1,2,3", "limit=abc", "limit=99999999999999999999",
		"cursor=n5", "cursor=p7", "cursor=p-1", "datetime=2024-01-01/..", "datetime=../2024-02-03T04:05:06Z",
		"kind=substation&voltage_kv=330", "in_service=maybe", "f=geojson", "bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84",
		"limit=1&limit=2", "%zz", "bbox=nan,0,1,1", "datetime=2024-13-01",
		"sortby=-voltage_kv,+kind", "sortby=kind,kind", "sortby=,", "sortby=name", "sortby=kind&cursor=n3", "offset=99999999999999999999",
		"properties=name,kind", "properties=", "properties=nosuch", "skipGeometry=true", "skipGeometry=1",
		"bbox=3e6,6e6,3.1e6,6.1e6&bbox-crs=EPSG:3857", "bbox-crs=EPSG:32636&bbox=300000,5500000,400000,5600000", "bbox=50,30,51,31&bbox-crs=EPSG:4326",
		"crs=EPSG:4326", "crs=EPSG:2154", "filter-crs=EPSG:3857&filter=S_INTERSECTS(geometry,BBOX(1,2,3,4))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, ok := parsed(t, raw, func(raw string) (itemsQuery, error) { return parseItemsQuery(raw, fuzzMeta) })
		if !ok {
			return
		}
		if q.limit < 1 || q.limit > maxItemsLimit {
			t.Fatalf("%q: limit %d", raw, q.limit)
		}
		if q.hasBBox && q.bbox.Validate() != nil {
			t.Fatalf("%q: invalid box %v accepted", raw, q.bbox)
		}
		if q.hasTime && q.when.empty() {
			t.Fatalf("%q: empty time span accepted", raw)
		}
		if q.cursor.at < -1 || q.cursor.backward && q.cursor.at < 0 {
			t.Fatalf("%q: cursor %v", raw, q.cursor)
		}
		for _, pf := range q.filters {
			if _, ok := fuzzMeta.queryable(pf.name); !ok {
				t.Fatalf("%q: filter on %q, not a queryable", raw, pf.name)
			}
		}
		if len(q.sort) > maxSortKeys || q.offset < 0 || q.offset > maxOffset || q.sort != nil && q.cursor != start {
			t.Fatalf("%q: %d sort keys, offset %d, cursor %v", raw, len(q.sort), q.offset, q.cursor)
		}
		for k, key := range q.sort {
			if !fuzzMeta.sortable(key.name) || slices.ContainsFunc(q.sort[:k], func(o sortKey) bool { return o.name == key.name }) {
				t.Fatalf("%q: sort key %q", raw, key.name)
			}
		}
		for _, n := range q.shape.props {
			if !fuzzMeta.hasField(n) {
				t.Fatalf("%q: property %q selected", raw, n)
			}
		}
		// The cursor survives the round trip through a next link.
		if c, err := parseCursor(q.cursor.String()); err != nil || c != q.cursor {
			t.Fatalf("%q: cursor %v round-trips to %v, %v", raw, q.cursor, c, err)
		}
	})
}

// FuzzParseProximity: accepted queries are within the domain geo accepts.
func FuzzParseProximity(f *testing.F) {
	for _, s := range []string{
		"lon=30.5&lat=50.4", "lon=30&lat=91", "lon=30&lat=50&radius=-5", "lon=30&lat=50&radius=200000&limit=20",
		"lon=30&lat=50&uncertainty=300", "lon=30&lat=50&radius=100&uncertainty=500", "lon=1e400&lat=0",
		"lon=30&lat=50&collections=energy,hospitals", "lon=30&lat=50&collections=,", "lat=1", "lon=inf&lat=0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, ok := parsed(t, raw, func(raw string) (proximityQuery, error) {
			q := newProximityQuery()
			return q, q.parse(parseQuery(nil, raw))
		})
		if !ok {
			return
		}
		if !(q.lon >= -180 && q.lon <= 180 && q.lat >= -90 && q.lat <= 90) {
			t.Fatalf("%q: point %v,%v accepted", raw, q.lon, q.lat)
		}
		if !(q.radius >= 0 && q.radius <= geo.MaxRadiusMeters) || q.limit < 1 || q.limit > maxProximityLimit {
			t.Fatalf("%q: radius %v, limit %d", raw, q.radius, q.limit)
		}
		if !math.IsNaN(q.uncertainty) && !(q.uncertainty >= 0 && q.uncertainty <= q.radius) {
			t.Fatalf("%q: uncertainty %v with radius %v", raw, q.uncertainty, q.radius)
		}
		for _, n := range q.collections {
			if !geo.ValidLayerName(n) {
				t.Fatalf("%q: collection %q", raw, n)
			}
		}
	})
}

// FuzzParseNearest: k is always in range.
func FuzzParseNearest(f *testing.F) {
	for _, s := range []string{"lon=30&lat=50", "lon=30&lat=50&k=5", "lon=30&lat=50&k=0", "lon=30&lat=50&k=1000000", "lon=30&lat=50&radius=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, ok := parsed(t, raw, parseNearest)
		if !ok {
			return
		}
		if q.k < 1 || q.k > maxNearestK || !(q.lat >= -90 && q.lat <= 90) {
			t.Fatalf("%q: k %d, lat %v", raw, q.k, q.lat)
		}
	})
}

// FuzzParseDatetime: an accepted datetime is a non-empty span whose ends
// are the times written, whatever the century: nothing wraps.
func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5+02:00", "../2024-01-01", "2024-01-01/..", "/", "../..", "2024-02-30", "x/y",
		"0000-01-01T00:00:00Z/9999-12-31T23:59:59.999999999Z", "1600-01-01T00:00:00Z/..", "2609-10-01T00:00:00Z", "1677-09-21T00:12:43.145224191Z/2262-04-11T23:47:16.854775808Z", "0001-01-01T00:00:00+23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := parseDatetime(v)
		if err != nil {
			return
		}
		if s.empty() {
			t.Fatalf("%q: empty span accepted", v)
		}
		a, b, _ := strings.Cut(v, "/")
		for _, end := range []struct {
			text string
			at   instant
		}{{a, s.start}, {b, s.end}} {
			if tm, err := time.Parse(time.RFC3339Nano, end.text); err == nil && !end.at.time().Equal(tm) {
				t.Fatalf("%q: an end reads as %v, not %v", v, end.at.time(), tm)
			}
		}
	})
}

// TestEmptyFormat: an empty f names no format, so it is a 400 naming f,
// not a 406 that would blame the Accept header.
func TestEmptyFormat(t *testing.T) {
	var q itemsQuery
	err := itemsParams.parse("f=", &q, nil)
	if pe, ok := err.(*ParamError); !ok || pe.Param != "f" {
		t.Fatalf("f= gave %T %v, want a *ParamError naming f", err, err)
	}
}

// FuzzParseQuery: a query string parses to the pairs url.ParseQuery gives,
// each name's values in the order given.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=1&a=2", "a", "=x", "a=%zz&b=1", "a;b=1&c=2", "a+b=c+d%20e", "&&a=&", "%E2%82%AC=%FF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		want, _ := url.ParseQuery(raw)
		got := url.Values{}
		for _, p := range parseQuery(nil, raw) {
			got[p.name] = append(got[p.name], p.value)
		}
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%q: parsed %v, url.ParseQuery %v", raw, got, want)
		}
	})
}
