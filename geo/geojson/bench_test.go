package geojson_test

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/synthlayer"
)

// The country-scale benchmark set: generated, never committed.
const (
	benchFeatures = 1_000_000
	benchSeed     = 2025
)

// BenchmarkLoad decodes and indexes the 1M-feature set from GeoJSON and
// reports the heap it keeps per feature and the resident memory it adds.
// The sites are generated afresh and dropped before loading, so the figures
// count the loaded layer alone.
func BenchmarkLoad(b *testing.B) {
	file := filepath.Join(b.TempDir(), "bench.geojson")
	fh, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := synthlayer.WriteGeoJSON(fh, synth.Sites(benchFeatures, benchSeed)); err != nil {
		b.Fatal(err)
	}
	fh.Close()
	st, _ := os.Stat(file)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		heap, rss := settledMemory(b)
		b.StartTimer()
		start, startCPU := time.Now(), processCPU(b)
		l, err := geojson.LoadFile("bench", file)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/load")
		// The CPU time of every thread of the process, which the
		// neighbours on a shared machine do not inflate.
		b.ReportMetric((processCPU(b) - startCPU).Seconds(), "cpu-s/load")
		b.StopTimer()
		heapAfter, rssAfter := settledMemory(b)
		b.ReportMetric(float64(heapAfter-heap)/float64(l.Len()), "heap-B/feature")
		b.ReportMetric(float64(rssAfter-rss)/(1<<20), "rss-MB")
		runtime.KeepAlive(l)
		b.StartTimer()
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settledMemory collects garbage, returns freed pages to the system and
// reads the live heap and the resident set size, in bytes.
func settledMemory(b *testing.B) (heap, rss int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS line %q: %v", line, err)
			}
			rss = n << 10
		}
	}
	if rss == 0 {
		b.Fatal("no VmRSS in /proc/self/status")
	}
	return int64(ms.HeapAlloc), rss
}
