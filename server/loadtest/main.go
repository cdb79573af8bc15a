// Command loadtest measures the server as clients see it: it generates the
// 1M-feature set, serves it on a loopback port and drives it with wrk over
// fixed lists of random queries (items in a 0.1° box, limit 100; proximity
// within 5 km, limit 20), then prints requests per second, latency
// percentiles and errors for each. Run it with `make loadtest`.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
)

// maxDuration bounds each scenario, whatever the flags say.
const maxDuration = 30 * time.Second

// script makes wrk walk the list of request paths, each thread from its
// own offset, and report its figures in one parseable line.
const script = `
local paths = {}
for line in io.lines(os.getenv("LOADTEST_PATHS")) do paths[#paths + 1] = line end
local threads = 0
function setup(thread)
  thread:set("first", threads * 7919)
  threads = threads + 1
end
local i
function request()
  i = ((i or first) % #paths) + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d socket_errors=%d status_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
`

func main() {
	features := flag.Int("features", benchset.Features, "generated features to serve")
	queries := flag.Int("queries", 10_000, "distinct random queries per scenario")
	duration := flag.Duration("duration", 20*time.Second, "length of each scenario (at most 30s)")
	connections := flag.Int("connections", 16, "concurrent connections")
	threads := flag.Int("threads", 2, "wrk threads")
	flag.Parse()
	if err := run(*features, *queries, min(*duration, maxDuration), *connections, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(features, queries int, duration time.Duration, connections, threads int) error {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not installed (apt-get install -y wrk)")
	}
	start := time.Now()
	ix, sites, err := benchset.Index(features, benchset.Seed)
	if err != nil {
		return err
	}
	fmt.Printf("generated and indexed %d features in %v\n", features, time.Since(start).Round(time.Millisecond))

	// Requests are logged as in production, to nowhere.
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	h := server.New(server.Config{Index: &current, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	base := "http://" + ln.Addr().String()

	dir, err := os.MkdirTemp("", "protectmap-loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lua := filepath.Join(dir, "paths.lua")
	if err := os.WriteFile(lua, []byte(script), 0o644); err != nil {
		return err
	}

	scenarios := []struct {
		name    string
		targets []string
	}{
		{fmt.Sprintf("items bbox %.1f° limit %d", benchset.BoxDegrees, benchset.ItemsLimit), benchset.ItemsTargets(sites, queries, benchset.Seed+1)},
		{fmt.Sprintf("proximity %d m limit %d", benchset.RadiusMeters, benchset.NearbyLimit), benchset.ProximityTargets(sites, queries, benchset.Seed+2)},
	}
	fmt.Printf("wrk -t%d -c%d -d%v, %d random queries each, server and wrk on this machine (%s)\n\n", threads, connections, duration, queries, base)
	fmt.Printf("%-28s %10s %9s %9s %9s %8s\n", "scenario", "req/s", "p50", "p90", "p99", "errors")
	for _, sc := range scenarios {
		paths := filepath.Join(dir, "paths.txt")
		if err := writeLines(paths, sc.targets); err != nil {
			return err
		}
		if err := check(base, sc.targets[0]); err != nil {
			return err
		}
		r, err := drive(wrk, lua, paths, base, duration, connections, threads)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		fmt.Printf("%-28s %10.0f %9s %9s %9s %8d\n", sc.name, r.rps(), us(r["p50_us"]), us(r["p90_us"]), us(r["p99_us"]), r["socket_errors"]+r["status_errors"])
	}
	return nil
}

// check makes sure a scenario's queries succeed before timing them.
func check(base, target string) error {
	res, err := http.Get(base + target)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", target, res.Status)
	}
	return nil
}

type result map[string]int64

func (r result) rps() float64 {
	return float64(r["requests"]) / (float64(r["duration_us"]) / 1e6)
}

var resultLine = regexp.MustCompile(`RESULT (.*)`)

// drive runs wrk once, bounded in time even if it hangs.
func drive(wrk, lua, paths, base string, d time.Duration, connections, threads int) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrk, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(connections),
		"-d"+strconv.Itoa(int(d.Seconds()))+"s", "--timeout", "5s", "-s", lua, base)
	cmd.Env = append(os.Environ(), "LOADTEST_PATHS="+paths)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	m := resultLine.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("wrk printed no result:\n%s", out)
	}
	r := result{}
	for _, kv := range strings.Fields(string(m[1])) {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("wrk result %q: %v", kv, err)
		}
		r[k] = n
	}
	return r, nil
}

func us(v int64) string {
	if v >= 1000 {
		return strconv.FormatFloat(float64(v)/1000, 'f', 2, 64) + "ms"
	}
	return strconv.FormatInt(v, 10) + "µs"
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
