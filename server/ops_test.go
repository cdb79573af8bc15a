package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/store"
)

// TestReadiness: ready with data and a store that answers; 503 without
// data, or when the store stops answering, while /healthz stays 200.
func TestReadiness(t *testing.T) {
	if rec := newFixture(t).get(t, "/readyz"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"ready"`) ||
		!strings.Contains(rec.Body.String(), `"data_version":"fixture"`) {
		t.Errorf("with data: %d %s", rec.Code, rec.Body)
	}

	empty := server.New(server.Config{Index: new(atomic.Pointer[geo.Index]), Logger: slog.New(slog.DiscardHandler)})
	rec := httptest.NewRecorder()
	empty.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "no data loaded") {
		t.Errorf("without data: %d %s", rec.Code, rec.Body)
	}

	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "strikes.db"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *server.Config) { c.Store = st })
	if rec := f.get(t, "/readyz"); rec.Code != 200 {
		t.Errorf("with a store: %d %s", rec.Code, rec.Body)
	}
	st.Close()
	if rec := f.get(t, "/readyz"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "strike store") {
		t.Errorf("with a closed store: %d %s", rec.Code, rec.Body)
	}
	if rec := f.get(t, "/healthz"); rec.Code != 200 {
		t.Errorf("healthz with a closed store: %d", rec.Code)
	}
	if body := f.get(t, "/metrics").Body.String(); !strings.Contains(body, `protectmap_store_duration_seconds_count{op="ping",result="error"} 1`) {
		t.Errorf("store latency not in metrics:\n%s", grepLines(body, "protectmap_store"))
	}
}

// TestMetrics: requests are counted by method, route pattern and status,
// unmatched paths share one series, and the layers' sizes are reported.
func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.get(t, "/collections/energy/items?limit=2")
	f.get(t, "/collections/energy/items?limit=abc")
	f.get(t, "/collections/energy/items?limit=3")
	f.do(t, http.MethodHead, "/collections/energy/items?limit=2", nil)
	f.get(t, "/no/such/path/1")
	f.get(t, "/no/such/path/2")
	f.get(t, "/collections/energy/tiles/6/37/21.mvt")
	f.get(t, "/collections/energy/tiles/6/37/21.mvt")
	// Regression: each made-up method was a series of its own.
	for i := range 3 {
		f.do(t, fmt.Sprintf("MADEUP%d", i), "/collections", nil)
	}
	f.do(t, "MADEUP9", "/no/such/path", nil)
	rec := f.get(t, "/metrics")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	if strings.Contains(body, "MADEUP") || strings.Contains(body, "/no/such") {
		t.Errorf("a made-up method or path is a label:\n%s", grepLines(body, "protectmap_http_requests_total"))
	}
	for _, want := range []string{
		`protectmap_http_requests_total{method="GET",route="/collections/:collectionId/items",status="200"} 2`,
		`protectmap_http_requests_total{method="GET",route="/collections/:collectionId/items",status="400"} 1`,
		`protectmap_http_requests_total{method="HEAD",route="/collections/:collectionId/items",status="200"} 1`,
		`protectmap_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`protectmap_http_requests_total{method="other",route="/collections",status="405"} 3`,
		`protectmap_http_requests_total{method="other",route="unmatched",status="404"} 1`,
		`protectmap_http_request_duration_seconds_bucket{method="GET",route="/collections/:collectionId/items",status="200",le="+Inf"} 2`,
		`protectmap_layer_features{layer="energy"} 25`,
		`protectmap_data_info{version="fixture"} 1`,
		`protectmap_tile_cache_requests_total{result="hit"} 1`,
		`protectmap_tile_cache_requests_total{result="miss"} 1`,
		`protectmap_tile_cache_tiles 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s\n%s", want, grepLines(body, "protectmap_"))
		}
	}
}

// grepLines keeps the lines of s that contain word.
func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
