package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/internal/testenv"
)

// TestNumberSyntax holds every reader of numbers in requests to the one
// table: query parameters, bboxes, GeoJSON strikes (recorded and batch
// proximity) and ACLED CSV. Each number is given as a longitude, so the
// accepted ones are answered and the others refused with 400.
func TestNumberSyntax(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	feature := func(lon string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[` + lon + `,50]},"properties":{"datetime":"2025-03-20T00:00:00Z"}}`
	}
	readers := []struct {
		name string
		do   func(text string) int
	}{
		{"query parameter", func(s string) int { return f.get(t, "/proximity?lat=50&lon="+url.QueryEscape(s)).Code }},
		{"bbox", func(s string) int {
			return f.get(t, "/collections/energy/items?bbox="+url.QueryEscape(s)+",49,31,51").Code
		}},
		{"batch proximity", func(s string) int {
			return f.do(t, http.MethodPost, "/proximity", strings.NewReader(collectionOf(feature(s)))).Code
		}},
		{"GeoJSON strike", func(s string) int {
			return f.send(t, http.MethodPost, "/strikes", "application/geo+json", feature(s), true).Code
		}},
		{"ACLED CSV", func(s string) int {
			csv := "event_id_cnty,event_date,latitude,longitude,geo_precision\nUKR1," + "2025-03-20,50,\"" + s + "\",1\n"
			return f.send(t, http.MethodPost, "/strikes", "text/csv", csv, true).Code
		}},
	}
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			for _, tc := range testenv.NumberSyntax() {
				code := r.do(tc.Text)
				if ok := code < 300; ok != tc.OK || !ok && code != 400 {
					t.Errorf("%q: %d, want ok %v (else 400)", tc.Text, code, tc.OK)
				}
			}
		})
	}
}
