package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTimeEdges records strikes at the edges of time (the years 1 and 9999,
// 1600, either side of 1677-09-21 and 2262-04-11 where Unix nanoseconds in
// an int64 wrap) and asks /strikes, /report and /proximity about them:
// none may wrap into another century or turn a window around.
func TestTimeEdges(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	edges := []struct {
		event string
		at    time.Time
	}{
		{"y0001", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"y1600", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"before1677", time.Date(1677, 9, 21, 0, 12, 43, 145224000, time.UTC)},
		{"after1677", time.Date(1677, 9, 21, 0, 12, 43, 145225000, time.UTC)},
		{"y2025", moratoriumStart.Add(time.Hour)},
		{"before2262", time.Date(2262, 4, 11, 23, 47, 16, 854775000, time.UTC)},
		{"after2262", time.Date(2262, 4, 11, 23, 47, 16, 854776000, time.UTC)},
		{"y9999", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
	}
	var features []string
	for _, e := range edges {
		features = append(features, strikeAt(30.4857, 50.4563, e.at, `"event_id":"`+e.event+`"`))
	}
	f.post(t, "application/geo+json", collectionOf(features...), 201)

	events := func(target string) string {
		t.Helper()
		var got []string
		for _, s := range f.getJSON(t, target)["features"].([]any) {
			got = append(got, props(t, s.(map[string]any))["event_id"].(string))
		}
		return strings.Join(got, " ")
	}
	all := "y0001 y1600 before1677 after1677 y2025 before2262 after2262 y9999"
	tests := []struct{ name, target, want string }{
		{"strikes after 2609", "/strikes?datetime=" + url.QueryEscape("2609-10-01T00:00:00Z/.."), "y9999"},
		{"strikes from 1600", "/strikes?datetime=" + url.QueryEscape("1600-01-01T00:00:00Z/1700-01-01T00:00:00Z"), "y1600 before1677 after1677"},
		{"strikes at the first instant", "/strikes?datetime=0001-01-01T00:00:00Z", "y0001"},
		{"strikes on the last day", "/strikes?datetime=9999-12-31", "y9999"},
		{"strikes across 1677", "/strikes?datetime=" + url.QueryEscape("1677-09-21T00:12:43.145224001Z/1677-09-21T00:12:43.145225Z"), "after1677"},
		{"strikes across 2262", "/strikes?datetime=" + url.QueryEscape("2262-04-11T23:47:16.854775807Z/.."), "after2262 y9999"},
		{"strikes before the year 1", "/strikes?datetime=" + url.QueryEscape("../0000-12-31"), ""},
		{"report of all time", "/report?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59.999999999Z", all},
		{"report to the first instant", "/report?to=0001-01-01T00:00:00Z", "y0001"},
		{"report from 1600", "/report?from=1600-01-01&to=2000-01-01", "y1600 before1677 after1677"},
		{"report from 2262", "/report?from=2262-04-11T23:47:16.854775808Z", "after2262 y9999"},
		{"report of an open agreement", "/report?agreement=okhmatdyt-2025", "y2025 before2262 after2262 y9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := events(tt.target); got != tt.want {
				t.Errorf("GET %s: %q, want %q", tt.target, got, tt.want)
			}
		})
	}
	// Paging through every strike crosses each edge once, in order.
	var paged []string
	for target := "/strikes?limit=3"; target != ""; {
		doc := f.getJSON(t, target)
		for _, s := range doc["features"].([]any) {
			paged = append(paged, props(t, s.(map[string]any))["event_id"].(string))
		}
		target = ""
		if next, ok := links(t, doc)["next"]; ok {
			target = strings.TrimPrefix(next["href"].(string), "http://example.com")
		}
	}
	if got := strings.Join(paged, " "); got != all {
		t.Errorf("paged: %q", got)
	}

	// Okhmatdyt is protected from 2025-03-01, open-ended: in force at the
	// last instant RFC 3339 writes, not at the first.
	verdicts := []struct{ datetime, want string }{
		{"0001-01-01T00:00:00Z", "no_protected_site"},
		{"1600-01-01T00:00:00Z", "no_protected_site"},
		{"2262-04-11T23:47:16.854775808Z", "protected_site_hit"},
		{"9999-12-31T23:59:59.999999999Z", "protected_site_hit"},
	}
	for _, v := range verdicts {
		doc := f.getJSON(t, "/proximity?lon=30.4857&lat=50.4563&radius=100&datetime="+url.QueryEscape(v.datetime))
		sum := doc["summary"].(map[string]any)
		if sum["verdict"] != v.want && !(v.want == "no_protected_site" && sum["verdict"] == "protected_site_nearby") {
			t.Errorf("verdict at %s: %v, want %s", v.datetime, sum["verdict"], v.want)
		}
		if in := sum["agreements_in_force"].([]any); (v.want == "protected_site_hit") != slices.Contains(in, any("okhmatdyt-2025")) {
			t.Errorf("at %s in force: %v", v.datetime, in)
		}
	}
	for _, target := range []string{
		"/strikes?datetime=" + url.QueryEscape("9999-12-31T00:00:00Z/0001-01-01T00:00:00Z"),
		"/report?from=9999-12-31&to=0001-01-01",
	} {
		if rec := f.get(t, target); rec.Code != 400 {
			t.Errorf("GET %s: %d, want 400 (the window is backwards)", target, rec.Code)
		}
	}
}
