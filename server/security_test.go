package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server"
)

// liveServer serves f's configuration on a real loopback listener with the
// connection limits of l, as the binary does.
func liveServer(t *testing.T, l server.Limits, configure ...func(*server.Config)) string {
	t.Helper()
	f := newFixture(t, append(configure, func(c *server.Config) { c.Limits = l })...)
	return serveOn(t, f.e, l)
}

// serveOn serves h on a loopback listener through server.HTTPServer with
// the limits l, until the test ends, and returns its address.
func serveOn(t testing.TB, h http.Handler, l server.Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.HTTPServer(h, l)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// healthy fails the test unless the server at addr still answers.
func healthy(t *testing.T, addr string) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("the server stopped answering: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
}

// webApp is a map app with a file outside assets/ that must never be
// served through /assets.
var webApp = fstest.MapFS{
	"index.html":       {Data: []byte("<!doctype html><title>map</title>")},
	"assets/app.js":    {Data: []byte("console.log(1)")},
	"assets/sub/x.css": {Data: []byte("p{}")},
	"secret.txt":       {Data: []byte("not for the web")},
}

// TestHostileRequests: each attempt gets a clean 4xx problem (or, for slow
// headers, a closed connection) and the server keeps answering.
func TestHostileRequests(t *testing.T) {
	addr := liveServer(t, server.Limits{MaxBodyBytes: 4 << 10}, func(c *server.Config) { c.Web = webApp })
	nested := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
	}{
		{"dot-dot", "GET", "/assets/../secret.txt", "", 404},
		{"escaped dot-dot", "GET", "/assets/%2e%2e/secret.txt", "", 404},
		{"escaped slash", "GET", "/assets/..%2fsecret.txt", "", 404},
		{"double escaped", "GET", "/assets/%252e%252e/secret.txt", "", 404},
		{"backslash", "GET", `/assets/..\secret.txt`, "", 404},
		{"absolute", "GET", "/assets//etc/passwd", "", 404},
		{"directory listing", "GET", "/assets/sub", "", 404},
		{"assets root", "GET", "/assets/", "", 404},
		{"NUL", "GET", "/assets/app.js%00.png", "", 404},
		{"negative limit", "GET", "/collections/energy/items?limit=-1", "", 400},
		{"invalid UTF-8 in the query", "GET", "/collections/energy/items?kind=%ff%fe", "", 400},
		{"invalid UTF-8 in the path", "GET", "/collections/%c3%28/items", "", 400},
		{"invalid UTF-8 in the body", "POST", "/proximity", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30.5,50.4]},"properties":{"name":"` + "\xc3\x28" + `"}}]}`, 400},
		{"deeply nested JSON", "POST", "/proximity", nested, 400},
		{"oversized body", "POST", "/collections", strings.Repeat("x", 5<<10), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := rawRequest(t, addr, tc.method, tc.target, tc.body)
			if res.status != tc.status {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.target, res.status, tc.status, res.body)
			}
			if !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("Content-Type %q, want a problem document", res.header.Get("Content-Type"))
			}
			if strings.Contains(res.body, "not for the web") || strings.Contains(res.body, "<pre>") {
				t.Errorf("leaked a file or listing:\n%s", res.body)
			}
			healthy(t, addr)
		})
	}
	// OGC API - Features asks for a limit over the maximum to be served as
	// the maximum, not refused.
	huge := rawRequest(t, addr, "GET", "/collections/energy/items?limit=99999999999999999999", "")
	var doc struct{ NumberReturned int }
	if huge.status != 200 || json.Unmarshal([]byte(huge.body), &doc) != nil || doc.NumberReturned > 10_000 {
		t.Errorf("huge limit: %d %.200s", huge.status, huge.body)
	}
	// The files that are there are served.
	if res := rawRequest(t, addr, "GET", "/assets/app.js", ""); res.status != 200 || res.body != "console.log(1)" {
		t.Errorf("assets/app.js: %d %q", res.status, res.body)
	}
}

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawRequest sends a request target exactly as written, unlike
// http.Client, which would clean or escape it.
func rawRequest(t *testing.T, addr, method, target, body string) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req bytes.Buffer
	req.WriteString(method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n")
	if body != "" {
		req.WriteString("Content-Type: application/geo+json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	req.WriteString("\r\n" + body)
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawResponse{res.StatusCode, res.Header, string(b)}
}

// serve answers req with f's server.
func serve(f *fixture, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

// TestSlowHeaders: a client that sends its headers a byte at a time
// (slowloris) is cut off by the header timeout; others are still served.
func TestSlowHeaders(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr := liveServer(t, server.Limits{ReadHeaderTimeout: timeout})
	// The server's clock starts at accept: ours, before the dial, cannot
	// start after it, however long this goroutine waits to run.
	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: test\r\n")); err != nil {
		t.Fatal(err)
	}
	// Keep trickling header bytes; the server must close the connection
	// anyway once the timeout is up.
	closed := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(conn)
		closed <- err
	}()
	trickle := time.NewTicker(50 * time.Millisecond)
	defer trickle.Stop()
	// Well short of the read timeout (a minute), which would end the
	// connection too; a busy machine may delay the close by seconds.
	late := time.After(20 * time.Second)
	for {
		select {
		case err := <-closed:
			if took := time.Since(start); took < timeout {
				t.Errorf("the connection closed after %v; the header timeout is %v", took, timeout)
			}
			if err != nil && !errors.Is(err, net.ErrClosed) {
				t.Logf("read ended with %v", err)
			}
			healthy(t, addr)
			return
		case <-trickle.C:
			conn.Write([]byte("X")) //nolint:errcheck // fails once the server closes
		case <-late:
			t.Fatal("a slow client kept its connection open past the header timeout")
		}
	}
}

// TestHeavyLimits: heavy requests beyond MaxHeavy get 503 with
// Retry-After once HeavyWait passes without a slot, their connections
// closed, and one that outlives HeavyTimeout is stopped.
func TestHeavyLimits(t *testing.T) {
	// The slot is held for HeavyTimeout from when it is taken, and the
	// requests refused meanwhile must all be made within it, however long
	// a busy machine keeps this test from running.
	addr := liveServer(t, server.Limits{MaxHeavy: 1, HeavyTimeout: 5 * time.Second, HeavyWait: 50 * time.Millisecond})
	// A batch whose length is unknown (chunked) is heavy; this one stalls
	// after its first bytes, holding the only slot.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /proximity HTTP/1.1\r\nHost: test\r\nContent-Type: application/geo+json\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
	// The server asks for the body only once the handler reads it, after
	// the slot is taken.
	br := bufio.NewReader(conn)
	if res, err := http.ReadResponse(br, nil); err != nil || res.StatusCode != http.StatusContinue {
		t.Fatalf("the heavy batch was not asked for its body: %v %v", res, err)
	}
	first := `{"type":"FeatureCollection","features":[`
	fmt.Fprintf(conn, "%x\r\n%s\r\n", len(first), first)
	stalled := make(chan *http.Response, 1)
	go func() {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("the stalled request got no answer: %v", err)
		}
		stalled <- res
	}()

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/proximity", io.NopCloser(strings.NewReader(`{"type":"FeatureCollection","features":[]}`)))
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("a heavy request beyond the cap: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// A large proximity answer is heavy too; refused, its connection,
	// which would be kept alive, is closed.
	res, err = http.Get("http://" + addr + "/proximity?lon=30.5&lat=50.45&radius=200000&limit=10000")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !res.Close {
		t.Errorf("a large proximity answer beyond the cap: %d, Retry-After %q, connection closed %v", res.StatusCode, res.Header.Get("Retry-After"), res.Close)
	}
	// A small batch is not heavy and is answered meanwhile.
	if res, err := http.Post("http://"+addr+"/proximity", "application/geo+json", strings.NewReader(`{"type":"FeatureCollection","features":[]}`)); err != nil || res.StatusCode != 200 {
		t.Errorf("a small batch while the slot is taken: %v %v", res, err)
	}

	select {
	case res := <-stalled:
		if res == nil {
			t.Fatal("the stalled request failed without an answer")
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "deadline") {
			t.Errorf("a request past its deadline: %d %s", res.StatusCode, body)
		}
	case <-time.After(time.Minute):
		t.Fatal("a stalled heavy request outlived its deadline")
	}
	healthy(t, addr)
}

// TestRateLimit: a client over its rate gets 429 with Retry-After; health
// checks are never limited.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, func(c *server.Config) { c.Limits = server.Limits{RatePerSecond: 0.5, RateBurst: 2} })
	var codes []int
	for range 3 {
		codes = append(codes, f.get(t, "/collections").Code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Errorf("statuses %v, want 200 200 429", codes)
	}
	rec := f.get(t, "/collections")
	checkProblem(t, rec, http.StatusTooManyRequests, "", "requests per second")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if rec := f.get(t, path); rec.Code != 200 {
			t.Errorf("%s was limited: %d", path, rec.Code)
		}
	}
}

// TestRouteClasses: the report is heavy whatever its size, and the bulk
// routes take bodies over MaxBodyBytes (as heavy requests), where other
// routes refuse them. A heavy deadline already passed tells heavy requests
// from the others.
func TestRouteClasses(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
		c.Limits = server.Limits{MaxBodyBytes: 64, HeavyTimeout: time.Nanosecond}
	})
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if rec := f.do(t, method, "/report", nil); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s /report is not heavy: %d", method, rec.Code)
		}
	}
	if rec := f.get(t, "/strikes"); rec.Code != http.StatusOK {
		t.Errorf("GET /strikes is heavy: %d %s", rec.Code, rec.Body)
	}
	big := collectionOf(strikeAt(30.5, 50.4, moratoriumStart, ""), strikeAt(30.6, 50.5, moratoriumStart, ""))
	rec := f.do(t, http.MethodPost, "/proximity", strings.NewReader(big), "Content-Type: application/geo+json")
	checkProblem(t, rec, http.StatusServiceUnavailable, "", "deadline")
	rec = f.send(t, http.MethodPost, "/strikes", "application/geo+json", big, true)
	checkProblem(t, rec, http.StatusServiceUnavailable, "", "deadline")
	rec = f.send(t, http.MethodDelete, "/strikes/x", "application/geo+json", big, true)
	checkProblem(t, rec, http.StatusRequestEntityTooLarge, "", "")
}

// TestSecurityHeaders: the map page may load images only from itself and
// the tile host, and may not be framed.
func TestSecurityHeaders(t *testing.T) {
	for _, tc := range []struct{ tileURL, want, notWant string }{
		{"https://tile.openstreetmap.org/{z}/{x}/{y}.png", "img-src 'self' data: https://tile.openstreetmap.org;", ""},
		{"https://{s}.tiles.example.org/{z}/{x}/{y}.png", "img-src 'self' data: https://*.tiles.example.org;", ""},
		{"", "img-src 'self' data:;", "http"},
		{"https://evil.example; script-src *", "img-src 'self' data:;", "evil"},
	} {
		f := newFixture(t, func(c *server.Config) { c.Web = webApp; c.TileURL = tc.tileURL })
		rec := f.get(t, "/", "Accept: text/html")
		csp := rec.Header().Get("Content-Security-Policy")
		if rec.Code != 200 || !strings.Contains(csp, tc.want) || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "script-src 'self';") || (tc.notWant != "" && strings.Contains(csp, tc.notWant)) {
			t.Errorf("tile URL %q: CSP %q", tc.tileURL, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin", "X-Frame-Options": "DENY"} {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
	}
}

// TestCORSCredentials: CORS never echoes an arbitrary origin, and never
// allows credentials.
func TestCORSCredentials(t *testing.T) {
	open := newFixture(t)
	rec := open.get(t, "/collections", "Origin: https://evil.example")
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("open CORS: %v", rec.Header())
	}
	closed := newFixture(t, func(c *server.Config) { c.CORSOrigins = []string{"https://maps.example.org"} })
	rec = closed.do(t, http.MethodOptions, "/collections", nil, "Origin: https://evil.example", "Access-Control-Request-Method: GET")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("an unlisted origin got %q: %v", got, rec.Header())
	}
	rec = closed.get(t, "/collections", "Origin: https://maps.example.org")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://maps.example.org" || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("a listed origin: %q %v", got, rec.Header())
	}
	// A listed origin may send a bearer token, never cookies.
	rec = closed.do(t, http.MethodOptions, "/strikes", nil, "Origin: https://maps.example.org", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization,content-type")
	if !strings.Contains(strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")), "authorization") || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("a listed origin's write preflight: %v", rec.Header())
	}
}

// TestTokenTransport: a token from another machine over plain HTTP is
// refused before it is even checked; over TLS (at a proxy that says so)
// or from this machine it is checked as usual.
func TestTokenTransport(t *testing.T) {
	src := &dirSource{dir: t.TempDir(), count: map[string]int{}}
	siteLayer(t, src.dir, 2)
	current := new(atomic.Pointer[geo.Index])
	d, _ := src.load(t.Context())
	current.Store(d.Index)
	trusted, err := server.ParseTrustedProxies("127.0.0.1/8, ::1, 10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{current: current, e: server.New(server.Config{Index: current, Reloader: server.NewReloader(src.load), Tokens: []string{adminToken},
		TrustedProxies: trusted, Logger: slog.New(slog.DiscardHandler)})}
	for _, tc := range []struct {
		name, remote string
		header       []string
		status       int
	}{
		{"plain HTTP from afar", "203.0.113.9:4000", nil, http.StatusForbidden},
		{"a public client claiming HTTPS", "203.0.113.9:4000", []string{"X-Forwarded-Proto: https"}, http.StatusForbidden},
		{"a trusted proxy on the private network saying HTTPS", "10.1.2.3:4000", []string{"X-Forwarded-Proto: https"}, 200},
		{"regression: a private peer not trusted claiming HTTPS", "10.1.2.4:4000", []string{"X-Forwarded-Proto: https"}, http.StatusForbidden},
		{"a local proxy saying HTTP", "127.0.0.1:4000", []string{"X-Forwarded-Proto: http"}, http.StatusForbidden},
		{"loopback", "127.0.0.1:4000", nil, 200},
		{"loopback over IPv6", "[::1]:4000", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "/admin/reload", nil)
			req.RemoteAddr = tc.remote
			req.Header.Set("Authorization", "Bearer "+adminToken)
			for _, h := range tc.header {
				k, v, _ := strings.Cut(h, ":")
				req.Header.Set(k, strings.TrimSpace(v))
			}
			rec := serve(f, req)
			if rec.Code != tc.status {
				t.Errorf("%d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
		})
	}
	insecure := server.New(server.Config{Index: current, Reloader: server.NewReloader(src.load), Tokens: []string{adminToken}, AllowInsecureTokens: true, Logger: slog.New(slog.DiscardHandler)})
	req, _ := http.NewRequest(http.MethodPost, "/admin/reload", nil)
	req.RemoteAddr = "203.0.113.9:4000"
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if rec := serve(&fixture{e: insecure}, req); rec.Code != 200 {
		t.Errorf("--allow-insecure-tokens: %d %s", rec.Code, rec.Body)
	}
}
