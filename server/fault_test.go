package server_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server/store"
	"github.com/protectmap/protectmap/server/store/pgtest"
)

// faultWrite is one POST /strikes of the fault test and what came of it.
type faultWrite struct {
	n          int
	start, end time.Time
	status     int
	id         string // of the strike, when recorded
	problem    bool   // the body was application/problem+json
	retryAfter string
}

// faultWriter posts strikes one after another until stopped, each with its
// own event id, and keeps every outcome.
type faultWriter struct {
	url    string
	prefix string // of the event ids; "F" when empty
	client *http.Client
	mu     sync.Mutex
	writes []faultWrite
	stop   chan struct{}
	done   chan struct{}
}

func (w *faultWriter) run(t *testing.T) {
	defer close(w.done)
	for n := 0; ; n++ {
		select {
		case <-w.stop:
			return
		default:
		}
		body := strikeAt(30.4702, 50.5253, moratoriumStart.Add(time.Duration(n)*time.Second),
			fmt.Sprintf(`"source":"fault test","event_id":"%s%d"`, w.eventPrefix(), n))
		req, _ := http.NewRequest(http.MethodPost, w.url+"/strikes", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/geo+json")
		req.Header.Set("Authorization", "Bearer "+testToken)
		wr := faultWrite{n: n, start: time.Now()}
		res, err := w.client.Do(req)
		if err != nil {
			t.Errorf("POST /strikes #%d: %v", n, err)
			return
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		wr.end, wr.status, wr.retryAfter = time.Now(), res.StatusCode, res.Header.Get("Retry-After")
		mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
		wr.problem = mt == "application/problem+json"
		if wr.status == http.StatusCreated {
			wr.id = decode(t, raw)["id"].(string)
		}
		w.mu.Lock()
		w.writes = append(w.writes, wr)
		w.mu.Unlock()
		time.Sleep(2 * time.Millisecond) // a steady stream, not a flood
	}
}

func (w *faultWriter) eventPrefix() string {
	if w.prefix == "" {
		return "F"
	}
	return w.prefix
}

// since returns the writes that started at or after from.
func (w *faultWriter) since(from time.Time) []faultWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []faultWrite
	for _, wr := range w.writes {
		if !wr.start.Before(from) {
			out = append(out, wr)
		}
	}
	return out
}

// waitFor waits until ok holds for the writes started since from.
func (w *faultWriter) waitFor(t *testing.T, what string, from time.Time, ok func([]faultWrite) bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok(w.since(from)) {
			return
		}
	}
	t.Fatalf("waited a minute for %s", what)
}

// countStatus is how many of writes got status.
func countStatus(writes []faultWrite, status int) int {
	n := 0
	for _, wr := range writes {
		if wr.status == status {
			n++
		}
	}
	return n
}

// TestStoreOutage stops PostgreSQL under a stream of writes: while it is
// down every write is refused with 503 and Retry-After, and /readyz says
// not ready; once it is back writes succeed again without restarting the
// server, and every strike acknowledged with 201 is in the database.
func TestStoreOutage(t *testing.T) {
	pg := pgtest.New(t)
	dsn := pg.DSN(t)
	f := newStrikeFixture(t, dsn)
	srv := httptest.NewServer(f.e)
	defer srv.Close()
	ready := func() int {
		t.Helper()
		res, err := srv.Client().Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d", got)
	}

	w := &faultWriter{url: srv.URL, client: srv.Client(), stop: make(chan struct{}), done: make(chan struct{})}
	w.client.Timeout = time.Minute
	go w.run(t)
	var once sync.Once
	stopWriting := func() {
		once.Do(func() { close(w.stop) })
		<-w.done
	}
	defer stopWriting()
	const enough = 20
	w.waitFor(t, "writes before the outage", time.Time{}, func(ws []faultWrite) bool { return countStatus(ws, http.StatusCreated) >= enough })

	stopping := time.Now()
	pg.Stop(t)
	down := time.Now()
	w.waitFor(t, "writes during the outage", down, func(ws []faultWrite) bool { return len(ws) >= enough })
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store down: %d, want 503", got)
	}
	during := w.since(down)
	for _, wr := range during {
		if wr.status != http.StatusServiceUnavailable || !wr.problem || wr.retryAfter == "" {
			t.Errorf("write #%d with the store down: %d (problem+json %v, Retry-After %q), want 503 problem+json with Retry-After",
				wr.n, wr.status, wr.problem, wr.retryAfter)
		}
	}

	pg.Start(t)
	up := time.Now()
	w.waitFor(t, "writes after the outage", up, func(ws []faultWrite) bool { return countStatus(ws, http.StatusCreated) >= enough })
	if got := ready(); got != http.StatusOK {
		t.Errorf("/readyz with the store back: %d, want 200", got)
	}
	stopWriting()

	// Writes in flight while PostgreSQL stopped or started may go either
	// way; those before and after must succeed, with no restart between.
	var acked []faultWrite
	for _, wr := range w.writes {
		if (wr.end.Before(stopping) || wr.start.After(up)) && wr.status != http.StatusCreated ||
			wr.status != http.StatusCreated && wr.status != http.StatusServiceUnavailable {
			t.Errorf("write #%d: %d with the store up", wr.n, wr.status)
		}
		if wr.id != "" {
			acked = append(acked, wr)
		}
	}
	t.Logf("%d writes, %d while PostgreSQL was down; %d acknowledged", len(w.writes), len(during), len(acked))

	// Read every acknowledged strike back through a connection of its own.
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, wr := range acked {
		s, err := st.Get(context.Background(), wr.id)
		if err != nil {
			t.Errorf("write #%d was acknowledged as %s but is not in the database: %v", wr.n, wr.id, err)
			continue
		}
		if want := fmt.Sprintf("%s%d", w.eventPrefix(), wr.n); s.SourceEventID != want {
			t.Errorf("strike %s is event %q, want %q", wr.id, s.SourceEventID, want)
		}
	}
}

// TestStoreRestartMidRequest restarts PostgreSQL as a crash would, three
// times, under writers and readers of the strike log: a request the
// restart cuts short, or that comes while the database recovers, gets 503
// problem+json with Retry-After, never 500; every other one succeeds; and
// every strike acknowledged is in the database afterwards.
func TestStoreRestartMidRequest(t *testing.T) {
	pg := pgtest.New(t)
	dsn := pg.DSN(t)
	f := newStrikeFixture(t, dsn)
	srv := httptest.NewServer(f.e)
	defer srv.Close()

	writers := make([]*faultWriter, 3)
	for i := range writers {
		w := &faultWriter{url: srv.URL, prefix: fmt.Sprintf("R%d-", i), client: &http.Client{Timeout: time.Minute},
			stop: make(chan struct{}), done: make(chan struct{})}
		writers[i] = w
		go w.run(t)
	}
	// Readers list the log and read strikes back as the writers go.
	type read struct {
		target, problem, retryAfter string
		status                      int
	}
	var (
		readsMu sync.Mutex
		reads   []read
	)
	stopReading, readersDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readersDone)
		client := &http.Client{Timeout: time.Minute}
		for n := 0; ; n++ {
			select {
			case <-stopReading:
				return
			default:
			}
			target := "/strikes?limit=50"
			if n%2 == 1 {
				target = "/report?from=2025-01-01"
			}
			res, err := client.Get(srv.URL + target)
			if err != nil {
				t.Errorf("GET %s: %v", target, err)
				return
			}
			io.Copy(io.Discard, res.Body) //nolint:errcheck
			res.Body.Close()
			readsMu.Lock()
			reads = append(reads, read{target, res.Header.Get("Content-Type"), res.Header.Get("Retry-After"), res.StatusCode})
			readsMu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	stop := func() {
		for _, w := range writers {
			select {
			case <-w.stop:
			default:
				close(w.stop)
			}
			<-w.done
		}
		select {
		case <-stopReading:
		default:
			close(stopReading)
		}
		<-readersDone
	}
	defer stop()

	created := func() int {
		n := 0
		for _, w := range writers {
			n += countStatus(w.since(time.Time{}), http.StatusCreated)
		}
		return n
	}
	for round := range 3 {
		before := created()
		for deadline := time.Now().Add(time.Minute); created() < before+20; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the writers recorded %d strikes in a minute, want 20", round, created()-before)
			}
		}
		pg.Restart(t)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if after := created(); after >= 80 || time.Now().After(deadline) {
			break
		}
	}
	stop()

	check := func(what string, status int, ctype, retryAfter string) {
		switch {
		case status == http.StatusOK || status == http.StatusCreated:
		case status == http.StatusServiceUnavailable:
			if mt, _, _ := mime.ParseMediaType(ctype); mt != "application/problem+json" || retryAfter == "" {
				t.Errorf("%s: 503 as %q with Retry-After %q, want problem+json with Retry-After", what, ctype, retryAfter)
			}
		default:
			t.Errorf("%s: %d while PostgreSQL restarted; want 2xx or 503", what, status)
		}
	}
	refused := 0
	for _, r := range reads {
		check("GET "+r.target, r.status, r.problem, r.retryAfter)
		if r.status == http.StatusServiceUnavailable {
			refused++
		}
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acked := 0
	for _, w := range writers {
		for _, wr := range w.writes {
			ctype := ""
			if wr.problem {
				ctype = "application/problem+json"
			}
			check(fmt.Sprintf("POST /strikes #%d", wr.n), wr.status, ctype, wr.retryAfter)
			if wr.status == http.StatusServiceUnavailable {
				refused++
			}
			if wr.id == "" {
				continue
			}
			acked++
			s, err := st.Get(context.Background(), wr.id)
			if err != nil {
				t.Errorf("%s: write #%d was acknowledged as %s but is not in the database: %v", w.prefix, wr.n, wr.id, err)
			} else if want := fmt.Sprintf("%s%d", w.prefix, wr.n); s.SourceEventID != want {
				t.Errorf("strike %s is event %q, want %q", wr.id, s.SourceEventID, want)
			}
		}
	}
	t.Logf("%d writes acknowledged, %d reads, %d requests refused with 503 over three restarts", acked, len(reads), refused)
	if refused == 0 {
		t.Error("no request met a restart: the test did not test it")
	}
}
