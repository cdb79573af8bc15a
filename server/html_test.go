package server_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestHTMLPages: the landing page, the collections, a collection, its
// items and one item are HTML pages when f=html or a browser's Accept
// header asks, each linking its JSON form and showing what the JSON holds;
// JSON clients still get JSON.
func TestHTMLPages(t *testing.T) {
	f := newFixture(t)
	const browser = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		name, target string
		want         []string // in the page, as HTML escapes it
	}{
		{"collections", "/collections", []string{"<title>collections - protectmap</title>", `href="http://example.com/collections/energy?f=html"`, "hospitals"}},
		{"collection", "/collections/hospitals", []string{"<title>hospitals - protectmap</title>", `href="http://example.com/collections/hospitals/items?f=html"`, "Extent (CRS84)"}},
		{"items", "/collections/hospitals/items?limit=2", []string{"2 of 7 matching features", "Okhmatdyt Children&#39;s Hospital", `rel="next"`, "hosp-okhmatdyt"}},
		{"items filtered", "/collections/energy/items?filter=voltage_kv%3D750", []string{"sub-brovary", "Brovary 750 kV"}},
		{"item", "/collections/energy/items/sub-kyiv-north", []string{"<title>energy: sub-kyiv-north - protectmap</title>", "<th>voltage_kv</th><td>330</td>", "Geometry: Point"}},
	}
	for _, tt := range tests {
		for _, how := range []struct{ name, target, header string }{
			{"f=html", withParam(tt.target, "f=html"), ""},
			{"Accept", tt.target, browser},
		} {
			t.Run(tt.name+" "+how.name, func(t *testing.T) {
				rec := f.get(t, how.target, how.header)
				if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
					t.Fatalf("%d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
				}
				body := rec.Body.String()
				for _, w := range tt.want {
					if !strings.Contains(body, w) {
						t.Errorf("page lacks %q:\n%s", w, body)
					}
				}
				// The JSON link gives the same resource as JSON.
				jsonHref := between(body, `This page as <a href="`, `" type="application/json">JSON</a>`)
				jsonTarget := strings.TrimPrefix(html.UnescapeString(jsonHref), "http://example.com")
				if !strings.Contains(jsonTarget, "f=json") {
					t.Fatalf("JSON link %q lacks f=json", jsonTarget)
				}
				js := f.get(t, jsonTarget, how.header)
				if js.Code != http.StatusOK || !strings.Contains(js.Header().Get("Content-Type"), "json") {
					t.Errorf("JSON link %s: %d %s", jsonTarget, js.Code, js.Header().Get("Content-Type"))
				}
			})
		}
		t.Run(tt.name+" JSON", func(t *testing.T) {
			if rec := f.get(t, tt.target, "Accept: application/json"); rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "json") {
				t.Errorf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
			}
		})
	}
}

// TestHTMLPagesCountMatches: an items page lists exactly the features of
// the GeoJSON page it shows, for filters and paging alike.
func TestHTMLPagesCountMatches(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{
		"/collections/energy/items",
		"/collections/energy/items?limit=3&offset=2",
		"/collections/hospitals/items?filter=S_INTERSECTS(geometry,BBOX(30.4,50.4,30.6,50.5))",
		"/collections/empty/items",
	} {
		t.Run(target, func(t *testing.T) {
			var fc struct {
				NumberMatched, NumberReturned int
				Features                      []struct{ ID any }
			}
			if err := json.Unmarshal(f.get(t, target).Body.Bytes(), &fc); err != nil {
				t.Fatal(err)
			}
			body := f.get(t, withParam(target, "f=html")).Body.String()
			if got := strings.Count(body, "<tr><td>"); got != fc.NumberReturned {
				t.Errorf("%d rows, want %d", got, fc.NumberReturned)
			}
			if want := strconv.Itoa(fc.NumberReturned) + " of " + strconv.Itoa(fc.NumberMatched) + " matching"; !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		})
	}
}

// TestHTMLNotAcceptable: an f the pages do not offer is a 406 naming html
// beside the JSON forms.
func TestHTMLNotAcceptable(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ target, offered string }{
		{"/collections?f=xml", "application/json, text/html (or ask with f=json, f=html)"},
		{"/collections/energy?f=xml", "application/json, text/html (or ask with f=json, f=html)"},
		{"/collections/energy/items/sub-kyiv-north?f=xml", "application/geo+json, text/html (or ask with f=json, f=html)"},
		{"/collections/energy/items?f=xml", "application/geo+json, application/x-ndjson, text/csv, application/vnd.google-earth.kml+xml, text/html (or ask with f=geojson, f=ndjson, f=csv, f=kml, f=html)"},
	} {
		t.Run(tt.target, func(t *testing.T) {
			checkProblem(t, f.get(t, tt.target), http.StatusNotAcceptable, "f", "offered as "+tt.offered)
		})
	}
}

// TestBrowserPages: in Chromium, an items page's map draws every feature
// of the page that has a geometry (points, lines and polygons alike), and a
// single item's page draws it, with the app's bundled Leaflet and nothing
// from any other host.
func TestBrowserPages(t *testing.T) {
	tools := needBrowser(t)
	srv := serveWeb(t, webDefaultIndex(t), "")
	paths := []string{
		"/collections/energy/items?limit=300",
		"/collections/hospitals/items?limit=50&sortby=-name",
		"/collections/energy/items?filter=S_INTERSECTS(geometry,BBOX(29,49,33,51))&limit=200",
		"/collections/energy/items?crs=http://www.opengis.net/def/crs/EPSG/0/3857&limit=20",
	}
	first := geoJSONPage(t, srv.URL+paths[0])
	paths = append(paths, "/collections/energy/items/"+first.Features[0].ID)
	var out struct {
		Pages []struct {
			Path, Type, Title, Error, JSON string
			Drawn, Shapes, Rows            int
		}
	}
	common := runBrowser(t, tools, map[string]any{"scenario": "pages", "base": srv.URL, "paths": paths}, &out)
	webNoConsoleErrors(t, common.ConsoleErrors)
	webCheckHosts(t, common.Requests, strings.TrimPrefix(srv.URL, "http://"))
	if len(out.Pages) != len(paths) {
		t.Fatalf("%d pages reported, want %d", len(out.Pages), len(paths))
	}
	for k, p := range out.Pages {
		if p.Type != "text/html; charset=utf-8" || p.Error != "" {
			t.Errorf("%s: %s, map error %q", p.Path, p.Type, p.Error)
			continue
		}
		withGeometry, rows := 1, -1 // an item's page draws it, and its table lists properties
		if k < len(paths)-1 {
			doc := geoJSONPage(t, p.JSON)
			withGeometry, rows = 0, doc.NumberReturned
			for _, f := range doc.Features {
				if f.Geometry != nil {
					withGeometry++
				}
			}
			if withGeometry == 0 {
				t.Fatalf("%s: the JSON holds no geometry; the test proves nothing", p.Path)
			}
		}
		if p.Drawn != withGeometry || p.Shapes != withGeometry {
			t.Errorf("%s: map drew %d features in %d shapes, want %d", p.Path, p.Drawn, p.Shapes, withGeometry)
		}
		if rows >= 0 && p.Rows != rows {
			t.Errorf("%s: %d table rows, want %d", p.Path, p.Rows, rows)
		}
	}
}

// geoJSONPage is the GeoJSON at url.
func geoJSONPage(t *testing.T, url string) (doc struct {
	NumberReturned int
	Features       []struct {
		ID       string
		Geometry *struct{ Type string }
	}
}) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %v %s", url, res.StatusCode, err, body)
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// between is the text of s between the first before and the after that follows it.
func between(s, before, after string) string {
	_, rest, _ := strings.Cut(s, before)
	v, _, _ := strings.Cut(rest, after)
	return v
}
