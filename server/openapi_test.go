package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/protectmap/protectmap/server"
)

// registerBodyDecoders teaches kin-openapi's validator, once, the media
// types of the server's bodies.
var registerBodyDecoders = sync.OnceFunc(func() {
	for _, media := range []string{"application/geo+json", "application/schema+json", "application/vnd.oai.openapi+json"} {
		openapi3filter.RegisterBodyDecoder(media, openapi3filter.JSONBodyDecoder)
	}
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
})

// TestOpenAPI validates /api with kin-openapi, then calls every operation
// it documents, with the examples it gives, and validates each request and
// response against it.
func TestOpenAPI(t *testing.T) {
	f := newFixture(t, func(c *server.Config) { c.Basemap = []byte(`{"type":"FeatureCollection","features":[]}`) })
	rec := f.get(t, "/api")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/vnd.oai.openapi+json;version=3.0" {
		t.Fatalf("GET /api: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	ctx := context.Background()
	doc, router := loadAPI(t, rec.Body.Bytes())

	// Clients size their pages from the limit parameter, reached by a
	// local $ref from each collection's items operation.
	items := doc.Paths.Value("/collections/energy/items").Get
	var limit *openapi3.Parameter
	for _, p := range items.Parameters {
		if p.Ref == "#/components/parameters/limit" {
			limit = p.Value
		}
	}
	if limit == nil || limit.Schema.Value.Max == nil || *limit.Schema.Value.Max != 10000 || limit.Schema.Value.Default != 100.0 {
		t.Errorf("items limit parameter %+v lacks maximum 10000 and default 100 behind a $ref", limit)
	}

	calls := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			target, ok := exampleTarget(t, path, op)
			if !ok {
				continue
			}
			var body io.Reader
			if op.RequestBody != nil {
				body = strings.NewReader(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30.5234,50.4501]},"properties":{"uncertainty_m":800}}]}`)
			}
			req := httptest.NewRequest(method, target, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/geo+json")
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Errorf("%s %s: no route in the document: %v", method, target, err)
				continue
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
			var reqBody []byte
			if body != nil {
				reqBody, _ = io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(reqBody))
			}
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s %s: the request does not match the document: %v", method, target, err)
			}
			if body != nil {
				req.Body = io.NopCloser(bytes.NewReader(reqBody))
			}
			res := httptest.NewRecorder()
			f.e.ServeHTTP(res, req)
			calls++
			if res.Code != 200 {
				t.Errorf("%s %s: %d\n%s", method, target, res.Code, res.Body)
				continue
			}
			out := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in, Status: res.Code, Header: res.Header(),
				Body:    io.NopCloser(bytes.NewReader(res.Body.Bytes())),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			}
			if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
				t.Errorf("%s %s: the response does not match the document: %v", method, target, err)
			}
		}
	}
	if calls < 20 {
		t.Errorf("only %d operations called", calls)
	}

	// Errors are documented problems too.
	for _, target := range []string{"/collections/energy/items?limit=abc", "/collections/energy/items/nope", "/proximity?lon=1&lat=91"} {
		req := httptest.NewRequest(http.MethodGet, "http://example.com"+target, nil)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		res := httptest.NewRecorder()
		f.e.ServeHTTP(res, req)
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 res.Code, Header: res.Header(), Body: io.NopCloser(res.Body),
		}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("GET %s: the problem does not match the document: %v", target, err)
		}
	}
}

// loadAPI reads an OpenAPI document, checks that it validates, and
// returns it with a router that finds each request's operation in it.
func loadAPI(t *testing.T, body []byte) (*openapi3.T, routers.Router) {
	t.Helper()
	registerBodyDecoders()
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

// exampleTarget builds a URL for an operation from the examples of its
// required parameters; an operation whose path parameter has no example
// (the empty collection's feature) is skipped.
func exampleTarget(t *testing.T, path string, op *openapi3.Operation) (string, bool) {
	t.Helper()
	q := url.Values{}
	for _, p := range op.Parameters {
		v := p.Value
		if !v.Required {
			continue
		}
		if v.Example == nil {
			if v.In == "path" {
				return "", false
			}
			t.Errorf("%s: required parameter %s has no example", path, v.Name)
			continue
		}
		s := formatExample(v.Example)
		if v.In == "path" {
			path = strings.ReplaceAll(path, "{"+v.Name+"}", url.PathEscape(s))
		} else {
			q.Set(v.Name, s)
		}
	}
	target := "http://example.com" + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return target, true
}

func formatExample(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// pathParam is a path parameter as OpenAPI writes it.
var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestOpenAPICoversEveryRoute: with every optional part configured (strike
// log, reloads, basemap), each route the server answers is in /api and
// each path of /api is a route. The map's static assets are files, not API.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	reloader := server.NewReloader(func(context.Context) (*server.Dataset, error) {
		return nil, errors.New("not reloaded in this test")
	})
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
		c.Reloader = reloader
		c.Basemap = []byte(`{"type":"FeatureCollection","features":[]}`)
	})
	doc, _ := loadAPI(t, f.get(t, "/api").Body.Bytes())
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	// A route's parameters (":name") stand for any one segment.
	matches := func(route, path string) bool {
		r, p := strings.Split(route, "/"), strings.Split(path, "/")
		if len(r) != len(p) {
			return false
		}
		for i := range r {
			if !strings.HasPrefix(r[i], ":") && r[i] != p[i] {
				return false
			}
		}
		return true
	}
	routed := map[string]bool{}
	for _, r := range f.e.Routes() {
		if r.Path == "/assets/*" || strings.HasPrefix(r.Method, "echo_route_not_found") || r.Method == http.MethodHead {
			continue
		}
		found := false
		for d := range documented {
			method, path, _ := strings.Cut(d, " ")
			path = pathParam.ReplaceAllString(path, ":p")
			if method == r.Method && matches(r.Path, path) {
				found, routed[d] = true, true
			}
		}
		if !found {
			t.Errorf("%s %s is served but not in /api", r.Method, r.Path)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("%s is in /api but no route serves it", d)
		}
	}
}

// TestOpenAPIDocument holds /api to a golden copy, with every optional
// part (strike log, basemap, reload) present and without, so the way the
// document is assembled can change while what it says cannot.
func TestOpenAPIDocument(t *testing.T) {
	t.Run("bare", func(t *testing.T) {
		golden(t, "bare", newFixture(t).get(t, "/api").Body.Bytes())
	})
	t.Run("full", func(t *testing.T) {
		f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
			c.Basemap = []byte(`{"type":"FeatureCollection","features":[]}`)
			c.Reloader = server.NewReloader(func(context.Context) (*server.Dataset, error) {
				return nil, errors.New("not reloaded in this test")
			})
		})
		golden(t, "full", f.get(t, "/api").Body.Bytes())
	})
}
