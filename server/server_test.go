package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/server"
)

// TestEndpoints pins representative responses of every endpoint in golden
// files, with their status and media type.
func TestEndpoints(t *testing.T) {
	f := newFixture(t, func(c *server.Config) {
		c.Basemap = []byte(`{"type":"FeatureCollection","features":[]}`)
		c.Agreements = loadAgreements(t)
	})
	tests := []struct {
		name, target string
		header       []string
		status       int
		ctype        string
	}{
		{"landing", "/", []string{"Accept: application/json"}, 200, "application/json"},
		{"landing_f_json", "/?f=json", []string{"Accept: text/html"}, 200, "application/json"},
		{"conformance", "/conformance", nil, 200, "application/json"},
		{"collections", "/collections", nil, 200, "application/json"},
		{"collection_energy", "/collections/energy", nil, 200, "application/json"},
		{"collection_aid_temporal", "/collections/aid", nil, 200, "application/json"},
		{"collection_empty", "/collections/empty", nil, 200, "application/json"},
		{"queryables_energy", "/collections/energy/queryables", nil, 200, "application/schema+json"},
		{"queryables_aid", "/collections/aid/queryables", []string{"Accept: application/json"}, 200, "application/json"},
		{"items_first_page", "/collections/energy/items?limit=3", nil, 200, "application/geo+json"},
		{"items_middle_page", "/collections/energy/items?limit=3&cursor=n5", nil, 200, "application/geo+json"},
		{"items_bbox_kyiv", "/collections/energy/items?bbox=30.4,50.3,30.7,50.6&limit=4", nil, 200, "application/geo+json"},
		{"items_bbox_antimeridian", "/collections/energy/items?bbox=179.9,65,-179.9,65.1", nil, 200, "application/geo+json"},
		{"items_filter", "/collections/energy/items?kind=plant&in_service=false", nil, 200, "application/geo+json"},
		{"items_datetime", "/collections/aid/items?datetime=2024-02-10T00:00:00Z/2024-03-01T12:00:00Z", nil, 200, "application/geo+json"},
		{"items_empty", "/collections/empty/items", nil, 200, "application/geo+json"},
		{"item", "/collections/energy/items/chp-kyiv-6", nil, 200, "application/geo+json"},
		{"item_numeric_id", "/collections/energy/items/7001", nil, 200, "application/geo+json"},
		{"item_geometry_collection", "/collections/energy/items/npp-zaporizhzhia", nil, 200, "application/geo+json"},
		{"proximity", "/proximity?lon=30.5234&lat=50.4501&radius=5000&limit=5", nil, 200, "application/geo+json"},
		{"proximity_uncertainty", "/proximity?lon=30.5830&lat=50.4300&radius=3000&uncertainty=1500&collections=energy,bridges", nil, 200, "application/geo+json"},
		{"proximity_nothing", "/proximity?lon=22.5&lat=48.5", nil, 200, "application/geo+json"},
		{"nearest", "/nearest?lon=30.5234&lat=50.4501&k=3&collections=hospitals", nil, 200, "application/geo+json"},
		{"proximity_verdict", "/proximity?lon=30.4702&lat=50.5253&radius=2000&datetime=2025-03-18T00:00:00%2B02:00", nil, 200, "application/geo+json"},
		{"proximity_verdict_scope", "/proximity?lon=30.556&lat=50.424&radius=500&uncertainty=100&datetime=2025-03-20T04:10:00Z&scope=bridges,hospitals", nil, 200, "application/geo+json"},
		{"agreements", "/agreements", nil, 200, "application/json"},
		{"agreement", "/agreements/okhmatdyt-2025", nil, 200, "application/json"},
		{"healthz", "/healthz", nil, 200, "application/json"},
		{"map_config", "/map-config.json", nil, 200, "application/json"},
		{"basemap", "/basemap.geojson", nil, 200, "application/geo+json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.get(t, tc.target, tc.header...)
			if rec.Code != tc.status {
				t.Fatalf("GET %s: status %d, want %d\n%s", tc.target, rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("GET %s: Content-Type %q, want %q", tc.target, got, tc.ctype)
			}
			golden(t, tc.name, rec.Body.Bytes())
		})
	}
}

// TestErrors: every bad request is a 4xx RFC 9457 problem naming what is
// wrong, never a panic or a 500.
func TestErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, target string
		status               int
		param                string // the invalid-params name, when one is at fault
		detail               string // a phrase the detail must contain
	}{
		{"bbox with 3 numbers", "GET", "/collections/energy/items?bbox=30,50,31", 400, "bbox", "4 numbers"},
		{"bbox not numbers", "GET", "/collections/energy/items?bbox=a,b,c,d", 400, "bbox", "not a finite number"},
		{"bbox latitudes reversed", "GET", "/collections/energy/items?bbox=30,51,31,50", 400, "bbox", "exceeds maximum"},
		{"bbox out of range", "GET", "/collections/energy/items?bbox=30,50,181,51", 400, "bbox", "outside [-180, 180]"},
		{"bbox-crs not offered", "GET", "/collections/energy/items?bbox=30,50,31,51&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154", 400, "bbox-crs", "not offered"},
		{"bbox outside the bbox-crs", "GET", "/collections/energy/items?bbox=0,0,4e7,1&bbox-crs=EPSG:3857", 400, "bbox", "Web Mercator"},
		{"crs not offered", "GET", "/collections/energy/items/sub-odesa?crs=EPSG:32638", 400, "crs", "not offered"},
		{"limit abc", "GET", "/collections/energy/items?limit=abc", 400, "limit", "not an integer"},
		{"limit zero", "GET", "/collections/energy/items?limit=0", 400, "limit", "minimum of 1"},
		{"limit negative", "GET", "/collections/energy/items?limit=-3", 400, "limit", "minimum of 1"},
		{"limit given twice", "GET", "/collections/energy/items?limit=2&limit=3", 400, "limit", "given 2 times"},
		{"cursor forged", "GET", "/collections/energy/items?cursor=x12", 400, "cursor", "not a cursor"},
		{"cursor before -1", "GET", "/collections/energy/items?cursor=p-1", 400, "cursor", "not a cursor"},
		{"datetime garbage", "GET", "/collections/aid/items?datetime=yesterday", 400, "datetime", "RFC 3339"},
		{"datetime reversed", "GET", "/collections/aid/items?datetime=2024-03-01/2024-01-01", 400, "datetime", "ends before it starts"},
		{"filter number not a number", "GET", "/collections/energy/items?voltage_kv=high", 400, "voltage_kv", "not a finite number"},
		{"filter boolean not a boolean", "GET", "/collections/energy/items?in_service=yes", 400, "in_service", "not a boolean"},
		{"unknown parameter", "GET", "/collections/energy/items?colour=red", 400, "colour", "unknown parameter"},
		{"unknown parameter on collections", "GET", "/collections?page=2", 400, "page", "unknown parameter"},
		{"format not offered", "GET", "/collections?f=xml", 406, "f", "not offered"},
		{"unknown collection", "GET", "/collections/tanks", 404, "", `no collection "tanks"`},
		{"tile beyond the matrix", "GET", "/collections/energy/tiles/3/8/0", 404, "", "no tile 3/8/0"},
		{"tile path not numbers", "GET", "/collections/energy/tiles/a/0/0", 400, "z/x/y", "not a whole number"},
		{"data version not kept", "GET", "/proximity?lon=30.5&lat=50.4&data_version=v1", 404, "data_version", "is not kept"},
		{"unknown collection items", "GET", "/collections/tanks/items", 404, "", `no collection "tanks"`},
		{"unknown feature id", "GET", "/collections/energy/items/no-such-site", 404, "", `no feature "no-such-site"`},
		{"unknown route", "GET", "/tiles/1/2/3.png", 404, "", ""},
		{"method not allowed", "DELETE", "/collections/energy", 405, "", ""},
		{"lat 91", "GET", "/proximity?lon=30&lat=91", 400, "lat", "outside [-90, 90]"},
		{"lon 200", "GET", "/proximity?lon=200&lat=50", 400, "lon", "outside [-180, 180]"},
		{"lon missing", "GET", "/proximity?lat=50", 400, "lon", "required"},
		{"lat missing", "GET", "/proximity?lon=30", 400, "lat", "required"},
		{"lat not finite", "GET", "/proximity?lon=30&lat=NaN", 400, "lat", "not a finite number"},
		{"radius -5", "GET", "/proximity?lon=30&lat=50&radius=-5", 400, "radius", "outside [0, 200000]"},
		{"radius beyond 200 km", "GET", "/proximity?lon=30&lat=50&radius=200001", 400, "radius", "outside [0, 200000]"},
		{"proximity limit abc", "GET", "/proximity?lon=30&lat=50&limit=abc", 400, "limit", "not an integer"},
		{"proximity unknown collection", "GET", "/proximity?lon=30&lat=50&collections=energy,tanks", 400, "collections", `no collection "tanks"`},
		{"proximity bad collection id", "GET", "/proximity?lon=30&lat=50&collections=energy,,x", 400, "collections", "not a collection id"},
		{"uncertainty negative", "GET", "/proximity?lon=30&lat=50&uncertainty=-1", 400, "uncertainty", "outside [0, 200000]"},
		{"uncertainty beyond radius", "GET", "/proximity?lon=30&lat=50&radius=100&uncertainty=500", 400, "uncertainty", "exceeds the radius"},
		{"proximity unknown parameter", "GET", "/proximity?lon=30&lat=50&distance=5", 400, "distance", "unknown parameter"},
		{"nearest k abc", "GET", "/nearest?lon=30&lat=50&k=abc", 400, "k", "not an integer"},
		{"nearest radius not taken", "GET", "/nearest?lon=30&lat=50&radius=5", 400, "radius", "unknown parameter"},
		{"healthz parameter", "GET", "/healthz?x=1", 400, "x", "known: f"},
		{"no basemap configured", "GET", "/basemap.geojson", 404, "", "no offline basemap"},
		{"no map app assets", "GET", "/assets/app.js", 404, "", ""},
		{"post proximity not JSON", "POST", "/proximity", 400, "body", "invalid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader("strikes!")
			} else {
				body = strings.NewReader("")
			}
			rec := f.do(t, tc.method, tc.target, body)
			checkProblem(t, rec, tc.status, tc.param, tc.detail)
		})
	}
}

// checkProblem checks an RFC 9457 problem response.
func checkProblem(t *testing.T, rec interface {
	Result() *http.Response
}, status int, param, detail string) {
	t.Helper()
	res := rec.Result()
	body := readAll(t, res)
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	p := decode(t, body)
	if p["status"] != float64(status) || p["type"] != "about:blank" || p["title"] != http.StatusText(status) {
		t.Errorf("problem %v: want status %d, type about:blank and title %q", p, status, http.StatusText(status))
	}
	if d, _ := p["detail"].(string); !strings.Contains(d, detail) {
		t.Errorf("detail %q does not say %q", p["detail"], detail)
	}
	if param != "" {
		ips, _ := p["invalid-params"].([]any)
		if len(ips) != 1 || ips[0].(map[string]any)["name"] != param {
			t.Errorf("invalid-params %v, want one naming %q", p["invalid-params"], param)
		}
	}
}

func readAll(t testing.TB, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
