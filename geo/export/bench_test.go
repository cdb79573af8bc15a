package export

import (
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/synth"
)

// templates are generated sites with properties as layers carry them; a
// stream of n features cycles through them.
func templates() []geo.Feature {
	sites := synth.Sites(10_000, 7)
	fs := make([]geo.Feature, len(sites))
	for i, s := range sites {
		fs[i] = geo.Feature{ID: s.ID, Name: s.Name, Kind: s.Kind, Geometry: s.Geometry,
			Properties: []byte(`{"name":` + strconv.Quote(s.Name) + `,"kind":"` + s.Kind + `","voltage_kv":330,"operator":"Ukrenergo"}`)}
	}
	return fs
}

// heapBytes is the heap memory occupied by objects, live or not yet swept.
func heapBytes(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// BenchmarkStream writes n features in each format to a discarding writer,
// for n of 10,000 to 1,000,000. Bytes and allocations per feature stay the
// same whatever n, and the peak heap above what the features themselves
// take does not grow with n: memory is bounded by the writer's buffers,
// not by the export's size.
func BenchmarkStream(b *testing.B) {
	fs := templates()
	cols := Columns(func(yield func(*geo.Feature) bool) {
		for i := range fs {
			if !yield(&fs[i]) {
				return
			}
		}
	})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for _, format := range Formats() {
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			b.Run(string(format)+"/n="+strconv.Itoa(n), func(b *testing.B) {
				runtime.GC()
				base := heapBytes(sample)
				var peak uint64
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				out := &countingWriter{}
				b.ResetTimer()
				for range b.N {
					w, err := NewWriter(out, format, Options{Name: "bench", Columns: cols})
					if err != nil {
						b.Fatal(err)
					}
					for i := range n {
						if err := w.Write(&fs[i%len(fs)]); err != nil {
							b.Fatal(err)
						}
						if i%4096 == 0 {
							peak = max(peak, heapBytes(sample))
						}
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				features := float64(b.N) * float64(n)
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/features, "B/feature")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/features, "allocs/feature")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/features, "ns/feature")
				b.ReportMetric(float64(out.n)/features, "out-B/feature")
				b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "peak-heap-MB")
			})
		}
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
