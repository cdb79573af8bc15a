package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
)

// pausedWork is the context of a request that stops at its first look at
// it, mid-search, until resumed: a request computing for as long as the
// test needs.
type pausedWork struct {
	context.Context
	paused, resumed chan struct{}
	once            sync.Once
}

func newPausedWork() *pausedWork {
	return &pausedWork{Context: context.Background(), paused: make(chan struct{}), resumed: make(chan struct{})}
}

func (p *pausedWork) Err() error {
	p.once.Do(func() {
		close(p.paused)
		<-p.resumed
	})
	return nil
}

// computingServer serves generated sites with the limits l, and gives a
// proximity target whose search looks at its context.
func computingServer(t *testing.T, l server.Limits) (e *echo.Echo, target string) {
	t.Helper()
	ix, sites, err := benchset.Index(10_000, benchset.Seed)
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	e = server.New(server.Config{Index: &current, Limits: l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c := sites[0].Geometry.Bound().Center()
	return e, fmt.Sprintf("/proximity?lon=%g&lat=%g&radius=200000&limit=1000", c[0], c[1])
}

// serveAsync serves a GET of target with ctx in the background.
func serveAsync(e http.Handler, ctx context.Context, target string) <-chan *httptest.ResponseRecorder {
	got := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil))
		got <- rec
	}()
	return got
}

// compute starts n requests to target that stop mid-search, and returns
// once each has.
func compute(e http.Handler, target string, n int) ([]*pausedWork, []<-chan *httptest.ResponseRecorder) {
	var work []*pausedWork
	var answers []<-chan *httptest.ResponseRecorder
	for range n {
		w := newPausedWork()
		answers = append(answers, serveAsync(e, w, target))
		<-w.paused
		work = append(work, w)
	}
	return work, answers
}

// sample is the value of a sample of e's /metrics.
func sample(t *testing.T, e http.Handler, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// TestProbesPassRequestsComputing: with every CPU token held by requests
// computing, the probes are answered, while an ordinary request waits,
// parked, for a token, and is let in as soon as one computing request
// ends. Go's scheduler would otherwise run a probe's goroutine only after
// every one runnable before it.
func TestProbesPassRequestsComputing(t *testing.T) {
	e, target := computingServer(t, server.Limits{CPUTokens: 2, CPUTokenWait: time.Hour})
	work, answers := compute(e, target, 2)
	if held := sample(t, e, "protectmap_cpu_tokens_held"); held != 2 {
		t.Fatalf("%g CPU tokens held by the two requests computing, want 2", held)
	}
	for _, probe := range []string{"/healthz", "/readyz", "/metrics"} {
		if rec := <-serveAsync(e, context.Background(), probe); rec.Code != http.StatusOK {
			t.Errorf("%s with every CPU token held: %d %s", probe, rec.Code, rec.Body)
		}
	}
	waiting := serveAsync(e, context.Background(), "/collections")
	for sample(t, e, "protectmap_cpu_tokens_waiting") != 1 {
		select {
		case rec := <-waiting:
			t.Fatalf("an ordinary request was answered (%d) with every CPU token held", rec.Code)
		case <-time.After(time.Millisecond):
		}
	}
	close(work[0].resumed)
	if rec := <-answers[0]; rec.Code != http.StatusOK {
		t.Fatalf("the first request computing: %d %s", rec.Code, rec.Body)
	}
	if rec := <-waiting; rec.Code != http.StatusOK {
		t.Errorf("the waiting request, given the token freed: %d %s", rec.Code, rec.Body)
	}
	close(work[1].resumed)
	<-answers[1]
	if held := sample(t, e, "protectmap_cpu_tokens_held"); held != 0 {
		t.Errorf("%g CPU tokens held with every request answered", held)
	}
}

// TestRequestsWaitingTooLongForACPUTokenAreRefused: a request given no
// token within --cpu-token-wait gets the 503 of every limit, and is
// counted.
func TestRequestsWaitingTooLongForACPUTokenAreRefused(t *testing.T) {
	e, target := computingServer(t, server.Limits{CPUTokens: 1, CPUTokenWait: 20 * time.Millisecond})
	work, answers := compute(e, target, 1)
	rec := <-serveAsync(e, context.Background(), "/collections")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || rec.Header().Get(echo.HeaderContentType) != "application/problem+json" {
		t.Errorf("a request given no CPU token in time: %d, Retry-After %q, %s; want 503 problem+json with Retry-After",
			rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get(echo.HeaderContentType))
	}
	if n := sample(t, e, "protectmap_cpu_tokens_refused_total"); n != 1 {
		t.Errorf("%g requests counted refused, want 1", n)
	}
	close(work[0].resumed)
	if rec := <-answers[0]; rec.Code != http.StatusOK {
		t.Errorf("the request computing: %d %s", rec.Code, rec.Body)
	}
}
