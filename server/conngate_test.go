package server_test

import (
	"io"
	"net"
	"net/http"
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
	addr := gatedServer(t, server.Limits{MaxNewConns: 2, NewConnHold: time.Minute})
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

func TestSilentConnectionsHoldNoLongerThanNewConnHold(t *testing.T) {
	// ReadHeaderTimeout, far beyond the hold, would otherwise free them.
	addr := gatedServer(t, server.Limits{MaxNewConns: 1, NewConnHold: 50 * time.Millisecond, ReadHeaderTimeout: time.Minute})
	silent(t, addr)
	answeredWithin(t, getAsync("http://"+addr+"/"), time.Minute, "a connection sending nothing kept the next one out past its hold")
}

func TestKeptAliveConnectionsPassTheGate(t *testing.T) {
	addr := gatedServer(t, server.Limits{MaxNewConns: 1, NewConnHold: time.Minute})
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
	l := server.Limits{MaxNewConns: 2, NewConnHold: time.Minute, MaxHeavy: 1, HeavyWait: time.Minute, MinUploadWindow: time.Minute}
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
