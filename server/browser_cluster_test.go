package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// webClusterDiscs is the most cluster discs (DOM markers) the country view
// of a big layer may hold: Leaflet lays one DOM element per disc, and a
// page with thousands of them pans and reads badly.
const webClusterDiscs = 300

// TestBrowserClusters shows a layer of 8,000 generated sites over Ukraine,
// several times the biggest default layer, at the country view in
// Chromium: its first render keeps within the default data's budget, the
// page holds a bounded number of cluster discs, whose badges
// and the symbols drawn alone add up to every site in view. Then, by the
// keyboard alone, Tab reaches the disc holding one site and Enter zooms
// into it, its sites all drawn in the closer view and split among discs
// and symbols, until the site is a symbol of its own, whose popup names it
// in both languages.
func TestBrowserClusters(t *testing.T) {
	tools := needBrowser(t)
	const n = 8000
	r := rand.New(rand.NewPCG(19, n))
	kinds := []string{"hospital", "plant", "substation"}
	features := make([]geo.Feature, n)
	for i := range features {
		name := fmt.Sprintf("Generated site %d", i)
		features[i] = geo.Feature{
			ID:         fmt.Sprintf("g%d", i),
			Geometry:   orb.Point{23 + r.Float64()*16, 45 + r.Float64()*7},
			Properties: json.RawMessage(fmt.Sprintf(`{"name":%q,"name_uk":"Згенерований об’єкт %d","kind":%q,"source":"generated"}`, name, i, kinds[i%len(kinds)])),
			Name:       name,
			Kind:       kinds[i%len(kinds)],
		}
	}
	layer, err := geo.NewLayer("generated", "generated sites", features)
	if err != nil {
		t.Fatal(err)
	}
	ix := webIndex(t, layer)
	srv := serveWeb(t, ix, "")
	target := features[0]
	at := target.Geometry.(orb.Point)

	type disc struct {
		DOMMarkers, Discs, BadgeSum int
		Keyboard                    bool
	}
	var got struct {
		Render  webRender
		Country struct {
			disc
			Drawn map[string]webDrawn
			Map   webMap
		}
		Steps []struct {
			Zoom, Count, Sites int
			Tabs               int
			Role, Label        string
			After              struct {
				Zoom, Parts int
				Missing     []string
				Focus       string
			}
		}
		Alone bool
		Zoom  int
		Popup *webPopup
	}
	c := runBrowser(t, tools, map[string]any{
		"scenario": "clusters",
		"base":     srv.URL,
		"hash":     webCountry.hash() + "&layers=generated",
		"target":   map[string]any{"id": target.ID, "lat": at.Lat(), "lon": at.Lon()},
	}, &got)
	webNoConsoleErrors(t, c.ConsoleErrors)

	render := got.Render
	t.Logf("first render of %d sites at the country view, median of %d loads: %.0f ms main-thread CPU %v, %.0f ms renderer CPU, %.0f ms wall",
		n, len(render.Tries), render.MainMs, render.Tries, render.RendererMs, render.WallMs)
	if render.MainMs <= 0 || len(render.Tries) < 3 {
		t.Errorf("the first render was not measured: %+v", render)
	} else if budget := float64(webFirstRenderBudget.Milliseconds()); render.MainMs > budget {
		t.Errorf("the country view of %d sites took %.0f ms of main-thread CPU to draw, over the %.0f ms allowed", n, render.MainMs, budget)
	}

	country := got.Country
	want := webInView(t, ix, webCountry, country.Map.Width, country.Map.Height)
	if want["generated"] != n {
		t.Fatalf("the country view holds %d of the %d generated sites; choose a view holding all", want["generated"], n)
	}
	webCheckDrawn(t, "country view", country.Drawn, want)
	d := country.Drawn["generated"]
	t.Logf("country view of %d sites: %d cluster discs holding %d, %d symbols alone, %d DOM markers", n, country.Discs, country.BadgeSum, d.Markers, country.DOMMarkers)
	if country.DOMMarkers > webClusterDiscs || country.Discs == 0 || country.DOMMarkers != country.Discs {
		t.Errorf("the country view holds %d DOM markers, %d of them cluster discs; want only discs, at most %d", country.DOMMarkers, country.Discs, webClusterDiscs)
	}
	if country.BadgeSum+d.Markers != n || country.BadgeSum != d.Clustered {
		t.Errorf("the discs' badges add up to %d (%d in clusters) and %d symbols are alone; want %d sites in all", country.BadgeSum, d.Clustered, d.Markers, n)
	}
	if !country.Keyboard {
		t.Error("a cluster disc is not a named button that Tab reaches")
	}

	if len(got.Steps) == 0 {
		t.Fatal("the generated site was in no cluster at the country view")
	}
	for i, s := range got.Steps {
		where := fmt.Sprintf("Enter on the disc of %d sites at zoom %d (step %d)", s.Count, s.Zoom, i+1)
		if s.Role != "button" || !strings.Contains(s.Label, fmt.Sprint(s.Count)) || !strings.Contains(s.Label, "zoom in") {
			t.Errorf("%s: the disc is %q named %q; want a button naming its count and what it does", where, s.Role, s.Label)
		}
		if s.Sites != s.Count {
			t.Errorf("%s: the disc shows %d but holds %d sites", where, s.Count, s.Sites)
		}
		if s.After.Zoom <= s.Zoom || len(s.After.Missing) > 0 || s.After.Parts < 2 && i < len(got.Steps)-1 {
			t.Errorf("%s: zoom %d, its sites split among %d discs and symbols, %d not drawn (%v); want a closer view drawing all of them",
				where, s.After.Zoom, s.After.Parts, len(s.After.Missing), s.After.Missing[:min(5, len(s.After.Missing))])
		}
		if s.After.Focus != "map" {
			t.Errorf("%s: the focus went to %q, want the map, so Tab goes on to the closer view's discs", where, s.After.Focus)
		}
	}
	if !got.Alone {
		t.Fatalf("after %d zooms into the clusters (to zoom %d), site %s is not drawn on its own", len(got.Steps), got.Zoom, target.ID)
	}
	if p := got.Popup; p == nil || p.Title != target.Name || p.Local != fmt.Sprintf("Згенерований об’єкт %d", 0) || !strings.Contains(p.Source, "generated") {
		t.Errorf("the site's popup at zoom %d: %+v; want %q over its Ukrainian name and its source", got.Zoom, p, target.Name)
	}
}
