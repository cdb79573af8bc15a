package server_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
)

// largeServer serves n generated sites as the collection "sites".
func largeServer(t testing.TB, n int) (*echo.Echo, []synth.Site) {
	t.Helper()
	ix, sites, err := benchset.Index(n, benchset.Seed)
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	return server.New(server.Config{Index: &current, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), sites
}

// abandoned is the server's count of requests to route given up because
// their client left.
func abandoned(t testing.TB, e http.Handler, route string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	prefix := `protectmap_http_requests_abandoned_total{route="` + route + `"} `
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	return "0"
}

// TestWorkStopsWhenClientLeaves: every search, page, export and batch
// looks at its request's context as it goes, and once the context says
// the client has left, it stops within a look or two, answers nothing
// more (no closing lines that would make a cut export look whole) and is
// counted as abandoned. Work is measured in looks at the context, each
// 256 features apart, not in time.
func TestWorkStopsWhenClientLeaves(t *testing.T) {
	e, sites := largeServer(t, 30_000)
	c := sites[0].Geometry.Bound().Center()
	var strikes bytes.Buffer
	strikes.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range 5000 {
		if i > 0 {
			strikes.WriteByte(',')
		}
		p := sites[i%len(sites)].Geometry.Bound().Center()
		fmt.Fprintf(&strikes, `{"type":"Feature","geometry":{"type":"Point","coordinates":[%g,%g]},"properties":{}}`, p[0], p[1])
	}
	strikes.WriteString(`]}`)
	items := "/collections/" + benchset.Collection + "/items"
	for _, tc := range []struct {
		name, method, target, route string
		body                        []byte
		// footer ends the whole answer, and must not end a cut one.
		footer string
	}{
		{name: "proximity", target: fmt.Sprintf("/proximity?lon=%g&lat=%g&radius=200000&limit=10000", c[0], c[1]), route: "/proximity"},
		// One site answered: the work is the verdict's search of its whole reach.
		{name: "timed proximity", target: fmt.Sprintf("/proximity?lon=%g&lat=%g&radius=200000&limit=1&datetime=2025-03-20T12:00:00Z", c[0], c[1]), route: "/proximity"},
		{name: "nearest", target: fmt.Sprintf("/nearest?lon=%g&lat=%g&k=1000", c[0], c[1]), route: "/nearest"},
		{name: "items page by filter", target: items + "?limit=10000&filter=" + strings.ReplaceAll("kind='hospital'", "'", "%27"), route: "/collections/:collectionId/items"},
		{name: "items page in a large box", target: items + "?limit=10000&bbox=-180,-90,180,90", route: "/collections/:collectionId/items"},
		{name: "geojson export", target: items + "?f=ndjson", route: "/collections/:collectionId/items"},
		{name: "csv export", target: items + "?f=csv", route: "/collections/:collectionId/items"},
		{name: "kml export", target: items + "?f=kml", route: "/collections/:collectionId/items", footer: "</kml>\n"},
		{name: "batch proximity", method: http.MethodPost, target: "/proximity", body: strikes.Bytes(), route: "/proximity", footer: "}}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serve := func(ctx *testenv.CancelAfter) *httptest.ResponseRecorder {
				method := tc.method
				if method == "" {
					method = http.MethodGet
				}
				req := httptest.NewRequestWithContext(ctx, method, tc.target, bytes.NewReader(tc.body))
				req.Header.Set(echo.HeaderContentType, "application/geo+json")
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				return rec
			}
			whole := testenv.NewCancelAfter(0)
			if rec := serve(whole); rec.Code != http.StatusOK || !strings.HasSuffix(rec.Body.String(), tc.footer) {
				t.Fatalf("whole: %d %.300s", rec.Code, rec.Body)
			}
			if whole.Looks() < 8 {
				t.Fatalf("the whole answer looked at its context %d times: not throughout its work", whole.Looks())
			}
			before := abandoned(t, e, tc.route)
			cut := testenv.NewCancelAfter(whole.Looks() / 2)
			rec := serve(cut)
			if cut.Looks() > cut.At+2 {
				t.Errorf("told to stop at look %d, the work went on to look %d", cut.At, cut.Looks())
			}
			if rec.Code == http.StatusOK && tc.footer != "" && strings.HasSuffix(rec.Body.String(), tc.footer) {
				t.Errorf("a cut answer ends as a whole one does (%q)", tc.footer)
			}
			if rec.Code != http.StatusOK && rec.Code != 499 {
				t.Errorf("a cut answer got %d %s; want 499 (or the 200 of an export already started)", rec.Code, rec.Body)
			}
			if after := abandoned(t, e, tc.route); after == before {
				t.Errorf("abandoned requests to %s stayed at %s", tc.route, after)
			}
		})
	}
}

// TestExportStopsWhenClientDisconnects: a client that reads the start of
// a large export and hangs up ends the server's work on it, which counts
// it as abandoned.
func TestExportStopsWhenClientDisconnects(t *testing.T) {
	e, _ := largeServer(t, 30_000)
	srv := httptest.NewServer(e)
	defer srv.Close()
	route := "/collections/:collectionId/items"
	// Streamed as it is encoded: a client taking gzip would get the
	// collection's kept download, compressed once for every client.
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/collections/"+benchset.Collection+"/items?f=csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(res.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	res.Body.Close() // unread: the connection is closed, not reused
	for deadline := time.Now().Add(30 * time.Second); abandoned(t, e, route) != "1"; {
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the client hung up the export was not abandoned (abandoned: %s)", abandoned(t, e, route))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
