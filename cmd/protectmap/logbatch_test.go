package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// writes records each write it is given, whole.
type writes struct {
	mu  sync.Mutex
	got []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, string(p))
	return len(p), nil
}

func (w *writes) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.got...)
}

// TestLogBatchOrder: request lines wait for the batch; any other line
// goes out at once, after them, in the same write; Close writes the rest.
func TestLogBatchOrder(t *testing.T) {
	w := &writes{}
	b := newLogBatch(w, time.Hour)
	req := b.Requests()
	fmt.Fprint(req, "request 1\n")
	fmt.Fprint(req, "request 2\n")
	if got := w.list(); len(got) != 0 {
		t.Fatalf("request lines written before their batch: %q", got)
	}
	fmt.Fprint(b, "reloaded\n")
	fmt.Fprint(b, "serving\n")
	fmt.Fprint(req, "request 3\n")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"request 1\nrequest 2\nreloaded\n", "serving\n", "request 3\n"}
	if got := w.list(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("writes %q, want %q", got, want)
	}
}

// TestLogBatchFull: a batch that reaches logBatchBytes is written without
// waiting for the interval.
func TestLogBatchFull(t *testing.T) {
	w := &writes{}
	b := newLogBatch(w, time.Hour)
	defer b.Close()
	line := strings.Repeat("x", 99) + "\n"
	for range logBatchBytes/len(line) - 1 {
		fmt.Fprint(b.Requests(), line)
	}
	if got := w.list(); len(got) != 0 {
		t.Fatalf("%d writes before the batch filled", len(got))
	}
	fmt.Fprint(b.Requests(), line)
	fmt.Fprint(b.Requests(), line)
	got := w.list()
	if len(got) != 1 || len(got[0]) != len(line)*(logBatchBytes/len(line)+1) {
		t.Errorf("%d writes once the batch filled (%d bytes in the first), want one of the whole batch", len(got), len(got[0]))
	}
}

// TestLogBatchInterval: gathered lines go out within the interval, with
// nothing else written.
func TestLogBatchInterval(t *testing.T) {
	w := &writes{}
	b := newLogBatch(w, 20*time.Millisecond)
	defer b.Close()
	fmt.Fprint(b.Requests(), "request\n")
	deadline := time.Now().Add(10 * time.Second)
	for len(w.list()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := w.list(); len(got) != 1 || got[0] != "request\n" {
		t.Errorf("writes %q, want the request line alone", got)
	}
}

// TestLogBatchConcurrent: lines written from many goroutines at once all
// arrive whole (run with -race).
func TestLogBatchConcurrent(t *testing.T) {
	w := &writes{}
	b := newLogBatch(w, time.Millisecond)
	var wg sync.WaitGroup
	const writers, lines = 8, 500
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				if i%50 == 0 {
					fmt.Fprintf(b, "event %d %d\n", g, i)
				} else {
					fmt.Fprintf(b.Requests(), "request %d %d\n", g, i)
				}
			}
		})
	}
	wg.Wait()
	b.Close()
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(strings.Join(w.list(), ""), "\n"), "\n") {
		seen[l] = true
	}
	for g := range writers {
		for i := range lines {
			kind := "request"
			if i%50 == 0 {
				kind = "event"
			}
			if l := fmt.Sprintf("%s %d %d", kind, g, i); !seen[l] {
				t.Fatalf("line %q missing or broken among %d", l, len(seen))
			}
		}
	}
	if len(seen) != writers*lines {
		t.Errorf("%d distinct lines, want %d", len(seen), writers*lines)
	}
}

// TestServeBatchesRequestLog: serve gathers its request lines, and writes
// them before any later line of its own, so a stop leaves the log whole and
// in order.
func TestServeBatchesRequestLog(t *testing.T) {
	// No tiles warmed in the background: their lines would carry the
	// request's out with them.
	s := startServe(t, "--request-log-interval", "1h", "--warm-tiles", "0")
	askConformance(t, s)
	const asked = `uri=/conformance`
	time.Sleep(200 * time.Millisecond) // a line written at once would be there by now
	if strings.Contains(s.logs.String(), asked) {
		t.Fatalf("the request line was written before its batch:\n%s", s.logs.String())
	}
	s.stop()
	logs := s.logs.String()
	at, stopping := strings.Index(logs, asked), strings.Index(logs, `msg="shutting down"`)
	if at < 0 || stopping < 0 || at > stopping {
		t.Errorf("the request line is missing, or after the stop's:\n%s", logs)
	}
}

// TestServeRequestLogInterval: by default the request lines reach the log
// within a fraction of a second, with no other line to carry them, and
// with --request-log-interval 0 each goes out at once.
func TestServeRequestLogInterval(t *testing.T) {
	for _, args := range [][]string{nil, {"--request-log-interval", "0"}} {
		s := startServe(t, args...)
		askConformance(t, s)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(s.logs.String(), "uri=/conformance") {
			if time.Now().After(deadline) {
				t.Fatalf("%v: no request line within 10 s:\n%s", args, s.logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		s.stop()
	}
}

// askConformance asks s for /conformance once it serves.
func askConformance(t *testing.T, s *served) {
	t.Helper()
	s.waitFor("serving", func(readiness) bool { return true })
	addr := servingLine.FindStringSubmatch(s.logs.String())[1]
	res, err := http.Get("http://" + addr + "/conformance")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}
