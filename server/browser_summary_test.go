package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/store"
)

// webSummary is the summary panel as the browser script reads it.
type webSummary struct {
	Strikes int
	Drawn   string
	Legend  []struct{ Verdict, Words string }
	Pixels  map[string]int
}

// TestBrowserSummary: the map's summary panel draws the strikes' verdicts
// over time as GET /strikes/summary counts them, follows the oblast chosen
// and the strike layer's dates, and its legend words each verdict.
func TestBrowserSummary(t *testing.T) {
	tools := needBrowser(t)
	ix := webDefaultIndex(t)
	agreements := webDefaultAgreements(t)
	// Hits and coarse locations at the Trypillia plant (Kyiv oblast), and
	// strikes far from any site in Kharkiv oblast, over two months.
	var strikes []store.Strike
	for i := range 24 {
		s := store.Strike{Time: time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC).Add(time.Duration(i*60) * time.Hour),
			Source: "summary-test", SourceEventID: strconv.Itoa(i)}
		switch i % 3 {
		case 0:
			s.Point = orb.Point{30.7468, 50.1344}
		case 1:
			s.Point, s.UncertaintyMeters = orb.Point{30.7468, 50.1344}, 30_000
		default:
			s.Point = orb.Point{37.1 + float64(i)*0.001, 49.2}
		}
		strikes = append(strikes, s)
	}
	srv := serveWeb(t, ix, "", func(c *server.Config) { c.Agreements, c.Store = agreements, webStrikeStore(t, strikes) })
	counted := func(query string) map[string]int {
		res, err := http.Get(srv.URL + "/strikes/summary?by=week" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var doc struct {
			Rows []struct {
				Verdict string
				Count   int
			}
		}
		if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != 200 {
			t.Fatalf("summary%s: %d %v", query, res.StatusCode, err)
		}
		out := map[string]int{}
		for _, r := range doc.Rows {
			out[r.Verdict] += r.Count
		}
		return out
	}
	const oblast, from = "UA-63", "2025-04-01"
	var got struct{ All, Oblast, From webSummary }
	c := runBrowser(t, tools, map[string]any{"scenario": "summary", "base": srv.URL, "hash": "#layers=strikes", "oblast": oblast, "from": from}, &got)
	webNoConsoleErrors(t, c.ConsoleErrors)

	all, inOblast, since := counted(""), counted("&oblast="+oblast), counted("&oblast="+oblast+"&from="+from)
	if all[string(agreement.ProtectedSiteHit)] == 0 || inOblast[string(agreement.ProtectedSiteHit)] != 0 {
		t.Fatalf("the strikes should hit outside %s alone: %v, in %s %v", oblast, all, oblast, inOblast)
	}
	for _, tc := range []struct {
		name   string
		shown  webSummary
		counts map[string]int
	}{{"all", got.All, all}, {oblast, got.Oblast, inOblast}, {oblast + " from " + from, got.From, since}} {
		total := 0
		for _, v := range agreement.Outcomes() {
			n := tc.counts[string(v)]
			total += n
			if drawn := tc.shown.Pixels[string(v)] > 0; drawn != (n > 0) {
				t.Errorf("%s: %s drawn %v (%d pixels), counted %d", tc.name, v, drawn, tc.shown.Pixels[string(v)], n)
			}
		}
		if tc.shown.Strikes != total || total == 0 {
			t.Errorf("%s: the panel says %d strikes, the summary counts %d", tc.name, tc.shown.Strikes, total)
		}
	}
	if got.From.Strikes >= got.Oblast.Strikes {
		t.Errorf("from %s: %d strikes, no fewer than the %d of the whole range", from, got.From.Strikes, got.Oblast.Strikes)
	}

	raw, err := os.ReadFile(filepath.Join(webDir, "src", "messages", "en.json"))
	if err != nil {
		t.Fatal(err)
	}
	var messages map[string]any
	if err := json.Unmarshal(raw, &messages); err != nil {
		t.Fatal(err)
	}
	if len(got.All.Legend) != len(agreement.Outcomes()) {
		t.Fatalf("legend %v: want every verdict", got.All.Legend)
	}
	for i, v := range agreement.Outcomes() {
		l := got.All.Legend[i]
		if l.Verdict != string(v) || l.Words == "" || l.Words != messages["legend."+string(v)] {
			t.Errorf("legend entry %d: %s %q, want %s %q", i, l.Verdict, l.Words, v, messages["legend."+string(v)])
		}
	}
}
