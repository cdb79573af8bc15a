package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The live feed's idle clients (-sse N) are held by a process of their own
// (-sse-hold), as they would be by N browsers: their sockets, buffers and
// goroutines are not the server's, so the server's memory grows by what it
// spends on them alone.

// feedHeld is what the holder prints once every stream is open.
const feedHeld = "held"

// holdFeed opens n streams of url (GET /strikes/events), reads each one's
// first line, prints feedHeld, and then reads and discards what they send
// (heartbeats) until interrupted or one of them ends.
func holdFeed(url string, n int) error {
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, ResponseHeaderTimeout: 30 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lost := make(chan error, n)
	open := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "text/event-stream")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			res.Body.Close()
			return fmt.Errorf("%s: %s", url, res.Status)
		}
		r := bufio.NewReaderSize(res.Body, 512)
		if _, err := r.ReadString('\n'); err != nil {
			res.Body.Close()
			return err
		}
		go func() {
			defer res.Body.Close()
			_, err := io.Copy(io.Discard, r)
			lost <- fmt.Errorf("a stream ended: %v", err)
		}()
		return nil
	}
	// A few at a time, as browsers arriving would, not all in one burst
	// the listen backlog would refuse.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := open(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Println(feedHeld, n)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	select {
	case <-stop:
		return nil
	case err := <-lost:
		return err
	}
}

// feedHolder is a running -sse-hold process.
type feedHolder struct {
	cmd  *exec.Cmd
	done chan error
}

// holdIdleFeeds starts a holder of n streams of the server at base and
// waits until the server counts them all connected.
func holdIdleFeeds(base string, n int) (*feedHolder, error) {
	cmd, out, err := startSelf("-sse-hold", base+"/strikes/events", "-sse", strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	h := &feedHolder{cmd: cmd, done: make(chan error, 1)}
	held := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), feedHeld) {
				close(held)
			}
		}
		h.done <- cmd.Wait()
	}()
	select {
	case <-held:
	case err := <-h.done:
		return nil, fmt.Errorf("holding %d feed clients: %v", n, err)
	case <-time.After(2 * time.Minute):
		h.release() //nolint:errcheck // failed already
		return nil, fmt.Errorf("holding %d feed clients: not all connected within 2 minutes", n)
	}
	if err := feedClients(base, n); err != nil {
		h.release() //nolint:errcheck // failed already
		return nil, err
	}
	return h, nil
}

// release closes the holder's streams and waits until it has gone; an
// error when it had ended before, having lost a stream.
func (h *feedHolder) release() error {
	select {
	case err := <-h.done:
		return fmt.Errorf("the feed clients' holder ended early: %v", err)
	default:
	}
	h.cmd.Process.Signal(os.Interrupt) //nolint:errcheck // it may have ended meanwhile
	return <-h.done
}

// feedClients waits, up to 30 s, until the server's /metrics counts want
// clients of the live feed.
func feedClients(base string, want int) error {
	sample := "protectmap_feed_clients "
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		res, err := http.Get(base + "/metrics")
		if err != nil {
			return err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, sample); ok {
				got = v
			}
		}
		if got == strconv.Itoa(want) {
			return nil
		}
	}
	return fmt.Errorf("the server counts %s feed clients, not %d", got, want)
}

// goMemory is the server process's settled memory: resident, and the Go
// heap and goroutine stacks in use, in bytes.
type goMemory struct{ rss, heap, stacks int64 }

func settledMemory() (goMemory, error) {
	rss, err := settledRSS()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return goMemory{rss: rss, heap: int64(ms.HeapInuse), stacks: int64(ms.StackInuse)}, err
}

// idleFeedCost connects n idle feed clients to the quiet server at base
// and prints what each costs it, the garbage collected before and after.
func idleFeedCost(base string, n int) error {
	before, err := settledMemory()
	if err != nil {
		return err
	}
	h, err := holdIdleFeeds(base, n)
	if err != nil {
		return err
	}
	after, err := settledMemory()
	if rerr := h.release(); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	per := func(a, b int64) string { return strconv.FormatFloat(float64(b-a)/float64(n)/1024, 'f', 1, 64) + " KiB" }
	fmt.Printf("%d idle feed clients: resident %s -> %s, %s each (Go heap %s, goroutine stacks %s)\n\n", n,
		mib(before.rss>>10), mib(after.rss>>10), per(before.rss, after.rss), per(before.heap, after.heap), per(before.stacks, after.stacks))
	return nil
}

// medianOf is the median of figures.
func medianOf(figures []float64) float64 {
	s := slices.Clone(figures)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// feedLoss compares the throughput of runs with and without idle feed
// clients, and returns the failure when it fell by more than maxLoss.
func feedLoss(name string, without, with []float64, n int, maxLoss float64) error {
	a, b := medianOf(without), medianOf(with)
	fmt.Printf("%-28s median %0.f req/s without, %0.f with %d idle feed clients: %.3f×\n", name, a, b, n, b/a)
	if b < (1-maxLoss)*a {
		return errors.New(name + ": throughput with the idle feed clients fell by more than " + strconv.FormatFloat(100*maxLoss, 'f', 0, 64) + "%")
	}
	return nil
}

// feedPasses are the idle feed clients of each of run i's passes: one pass
// of none without -sse; with it, one without and one with, in turns, so
// neither always runs on the warmer server or the quieter machine.
func feedPasses(sse, i int) []int {
	switch {
	case sse <= 0:
		return []int{0}
	case i%2 == 0:
		return []int{0, sse}
	}
	return []int{sse, 0}
}
