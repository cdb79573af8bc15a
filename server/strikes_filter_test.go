package server_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStrikeFilters: CQL2 filters and property=value tests on the strike
// log select what the same test applied to the strikes here selects, over
// pages whose numberMatched stays exact, in both orders, and in exports.
func TestStrikeFilters(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	day := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	type strike struct {
		lon, lat    float64
		hour        int
		source      string
		weapon      string
		uncertainty float64
	}
	strikes := []strike{
		{30.0, 50.0, 0, "acled", "drone", 50},
		{31.0, 50.0, 1, "acled", "missile", 500},
		{32.0, 50.0, 2, "osint", "drone", 150},
		{36.2, 49.9, 3, "acled", "drone", 1000},
		{30.5, 46.5, 4, "osint", "missile", 20},
		{24.0, 49.8, 5, "monitor", "glide bomb", 300},
		{30.2, 50.1, 6, "acled", "drone", 120},
	}
	var features []string
	for i, s := range strikes {
		features = append(features, strikeAt(s.lon, s.lat, day.Add(time.Duration(s.hour)*time.Hour),
			fmt.Sprintf(`"source":%q,"weapon":%q,"uncertainty_m":%v,"event_id":"F%d"`, s.source, s.weapon, s.uncertainty, i)))
	}
	f.post(t, "application/geo+json", collectionOf(features...), http.StatusCreated)
	events := func(keep func(s strike) bool) []string {
		var ids []string
		for i, s := range strikes {
			if keep(s) {
				ids = append(ids, fmt.Sprintf("F%d", i))
			}
		}
		return ids
	}
	for _, tc := range []struct {
		name, query string
		keep        func(s strike) bool
	}{
		{"equality and comparison", "filter=" + url.QueryEscape("source = 'acled' AND uncertainty_m > 100"), func(s strike) bool { return s.source == "acled" && s.uncertainty > 100 }},
		{"timestamp", "filter=" + url.QueryEscape("datetime >= TIMESTAMP('2025-03-20T02:00:00Z') AND datetime < TIMESTAMP('2025-03-20T05:00:00Z')"), func(s strike) bool { return s.hour >= 2 && s.hour < 5 }},
		{"datetime interval beside a filter", "datetime=2025-03-20T01:00:00Z/..&filter=" + url.QueryEscape("weapon IN ('drone', 'glide bomb')"), func(s strike) bool { return s.hour >= 1 && s.weapon != "missile" }},
		{"temporal function", "filter=" + url.QueryEscape("T_DURING(datetime, INTERVAL('2025-03-20T02:00:00Z', '2025-03-20T05:00:00Z'))"), func(s strike) bool { return s.hour > 2 && s.hour < 5 }},
		{"temporal, open interval", "filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"t_after","args":[{"property":"datetime"},{"interval":["..","2025-03-20T03:00:00Z"]}]}`), func(s strike) bool { return s.hour > 3 }},
		{"like and casei", "filter=" + url.QueryEscape("CASEI(weapon) LIKE CASEI('%BOMB')"), func(s strike) bool { return strings.HasSuffix(s.weapon, "bomb") }},
		{"spatial", "filter=" + url.QueryEscape("S_INTERSECTS(geometry, BBOX(29.5, 49.5, 31.5, 50.5))"), func(s strike) bool { return s.lon >= 29.5 && s.lon <= 31.5 && s.lat >= 49.5 && s.lat <= 50.5 }},
		// 1° of longitude at 50°N is about 71.7 km.
		{"dwithin", "filter=" + url.QueryEscape("DWITHIN(geometry, POINT(30 50), 100000)"), func(s strike) bool { return s.lat == 50 && s.lon <= 31 || s.lon == 30.2 }},
		{"property=value", "weapon=drone&source=acled", func(s strike) bool { return s.weapon == "drone" && s.source == "acled" }},
		{"cql2-json", "filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"between","args":[{"property":"uncertainty_m"},100,600]}`), func(s strike) bool { return s.uncertainty >= 100 && s.uncertainty <= 600 }},
		{"matches none", "filter=" + url.QueryEscape("source = 'nobody'"), func(strike) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := events(tc.keep)
			for _, order := range []string{"", "&sortby=-datetime"} {
				var got []string
				target := "/collections/strikes/items?limit=2&" + tc.query + order
				for pages := 0; target != ""; pages++ {
					if pages > len(strikes) {
						t.Fatal("next links never end")
					}
					doc := f.getJSON(t, target)
					if doc["numberMatched"] != float64(len(want)) {
						t.Fatalf("GET %s: numberMatched %v, want %d", target, doc["numberMatched"], len(want))
					}
					for _, ft := range doc["features"].([]any) {
						got = append(got, fmt.Sprint(props(t, ft.(map[string]any))["event_id"]))
					}
					target = ""
					if next := links(t, doc)["next"]; next != nil {
						target = strings.TrimPrefix(next["href"].(string), "http://example.com")
					}
				}
				w := slices.Clone(want)
				if order != "" {
					slices.Reverse(w)
				}
				if !slices.Equal(got, w) {
					t.Errorf("%s: %v, want %v", order, got, w)
				}
			}
			if len(want) > 1 {
				doc := f.getJSON(t, "/collections/strikes/items?offset=1&limit=1&"+tc.query)
				ft := doc["features"].([]any)
				if len(ft) != 1 || fmt.Sprint(props(t, ft[0].(map[string]any))["event_id"]) != want[1] {
					t.Errorf("offset 1: %v, want %s", ft, want[1])
				}
			}
			rec := f.get(t, "/strikes?f=ndjson&"+tc.query)
			var exported []string
			sc := bufio.NewScanner(rec.Body)
			for sc.Scan() {
				if line := sc.Text(); line != "" {
					exported = append(exported, fmt.Sprint(props(t, decode(t, []byte(line)))["event_id"]))
				}
			}
			if !slices.Equal(exported, want) {
				t.Errorf("NDJSON export: %v, want %v", exported, want)
			}
		})
	}
	q := f.getJSON(t, "/collections/strikes/queryables")["properties"].(map[string]any)
	for _, name := range []string{"source", "weapon", "uncertainty_m", "datetime", "geometry"} {
		if q[name] == nil {
			t.Errorf("strike queryables lack %s: %v", name, q)
		}
	}
	for _, tc := range []struct{ query, param, detail string }{
		{"filter=" + url.QueryEscape("colour = 'red'"), "filter", `\"colour\" is not a property`},
		{"filter=" + url.QueryEscape("source = "), "filter", "position 10"},
		{"uncertainty_m=wide", "uncertainty_m", "not a finite number"},
		{"filter-lang=cql3&filter=x", "filter-lang", "not offered"},
	} {
		rec := f.get(t, "/collections/strikes/items?"+tc.query)
		if body := rec.Body.String(); rec.Code != 400 || !strings.Contains(body, `"`+tc.param+`"`) || !strings.Contains(body, tc.detail) {
			t.Errorf("%s: %d %s, want 400 naming %s with %s", tc.query, rec.Code, body, tc.param, tc.detail)
		}
	}
}
