package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

// sseEvent is one Server-Sent Event as a client reads it.
type sseEvent struct {
	id   int64
	data map[string]any
}

// sseClient reads an event stream: events and heartbeats as they come.
type sseClient struct {
	res        *http.Response
	events     chan sseEvent
	heartbeats chan struct{}
	done       chan struct{} // closed when the stream ends
}

// follow opens GET /strikes/events on base with the given headers ("Name:
// value") and query.
func follow(t testing.TB, base, query string, header ...string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/strikes/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for _, h := range header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(res.Body)
		cancel()
		t.Fatalf("GET /strikes/events: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	c := &sseClient{res: res, events: make(chan sseEvent, 10_000), heartbeats: make(chan struct{}, 100), done: make(chan struct{})}
	t.Cleanup(func() { cancel(); res.Body.Close(); <-c.done })
	go c.read(t)
	return c
}

func (c *sseClient) read(t testing.TB) {
	defer close(c.done)
	r := bufio.NewReaderSize(c.res.Body, 1<<20)
	var ev sseEvent
	hasID := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.data != nil {
				if !hasID {
					t.Errorf("an event without an id: %v", ev.data)
				}
				c.events <- ev
			}
			ev, hasID = sseEvent{}, false
		case strings.HasPrefix(line, ":"):
			select {
			case c.heartbeats <- struct{}{}:
			default:
			}
		case strings.HasPrefix(line, "id: "):
			id, err := strconv.ParseInt(line[4:], 10, 64)
			if err != nil {
				t.Errorf("id line %q", line)
			}
			ev.id, hasID = id, true
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
				t.Errorf("data line %q: %v", line, err)
			}
		case strings.HasPrefix(line, "retry: "):
		default:
			t.Errorf("unexpected line %q", line)
		}
	}
}

// eventWait is how long a client waits for an event that must come: a
// busy machine may delay one by seconds, and a wait ends when it comes.
const eventWait = time.Minute

// next returns the next event, failing after eventWait.
func (c *sseClient) next(t testing.TB) sseEvent {
	t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-c.done:
		t.Fatal("the stream ended")
	case <-time.After(eventWait):
		t.Fatalf("no event within %v", eventWait)
	}
	return sseEvent{}
}

// quiet fails if an event arrives within wait.
func (c *sseClient) quiet(t testing.TB, wait time.Duration) {
	t.Helper()
	select {
	case ev := <-c.events:
		t.Fatalf("unexpected event %d: %v", ev.id, ev.data)
	case <-time.After(wait):
	}
}

// serveLive serves f on a real loopback listener with the connection
// limits l, as the binary does, and returns its base URL.
func serveLive(t testing.TB, f *strikeFixture, l server.Limits) string {
	t.Helper()
	return "http://" + serveOn(t, f.e, l)
}

// feedLimits are limits under which a stream outlives the server's read
// and write timeouts many times over.
var feedLimits = server.Limits{ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
	FeedHeartbeat: 100 * time.Millisecond}

func TestStrikeEvents(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) { c.Limits = feedLimits })
	base := serveLive(t, f, feedLimits)
	live := follow(t, base, "")
	live.quiet(t, 200*time.Millisecond) // nothing recorded yet: nothing sent

	// Past the server's read and write timeouts, the stream still serves.
	time.Sleep(time.Second)
	near := strikeAt(30.4702, 50.5253, moratoriumStart.Add(48*time.Hour), `"source":"desk","event_id":"e-1"`)
	created := f.post(t, "application/geo+json", near, http.StatusCreated)
	ev := live.next(t)
	p := props(t, ev.data)
	if ev.data["id"] != created["id"] || p["action"] != "create" || p["event_id"] != "e-1" || ev.id != int64(p["seq"].(float64)) {
		t.Fatalf("event %d: %v", ev.id, ev.data)
	}
	verdict, _ := p["verdict"].(map[string]any)
	if want := verdictOf(t, created); verdict == nil || verdict["verdict"] != want {
		t.Errorf("the event's verdict %v, the strike was recorded with %q", p["verdict"], want)
	}
	moved := strikeAt(30.4702, 50.5253, moratoriumStart.Add(49*time.Hour), `"source":"desk","event_id":"e-1"`)
	f.post(t, "application/geo+json", moved, http.StatusOK)
	if rec := f.send(t, http.MethodDelete, "/strikes/"+created["id"].(string), "", "", true); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	var ids []int64
	for _, want := range []string{"update", "delete"} {
		e := live.next(t)
		p := props(t, e.data)
		if p["action"] != want || e.data["id"] != created["id"] || (want == "delete") != (p["deleted_at"] != nil) {
			t.Errorf("event %d: %v %v deleted at %v, want %s", e.id, p["action"], e.data["id"], p["deleted_at"], want)
		}
		ids = append(ids, e.id)
	}
	if ids[0] != ev.id+1 || ids[1] != ev.id+2 {
		t.Errorf("ids %d then %v: want consecutive", ev.id, ids)
	}
	select {
	case <-live.heartbeats:
	case <-time.After(eventWait):
		t.Error("no heartbeat")
	}

	// Resuming after the first event brings the other two, once each, then
	// what comes next; Last-Event-ID wins over ?since.
	again := follow(t, base, "?since=0", "Last-Event-ID: "+strconv.FormatInt(ev.id, 10))
	for _, want := range ids {
		if got := again.next(t).id; got != want {
			t.Errorf("resumed: event %d, want %d", got, want)
		}
	}
	again.quiet(t, 300*time.Millisecond)
	f.post(t, "application/geo+json", strikeAt(31, 50, moratoriumStart, ""), http.StatusCreated)
	if got := again.next(t).id; got != ids[1]+1 {
		t.Errorf("after resuming: event %d, want %d", got, ids[1]+1)
	}
	all := follow(t, base, "?since=0")
	for want := int64(1); want <= ids[1]+1; want++ {
		if got := all.next(t).id; got != want {
			t.Fatalf("since=0: event %d, want %d", got, want)
		}
	}
	all.quiet(t, 300*time.Millisecond)
}

func TestStrikeEventsRefusals(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) { c.Limits.MaxFeedClients = 1 })
	for _, tc := range []struct {
		name   string
		target string
		header []string
		status int
		param  string
	}{
		{"since not a number", "/strikes/events?since=abc", nil, http.StatusBadRequest, "since"},
		{"since negative", "/strikes/events?since=-1", nil, http.StatusBadRequest, "since"},
		{"since with a plus", "/strikes/events?since=+1", nil, http.StatusBadRequest, "since"},
		{"unknown parameter", "/strikes/events?bbox=1,2,3,4", nil, http.StatusBadRequest, "bbox"},
		{"bad Last-Event-ID", "/strikes/events", []string{"Last-Event-ID: 1e3"}, http.StatusBadRequest, "Last-Event-ID"},
		{"JSON only", "/strikes/events", []string{"Accept: application/json"}, http.StatusNotAcceptable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.get(t, tc.target, tc.header...)
			if rec.Code != tc.status || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			if tc.param != "" && !strings.Contains(rec.Body.String(), tc.param) {
				t.Errorf("the problem does not name %s: %s", tc.param, rec.Body)
			}
		})
	}
	base := serveLive(t, f, server.Limits{})
	follow(t, base, "")
	res, err := http.Get(base + "/strikes/events")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("a client beyond MaxFeedClients: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// metric reads one sample of the server's /metrics, 0 when absent.
func metric(t testing.TB, base, sample string) float64 {
	t.Helper()
	return metricFrom(t, http.DefaultClient, base, sample)
}

// metricFrom is metric, asked by client.
func metricFrom(t testing.TB, client *http.Client, base, sample string) float64 {
	t.Helper()
	res, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	return 0
}

// TestStrikeEventsSlowClient: a client that stops reading is dropped
// once its buffer fills or a write to it stalls, while writes and the
// other clients go on undelayed.
func TestStrikeEventsSlowClient(t *testing.T) {
	// The fast client may lag ten posts; the slow one's socket fills first.
	// The slow one never reads, so any write deadline drops it; the fast
	// one's reader, starved of CPU on a busy machine, may leave a write
	// waiting for a second or more, so its deadline is the default 10 s.
	l := server.Limits{FeedBuffer: 500, FeedWriteTimeout: 10 * time.Second}
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) { c.Limits = l })
	base := serveLive(t, f, l)
	fast := follow(t, base, "")
	// The slow client sends its request and never reads a byte.
	slow, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if tcp, ok := slow.(*net.TCPConn); ok {
		tcp.SetReadBuffer(4 << 10)
	}
	fmt.Fprintf(slow, "GET /strikes/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	waitFor(t, func() bool { return metric(t, base, "protectmap_feed_clients") == 2 })

	// 80 posts of 50 strikes with 4 KB of notes each: 16 MB of events,
	// more than the loopback's socket buffers and the slow client's
	// buffer hold.
	notes := strings.Repeat("n", 4000)
	const posts, per = 80, 50
	for i := range posts {
		var fs []string
		for k := range per {
			fs = append(fs, strikeAt(30+float64(k)/100, 50, moratoriumStart, fmt.Sprintf(`"notes":%q,"source":"s","event_id":"%d-%d"`, notes, i, k)))
		}
		f.post(t, "application/geo+json", collectionOf(fs...), http.StatusCreated)
		// The fast client keeps up with every post.
		for range per {
			fast.next(t)
		}
	}
	waitFor(t, func() bool { return metric(t, base, "protectmap_feed_clients") == 1 })
	if dropped := metric(t, base, `protectmap_feed_dropped_total{reason="write_timeout"}`); dropped != 1 {
		t.Errorf("%v clients dropped, want the slow one", dropped)
	}
}

// TestStrikeEventsLargeWrite: one write of more events than a client's
// buffer holds drops no one; each client reads the rest from the store.
func TestStrikeEventsLargeWrite(t *testing.T) {
	// The server's own timeouts stay at their defaults: /metrics, read
	// below, is an ordinary request, which a busy machine may keep from
	// being answered within feedLimits' 300 ms.
	l := server.Limits{FeedBuffer: 8}
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) { c.Limits = l })
	base := serveLive(t, f, l)
	clients := []*sseClient{follow(t, base, ""), follow(t, base, "")}
	var fs []string
	for k := range 300 {
		fs = append(fs, strikeAt(30+float64(k)/1000, 50, moratoriumStart, ""))
	}
	f.post(t, "application/geo+json", collectionOf(fs...), http.StatusCreated)
	for i, c := range clients {
		for want := int64(1); want <= 300; want++ {
			if got := c.next(t).id; got != want {
				t.Fatalf("client %d: event %d, want %d", i, got, want)
			}
		}
		c.quiet(t, 100*time.Millisecond)
	}
	if n := metric(t, base, "protectmap_feed_clients"); n != 2 {
		t.Errorf("%v clients connected, want 2", n)
	}
}

// waitFor polls cond for up to a minute: what it waits for may be due
// only after a deadline of the server's, such as a write timeout, and a
// busy machine delays both.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
	}
}

// TestStrikeEventsEndAtShutdown: ending Config.Context ends the streams,
// so a graceful shutdown does not wait for them.
func TestStrikeEventsEndAtShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) { c.Context = ctx })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.HTTPServer(f.e, server.Limits{})
	go srv.Serve(ln)
	c := follow(t, "http://"+ln.Addr().String(), "")
	cancel()
	sctx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived the shutdown")
	}
}

// TestStrikeEventsReplicas: two servers on one PostgreSQL send the same
// events with the same ids, a strike posted to one reaching the clients
// of the other at once: woken by NOTIFY, as the poll is set to an hour.
func TestStrikeEventsReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	l := server.Limits{FeedPoll: time.Hour}
	a := newStrikeFixture(t, dsn, func(c *server.Config) { c.Limits = l })
	b := newStrikeFixture(t, dsn, func(c *server.Config) { c.Limits = l })
	onA, onB := follow(t, serveLive(t, a, l), ""), follow(t, serveLive(t, b, l), "")
	for i := range 3 {
		poster := []*strikeFixture{a, b}[i%2]
		created := poster.post(t, "application/geo+json", strikeAt(30.4702, 50.5253, moratoriumStart.Add(time.Duration(i)*time.Hour), ""), http.StatusCreated)
		ea, eb := onA.next(t), onB.next(t)
		if ea.id != int64(i+1) || eb.id != ea.id || ea.data["id"] != created["id"] || eb.data["id"] != created["id"] {
			t.Errorf("strike %v: replica A sent %d %v, B %d %v", created["id"], ea.id, ea.data["id"], eb.id, eb.data["id"])
		}
	}
}
