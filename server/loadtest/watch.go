package main

import (
	"fmt"
	"io"
	"net/http"
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

// watchServer starts watching the server at base.
func watchServer(base string) *watch {
	w := &watch{done: make(chan struct{}), finished: make(chan struct{})}
	if mem, err := memory(); err == nil {
		w.rssStart, w.rssPeak = mem["VmRSS"], mem["VmRSS"]
	}
	// A connection of its own, kept alive, as a load balancer's probe has.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	go func() {
		defer close(w.finished)
		probe, sample := time.NewTicker(healthzEvery), time.NewTicker(rssEvery)
		defer probe.Stop()
		defer sample.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-sample.C:
				if mem, err := memory(); err == nil {
					w.rssPeak = max(w.rssPeak, mem["VmRSS"])
				}
			case <-probe.C:
				start := time.Now()
				res, err := client.Get(base + "/healthz")
				if err != nil {
					w.failures = append(w.failures, err.Error())
					continue
				}
				io.Copy(io.Discard, res.Body) //nolint:errcheck
				res.Body.Close()
				w.healthz = append(w.healthz, time.Since(start))
				if res.StatusCode != http.StatusOK {
					w.failures = append(w.failures, res.Status)
				}
			}
		}
	}()
	return w
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
	fmt.Printf("  answers: %d 2xx (%.1f/s), %d 503 with Retry-After, %d other\n", answered,
		float64(answered)/(float64(r["duration_us"])/1e6), r["shed"], r["status_errors"]-r["shed"])
	fmt.Printf("  /healthz: %d probes, p50 %v, p99 %v, max %v, %d failed\n", len(sorted),
		q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond), q(1).Round(time.Microsecond), len(w.failures))
	fmt.Printf("  resident memory: %s before, %s at the peak\n", mib(w.rssStart), mib(w.rssPeak))
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
