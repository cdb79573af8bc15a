package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

// The site the end-to-end test strikes: a solar park of the default energy
// layer (its OSM outline, which holds the GPPD record WKS0061380), protected
// by the March 2025 moratorium.
const (
	struckSite = "osm:way/218888016"
	struckAt   = `[30.004,46.344]`
	analyst    = "alice"
	analystKey = "alice-token-for-the-evidence-test"
)

// evidenceData writes the default layers and agreements to a new --data
// directory, with named tokens beside it, and returns both paths.
func evidenceData(t *testing.T) (dir, tokens string) {
	t.Helper()
	dir = t.TempDir()
	files, err := data.Layers().ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := f.Name()
		b, err := data.Layers().ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "agreements.json"), data.Agreements(), 0o644); err != nil {
		t.Fatal(err)
	}
	tokens = filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("# analysts\n"+analyst+":"+analystKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, tokens
}

// removeSite rewrites the energy layer without one site.
func removeSite(t *testing.T, dir, id string) {
	t.Helper()
	file := filepath.Join(dir, "energy.geojson")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	features := doc["features"].([]any)
	kept := slices.DeleteFunc(features, func(f any) bool { return f.(map[string]any)["id"] == id })
	if len(kept) != len(features)-1 {
		t.Fatalf("%s is not in the energy layer", id)
	}
	doc["features"] = kept
	if b, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// request makes one request, as the analyst when auth is true.
func request(method, url, body string, auth bool) (int, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/geo+json")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+analystKey)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// call makes a request and decodes the JSON answered; it fails the test
// unless the status is want.
func call(t *testing.T, method, url, body string, auth bool, want int) map[string]any {
	t.Helper()
	status, raw, err := request(method, url, body, auth)
	if err != nil {
		t.Fatal(err)
	}
	if status != want {
		t.Fatalf("%s %s: %d, want %d\n%s", method, url, status, want, raw)
	}
	doc := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, url, err, raw)
		}
	}
	return doc
}

// outcomeOf is the outcome of a verdict object of a strike's properties.
func outcomeOf(t *testing.T, strike map[string]any, member string) (outcome, version string) {
	t.Helper()
	v, ok := strike["properties"].(map[string]any)[member].(map[string]any)
	if !ok {
		t.Fatalf("no %s in %v", member, strike["properties"])
	}
	outcome, _ = v["verdict"].(string)
	version, _ = v["data_version"].(string)
	return outcome, version
}

// TestEvidenceEndToEnd is the life of a strike as evidence, through a
// protectmap serve process: recorded as a hit on a protected site, the
// site removed from the data, the recorded verdict kept and judged again
// on the old data, the strike updated and deleted by a named analyst, the
// audit log verified, then edited by hand and refused.
func TestEvidenceEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "strikes.db")
			if backend == "postgres" {
				dsn = pgtest.DSN(t)
			}
			// edit changes the store by hand, with the database's own shell.
			edit := func(sql string) *exec.Cmd {
				if backend == "postgres" {
					return exec.Command(testenv.Tool(t, "psql"), "-v", "ON_ERROR_STOP=1", "-q", "-d", dsn, "-c", sql)
				}
				return exec.Command(testenv.Tool(t, "sqlite3"), dsn, sql)
			}
			dir, tokens := evidenceData(t)
			p := startServer(t, dsn, "--data", dir, "--tokens-file", tokens)
			defer p.stop(t)

			strike := `{"type":"Feature","geometry":{"type":"Point","coordinates":` + struckAt + `},"properties":` +
				`{"datetime":"2025-03-20T04:00:00Z","source":"field report","event_id":"E2E-1","notes":"%s"}}`
			created := call(t, http.MethodPost, p.base+"/strikes", fmt.Sprintf(strike, "first report"), true, http.StatusCreated)
			id := created["id"].(string)
			recorded, oldVersion := outcomeOf(t, created, "verdict_recorded")
			if recorded != "protected_site_hit" || oldVersion == "" {
				t.Fatalf("recorded %q on %q", recorded, oldVersion)
			}

			removeSite(t, dir, struckSite)
			reload := call(t, http.MethodPost, p.base+"/admin/reload", "", true, http.StatusOK)
			newVersion := reload["data_version"].(string)
			if newVersion == oldVersion {
				t.Fatalf("the reload kept data version %s", newVersion)
			}
			got := call(t, http.MethodGet, p.base+"/strikes/"+id, "", false, http.StatusOK)
			if o, v := outcomeOf(t, got, "verdict_recorded"); o != "protected_site_hit" || v != oldVersion {
				t.Errorf("verdict_recorded after the reload: %s on %s", o, v)
			}
			if o, v := outcomeOf(t, got, "verdict_now"); o == "protected_site_hit" || v != newVersion {
				t.Errorf("verdict_now after the reload: %s on %s", o, v)
			}
			if got["properties"].(map[string]any)["verdict_changed"] != true {
				t.Error("verdict_changed is not true")
			}
			then := call(t, http.MethodGet, p.base+"/strikes/"+id+"?data_version="+oldVersion, "", false, http.StatusOK)
			if o, v := outcomeOf(t, then, "verdict_now"); o != "protected_site_hit" || v != oldVersion {
				t.Errorf("judged again on %s: %s on %s", oldVersion, o, v)
			}
			prox := call(t, http.MethodGet, p.base+"/proximity?lon=30.004&lat=46.344&radius=10&datetime=2025-03-20T04:00:00Z&data_version="+oldVersion, "", false, http.StatusOK)
			if s := prox["summary"].(map[string]any); s["verdict"] != "protected_site_hit" {
				t.Errorf("/proximity on %s: %v", oldVersion, s)
			}
			batch := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":` + struckAt + `},` +
				`"properties":{"datetime":"2025-03-20T04:00:00Z"}}]}`
			for version, hits := range map[string]bool{oldVersion: true, newVersion: false} {
				got := call(t, http.MethodPost, p.base+"/proximity?radius=10&data_version="+version, batch, false, http.StatusOK)
				if s := got["summary"].(map[string]any)["verdicts"]; strings.Contains(fmt.Sprint(s), "protected_site_hit:1") != hits {
					t.Errorf("POST /proximity on %s: verdicts %v, want a protected site hit: %t", version, s, hits)
				}
			}
			call(t, http.MethodPost, p.base+"/proximity?data_version=never-served", batch, false, http.StatusNotFound)
			call(t, http.MethodGet, p.base+"/strikes/"+id+"?data_version=never-served", "", false, http.StatusNotFound)
			versions := call(t, http.MethodGet, p.base+"/versions", "", false, http.StatusOK)["versions"].([]any)
			if len(versions) != 2 || versions[0].(map[string]any)["data_version"] != newVersion {
				t.Errorf("GET /versions: %v", versions)
			}

			// A report on the old data stands; edited, it does not.
			report := filepath.Join(t.TempDir(), "report.geojson")
			_, raw, err := request(http.MethodGet, p.base+"/report?from=2025-03-20&to=2025-03-20&data_version="+oldVersion, "", false)
			if err != nil || !strings.Contains(string(raw), `"manifest":{"data_version":"`+oldVersion+`"`) {
				t.Fatalf("GET /report: %v\n%s", err, raw)
			}
			os.WriteFile(report, raw, 0o644)
			if code, out, errOut := runCLI(t, "report", "verify", report, "--store", dsn); code != 0 || !strings.Contains(out, "1 strikes judged again") {
				t.Errorf("report verify: exit %d\n%s%s", code, out, errOut)
			}
			os.WriteFile(report, []byte(strings.Replace(string(raw), `"verdict":"protected_site_hit"`, `"verdict":"no_protected_site"`, 1)), 0o644)
			if code, out, _ := runCLI(t, "report", "verify", report, "--store", dsn); code != 1 || strings.Count(out, "DIFFERS") != 2 {
				t.Errorf("report verify of an edited report: exit %d\n%s", code, out)
			}

			call(t, http.MethodPost, p.base+"/strikes", fmt.Sprintf(strike, "second report"), true, http.StatusOK)
			call(t, http.MethodDelete, p.base+"/strikes/"+id, "", true, http.StatusNoContent)
			call(t, http.MethodGet, p.base+"/strikes/"+id, "", false, http.StatusGone)
			var steps []string
			for _, e := range call(t, http.MethodGet, p.base+"/strikes/"+id+"/history", "", false, http.StatusOK)["events"].([]any) {
				e := e.(map[string]any)
				steps = append(steps, e["action"].(string)+" by "+e["actor"].(string))
			}
			if want := []string{"create by " + analyst, "update by " + analyst, "delete by " + analyst}; !slices.Equal(steps, want) {
				t.Errorf("history %v, want %v", steps, want)
			}
			p.stop(t)

			if code, out, errOut := runCLI(t, "audit", "verify", "--store", dsn); code != 0 || !strings.Contains(out, "3 events verified") {
				t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
			}
			drop := "DROP TRIGGER strike_events_no_update"
			if backend == "postgres" {
				drop = "DROP TRIGGER strike_events_append_only ON strike_events"
			}
			for _, sql := range []string{drop, "UPDATE strike_events SET record = replace(record, 'second report', 'no report') WHERE seq = 2"} {
				if out, err := edit(sql).CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", sql, err, out)
				}
			}
			if code, out, _ := runCLI(t, "audit", "verify", "--store", dsn); code != 1 || !strings.Contains(out, "event 2:") {
				t.Errorf("audit verify after the edit: exit %d\n%s", code, out)
			}
		})
	}
}

// TestReplicasShareOneChain runs two protectmap serve processes on one
// PostgreSQL and records strikes through both at once: the audit log is
// one chain, every event in it, none twice.
func TestReplicasShareOneChain(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir, tokens := evidenceData(t)
	replicas := []*serverProcess{startServer(t, dsn, "--data", dir, "--tokens-file", tokens), startServer(t, dsn, "--data", dir, "--tokens-file", tokens)}
	const writers, posts = 4, 30
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range posts {
				body := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[30.5,50.4]},"properties":`+
					`{"datetime":"2025-03-20T04:00:00Z","source":"replica test","event_id":"w%d-%d"}}`, w, n)
				if status, raw, err := request(http.MethodPost, replicas[w%2].base+"/strikes", body, true); err != nil || status != http.StatusCreated {
					t.Errorf("POST through replica %d: %d %v\n%s", w%2, status, err, raw)
				}
			}
		})
	}
	wg.Wait()
	for _, p := range replicas {
		p.stop(t)
	}
	if code, out, errOut := runCLI(t, "audit", "verify", "--store", dsn); code != 0 || !strings.Contains(out, fmt.Sprintf("%d events verified", writers*posts)) {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
	}
}

// TestReportVerifyChangedByte saves a GeoJSON and a CSV report (the CSV
// with its response headers, as curl -i and curl -D save them): both
// stand, and no longer once any byte of their body, or the audit head they
// carry, is changed, or once the audit log's newest event is cut.
func TestReportVerifyChangedByte(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "strikes.db")
	dir, tokens := evidenceData(t)
	p := startServer(t, dsn, "--data", dir, "--tokens-file", tokens)
	defer p.stop(t)
	for i, at := range []string{struckAt, "[30.5,50.4]", "[36.2,49.99]"} {
		call(t, http.MethodPost, p.base+"/strikes", `{"type":"Feature","geometry":{"type":"Point","coordinates":`+at+`},"properties":`+
			fmt.Sprintf(`{"datetime":"2025-03-20T0%d:00:00Z","source":"field report","event_id":"R-%d","notes":"=cmd|' /C calc'!A0"}}`, i, i), true, http.StatusCreated)
	}
	res, err := http.Get(p.base + "/report?from=2025-03-20&to=2025-03-20&f=csv")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /report?f=csv: %d %v", res.StatusCode, err)
	}
	var head strings.Builder
	fmt.Fprintf(&head, "HTTP/1.1 %s\r\n", res.Status)
	res.Header.Write(&head)
	head.WriteString("\r\n")
	_, geo, err := request(http.MethodGet, p.base+"/report?from=2025-03-20&to=2025-03-20", "", false)
	if err != nil {
		t.Fatal(err)
	}
	p.stop(t)

	tmp := t.TempDir()
	write := func(name string, b []byte) string {
		file := filepath.Join(tmp, name)
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	headers := write("headers.txt", []byte(head.String()))
	verify := func(args ...string) (int, string) {
		code, out, errOut := runCLI(t, append(append([]string{"report", "verify"}, args...), "--store", dsn)...)
		return code, out + errOut
	}
	reports := []struct {
		name string
		// save writes the report with body as its body and returns the
		// arguments that verify it.
		save func(body []byte) []string
		body []byte
	}{
		{"csv, curl -i", func(b []byte) []string { return []string{write("report.txt", append([]byte(head.String()), b...))} }, body},
		{"csv, curl -D", func(b []byte) []string { return []string{write("report.csv", b), "--headers", headers} }, body},
		{"geojson", func(b []byte) []string { return []string{write("report.geojson", b)} }, geo},
	}
	for _, r := range reports {
		if code, out := verify(r.save(r.body)...); code != 0 || !strings.Contains(out, "3 strikes judged again") {
			t.Fatalf("%s: exit %d\n%s", r.name, code, out)
		}
		// Changed bytes across the body: every byte of the CSV is covered, the
		// features of the GeoJSON.
		from, to := 0, len(r.body)
		if r.name == "geojson" {
			from = strings.Index(string(r.body), `"features":`) + len(`"features":`)
			to = strings.Index(string(r.body), `,"manifest":`)
		}
		for at := from; at < to; at += max(1, (to-from)/40) {
			changed := slices.Clone(r.body)
			changed[at] ^= 0x01
			if code, out := verify(r.save(changed)...); code == 0 {
				t.Errorf("%s: byte %d changed (%q), and the report still stands:\n%s", r.name, at, r.body[at], out)
			}
		}
	}
	if code, out := verify(write("report.csv", body), "--headers", write("headers.txt", []byte(strings.Replace(head.String(), "Protectmap-Audit-Head: 3:", "Protectmap-Audit-Head: 4:", 1)))); code != 1 || !strings.Contains(out, "audit log") {
		t.Errorf("a CSV report with another audit head: exit %d\n%s", code, out)
	}
	if code, out := verify(write("report.csv", body)); code != 1 || !strings.Contains(out, "response headers") {
		t.Errorf("a CSV report without its headers: exit %d\n%s", code, out)
	}

	for _, sql := range []string{"DROP TRIGGER strike_events_no_delete", "DELETE FROM strike_events WHERE seq = 3"} {
		if out, err := exec.Command(testenv.Tool(t, "sqlite3"), dsn, sql).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", sql, err, out)
		}
	}
	for _, r := range reports {
		if code, out := verify(r.save(r.body)...); code != 1 || !strings.Contains(out, "cut from its end") {
			t.Errorf("%s, the audit log's newest event cut: exit %d\n%s", r.name, code, out)
		}
	}
}
