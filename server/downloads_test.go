package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestWholeCollectionDownloadGzip: a whole collection's export is sent
// gzipped, from bytes compressed once, to a client that accepts gzip, and
// uncompressed to one that does not; both decode to the same bytes, both
// vary on Accept-Encoding, and the gzipped one revalidates by its ETag.
func TestWholeCollectionDownloadGzip(t *testing.T) {
	f := newFixture(t)
	for _, format := range []string{"ndjson", "csv", "kml"} {
		t.Run(format, func(t *testing.T) {
			target := "/collections/energy/items?f=" + format
			plain := f.get(t, target)
			if plain.Code != http.StatusOK || plain.Header().Get("Content-Encoding") != "" || plain.Body.Len() == 0 {
				t.Fatalf("without Accept-Encoding: %d, Content-Encoding %q, %d bytes",
					plain.Code, plain.Header().Get("Content-Encoding"), plain.Body.Len())
			}
			zipped := f.get(t, target, "Accept-Encoding: gzip, deflate")
			if zipped.Code != http.StatusOK || zipped.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("with Accept-Encoding gzip: %d, Content-Encoding %q", zipped.Code, zipped.Header().Get("Content-Encoding"))
			}
			for _, rec := range []http.Header{plain.Header(), zipped.Header()} {
				if !slices.Contains(rec.Values("Vary"), "Accept-Encoding") {
					t.Errorf("Vary %q does not name Accept-Encoding", rec.Values("Vary"))
				}
			}
			if cd := zipped.Header().Get("Content-Disposition"); cd != plain.Header().Get("Content-Disposition") || !strings.Contains(cd, "energy") {
				t.Errorf("Content-Disposition %q gzipped, %q plain", cd, plain.Header().Get("Content-Disposition"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(zipped.Body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, plain.Body.Bytes()) {
				t.Fatalf("the gzipped download decodes to %d bytes that differ from the %d sent plain", len(body), plain.Body.Len())
			}
			etag := zipped.Header().Get("ETag")
			if !strings.HasSuffix(etag, `-gzip"`) {
				t.Fatalf("ETag %q does not name the gzip representation", etag)
			}
			again := f.get(t, target, "Accept-Encoding: gzip")
			if again.Header().Get("ETag") != etag || !bytes.Equal(again.Body.Bytes(), zipped.Body.Bytes()) {
				t.Errorf("a second download differs: ETag %q, want %q", again.Header().Get("ETag"), etag)
			}
			if rec := f.get(t, target, "Accept-Encoding: gzip", "If-None-Match: "+etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
				t.Errorf("If-None-Match with its ETag: %d with %d bytes, want 304 without a body", rec.Code, rec.Body.Len())
			}
			if rec := f.get(t, target, "If-None-Match: "+etag); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), plain.Body.Bytes()) {
				t.Errorf("the gzip ETag matched the uncompressed download: %d", rec.Code)
			}
		})
	}
}
