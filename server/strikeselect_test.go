package server_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	orbjson "github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/server"
)

// judgedStrike is a strike as the brute-force counts see it: its oblast
// found here, from the basemap's outlines, and its verdict as GET
// /strikes/{id} gives it.
type judgedStrike struct {
	id, source, oblast string
	time               time.Time
	verdict            string
	readings           map[string]string // reading id: verdict
	// hit are the collections and energy classes of the sites hit or
	// possibly hit.
	hit []string
}

// oblastOf finds p's oblast by testing every outline in basemap order.
func oblastOf(t testing.TB, outlines *orbjson.FeatureCollection, p orb.Point) string {
	t.Helper()
	for _, f := range outlines.Features {
		var in bool
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			in = planar.PolygonContains(g, p)
		case orb.MultiPolygon:
			in = planar.MultiPolygonContains(g, p)
		}
		if in {
			return f.Properties.MustString("iso")
		}
	}
	return ""
}

// newSelectionFixture serves the fixture layers with the basemap's
// outlines, and records strikes around the fixture's sites: some exact,
// some within a few hundred metres, some too coarse, across Kyiv,
// Chernihiv, Zhytomyr, Kharkiv and Odesa oblasts, before, during and after
// the moratorium.
func newSelectionFixture(t *testing.T) *strikeFixture {
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) { c.Basemap = data.Basemap() })
	centres := []orb.Point{{30.4702, 50.5253}, {30.5501, 50.3621}, {31.2893, 51.4982}, {28.6587, 50.2547},
		{36.2304, 49.9935}, {30.7233, 46.4825}, {30.5, 50.45}, {32.0, 49.0}}
	uncertainties := []float64{0, 50, 400, 3000, 30000}
	rng := rand.New(rand.NewPCG(17, 3))
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range 160 {
		c := centres[i%len(centres)]
		spread := 0.02
		if i%4 == 0 {
			spread = 0.0008
		}
		p := orb.Point{c[0] + (rng.Float64()-0.5)*spread, c[1] + (rng.Float64()-0.5)*spread}
		when := moratoriumStart.Add(time.Duration(rng.IntN(24*70)-24*20) * time.Hour)
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strikeAt(p[0], p[1], when, fmt.Sprintf(`"uncertainty_m":%v,"source":%q,"event_id":"S%d"`,
			uncertainties[rng.IntN(len(uncertainties))], []string{"monitor", "press"}[i%2], i)))
	}
	b.WriteString("]}")
	f.post(t, "application/geo+json", b.String(), http.StatusCreated)
	return f
}

// judgeAll reads every strike recorded and judges it one by one.
func judgeAll(t *testing.T, f *strikeFixture) []judgedStrike {
	outlines, err := orbjson.UnmarshalFeatureCollection(data.Basemap())
	if err != nil {
		t.Fatal(err)
	}
	var out []judgedStrike
	for _, feature := range f.getJSON(t, "/strikes?limit=10000")["features"].([]any) {
		id := feature.(map[string]any)["id"].(string)
		doc := decode(t, f.get(t, "/strikes/"+id).Body.Bytes())
		p := props(t, doc)
		coords := doc["geometry"].(map[string]any)["coordinates"].([]any)
		when, err := time.Parse(time.RFC3339Nano, p["datetime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		v := p["verdict"].(map[string]any)
		js := judgedStrike{id: id, source: p["source"].(string), time: when, verdict: v["verdict"].(string),
			oblast:   oblastOf(t, outlines, orb.Point{coords[0].(float64), coords[1].(float64)}),
			readings: map[string]string{}}
		for _, r := range v["readings"].([]any) {
			r := r.(map[string]any)
			js.readings[r["agreement"].(string)+"/"+r["reading"].(string)] = r["verdict"].(string)
		}
		for _, s := range v["sites"].([]any) {
			s := s.(map[string]any)
			for _, pb := range s["protected_by"].([]any) {
				pb := pb.(map[string]any)
				if pb["hit"] == true || pb["possible_hit"] == true {
					js.hit = append(js.hit, s["collection"].(string), siteClassOf(t, f, s["collection"].(string), s["id"].(string)))
				}
			}
		}
		out = append(out, js)
	}
	return out
}

// siteClassOf is the energy class of a site of the fixture's layers.
func siteClassOf(t *testing.T, f *strikeFixture, collection, id string) string {
	l, ok := f.ix.Layer(collection)
	if !ok || collection != agreement.EnergyLayer {
		return ""
	}
	for i := range l.Len() {
		if ft := l.Feature(i); ft.ID == id {
			return agreement.EnergyClass(ft.Kind, ft.Properties)
		}
	}
	t.Fatalf("no site %s/%s", collection, id)
	return ""
}

// pagedIDs follows the next links from target, collecting the strike ids,
// and checks numberMatched on every page.
func pagedIDs(t *testing.T, f *strikeFixture, target string) []string {
	var ids []string
	matched := -1.0
	for target != "" {
		page := f.getJSON(t, target)
		if matched >= 0 && page["numberMatched"] != matched {
			t.Errorf("%s: numberMatched %v, the first page said %v", target, page["numberMatched"], matched)
		}
		matched = page["numberMatched"].(float64)
		for _, feature := range page["features"].([]any) {
			ids = append(ids, feature.(map[string]any)["id"].(string))
		}
		target = nextLink(t, page)
	}
	if int(matched) != len(ids) {
		t.Errorf("%s: numberMatched %v, %d strikes paged", target, matched, len(ids))
	}
	return ids
}

// TestStrikeSelection: each filter of the strike log (oblast, verdict,
// agreement and reading, collection, energy class, from and to, source),
// alone and together, selects on /strikes (paged by its next links), on
// /report and in /strikes/summary exactly the strikes a brute-force pass
// over every strike judged one by one selects.
func TestStrikeSelection(t *testing.T) {
	f := newSelectionFixture(t)
	all := judgeAll(t, f)
	recs, _ := linkRecords(t, f)
	links := newLinkOracle(recs)
	in := func(v string, list string) bool { return slices.Contains(strings.Split(list, ","), v) }
	windowEnd := moratoriumEnd.Add(-time.Nanosecond)
	for _, tc := range []struct {
		name, query string
		want        func(s judgedStrike) bool
	}{
		{"oblast", "oblast=UA-30", func(s judgedStrike) bool { return s.oblast == "UA-30" }},
		{"oblasts", "oblast=UA-63,UA-51,UA-74", func(s judgedStrike) bool { return in(s.oblast, "UA-63,UA-51,UA-74") }},
		{"verdict", "verdict=protected_site_hit", func(s judgedStrike) bool { return s.verdict == "protected_site_hit" }},
		{"verdicts", "verdict=possible_protected_site_hit,location_too_coarse", func(s judgedStrike) bool {
			return in(s.verdict, "possible_protected_site_hit,location_too_coarse")
		}},
		{"agreement", "agreement=energy-moratorium-2025-03", func(s judgedStrike) bool {
			return !s.time.Before(moratoriumStart) && !s.time.After(windowEnd)
		}},
		{"agreement and verdict", "agreement=energy-moratorium-2025-03&verdict=protected_site_hit", func(s judgedStrike) bool {
			return !s.time.Before(moratoriumStart) && !s.time.After(windowEnd) && s.readings["energy-moratorium-2025-03/terms"] == "protected_site_hit"
		}},
		{"reading", "agreement=okhmatdyt-2025&reading=terms&verdict=protected_site_nearby,possible_protected_site_hit", func(s judgedStrike) bool {
			return in(s.readings["okhmatdyt-2025/terms"], "protected_site_nearby,possible_protected_site_hit")
		}},
		{"collection", "collection=energy", func(s judgedStrike) bool { return slices.Contains(s.hit, "energy") }},
		{"energy class", "energy_class=substation", func(s judgedStrike) bool { return slices.Contains(s.hit, "substation") }},
		{"from and to", "from=2025-03-20&to=2025-04-02", func(s judgedStrike) bool {
			return !s.time.Before(time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)) && s.time.Before(time.Date(2025, 4, 3, 0, 0, 0, 0, time.UTC))
		}},
		{"together", "oblast=UA-30&verdict=protected_site_hit,possible_protected_site_hit&source=monitor&energy_class=substation,power_plant&from=2025-03-01",
			func(s judgedStrike) bool {
				return s.oblast == "UA-30" && in(s.verdict, "protected_site_hit,possible_protected_site_hit") && s.source == "monitor" &&
					(slices.Contains(s.hit, "substation") || slices.Contains(s.hit, "power_plant")) && !s.time.Before(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, s := range all {
				if tc.want(s) {
					want = append(want, s.id)
				}
			}
			if len(want) == 0 || len(want) == len(all) {
				t.Fatalf("%d of %d strikes selected: the case tells nothing", len(want), len(all))
			}
			slices.Sort(want)
			got := pagedIDs(t, f, "/strikes?limit=7&"+tc.query)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("/strikes?%s: %d strikes, want %d\ngot  %v\nwant %v", tc.query, len(got), len(want), got, want)
			}
			var reported []string
			for _, feature := range f.getJSON(t, "/report?"+tc.query)["features"].([]any) {
				reported = append(reported, feature.(map[string]any)["id"].(string))
			}
			slices.Sort(reported)
			if !slices.Equal(reported, want) {
				t.Errorf("/report?%s: %d strikes, want %d", tc.query, len(reported), len(want))
			}
			summary := f.getJSON(t, "/strikes/summary?by=week&"+tc.query)
			total := 0
			for _, r := range summary["rows"].([]any) {
				total += int(r.(map[string]any)["count"].(float64))
			}
			events := len(links.counted(want))
			if total != events || summary["strikes"] != float64(events) || summary["records"] != float64(len(want)) {
				t.Errorf("/strikes/summary?%s: rows add up to %d, strikes %v, records %v; want %d events of %d records",
					tc.query, total, summary["strikes"], summary["records"], events, len(want))
			}
		})
	}
}

// TestStrikeSummary counts the strikes by day, week and month, oblast and
// verdict, against the same counts made here, a strike two sources
// recorded counted once, by the record the linking rule counts it by.
func TestStrikeSummary(t *testing.T) {
	f := newSelectionFixture(t)
	all := judgeAll(t, f)
	recs, _ := linkRecords(t, f)
	links := newLinkOracle(recs)
	for _, by := range []struct {
		name   string
		period func(time.Time) string
	}{
		{"day", func(t time.Time) string { return t.UTC().Format(time.DateOnly) }},
		{"week", func(t time.Time) string { y, w := t.UTC().ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"month", func(t time.Time) string { return t.UTC().Format("2006-01") }},
	} {
		t.Run(by.name, func(t *testing.T) {
			for _, oblast := range []string{"", "UA-30"} {
				var selected []string
				for _, s := range all {
					if oblast == "" || s.oblast == oblast {
						selected = append(selected, s.id)
					}
				}
				counted := links.counted(selected)
				want := map[string]int{}
				for _, s := range all {
					if counted[s.id] {
						want[by.period(s.time)+" "+s.oblast+" "+s.verdict]++
					}
				}
				target := "/strikes/summary?by=" + by.name
				if oblast != "" {
					target += "&oblast=" + oblast
				}
				got := map[string]int{}
				for _, r := range f.getJSON(t, target)["rows"].([]any) {
					r := r.(map[string]any)
					o, _ := r["oblast"].(string)
					got[r["period"].(string)+" "+o+" "+r["verdict"].(string)] += int(r["count"].(float64))
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s:\ngot  %v\nwant %v", target, got, want)
				}
			}
		})
	}
	for _, tc := range []struct{ query, want string }{
		{"", "by"},
		{"by=year", `\"year\" is not a period`},
		{"by=day&oblast=UA-99", `no oblast \"UA-99\"`},
		{"by=day&verdict=hit", `no verdict \"hit\"`},
		{"by=day&verdict=not_in_force", "name the reading"},
		{"by=day&reading=ru", "agreement"},
		{"by=day&agreement=energy-moratorium-2025-03&reading=xx", `no reading \"xx\"`},
		{"by=day&collection=nosuch", `no collection \"nosuch\"`},
		{"by=day&energy_class=refinery", `no energy class \"refinery\"`},
		{"by=day&from=2025-04-01&to=2025-03-01", "ends before it starts"},
		{"by=day&limit=3", "unknown parameter"},
	} {
		rec := f.get(t, "/strikes/summary?"+tc.query)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s; want 400 with %q", tc.query, rec.Code, rec.Body, tc.want)
		}
	}
}

// TestStrikeSummaryByCollection: group=collection counts the strikes by
// the collections of the sites they hit or possibly hit (a strike hitting
// two in one row naming both, null for none), alone, beside the oblast and
// with a filter, against the same counts made here; the rows add up to the
// strikes matched.
func TestStrikeSummaryByCollection(t *testing.T) {
	f := newSelectionFixture(t)
	all := judgeAll(t, f)
	recs, _ := linkRecords(t, f)
	links := newLinkOracle(recs)
	collectionsOf := func(s judgedStrike) string {
		var names []string
		for i := 0; i < len(s.hit); i += 2 {
			if !slices.Contains(names, s.hit[i]) {
				names = append(names, s.hit[i])
			}
		}
		slices.Sort(names)
		return strings.Join(names, ",")
	}
	several := 0
	for _, s := range all {
		if strings.Contains(collectionsOf(s), ",") {
			several++
		}
	}
	if several == 0 {
		t.Fatal("no strike hits sites of two collections: the fixture tells nothing of how they count")
	}
	for _, tc := range []struct {
		query string
		keep  func(judgedStrike) bool
	}{
		{"group=collection", func(judgedStrike) bool { return true }},
		{"group=oblast,collection", func(judgedStrike) bool { return true }},
		{"group=collection&collection=hospitals", func(s judgedStrike) bool { return slices.Contains(s.hit, "hospitals") }},
	} {
		byOblast := strings.Contains(tc.query, "oblast")
		var selected []string
		for _, s := range all {
			if tc.keep(s) {
				selected = append(selected, s.id)
			}
		}
		counted := links.counted(selected)
		want := map[string]int{}
		for _, s := range all {
			if counted[s.id] {
				o := "-"
				if byOblast {
					o = s.oblast
				}
				want[s.time.UTC().Format("2006-01")+" "+o+" "+collectionsOf(s)+" "+s.verdict]++
			}
		}
		summary := f.getJSON(t, "/strikes/summary?by=month&"+tc.query)
		got := map[string]int{}
		total := 0
		for _, r := range summary["rows"].([]any) {
			r := r.(map[string]any)
			o, hasOblast := r["oblast"]
			if hasOblast != byOblast {
				t.Fatalf("%s: a row %v", tc.query, r)
			}
			if !byOblast {
				o = "-"
			}
			c, _ := r["collection"].(string)
			if _, ok := r["collection"]; !ok {
				t.Fatalf("%s: a row without collection %v", tc.query, r)
			}
			oblast, _ := o.(string)
			got[r["period"].(string)+" "+oblast+" "+c+" "+r["verdict"].(string)] += int(r["count"].(float64))
			total += int(r["count"].(float64))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\ngot  %v\nwant %v", tc.query, got, want)
		}
		if total != len(counted) || summary["strikes"] != float64(len(counted)) {
			t.Errorf("%s: rows add up to %d, strikes %v; want %d", tc.query, total, summary["strikes"], len(counted))
		}
	}
	if rec := f.get(t, "/strikes/summary?by=week&group=site"); rec.Code != 400 || !strings.Contains(rec.Body.String(), `no grouping \"site\"`) {
		t.Errorf("group=site: %d %s", rec.Code, rec.Body)
	}
}
