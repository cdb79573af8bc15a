package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/synthlayer"
	"github.com/protectmap/protectmap/server"
)

// writeCalls is how many write system calls the process has made
// (Linux's /proc/self/io).
func writeCalls(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no syscw in /proc/self/io:\n%s", b)
	return 0
}

// TestLargeAnswerOneWrite: a page larger than net/http's 4 KiB connection
// buffer goes out with its header in one write, intact, and the connection
// serves the next requests after it.
func TestLargeAnswerOneWrite(t *testing.T) {
	l, err := geo.NewLayer("sites", "synthetic", synthlayer.Features(synth.Sites(1000, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(l)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *server.Config) {
		c.Index = new(atomic.Pointer[geo.Index])
		c.Index.Store(ix)
	})
	const target = "/collections/sites/items?limit=100"
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "test"
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	want := rec.Body.Bytes()
	if len(want) < 8<<10 {
		t.Fatalf("%s is %d bytes, want a page larger than net/http's buffer", target, len(want))
	}
	conn, err := net.Dial("tcp", serveOn(t, f.e, server.Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 1<<20)
	ask := func(method, target string) (*http.Response, []byte) {
		t.Helper()
		if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: test\r\n\r\n", method, target); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(r, &http.Request{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, body
	}

	const n = 40
	before := writeCalls(t)
	for range n {
		if res, body := ask(http.MethodGet, target); res.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Fatalf("GET %s: %d, %d bytes, want the %d bytes served in process", target, res.StatusCode, len(body), len(want))
		}
	}
	// The client's request and the server's answer: two writes each, where
	// an answer in two writes would make three.
	writes := writeCalls(t) - before
	t.Logf("%d requests, %d write calls", n, writes)
	if writes > n*5/2 {
		t.Errorf("%d requests took %d write calls, want at most %d (one for each request and one for each answer, and a few more)", n, writes, n*5/2)
	}

	res, body := ask(http.MethodHead, target)
	if res.StatusCode != http.StatusOK || len(body) != 0 || res.ContentLength != int64(len(want)) {
		t.Errorf("HEAD %s: %d, %d bytes, Content-Length %d; want 200, none, %d", target, res.StatusCode, len(body), res.ContentLength, len(want))
	}
	if res, body = ask(http.MethodGet, "/healthz"); res.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("GET /healthz after the pages: %d, %q", res.StatusCode, body)
	}
}
