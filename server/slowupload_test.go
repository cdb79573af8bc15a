package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server"
)

// trickle posts a chunked body (of unknown length, so heavy) that sends
// one byte of body every interval until the answer comes; it returns the
// status and how long the answer took.
func trickle(t *testing.T, url, body, token string, interval time.Duration) (int, time.Duration) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer pw.Close()
		for i := 0; i < len(body); i++ {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			if _, err := pw.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	defer close(done)
	req, _ := http.NewRequest(http.MethodPost, url, pr)
	req.Header.Set("Content-Type", "application/geo+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	io.Copy(io.Discard, res.Body) //nolint:errcheck
	res.Body.Close()
	return res.StatusCode, time.Since(start)
}

// postChunked posts body whole but chunked, so the request is heavy.
func postChunked(t *testing.T, url, body, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/geo+json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// TestSlowUploads: with one heavy slot, uploads at a byte a second cannot
// keep a large import out. Without a token they are refused before a slot
// is taken (regression: two held both slots for minutes); with one, they
// are cut off with 408 once a window passes without its quota, and the
// slot is free again.
func TestSlowUploads(t *testing.T) {
	const window = 400 * time.Millisecond
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
		c.Limits.MaxHeavy, c.Limits.MinUploadWindow, c.Limits.MinUploadBytesPerSecond = 1, window, 100
	})
	srv := httptest.NewServer(f.e)
	defer srv.Close()
	body := collectionOf(strikeAt(30.5, 50.4, moratoriumStart, `"event_id":"slow"`))

	// An answer that waited for the body would come only once all of it
	// was sent; the bounds are half that, as a busy machine may delay an
	// answer due at once by seconds.
	sending := func(interval time.Duration) time.Duration { return time.Duration(len(body)) * interval }
	for _, target := range []string{"/strikes", "/admin/reload"} {
		const interval = 100 * time.Millisecond
		if code, took := trickle(t, srv.URL+target, body, "", interval); code != http.StatusUnauthorized && code != http.StatusNotFound || took > sending(interval)/2 {
			t.Errorf("POST %s without a token, slowly: %d after %v, want 401 at once", target, code, took)
		}
	}
	for _, tc := range []struct{ target, token string }{{"/strikes", testToken}, {"/proximity", ""}} {
		const interval = 200 * time.Millisecond
		code, took := trickle(t, srv.URL+tc.target, body, tc.token, interval)
		if code != http.StatusRequestTimeout || took > sending(interval)/2 {
			t.Errorf("POST %s at 5 bytes a second: %d after %v, want 408 after about %v", tc.target, code, took, window)
		}
	}
	if res := postChunked(t, srv.URL+"/strikes", body, testToken); res.StatusCode != http.StatusCreated {
		t.Errorf("a whole import after the slow ones: %d, want 201 (the slot is free)", res.StatusCode)
	}
}
