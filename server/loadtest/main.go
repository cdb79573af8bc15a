// Command loadtest measures the server as clients see it: it generates the
// 1M-feature set, serves it on a loopback port and drives it with wrk over
// fixed lists of random queries (items in a 0.1° box, limit 100; proximity
// within 5 km, limit 20, over all layers) and /healthz, which does next to
// nothing, then prints requests per second, latency percentiles and errors
// for each, and each scenario's rate over /healthz's in the same run: the
// share of the machine's HTTP capacity that a request's own work leaves,
// which other work on the machine moves less than the rates. With -runs
// above 1 the scenarios take turns, and the ratio is of the medians. It
// fails on any error, and when bbox items or proximity fall under
// -min-ratio of /healthz's rate. Run it with `make loadtest`.
//
// With -mixed it drives one mix instead, as a map and its analysts do at
// once: items, proximity, vector tiles at zooms 10 to 14 and strikes
// recorded with POST /strikes into a SQLite strike log, 64 connections for
// 60 s, three times in a row against the same server. It fails on any
// answer but 2xx, and when the server's resident memory after the last run
// has grown more than -rss-growth over the first (the server runs in this
// process, so /proc/self/status is the server's). Run it with
// `make loadtest-mixed`.
//
// With -flood it floods the server, as an attacker or a runaway script
// would: -flood-connections (2,000) clients in a process of their own ask
// for the largest proximity answer there is (200 km, limit 10,000), each
// asking again the moment it is answered or refused, for 30 s, while a
// process of its own asks /healthz every 50 ms on a kept-alive
// connection and the server's resident memory is sampled every 100 ms.
// With -mixed too the flood runs during one 60 s run of the mix. It
// fails on any flooding request not answered 2xx or refused (503 with
// Retry-After, or its connection refused or reset) within 2 s, on any
// error in the mix's answers but 503 with Retry-After, on a /healthz
// slower than -healthz-max or failing, and when resident memory passes
// -max-rss. Run it with `make loadtest-flood` (with the mix).
//
// With -sse N the plain scenarios run with and without N idle clients of
// the live feed (GET /strikes/events on a SQLite strike log) held by a
// process of its own, interleaved, three runs of each by default: it
// prints each scenario's median throughput with them over that without,
// and fails when it fell by more than -sse-max-loss, beside the server's
// CPU time per request, which other work on the machine moves less. Before the runs it
// prints what an idle client costs the quiet server in resident memory,
// Go heap and goroutine stacks. Run it with `make loadtest-sse`.
//
// -cpuprofile and -memprofile write the server's CPU and allocation
// profiles of the runs, for go tool pprof; -trace its execution trace,
// for go tool trace, where each /healthz answer's start and end are
// logged under the category "healthz".
package main

import (
	"bufio"
	"context"
	"crypto/rand"
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
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/procs"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
	"github.com/protectmap/protectmap/server/store"
)

// maxDuration bounds each run, whatever the flags say.
const maxDuration = 60 * time.Second

// script makes wrk walk the list of requests, each thread from its own
// offset, count the answers that are not 2xx, and report its figures in
// one parseable line. A request line is "GET target" or "POST target body".
// The plain runs (LOADTEST_PLAIN=1) count only wrk's own errors, sockets
// and status codes over 399: handing each answer's headers and body to
// Lua costs wrk CPU for every byte, on the cores the server runs on, which
// would weigh on large answers against /healthz's small one.
const script = `
local token = os.getenv("LOADTEST_TOKEN") or ""
local post_headers = {["Content-Type"] = "application/geo+json", ["Authorization"] = "Bearer " .. token}
local get_headers = {}
if os.getenv("LOADTEST_GZIP") == "1" then get_headers["Accept-Encoding"] = "gzip" end
local reqs = {}
-- Requests are formatted once, in init: wrk knows the Host header only then.
function init(args)
  for line in io.lines(os.getenv("LOADTEST_REQUESTS")) do
    local method, target, body = line:match("^(%u+) (%S+) ?(.*)$")
    if method == "POST" then
      reqs[#reqs + 1] = wrk.format("POST", target, post_headers, body)
    else
      reqs[#reqs + 1] = wrk.format("GET", target, get_headers)
    end
  end
  -- With no response function after init, wrk leaves answers unparsed.
  if os.getenv("LOADTEST_PLAIN") == "1" then response = nil end
end
local threads = {}
function setup(thread)
  thread:set("first", #threads * 7919)
  threads[#threads + 1] = thread
end
non2xx, created, shed, failed = 0, 0, 0, 0
local i
function request()
  i = ((i or first) % #reqs) + 1
  return reqs[i]
end
function response(status, headers, body)
  if status == 201 then created = created + 1 end
  if status == 503 and headers["Retry-After"] then shed = shed + 1
  elseif status >= 500 then failed = failed + 1 end
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad, made, refused, broken = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    made = made + t:get("created")
    refused = refused + t:get("shed")
    broken = broken + t:get("failed")
  end
  local e = summary.errors
  if os.getenv("LOADTEST_PLAIN") == "1" then bad = e.status end
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d socket_errors=%d timeouts=%d status_errors=%d created=%d shed=%d server_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.timeout, bad, made, refused, broken))
end
`

// options are the command's flags; zero durations and counts take the
// mode's defaults.
type options struct {
	features, queries, connections, threads, runs int
	// floodConnections are the flooding clients (-flood).
	floodConnections int
	duration         time.Duration
	// warmUp is how long each plain scenario is driven before the runs.
	warmUp       time.Duration
	mixed, flood bool
	// sse idle live feed clients are held during every other run; the
	// throughput may fall by at most sseMaxLoss, a fraction.
	sse        int
	sseMaxLoss float64
	// minRatio is the least rate of a held scenario over /healthz's.
	minRatio                      float64
	rssGrowth                     float64
	cpuProfile, memProfile, trace string
	// The flood's bounds: resident memory in bytes, and /healthz latency.
	maxRSS     int64
	healthzMax time.Duration
	// The cost curve: the sizes measured, where its table and plot go,
	// and the file a child process measures.
	curve       bool
	sizes       []int
	readme, svg string
	// snapshot has -curve load snapshots rather than GeoJSON.
	snapshot bool
	child    string
	// limits and procs are the server's, as the binary's flags of the
	// same names set them.
	limits server.Limits
	procs  int
}

func main() {
	var o options
	flag.IntVar(&o.features, "features", benchset.Features, "generated features to serve")
	flag.IntVar(&o.queries, "queries", 10_000, "distinct random requests per scenario")
	flag.DurationVar(&o.duration, "duration", 0, "length of each run, at most 60s (default 20s, 60s with -mixed, 30s with -flood)")
	flag.IntVar(&o.connections, "connections", 0, "wrk's concurrent connections (default 16, 64 with -mixed)")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads")
	flag.DurationVar(&o.warmUp, "warmup", 5*time.Second, "how long each plain scenario is driven, unmeasured, before the timed runs (0: not at all)")
	flag.BoolVar(&o.mixed, "mixed", false, "drive one mix of items, proximity, tiles and strike writes instead")
	flag.BoolVar(&o.flood, "flood", false, "flood the server with the largest proximity answers (-flood-connections, 30 s); with -mixed, during the mix (one 60 s run)")
	flag.IntVar(&o.floodConnections, "flood-connections", 2000, "with -flood: the flooding clients, each on a connection of its own")
	floodTargets := flag.String("flood-client", "", "flood the server at the URL argument with the GET request lines of this file for -duration, and print the figures: the flood's clients")
	flag.Int64Var(&o.maxRSS, "max-rss", 1536<<20, "with -flood: the most resident memory the server may take, in bytes")
	flag.DurationVar(&o.healthzMax, "healthz-max", 100*time.Millisecond, "with -flood: the slowest /healthz may answer")
	flag.IntVar(&o.runs, "runs", 0, "runs of each scenario against the same server, taking turns; the ratios held are of the medians (default 3, 1 with -flood)")
	flag.Float64Var(&o.minRatio, "min-ratio", 0.45, "the least rate of bbox items and of proximity as a fraction of /healthz's in the same run (0: not held)")
	flag.Float64Var(&o.rssGrowth, "rss-growth", 0.10, "largest growth of resident memory from the end of the first round of runs (every scenario once) to the end of the last, as a fraction")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the server during the runs to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a profile of the memory the server allocated to this file")
	flag.StringVar(&o.trace, "trace", "", "write an execution trace of the server during the runs to this file, for go tool trace")
	flag.IntVar(&o.sse, "sse", 0, "run the plain scenarios with and without this many idle live feed clients, interleaved (default 3 runs each)")
	flag.Float64Var(&o.sseMaxLoss, "sse-max-loss", 0.10, "with -sse: the largest fall in median throughput the idle feed clients may cause, as a fraction")
	holdURL := flag.String("sse-hold", "", "hold -sse streams of this live feed URL open, reading them, until interrupted: the idle clients' process")
	probeURL := flag.String("probe", "", "ask this URL every 50 ms and print each latency (µs) and status until interrupted: the flood's outside prober")
	flag.BoolVar(&o.curve, "curve", false, "measure load time, resident memory, Nearby and proximity over HTTP at each of -sizes instead")
	flag.Func("sizes", "with -curve: comma-separated feature counts (default 10000,100000,1000000)", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1000 {
				return fmt.Errorf("%q is not a feature count of at least 1000", s)
			}
			o.sizes = append(o.sizes, n)
		}
		return nil
	})
	flag.StringVar(&o.readme, "readme", "", "with -curve: write the table into this file, between its cost curve markers")
	flag.StringVar(&o.svg, "svg", "", "with -curve: write the plot to this SVG file")
	flag.BoolVar(&o.snapshot, "snapshot", false, "with -curve: write each set as a snapshot (geo/snapshot) and measure loading that instead of GeoJSON")
	flag.StringVar(&o.child, "curve-child", "", "measure this GeoJSON or snapshot (.snapshot) file in this process and print the figures as JSON (run by -curve)")
	// The limits that follow the CPUs take them before -procs raises them.
	d := server.DefaultLimits()
	flag.IntVar(&o.limits.MaxHeavy, "max-heavy", d.MaxHeavy, "the server's --max-heavy")
	flag.IntVar(&o.limits.MaxHeavyWaiting, "max-heavy-waiting", d.MaxHeavyWaiting, "the server's --max-heavy-waiting")
	flag.IntVar(&o.limits.MaxNewConns, "max-new-conns", d.MaxNewConns, "the server's --max-new-conns")
	flag.DurationVar(&o.limits.NewConnHold, "new-conn-hold", d.NewConnHold, "the server's --new-conn-hold")
	flag.DurationVar(&o.limits.NewConnWait, "new-conn-wait", d.NewConnWait, "the server's --new-conn-wait")
	flag.IntVar(&o.limits.MaxNewConnsWaiting, "max-new-conns-waiting", d.MaxNewConnsWaiting, "the server's --max-new-conns-waiting")
	flag.IntVar(&o.limits.CPUTokens, "cpu-tokens", d.CPUTokens, "the server's --cpu-tokens")
	flag.DurationVar(&o.limits.CPUTokenWait, "cpu-token-wait", d.CPUTokenWait, "the server's --cpu-token-wait")
	flag.IntVar(&o.procs, "procs", procs.Default(), "the server's --procs: processors Go runs goroutines on (GOMAXPROCS)")
	flag.Parse()
	if *floodTargets != "" {
		if err := floodClients(flag.Arg(0), *floodTargets, o.floodConnections, o.duration); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: -flood-client:", err)
			os.Exit(1)
		}
		return
	}
	if *probeURL != "" {
		probe(*probeURL)
		return
	}
	if *holdURL != "" {
		if err := holdFeed(*holdURL, o.sse); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: -sse-hold:", err)
			os.Exit(1)
		}
		return
	}
	o.defaults()
	runtime.GOMAXPROCS(o.procs)
	if err := o.start(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// start runs the mode o asks for.
func (o options) start() error {
	switch {
	case o.child != "":
		return measure(o.child, o)
	case o.curve:
		return curve(o)
	}
	return run(o)
}

func (o *options) defaults() {
	or := func(v *int, plain, mixed, flood int) {
		if *v <= 0 {
			switch {
			case o.mixed:
				*v = mixed
			case o.flood:
				*v = flood
			default:
				*v = plain
			}
		}
	}
	or(&o.connections, 16, 64, 0) // the flood alone runs no wrk
	if o.curve && o.duration <= 0 {
		o.duration = 10 * time.Second
	}
	if o.mixed && o.flood && o.runs <= 0 {
		o.runs = 1
	}
	or(&o.runs, 3, 3, 1)
	if o.curve && len(o.sizes) == 0 {
		o.sizes = []int{10_000, 100_000, 1_000_000}
	}
	if o.duration <= 0 {
		secs := 0
		or(&secs, 20, 60, 30)
		o.duration = time.Duration(secs) * time.Second
	}
	o.duration = min(o.duration, maxDuration)
}

// scenario is a named list of request lines (see script).
type scenario struct {
	name     string
	requests []string
}

// healthz is the plain runs' yardstick: an answer with next to no work of
// its own, so its rate is what HTTP over loopback on this machine allows.
const healthz = "/healthz"

func run(o options) error {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not installed (apt-get install -y wrk)")
	}
	start := time.Now()
	ix, sites, err := benchset.Index(o.features, benchset.Seed)
	if err != nil {
		return err
	}
	fmt.Printf("generated and indexed %d features in %v\n", o.features, time.Since(start).Round(time.Millisecond))

	dir, err := os.MkdirTemp("", "protectmap-loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lua := filepath.Join(dir, "requests.lua")
	if err := os.WriteFile(lua, []byte(script), 0o644); err != nil {
		return err
	}

	// Requests are logged as in production, to nowhere.
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	cfg := server.Config{Index: &current, Limits: o.limits, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var env []string
	var scenarios []scenario
	// ratioHeld are the scenarios whose rate must be at least -min-ratio
	// of /healthz's, the first scenario, in plain runs.
	var ratioHeld []string
	if o.mixed || o.sse > 0 {
		st, err := store.Open(context.Background(), filepath.Join(dir, "strikes.db"))
		if err != nil {
			return err
		}
		defer st.Close()
		cfg.Store = st
	}
	if o.mixed {
		token := rand.Text()
		cfg.Tokens = []string{token}
		// Map clients and GIS tools take gzip; the token is secret, so it
		// reaches wrk through its environment, not its command line.
		env = append(env, "LOADTEST_TOKEN="+token, "LOADTEST_GZIP=1")
		scenarios = []scenario{{"mixed", mix(sites, o.queries)}}
		if o.flood {
			scenarios[0].name = "mixed, flooded"
		}
	} else if o.flood {
		scenarios = []scenario{{name: "flood"}} // the flooding clients alone
	} else {
		items := fmt.Sprintf("items bbox %.1f° limit %d", benchset.BoxDegrees, benchset.ItemsLimit)
		near := fmt.Sprintf("proximity %d m limit %d, all layers", benchset.RadiusMeters, benchset.NearbyLimit)
		scenarios = []scenario{
			{healthz, gets([]string{healthz})},
			{items, gets(benchset.ItemsTargets(sites, o.queries, benchset.Seed+1))},
			{fmt.Sprintf("items filter (equality, S_INTERSECTS %.1f°) limit %d", benchset.BoxDegrees, benchset.ItemsLimit), gets(benchset.FilterTargets(sites, o.queries, benchset.Seed+1))},
			{near, gets(benchset.ProximityTargets(sites, o.queries, benchset.Seed+2))},
		}
		ratioHeld = []string{items, near}
		env = append(env, "LOADTEST_PLAIN=1")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// Served as the binary serves, with its connection limits.
	srv := server.HTTPServer(marked(server.New(cfg)), cfg.Limits)
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	base := "http://" + ln.Addr().String()

	stop, err := profile(o)
	if err != nil {
		return err
	}
	defer func() {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: profile:", err)
		}
	}()

	if o.connections > 0 {
		fmt.Printf("wrk -t%d -c%d -d%v, %d random requests each, server and wrk on this machine (%s)\n", o.threads, o.connections, o.duration, o.queries, base)
	}
	floodTargets := filepath.Join(dir, "flood.txt")
	if o.flood {
		fmt.Printf("flood: %d clients for %v asking proximity %d m limit %d, each answer or refusal within %v, in a process of their own on this machine\n",
			o.floodConnections, o.duration, geo.MaxRadiusMeters, benchset.LargestLimit, floodPatience)
		if err := writeLines(floodTargets, gets(benchset.LargestProximityTargets(sites, o.queries, benchset.Seed+5))); err != nil {
			return err
		}
	}
	requests := func(k int) string { return filepath.Join(dir, fmt.Sprintf("requests-%d.txt", k)) }
	// driveScenario drives scenario k with wrk for o.duration.
	driveScenario := func(k int, o options) (result, error) {
		return drive(wrk, lua, append(slices.Clip(env), "LOADTEST_REQUESTS="+requests(k)), base, o)
	}
	for k, sc := range scenarios {
		if err := writeLines(requests(k), sc.requests); err != nil {
			return err
		}
		if err := check(base, cfg.Tokens, sc.requests); err != nil {
			return err
		}
	}
	if err := warmUp(scenarios, driveScenario, o); err != nil {
		return err
	}
	fmt.Println()
	if o.sse > 0 {
		if err := idleFeedCost(base, o.sse); err != nil {
			return err
		}
	}
	// server-µs is the server's CPU time per request (the whole process:
	// its handlers, net/http and the kernel's work on its sockets), which
	// the machine's other work moves less than the rates.
	if o.connections > 0 {
		fmt.Printf("%-28s %10s %9s %9s %9s %10s %8s %8s %9s %9s\n", "scenario", "req/s", "p50", "p90", "p99", "server-µs", "errors", "strikes", "VmRSS", "VmHWM")
	}
	var failed []string
	// The runs take the scenarios in turns, so each scenario's rate and
	// /healthz's come from the same minutes of a shared machine.
	figs := make([]figures, len(scenarios))
	var rss []int64 // after each run, of any scenario
	for i := range o.runs {
		for k, sc := range scenarios {
			f := &figs[k]
			for _, feeds := range feedPasses(o.sse, i) {
				var w *watch
				var fl *flooding
				if o.flood {
					if w, err = watchServer(base); err != nil {
						return err
					}
					if fl, err = startFlood(base, floodTargets, o.floodConnections, o.duration); err != nil {
						return err
					}
				}
				var held *feedHolder
				if feeds > 0 {
					if held, err = holdIdleFeeds(base, feeds); err != nil {
						return err
					}
				}
				cpu := processCPU()
				r := result{}
				if sc.requests != nil {
					r, err = driveScenario(k, o)
				}
				var flood result
				if fl != nil {
					var ferr error
					if flood, ferr = fl.wait(); err == nil {
						err = ferr
					}
				}
				perRequest := float64((processCPU() - cpu).Microseconds()) / float64(max(r["requests"]+flood.asked(), 1))
				if w != nil {
					w.stop()
				}
				if held != nil {
					// A client lost during the run fails it: the run was
					// not with all of them.
					if herr := held.release(); err == nil && herr != nil {
						err = herr
					}
				}
				if err != nil {
					return fmt.Errorf("%s: %w", sc.name, err)
				}
				mem, err := memory()
				if err != nil {
					return err
				}
				rss = append(rss, mem["VmRSS"])
				name := sc.name
				if o.runs > 1 {
					name = fmt.Sprintf("%s, run %d", name, i+1)
				}
				if feeds > 0 {
					name += fmt.Sprintf(", %d feed clients", feeds)
					f.with, f.withCPU = append(f.with, r.rps()), append(f.withCPU, perRequest)
				} else {
					if o.sse > 0 {
						name += ", no feed clients"
					}
					f.without, f.withoutCPU = append(f.without, r.rps()), append(f.withoutCPU, perRequest)
				}
				// Under a flood the mix may be refused too, as documented.
				errs := r["socket_errors"] + r["status_errors"]
				if o.flood {
					errs -= r["shed"]
				}
				if sc.requests != nil {
					fmt.Printf("%-28s %10.0f %9s %9s %9s %10.1f %8d %8d %9s %9s\n", name, r.rps(), us(r["p50_us"]), us(r["p90_us"]), us(r["p99_us"]),
						perRequest, errs, r["created"], mib(mem["VmRSS"]), mib(mem["VmHWM"]))
					if o.flood {
						fmt.Printf("  the mix: %d answers, %d of them 503 with Retry-After, %d timed out (no answer within %v)\n",
							r["requests"], r["shed"], r["timeouts"], wrkTimeout)
					}
				}
				if errs > 0 {
					failed = append(failed, fmt.Sprintf("%s: %d errors (sockets %d, answers not 2xx %d, of which 503 with Retry-After %d)", name, errs, r["socket_errors"], r["status_errors"], r["shed"]))
				}
				if w != nil {
					failed = append(failed, w.report(name, flood, o)...)
				}
			}
		}
	}
	for k, sc := range scenarios {
		f := &figs[k]
		if o.sse > 0 {
			fmt.Printf("%-28s median server CPU per request %.0f µs without, %.0f µs with: %.3f×\n", sc.name,
				medianOf(f.withoutCPU), medianOf(f.withCPU), medianOf(f.withCPU)/medianOf(f.withoutCPU))
			if err := feedLoss(sc.name, f.without, f.with, o.sse, o.sseMaxLoss); err != nil {
				failed = append(failed, err.Error())
			}
		}
	}
	// Growth is measured from the end of the first round, once every
	// scenario has filled the caches it fills (the kept feature bodies, up
	// to --feature-cache-mib), to the end of the last. With -sse the runs
	// alternate with and without the clients' memory, so they are not
	// compared.
	if growth := float64(rss[len(rss)-1])/float64(rss[len(scenarios)-1]) - 1; o.sse == 0 && o.runs > 1 && growth > o.rssGrowth {
		failed = append(failed, fmt.Sprintf("resident memory grew %.1f%% from the first round to the last (at most %.0f%%)", 100*growth, 100*o.rssGrowth))
	}
	if ratioHeld != nil {
		failed = append(failed, againstHealthz(scenarios, figs, ratioHeld, o.minRatio)...)
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// figures are a scenario's results over its runs: throughput without and
// with idle feed clients beside the server's CPU per request, which other
// work on the machine changes far less.
type figures struct {
	without, with, withoutCPU, withCPU []float64
}

// againstHealthz prints each scenario's median rate over that of /healthz,
// the first scenario, and returns the failures of the held scenarios under
// minRatio.
func againstHealthz(scenarios []scenario, figs []figures, held []string, minRatio float64) []string {
	base := medianOf(figs[0].without)
	width := 0
	for _, sc := range scenarios {
		width = max(width, len(sc.name))
	}
	fmt.Printf("\n%-*s %10s %9s\n", width, "median rate, and its ratio to "+healthz+"'s", "req/s", "ratio")
	var failed []string
	for k, sc := range scenarios {
		rate := medianOf(figs[k].without)
		ratio := rate / base
		fmt.Printf("%-*s %10.0f %9.3f\n", width, sc.name, rate, ratio)
		if slices.Contains(held, sc.name) && ratio < minRatio {
			failed = append(failed, fmt.Sprintf("%s: %.0f req/s is %.3f of %s's %.0f (at least %.2f)", sc.name, rate, ratio, healthz, base, minRatio))
		}
	}
	return failed
}

// profile starts the CPU profile o asks for; stop ends it and writes the
// allocation profile, where the runs' allocations are those under
// net/http and the data set's those under benchset.Index.
func profile(o options) (stop func() error, err error) {
	var cpu, tr *os.File
	if o.trace != "" {
		if tr, err = os.Create(o.trace); err != nil {
			return nil, err
		}
		if err := trace.Start(tr); err != nil {
			tr.Close()
			return nil, err
		}
	}
	if o.cpuProfile != "" {
		if cpu, err = os.Create(o.cpuProfile); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			if tr != nil {
				trace.Stop()
				tr.Close()
			}
			return nil, err
		}
	}
	return func() error {
		if tr != nil {
			trace.Stop()
			if err := tr.Close(); err != nil {
				return err
			}
		}
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return err
			}
		}
		if o.memProfile == "" {
			return nil
		}
		f, err := os.Create(o.memProfile)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

// marked logs each /healthz request's start and end into the execution
// trace (-trace), so its goroutine and its answers can be found there.
func marked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		trace.Log(r.Context(), "healthz", "start")
		next.ServeHTTP(w, r)
		trace.Log(r.Context(), "healthz", "end")
	})
}

// gets are request lines for GET targets.
func gets(targets []string) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = "GET " + t
	}
	return out
}

// mix interleaves n requests: of every 20 (checked), 8 pages of items, 6 proximity
// queries, 4 vector tiles and 2 strikes recorded (one each a POST).
func mix(sites []synth.Site, n int) []string {
	items := benchset.ItemsTargets(sites, n, benchset.Seed+1)
	near := benchset.ProximityTargets(sites, n, benchset.Seed+2)
	tiles := benchset.TileTargets(sites, n, benchset.Seed+3)
	strikes := benchset.StrikeFeatures(sites, n, benchset.Seed+4)
	out := make([]string, n)
	for i := range out {
		switch k := i % 20; {
		case k < 8:
			out[i] = "GET " + items[i]
		case k < 14:
			out[i] = "GET " + near[i]
		case k < 18:
			out[i] = "GET " + tiles[i]
		default:
			out[i] = "POST /strikes " + strikes[i]
		}
	}
	return out
}

// checked is how many requests check sends: a whole cycle of the mix.
const checked = 20

// warmUp drives each plain scenario for o.warmUp, unmeasured, before the
// timed runs: the first seconds after a start are the server filling its
// kept feature bodies and growing its heap to its working size (page
// faults on fresh memory), which a page of items pays for and /healthz
// does not. The runs then measure a server that has run a while, as the
// in-process benchmarks do.
func warmUp(scenarios []scenario, driveScenario func(k int, o options) (result, error), o options) error {
	if o.mixed || o.flood || o.warmUp <= 0 {
		return nil
	}
	o.duration = o.warmUp
	start := time.Now()
	for k, sc := range scenarios {
		if _, err := driveScenario(k, o); err != nil {
			return fmt.Errorf("warming up %s: %w", sc.name, err)
		}
	}
	fmt.Printf("warmed up: each scenario driven for %v, unmeasured (%v)\n", o.warmUp, time.Since(start).Round(time.Second))
	return nil
}

// check makes sure the first requests succeed before timing them.
func check(base string, tokens []string, requests []string) error {
	for _, line := range requests[:min(checked, len(requests))] {
		method, rest, _ := strings.Cut(line, " ")
		target, body, _ := strings.Cut(rest, " ")
		req, err := http.NewRequest(method, base+target, strings.NewReader(body))
		if err != nil {
			return err
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/geo+json")
			req.Header.Set("Authorization", "Bearer "+tokens[0])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
		res.Body.Close()
		if res.StatusCode < 200 || res.StatusCode > 299 {
			return fmt.Errorf("%s %s: %s\n%s", method, target, res.Status, msg)
		}
	}
	return nil
}

// memory reads this process's memory figures from /proc/self/status, in
// kB: VmRSS (resident now) and VmHWM (the peak resident).
func memory() (map[string]int64, error) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if f := strings.Fields(value); ok && (name == "VmRSS" || name == "VmHWM") && len(f) == 2 {
			if out[name], err = strconv.ParseInt(f[0], 10, 64); err != nil {
				return nil, fmt.Errorf("/proc/self/status: %s: %v", name, err)
			}
		}
	}
	if len(out) != 2 {
		return nil, errors.New("/proc/self/status has no VmRSS and VmHWM")
	}
	return out, nil
}

func mib(kB int64) string { return strconv.FormatInt(kB>>10, 10) + "MiB" }

type result map[string]int64

func (r result) rps() float64 {
	return float64(r["requests"]) / (float64(r["duration_us"]) / 1e6)
}

var resultLine = regexp.MustCompile(`RESULT (.*)`)

// wrkTimeout is how long wrk waits for an answer before it counts a
// timeout.
const wrkTimeout = 5 * time.Second

// drive runs wrk once, bounded in time even if it hangs.
func drive(wrk, lua string, env []string, base string, o options) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrk, "-t"+strconv.Itoa(o.threads), "-c"+strconv.Itoa(o.connections),
		"-d"+strconv.Itoa(int(o.duration.Seconds()))+"s", "--timeout", wrkTimeout.String(), "-s", lua, base)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseResult(resultLine, out)
}

// parseResult reads the figures "name=integer ..." of the line of out
// that line matches.
func parseResult(line *regexp.Regexp, out []byte) (result, error) {
	m := line.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no result printed:\n%s", out)
	}
	r := result{}
	for _, kv := range strings.Fields(string(m[1])) {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("result %q: %v", kv, err)
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
