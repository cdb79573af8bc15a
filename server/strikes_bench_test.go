package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server/store/pgtest"
)

// BenchmarkPostStrikes records strikes through ServeHTTP, one Feature per
// POST and FeatureCollections of 1,000, on SQLite and PostgreSQL, and
// reports strikes per second and this process's CPU time per strike (the
// steadier figure on a shared machine): each POST is one fsync'd
// transaction, and answering a lone Feature reads it back and judges it.
func BenchmarkPostStrikes(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, size := range []int{1, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", backend, size), func(b *testing.B) {
				dsn := sqliteStore(b)
				if backend == "postgres" {
					dsn = pgtest.DSN(b)
				}
				f := newStrikeFixture(b, dsn)
				w := &sink{h: http.Header{}}
				b.ReportAllocs()
				b.ResetTimer()
				cpu := cpuTime()
				for i := range b.N {
					b.StopTimer()
					features := make([]string, size)
					for k := range features {
						features[k] = strikeAt(30+float64(k%100)/100, 50+float64(k/100)/100, moratoriumStart.Add(time.Duration(k)*time.Second),
							fmt.Sprintf(`"source":"bench","event_id":"b%d-%d","weapon":"drone"`, i, k))
					}
					body := features[0]
					if size > 1 {
						body = collectionOf(features...)
					}
					req := httptest.NewRequest(http.MethodPost, "/strikes", strings.NewReader(body))
					req.RemoteAddr = "127.0.0.1:40000"
					req.Header.Set("Content-Type", "application/geo+json")
					req.Header.Set("Authorization", "Bearer "+testToken)
					clear(w.h)
					w.status, w.n = 0, 0
					b.StartTimer()
					f.e.ServeHTTP(w, req)
					if w.status != http.StatusCreated {
						b.Fatalf("status %d", w.status)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "strikes/s")
				// Building the bodies counts too, but is the same before
				// and after any change to recording them.
				b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*size), "cpu-µs/strike")
			})
		}
	}
}
