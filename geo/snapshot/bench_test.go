package snapshot_test

import (
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/snapshot"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/synthlayer"
)

// BenchmarkRead loads the generated 1M-feature set from a snapshot, the
// set BenchmarkLoad in geo/geojson loads from GeoJSON, and reports the CPU
// time of every thread, which a shared machine's neighbours do not inflate.
func BenchmarkRead(b *testing.B) {
	l, err := geo.NewLayer("bench", "bench.geojson", synthlayer.Features(synth.Sites(1_000_000, 2025)))
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "bench.snapshot")
	if err := snapshot.WriteFile(file, &snapshot.Data{Version: "v", Layers: []*geo.Layer{l}}); err != nil {
		b.Fatal(err)
	}
	l = nil
	runtime.GC()
	debug.FreeOSMemory()
	b.ResetTimer()
	for range b.N {
		start, startCPU := time.Now(), processCPU(b)
		d, err := snapshot.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/load")
		b.ReportMetric((processCPU(b) - startCPU).Seconds(), "cpu-s/load")
		runtime.KeepAlive(d)
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
