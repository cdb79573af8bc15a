package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNotAcceptable: every negotiated resource answers an Accept header
// that rules out all it offers with 406, naming what it offers, and
// otherwise the representation asked for: a layer's items and a report
// are HTML pages too (the report its printable page), the strike log is not.
func TestNotAcceptable(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	all := "application/geo+json, application/x-ndjson, text/csv, application/vnd.google-earth.kml+xml"
	const (
		browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
		html    = "text/html"
		geojson = "application/geo+json"
	)
	resources := []struct {
		target, offered string
		pages           bool
	}{
		{"/collections/energy/items", all + ", text/html", true},
		{"/strikes", all, false},
		{"/collections/strikes/items", all, false},
		{"/report?from=2025-01-01", "application/geo+json, text/csv, application/vnd.google-earth.kml+xml, application/geopackage+sqlite3, text/html", true},
	}
	accepts := []struct{ accept, want, page string }{
		{"text/html", "", html},
		{"application/xml", "", ""},
		{"image/png, text/html;q=0.9", "", html},
		{"*/*;q=0", "", ""},
		{browser, geojson, html},
		{"application/json", geojson, geojson},
		{"text/csv", "text/csv", "text/csv"},
		{"", geojson, geojson},
	}
	for _, r := range resources {
		for _, a := range accepts {
			t.Run(r.target+" "+a.accept, func(t *testing.T) {
				if r.pages {
					a.want = a.page
				}
				rec := f.get(t, r.target, "Accept: "+a.accept)
				if vary := strings.Join(rec.Header().Values("Vary"), ", "); !strings.Contains(vary, "Accept,") && !strings.HasSuffix(vary, "Accept") {
					t.Errorf("Vary %q lacks Accept", vary)
				}
				if a.want == "" {
					checkProblem(t, rec, http.StatusNotAcceptable, "", "offered as "+r.offered+" (or ask with f=")
					return
				}
				if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), a.want) || rec.Body.Len() == 0 {
					t.Errorf("%d %s with %d bytes, want %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), a.want)
				}
			})
		}
	}
}

// TestNotAcceptableDocuments: the landing page, conformance, queryables,
// schemas, a single item and a single strike answer an Accept header, or
// an f parameter, that rules out all they offer with 406 problem+json
// naming what they offer; otherwise what was asked for.
func TestNotAcceptableDocuments(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	created := f.post(t, "application/geo+json", strikeAt(30.5, 50.4, time.Date(2025, 3, 20, 4, 0, 0, 0, time.UTC), ""), http.StatusCreated)
	strike := "/strikes/" + created["id"].(string)
	const (
		json    = "application/json"
		geojson = "application/geo+json"
		schema  = "application/schema+json"
		html    = "text/html"
		browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	)
	var (
		asJSON    = map[string]string{"": json, "*/*": json, json: json, browser: json}
		asSchema  = map[string]string{"": schema, "*/*": schema, json: json, schema: schema, browser: schema}
		asGeoJSON = map[string]string{"": geojson, "*/*": geojson, json: geojson, geojson: geojson, browser: geojson}
		landing   = map[string]string{"": json, "*/*": json, json: json, html: html, browser: html}
		asPage    = map[string]string{"": geojson, "*/*": geojson, json: geojson, geojson: geojson, html: html, browser: html}
	)
	const (
		jsonOffered    = json + " (or ask with f=json)"
		schemaOffered  = schema + ", " + json + " (or ask with f=json)"
		geojsonOffered = geojson + " (or ask with f=json)"
		pageOffered    = geojson + ", " + html + " (or ask with f=json, f=html)"
		docOffered     = json + ", " + html + " (or ask with f=json, f=html)"
	)
	resources := []struct {
		target, offered string
		// answers maps an Accept header to the type it gets; any other
		// in accepts below gets 406.
		answers map[string]string
	}{
		{"/", docOffered, landing},
		{"/conformance", jsonOffered, asJSON},
		{"/collections/energy/queryables", schemaOffered, asSchema},
		{"/collections/energy/schema", schemaOffered, asSchema},
		{"/collections/strikes/queryables", schemaOffered, asSchema},
		{"/collections/energy/items/sub-kyiv-north", pageOffered, asPage},
		{strike, geojsonOffered, asGeoJSON},
		{"/collections/strikes/items/" + created["id"].(string), geojsonOffered, asGeoJSON},
		{"/collections", docOffered, landing},
		{"/collections/energy", docOffered, landing},
		// Resources offered in one representation only.
		{"/agreements", json, asJSON},
		{"/healthz", json, asJSON},
		{"/readyz", json, asJSON},
		{"/map-config.json", json, asJSON},
		{"/proximity?lon=30.5&lat=50.4", geojson, asGeoJSON},
		{"/nearest?lon=30.5&lat=50.4", geojson, asGeoJSON},
	}
	accepts := []string{"", "*/*", json, geojson, schema, html, browser, "application/xml", "text/csv", "image/png, text/plain;q=0.5", "*/*;q=0"}
	for _, r := range resources {
		for _, accept := range accepts {
			t.Run(r.target+" "+accept, func(t *testing.T) {
				rec := f.get(t, r.target, "Accept: "+accept)
				if vary := strings.Join(rec.Header().Values("Vary"), ", "); !strings.Contains(vary, "Accept") {
					t.Errorf("Vary %q lacks Accept", vary)
				}
				want, ok := r.answers[accept]
				if !ok {
					checkProblem(t, rec, http.StatusNotAcceptable, "", "offered as "+r.offered)
					return
				}
				if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), want) || rec.Body.Len() == 0 {
					t.Errorf("%d %s with %d bytes, want %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), want)
				}
			})
		}
		t.Run(r.target+" f=xml", func(t *testing.T) {
			checkProblem(t, f.get(t, withParam(r.target, "f=xml")), http.StatusNotAcceptable, "f", `format "xml" is not offered here`)
		})
		t.Run(r.target+" f=json beats Accept", func(t *testing.T) {
			if rec := f.get(t, withParam(r.target, "f=json"), "Accept: application/xml"); rec.Code != http.StatusOK {
				t.Errorf("f=json with Accept: application/xml: %d %s", rec.Code, rec.Body)
			}
		})
	}
	for _, target := range []string{"/collections/energy/items?f=xml", "/strikes?f=xml", "/report?f=pdf"} {
		t.Run(target, func(t *testing.T) {
			checkProblem(t, f.get(t, target), http.StatusNotAcceptable, "f", "is not offered here: it is offered as application/geo+json")
		})
	}
}

// withParam adds a query parameter to target.
func withParam(target, param string) string {
	if strings.Contains(target, "?") {
		return target + "&" + param
	}
	return target + "?" + param
}
