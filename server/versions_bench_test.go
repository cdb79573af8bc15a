package server_test

import (
	"context"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/protectmap/protectmap/internal/synthlayer"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
	"github.com/protectmap/protectmap/server/store"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

// byteCount counts what is written to it.
type byteCount int64

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func (n *byteCount) Write(p []byte) (int, error) { *n += byteCount(len(p)); return len(p), nil }

// BenchmarkKeepVersion keeps the generated 1M-feature set as a data version
// in a new store, SQLite and PostgreSQL, and reports the seconds it takes,
// the CPU seconds this process spent (opening and checking the store
// included; on a shared machine the steadier figure), the megabytes stored
// and those of the set as GeoJSON.
func BenchmarkKeepVersion(b *testing.B) {
	ix, sites, err := benchset.Index(benchset.Features, benchset.Seed)
	if err != nil {
		b.Fatal(err)
	}
	var geojson byteCount
	if err := synthlayer.WriteGeoJSON(&geojson, sites); err != nil {
		b.Fatal(err)
	}
	d := &server.Dataset{Index: ix, Version: "bench-1m"}
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var stored int64
			cpu := cpuTime()
			for range b.N {
				b.StopTimer()
				dsn := sqliteStore(b)
				if backend == "postgres" {
					dsn = pgtest.DSN(b)
				}
				st, err := store.Open(ctx, dsn)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := server.KeepVersion(ctx, st, d, -1); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				kept, err := st.Versions(ctx)
				if err != nil || len(kept) != 1 {
					b.Fatalf("kept %v, %v", kept, err)
				}
				stored = kept[0].StoredBytes
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/version")
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/version")
			b.ReportMetric(float64(stored)/1e6, "stored-MB")
			b.ReportMetric(float64(geojson)/1e6, "geojson-MB")
		})
	}
}

// TestKeepVersionRebuildsTheIndex keeps the test data as a data version and
// rebuilds it from the store: every layer, feature, geometry and property,
// and the agreements, come back the same.
func TestKeepVersionRebuildsTheIndex(t *testing.T) {
	ix := loadIndex(t)
	d := &server.Dataset{Index: ix, Agreements: loadAgreements(t), Version: "test-data"}
	st, err := store.Open(t.Context(), sqliteStore(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := server.KeepVersion(t.Context(), st, d, -1); err != nil {
		t.Fatal(err)
	}
	got, err := server.LoadVersion(t.Context(), st, "test-data")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Agreements, d.Agreements) {
		t.Errorf("agreements rebuilt as %+v\nwant %+v", got.Agreements, d.Agreements)
	}
	want, have := ix.Layers(), got.Index.Layers()
	if len(have) != len(want) {
		t.Fatalf("%d layers rebuilt, want %d", len(have), len(want))
	}
	for i, l := range want {
		r := have[i]
		if r.Name() != l.Name() || r.Len() != l.Len() {
			t.Fatalf("layer %d rebuilt as %s with %d features, want %s with %d", i, r.Name(), r.Len(), l.Name(), l.Len())
		}
		for k := range l.Len() {
			if a, b := l.Feature(k), r.Feature(k); a.ID != b.ID || !reflect.DeepEqual(a.Geometry, b.Geometry) || string(a.Properties) != string(b.Properties) {
				t.Fatalf("%s feature %d rebuilt as %+v, want %+v", l.Name(), k, b, a)
			}
		}
	}
}
