package server_test

import (
	stdgzip "compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server/internal/benchset"
)

// BenchmarkGzipLevels compresses the server's own answers (proximity, an
// items page, vector tiles at a country's zoom 6 and a city's zoom 10) with compress/gzip and klauspost/compress at
// each level, and at their Huffman-only level (-2) and klauspost's
// stateless one (-3), reporting the compressed share of the bytes (ratio) beside
// the time and the CPU time of the compressing thread: the evidence for
// the levels respond.go, downloads.go and tile use.
func BenchmarkGzipLevels(b *testing.B) {
	e, sites := benchServer(b)
	kinds := []struct {
		name    string
		targets []string
	}{
		{"proximity", benchset.ProximityTargets(sites, 64, benchset.Seed)},
		{"items", benchset.ItemsTargets(sites, 64, benchset.Seed)},
		{"tile-z6", benchset.TileTargetsAt(sites, 64, benchset.Seed, 6)},
		{"tile-z10", benchset.TileTargetsAt(sites, 64, benchset.Seed, 10)},
	}
	type compressor interface {
		Reset(io.Writer)
		Write([]byte) (int, error)
		Close() error
	}
	libraries := []struct {
		name   string
		make   func(level int) compressor
		levels []int
	}{
		{"stdlib", func(level int) compressor { w, _ := stdgzip.NewWriterLevel(io.Discard, level); return w },
			[]int{stdgzip.HuffmanOnly, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"klauspost", func(level int) compressor { w, _ := gzip.NewWriterLevel(io.Discard, level); return w },
			[]int{gzip.StatelessCompression, gzip.HuffmanOnly, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, k := range kinds {
		var bodies [][]byte
		size := 0
		for _, t := range k.targets {
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, t, nil))
			if w.Code == http.StatusOK {
				bodies = append(bodies, w.Body.Bytes())
				size += w.Body.Len()
			}
		}
		if len(bodies) == 0 {
			b.Fatalf("%s: no answer with a body", k.name)
		}
		for _, lib := range libraries {
			for _, level := range lib.levels {
				b.Run(k.name+"/"+lib.name+"/"+strconv.Itoa(level), func(b *testing.B) {
					zw := lib.make(level)
					var out countingWriter
					b.SetBytes(int64(size / len(bodies)))
					b.ReportAllocs()
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					start := testenv.ThreadCPU(b)
					for i := range b.N {
						zw.Reset(&out)
						if _, err := zw.Write(bodies[i%len(bodies)]); err != nil {
							b.Fatal(err)
						}
						if err := zw.Close(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(testenv.ThreadCPU(b)-start)/1e3/float64(b.N), "cpu-µs/op")
					in := 0
					for i := range b.N {
						in += len(bodies[i%len(bodies)])
					}
					b.ReportMetric(float64(out)/float64(in), "ratio")
				})
			}
		}
	}
}

// countingWriter counts the bytes written to it and keeps none.
type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
