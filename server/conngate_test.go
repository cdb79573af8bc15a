package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server"
)

// gatedServer serves a plain 200 through server.HTTPServer with the
// limits l until the test ends, and returns its address.
func gatedServer(t *testing.T, l server.Limits) string {
	t.Helper()
	return serveOn(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok") //nolint:errcheck
	}), l)
}

// silent opens a connection to addr that sends nothing.
func silent(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// getAsync asks url on a connection of its own and sends the error (nil
// for a 200) when the answer comes.
func getAsync(url string) <-chan error {
	got := make(chan error, 1)
	go func() {
		client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := client.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				err = &statusError{res.StatusCode}
			}
		}
		got <- err
	}()
	return got
}

// answeredWithin fails the test unless got brings a 200 within d; why
// says what a time-out means.
func answeredWithin(t *testing.T, got <-chan error, d time.Duration, why string) {
	t.Helper()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(d):
		t.Fatal(why)
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }

func TestNewConnectionsWaitForAnswers(t *testing.T) {
	addr := gatedServer(t, server.Limits{MaxNewConns: 2, NewConnHold: time.Minute, NewConnWait: time.Minute})
	first := silent(t, addr)
	silent(t, addr)
	got := getAsync("http://" + addr + "/")
	select {
	case err := <-got:
		t.Fatalf("a third connection was answered (%v) while two let in had not been", err)
	case <-time.After(300 * time.Millisecond):
	}
	first.Close()
	answeredWithin(t, got, time.Minute, "a slot freed by a closed connection let no one in")
}

func TestNewConnectionsWaitingTooLongAreRefused(t *testing.T) {
	// The slot is held far longer than the wait, so no Accept looks at
	// the waiting connection: only the wait's own timer can refuse it.
	addr := gatedServer(t, server.Limits{MaxNewConns: 1, NewConnHold: time.Hour, NewConnWait: 50 * time.Millisecond})
	silent(t, addr)
	type answer struct {
		res  *http.Response
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := client.Get("http://" + addr + "/")
		var body []byte
		if err == nil {
			body, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		got <- answer{res, string(body), err}
	}()
	var a answer
	select {
	case a = <-got:
	case <-time.After(time.Minute):
		t.Fatal("a connection waiting past --new-conn-wait was neither let in nor refused")
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.res.StatusCode != http.StatusServiceUnavailable || a.res.Header.Get("Retry-After") == "" || !a.res.Close {
		t.Fatalf("got %s, Retry-After %q, close %v; want 503 with Retry-After, the connection closed", a.res.Status, a.res.Header.Get("Retry-After"), a.res.Close)
	}
	var p struct{ Status int }
	if err := json.Unmarshal([]byte(a.body), &p); err != nil || p.Status != http.StatusServiceUnavailable || a.res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("refusal %q (%s, %v): want a problem document of status 503", a.body, a.res.Header.Get("Content-Type"), err)
	}
}

func TestNewConnectionsBeyondTheWaitingBoundAreClosed(t *testing.T) {
	addr := gatedServer(t, server.Limits{MaxNewConns: 1, NewConnHold: time.Hour, NewConnWait: time.Hour, MaxNewConnsWaiting: 1})
	silent(t, addr) // let in, once the server takes it
	// One of these waits (two, while the first is not yet let in); the
	// others find the queue full.
	const asking = 5
	deadline := time.Now().Add(2 * time.Second)
	closed := 0
	conns := make([]net.Conn, asking)
	for i := range conns {
		conns[i] = silent(t, addr)
		io.WriteString(conns[i], "GET / HTTP/1.1\r\nHost: x\r\n\r\n") //nolint:errcheck // a closed one is read below
	}
	// Read at once: a read past the deadline would not look.
	type read struct {
		n   int
		err error
	}
	reads := make(chan read, asking)
	for _, c := range conns {
		go func() {
			c.SetReadDeadline(deadline) //nolint:errcheck
			n, err := c.Read(make([]byte, 512))
			reads <- read{n, err}
		}()
	}
	for range asking {
		switch r := <-reads; {
		case r.n > 0:
			t.Fatalf("a connection not let in was answered (%d bytes)", r.n)
		case !errors.Is(r.err, os.ErrDeadlineExceeded):
			closed++
		}
	}
	if closed < asking-2 {
		t.Fatalf("%d of %d connections beyond --max-new-conns-waiting 1 were closed; want at least %d", closed, asking, asking-2)
	}
}

func TestSilentConnectionsHoldNoLongerThanNewConnHold(t *testing.T) {
	// ReadHeaderTimeout, far beyond the hold, would otherwise free them.
	addr := gatedServer(t, server.Limits{MaxNewConns: 1, NewConnHold: 50 * time.Millisecond, NewConnWait: time.Hour, ReadHeaderTimeout: time.Minute})
	silent(t, addr)
	answeredWithin(t, getAsync("http://"+addr+"/"), time.Minute, "a connection sending nothing kept the next one out past its hold")
}

func TestKeptAliveConnectionsPassTheGate(t *testing.T) {
	addr := gatedServer(t, server.Limits{MaxNewConns: 1, NewConnHold: time.Minute, NewConnWait: time.Hour})
	url := "http://" + addr + "/"
	probe := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(what string) {
		t.Helper()
		res, err := probe.Get(url)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		io.Copy(io.Discard, res.Body) //nolint:errcheck
		res.Body.Close()
	}
	get("first request")
	// Answered once, the probe's connection frees its slot; a silent one
	// takes it, so no new connection is let in.
	silent(t, addr)
	blocked := getAsync(url)
	get("a kept-alive connection's next request, the gate full")
	select {
	case err := <-blocked:
		t.Fatalf("a new connection was answered (%v) with the gate full", err)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestHeavyRequestsWaitingGiveTheirPlaceBack(t *testing.T) {
	l := server.Limits{MaxNewConns: 2, NewConnHold: time.Minute, NewConnWait: time.Hour, MaxHeavy: 1, HeavyWait: time.Minute, MinUploadWindow: time.Minute}
	f := newFixture(t, func(c *server.Config) { c.Limits = l })
	addr := serveOn(t, f.e, l)
	// Batches of unknown length are heavy: the first takes the heavy slot
	// and waits there for the rest of its body, the second waits for the
	// slot.
	for range 2 {
		batch := silent(t, addr)
		if _, err := io.WriteString(batch, "POST /proximity HTTP/1.1\r\nHost: x\r\nContent-Type: application/geo+json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	answeredWithin(t, getAsync("http://"+addr+"/healthz"), time.Minute, "a heavy request waiting for a slot kept its connection's place at the gate")
}

func TestRefusedNewConnectionsAreCounted(t *testing.T) {
	const wait = 500 * time.Millisecond
	// ReadHeaderTimeout, far beyond the test, leaves the silent connection
	// holding the only slot.
	l := server.Limits{MaxNewConns: 1, NewConnHold: time.Hour, NewConnWait: wait, MaxNewConnsWaiting: 1, ReadHeaderTimeout: time.Hour}
	stats := new(server.ConnStats)
	f := newFixture(t, func(c *server.Config) { c.Limits = l; c.ConnStats = stats })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.HTTPServer(f.e, l)
	srv.ConnStats = stats
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	// The operator scrapes on one kept-alive connection, let in before the flood.
	ops := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	sample := func(name string) float64 {
		t.Helper()
		return metricFrom(t, ops, "http://"+addr, name)
	}
	sample("protectmap_connections_waiting")
	silent(t, addr)

	type outcome struct {
		body string
		err  error
	}
	// Rounds of three: the first to find the queue empty waits and is
	// answered 503, the others find it full and are closed. Counted as
	// their clients saw them, so a slow machine changes only the rounds.
	var waited, full int
	sawWaiting := false
	for deadline := time.Now().Add(time.Minute); waited == 0 || full == 0 || !sawWaiting; {
		if time.Now().After(deadline) {
			t.Fatalf("a minute of refusals: %d answered 503, %d closed, the one waiting seen %v", waited, full, sawWaiting)
		}
		// Once one asking waited, the silent connection, before it in the
		// queue, no longer waits: the first of a round is the one waiting.
		afterWaited := waited > 0
		start := time.Now()
		outcomes := make(chan outcome, 3)
		for range 3 {
			c := silent(t, addr)
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") //nolint:errcheck // a closed one is read below
			go func() {
				c.SetReadDeadline(time.Now().Add(time.Minute)) //nolint:errcheck
				body, err := io.ReadAll(c)
				outcomes <- outcome{string(body), err}
			}()
		}
		for range 3 {
			switch o := <-outcomes; {
			case strings.HasPrefix(o.body, "HTTP/1.1 503 "):
				waited++
			case o.body == "" && !errors.Is(o.err, os.ErrDeadlineExceeded):
				full++
				if afterWaited && !sawWaiting {
					n := sample("protectmap_connections_waiting")
					if time.Since(start) < wait {
						if n != 1 {
							t.Fatalf("protectmap_connections_waiting %v while one waited; want 1", n)
						}
						sawWaiting = true
					}
				}
			default:
				t.Fatalf("a connection not let in got %q (%v); want a 503 or its connection closed", o.body, o.err)
			}
		}
	}
	for reason, want := range map[string]int{"waited": waited, "queue_full": full} {
		if got := sample(`protectmap_connections_refused_total{reason="` + reason + `"}`); got != float64(want) {
			t.Errorf("protectmap_connections_refused_total{reason=%q} %v; its clients saw %d", reason, got, want)
		}
	}
	if n := sample("protectmap_connections_waiting"); n != 0 {
		t.Errorf("protectmap_connections_waiting %v once every one was refused; want 0", n)
	}
}
