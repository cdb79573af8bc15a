package data_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
)

// TestDefaultLayers: the embedded layers load cleanly and every feature
// carries the documented conventions.
func TestDefaultLayers(t *testing.T) {
	layers, err := geo.LoadFS(data.Layers)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"energy":    {"plant", "substation", "line"},
		"hospitals": {"hospital"},
		"bridges":   {"bridge"},
		"zones":     {"corridor", "port"},
	}
	if len(layers) != len(want) {
		t.Fatalf("%d layers, want %d", len(layers), len(want))
	}
	for _, l := range layers {
		kinds := map[string]int{}
		for i := range l.Len() {
			f := l.Feature(i)
			var props map[string]any
			if err := json.Unmarshal(f.Properties, &props); err != nil {
				t.Fatalf("%s/%s: %v", l.Name(), f.ID, err)
			}
			for _, key := range []string{"name", "kind", "source"} {
				if s, _ := props[key].(string); s == "" {
					t.Errorf("%s/%s: no %s", l.Name(), f.ID, key)
				}
			}
			if l.Name() != "energy" {
				if s, _ := props["precision"].(string); s == "" {
					t.Errorf("%s/%s: no precision", l.Name(), f.ID)
				}
			}
			kinds[f.Kind]++
		}
		for _, k := range want[l.Name()] {
			if kinds[k] == 0 {
				t.Errorf("layer %s has no %s", l.Name(), k)
			}
		}
	}
}

// TestGPPDPlantsPresent: every plant of the Global Power Plant Database's
// Ukraine subset is in the energy layer.
func TestGPPDPlantsPresent(t *testing.T) {
	layers, err := geo.LoadFS(data.Layers)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range layers {
		for i := range l.Len() {
			if id := l.Feature(i).ID; len(id) > 5 && id[:5] == "gppd:" {
				n++
			}
		}
	}
	if n != 64 {
		t.Errorf("%d GPPD plants, want 64", n)
	}
}

func TestBasemap(t *testing.T) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data.Basemap, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 27 {
		t.Fatalf("basemap: type %q, %d features, %v", fc.Type, len(fc.Features), err)
	}
}

// TestDefaultZones: the corridors of the default zones layer are served as
// the areas they cover, and the default agreements name only zones.
func TestDefaultZones(t *testing.T) {
	layers, err := geo.LoadFS(data.Layers)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(layers...)
	if err != nil {
		t.Fatal(err)
	}
	zones, ok := ix.Layer(geo.ZonesLayer)
	if !ok {
		t.Fatal("no zones layer")
	}
	for i := range zones.Len() {
		f := zones.Feature(i)
		if typ := f.Geometry.GeoJSONType(); typ != "Polygon" {
			t.Errorf("zone %s is a %s, want a Polygon", f.ID, typ)
		}
	}
	set, err := geo.LoadAgreements(ix, "agreements.json", bytes.NewReader(data.Agreements))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range set.Agreements() {
		for _, r := range a.Readings {
			if len(r.Sources) == 0 || r.Notes == "" {
				t.Errorf("%s/%s: a reading needs its sources and notes", a.ID, r.ID)
			}
			for _, s := range r.Sources {
				if !strings.HasPrefix(s.URL, "https://") || s.Date == "" {
					t.Errorf("%s/%s: source %q lacks a URL or a date", a.ID, r.ID, s.Title)
				}
			}
		}
	}
}
