package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"time"
)

// watch asks /healthz every healthzEvery and samples the server's
// resident memory every rssEvery while a run floods the server.
type watch struct {
	done     chan struct{}
	finished chan struct{}
	// Written by the watching goroutine until finished closes.
	healthz  []time.Duration
	failures []string
	rssStart int64 // kB
	rssPeak  int64 // kB
}

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
	prober, out, err := startSelf("-probe", base+"/healthz")
	if err != nil {
		return nil, err
	}
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			var us int64
			var status string
			if _, err := fmt.Sscan(lines.Text(), &us, &status); err != nil {
				w.failures = append(w.failures, lines.Text())
				continue
			}
			w.healthz = append(w.healthz, time.Duration(us)*time.Microsecond)
			if status != "200" {
				w.failures = append(w.failures, status)
			}
		}
	}()
	go func() {
		defer close(w.finished)
		sample := time.NewTicker(rssEvery)
		defer sample.Stop()
		for {
			select {
			case <-w.done:
				prober.Process.Signal(os.Interrupt) //nolint:errcheck // it may have ended
				<-probed
				prober.Wait() //nolint:errcheck // interrupted on purpose
				return
			case <-sample.C:
				if mem, err := memory(); err == nil {
					w.rssPeak = max(w.rssPeak, mem["VmRSS"])
				}
			}
		}
	}()
	return w, nil
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

// report prints what the watch saw beside the run's result r, and returns
// the bounds of o that the run broke.
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
	answered := r["requests"] - r["status_errors"]
	fmt.Printf("  answers: %d 2xx (%.1f/s), %d 503 with Retry-After, %d other 5xx, %d other\n", answered,
		float64(answered)/(float64(r["duration_us"])/1e6), r["shed"], r["server_errors"], r["status_errors"]-r["shed"]-r["server_errors"])
	fmt.Printf("  clients: %d timed out (no answer within %v), %d other socket errors\n", r["timeouts"], o.clientTimeout(), r["socket_errors"]-r["timeouts"])
	fmt.Printf("  /healthz: %d probes, p50 %v, p99 %v, max %v (at most %v), %d failed\n", len(sorted),
		q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), q(1).Round(time.Microsecond), o.healthzMax, len(w.failures))
	fmt.Printf("  resident memory: %s before, %s at the peak (at most %s)\n", mib(w.rssStart), mib(w.rssPeak), mib(o.maxRSS>>10))
	if len(w.failures) > 0 {
		failed = append(failed, fmt.Sprintf("%s: /healthz failed %d times (first: %s)", name, len(w.failures), w.failures[0]))
	}
	if worst := q(1); worst > o.healthzMax {
		failed = append(failed, fmt.Sprintf("%s: /healthz took up to %v (at most %v)", name, worst.Round(time.Microsecond), o.healthzMax))
	}
	if w.rssPeak<<10 > o.maxRSS {
		failed = append(failed, fmt.Sprintf("%s: resident memory reached %s (at most %s)", name, mib(w.rssPeak), mib(o.maxRSS>>10)))
	}
	if answered == 0 {
		failed = append(failed, name+": no request was answered")
	}
	return failed
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
