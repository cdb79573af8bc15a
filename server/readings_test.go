package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

// defaultDataset configures a server with the embedded default layers and
// agreements: the moratorium and the Black Sea arrangement as each party
// reads them.
func defaultDataset(t testing.TB) func(*server.Config) {
	t.Helper()
	layers, err := geojson.LoadFS(data.Layers())
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(layers...)
	if err != nil {
		t.Fatal(err)
	}
	set, err := agreement.LoadAgreements(ix, "agreements.json", bytes.NewReader(data.Agreements()))
	if err != nil {
		t.Fatal(err)
	}
	return func(c *server.Config) {
		current := new(atomic.Pointer[geo.Index])
		current.Store(ix)
		c.Index, c.Agreements = current, set.Agreements()
	}
}

// The strikes of the acceptance: Trypillia thermal power plant on 20 and
// 27 March 2025, and a point 2 km inside the Black Sea shipping corridor
// (3 km east of its centreline off Constanta, which is 10 km wide).
const (
	trypilliaLon, trypilliaLat = 30.7468, 50.1344
	moratorium                 = "energy-moratorium-2025-03"
	blackSea                   = "black-sea-2025-03"
)

var (
	march20  = time.Date(2025, 3, 20, 2, 10, 0, 0, time.UTC)
	march27  = time.Date(2025, 3, 27, 2, 10, 0, 0, time.UTC)
	corridor = [2]float64{28.936894, 44.095306}
)

// readingsOf indexes a summary's readings by agreement/reading.
func readingsOf(t testing.TB, summary map[string]any) map[string]map[string]any {
	t.Helper()
	list, ok := summary["readings"].([]any)
	if !ok {
		t.Fatalf("no readings in summary %v", summary)
	}
	out := map[string]map[string]any{}
	for _, r := range list {
		rv := r.(map[string]any)
		for _, k := range []string{"agreement", "reading", "party", "verdict", "status", "why"} {
			if _, ok := rv[k].(string); !ok {
				t.Errorf("reading %v lacks %s", rv, k)
			}
		}
		out[rv["agreement"].(string)+"/"+rv["reading"].(string)] = rv
	}
	return out
}

// checkAcceptance checks a summary of the strike on Trypillia (at march20
// or march27) or in the corridor against what each reading says.
func checkAcceptance(t testing.TB, where string, summary map[string]any, strike string) {
	t.Helper()
	rs := readingsOf(t, summary)
	want := map[string]struct{ ru, ua, status, agreement string }{
		"plant-20":    {"protected_site_hit", "not_in_force", "in_force", "disputed"},
		"plant-27":    {"protected_site_hit", "protected_site_hit", "in_force", "agreed"},
		"corridor-27": {"protected_site_hit", "protected_site_hit", "conditional", "disputed"},
	}[strike]
	agreement := moratorium
	if strike == "corridor-27" {
		agreement = blackSea
	}
	ru, ua := rs[agreement+"/ru"], rs[agreement+"/ua"]
	if ru["verdict"] != want.ru || ru["status"] != want.status || ua["verdict"] != want.ua {
		t.Errorf("%s, %s: ru %v, ua %v; want ru %s (%s), ua %s", where, strike, ru, ua, want.ru, want.status, want.ua)
	}
	if summary["agreement_status"] != want.agreement {
		t.Errorf("%s, %s: agreement_status %v, want %s", where, strike, summary["agreement_status"], want.agreement)
	}
}

// TestReadingsEverywhere: the verdict under each reading, and whether the
// readings agree, in /proximity, POST /proximity, a recorded strike and a
// report, over the default data, on SQLite and PostgreSQL.
func TestReadingsEverywhere(t *testing.T) {
	for _, backend := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteStore}, {"postgres", pgtest.DSN}} {
		t.Run(backend.name, func(t *testing.T) {
			f := newStrikeFixture(t, backend.dsn(t), defaultDataset(t))
			strikes := map[string]string{
				"plant-20":    strikeAt(trypilliaLon, trypilliaLat, march20, `"source":"test","event_id":"plant-20"`),
				"plant-27":    strikeAt(trypilliaLon, trypilliaLat, march27, `"source":"test","event_id":"plant-27"`),
				"corridor-27": strikeAt(corridor[0], corridor[1], march27, `"source":"test","event_id":"corridor-27"`),
			}
			names := slices.Sorted(func(yield func(string) bool) {
				for k := range strikes {
					if !yield(k) {
						return
					}
				}
			})
			ids := map[string]string{}
			for _, name := range names {
				doc := f.post(t, "application/geo+json", strikes[name], http.StatusCreated)
				ids[name] = doc["id"].(string)
				checkAcceptance(t, "POST /strikes", doc["summary"].(map[string]any), name)
				verdict := props(t, doc)["verdict"].(map[string]any)
				checkAcceptance(t, "the strike's verdict", verdict, name)
			}
			for _, name := range names {
				doc := f.getJSON(t, "/strikes/"+url.PathEscape(ids[name]))
				checkAcceptance(t, "GET /strikes/{id}", doc["summary"].(map[string]any), name)
			}
			report := f.getJSON(t, "/report?from=2025-03-01&to=2025-04-30")
			for _, feat := range report["features"].([]any) {
				p := props(t, feat.(map[string]any))
				summary := map[string]any{"readings": p["readings"], "agreement_status": p["agreement_status"]}
				checkAcceptance(t, "GET /report", summary, p["event_id"].(string))
			}
			if d := report["summary"].(map[string]any)["disputed"]; d != 2.0 {
				t.Errorf("report: %v strikes disputed, want 2", d)
			}
			rec := f.get(t, "/report?from=2025-03-01&to=2025-04-30&f=csv")
			if body := rec.Body.String(); !strings.Contains(body, "agreement_status,readings") ||
				!strings.Contains(body, blackSea+"/ru:protected_site_hit(conditional)") ||
				!strings.Contains(body, moratorium+"/ua:not_in_force") {
				t.Errorf("CSV report lacks the readings:\n%s", body)
			}
		})
	}
}

// TestProximityReadings: /proximity with a datetime gives each reading's
// verdict and names the reading in each site's protected_by; POST
// /proximity judges each strike the same way.
func TestProximityReadings(t *testing.T) {
	f := newFixture(t, defaultDataset(t))
	for _, tc := range []struct {
		strike   string
		lon, lat float64
		at       time.Time
	}{
		{"plant-20", trypilliaLon, trypilliaLat, march20},
		{"plant-27", trypilliaLon, trypilliaLat, march27},
		{"corridor-27", corridor[0], corridor[1], march27},
	} {
		q := url.Values{"lon": {ftoa(tc.lon)}, "lat": {ftoa(tc.lat)}, "datetime": {tc.at.Format(time.RFC3339)}}
		doc := f.getJSON(t, "/proximity?"+q.Encode())
		checkAcceptance(t, "GET /proximity", doc["summary"].(map[string]any), tc.strike)
		first := props(t, doc["features"].([]any)[0].(map[string]any))
		var readings []string
		for _, p := range first["protected_by"].([]any) {
			pb := p.(map[string]any)
			readings = append(readings, pb["agreement"].(string)+"/"+pb["reading"].(string))
		}
		want := moratorium + "/ru"
		if tc.strike == "corridor-27" {
			want = blackSea + "/ru"
			if first["collection"] != "zones" || first["distance_m"] != 0.0 {
				t.Errorf("corridor strike: nearest %v, want the zone at 0 m", first)
			}
		}
		if !slices.Contains(readings, want) {
			t.Errorf("%s: protected_by names %v, want %s among them", tc.strike, readings, want)
		}
	}
	body := collectionOf(strikeAt(trypilliaLon, trypilliaLat, march20, ""), strikeAt(trypilliaLon, trypilliaLat, march27, ""))
	rec := f.do(t, http.MethodPost, "/proximity", strings.NewReader(body), "Content-Type: application/geo+json")
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /proximity: %d %s", rec.Code, rec.Body)
	}
	doc := decode(t, rec.Body.Bytes())
	for i, name := range []string{"plant-20", "plant-27"} {
		s := props(t, doc["features"].([]any)[i].(map[string]any))["summary"].(map[string]any)
		checkAcceptance(t, "POST /proximity", s, name)
	}
	if d := doc["summary"].(map[string]any)["disputed"]; d != 1.0 {
		t.Errorf("POST /proximity: %v disputed, want 1", d)
	}
}

// TestAgreementReadings: GET /agreements lists each agreement's readings
// with id, party, window, status and scope.
func TestAgreementReadings(t *testing.T) {
	f := newFixture(t, defaultDataset(t))
	doc := f.getJSON(t, "/agreements")
	found := map[string]map[string]any{}
	for _, a := range doc["agreements"].([]any) {
		am := a.(map[string]any)
		for _, r := range am["readings"].([]any) {
			rm := r.(map[string]any)
			for _, k := range []string{"id", "party", "start", "status", "sources"} {
				if rm[k] == nil {
					t.Errorf("%s reading %v lacks %s", am["id"], rm["id"], k)
				}
			}
			if _, ok := rm["end"]; !ok {
				t.Errorf("%s reading %v lacks end (null when open)", am["id"], rm["id"])
			}
			found[am["id"].(string)+"/"+rm["id"].(string)] = rm
		}
	}
	ru := found[moratorium+"/ru"]
	if classes, _ := ru["energy_classes"].([]any); !slices.Contains(classes, any("oil_refinery")) || ru["end"] == nil {
		t.Errorf("moratorium ru reading %v: want the Kremlin's classes and a 30-day window", ru)
	}
	if z, _ := found[blackSea+"/ua"]["zones"].([]any); !slices.Contains(z, any("black-sea-corridor")) {
		t.Errorf("Black Sea ua reading %v does not name the corridor", found[blackSea+"/ua"])
	}
	if found[blackSea+"/ru"]["status"] != "conditional" {
		t.Errorf("Black Sea ru reading %v is not conditional", found[blackSea+"/ru"])
	}
	zones := f.getJSON(t, "/collections/zones/items")
	if ids := featureIDs(t, zones); !slices.Contains(ids, "black-sea-corridor") || !slices.Contains(ids, "port-reni") {
		t.Errorf("zones items %v", ids)
	}
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
