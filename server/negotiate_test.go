package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNotAcceptable: every negotiated resource answers an Accept header
// that rules out all it offers with 406, naming what it offers, and
// otherwise the representation asked for.
func TestNotAcceptable(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	all := "application/geo+json, application/x-ndjson, text/csv, application/vnd.google-earth.kml+xml"
	resources := []struct{ target, offered string }{
		{"/collections/energy/items", all},
		{"/strikes", all},
		{"/collections/strikes/items", all},
		{"/report?from=2025-01-01", "application/geo+json, text/csv"},
	}
	accepts := []struct{ accept, want string }{
		{"text/html", ""},
		{"application/xml", ""},
		{"image/png, text/html;q=0.9", ""},
		{"*/*;q=0", ""},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/geo+json"},
		{"application/json", "application/geo+json"},
		{"text/csv", "text/csv"},
		{"", "application/geo+json"},
	}
	for _, r := range resources {
		for _, a := range accepts {
			t.Run(r.target+" "+a.accept, func(t *testing.T) {
				rec := f.get(t, r.target, "Accept: "+a.accept)
				if vary := strings.Join(rec.Header().Values("Vary"), ", "); !strings.Contains(vary, "Accept,") && !strings.HasSuffix(vary, "Accept") {
					t.Errorf("Vary %q lacks Accept", vary)
				}
				if a.want == "" {
					checkProblem(t, rec, http.StatusNotAcceptable, "", "offered as "+r.offered+" (or ask with f=")
					return
				}
				if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), a.want) || rec.Body.Len() == 0 {
					t.Errorf("%d %s with %d bytes, want %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), a.want)
				}
			})
		}
	}
}
