package server_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/geo"
)

// sortedIDs sorts l's features kept by keep as sortby should: each key in
// turn (a leading - descending), values before absent ones ascending and
// after them descending, ties by position in the layer.
func sortedIDs(t *testing.T, l *geo.Layer, sortby string, keep func(i int) bool) []string {
	t.Helper()
	props := make([]map[string]any, l.Len())
	var idx []int
	for i := range l.Len() {
		if err := json.Unmarshal(l.Feature(i).Properties, &props[i]); err != nil {
			t.Fatal(err)
		}
		if keep(i) {
			idx = append(idx, i)
		}
	}
	keys := strings.Split(sortby, ",")
	slices.SortStableFunc(idx, func(a, b int) int {
		for _, k := range keys {
			name, desc := strings.CutPrefix(k, "-")
			c := compareJSON(props[a][name], props[b][name])
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = l.Feature(i).ID
	}
	return ids
}

// compareJSON orders two decoded JSON scalars of one type, nil last.
func compareJSON(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch a := a.(type) {
	case float64:
		return cmp.Compare(a, b.(float64))
	case string:
		return strings.Compare(a, b.(string))
	case bool:
		return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) // false < true
	}
	panic(fmt.Sprintf("unsortable %T", a))
}

// TestSortby follows next links through sorted selections, with and
// without filters, and checks every page against a sort of the layer here;
// then prev links back to the start.
func TestSortby(t *testing.T) {
	f := newFixture(t)
	energy, _ := f.ix.Layer("energy")
	all := func(int) bool { return true }
	substations := func(i int) bool { return strings.Contains(string(energy.Feature(i).Properties), `"kind":"substation"`) }
	for _, tc := range []struct {
		name, sortby, query string
		keep                func(int) bool
	}{
		{"name", "name", "", all},
		{"name descending", "-name", "", all},
		{"voltage, nulls last", "voltage_kv", "", all},
		{"voltage descending, nulls first", "-voltage_kv", "", all},
		{"two keys, ties by layer order", "-voltage_kv,name", "", all},
		{"three keys", "in_service,-voltage_kv,operator", "", all},
		{"with a property filter", "-name", "&kind=substation", substations},
		{"with a CQL2 filter", "voltage_kv,-name", "&filter=kind%3D%27substation%27", substations},
		{"with a whole-world bbox", "-capacity_mw,name", "&bbox=-180,-90,180,90", all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := sortedIDs(t, energy, tc.sortby, tc.keep)
			var got []string
			target := "/collections/energy/items?limit=3&sortby=" + tc.sortby + tc.query
			var pages []string
			for target != "" {
				pages = append(pages, target)
				ids, matched, next, _ := fetchPage(t, f, target)
				if matched != len(want) {
					t.Fatalf("GET %s: numberMatched %d, want %d", target, matched, len(want))
				}
				got = append(got, ids...)
				if next != "" && !strings.Contains(next, "sortby=") {
					t.Fatalf("next link %s drops sortby", next)
				}
				target = next
				if len(pages) > len(want) {
					t.Fatal("next links never end")
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("sorted\n got %v\nwant %v", got, want)
			}
			// Back from the last page by prev links: the same pages.
			last := pages[len(pages)-1]
			for k := len(pages) - 1; k > 0; k-- {
				_, _, _, prev := fetchPage(t, f, last)
				if prev == "" {
					t.Fatalf("page %d has no prev link", k)
				}
				wantIDs, _, _, _ := fetchPage(t, f, pages[k-1])
				if ids, _, _, _ := fetchPage(t, f, prev); !slices.Equal(ids, wantIDs) {
					t.Fatalf("prev of page %d: %v, want %v", k, ids, wantIDs)
				}
				last = prev
			}
		})
	}
	// A leading + sorts ascending, whether escaped or read as a space.
	asc, _, _, _ := fetchPage(t, f, "/collections/energy/items?limit=50&sortby=name")
	for _, plus := range []string{"%2Bname", "+name"} {
		if got, _, _, _ := fetchPage(t, f, "/collections/energy/items?limit=50&sortby="+plus); !slices.Equal(got, asc) {
			t.Errorf("sortby=%s: %v, want %v", plus, got, asc)
		}
	}
	// datetime sorts timed collections by their start.
	aid, _ := f.ix.Layer("aid")
	if got, _, _, _ := fetchPage(t, f, "/collections/aid/items?limit=100&sortby=-datetime"); len(got) != aid.Len() {
		t.Errorf("aid by -datetime: %v", got)
	}
}

// TestSortbyErrors: a key the collection cannot sort by, an empty or
// repeated one, a cursor or another format beside sortby are 400s naming
// the parameter and the key's position.
func TestSortbyErrors(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ target, param, detail string }{
		{"/collections/energy/items?sortby=name,nosuch", "sortby", `key 2, \"nosuch\"`},
		{"/collections/energy/items?sortby=name,", "sortby", "key 2 is empty"},
		{"/collections/energy/items?sortby=-", "sortby", "key 1 is empty"},
		{"/collections/energy/items?sortby=name,-name", "sortby", "given twice"},
		{"/collections/energy/items?sortby=datetime", "sortby", `\"datetime\"`},
		{"/collections/energy/items?sortby=name&cursor=n3", "cursor", "by offset"},
		{"/collections/energy/items?sortby=name&f=csv", "sortby", "GeoJSON pages only"},
		{"/collections/energy/items?properties=name&f=kml", "properties", "GeoJSON pages only"},
		{"/collections/energy/items?properties=name,nosuch", "properties", `\"nosuch\"`},
		{"/collections/energy/items?skipGeometry=yes", "skipGeometry", "true or false"},
	} {
		rec := f.get(t, tc.target)
		body := rec.Body.String()
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(body, `"`+tc.param+`"`) || !strings.Contains(body, tc.detail) {
			t.Errorf("GET %s: %d %s, want 400 naming %s with %s", tc.target, rec.Code, body, tc.param, tc.detail)
		}
	}
}

// TestPropertySelection: properties= keeps only the properties named (as
// they are), skipGeometry=true writes a null geometry, and the next links
// keep both.
func TestPropertySelection(t *testing.T) {
	f := newFixture(t)
	full := decode(t, f.get(t, "/collections/energy/items?limit=100").Body.Bytes())["features"].([]any)
	byID := map[string]map[string]any{}
	for _, ft := range full {
		ft := ft.(map[string]any)
		byID[fmt.Sprint(ft["id"])] = ft
	}
	for _, tc := range []struct {
		query    string
		keep     []string
		geometry bool
	}{
		{"properties=name,voltage_kv", []string{"name", "voltage_kv"}, true},
		{"properties=fuel", []string{"fuel"}, true},
		{"properties=", nil, true},
		{"skipGeometry=true", nil, false},
		{"skipGeometry=false&properties=kind", []string{"kind"}, true},
		{"skipGeometry=true&properties=name&sortby=-name", []string{"name"}, false},
	} {
		target := "/collections/energy/items?limit=7&" + tc.query
		seen := 0
		for target != "" {
			doc := decode(t, f.get(t, target).Body.Bytes())
			for _, ft := range doc["features"].([]any) {
				ft := ft.(map[string]any)
				seen++
				whole := byID[fmt.Sprint(ft["id"])]
				if tc.geometry != (ft["geometry"] != nil) || tc.geometry && fmt.Sprint(ft["geometry"]) != fmt.Sprint(whole["geometry"]) {
					t.Errorf("%s: %v geometry %v", tc.query, ft["id"], ft["geometry"])
				}
				got, all := ft["properties"].(map[string]any), whole["properties"].(map[string]any)
				if !strings.Contains(tc.query, "properties=") {
					if fmt.Sprint(got) != fmt.Sprint(all) {
						t.Errorf("%s: %v properties %v, want %v", tc.query, ft["id"], got, all)
					}
					continue
				}
				for k, v := range got {
					if !slices.Contains(tc.keep, k) || fmt.Sprint(v) != fmt.Sprint(all[k]) {
						t.Errorf("%s: %v has %s=%v", tc.query, ft["id"], k, v)
					}
				}
				for _, k := range tc.keep {
					if _, ok := all[k]; ok && got[k] == nil {
						t.Errorf("%s: %v lost %s", tc.query, ft["id"], k)
					}
				}
			}
			next := links(t, doc)["next"]
			target = ""
			if next != nil {
				target = strings.TrimPrefix(next["href"].(string), "http://example.com")
			}
		}
		if seen != len(full) {
			t.Errorf("%s: %d features over the pages, want %d", tc.query, seen, len(full))
		}
	}
}

// TestStrikesSortAndSelect: the strike log sorts by time either way,
// pages by cursor in that order, and selects properties.
func TestStrikesSortAndSelect(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	day := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	var features []string
	for i := range 5 {
		features = append(features, strikeAt(30+float64(i), 50, day.Add(time.Duration((i*3)%5)*time.Hour), fmt.Sprintf(`"event_id":"E%d","source":"sort"`, i)))
	}
	f.post(t, "application/geo+json", collectionOf(features...), http.StatusCreated)
	walk := func(target string) (events []string) {
		for pages := 0; target != ""; pages++ {
			if pages > 5 {
				t.Fatal("too many pages")
			}
			doc := f.getJSON(t, target)
			for _, ft := range doc["features"].([]any) {
				p := props(t, ft.(map[string]any))
				events = append(events, fmt.Sprint(p["event_id"]))
				if target := target; strings.Contains(target, "properties=") && len(p) != 1 {
					t.Errorf("%s: properties %v", target, p)
				}
				if strings.Contains(target, "skipGeometry=true") && ft.(map[string]any)["geometry"] != nil {
					t.Errorf("%s: geometry %v", target, ft.(map[string]any)["geometry"])
				}
			}
			target = ""
			if next := links(t, doc)["next"]; next != nil {
				target = strings.TrimPrefix(next["href"].(string), "http://example.com")
			}
		}
		return events
	}
	// Event i is at hour (3i mod 5): E0 0h, E2 1h, E4 2h, E1 3h, E3 4h.
	oldest := []string{"E0", "E2", "E4", "E1", "E3"}
	if got := walk("/collections/strikes/items?limit=2&sortby=datetime"); !slices.Equal(got, oldest) {
		t.Errorf("by datetime: %v, want %v", got, oldest)
	}
	latest := slices.Clone(oldest)
	slices.Reverse(latest)
	if got := walk("/collections/strikes/items?limit=2&sortby=-datetime&properties=event_id&skipGeometry=true"); !slices.Equal(got, latest) {
		t.Errorf("by -datetime: %v, want %v", got, latest)
	}
	for _, target := range []string{"/collections/strikes/items?sortby=weapon", "/collections/strikes/items?properties=nosuch", "/strikes?sortby=-datetime&f=ndjson"} {
		if rec := f.get(t, target); rec.Code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", target, rec.Code)
		}
	}
}
