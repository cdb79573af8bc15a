package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server"
)

// hostileName is a site name and a source that would run script, load an
// image or break out of an attribute if a report wrote them unescaped.
const hostileName = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

// newHTMLReportFixture serves the fixture layers, one more whose only site
// has a hostile name, and the basemap's outlines, and records strikes: one
// on the hostile site from a hostile source with a link, the others around
// Kyiv during the moratorium.
func newHTMLReportFixture(t *testing.T) (*strikeFixture, []string) {
	t.Helper()
	dir := t.TempDir()
	site := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","id":"odd","geometry":{"type":"Point","coordinates":[35.05,48.46]},"properties":{"name":%q,"kind":"depot"}}]}`, hostileName)
	if err := os.WriteFile(filepath.Join(dir, "marked.geojson"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
		c.Basemap = data.Basemap()
		layers, err := geojson.LoadDir(layersDir)
		if err != nil {
			t.Fatal(err)
		}
		marked, err := geojson.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		ix, err := geo.NewIndex(append(layers, marked...)...)
		if err != nil {
			t.Fatal(err)
		}
		c.Index.Store(ix)
	})
	when := moratoriumStart.Add(48 * time.Hour)
	body := `{"type":"FeatureCollection","features":[` +
		strikeAt(35.05, 48.46, when, fmt.Sprintf(`"source":%q,"event_id":"X1","uncertainty_m":50,"source_url":"https://example.org/e?a=1&b=\"><script>"`, hostileName)) + "," +
		strikeAt(30.4702, 50.5253, when, `"source":"monitor","event_id":"K1","uncertainty_m":50`) + "," +
		strikeAt(30.5501, 50.3621, when.Add(-2*time.Hour), `"source":"monitor","event_id":"K2","uncertainty_m":3000`) + "," +
		strikeAt(30.56, 50.37, when.Add(-time.Hour), `"source":"press","event_id":"P2","uncertainty_m":3000`) + "]}"
	var ids []string
	for _, r := range f.post(t, "application/geo+json", body, http.StatusCreated)["strikes"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	return f, ids
}

// TestReportHTML: /report?f=html (and Accept: text/html) is one page
// carrying the manifest, its body digest that of the same query's CSV
// report, the query, the verdicts counted as the GeoJSON report counts
// them, an inline SVG map with a dot a strike, and a row a strike; names
// and sources from the data are escaped, never markup, and the page loads
// and runs nothing.
func TestReportHTML(t *testing.T) {
	f, ids := newHTMLReportFixture(t)
	rec := f.get(t, "/report?f=html")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("f=html: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	page := rec.Body.String()
	if byAccept := f.get(t, "/report", "Accept: text/html"); byAccept.Code != http.StatusOK ||
		!strings.HasPrefix(byAccept.Header().Get("Content-Type"), "text/html") {
		t.Errorf("Accept: text/html: %d %s", byAccept.Code, byAccept.Header().Get("Content-Type"))
	}
	for _, bad := range []string{"<script", "<img", "<iframe", "javascript:", `href="http://`, ` src="`} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page holds %q: markup from the data, or a request", bad)
		}
	}
	escaped := `&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;`
	if n := strings.Count(page, escaped); n < 2 {
		t.Errorf("the hostile site name and source escaped %d times, want at least 2 (nearest site, source)", n)
	}
	if !strings.Contains(page, `<a href="https://example.org/e?a=1&amp;b=%22%3e%3cscript%3e">`) {
		t.Errorf("the source's link is not there, escaped as an attribute:\n%s", page)
	}
	csvReport := f.get(t, "/report?f=csv")
	sum := sha256.Sum256(csvReport.Body.Bytes())
	if !strings.Contains(page, `<td class="digest" id="body-sha256">`+hex.EncodeToString(sum[:])+`</td>`) {
		t.Errorf("the page's body SHA-256 is not that of the CSV report, %x", sum)
	}
	report := f.getJSON(t, "/report")
	m := report["manifest"].(map[string]any)
	for _, want := range []string{m["data_version"].(string), m["agreements_digest"].(string), "Generated at", "Audit log head"} {
		if !strings.Contains(page, want) {
			t.Errorf("the manifest lacks %q", want)
		}
	}
	summary := report["summary"].(map[string]any)
	for _, name := range []string{"protected_site_hit", "possible_protected_site_hit", "protected_site_nearby", "no_protected_site", "location_too_coarse"} {
		row := regexp.MustCompile(`</span>` + name + `</th><td class="n">(\d+)</td>`).FindStringSubmatch(page)
		if row == nil || row[1] != fmt.Sprint(summary[name]) {
			t.Errorf("%s: the page counts %v, the report %v", name, row, summary[name])
		}
	}
	if !strings.Contains(page, fmt.Sprintf(`id="events">%v<`, summary["strikes"])) || !strings.Contains(page, fmt.Sprintf(`id="records">%v<`, summary["records"])) {
		t.Errorf("events and records: want %v and %v", summary["strikes"], summary["records"])
	}
	if summary["strikes"] != 3.0 || summary["records"] != 4.0 {
		t.Errorf("summary %v: the two Kyiv strikes of two sources are one event", summary)
	}
	if n := strings.Count(page, `<svg `); n != 1 {
		t.Errorf("%d SVG maps", n)
	}
	if n := strings.Count(page, `<circle class="strike"`); n != len(ids) {
		t.Errorf("%d strikes drawn, want %d", n, len(ids))
	}
	if !strings.Contains(page, `<rect class="site"`) || !strings.Contains(page, `<path d="M`) {
		t.Error("no protected site hit drawn, or no oblast outline")
	}
	for _, id := range ids {
		if !strings.Contains(page, `<tr class="strike" id="strike-`+id+`">`) {
			t.Errorf("no row for strike %s", id)
		}
	}
	filtered := f.get(t, "/report?f=html&oblast=UA-30&verdict=protected_site_hit&source=monitor").Body.String()
	for _, row := range []string{"<tr><th>oblast</th><td>UA-30</td></tr>", "<tr><th>verdict</th><td>[protected_site_hit]</td></tr>",
		"<tr><th>source</th><td>monitor</td></tr>", "<tr><th>collection</th><td>all</td></tr>"} {
		if !strings.Contains(filtered, row) {
			t.Errorf("the filtered page's query lacks %s", row)
		}
	}
	if strings.Count(filtered, `<tr class="strike"`) != 1 {
		t.Errorf("the filtered page lists %d strikes, want the one hit in Kyiv", strings.Count(filtered, `<tr class="strike"`))
	}
	if rec := f.get(t, "/report?f=xml"); rec.Code != http.StatusNotAcceptable || !strings.Contains(rec.Body.String(), "f=html") {
		t.Errorf("f=xml: %d %s", rec.Code, rec.Body)
	}
}

// TestReportQueryEcho: a report's query names every filter it applied,
// each as asked, and null for those not asked.
func TestReportQueryEcho(t *testing.T) {
	f, _ := newHTMLReportFixture(t)
	all := map[string]string{
		"from": "2025-03-18T00:00:00Z", "to": "2025-04-10T00:00:00Z", "agreement": "energy-moratorium-2025-03", "reading": "terms",
		"source": "monitor,press", "scope": "energy,hospitals", "oblast": "UA-30,UA-12", "verdict": "protected_site_hit,possible_protected_site_hit",
		"collection": "energy", "energy_class": "substation",
	}
	want := map[string]string{
		"from": "2025-03-18T00:00:00Z", "to": "2025-04-10T00:00:00Z", "agreement": "energy-moratorium-2025-03", "reading": "terms",
		"source": "[monitor press]", "scope": "[energy hospitals]", "oblast": "[UA-30 UA-12]", "verdict": "[protected_site_hit possible_protected_site_hit]",
		"collection": "[energy]", "energy_class": "[substation]",
	}
	for name := range all {
		q := "/report?" + name + "=" + all[name]
		if name == "reading" {
			q += "&agreement=" + all["agreement"]
		}
		echo := f.getJSON(t, q)["query"].(map[string]any)
		if len(echo) != len(all) {
			t.Errorf("%s: the query names %d filters, want every one of %d: %v", q, len(echo), len(all), echo)
		}
		for other, v := range echo {
			switch {
			case other == name:
				if fmt.Sprint(v) != want[name] {
					t.Errorf("%s: %s echoed as %v, want %s", q, name, v, want[name])
				}
			case name == "reading" && other == "agreement", (name == "agreement" || name == "reading") && (other == "from" || other == "to"):
				// The agreement asked with a reading; its window narrows from and to.
			case v != nil:
				t.Errorf("%s: %s is %v, asked for nothing", q, other, v)
			}
		}
	}
	var every []string
	for name, v := range all {
		every = append(every, name+"="+v)
	}
	echo := f.getJSON(t, "/report?"+strings.Join(every, "&"))["query"].(map[string]any)
	for name, v := range echo {
		if fmt.Sprint(v) != want[name] {
			t.Errorf("all at once: %s echoed as %v, want %s", name, v, want[name])
		}
	}
}

// TestBrowserReportPrint: Chromium lays the printable report out for print
// with its map drawn (each verdict counted there coloured on screen, each
// strike a dot, the oblasts outlined) and every strike's row, and prints it
// to a PDF of several A4 pages.
func TestBrowserReportPrint(t *testing.T) {
	tools := needBrowser(t)
	f, ids := newHTMLReportFixture(t)
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range 80 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strikeAt(30.2+float64(i%10)*0.08, 50.2+float64(i/10)*0.05, moratoriumStart.Add(time.Duration(i)*time.Hour),
			fmt.Sprintf(`"source":"monitor","event_id":"B%d","uncertainty_m":%d`, i, []int{0, 500, 5000, 40000}[i%4])))
	}
	b.WriteString("]}")
	for _, r := range f.post(t, "application/geo+json", b.String(), http.StatusCreated)["strikes"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	srv := httptest.NewServer(f.e)
	t.Cleanup(srv.Close)
	page := f.get(t, "/report?f=html").Body.String()
	colours := map[string]string{}
	for _, m := range regexp.MustCompile(`<span class="swatch" style="background: (#[0-9a-f]{6})"></span>([a-z_]+)</th>`).FindAllStringSubmatch(page, -1) {
		colours[m[2]] = m[1]
	}
	if len(colours) != 5 {
		t.Fatalf("the legend names %d verdicts' colours: %v", len(colours), colours)
	}
	var got struct {
		Status, Dots, DotsOnTop, Outlines, PDFBytes, PDFPages int
		SVGWidth, SVGHeight                                   float64
		Rows                                                  []string
		Colours                                               map[string]int
		PDFHeader                                             string
	}
	c := runBrowser(t, tools, map[string]any{"scenario": "reportPrint", "url": srv.URL + "/report?f=html", "colours": colours}, &got)
	webNoConsoleErrors(t, c.ConsoleErrors)
	webCheckHosts(t, c.Requests, strings.TrimPrefix(srv.URL, "http://"))
	if got.Status != 200 || got.SVGWidth < 300 || got.SVGHeight < 100 || got.Outlines == 0 {
		t.Errorf("status %d, map %.0f×%.0f px with %d outlines", got.Status, got.SVGWidth, got.SVGHeight, got.Outlines)
	}
	if got.Dots != len(ids) || got.DotsOnTop < 10 {
		t.Errorf("%d dots, %d of them on top, for %d strikes", got.Dots, got.DotsOnTop, len(ids))
	}
	want := map[string]bool{}
	for _, id := range ids {
		want["strike-"+id] = true
	}
	for _, row := range got.Rows {
		delete(want, row)
	}
	if len(got.Rows) != len(ids) || len(want) > 0 {
		t.Errorf("%d rows printed for %d strikes; missing %v", len(got.Rows), len(ids), want)
	}
	summary := f.getJSON(t, "/report")["summary"].(map[string]any)
	for verdict := range colours {
		if n := summary[verdict].(float64); (n > 0) != (got.Colours[verdict] > 0) {
			t.Errorf("%s: %v strikes, %d pixels of its colour on the map", verdict, n, got.Colours[verdict])
		}
	}
	if got.PDFHeader != "%PDF-" || got.PDFPages < 2 || got.PDFBytes < 10_000 {
		t.Errorf("the PDF: header %q, %d pages, %d bytes", got.PDFHeader, got.PDFPages, got.PDFBytes)
	}
}
