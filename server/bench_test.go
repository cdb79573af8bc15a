package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
)

var bench struct {
	once  sync.Once
	ix    *geo.Index
	e     *echo.Echo
	sites []synth.Site
}

// benchServer serves the generated 1M-feature set, as the load test does.
func benchServer(b *testing.B) (*echo.Echo, []synth.Site) {
	bench.once.Do(func() {
		ix, sites, err := benchset.Index(benchset.Features, benchset.Seed)
		if err != nil {
			panic(err)
		}
		bench.ix, bench.sites = ix, sites
		bench.e = serveIndex(ix, 0)
	})
	return bench.e, bench.sites
}

// serveIndex serves ix keeping up to cacheBytes of feature bodies (0: the
// default, negative: none).
func serveIndex(ix *geo.Index, cacheBytes int) *echo.Echo {
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	return server.New(server.Config{Index: &current, FeatureCacheBytes: cacheBytes, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// sink is a ResponseWriter that keeps nothing, so a benchmark measures the
// server and not a recorder.
type sink struct {
	h      http.Header
	status int
	n      int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(code int)        { s.status = code }
func (s *sink) Write(p []byte) (int, error) { s.n += len(p); return len(p), nil }

// serveTargets runs the requests round robin through ServeHTTP and reports
// µs/op, the CPU time of the serving thread per request (cpu-µs/op, which
// leaves out what other processes on a shared machine take, and the
// garbage collector's background work) and response bytes/op beside the
// allocations.
func serveTargets(b *testing.B, e *echo.Echo, targets []string, header ...string) {
	reqs := make([]*http.Request, len(targets))
	for i, t := range targets {
		reqs[i] = httptest.NewRequest(http.MethodGet, t, nil)
		for k := 0; k+1 < len(header); k += 2 {
			reqs[i].Header.Set(header[k], header[k+1])
		}
	}
	w := &sink{h: http.Header{}}
	// A server that has run a while: the collection's properties read,
	// and the features answers write kept (geojson.Bodies).
	for _, r := range reqs {
		e.ServeHTTP(w, r)
	}
	out := 0
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	start := testenv.ThreadCPU(b)
	for i := range b.N {
		clear(w.h)
		w.status, w.n = 200, 0
		e.ServeHTTP(w, reqs[i%len(reqs)])
		if w.status != http.StatusOK {
			b.Fatalf("%s: status %d", targets[i%len(reqs)], w.status)
		}
		out += w.n
	}
	b.ReportMetric(float64(testenv.ThreadCPU(b)-start)/1e3/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
	b.ReportMetric(float64(out)/float64(b.N), "resp-B/op")
}

// BenchmarkItemsBBox: a page of up to 100 features in a 0.1° box over 1M
// features, with numberMatched counted over the whole box.
func BenchmarkItemsBBox(b *testing.B) {
	e, sites := benchServer(b)
	targets := benchset.ItemsTargets(sites, 4096, benchset.Seed)
	b.Run("identity", func(b *testing.B) { serveTargets(b, e, targets) })
	b.Run("gzip", func(b *testing.B) { serveTargets(b, e, targets, "Accept-Encoding", "gzip") })
	// Every feature written anew, as most are in the load test, whose
	// 10,000 boxes reach more features than the kept bodies hold.
	b.Run("unkept", func(b *testing.B) { serveTargets(b, serveIndex(bench.ix, -1), targets) })
	// Kept bodies too few for the features the boxes reach, so a page
	// mixes bodies kept and features written anew, as the load test's do
	// once the kept bodies fill.
	b.Run("partkept", func(b *testing.B) { serveTargets(b, serveIndex(bench.ix, 24<<20), targets) })
}

// BenchmarkItemsFilter: a page of up to 100 features chosen by a CQL2
// filter, one equality and one S_INTERSECTS with the boxes of
// BenchmarkItemsBBox, over 1M features.
func BenchmarkItemsFilter(b *testing.B) {
	e, sites := benchServer(b)
	serveTargets(b, e, benchset.FilterTargets(sites, 4096, benchset.Seed))
}

// BenchmarkProximity: the sites within 5 km of a point, at most 20, over
// 1M features.
func BenchmarkProximity(b *testing.B) {
	e, sites := benchServer(b)
	targets := benchset.ProximityTargets(sites, 4096, benchset.Seed)
	b.Run("identity", func(b *testing.B) { serveTargets(b, e, targets) })
	b.Run("gzip", func(b *testing.B) { serveTargets(b, e, targets, "Accept-Encoding", "gzip") })
	b.Run("unkept", func(b *testing.B) { serveTargets(b, serveIndex(bench.ix, -1), targets) })
}

// BenchmarkItemsPaging: deep pages of the whole collection cost the same as
// the first, thanks to position cursors.
func BenchmarkItemsPaging(b *testing.B) {
	e, _ := benchServer(b)
	targets := []string{
		"/collections/" + benchset.Collection + "/items?limit=100",
		"/collections/" + benchset.Collection + "/items?limit=100&cursor=n500000",
		"/collections/" + benchset.Collection + "/items?limit=100&cursor=n999000",
	}
	serveTargets(b, e, targets)
}
