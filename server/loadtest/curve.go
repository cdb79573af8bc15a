package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/geo/snapshot"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/synthlayer"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
	"golang.org/x/sys/unix"
)

// point is what one process measures of a generated set of some size:
// each size is loaded in a process of its own, so its resident memory is
// the set's and not what earlier sizes left behind.
type point struct {
	Features int `json:"features"`
	// LoadSeconds is the wall time to decode and index the GeoJSON file,
	// and LoadCPUSeconds the CPU time the process took for it, on all its
	// threads: on a shared machine the wall time measures the neighbours.
	LoadSeconds    float64 `json:"load_s"`
	LoadCPUSeconds float64 `json:"load_cpu_s"`
	// RSS is VmRSS once loaded and the garbage returned to the system;
	// Base is VmRSS before loading, so (RSS-Base)/Features is the set's.
	RSS  int64 `json:"rss_bytes"`
	Base int64 `json:"base_bytes"`
	// NearbyMicros is the median over batches of the querying thread's
	// CPU time per Nearby (5 km, limit 20).
	NearbyMicros float64 `json:"nearby_cpu_us"`
	// The HTTP load test of /proximity: requests a second and latency.
	RPS   float64 `json:"rps"`
	P50us int64   `json:"p50_us"`
	P99us int64   `json:"p99_us"`
	// Errors counts socket errors and answers that were not 2xx.
	Errors int64 `json:"errors"`
}

func (p point) bytesPerFeature() float64 { return float64(p.RSS-p.Base) / float64(p.Features) }

// curve measures each size in o.sizes, o.runs times (once above a million
// features, where one run takes gigabytes), each run in a child process;
// it prints a table of the medians and writes it into o.readme and a plot
// into o.svg when they are named.
func curve(o options) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "protectmap-curve")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var medians []point
	for _, n := range o.sizes {
		file, write := filepath.Join(dir, "sites.geojson"), writeSet
		if o.snapshot {
			file, write = filepath.Join(dir, "sites"+snapshotExt), writeSnapshot
		}
		start := time.Now()
		if err := write(file, n); err != nil {
			return err
		}
		fmt.Printf("%d features written to %s in %v\n", n, filepath.Base(file), time.Since(start).Round(time.Millisecond))
		runs := o.runs
		if n > 1_000_000 {
			runs = 1
		}
		var got []point
		for r := range runs {
			p, err := child(self, file, n, o)
			if err != nil {
				return fmt.Errorf("%d features, run %d: %w", n, r+1, err)
			}
			fmt.Printf("%d features, run %d: %s\n", n, r+1, p.row(""))
			got = append(got, p)
		}
		os.Remove(file)
		medians = append(medians, median(got))
		// Written after each size, so an interrupted run keeps the sizes done.
		if err := writeCurve(medians, o); err != nil {
			return err
		}
	}
	fmt.Print("\n" + curveTable(medians, o))
	return nil
}

// writeCurve writes the table into o.readme and the plot into o.svg, when named.
func writeCurve(medians []point, o options) error {
	if o.readme != "" {
		if err := replaceBetween(o.readme, "<!-- cost curve -->\n", "<!-- end cost curve -->", curveTable(medians, o)); err != nil {
			return err
		}
	}
	if o.svg != "" {
		return os.WriteFile(o.svg, plot(medians), 0o644)
	}
	return nil
}

// writeSet writes n generated sites (benchset.Seed) as GeoJSON.
func writeSet(file string, n int) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := synthlayer.WriteGeoJSON(f, synth.Sites(n, benchset.Seed)); err != nil {
		f.Close()
		return err
	}
	// The sites are garbage now: hand them back before a child loads them.
	debug.FreeOSMemory()
	return f.Close()
}

// snapshotExt marks a set written as a snapshot.
const snapshotExt = ".snapshot"

// writeSnapshot writes n generated sites (benchset.Seed) as a snapshot, as
// protectmap snapshot writes the layer loaded from writeSet's file: the
// same features, built by the same constructor, without a day of parsing
// GeoJSON to get them.
func writeSnapshot(file string, n int) error {
	l, err := geo.NewLayer(benchset.Collection, "sites.geojson", synthlayer.Features(synth.Sites(n, benchset.Seed)))
	if err != nil {
		return err
	}
	err = snapshot.WriteFile(file, &snapshot.Data{Version: "generated", AgreementsFrom: "none", Agreements: []byte(`{"agreements":[]}`), Layers: []*geo.Layer{l}})
	debug.FreeOSMemory()
	return err
}

// loadSet loads a set written by writeSet or writeSnapshot.
func loadSet(file string) (*geo.Layer, error) {
	if !strings.HasSuffix(file, snapshotExt) {
		return geojson.LoadFile(benchset.Collection, file)
	}
	d, err := snapshot.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if len(d.Layers) != 1 {
		return nil, fmt.Errorf("%s: %d layers, want 1", file, len(d.Layers))
	}
	return d.Layers[0], nil
}

// child measures one run in a process of its own and returns what it printed.
func child(self, file string, n int, o options) (point, error) {
	cmd := exec.Command(self, "-curve-child", file, "-features", strconv.Itoa(n),
		"-duration", o.duration.String(), "-connections", strconv.Itoa(o.connections), "-threads", strconv.Itoa(o.threads))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return point{}, err
	}
	var p point
	if err := json.Unmarshal(out, &p); err != nil {
		return point{}, fmt.Errorf("child printed %q: %v", out, err)
	}
	if p.Errors > 0 {
		return p, fmt.Errorf("%d load test errors", p.Errors)
	}
	return p, nil
}

// measure is the child: it loads file, measures it and prints one point
// as JSON.
func measure(file string, o options) error {
	base, err := settledRSS()
	if err != nil {
		return err
	}
	start, startCPU := time.Now(), processCPU()
	l, err := loadSet(file)
	if err != nil {
		return err
	}
	p := point{Features: l.Len(), LoadSeconds: time.Since(start).Seconds(), LoadCPUSeconds: (processCPU() - startCPU).Seconds(), Base: base}
	if p.RSS, err = settledRSS(); err != nil {
		return err
	}
	ix, err := geo.NewIndex(l)
	if err != nil {
		return err
	}
	queries := benchset.LayerPoints(l, o.queries, benchset.Seed+2)
	if p.NearbyMicros, err = nearbyMicros(ix, queries); err != nil {
		return err
	}
	r, err := serveAndDrive(ix, benchset.ProximityTargetsAt(queries), o)
	if err != nil {
		return err
	}
	p.RPS, p.P50us, p.P99us, p.Errors = r.rps(), r["p50_us"], r["p99_us"], r["socket_errors"]+r["status_errors"]
	return json.NewEncoder(os.Stdout).Encode(p)
}

// settledRSS collects the garbage, returns it to the system and reads VmRSS.
func settledRSS() (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	mem, err := memory()
	return mem["VmRSS"] << 10, err
}

// nearbyMicros runs every query in batches of 256 on one OS thread and
// returns the median batch's CPU time per query, in microseconds.
func nearbyMicros(ix *geo.Index, queries []orb.Point) (float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const batch = 256
	var per []float64
	for rounds := 0; rounds < 3; rounds++ {
		for k := 0; k+batch <= len(queries); k += batch {
			start := threadCPU()
			for _, q := range queries[k : k+batch] {
				if _, err := ix.Nearby(q, benchset.RadiusMeters, benchset.NearbyLimit); err != nil {
					return 0, err
				}
			}
			per = append(per, float64(threadCPU()-start)/1e3/batch)
		}
	}
	if len(per) == 0 {
		return 0, errors.New("fewer queries than a batch")
	}
	slices.Sort(per)
	return per[len(per)/2], nil
}

// threadCPU is the CPU time the calling OS thread has used, which leaves
// out what the neighbours on a shared machine take.
func threadCPU() time.Duration { return cpuClock(unix.CLOCK_THREAD_CPUTIME_ID) }

// processCPU is the CPU time all of this process's threads have used.
func processCPU() time.Duration { return cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID) }

func cpuClock(clock int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		panic(err) // Linux has had these clocks since 2.6.12
	}
	return time.Duration(ts.Nano())
}

// serveAndDrive serves ix on loopback and drives the targets with wrk.
func serveAndDrive(ix *geo.Index, targets []string, o options) (result, error) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return nil, errors.New("wrk is not installed (apt-get install -y wrk)")
	}
	dir, err := os.MkdirTemp("", "protectmap-curve-wrk")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	lua := filepath.Join(dir, "requests.lua")
	requests := filepath.Join(dir, "requests.txt")
	if err := os.WriteFile(lua, []byte(script), 0o644); err != nil {
		return nil, err
	}
	if err := writeLines(requests, gets(targets)); err != nil {
		return nil, err
	}
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	cfg := server.Config{Index: &current, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: server.New(cfg), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	r, err := func() (result, error) {
		if err := check(base, nil, gets(targets)); err != nil {
			return nil, err
		}
		return drive(wrk, lua, []string{"LOADTEST_REQUESTS=" + requests}, base, o)
	}()
	srv.Shutdown(context.Background())
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return r, err
}

// median takes each figure's median over runs.
func median(runs []point) point {
	pick := func(f func(point) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return point{
		Features:       runs[0].Features,
		LoadSeconds:    pick(func(p point) float64 { return p.LoadSeconds }),
		LoadCPUSeconds: pick(func(p point) float64 { return p.LoadCPUSeconds }),
		RSS:            int64(pick(func(p point) float64 { return float64(p.RSS) })),
		Base:           int64(pick(func(p point) float64 { return float64(p.Base) })),
		NearbyMicros:   pick(func(p point) float64 { return p.NearbyMicros }),
		RPS:            pick(func(p point) float64 { return p.RPS }),
		P50us:          int64(pick(func(p point) float64 { return float64(p.P50us) })),
		P99us:          int64(pick(func(p point) float64 { return float64(p.P99us) })),
	}
}

func (p point) row(sep string) string {
	cells := []string{
		commas(p.Features),
		strconv.FormatFloat(p.LoadSeconds, 'f', 2, 64) + " s",
		strconv.FormatFloat(p.LoadCPUSeconds, 'f', 2, 64) + " s",
		strconv.FormatInt(p.RSS>>20, 10) + " MiB",
		strconv.FormatFloat(p.bytesPerFeature(), 'f', 0, 64) + " B",
		strconv.FormatFloat(p.NearbyMicros, 'f', 1, 64) + " µs",
		commas(int(math.Round(p.RPS))),
		us(p.P50us), us(p.P99us),
	}
	if sep == "" {
		return strings.Join(cells, "  ")
	}
	return sep + " " + strings.Join(cells, " "+sep+" ") + " " + sep
}

// curveTable is the Markdown table of the medians.
func curveTable(ps []point, o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| features | load | load (CPU) | VmRSS | RSS a feature | `Nearby` (CPU) | proximity req/s | p50 | p99 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range ps {
		b.WriteString(p.row("|") + "\n")
	}
	from := "GeoJSON"
	if o.snapshot {
		from = "a snapshot"
	}
	fmt.Fprintf(&b, "\nMedians of %d runs (one above 1,000,000 features), each in a process of its own, loading from %s; proximity over HTTP is `wrk -t%d -c%d -d%v`, 5 km, limit 20.\n",
		o.runs, from, o.threads, o.connections, o.duration)
	return b.String()
}

func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// replaceBetween replaces what lies between the markers start and end in file.
func replaceBetween(file, start, end, text string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	i := bytes.Index(raw, []byte(start))
	j := bytes.Index(raw, []byte(end))
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q ... %q markers", file, strings.TrimSpace(start), end)
	}
	out := slices.Concat(raw[:i+len(start)], []byte(text), raw[j:])
	return os.WriteFile(file, out, 0o644)
}
