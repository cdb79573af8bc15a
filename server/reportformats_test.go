package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
)

// reportFixture is a strike log of three strikes in the moratorium's
// window: a hit, a near miss and one far from any site.
func reportFixture(t *testing.T) *strikeFixture {
	t.Helper()
	f := newStrikeFixture(t, sqliteStore(t))
	at := moratoriumStart.Add(time.Hour)
	f.post(t, "application/geo+json", collectionOf(
		strikeAt(30.4702, 50.5253, at, `"event_id":"hit","source_url":"https://monitor.example/events/1"`),
		strikeAt(30.4857, 50.4563, at.Add(time.Minute), `"event_id":"hospital","notes":"<b>&amp; \"quoted\"</b>"`),
		strikeAt(23.6, 49.84, at.Add(2*time.Minute), `"event_id":"far"`),
	), http.StatusCreated)
	// Kept, so report verify can rebuild the data judged against.
	d := &server.Dataset{Index: f.ix, Agreements: loadAgreements(t), Version: "fixture"}
	if err := server.KeepVersion(t.Context(), f.store, d, -1); err != nil {
		t.Fatal(err)
	}
	return f
}

// saveReport asks for a report in a format and writes it to a file.
func saveReport(t *testing.T, f *strikeFixture, target, name string) (string, []byte) {
	t.Helper()
	rec := f.get(t, target)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", target, rec.Code, rec.Body)
	}
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, rec.Body.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, rec.Body.Bytes()
}

// ogrReport saves a report and returns what ogrinfo -al reads of it, and
// the report's bytes.
func ogrReport(t *testing.T, f *strikeFixture, target, name string) (string, []byte) {
	t.Helper()
	ogrinfo := testenv.Tool(t, "ogrinfo")
	file, body := saveReport(t, f, target, name)
	out, err := exec.Command(ogrinfo, "-ro", "-al", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	return string(out), body
}

// verifyReport checks a report's bytes as protectmap report verify does.
func verifyReport(t *testing.T, f *strikeFixture, body []byte) *server.ReportCheck {
	t.Helper()
	r, err := server.VerifyReport(t.Context(), f.store, bytes.NewReader(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportKML reads a KML report with GDAL, checks its manifest and
// verifies it, then finds an edited verdict.
func TestReportKML(t *testing.T) {
	f := reportFixture(t)
	text, body := ogrReport(t, f, "/report?from=2025-03-01&f=kml&scope=hospitals", "report.kml")
	if got := strings.Count(text, "OGRFeature("); got != 3 {
		t.Errorf("ogrinfo reads %d features, want 3:\n%s", got, text)
	}
	for _, want := range []string{"verdict (String) = protected_site_hit", "nearest_site_m", "POINT (30.4702 50.5253", "recorded_by (String) = " + testActor} {
		if want == "nearest_site_m" {
			want = "nearest_site (String) = {"
		}
		if !strings.Contains(text, want) {
			t.Errorf("ogrinfo output lacks %q:\n%s", want, text)
		}
	}
	r := verifyReport(t, f, body)
	if !r.OK() || r.Strikes != 3 || r.Manifest.DataVersion != "fixture" || strings.Join(r.Manifest.Scope, ",") != "hospitals" {
		t.Errorf("verify: %+v", r)
	}
	edited := bytes.Replace(body, []byte("<value>protected_site_hit</value>"), []byte("<value>no_protected_site</value>"), 1)
	if bytes.Equal(edited, body) {
		t.Fatal("no verdict to edit")
	}
	if r := verifyReport(t, f, edited); r.OK() || r.BodyIntact || len(r.Differences) != 1 {
		t.Errorf("verify of an edited report: %+v", r)
	}
}

// TestReportGeoPackage reads a GeoPackage report with GDAL: its layer, the
// strikes' facts and verdicts, and the manifest in its metadata and
// description; report verify says plainly it does not check one.
func TestReportGeoPackage(t *testing.T) {
	f := reportFixture(t)
	text, body := ogrReport(t, f, "/report?from=2025-03-01&f=gpkg&scope=hospitals", "report.gpkg")
	for _, want := range []string{"using driver `GPKG'", "Layer name: strikes", "Feature Count: 3", "Geometry: Unknown (any)",
		`"data_version":"fixture"`, `"scope":["hospitals"]`, "verdict (String) = protected_site_hit", "recorded_by (String) = " + testActor,
		"source_link (String) = https://monitor.example/events/1", "nearest_site_kind (String) = hospital", "POINT (30.4702 50.5253)",
		`notes (String) = <b>&amp; "quoted"</b>`} {
		if !strings.Contains(text, want) {
			t.Errorf("ogrinfo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "ERROR") || strings.Contains(text, "Warning") {
		t.Errorf("ogrinfo complains:\n%s", text)
	}
	// The manifest's body digest is that of the same report as CSV.
	csvRec := f.get(t, "/report?from=2025-03-01&f=csv&scope=hospitals")
	b64 := strings.TrimSuffix(strings.TrimPrefix(csvRec.Header().Get("Content-Digest"), "sha-256=:"), ":")
	sum, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !strings.Contains(text, `"body_sha256":"`+hex.EncodeToString(sum)+`"`) {
		t.Errorf("the manifest's body_sha256 is not the CSV report's Content-Digest %q (%v)", b64, err)
	}
	if _, err := server.VerifyReport(t.Context(), f.store, bytes.NewReader(body), nil); err == nil || !strings.Contains(err.Error(), "GeoJSON, CSV and KML") {
		t.Errorf("verify of a GeoPackage: %v, want a plain refusal naming the formats verified", err)
	}
}
