package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server/store"
)

// TestComputedProperties records a strike carrying properties the server
// computes (its id, a verdict, hits): they are dropped on write, so no
// page, export or report serves them as given, while its own properties
// stay.
func TestComputedProperties(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	forged := `"id":"forged","verdict":"forged","verdict_now":"forged","hits":"forged","summary":"forged","protected_sites":"forged","created_at":"forged","updated_at":"forged","kept":"own"`
	f.post(t, "application/geo+json", collectionOf(strikeAt(30.4702, 50.5253, moratoriumStart.Add(time.Hour), forged)), http.StatusCreated)
	f.post(t, "application/geo+json", strikeAt(30.4702, 50.5253, moratoriumStart.Add(2*time.Hour), `"event_id":"lone",`+forged), http.StatusCreated)
	for _, target := range []string{"/strikes", "/collections/strikes/items", "/strikes?f=ndjson", "/strikes?f=kml", "/strikes?f=csv", "/report?from=2025-01-01", "/report?from=2025-01-01&f=csv"} {
		t.Run(target, func(t *testing.T) {
			rec := f.get(t, target)
			if rec.Code != 200 {
				t.Fatalf("%d\n%s", rec.Code, rec.Body)
			}
			if body := rec.Body.String(); strings.Contains(body, "forged") || !strings.Contains(body, "own") && !strings.Contains(target, "csv") {
				t.Errorf("serves a forged property, or not its own:\n%s", body)
			}
		})
	}
	// The batch proximity answer computes hits and summary itself.
	rec := f.do(t, http.MethodPost, "/proximity", strings.NewReader(collectionOf(strikeAt(30.4702, 50.5253, moratoriumStart, forged))))
	if body := rec.Body.String(); rec.Code != 200 || strings.Contains(body, "forged") || strings.Count(body, `"hits"`) != 1 || !strings.Contains(body, `"kept":"own"`) {
		t.Errorf("POST /proximity: %d\n%s", rec.Code, body)
	}
}

// TestPropertyDepth: strike properties nested deeper than the documented
// limit are refused with 400 naming them, before anything is stored, by
// every reader of strikes; at the limit they are taken.
func TestPropertyDepth(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	// The properties object is the first level.
	nested := func(depth int) string {
		return `"n":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1)
	}
	limit := store.MaxPropertyDepth
	deep := strikeAt(30, 50, moratoriumStart, nested(limit+1))
	reason := fmt.Sprintf("nested %d deep, more than %d", limit+1, limit)

	for _, body := range []string{deep, collectionOf(strikeAt(31, 50, moratoriumStart, ""), deep)} {
		rec := f.send(t, http.MethodPost, "/strikes", "application/geo+json", body, true)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `properties: `+reason) || strings.Contains(rec.Body.String(), "properties.properties") {
			t.Errorf("POST /strikes: %d\n%s", rec.Code, rec.Body)
		}
	}
	if doc := f.getJSON(t, "/strikes"); len(featureIDs(t, doc)) != 0 {
		t.Fatalf("a refused request stored %v", featureIDs(t, doc))
	}
	rec := f.do(t, http.MethodPost, "/proximity", strings.NewReader(collectionOf(deep)))
	checkProblem(t, rec, 400, "features[0].properties", reason)

	atLimit := strikeAt(30, 50, moratoriumStart, nested(limit))
	f.post(t, "application/geo+json", atLimit, http.StatusCreated)
	for _, target := range []string{"/strikes", "/strikes?f=ndjson", "/strikes?f=kml", "/report?from=2025-01-01"} {
		if rec := f.get(t, target); rec.Code != 200 || !strings.Contains(rec.Body.String(), strings.Repeat("[", limit-1)) && !strings.Contains(target, "kml") {
			t.Errorf("GET %s with a strike at the limit: %d", target, rec.Code)
		}
	}
	if rec := f.do(t, http.MethodPost, "/proximity", strings.NewReader(collectionOf(atLimit))); rec.Code != 200 {
		t.Errorf("POST /proximity at the limit: %d\n%s", rec.Code, rec.Body)
	}
}

// TestPropertyText: a NUL or a lone surrogate escaped in strike properties
// is refused with 400 by every strike reader, text fields and the others
// alike, rather than stored as something else than was sent.
func TestPropertyText(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	for _, props := range []string{`"notes":"a\u0000b"`, `"notes":"\ud83d"`, `"mine":{"k":"\u0000"}`, `"mine":["\udc00"]`} {
		deep := strikeAt(30, 50, moratoriumStart, props)
		if rec := f.send(t, http.MethodPost, "/strikes", "application/geo+json", deep, true); rec.Code != 400 {
			t.Errorf("POST /strikes with %s: %d", props, rec.Code)
		}
		if rec := f.do(t, http.MethodPost, "/proximity", strings.NewReader(collectionOf(deep))); rec.Code != 400 {
			t.Errorf("POST /proximity with %s: %d", props, rec.Code)
		}
	}
	ok := strikeAt(30, 50, moratoriumStart, `"notes":"\ud83d\ude00 \\u0000","mine":"\ufffd"`)
	f.post(t, "application/geo+json", ok, http.StatusCreated)
	if rec := f.get(t, "/strikes?f=ndjson"); !strings.Contains(rec.Body.String(), `"notes":"😀 \\u0000"`) {
		t.Errorf("a pair and an escaped backslash came back as %s", rec.Body)
	}
}
