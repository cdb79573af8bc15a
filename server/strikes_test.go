package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/store"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// testToken is the one write token of strike fixtures.
const testToken = "t0ken-for-the-strike-log-tests"

// testActor is the name testToken is configured under.
const testActor = "analyst-1"

// agreementsFile holds the fixture agreements: the energy moratorium's
// window over energy, and Okhmatdyt hospital by name with a 500 m buffer
// from 2025-03-01, open-ended.
const agreementsFile = "../testdata/agreements/agreements.json"

// The moratorium's window: [start, end).
var (
	moratoriumStart = time.Date(2025, 3, 17, 22, 0, 0, 0, time.UTC)
	moratoriumEnd   = time.Date(2025, 4, 16, 21, 0, 0, 0, time.UTC)
)

// strikeFixture is a server over the fixture layers and agreements with a
// strike log.
type strikeFixture struct {
	*fixture
	store store.Store
	logs  *logBuffer
}

// sqliteStore is a new SQLite strike log in a temporary directory.
func sqliteStore(t testing.TB) string { return filepath.Join(t.TempDir(), "strikes.db") }

func newStrikeFixture(t testing.TB, dsn string, configure ...func(*server.Config)) *strikeFixture {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	agreements := loadAgreements(t)
	sf := &strikeFixture{store: st, logs: &logBuffer{}}
	sf.fixture = newFixture(t, append([]func(*server.Config){logTo(sf.logs), func(c *server.Config) {
		c.Store, c.Tokens, c.Agreements = st, []string{"another-token", testActor + ":" + testToken}, agreements
	}}, configure...)...)
	return sf
}

func loadAgreements(t testing.TB) []agreement.Agreement {
	t.Helper()
	f, err := os.Open(agreementsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	as, err := agreement.DecodeAgreements(agreementsFile, f)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// send makes a request from this machine (where tokens may travel over
// plain HTTP) with the fixture's token when auth is true.
func (f *strikeFixture) send(t testing.TB, method, target, ctype, body string, auth bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+testToken)
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

// post records body, which must succeed with status.
func (f *strikeFixture) post(t testing.TB, ctype, body string, status int) map[string]any {
	t.Helper()
	rec := f.send(t, http.MethodPost, "/strikes", ctype, body, true)
	if rec.Code != status {
		t.Fatalf("POST /strikes: %d, want %d\n%s", rec.Code, status, rec.Body)
	}
	return decode(t, rec.Body.Bytes())
}

// strikeAt is a strike Feature; extra are more properties, as JSON members.
func strikeAt(lon, lat float64, when time.Time, extra string) string {
	props := fmt.Sprintf(`"datetime":%q`, when.Format(time.RFC3339Nano))
	if extra != "" {
		props += "," + extra
	}
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{%s}}`, lon, lat, props)
}

func collectionOf(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// props returns a Feature's properties.
func props(t testing.TB, feature map[string]any) map[string]any {
	t.Helper()
	p, ok := feature["properties"].(map[string]any)
	if !ok {
		t.Fatalf("no properties in %v", feature)
	}
	return p
}

// verdictOf is the outcome of a strike Feature's verdict.
func verdictOf(t testing.TB, feature map[string]any) string {
	t.Helper()
	v, ok := props(t, feature)["verdict"].(map[string]any)
	if !ok {
		t.Fatalf("no verdict in %v", feature)
	}
	return v["verdict"].(string)
}

// TestStrikeLifecycle records a strike, reads it back with its verdict,
// records it again (an update, same id), lists it, deletes it.
func TestStrikeLifecycle(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	// On Kyiv North substation during the moratorium.
	body := strikeAt(30.4702, 50.5253, moratoriumStart.Add(48*time.Hour),
		`"uncertainty_m":50,"source":"field report","event_id":"FR-1","weapon":"drone","damage":"transformer"`)
	rec := f.send(t, http.MethodPost, "/strikes", "application/geo+json", body, true)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST: %d\n%s", rec.Code, rec.Body)
	}
	created := decode(t, rec.Body.Bytes())
	id, _ := created["id"].(string)
	loc := rec.Header().Get("Location")
	if id == "" || loc != "http://example.com/strikes/"+id {
		t.Fatalf("id %q, Location %q", id, loc)
	}
	if got := verdictOf(t, created); got != string(agreement.ProtectedSiteHit) {
		t.Errorf("verdict on POST: %s", got)
	}
	p := props(t, created)
	if p["damage"] != "transformer" || p["weapon"] != "drone" || p["uncertainty_m"] != 50.0 || p["event_id"] != "FR-1" {
		t.Errorf("stored properties: %v", p)
	}

	got := f.get(t, "/strikes/"+id)
	if got.Code != 200 {
		t.Fatalf("GET: %d\n%s", got.Code, got.Body)
	}
	// POST answers with the strike as stored: what GET reads back.
	if got.Body.String() != rec.Body.String() {
		t.Errorf("POST answered\n%s\nGET answers\n%s", rec.Body, got.Body)
	}
	doc := decode(t, got.Body.Bytes())
	if doc["id"] != id || verdictOf(t, doc) != string(agreement.ProtectedSiteHit) {
		t.Errorf("GET /strikes/%s: %v", id, doc)
	}
	v := props(t, doc)["verdict"].(map[string]any)
	if in := v["agreements_in_force"].([]any); len(in) != 2 {
		t.Errorf("agreements in force: %v", in)
	}
	if self := links(t, doc)["self"]["href"]; self != loc {
		t.Errorf("self link %v", self)
	}

	// The same strike again changes nothing, updated_at included.
	same := f.send(t, http.MethodPost, "/strikes", "application/geo+json", body, true)
	if same.Code != http.StatusOK || props(t, decode(t, same.Body.Bytes()))["updated_at"] != p["updated_at"] {
		t.Fatalf("POST the same: %d, updated_at %v then %v\n%s", same.Code, p["updated_at"], props(t, decode(t, same.Body.Bytes()))["updated_at"], same.Body)
	}
	if got := f.get(t, "/strikes/"+id); got.Body.String() != same.Body.String() {
		t.Errorf("POST the same answered\n%s\nGET answers\n%s", same.Body, got.Body)
	}
	// The same source and event id, changed: an update, not a second strike.
	again := f.send(t, http.MethodPost, "/strikes", "application/geo+json", strings.Replace(body, `"drone"`, `"missile"`, 1), true)
	if again.Code != http.StatusOK {
		t.Fatalf("POST again: %d\n%s", again.Code, again.Body)
	}
	if doc := decode(t, again.Body.Bytes()); doc["id"] != id || props(t, doc)["weapon"] != "missile" || props(t, doc)["updated_at"] == p["updated_at"] {
		t.Errorf("POST again: %v", doc)
	}
	list := decode(t, f.get(t, "/strikes").Body.Bytes())
	if ids := featureIDs(t, list); !slices.Equal(ids, []string{id}) {
		t.Errorf("GET /strikes: %v", ids)
	}
	if item := f.get(t, "/collections/strikes/items/"+id); item.Code != 200 || decode(t, item.Body.Bytes())["id"] != id {
		t.Errorf("GET /collections/strikes/items/%s: %d", id, item.Code)
	}

	if del := f.send(t, http.MethodDelete, "/strikes/"+id, "", "", true); del.Code != http.StatusNoContent {
		t.Fatalf("DELETE: %d\n%s", del.Code, del.Body)
	}
	// A tombstone: gone from the log, its history kept.
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		rec := f.send(t, method, "/strikes/"+id, "", "", true)
		if rec.Code != http.StatusGone || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s after DELETE: %d %s", method, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	if ids := featureIDs(t, decode(t, f.get(t, "/strikes").Body.Bytes())); len(ids) != 0 {
		t.Errorf("GET /strikes after DELETE: %v", ids)
	}
	if rec := f.send(t, http.MethodGet, "/strikes/no-such-strike", "", "", false); rec.Code != http.StatusNotFound {
		t.Errorf("GET of a strike never recorded: %d", rec.Code)
	}
	history := f.getJSON(t, "/strikes/"+id+"/history")
	var steps []string
	for _, e := range history["events"].([]any) {
		e := e.(map[string]any)
		steps = append(steps, e["action"].(string)+" by "+e["actor"].(string))
	}
	if want := []string{"create by " + testActor, "update by " + testActor, "delete by " + testActor}; !slices.Equal(steps, want) {
		t.Errorf("history %v, want %v", steps, want)
	}
	audit := f.getJSON(t, "/audit?limit=2")
	if events := audit["events"].([]any); len(events) != 2 || links(t, audit)["next"] == nil {
		t.Errorf("GET /audit?limit=2: %v", audit)
	}
	// Every page gives the head: the newest event of the whole log.
	all := f.getJSON(t, "/audit?limit=10000")["events"].([]any)
	newest := all[len(all)-1].(map[string]any)
	if head := audit["head"].(map[string]any); head["seq"] != newest["seq"] || head["hash"] != newest["hash"] {
		t.Errorf("GET /audit?limit=2: head %v, the newest event %v", head, newest)
	}
	if !strings.Contains(f.logs.String(), "DELETE") || strings.Contains(f.logs.String(), testToken) {
		t.Errorf("the log has no DELETE, or has the token:\n%s", f.logs)
	}
}

// TestVerdictBoundaries judges strikes on a protected substation one second
// before the moratorium starts, at its start, one second before its end and
// at its end (no longer in force), through GET /strikes/{id} and through
// GET /proximity?datetime.
func TestVerdictBoundaries(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	tests := []struct {
		name string
		when time.Time
		want agreement.Outcome
	}{
		{"one second before start", moratoriumStart.Add(-time.Second), agreement.NoProtectedSite},
		{"at start", moratoriumStart, agreement.ProtectedSiteHit},
		{"one second before end", moratoriumEnd.Add(-time.Second), agreement.ProtectedSiteHit},
		{"at end", moratoriumEnd, agreement.NoProtectedSite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := f.post(t, "application/geo+json", strikeAt(30.4702, 50.5253, tc.when, ""), http.StatusCreated)
			if got := verdictOf(t, f.getJSON(t, "/strikes/"+doc["id"].(string))); got != string(tc.want) {
				t.Errorf("GET /strikes/{id}: %s, want %s", got, tc.want)
			}
			prox := f.getJSON(t, "/proximity?lon=30.4702&lat=50.5253&datetime="+strings.ReplaceAll(tc.when.Format(time.RFC3339), "+", "%2B"))
			if got := prox["summary"].(map[string]any)["verdict"]; got != string(tc.want) {
				t.Errorf("GET /proximity: %v, want %s", got, tc.want)
			}
		})
	}
}

func (f *fixture) getJSON(t testing.TB, target string) map[string]any {
	t.Helper()
	rec := f.get(t, target)
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d\n%s", target, rec.Code, rec.Body)
	}
	return decode(t, rec.Body.Bytes())
}

// TestProximityVerdicts checks buffers, uncertainty, explicit site lists
// and scope through GET and POST /proximity.
func TestProximityVerdicts(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	const when = "2025-03-20T04:10:00%2B02:00"
	// Okhmatdyt is at 30.4857, 50.4536, named with a 500 m buffer; 0.0027°
	// of latitude north is about 300 m.
	// A 330 kV line passes within a kilometre of Okhmatdyt, so those
	// queries search hospitals alone.
	tests := []struct {
		name, query string
		verdict     string
		noScope     string // verdict_without_scope, when a scope is given
		site        string // a site listed, and what protected it
		protectedBy []string
	}{
		{"inside the buffer", "lon=30.4857&lat=50.4563&collections=hospitals", "protected_site_hit", "", "hosp-okhmatdyt", []string{"okhmatdyt-2025"}},
		{"beyond the buffer", "lon=30.4857&lat=50.4608&collections=hospitals", "protected_site_nearby", "", "hosp-okhmatdyt", []string{"okhmatdyt-2025"}},
		{"uncertainty reaches", "lon=30.4857&lat=50.4608&uncertainty=400&collections=hospitals", "possible_protected_site_hit", "", "hosp-okhmatdyt", []string{"okhmatdyt-2025"}},
		{"region precision on the site", "lon=30.4857&lat=50.4563&uncertainty=100000&collections=hospitals", "location_too_coarse", "", "hosp-okhmatdyt", []string{"okhmatdyt-2025"}},
		{"named site, not its collection", "lon=30.4414&lat=50.4485&radius=100", "no_protected_site", "", "hosp-kyiv-regional", nil},
		{"scope covers bridges", "lon=30.556&lat=50.424&radius=100&scope=bridges", "protected_site_hit", "no_protected_site", "bridge-paton", []string{"scope"}},
		{"scope of another collection", "lon=30.556&lat=50.424&radius=100&scope=hospitals", "no_protected_site", "no_protected_site", "bridge-paton", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := f.getJSON(t, "/proximity?datetime="+when+"&"+tc.query)
			sum := doc["summary"].(map[string]any)
			if sum["verdict"] != tc.verdict || (tc.noScope != "" && sum["verdict_without_scope"] != tc.noScope) {
				t.Errorf("summary %v, want verdict %s (without scope %q)", sum, tc.verdict, tc.noScope)
			}
			k := slices.Index(featureIDs(t, doc), tc.site)
			if k < 0 {
				t.Fatalf("%s not listed in %v", tc.site, doc)
			}
			var by []string
			for _, p := range props(t, doc["features"].([]any)[k].(map[string]any))["protected_by"].([]any) {
				by = append(by, p.(map[string]any)["agreement"].(string))
			}
			if !slices.Equal(by, tc.protectedBy) {
				t.Errorf("%s protected by %v, want %v", tc.site, by, tc.protectedBy)
			}
		})
	}

	// POST: each strike is judged at its own datetime.
	body := collectionOf(
		strikeAt(30.4702, 50.5253, moratoriumStart, ""),
		strikeAt(30.4702, 50.5253, moratoriumStart.Add(-time.Second), ""),
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[30.4702,50.5253]},"properties":{"datetime":"2025-03-20"}}`)
	rec := f.send(t, http.MethodPost, "/proximity", "application/geo+json", body, false)
	if rec.Code != 200 {
		t.Fatalf("POST /proximity: %d\n%s", rec.Code, rec.Body)
	}
	doc := decode(t, rec.Body.Bytes())
	var got []any
	for _, s := range doc["features"].([]any) {
		got = append(got, props(t, s.(map[string]any))["summary"].(map[string]any)["verdict"])
	}
	if want := []any{"protected_site_hit", "no_protected_site", nil}; !slices.Equal(got, want) {
		t.Errorf("POST /proximity verdicts %v, want %v (a date alone gets none)", got, want)
	}
	if v := doc["summary"].(map[string]any)["verdicts"]; fmt.Sprint(v) != "map[location_too_coarse:0 no_protected_site:1 possible_protected_site_hit:0 protected_site_hit:1 protected_site_nearby:0]" {
		t.Errorf("summary verdicts %v", v)
	}

	for _, tc := range []struct{ query, param string }{
		{"lon=30&lat=50&scope=bridges", "scope"},
		{"lon=30&lat=50&datetime=2025-03-20", "datetime"},
		{"lon=30&lat=50&datetime=" + when + "&scope=nowhere", "scope"},
	} {
		rec := f.get(t, "/proximity?"+tc.query)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"name":"`+tc.param+`"`) {
			t.Errorf("GET /proximity?%s: %d %s, want 400 naming %s", tc.query, rec.Code, rec.Body, tc.param)
		}
	}
}

// TestStrikeImport posts whole files: all or nothing, bad records listed by
// line and field, and idempotent on the source's event ids.
func TestStrikeImport(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	read := func(name string) string {
		b, err := os.ReadFile("../testdata/strikes/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	count := func() int { return len(featureIDs(t, f.getJSON(t, "/strikes?limit=1000"))) }

	rec := f.send(t, http.MethodPost, "/strikes", "text/csv", read("bad.csv"), true)
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("bad.csv: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var reasons []string
	for _, p := range decode(t, rec.Body.Bytes())["invalid-params"].([]any) {
		m := p.(map[string]any)
		reasons = append(reasons, m["name"].(string)+" | "+m["reason"].(string))
	}
	for _, want := range []string{
		"geo_precision | line 3: geo_precision:",
		"event_date | line 4: event_date:",
		"latitude | line 5: latitude:",
		"longitude | line 6: longitude:",
		"event_id_cnty | line 8: event_id_cnty: required",
		"event_id_cnty | line 9: event_id_cnty: the same event as line 2",
		"body | line 10: ",
	} {
		if !slices.ContainsFunc(reasons, func(r string) bool { return strings.HasPrefix(r, want) }) {
			t.Errorf("no problem starting %q in:\n%s", want, strings.Join(reasons, "\n"))
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d strikes recorded from a file with bad records", n)
	}
	rec = f.send(t, http.MethodPost, "/strikes", "application/geo+json", read("bad.geojson"), true)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "features[2].geometry") || count() != 0 {
		t.Errorf("bad.geojson: %d\n%s", rec.Code, rec.Body)
	}

	first := f.post(t, "text/csv; charset=utf-8", read("acled.csv"), http.StatusCreated)
	if first["created"] != 4.0 || first["updated"] != 0.0 {
		t.Errorf("acled.csv: %v", first)
	}
	again := f.post(t, "text/csv", read("acled.csv"), http.StatusOK)
	if again["created"] != 0.0 || again["updated"] != 0.0 || again["unchanged"] != 4.0 || fmt.Sprint(again["strikes"]) != strings.ReplaceAll(fmt.Sprint(first["strikes"]), "created", "unchanged") {
		t.Errorf("acled.csv again: %v\nfirst: %v", again, first)
	}
	f.post(t, "application/geo+json", read("strikes.geojson"), http.StatusCreated)
	if n := count(); n != 7 {
		t.Errorf("%d strikes after importing 4 and 3", n)
	}

	for _, tc := range []struct {
		name, ctype, body string
		status            int
	}{
		{"unsupported type", "text/plain", "x", http.StatusUnsupportedMediaType},
		{"no strikes", "application/geo+json", `{"type":"FeatureCollection","features":[]}`, 400},
		{"not JSON", "application/geo+json", `{"type":`, 400},
		{"a number no float64 holds", "application/geo+json", "2" + strings.Repeat("0", 400), 400},
		{"such a number for a feature", "application/geo+json", `{"type":"FeatureCollection","features":[1e999]}`, 400},
		{"CSV without header", "text/csv", "", 400},
	} {
		if rec := f.send(t, http.MethodPost, "/strikes", tc.ctype, tc.body, true); rec.Code != tc.status ||
			rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Header().Get("Content-Type"), tc.status)
		}
	}
}

// TestStrikeImportUCDP posts the UCDP events in Ukraine as published: every
// row is recorded from UCDP under its id, posting the file again changes
// nothing, and a file with bad rows is refused whole, each row and column
// named.
func TestStrikeImportUCDP(t *testing.T) {
	file := testenv.SharedData(t, "ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2023.csv")
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	events := float64(len(rows) - 1)
	f := newStrikeFixture(t, sqliteStore(t))
	bad, err := os.ReadFile("../testdata/strikes/ucdp_bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	rec := f.send(t, http.MethodPost, "/strikes", "text/csv", string(bad), true)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"name":"where_prec","reason":"line 3: where_prec: \"9\" is not a whole number from 1 to 7"`) ||
		!strings.Contains(rec.Body.String(), `"name":"id","reason":"line 8: id: the same event as line 2"`) {
		t.Errorf("ucdp_bad.csv: %d\n%s", rec.Code, rec.Body)
	}
	first := f.post(t, "text/csv", string(body), http.StatusCreated)
	if first["created"] != events || first["updated"] != 0.0 {
		t.Fatalf("created %v, updated %v; the file has %v events", first["created"], first["updated"], events)
	}
	page := f.getJSON(t, "/strikes?limit=1&datetime=2023-02-27T00:00:00Z/2023-02-27T00:00:00Z")
	if page["numberMatched"] == 0.0 {
		t.Fatalf("no strike on 27 February 2023: %v", page)
	}
	props := page["features"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	if props["source"] != "UCDP" || props["event_id"] == nil || props["ucdp"].(map[string]any)["side_a"] == nil {
		t.Errorf("a UCDP strike: %v", props)
	}
	again := f.post(t, "text/csv", string(body), http.StatusOK)
	if again["created"] != 0.0 || again["updated"] != 0.0 || again["unchanged"] != events {
		t.Errorf("posted again: created %v, updated %v, unchanged %v", again["created"], again["updated"], again["unchanged"])
	}
	if after := f.getJSON(t, "/strikes?limit=1&datetime=2023-02-27T00:00:00Z/2023-02-27T00:00:00Z"); fmt.Sprint(after["features"]) != fmt.Sprint(page["features"]) {
		t.Errorf("posting again changed a strike:\n%v\n%v", after["features"], page["features"])
	}
}

// TestStrikeImportColumns posts a CSV of its own layout through columns=.
func TestStrikeImportColumns(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	doc := "Y,X,When,Ref,Err_m,Comment\n50.45,30.52,2025-03-20 04:10:00,R1,500,first\n50.46,30.53,2025-03-21,R2,,\n"
	target := "/strikes?columns=lat=y,lon=x,time=when,id=ref,uncertainty=err_m&source=Monitor"
	rec := f.send(t, http.MethodPost, target, "text/csv", doc, true)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"created":2`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec := f.send(t, http.MethodPost, target, "text/csv", doc, true); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"unchanged":2`) {
		t.Errorf("again: %d %s", rec.Code, rec.Body)
	}
	props := f.getJSON(t, "/strikes?limit=1")["features"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	if props["source"] != "Monitor" || props["event_id"] != "R1" || props["uncertainty_m"] != 500.0 || props["csv"].(map[string]any)["comment"] != "first" {
		t.Errorf("first strike: %v", props)
	}
	for _, tc := range []struct{ name, target, ctype, want string }{
		{"unknown field", "/strikes?columns=lat=y,lon=x,time=when,colour=c", "text/csv", `no field \"colour\"`},
		{"source without columns", "/strikes?source=Monitor", "text/csv", "names the source of a CSV read through columns"},
		{"columns for GeoJSON", "/strikes?columns=lat=y,lon=x,time=when", "application/geo+json", "maps the columns of a CSV"},
		{"a column the file lacks", "/strikes?columns=lat=y,lon=x,time=date", "text/csv", "the header lacks date for the columns given"},
	} {
		if rec := f.send(t, http.MethodPost, tc.target, tc.ctype, doc, true); rec.Code != 400 || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s; want 400 with %q", tc.name, rec.Code, rec.Body, tc.want)
		}
	}
}

// TestStrikeWindow: an event reported over days that straddle the
// moratorium's start is judged over its whole window, the moratorium's
// reading marked in force for part of it; the window is kept and served.
func TestStrikeWindow(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	end := moratoriumStart.Add(24 * time.Hour).Format(time.RFC3339)
	body := strikeAt(30.4702, 50.5253, moratoriumStart.Add(-24*time.Hour), `"uncertainty_m":50,"source":"monitor","event_id":"W1","end":"`+end+`"`)
	rec := f.send(t, http.MethodPost, "/strikes", "application/geo+json", body, true)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST: %d\n%s", rec.Code, rec.Body)
	}
	doc := decode(t, f.get(t, "/strikes/"+decode(t, rec.Body.Bytes())["id"].(string)).Body.Bytes())
	p := props(t, doc)
	v := p["verdict"].(map[string]any)
	if p["end"] != end || v["end"] != end || verdictOf(t, doc) != string(agreement.ProtectedSiteHit) {
		t.Fatalf("end %v, verdict %v", p["end"], v)
	}
	windows := map[string]any{}
	for _, r := range v["readings"].([]any) {
		r := r.(map[string]any)
		windows[r["agreement"].(string)] = r["window"]
	}
	if windows["energy-moratorium-2025-03"] != "part" {
		t.Errorf("windows %v: want the moratorium in force for part", windows)
	}
	if rec := f.send(t, http.MethodPost, "/strikes", "application/geo+json",
		strikeAt(30.4702, 50.5253, moratoriumStart, `"end":"`+moratoriumStart.Format(time.RFC3339)+`"`), true); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), "is not after the start") {
		t.Errorf("an empty window: %d %s", rec.Code, rec.Body)
	}
}

// TestStrikeSourceFilter: source= keeps the strikes of the sources named,
// on the log, its pages and the report, counted against the posted files.
func TestStrikeSourceFilter(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	bySource := map[string]int{}
	for _, name := range []string{"acled.csv", "acled_export.csv", "ucdp.csv"} {
		b, err := os.ReadFile("../testdata/strikes/" + name)
		if err != nil {
			t.Fatal(err)
		}
		f.post(t, "text/csv", string(b), http.StatusCreated)
	}
	for _, feature := range f.getJSON(t, "/strikes?limit=1000")["features"].([]any) {
		bySource[feature.(map[string]any)["properties"].(map[string]any)["source"].(string)]++
	}
	if bySource["UCDP"] == 0 || bySource["ACLED"] == 0 {
		t.Fatalf("posted %v", bySource)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"source=UCDP", bySource["UCDP"]},
		{"source=ACLED", bySource["ACLED"]},
		{"source=UCDP,%20ACLED", bySource["UCDP"] + bySource["ACLED"]},
		{"source=ucdp", 0},
		{"source=UCDP&datetime=2022-01-01/2022-12-31", 2},
	} {
		page := f.getJSON(t, "/strikes?limit=1&"+tc.query)
		if page["numberMatched"] != float64(tc.want) {
			t.Errorf("%s: %v matched, want %d", tc.query, page["numberMatched"], tc.want)
		}
		if tc.want > 1 {
			next := ""
			for _, l := range page["links"].([]any) {
				if l := l.(map[string]any); l["rel"] == "next" {
					next = l["href"].(string)
				}
			}
			if !strings.Contains(next, "source=") {
				t.Errorf("%s: the next link %q drops the filter", tc.query, next)
			}
		}
	}
	report := f.getJSON(t, "/report?source=ACLED")
	if n := report["summary"].(map[string]any)["strikes"]; n != float64(bySource["ACLED"]) {
		t.Errorf("report of ACLED: %v strikes, want %d", n, bySource["ACLED"])
	}
	if q := report["query"].(map[string]any); fmt.Sprint(q["source"]) != "[ACLED]" {
		t.Errorf("report query %v", q)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprint("S", i)
	}
	for _, target := range []string{"/strikes?source=", "/strikes?source=A,,B", "/report?source=" + strings.Join(many, ",")} {
		if rec := f.get(t, target); rec.Code != 400 {
			t.Errorf("%s: %d, want 400", target, rec.Code)
		}
	}
}

// TestStrikeList pages through the log, filters it and exports it as CSV.
func TestStrikeList(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	day := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	var features []string
	for i := range 5 {
		features = append(features, strikeAt(30+float64(i), 50, day.Add(time.Duration(i)*time.Hour), fmt.Sprintf(`"event_id":"E%d","source":"list"`, i)))
	}
	put := f.post(t, "application/geo+json", collectionOf(features...), http.StatusCreated)
	if put["created"] != 5.0 {
		t.Fatalf("created %v", put["created"])
	}

	var ids []string
	target := "/collections/strikes/items?limit=2"
	for pages := 0; target != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		doc := f.getJSON(t, target)
		ids = append(ids, featureIDs(t, doc)...)
		target = strings.TrimPrefix(fmt.Sprint(links(t, doc)["next"]["href"]), "http://example.com")
		if target == "<nil>" {
			target = ""
		}
	}
	var want []string
	for _, s := range put["strikes"].([]any) {
		want = append(want, s.(map[string]any)["id"].(string))
	}
	if !slices.Equal(ids, want) {
		t.Errorf("paged %v, want %v in time order", ids, want)
	}
	offset := f.getJSON(t, "/collections/strikes/items?offset=1&limit=2&datetime=2025-03-20T01:00:00Z/..")
	if got := featureIDs(t, offset); !slices.Equal(got, want[2:4]) || offset["numberMatched"] != 4.0 {
		t.Errorf("offset: %v (numberMatched %v), want %v of 4", got, offset["numberMatched"], want[2:4])
	}
	if next := fmt.Sprint(links(t, offset)["next"]["href"]); strings.Contains(next, "offset") {
		t.Errorf("next link %s carries the offset", next)
	}
	schema := f.getJSON(t, "/collections/strikes/schema")["properties"].(map[string]any)["properties"].(map[string]any)["properties"].(map[string]any)
	first := props(t, f.getJSON(t, "/collections/strikes/items?limit=1")["features"].([]any)[0].(map[string]any))
	for name := range first {
		if _, ok := schema[name]; !ok {
			t.Errorf("strike property %s is not in the schema %v", name, schema)
		}
	}
	if q := f.getJSON(t, "/collections/strikes/queryables")["properties"].(map[string]any); q["datetime"] == nil {
		t.Errorf("strike queryables %v lack datetime", q)
	}
	if got := featureIDs(t, f.getJSON(t, "/strikes?bbox=30.5,49,32.5,51")); !slices.Equal(got, want[1:3]) {
		t.Errorf("bbox: %v, want %v", got, want[1:3])
	}
	if got := featureIDs(t, f.getJSON(t, "/strikes?datetime=2025-03-20T03:00:00Z/..")); !slices.Equal(got, want[3:]) {
		t.Errorf("datetime: %v, want %v", got, want[3:])
	}

	rec := f.get(t, "/strikes?f=csv&limit=3")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(rec.Header().Get("Link"), `rel="next"`) {
		t.Fatalf("CSV: %d %v", rec.Code, rec.Header())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "id" || rows[1][0] != want[0] || rows[1][1] != "2025-03-20T00:00:00Z" || rows[1][6] != "E0" {
		t.Errorf("CSV rows %v", rows)
	}

	cols := f.getJSON(t, "/collections")
	var names []string
	for _, c := range cols["collections"].([]any) {
		names = append(names, c.(map[string]any)["id"].(string))
	}
	if !slices.Contains(names, "strikes") {
		t.Errorf("/collections lists %v, without strikes", names)
	}
	for _, target := range []string{"/strikes?offset=1&cursor=bogus", "/strikes?offset=-1", "/strikes?cursor=bogus", "/strikes?f=kml&cursor=bogus", "/strikes?bbox=1,2,3", "/strikes?datetime=yesterday", "/strikes?limit=0"} {
		if rec := f.get(t, target); rec.Code != 400 {
			t.Errorf("GET %s: %d, want 400", target, rec.Code)
		}
	}
	if rec := f.get(t, "/strikes?f=shp"); rec.Code != http.StatusNotAcceptable {
		t.Errorf("GET /strikes?f=shp: %d, want 406", rec.Code)
	}
}

// TestReport lists the strikes in an agreement's window with their
// verdicts, as GeoJSON and CSV.
func TestReport(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	f.post(t, "application/geo+json", collectionOf(
		strikeAt(30.4702, 50.5253, moratoriumStart.Add(-time.Second), `"event_id":"before"`),
		strikeAt(30.4702, 50.5253, moratoriumStart, `"event_id":"hit"`),
		strikeAt(30.4857, 50.4563, moratoriumStart.Add(time.Hour), `"event_id":"hospital"`),
		strikeAt(30.4857, 50.4563, moratoriumEnd, `"event_id":"after"`),
	), http.StatusCreated)

	doc := f.getJSON(t, "/report?agreement=energy-moratorium-2025-03")
	sum := doc["summary"].(map[string]any)
	if sum["strikes"] != 2.0 || sum["protected_site_hit"] != 1.0 || sum["protected_site_nearby"] != 1.0 {
		t.Errorf("summary %v: the window holds 2 strikes, one on energy, one near a line", sum)
	}
	var events, verdicts []string
	for _, s := range doc["features"].([]any) {
		p := props(t, s.(map[string]any))
		events = append(events, p["event_id"].(string))
		verdicts = append(verdicts, p["verdict"].(string))
	}
	if !slices.Equal(events, []string{"hit", "hospital"}) || !slices.Equal(verdicts, []string{"protected_site_hit", "protected_site_nearby"}) {
		t.Errorf("events %v verdicts %v: the hospital's agreement is not judged in the energy report", events, verdicts)
	}

	rec := f.get(t, "/report?from=2025-03-01&to=2025-12-31", "Accept: text/csv")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV report: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	rows, col := readCSV(t, rec.Body)
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[col["event_id"]]+":"+r[col["verdict"]]+":"+r[col["agreements_breached"]]+":"+r[col["nearest_protected_id"]])
	}
	want := []string{
		"before:no_protected_site::",
		// The line starts at the substation: at 0 m both, ties go by collection, then id.
		"hit:protected_site_hit:energy-moratorium-2025-03:line-kyiv-north-south",
		"hospital:protected_site_hit:okhmatdyt-2025:hosp-okhmatdyt",
		"after:protected_site_hit:okhmatdyt-2025:hosp-okhmatdyt",
	}
	if !slices.Equal(got, want) {
		t.Errorf("CSV report:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, target := range []string{"/report?agreement=nope", "/report?from=2025-04-01&to=2025-03-01", "/report?from=soon"} {
		if rec := f.get(t, target); rec.Code != 400 {
			t.Errorf("GET %s: %d, want 400", target, rec.Code)
		}
	}
}

// TestAgreementsEndpoints lists the agreements and fetches one.
func TestAgreementsEndpoints(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	list := f.getJSON(t, "/agreements")
	var ids []string
	for _, a := range list["agreements"].([]any) {
		ids = append(ids, a.(map[string]any)["id"].(string))
	}
	if !slices.Equal(ids, []string{"okhmatdyt-2025", "energy-moratorium-2025-03"}) {
		t.Errorf("agreements %v, want them by start", ids)
	}
	one := f.getJSON(t, "/agreements/okhmatdyt-2025")
	if one["end"] != nil || one["buffer_m"] != 500.0 || links(t, one)["self"]["href"] != "http://example.com/agreements/okhmatdyt-2025" {
		t.Errorf("GET /agreements/okhmatdyt-2025: %v", one)
	}
	if rec := f.get(t, "/agreements/nope"); rec.Code != 404 {
		t.Errorf("unknown agreement: %d", rec.Code)
	}
}

// TestTwoReplicas runs two servers on one PostgreSQL strike log, as behind
// a load balancer: what one records, the other serves.
func TestTwoReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := newStrikeFixture(t, dsn), newStrikeFixture(t, dsn)
	doc := a.post(t, "application/geo+json", strikeAt(30.4702, 50.5253, moratoriumStart, `"event_id":"R1","source":"replica test"`), http.StatusCreated)
	id := doc["id"].(string)
	if got := b.getJSON(t, "/strikes/"+id); got["id"] != id || verdictOf(t, got) != "protected_site_hit" {
		t.Errorf("replica b: %v", got)
	}
	// The same event through the other replica updates the same strike.
	again := b.post(t, "application/geo+json", strikeAt(30.4702, 50.5253, moratoriumStart, `"event_id":"R1","source":"replica test","notes":"via b"`), http.StatusOK)
	if again["id"] != id {
		t.Errorf("replica b recorded %v, not an update of %s", again["id"], id)
	}
	if rec := b.send(t, http.MethodDelete, "/strikes/"+id, "", "", true); rec.Code != 204 {
		t.Fatalf("DELETE through b: %d", rec.Code)
	}
	if rec := a.get(t, "/strikes/"+id); rec.Code != http.StatusGone {
		t.Errorf("replica a still serves the deleted strike: %d", rec.Code)
	}
}

// TestOpenAPIStrikes validates the strike log's, the agreements' and the
// report's requests and responses, errors included, against /api.
func TestOpenAPIStrikes(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	ctx := context.Background()
	_, router := loadAPI(t, f.get(t, "/api").Body.Bytes())
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	call := func(method, target, ctype, body string, auth bool, status int) []byte {
		t.Helper()
		req := httptest.NewRequest(method, "http://example.com"+target, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+testToken)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s: no route in the document: %v", method, target, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("%s %s: the request does not match the document: %v", method, target, err)
		}
		req.Body = io.NopCloser(strings.NewReader(body))
		rec := f.send(t, method, target, ctype, body, auth)
		if rec.Code != status {
			t.Fatalf("%s %s: %d, want %d\n%s", method, target, rec.Code, status, rec.Body)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s: the response does not match the document: %v\n%s", method, target, err, rec.Body)
		}
		return rec.Body.Bytes()
	}
	one := decode(t, call("POST", "/strikes", "application/geo+json", strikeAt(30.4702, 50.5253, moratoriumStart, `"event_id":"O1"`), true, 201))
	id := one["id"].(string)
	call("POST", "/strikes", "application/geo+json", strikeAt(30.4702, 50.5253, moratoriumStart, `"event_id":"O1"`), true, 200)
	call("POST", "/strikes", "text/csv", "event_id_cnty,event_date,latitude,longitude,geo_precision\nX1,2025-03-20,50.45,30.52,1\n", true, 201)
	call("POST", "/strikes", "application/geo+json", collectionOf(strikeAt(30.5, 50.4, moratoriumStart, "")), true, 201)
	call("POST", "/strikes", "text/csv", "event_id_cnty,event_date\n", true, 400)
	call("POST", "/strikes", "application/geo+json", strikeAt(30.5, 50.4, moratoriumStart, ""), false, 401)
	call("GET", "/strikes?limit=2", "", "", false, 200)
	call("GET", "/strikes?f=csv", "", "", false, 200)
	call("GET", "/strikes/"+id+"?scope=bridges", "", "", false, 200)
	call("GET", "/strikes/nope", "", "", false, 404)
	call("GET", "/collections/strikes", "", "", false, 200)
	call("GET", "/collections/strikes/items?bbox=30,50,31,51", "", "", false, 200)
	call("GET", "/collections/strikes/items/"+id, "", "", false, 200)
	call("GET", "/agreements", "", "", false, 200)
	call("GET", "/agreements/okhmatdyt-2025", "", "", false, 200)
	call("GET", "/report?agreement=energy-moratorium-2025-03", "", "", false, 200)
	call("GET", "/report?from=2025-01-01&f=csv", "", "", false, 200)
	call("GET", "/proximity?lon=30.4702&lat=50.5253&datetime=2025-03-20T00:00:00Z&scope=bridges", "", "", false, 200)
	call("POST", "/proximity?datetime=2025-03-20T00:00:00Z", "application/geo+json", collectionOf(strikeAt(30.4702, 50.5253, moratoriumStart, "")), false, 200)
	call("DELETE", "/strikes/"+id, "", "", true, 204)
}

// FuzzPostStrikes: any body, GeoJSON or CSV, is recorded (200 or 201) or
// refused with a 4xx problem, never a 500 or a panic.
func FuzzPostStrikes(f *testing.F) {
	for _, name := range []string{"strikes.geojson", "bad.geojson", "acled.csv", "bad.csv"} {
		b, err := os.ReadFile("../testdata/strikes/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(strings.HasSuffix(name, ".csv"), string(b))
	}
	f.Add(false, strikeAt(30.5, 50.4, moratoriumStart, `"uncertainty_m":1e300`))
	f.Add(false, `{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"datetime":"2025-03-20T00:00:00Z","event_id":[1]}}`)
	f.Add(true, "event_id_cnty,event_date,latitude,longitude,geo_precision\n\"X,2025-03-20,1,2,1\n")
	sf := newStrikeFixture(f, sqliteStore(f))
	f.Fuzz(func(t *testing.T, isCSV bool, body string) {
		ctype := "application/geo+json"
		if isCSV {
			ctype = "text/csv"
		}
		rec := sf.send(t, http.MethodPost, "/strikes", ctype, body, true)
		switch {
		case rec.Code == 200 || rec.Code == 201:
			decode(t, rec.Body.Bytes())
		case rec.Code >= 400 && rec.Code < 500:
			if rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d without a problem: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("%d for %q:\n%s", rec.Code, body, rec.Body)
		}
	})
}
