package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server"
)

// TestLinksBehindProxy: links are absolute and follow X-Forwarded-Proto
// and X-Forwarded-Host from a trusted proxy, or the configured base URL.
// (Test requests come from 192.0.2.1.)
func TestLinksBehindProxy(t *testing.T) {
	proxy, err := server.ParseTrustedProxies("192.0.2.0/24")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, base string
		trusted    []netip.Prefix
		header     []string
		want       string
	}{
		{"direct", "", nil, nil, "http://example.com/collections/energy/items"},
		{"proxy", "", proxy, []string{"X-Forwarded-Proto: https", "X-Forwarded-Host: maps.example.org"}, "https://maps.example.org/collections/energy/items"},
		{"proxy chain", "", proxy, []string{"X-Forwarded-Proto: https, http", "X-Forwarded-Host: maps.example.org, inner:8080"}, "https://maps.example.org/collections/energy/items"},
		{"forged host ignored", "", proxy, []string{"X-Forwarded-Host: evil.example/path?"}, "http://example.com/collections/energy/items"},
		{"regression: a peer not trusted is not a proxy", "", nil, []string{"X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example"}, "http://example.com/collections/energy/items"},
		{"base URL wins", "https://example.org/protectmap/", proxy, []string{"X-Forwarded-Host: other.example"}, "https://example.org/protectmap/collections/energy/items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *server.Config) { c.BaseURL, c.TrustedProxies = tc.base, tc.trusted })
			doc := decode(t, f.get(t, "/collections/energy", tc.header...).Body.Bytes())
			if got := links(t, doc)["items"]["href"]; got != tc.want {
				t.Errorf("items link %v, want %s", got, tc.want)
			}
			page := decode(t, f.get(t, "/collections/energy/items?limit=2", tc.header...).Body.Bytes())
			if next := links(t, page)["next"]["href"].(string); !strings.HasPrefix(next, tc.want+"?") {
				t.Errorf("next link %s, want it under %s", next, tc.want)
			}
		})
	}
}

// TestConditionalGet: collection data carries an ETag and Cache-Control;
// If-None-Match with it gets 304; a different representation a new tag.
func TestConditionalGet(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/collections", "/collections/energy", "/collections/energy/items?limit=5", "/collections/energy/items/sub-odesa", "/collections/energy/queryables"} {
		rec := f.get(t, target)
		etag := rec.Header().Get("ETag")
		if etag == "" || rec.Header().Get("Cache-Control") == "" {
			t.Fatalf("GET %s: ETag %q, Cache-Control %q", target, etag, rec.Header().Get("Cache-Control"))
		}
		if again := f.get(t, target).Header().Get("ETag"); again != etag {
			t.Errorf("GET %s: ETag changed from %s to %s", target, etag, again)
		}
		for _, inm := range []string{etag, `"x", ` + etag, "W/" + etag, "*"} {
			nm := f.get(t, target, "If-None-Match: "+inm)
			if nm.Code != http.StatusNotModified || nm.Body.Len() != 0 {
				t.Errorf("GET %s with If-None-Match %s: %d, %d bytes", target, inm, nm.Code, nm.Body.Len())
			}
		}
		if rec := f.get(t, target, `If-None-Match: "stale"`); rec.Code != 200 {
			t.Errorf("GET %s with a stale tag: %d", target, rec.Code)
		}
	}
	a := f.get(t, "/collections/energy/items?limit=5").Header().Get("ETag")
	b := f.get(t, "/collections/energy/items?limit=6").Header().Get("ETag")
	if a == b {
		t.Error("two different pages share an ETag")
	}
	if rec := f.get(t, "/proximity?lon=30.5&lat=50.4"); rec.Header().Get("ETag") != "" {
		t.Error("a proximity answer is not collection data and has no ETag")
	}
}

// TestGzip: large responses are gzipped for clients that ask, with their
// own ETag; small ones and clients that refuse get identity.
func TestGzip(t *testing.T) {
	f := newFixture(t)
	plain := f.get(t, "/collections/energy/items")
	zipped := f.get(t, "/collections/energy/items", "Accept-Encoding: br, gzip")
	if zipped.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(zipped.Header().Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("headers %v", zipped.Header())
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
		t.Errorf("gunzipped body differs from the plain one (%v)", err)
	}
	if zipped.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("gzip and identity share an ETag")
	}
	if rec := f.get(t, "/collections/energy/items", "Accept-Encoding: gzip;q=0"); rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 still got gzip")
	}
	if rec := f.get(t, "/conformance", "Accept-Encoding: gzip"); rec.Header().Get("Content-Encoding") != "" {
		t.Error("a small response was gzipped")
	}
}

// TestCORS: any origin by default; configured origins only otherwise.
func TestCORS(t *testing.T) {
	f := newFixture(t)
	if got := f.get(t, "/collections", "Origin: https://analyst.example").Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("default Allow-Origin %q, want *", got)
	}
	pre := f.do(t, http.MethodOptions, "/proximity", nil, "Origin: https://analyst.example", "Access-Control-Request-Method: POST")
	if pre.Code != http.StatusNoContent || !strings.Contains(pre.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", pre.Code, pre.Header())
	}
	g := newFixture(t, func(c *server.Config) { c.CORSOrigins = []string{"https://ok.example"} })
	if got := g.get(t, "/collections", "Origin: https://ok.example").Header().Get("Access-Control-Allow-Origin"); got != "https://ok.example" {
		t.Errorf("allowed origin got %q", got)
	}
	if got := g.get(t, "/collections", "Origin: https://other.example").Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin got %q", got)
	}

	// Writes from another origin send a token: only an origin named one by one may.
	write := func(f *fixture, origin string) (methods, headers, allowed string) {
		pre := f.do(t, http.MethodOptions, "/strikes/x", nil, "Origin: "+origin, "Access-Control-Request-Method: DELETE", "Access-Control-Request-Headers: authorization")
		h := pre.Header()
		return h.Get("Access-Control-Allow-Methods"), strings.ToLower(h.Get("Access-Control-Allow-Headers")), h.Get("Access-Control-Allow-Origin")
	}
	for _, tc := range []struct {
		name    string
		origins []string
		origin  string
		writes  bool
	}{
		{"default", nil, "https://analyst.example", false},
		{"star", []string{"*"}, "https://analyst.example", false},
		{"star among named", []string{"https://ok.example", "*"}, "https://ok.example", false},
		{"named", []string{"https://ok.example"}, "https://ok.example", true},
	} {
		f := newFixture(t, func(c *server.Config) { c.CORSOrigins = tc.origins })
		methods, headers, origin := write(f, tc.origin)
		if origin == "" {
			t.Errorf("%s: the preflight from %s was not answered for the origin", tc.name, tc.origin)
		}
		if got := strings.Contains(methods, http.MethodDelete); got != tc.writes {
			t.Errorf("%s: DELETE allowed %v (%q), want %v", tc.name, got, methods, tc.writes)
		}
		if got := strings.Contains(headers, "authorization"); got != tc.writes {
			t.Errorf("%s: Authorization allowed %v (%q), want %v", tc.name, got, headers, tc.writes)
		}
	}
	if methods, headers, origin := write(g, "https://other.example"); origin != "" || strings.Contains(headers, "authorization") {
		t.Errorf("an unlisted origin's write preflight got origin %q, methods %q, headers %q", origin, methods, headers)
	}
}

// TestMapApp: browsers get the app, its assets and settings; JSON clients
// the landing page; without an app, a page that links the API.
func TestMapApp(t *testing.T) {
	app := fstest.MapFS{
		"index.html":     {Data: []byte("<!doctype html><title>map</title>")},
		"assets/app.js":  {Data: []byte("console.log('map')")},
		"assets/app.css": {Data: []byte("body{margin:0}")},
	}
	f := newFixture(t, func(c *server.Config) {
		c.Web = app
		c.Basemap = []byte(`{"type":"FeatureCollection","features":[` + strings.Repeat(`{"type":"Feature","geometry":null,"properties":{}},`, 50) + `{"type":"Feature","geometry":null,"properties":{}}]}`)
		c.TileURL, c.TileAttribution = "https://tiles.example/{z}/{x}/{y}.png", "© Example"
	})
	browser := "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		target, header, ctype, contains string
		status                          int
	}{
		{"/", browser, "text/html; charset=utf-8", "<title>map</title>", 200},
		{"/?f=html", "", "text/html; charset=utf-8", "<title>map</title>", 200},
		{"/?f=json", browser, "application/json", `"service-desc"`, 200},
		{"/", "Accept: application/json", "application/json", `"conformance"`, 200},
		{"/", "Accept: */*", "application/json", `"data"`, 200},
		{"/assets/app.js", "", "text/javascript; charset=utf-8", "console.log", 200},
		{"/assets/app.css", "", "text/css; charset=utf-8", "margin", 200},
		{"/assets/missing.js", "", "application/problem+json", "", 404},
		{"/assets", "", "application/problem+json", "", 404},
		{"/assets/../index.html", "", "application/problem+json", "", 404},
		{"/map-config.json", "", "application/json", `{"tileURL":"https://tiles.example/{z}/{x}/{y}.png","tileAttribution":"© Example"}`, 200},
		{"/basemap.geojson", "", "application/geo+json", `"FeatureCollection"`, 200},
	}
	for _, tc := range tests {
		rec := f.get(t, tc.target, tc.header)
		if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.ctype || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("GET %s (%s): %d %q\n%.200s", tc.target, tc.header, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	if rec := f.get(t, "/basemap.geojson", "Accept-Encoding: gzip"); rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("ETag") == "" {
		t.Errorf("basemap not served gzipped with an ETag: %v", rec.Header())
	}

	bare := newFixture(t)
	rec := bare.get(t, "/", browser)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `href="http://example.com/collections"`) {
		t.Errorf("landing page without an app: %d\n%s", rec.Code, rec.Body)
	}
	unbuilt := newFixture(t, func(c *server.Config) { c.Web = fstest.MapFS{".gitkeep": {}} })
	if rec := unbuilt.get(t, "/", browser); rec.Code != 200 || !strings.Contains(rec.Body.String(), "/api") {
		t.Errorf("landing page with an unbuilt app: %d\n%s", rec.Code, rec.Body)
	}
	if rec := bare.get(t, "/map-config.json"); !strings.Contains(rec.Body.String(), `"tileURL":""`) {
		t.Errorf("offline map config: %s", rec.Body)
	}
}

// TestHead answers HEAD like GET without a body.
func TestHead(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/collections/energy/items", "/proximity?lon=30&lat=50", "/api"} {
		rec := f.do(t, http.MethodHead, target, nil)
		if rec.Code != 200 || rec.Header().Get("Content-Type") == "" {
			t.Errorf("HEAD %s: %d %v", target, rec.Code, rec.Header())
		}
	}
}

// TestReload: a new index stored in Config.Index is served from the next
// request on, collection metadata included.
func TestReload(t *testing.T) {
	f := newFixture(t)
	if rec := f.get(t, "/collections/extra/items"); rec.Code != 404 {
		t.Fatalf("extra before reload: %d", rec.Code)
	}
	extra, err := geojson.DecodeLayer("extra", "extra.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		{"type":"Feature","id":"x1","geometry":{"type":"Point","coordinates":[30.5,50.45]},"properties":{"name":"X","level":3}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	energy, _ := f.ix.Layer("energy")
	ix, err := geo.NewIndex(energy, extra)
	if err != nil {
		t.Fatal(err)
	}
	f.current.Store(ix)
	if ids, matched, _, _ := fetchPage(t, f, "/collections/extra/items?level=3"); matched != 1 || ids[0] != "x1" {
		t.Errorf("after reload: %v (%d)", ids, matched)
	}
	if rec := f.get(t, "/collections/hospitals"); rec.Code != 404 {
		t.Errorf("a dropped collection still answers: %d", rec.Code)
	}
}

// TestRequestLog: each request is logged once, at level INFO, with its
// time, method, URI, status, size, duration and client; a logger that
// leaves out INFO logs none.
func TestRequestLog(t *testing.T) {
	var logs logBuffer
	f := newFixture(t, logTo(&logs))
	f.get(t, "/collections/energy/items?limit=abc")
	line := logs.String()
	if strings.Count(line, "msg=request") != 1 || !strings.Contains(line, "status=400") || !strings.Contains(line, `uri="/collections/energy/items?limit=abc"`) {
		t.Errorf("request log: %s", line)
	}
	record := regexp.MustCompile(`^time=20\d\d-\S+ level=INFO msg=request method=GET uri="\S+" status=400 bytes=[1-9]\d* took=\S+s remote=192\.0\.2\.1\n$`)
	if !record.MatchString(line) {
		t.Errorf("request log lacks a field: %s", line)
	}
	var quiet logBuffer
	f = newFixture(t, func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&quiet, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	f.get(t, "/collections/energy/items?limit=2")
	if quiet.String() != "" {
		t.Errorf("a logger of warnings logged: %s", quiet.String())
	}
}

// TestInternalError: a failure that is not the client's, here a server
// started before any index was stored, is a logged 500 problem, not a
// crash or a stack trace in the response.
func TestInternalError(t *testing.T) {
	var logs logBuffer
	e := server.New(server.Config{Index: new(atomic.Pointer[geo.Index]), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	req := httptest.NewRequest(http.MethodGet, "/collections", nil)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	checkProblem(t, rec, http.StatusInternalServerError, "", "internal error")
	if strings.Contains(rec.Body.String(), "goroutine") || !strings.Contains(logs.String(), "panic") {
		t.Errorf("the stack belongs in the log, not the response:\nresponse %s\nlog %s", rec.Body, logs.String())
	}
}
