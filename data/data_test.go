package data_test

import (
	"encoding/json"
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
