package importer

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/protectmap/protectmap/internal/testenv"
)

// TestSyntheticPBF checks the synthetic PBF writer against osmium, an
// independent reader, and the importer against the counts the file was
// built with.
func TestSyntheticPBF(t *testing.T) {
	nodes, ways, rels, want := synthExtract(300, 200, 1)
	file := filepath.Join(t.TempDir(), "synthetic.osm.pbf")
	if err := writeSynthPBF(file, nodes, ways, rels); err != nil {
		t.Fatal(err)
	}
	osmium := testenv.Tool(t, "osmium")
	out, err := exec.Command(osmium, "fileinfo", "-e", "-j", file).Output()
	if err != nil {
		t.Fatalf("osmium fileinfo: %v", err)
	}
	var info struct {
		Data struct {
			Count struct{ Nodes, Ways, Relations int }
		}
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if c := info.Data.Count; c.Nodes != want.nodes || c.Ways != want.ways || c.Relations != want.relations {
		t.Fatalf("osmium reads %+v, the file has %d nodes, %d ways, %d relations", c, want.nodes, want.ways, want.relations)
	}

	im := importOSMFixture(t, file, OSMOptions{})
	if im.summary.SkippedTotal != 0 {
		t.Errorf("skipped %v", im.summary.Skipped)
	}
	kinds := map[string]map[string]int{}
	for _, l := range im.summary.Layers {
		kinds[l.Name] = l.Kinds
	}
	got := synthCounts{
		generators:   kinds["energy"]["generator"],
		plants:       kinds["energy"]["plant"] - want.multipolygon,
		multipolygon: countPrefix(im, "energy", "osm:relation/"),
		lines:        kinds["energy"]["line"],
		bridges:      kinds["bridges"]["bridge"],
		hospitals:    kinds["hospitals"]["hospital"],
	}
	want.nodes, want.ways, want.relations = 0, 0, 0
	t.Logf("imported %+v", got)
	if got != want {
		t.Errorf("imported %+v, want %+v", got, want)
	}
}

func countPrefix(im *imported, layer, prefix string) int {
	n := 0
	l := im.layers[layer]
	for i := range l.Len() {
		if strings.HasPrefix(l.Feature(i).ID, prefix) {
			n++
		}
	}
	return n
}

// BenchmarkImportOSM measures import throughput (MB/s of input, reading
// and validating, not writing) and the peak resident memory of the process
// during the import, on the largest real extract and on a synthetic
// country-like PBF of 4 million nodes.
func BenchmarkImportOSM(b *testing.B) {
	files := []struct {
		name string
		path func(b *testing.B) string
	}{
		{"andorra", func(b *testing.B) string { return testenv.SharedData(b, "osm_extracts/andorra-latest.osm.pbf") }},
		{"krems-xml-gz", func(b *testing.B) string { return testenv.SharedData(b, "osm_extracts/krems.osm.gz") }},
		{"synthetic-4M-nodes", func(b *testing.B) string {
			path := filepath.Join(b.TempDir(), "synthetic.osm.pbf")
			nodes, ways, rels, _ := synthExtract(2000, 2000, 1)
			if err := writeSynthPBF(path, nodes, ways, rels); err != nil {
				b.Fatal(err)
			}
			return path
		}},
	}
	for _, f := range files {
		b.Run(f.name, func(b *testing.B) {
			path := f.path(b)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			b.ReportAllocs()
			peak := 0.0
			features := 0
			cpu0 := cpuSeconds()
			for b.Loop() {
				resetPeakRSS()
				res, err := OSM(context.Background(), path, OSMOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range res.layers {
					if _, err := res.validate(p); err != nil {
						b.Fatal(err)
					}
				}
				features = res.Len()
				peak = max(peak, float64(PeakRSS())/(1<<20))
			}
			// CPU time is what a busy shared machine distorts least.
			b.ReportMetric(float64(st.Size())/1e6/((cpuSeconds()-cpu0)/float64(b.N)), "MB/cpu-s")
			b.ReportMetric(float64(features), "features")
			if peak > 0 {
				b.ReportMetric(peak, "peak-RSS-MB")
			}
		})
	}
}

// resetPeakRSS returns freed memory to the system and restarts the
// kernel's peak RSS count (VmHWM) for this process, so the peak measured is
// the import's (Linux; elsewhere a no-op).
func resetPeakRSS() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// cpuSeconds is the user and system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
