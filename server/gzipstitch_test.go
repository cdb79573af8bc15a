package server_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/internal/benchset"
)

// TestGzipStitched: proximity answers and items pages decode from their
// gzip form to the identity answer byte for byte, over many queries, on
// their first request (bodies being kept) and later ones (stitched from
// kept segments), with a cache that holds every body, one that fills up,
// and whole-stream compression.
func TestGzipStitched(t *testing.T) {
	ix, sites, err := benchset.Index(20_000, benchset.Seed)
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	targets = append(targets, benchset.ProximityTargets(sites, 60, benchset.Seed)...)
	targets = append(targets, benchset.ItemsTargets(sites, 60, benchset.Seed)...)
	for i, q := range []string{"&uncertainty=800", "&geometry=simplified", "&limit=200&radius=20000&collections=" + benchset.Collection} {
		p := sites[i*1000].Geometry.Bound().Center()
		targets = append(targets, fmt.Sprintf("/proximity?lon=%.5f&lat=%.5f", p[0], p[1])+q)
	}
	targets = append(targets, "/collections/"+benchset.Collection+"/items?limit=1000", "/collections/"+benchset.Collection+"/items?properties=name&limit=50")
	tests := []struct {
		name     string
		cache    int
		stream   bool
		stitched bool // whether answers after the first carry a stitched gzip form
	}{
		{"holds all", 0, false, true},
		{"fills up", 16 << 10, false, false},
		{"stream", 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var current atomic.Pointer[geo.Index]
			current.Store(ix)
			e := server.New(server.Config{Index: &current, FeatureCacheBytes: tt.cache, GzipStream: tt.stream,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			stitched := 0
			for pass := range 2 {
				for _, target := range targets {
					plain, zipped := httptest.NewRecorder(), httptest.NewRecorder()
					e.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, target, nil))
					req := httptest.NewRequest(http.MethodGet, target, nil)
					req.Header.Set("Accept-Encoding", "gzip")
					e.ServeHTTP(zipped, req)
					if plain.Code != http.StatusOK || zipped.Code != http.StatusOK {
						t.Fatalf("%s: %d and %d", target, plain.Code, zipped.Code)
					}
					if zipped.Header().Get("Content-Encoding") != "gzip" {
						if plain.Body.Len() >= 1400 {
							t.Errorf("%s: %d bytes not gzipped", target, plain.Body.Len())
						}
						continue
					}
					if got := testenv.Gunzip(t, zipped.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) {
						t.Fatalf("pass %d, %s: gunzipped to\n%.300s\nwant\n%.300s", pass, target, got, plain.Body.Bytes())
					}
					// A stitched answer is assembled whole, so its length is known.
					if pass == 1 && zipped.Header().Get("Content-Length") != "" {
						stitched++
					}
				}
			}
			if tt.stitched != (stitched > len(targets)/2) {
				t.Errorf("%d of %d answers stitched", stitched, len(targets))
			}
		})
	}
}

// TestGzipStitchedCurl: curl, which gunzips as browsers and GDAL do
// through zlib, reads a stitched proximity answer and items page as the
// identity ones.
func TestGzipStitchedCurl(t *testing.T) {
	curl := testenv.Tool(t, "curl")
	f := newFixture(t)
	srv := httptest.NewServer(f.e)
	defer srv.Close()
	for _, target := range []string{"/proximity?lon=30.5&lat=50.45&radius=50000&limit=50", "/collections/energy/items"} {
		for range 2 { // the second is stitched from the segments the first kept
			plain, err := exec.Command(curl, "-sSf", srv.URL+target).Output()
			if err != nil {
				t.Fatalf("curl %s: %v", target, err)
			}
			out, err := exec.Command(curl, "--compressed", "-sSf", srv.URL+target).Output()
			if err != nil {
				t.Fatalf("curl --compressed %s: %v", target, err)
			}
			if !bytes.Equal(out, plain) {
				t.Fatalf("curl --compressed %s read\n%.300s\nwant\n%.300s", target, out, plain)
			}
		}
		if rec := f.get(t, target, "Accept-Encoding: gzip"); rec.Header().Get("Content-Length") == "" {
			t.Errorf("%s was not stitched: %v", target, rec.Header())
		}
	}
}

// TestGzipAnswerTagIsWeak: an answer compressed as it is sent may come out
// in other bytes next time (stitched, or compressed whole), so its gzip
// form's ETag is weak, and still revalidates; a download compressed once
// keeps a strong one (TestDownloads).
func TestGzipAnswerTagIsWeak(t *testing.T) {
	f := newFixture(t)
	const target = "/collections/energy/items"
	plain := f.get(t, target)
	zipped := f.get(t, target, "Accept-Encoding: gzip")
	if zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("%s not gzipped: %v", target, zipped.Header())
	}
	etag, plainTag := zipped.Header().Get("ETag"), plain.Header().Get("ETag")
	if etag != "W/"+strings.TrimSuffix(plainTag, `"`)+`-gzip"` || strings.HasPrefix(plainTag, "W/") {
		t.Fatalf("ETag %q gzipped, %q plain: want the plain one, strong, and a weak gzip one", etag, plainTag)
	}
	if rec := f.get(t, target, "Accept-Encoding: gzip", "If-None-Match: "+etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, rec.Code)
	}
	if rec := f.get(t, target, "If-None-Match: "+etag); rec.Code != http.StatusOK {
		t.Errorf("the gzip ETag matched the plain answer: %d", rec.Code)
	}
}
