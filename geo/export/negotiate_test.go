package export

import (
	"slices"
	"testing"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		name, accept string
		want         Format
		ok           bool
	}{
		{"no header", "", GeoJSON, true},
		{"anything", "*/*", GeoJSON, true},
		{"browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", GeoJSON, true},
		{"plain json", "application/json", GeoJSON, true},
		{"csv", "text/csv", CSV, true},
		{"csv in capitals with a charset", "Text/CSV; charset=utf-8", CSV, true},
		{"kml", "application/vnd.google-earth.kml+xml", KML, true},
		{"ndjson", "application/x-ndjson", NDJSON, true},
		{"text of any kind", "text/*", CSV, true},
		{"explicit beats a wildcard at equal q", "*/*, text/csv", CSV, true},
		{"higher q wins", "text/csv;q=0.5, application/vnd.google-earth.kml+xml;q=0.8", KML, true},
		{"q of the most specific range counts", "text/*;q=0.9, text/csv;q=0.1, application/geo+json;q=0.5", GeoJSON, true},
		{"refused types, anything else", "application/geo+json;q=0, application/json;q=0, */*", NDJSON, true},
		{"refusing one of GeoJSON's types leaves the other", "application/json;q=0, */*", GeoJSON, true},
		{"nothing we have", "image/png, text/html", "", false},
		{"all refused", "*/*;q=0", "", false},
		{"malformed ranges are skipped", "garbage, text/csv", CSV, true},
		{"bad q skips the range", "text/csv;q=2, application/vnd.google-earth.kml+xml;q=0.1", KML, true},
		{"only malformed ranges: as if absent", "garbage;;,", GeoJSON, true},
		{"wildcard type needs wildcard subtype", "*/csv", GeoJSON, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Negotiate(c.accept)
			if ok != c.ok || ok && got != c.want {
				t.Errorf("Negotiate(%q) = %q, %v; want %q, %v", c.accept, got, ok, c.want, c.ok)
			}
		})
	}
}

// TestNegotiateAmong: a resource offering fewer formats refuses the rest
// and defaults to its first.
func TestNegotiateAmong(t *testing.T) {
	offered := []Format{GeoJSON, CSV}
	for _, c := range []struct {
		accept string
		want   Format
		ok     bool
	}{
		{"", GeoJSON, true},
		{"text/csv", CSV, true},
		{"application/vnd.google-earth.kml+xml", "", false},
		{"application/x-ndjson, text/*;q=0.1", CSV, true},
		{"text/html", "", false},
		{"application/xml", "", false},
	} {
		if got, ok := NegotiateAmong(c.accept, offered); ok != c.ok || ok && got != c.want {
			t.Errorf("NegotiateAmong(%q) = %q, %v; want %q, %v", c.accept, got, ok, c.want, c.ok)
		}
	}
	if got, ok := NegotiateAmong("", []Format{CSV, GeoJSON}); !ok || got != CSV {
		t.Errorf("no Accept header gets %q, %v; want the first offered", got, ok)
	}
}

// FuzzNegotiate: any header yields one of the formats or a refusal, never
// a panic; and a format's own content type put first wins, unless the
// header names another format's type as exactly at full quality.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "text/csv;q=0.5, */*;q=0.1", "application/json;q=0", "a/b;q=x", ",,;", "text/*;q=1.000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got, ok := Negotiate(accept)
		if ok != (got != "") || ok && !slices.Contains(Formats(), got) {
			t.Fatalf("Negotiate(%q) = %q, %v", accept, got, ok)
		}
		for _, want := range Formats() {
			header := want.ContentType() + ", " + accept
			got, ok := Negotiate(header)
			if !ok {
				t.Fatalf("Negotiate(%q) refused %s", header, want)
			}
			if q, spec := quality(parseAccept(accept), mediaTypes[got]); got != want && (q != 1 || spec != 2) {
				t.Fatalf("Negotiate(%q) = %s, want %s", header, got, want)
			}
		}
	})
}
