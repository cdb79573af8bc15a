package server_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// bruteNearest is the site of the named layers (all when none) nearest p,
// measured to every vertex of every site and to points every ~5 m along
// its edges: a linear scan with no index, true to a few metres.
func bruteNearest(ix *geo.Index, p orb.Point, layers ...string) (collection, id string, meters float64) {
	meters = math.Inf(1)
	for _, l := range ix.Layers() {
		if len(layers) > 0 && !strings.Contains(","+strings.Join(layers, ",")+",", ","+l.Name()+",") {
			continue
		}
		for i := range l.Len() {
			f := l.Feature(i)
			d := math.Inf(1)
			if geodesy.ContainsPoint(f.Geometry, p) {
				d = 0
			}
			geodesy.VertexRuns(f.Geometry, func(run []orb.Point, _ bool) {
				for k, v := range run {
					d = min(d, geodesy.Distance(p, v))
					if k == 0 {
						continue
					}
					a := run[k-1]
					length := geodesy.Distance(a, v)
					if geodesy.Distance(p, a)-length > min(d, meters) {
						continue // no point of the edge can be nearer
					}
					steps := int(length/5) + 1
					for s := 1; s < steps; s++ {
						t := float64(s) / float64(steps)
						d = min(d, geodesy.Distance(p, orb.Point{a[0] + t*(v[0]-a[0]), a[1] + t*(v[1]-a[1])}))
					}
				}
			})
			// Ties go by collection, then id, as the index breaks them.
			if d < meters-1e-3 || d < meters+1e-3 && (l.Name() < collection || l.Name() == collection && f.ID < id) {
				collection, id, meters = l.Name(), f.ID, d
			}
		}
	}
	return collection, id, meters
}

// factStrikes are posted by TestStrikeFacts: GeoJSON with and without a
// link, and one row each of UCDP and ACLED, whose precision codes travel.
var factStrikes = []struct {
	event     string
	lon, lat  float64
	link      string
	precision string
}{
	{"on-substation", 30.4702, 50.5253, "https://monitor.example/events/1", ""},
	{"by-hospital", 30.4857, 50.4563, "", ""},
	{"far-west", 23.6, 49.84, "", ""}, // 30 km west of Lviv: no site within the radius judged
	{"900001", 30.5234, 50.4501, "", "where_prec=2"},
	{"TST0001", 30.5234, 50.4501, "", "geo_precision=1"},
}

// TestStrikeFacts checks that every report row and strike carries the
// nearest site however far (against a linear scan of every site), the
// source's link and precision code, and who recorded it.
func TestStrikeFacts(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	at := moratoriumStart.Add(time.Hour)
	f.post(t, "application/geo+json", collectionOf(
		strikeAt(factStrikes[0].lon, factStrikes[0].lat, at, `"event_id":"on-substation","source_url":"https://monitor.example/events/1"`),
		// Not a web address: never offered as a link.
		strikeAt(factStrikes[1].lon, factStrikes[1].lat, at, `"event_id":"by-hospital","url":"javascript:alert(1)"`),
		strikeAt(factStrikes[2].lon, factStrikes[2].lat, at, `"event_id":"far-west","source_link":"https://forged.example/"`),
	), http.StatusCreated)
	f.post(t, "text/csv", "id,date_start,date_end,latitude,longitude,where_prec\n900001,2025-03-20,2025-03-20,50.4501,30.5234,2\n", http.StatusCreated)
	f.post(t, "text/csv", "event_id_cnty,event_date,latitude,longitude,geo_precision\nTST0001,2025-03-20,50.4501,30.5234,1\n", http.StatusCreated)

	check := func(where string, p map[string]any, scope ...string) {
		t.Helper()
		event := p["event_id"].(string)
		for _, s := range factStrikes {
			if s.event != event {
				continue
			}
			coll, id, meters := bruteNearest(f.ix, orb.Point{s.lon, s.lat}, scope...)
			n, _ := p["nearest_site"].(map[string]any)
			if n == nil || n["collection"] != coll || n["id"] != id || math.Abs(n["distance_m"].(float64)-meters) > 10 {
				t.Errorf("%s %s: nearest_site %v, a scan of every site finds %s/%s at %.1f m", where, event, n, coll, id, meters)
			}
			if n != nil && n["kind"] == nil {
				t.Errorf("%s %s: nearest_site %v without its kind", where, event, n)
			}
			if got := textOf(p["source_link"]); got != s.link {
				t.Errorf("%s %s: source_link %q, want %q", where, event, got, s.link)
			}
			if got := textOf(p["precision_code"]); got != s.precision {
				t.Errorf("%s %s: precision_code %q, want %q", where, event, got, s.precision)
			}
			if p["recorded_by"] != testActor {
				t.Errorf("%s %s: recorded_by %v, want %s", where, event, p["recorded_by"], testActor)
			}
			return
		}
		t.Errorf("%s: unexpected strike %s", where, event)
	}

	report := f.getJSON(t, "/report?from=2025-03-01")
	features := report["features"].([]any)
	if len(features) != len(factStrikes) {
		t.Fatalf("report of %d strikes, want %d", len(features), len(factStrikes))
	}
	for _, x := range features {
		feature := x.(map[string]any)
		p := props(t, feature)
		check("GET /report", p)
		if p["event_id"] == "far-west" && p["verdict"] != "no_protected_site" {
			t.Errorf("far-west: verdict %v, want no_protected_site (its nearest site is still given)\n%v", p["verdict"], p)
		}
		one := f.getJSON(t, "/strikes/"+feature["id"].(string))
		check("GET /strikes/{id}", props(t, one))
		scoped := f.getJSON(t, "/strikes/"+feature["id"].(string)+"?scope=hospitals")
		check("GET /strikes/{id}?scope=hospitals", props(t, scoped), "hospitals")
	}

	rec := f.get(t, "/report?from=2025-03-01&f=csv")
	rows, col := readCSV(t, rec.Body)
	for _, r := range rows[1:] {
		p := map[string]any{"event_id": r[col["event_id"]], "source_link": r[col["source_link"]],
			"precision_code": r[col["precision_code"]], "recorded_by": r[col["recorded_by"]]}
		meters, err := strconv.ParseFloat(r[col["nearest_site_m"]], 64)
		if err != nil {
			t.Fatalf("CSV %s: nearest_site_m %q: %v", r[col["event_id"]], r[col["nearest_site_m"]], err)
		}
		p["nearest_site"] = map[string]any{"collection": r[col["nearest_site_collection"]], "id": r[col["nearest_site_id"]],
			"kind": r[col["nearest_site_kind"]], "distance_m": meters}
		check("CSV report", p)
	}
}

// textOf is a JSON string, or "" for null.
func textOf(v any) string {
	s, _ := v.(string)
	return s
}

// bruteScopeVerdict judges a strike at a time no real agreement is in
// force by the scope alone, from first principles: every site of the
// scope's collections protected, no buffer, the rules of the README's
// verdict table applied to the nearest such site by a linear scan.
func bruteScopeVerdict(ix *geo.Index, p orb.Point, uncertaintyMeters float64, scope []string) string {
	_, _, d := bruteNearest(ix, p, scope...)
	const tolerance = 5 // the scan's own error, metres
	switch {
	case uncertaintyMeters > agreement.MaxJudgedUncertaintyMeters:
		return string(agreement.LocationTooCoarse)
	case d <= uncertaintyMeters-tolerance && uncertaintyMeters <= agreement.HitToleranceMeters, d < tolerance && uncertaintyMeters == 0:
		return string(agreement.ProtectedSiteHit)
	case d <= uncertaintyMeters-tolerance:
		return string(agreement.PossibleProtectedSiteHit)
	case d <= agreement.DefaultVerdictRadiusMeters-tolerance:
		return string(agreement.ProtectedSiteNearby)
	case d > max(agreement.DefaultVerdictRadiusMeters, uncertaintyMeters)+tolerance:
		return string(agreement.NoProtectedSite)
	}
	return "" // within the scan's error of a boundary: not compared
}

// TestReportScope judges a seeded set of strikes around the fixture's
// sites under scope= in /report (GeoJSON and CSV) and GET /strikes/{id},
// each against a brute-force judgement, at a time no agreement is in force.
func TestReportScope(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	rng := rand.New(rand.NewPCG(17, 4))
	// A vertex of every site: strikes planted on one are certain hits.
	var sites []orb.Point
	for _, l := range f.ix.Layers() {
		for i := range l.Len() {
			geodesy.VertexRuns(l.Feature(i).Geometry, func(run []orb.Point, _ bool) { sites = append(sites, run[0]) })
		}
	}
	uncertainties := []float64{0, 50, 100, 400, 3_000, 30_000}
	type planted struct {
		p orb.Point
		u float64
	}
	byEvent := map[string]planted{}
	var features []string
	at := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC) // before every fixture agreement
	for i := range 120 {
		c := sites[rng.IntN(len(sites))]
		// Within some 3 km of a site, a tenth of them on it.
		p := orb.Point{c[0] + (rng.Float64()-0.5)*0.08, c[1] + (rng.Float64()-0.5)*0.05}
		u := uncertainties[rng.IntN(len(uncertainties))]
		if i < len(sites) && i%2 == 0 {
			p, u = sites[i], 0
		}
		event := fmt.Sprintf("s%03d", i)
		byEvent[event] = planted{p, u}
		features = append(features, strikeAt(p[0], p[1], at.Add(time.Duration(i)*time.Minute), fmt.Sprintf(`"event_id":%q,"uncertainty_m":%v`, event, u)))
	}
	f.post(t, "application/geo+json", collectionOf(features...), http.StatusCreated)

	for _, scope := range [][]string{{"energy"}, {"hospitals", "bridges"}, {"energy", "hospitals", "bridges"}} {
		q := strings.Join(scope, ",")
		seen := map[string]int{}
		report := f.getJSON(t, "/report?from=2024-01-01&to=2024-12-31&scope="+q)
		if got := report["query"].(map[string]any)["scope"]; fmt.Sprint(got) != fmt.Sprint(scope) && len(scope) == 1 {
			t.Errorf("scope %s: query.scope %v", q, got)
		}
		if m := report["manifest"].(map[string]any); fmt.Sprint(m["scope"]) == "<nil>" {
			t.Errorf("scope %s: the manifest does not name it: %v", q, m)
		}
		rec := f.get(t, "/report?from=2024-01-01&to=2024-12-31&f=csv&scope="+q)
		rows, col := readCSV(t, rec.Body)
		csvVerdict := map[string]string{}
		for _, r := range rows[1:] {
			csvVerdict[r[col["event_id"]]] = r[col["verdict"]]
			// No agreement is in force: without the scope nothing is protected.
			want := string(agreement.NoProtectedSite)
			if byEvent[r[col["event_id"]]].u > agreement.MaxJudgedUncertaintyMeters {
				want = string(agreement.LocationTooCoarse)
			}
			if got := r[col["verdict_without_scope"]]; got != want {
				t.Errorf("scope %s, CSV %s: verdict_without_scope %q, want %s", q, r[col["event_id"]], got, want)
			}
		}
		if got := rec.Header().Get("Protectmap-Scope"); got != q && len(scope) == 1 {
			t.Errorf("scope %s: Protectmap-Scope %q", q, got)
		}
		for k, x := range report["features"].([]any) {
			feature := x.(map[string]any)
			p := props(t, feature)
			event := p["event_id"].(string)
			s := byEvent[event]
			want := bruteScopeVerdict(f.ix, s.p, s.u, scope)
			got := p["verdict"].(string)
			seen[got]++
			if want != "" && got != want {
				t.Errorf("scope %s, %s at %v ±%v m: verdict %s, brute force %s", q, event, s.p, s.u, got, want)
			}
			if csvVerdict[event] != got {
				t.Errorf("scope %s, %s: CSV says %s, GeoJSON %s", q, event, csvVerdict[event], got)
			}
			if k%8 == 0 {
				one := f.getJSON(t, "/strikes/"+feature["id"].(string)+"?scope="+q)
				if v := one["summary"].(map[string]any)["verdict"]; v != got {
					t.Errorf("scope %s, GET /strikes/%s: verdict %v, the report's %s", q, event, v, got)
				}
			}
		}
		// The seeded set reaches every outcome a scope can give.
		for _, o := range []agreement.Outcome{agreement.ProtectedSiteHit, agreement.PossibleProtectedSiteHit,
			agreement.ProtectedSiteNearby, agreement.NoProtectedSite, agreement.LocationTooCoarse} {
			if seen[string(o)] == 0 {
				t.Errorf("scope %s: no strike judged %s (%v): the set tests too little", q, o, seen)
			}
		}
	}
	if rec := f.get(t, "/report?scope=nowhere"); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "scope") {
		t.Errorf("GET /report?scope=nowhere: %d\n%s", rec.Code, rec.Body)
	}
}
