package server_test

import (
	"encoding/json"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/geo"
)

// page fetches one page of items and checks what every page must carry.
func fetchPage(t *testing.T, f *fixture, target string) (ids []string, matched int, next, prev string) {
	t.Helper()
	rec := f.get(t, target)
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d\n%s", target, rec.Code, rec.Body)
	}
	doc := decode(t, rec.Body.Bytes())
	ids = featureIDs(t, doc)
	nm, ok := doc["numberMatched"].(float64)
	if !ok {
		t.Fatalf("GET %s: no numberMatched", target)
	}
	if doc["numberReturned"] != float64(len(ids)) {
		t.Errorf("GET %s: numberReturned %v for %d features", target, doc["numberReturned"], len(ids))
	}
	ls := links(t, doc)
	if ls["self"] == nil || ls["collection"] == nil {
		t.Errorf("GET %s: links %v lack self or collection", target, ls)
	}
	for _, rel := range []string{"next", "prev"} {
		if l := ls[rel]; l != nil {
			if l["type"] != "application/geo+json" {
				t.Errorf("GET %s: %s link typed %v", target, rel, l["type"])
			}
			u, err := url.Parse(l["href"].(string))
			if err != nil || !u.IsAbs() {
				t.Fatalf("GET %s: %s link %v is not an absolute URL", target, rel, l["href"])
			}
			if rel == "next" {
				next = u.RequestURI()
			} else {
				prev = u.RequestURI()
			}
		}
	}
	return ids, int(nm), next, prev
}

// expected lists the ids of l's features that keep accepts, in layer order.
func expected(l *geo.Layer, keep func(i int) bool) []string {
	var ids []string
	for i := range l.Len() {
		if keep(i) {
			ids = append(ids, l.Feature(i).ID)
		}
	}
	return ids
}

// TestPaging follows next links through whole collections, with and
// without filters, and prev links back: every feature exactly once, in
// layer order, numberMatched on every page.
func TestPaging(t *testing.T) {
	f := newFixture(t)
	energy, _ := f.ix.Layer("energy")
	inBox := func(b geo.BBox) func(int) bool {
		set := map[int]bool{}
		energy.Search(b, func(i int) bool { set[i] = true; return true })
		return func(i int) bool { return set[i] }
	}
	prop := func(key string, want any) func(int) bool {
		return func(i int) bool {
			var p map[string]any
			json.Unmarshal(energy.Feature(i).Properties, &p)
			return p[key] == want
		}
	}
	all := func(int) bool { return true }
	tests := []struct {
		name, collection, query string
		keep                    func(int) bool
	}{
		{"energy whole", "energy", "", all},
		{"energy in Kyiv", "energy", "bbox=30.4,50.3,30.7,50.6", inBox(geo.BBox{MinLon: 30.4, MinLat: 50.3, MaxLon: 30.7, MaxLat: 50.6})},
		{"energy across the antimeridian", "energy", "bbox=170,60,-170,70", inBox(geo.BBox{MinLon: 170, MinLat: 60, MaxLon: -170, MaxLat: 70})},
		{"energy substations", "energy", "kind=substation", prop("kind", "substation")},
		{"energy 750 kV", "energy", "voltage_kv=750", prop("voltage_kv", 750.0)},
		{"energy out of service in Ukraine", "energy", "in_service=false&bbox=22,44,41,53", func(i int) bool {
			return prop("in_service", false)(i) && inBox(geo.BBox{MinLon: 22, MinLat: 44, MaxLon: 41, MaxLat: 53})(i)
		}},
		{"empty", "empty", "", all},
	}
	for _, tc := range tests {
		l, _ := f.ix.Layer(tc.collection)
		want := expected(l, tc.keep)
		for _, limit := range []int{1, 2, 3, 7, 100} {
			t.Run(tc.name+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
				target := "/collections/" + tc.collection + "/items?limit=" + strconv.Itoa(limit)
				if tc.query != "" {
					target += "&" + tc.query
				}
				var got []string
				var pages []string
				for target != "" {
					if len(pages) > len(want)+1 {
						t.Fatalf("more pages than features: %v", pages)
					}
					ids, matched, next, _ := fetchPage(t, f, target)
					if matched != len(want) {
						t.Errorf("page %d: numberMatched %d, want %d", len(pages), matched, len(want))
					}
					if len(ids) > limit || next != "" && len(ids) != limit {
						t.Errorf("page %d has %d features for limit %d", len(pages), len(ids), limit)
					}
					got = append(got, ids...)
					pages = append(pages, target)
					target = next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("paged through %v\nwant %v", got, want)
				}
				// And back from the last page by prev links.
				var back []string
				target = pages[len(pages)-1]
				for target != "" {
					ids, _, _, prev := fetchPage(t, f, target)
					back = append(ids, back...)
					target = prev
				}
				if !slices.Equal(back, want) {
					t.Errorf("paged back through %v\nwant %v", back, want)
				}
			})
		}
	}
}

// TestLimitClamped: a limit above the maximum is clamped, as OGC API -
// Features asks, and the next link carries the clamped value.
func TestLimitClamped(t *testing.T) {
	f := newFixture(t)
	for _, limit := range []string{"10001", "99999999999999999999999"} {
		ids, matched, next, _ := fetchPage(t, f, "/collections/energy/items?limit="+limit)
		if len(ids) != matched || next != "" {
			t.Errorf("limit=%s: %d of %d features, next %q", limit, len(ids), matched, next)
		}
	}
	rec := f.get(t, "/proximity?lon=30.5&lat=50.4&limit=1000000")
	if q := decode(t, rec.Body.Bytes())["query"].(map[string]any); q["limit"] != 10000.0 {
		t.Errorf("proximity limit echoed as %v, want the clamped 10000", q["limit"])
	}
}

// TestDatetime filters the timed collection by instants, dates and open
// and closed intervals.
func TestDatetime(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ datetime, want string }{
		{"2024-03-01T08:00:00Z", "aid-kyiv-station"},
		{"2024-01-15", "aid-odesa aid-chernihiv"},
		{"2024-01-15T13:00:00+02:00", "aid-odesa aid-chernihiv"},
		{"2024-02-01T00:00:00Z", "aid-irpin"},
		{"2024-01-20T00:00:00Z", "aid-chernihiv"},
		{"2024-02-15T00:00:00Z/..", "aid-kyiv-station aid-irpin aid-kharkiv"},
		{"../2024-01-01T00:00:00Z", "aid-chernihiv"},
		{"/2023-11-30", ""},
		{"2030-01-01/", "aid-kharkiv"},
		{"../..", "aid-kyiv-station aid-irpin aid-kharkiv aid-odesa aid-chernihiv"},
		// Regression: Unix nanoseconds wrapped outside 1677-2262.
		{"1600-01-01T00:00:00Z/..", "aid-kyiv-station aid-irpin aid-kharkiv aid-odesa aid-chernihiv"},
		{"../1600-01-01", ""},
		{"2609-10-01T00:00:00Z/..", "aid-kharkiv"},
		{"0001-01-01T00:00:00Z/9999-12-31T23:59:59.999999999Z", "aid-kyiv-station aid-irpin aid-kharkiv aid-odesa aid-chernihiv"},
		{"0000-01-01/0001-01-01", ""},
		{"9999-12-31", "aid-kharkiv"},
		{"1677-09-21T00:12:43.145224191Z/1677-09-21T00:12:43.145224193Z", ""},
		{"2262-04-11T23:47:16.854775807Z/2262-04-11T23:47:16.854775808Z", "aid-kharkiv"},
	}
	for _, tc := range tests {
		t.Run(tc.datetime, func(t *testing.T) {
			ids, matched, _, _ := fetchPage(t, f, "/collections/aid/items?datetime="+url.QueryEscape(tc.datetime))
			if got := strings.Join(ids, " "); got != tc.want || matched != len(ids) {
				t.Errorf("datetime=%s: %q (numberMatched %d), want %q", tc.datetime, got, matched, tc.want)
			}
		})
	}
	// Features without time match no time filter.
	if ids, _, _, _ := fetchPage(t, f, "/collections/energy/items?datetime=../.."); len(ids) != 0 {
		t.Errorf("untimed collection matched a datetime filter: %v", ids)
	}
}

// TestItemIDs reaches features by string, numeric and site_id ids, and ids
// that need escaping.
func TestItemIDs(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"sub-kyiv-north", "7001", "sub-lviv", "npp-zaporizhzhia"} {
		rec := f.get(t, "/collections/energy/items/"+url.PathEscape(id))
		if rec.Code != 200 || decode(t, rec.Body.Bytes())["id"] != id {
			t.Errorf("item %q: %d %s", id, rec.Code, rec.Body)
		}
	}
	if rec := f.get(t, "/collections/energy/items/sub%2Dkyiv%2Dnorth"); rec.Code != 200 {
		t.Errorf("escaped id: %d", rec.Code)
	}
}

// TestOffset: offset skips matching features, with and without filters,
// and the next link carries on from there with a cursor.
func TestOffset(t *testing.T) {
	f := newFixture(t)
	energy, _ := f.ix.Layer("energy")
	all := expected(energy, func(int) bool { return true })
	for _, tc := range []struct{ name, query string }{
		{"whole", ""},
		{"filtered", "&bbox=-180,-90,180,90"},
	} {
		for _, offset := range []int{0, 1, 5, len(all) - 1, len(all), len(all) + 3} {
			t.Run(tc.name+"/"+strconv.Itoa(offset), func(t *testing.T) {
				ids, matched, next, prev := fetchPage(t, f, "/collections/energy/items?limit=4&offset="+strconv.Itoa(offset)+tc.query)
				want := all[min(offset, len(all)):min(offset+4, len(all))]
				if !slices.Equal(ids, want) || matched != len(all) {
					t.Fatalf("got %v (matched %d), want %v", ids, matched, want)
				}
				if (prev != "") != (offset > 0) {
					t.Errorf("prev link %q at offset %d", prev, offset)
				}
				if next == "" {
					if offset+4 < len(all) {
						t.Errorf("no next link at offset %d", offset)
					}
					return
				}
				if strings.Contains(next, "offset=") {
					t.Errorf("next link %s carries the offset", next)
				}
				rest, _, _, _ := fetchPage(t, f, next)
				if wantRest := all[offset+4 : min(offset+8, len(all))]; !slices.Equal(rest, wantRest) {
					t.Errorf("next page %v, want %v", rest, wantRest)
				}
			})
		}
	}
	for _, target := range []string{"/collections/energy/items?offset=-1", "/collections/energy/items?offset=x", "/collections/energy/items?offset=2&cursor=n3"} {
		if rec := f.get(t, target); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"offset"`) {
			t.Errorf("GET %s: %d %s, want 400 naming offset", target, rec.Code, rec.Body)
		}
	}
}

// TestAlternates: items pages and collections link every other format
// offered (each export, and the HTML page), and each link serves it.
func TestAlternates(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/collections/energy/items?kind=substation&limit=2", "/collections/energy"} {
		doc := decode(t, f.get(t, target).Body.Bytes())
		types := map[string]bool{}
		for _, l := range doc["links"].([]any) {
			l := l.(map[string]any)
			if l["rel"] != "alternate" {
				continue
			}
			types[l["type"].(string)] = true
			u, _ := url.Parse(l["href"].(string))
			rec := f.get(t, u.RequestURI())
			got, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
			want, _, _ := mime.ParseMediaType(l["type"].(string))
			if rec.Code != 200 || got != want {
				t.Errorf("%s: alternate %s answered %d %s", target, u, rec.Code, rec.Header().Get("Content-Type"))
			}
			// An export is every item matching; the web page is this page.
			if export := want != "text/html"; strings.Contains(target, "kind=") && (!strings.Contains(u.RawQuery, "kind=substation") || strings.Contains(u.RawQuery, "limit") == export) {
				t.Errorf("%s: alternate %s should keep the filter, and the paging only as a web page", target, u)
			}
		}
		if len(types) != 4 {
			t.Errorf("%s: alternates %v, want CSV, NDJSON, KML and HTML", target, types)
		}
	}
}
