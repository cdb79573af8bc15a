package server_test

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/server"
)

// webStop is one control Tab reached: its key (an id, "layer:ID",
// "zoom-in", "summary:ID", "hit", ...), its focus ring focused and not, and
// whether it lay in the viewport when focused.
type webStop struct {
	Key, Ring, UnfocusedRing string
	InView                   bool
}

// webMapView is a map's centre and zoom.
type webMapView struct {
	Lat, Lon float64
	Zoom     int
}

// TestBrowserKeyboard works the map with the keyboard alone in Chromium,
// on a desktop and on a phone. Tab must reach every control, in the order
// they are read (the bar, the panel, the map, its zoom), each with a focus
// ring that differs from its look unfocused and in view; a phone's closed
// panel is skipped, its button opens it and Escape closes it. Then each
// kind of control is worked by its keys: the map pans with the arrows,
// zooms with + and -, and checks its centre with Enter; the zoom buttons
// take Enter and Space; a layer's box takes Space; a check is typed; a
// strike's and a site's popup open from the check's lists with the focus
// in them and close by Escape or their button, the focus back where it
// was; the summary opens by Enter and closes by Escape; the language
// switch takes the arrows.
func TestBrowserKeyboard(t *testing.T) {
	tools := needBrowser(t)
	ix, agreements, st, p, v := webJudgedStrike(t, "keyboard-test")
	srv := serveWeb(t, ix, "", func(c *server.Config) { c.Agreements, c.Store = agreements, st })
	view := webView{14, p.Lat(), p.Lon()}
	type popup struct {
		FocusInPopup, Closed bool
		FocusAfter, Title    string
		Info                 *struct{ Title, Verdict string }
	}
	type layout struct {
		First, PanelWalk, AfterCheck []webStop
		PanelOpened                  bool
		PanelEscape                  struct {
			Open  bool
			Focus string
		}
		MapKeys  struct{ Start, Right, Plus, Minus webMapView }
		MapEnter struct {
			Centre webMapView
			Check  string
		}
		ZoomButtons []int
		LayerToggle struct{ Hidden, Shown string }
		TypedCheck  string
		StrikePopup popup
		SitePopup   popup
		Summary     struct {
			Opened, Closed   bool
			Next, FocusAfter string
		}
		Language string
	}
	var got struct{ Desktop, Phone layout }
	c := runBrowser(t, tools, map[string]any{
		"scenario": "keyboard",
		"base":     srv.URL,
		"view":     map[string]any{"hash": view.hash() + "&layers=strikes,energy"},
		"strike":   map[string]any{"lat": p.Lat(), "lon": p.Lon()},
	}, &got)
	webNoConsoleErrors(t, c.ConsoleErrors)

	var layers []string
	for _, l := range ix.Layers() {
		layers = append(layers, "layer:"+l.Name())
	}
	panel := slices.Concat([]string{"#lang-switch"}, layers, []string{"layer:strikes", "#strikes-from", "#strikes-to",
		"summary:legend", "summary:summary-section", "#check-coords", "#check-radius", "#check-uncertainty", "#check-datetime",
		"submit:check-form", "#check-clear", "#agreement-picker"})
	mapControls := []string{"#map", "zoom-in", "zoom-out"}

	d := got.Desktop
	webTabOrder(t, "desktop, first load", d.First, slices.Concat(panel, mapControls), nil)
	webTabOrder(t, "desktop, after a check", d.AfterCheck,
		[]string{"#check-clear", "hit", "strike-hit", "summary:record", "#agreement-picker", "#map"}, nil)
	webMapKeys(t, "desktop", d.MapKeys.Start, d.MapKeys.Right, d.MapKeys.Plus, d.MapKeys.Minus)
	webCheckedAt(t, "desktop: Enter on the map", d.MapEnter.Check, d.MapEnter.Centre.Lat, d.MapEnter.Centre.Lon)
	webZoomButtons(t, "desktop", d.ZoomButtons)
	if layersOf(t, d.LayerToggle.Hidden)["energy"] || !layersOf(t, d.LayerToggle.Shown)["energy"] {
		t.Errorf("desktop: Space on the energy layer's box: %q, then %q; want it hidden, then shown", d.LayerToggle.Hidden, d.LayerToggle.Shown)
	}
	webCheckedAt(t, "desktop: typed coordinates", d.TypedCheck, p.Lat(), p.Lon())
	if sp := d.StrikePopup; sp.Info == nil || sp.Info.Verdict != string(v.Outcome) || !sp.FocusInPopup || !sp.Closed || sp.FocusAfter != "strike-hit" {
		t.Errorf("desktop: the strike's popup by Enter and Escape: %+v (popup %+v); want verdict %s, the focus in it, then closed with the focus on its row", sp, sp.Info, v.Outcome)
	}
	if sp := d.SitePopup; sp.Title == "" || !sp.Closed || sp.FocusAfter != "hit" {
		t.Errorf("desktop: a site's popup by Enter and its close button: %+v; want closed with the focus on its row", sp)
	}
	if s := d.Summary; !s.Opened || s.Next != "#summary-oblast" || !s.Closed || s.FocusAfter != "summary:summary-section" {
		t.Errorf("desktop: the summary by Enter, Tab and Escape: %+v", s)
	}
	if d.Language != "uk" {
		t.Errorf("desktop: ArrowDown on the language switch: lang %q, want uk", d.Language)
	}

	ph := got.Phone
	// The panel is closed on a phone: Tab passes it by.
	webTabOrder(t, "phone, first load", ph.First, slices.Concat([]string{"#panel-toggle", "#lang-switch"}, mapControls), panel[1:])
	if !ph.PanelOpened {
		t.Error("phone: Enter on the panel's button did not open it")
	}
	webTabOrder(t, "phone, panel open", ph.PanelWalk, slices.Concat([]string{"#panel-toggle"}, panel, mapControls), nil)
	if ph.PanelEscape.Open || ph.PanelEscape.Focus != "#panel-toggle" {
		t.Errorf("phone: Escape in the panel: %+v; want it closed, the focus on its button", ph.PanelEscape)
	}
	webMapKeys(t, "phone", ph.MapKeys.Start, ph.MapKeys.Right, ph.MapKeys.Plus, ph.MapKeys.Minus)
	webCheckedAt(t, "phone: Enter on the map", ph.MapEnter.Check, ph.MapEnter.Centre.Lat, ph.MapEnter.Centre.Lon)
	webZoomButtons(t, "phone", ph.ZoomButtons)
}

// webTabOrder checks that Tab reached every control of want, in that
// order, and none of absent, each with a focus ring of its own, in view.
func webTabOrder(t *testing.T, where string, stops []webStop, want, absent []string) {
	t.Helper()
	keys := make([]string, len(stops))
	for i, s := range stops {
		keys[i] = s.Key
		if s.Ring == s.UnfocusedRing {
			t.Errorf("%s: %s shows no focus ring: focused as unfocused, %q", where, s.Key, s.Ring)
		}
		if !s.InView {
			t.Errorf("%s: %s took the focus out of view", where, s.Key)
		}
	}
	last := -1
	for _, k := range want {
		i := slices.Index(keys, k)
		switch {
		case i < 0:
			t.Errorf("%s: Tab never reached %s; it reached %s", where, k, strings.Join(keys, " "))
		case i < last:
			t.Errorf("%s: Tab reached %s before %s; it reached %s", where, k, keys[last], strings.Join(keys, " "))
		default:
			last = i
		}
	}
	for _, k := range absent {
		if slices.Contains(keys, k) {
			t.Errorf("%s: Tab reached %s, which is not shown", where, k)
		}
	}
}

// webMapKeys checks the map moved east on ArrowRight, in by + and out by -.
func webMapKeys(t *testing.T, where string, start, right, plus, minus webMapView) {
	t.Helper()
	if !(right.Lon > start.Lon) || math.Abs(right.Lat-start.Lat) > 1e-4 || plus.Zoom != right.Zoom+1 || minus.Zoom != right.Zoom {
		t.Errorf("%s: the map by ArrowRight, + and -: %+v, %+v, %+v, %+v; want east, then a zoom in and out", where, start, right, plus, minus)
	}
}

// webZoomButtons checks Enter and Space on the zoom-in button each zoomed in.
func webZoomButtons(t *testing.T, where string, zooms []int) {
	t.Helper()
	if len(zooms) != 3 || zooms[1] != zooms[0]+1 || zooms[2] != zooms[0]+2 {
		t.Errorf("%s: zooms before and after Enter and Space on the zoom-in button: %v", where, zooms)
	}
}

// webCheckedAt checks that the link's check= names lat, lon.
func webCheckedAt(t *testing.T, where, check string, lat, lon float64) {
	t.Helper()
	parts := strings.Split(check, ",")
	if len(parts) < 2 {
		t.Errorf("%s: no check in the link (check=%q)", where, check)
		return
	}
	gotLat, err1 := strconv.ParseFloat(parts[0], 64)
	gotLon, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil || math.Abs(gotLat-lat) > 1e-5 || math.Abs(gotLon-lon) > 1e-5 {
		t.Errorf("%s: checked at check=%s, want %.6f,%.6f", where, check, lat, lon)
	}
}

// layersOf reads the layers a map link shows.
func layersOf(t *testing.T, hash string) map[string]bool {
	t.Helper()
	q, err := url.ParseQuery(strings.TrimPrefix(hash, "#"))
	if err != nil {
		t.Fatalf("link %q: %v", hash, err)
	}
	out := map[string]bool{}
	for _, l := range strings.Split(q.Get("layers"), ",") {
		out[l] = true
	}
	return out
}
