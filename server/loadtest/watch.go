package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"time"
)

// watch asks /healthz every healthzEvery and samples the server's
// resident memory and runnable goroutines every rssEvery while a run
// floods the server.
type watch struct {
	done     chan struct{}
	finished chan struct{}
	// Written by the watching goroutine until finished closes.
	healthz  []time.Duration
	failures []string
	rssStart int64 // kB
	rssPeak  int64 // kB
	runnable []uint64
	// The scheduler's latencies (how long goroutines waited to run),
	// before and after the run.
	latencies [2]metrics.Sample
}

// Runtime metrics of the server's scheduler: the goroutines waiting for a
// processor, and how long they waited.
const (
	runnableMetric  = "/sched/goroutines/runnable:goroutines"
	latenciesMetric = "/sched/latencies:seconds"
)

const (
	healthzEvery = 50 * time.Millisecond
	rssEvery     = 100 * time.Millisecond
)

// watchServer starts watching the server at base. /healthz is asked by a
// process of its own (probe), as a load balancer asks it: a probe inside
// the server's process would wait on the server's own busy scheduler for
// its timer and its reads, which no outside prober does.
func watchServer(base string) (*watch, error) {
	w := &watch{done: make(chan struct{}), finished: make(chan struct{})}
	if mem, err := memory(); err == nil {
		w.rssStart, w.rssPeak = mem["VmRSS"], mem["VmRSS"]
	}
	w.latencies[0].Name, w.latencies[1].Name = latenciesMetric, latenciesMetric
	metrics.Read(w.latencies[:1])
	prober, out, err := startSelf("-probe", base+"/healthz")
	if err != nil {
		return nil, err
	}
	// The flood starts once the prober has its answer: a load balancer's
	// probe has its connection open before any flood comes.
	probed, first := make(chan struct{}), make(chan struct{})
	answered := sync.OnceFunc(func() { close(first) })
	go func() {
		defer close(probed)
		defer answered()
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			w.record(lines.Text())
			answered()
		}
	}()
	<-first
	go func() {
		defer close(w.finished)
		sample := time.NewTicker(rssEvery)
		defer sample.Stop()
		runnable := []metrics.Sample{{Name: runnableMetric}}
		for {
			select {
			case <-w.done:
				metrics.Read(w.latencies[1:])
				prober.Process.Signal(os.Interrupt) //nolint:errcheck // it may have ended
				<-probed
				prober.Wait() //nolint:errcheck // interrupted on purpose
				return
			case <-sample.C:
				if mem, err := memory(); err == nil {
					w.rssPeak = max(w.rssPeak, mem["VmRSS"])
				}
				if metrics.Read(runnable); runnable[0].Value.Kind() == metrics.KindUint64 {
					w.runnable = append(w.runnable, runnable[0].Value.Uint64())
				}
			}
		}
	}()
	return w, nil
}

// record notes one line of the prober's: a latency and a status.
func (w *watch) record(line string) {
	var us int64
	var status string
	if _, err := fmt.Sscan(line, &us, &status); err != nil {
		w.failures = append(w.failures, line)
		return
	}
	w.healthz = append(w.healthz, time.Duration(us)*time.Microsecond)
	if status != "200" {
		w.failures = append(w.failures, status)
	}
}

// probe asks url every healthzEvery on one kept-alive connection, as a
// load balancer's probe does, and prints each answer's latency in
// microseconds and its status (or the error), a line each, until
// interrupted.
func probe(url string) {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	tick := time.NewTicker(healthzEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		start := time.Now()
		res, err := client.Get(url)
		if err != nil {
			fmt.Printf("%d %q\n", time.Since(start).Microseconds(), err.Error())
			continue
		}
		io.Copy(io.Discard, res.Body) //nolint:errcheck
		res.Body.Close()
		fmt.Printf("%d %d\n", time.Since(start).Microseconds(), res.StatusCode)
	}
}

// stop ends the watch and waits for it.
func (w *watch) stop() {
	close(w.done)
	<-w.finished
}

// report prints what the watch saw beside the flood's result r, and
// returns the bounds of o that the run broke.
func (w *watch) report(name string, r result, o options) []string {
	var failed []string
	sorted := slices.Clone(w.healthz)
	slices.Sort(sorted)
	q := func(p float64) time.Duration {
		if len(sorted) == 0 {
			return 0
		}
		return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
	}
	seconds := float64(r["duration_us"]) / 1e6
	latency := func(o outcome) string {
		return fmt.Sprintf("p99 %s, slowest %s", us(r[outcomeNames[o]+"_p99_us"]), us(r[outcomeNames[o]+"_max_us"]))
	}
	count := func(o outcome) int64 { return r[outcomeNames[o]] }
	fmt.Printf("  flood: %d requests (%.0f/s) by %d clients\n", r.asked(), float64(r.asked())/seconds, o.floodConnections)
	fmt.Printf("    %d answered 2xx (%.1f/s; %s)\n", count(answered), float64(count(answered))/seconds, latency(answered))
	fmt.Printf("    %d refused with 503 and Retry-After (%s)\n", count(shed), latency(shed))
	fmt.Printf("    %d refused at connect or reset before an answer (%s)\n", count(refused), latency(refused))
	fmt.Printf("    %d other 5xx, %d other status, %d broken partway, %d late (no answer or refusal within %v)\n",
		count(serverError), count(otherStatus), count(failedRead), count(unanswered), floodPatience)
	fmt.Printf("  /healthz: %d probes, p50 %v, p99 %v, max %v (at most %v), %d failed\n", len(sorted),
		q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), q(1).Round(time.Microsecond), o.healthzMax, len(w.failures))
	slices.Sort(w.runnable)
	fmt.Printf("  the server's scheduler: %s goroutines runnable (median of %d samples), at most %s; waits to run p50 %v, p99 %v\n",
		quantile(w.runnable, 0.5), len(w.runnable), quantile(w.runnable, 1), w.schedulerWait(0.5), w.schedulerWait(0.99))
	fmt.Printf("  resident memory: %s before, %s at the peak (at most %s)\n", mib(w.rssStart), mib(w.rssPeak), mib(o.maxRSS>>10))
	if n := count(serverError) + count(otherStatus) + count(failedRead) + count(unanswered); n > 0 {
		failed = append(failed, fmt.Sprintf("%s: %d flooding requests were not answered 2xx or refused within %v", name, n, floodPatience))
	}
	if len(w.failures) > 0 {
		failed = append(failed, fmt.Sprintf("%s: /healthz failed %d times (first: %s)", name, len(w.failures), w.failures[0]))
	}
	if worst := q(1); worst > o.healthzMax {
		failed = append(failed, fmt.Sprintf("%s: /healthz took up to %v (at most %v)", name, worst.Round(time.Microsecond), o.healthzMax))
	}
	if w.rssPeak<<10 > o.maxRSS {
		failed = append(failed, fmt.Sprintf("%s: resident memory reached %s (at most %s)", name, mib(w.rssPeak), mib(o.maxRSS>>10)))
	}
	if count(answered) == 0 {
		failed = append(failed, name+": no flooding request was answered")
	}
	return failed
}

// quantile is the p-quantile of sorted, "-" for none.
func quantile(sorted []uint64, p float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	return strconv.FormatUint(sorted[min(len(sorted)-1, int(p*float64(len(sorted))))], 10)
}

// schedulerWait is the p-quantile of how long the server's goroutines
// waited to run during the watch: the upper edge of its bucket.
func (w *watch) schedulerWait(p float64) time.Duration {
	if w.latencies[1].Value.Kind() != metrics.KindFloat64Histogram || w.latencies[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	before, after := w.latencies[0].Value.Float64Histogram(), w.latencies[1].Value.Float64Histogram()
	var total uint64
	for i := range after.Counts {
		total += after.Counts[i] - before.Counts[i]
	}
	var seen uint64
	for i := range after.Counts {
		if seen += after.Counts[i] - before.Counts[i]; total > 0 && float64(seen) >= p*float64(total) {
			return time.Duration(min(after.Buckets[i+1], 3600) * float64(time.Second)).Round(time.Microsecond)
		}
	}
	return 0
}

// startSelf starts this program again with args, for a part of the test
// that must run in a process of its own, and gives its standard output.
func startSelf(args ...string) (*exec.Cmd, io.ReadCloser, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return cmd, out, nil
}
