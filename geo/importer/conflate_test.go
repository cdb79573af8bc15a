package importer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// TestConflation imports plant points into a layer holding a plant outline
// that already cites one GPPD record: the cited record and a point inside
// the outline are merged into the site, a point 500 m away is added and
// reported as a near miss, one 5 km away is just added, and a point of
// another kind inside the outline is added as a site of its own.
func TestConflation(t *testing.T) {
	dir := t.TempDir()
	existing := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"osm:way/1","geometry":{"type":"Polygon","coordinates":[[[30,50],[30.01,50],[30.01,50.01],[30,50.01],[30,50]]]},"properties":{"name":"Plant","kind":"plant","gppd_idnr":"WRI1"}}
]}`
	if err := os.WriteFile(filepath.Join(dir, "energy.geojson"), []byte(existing), 0o644); err != nil {
		t.Fatal(err)
	}
	point := func(id, kind string, lon, lat float64) newFeature {
		return newFeature{Feature: geo.Feature{
			ID: id, Kind: kind, Geometry: orb.Point{lon, lat},
			Properties: json.RawMessage(`{"name":"` + id + `","kind":"` + kind + `"}`),
		}, origin: id}
	}
	r := newResult()
	r.add("energy", point("gppd:WRI1", "plant", 30.02, 50.02)) // cited, even though its point is off the outline
	r.add("energy", point("gppd:WRI2", "plant", 30.005, 50.005))
	r.add("energy", point("gppd:WRI3", "plant", 30.017, 50.005))
	r.add("energy", point("gppd:WRI4", "plant", 30.08, 50.005))
	r.add("energy", point("osm:node/5", "substation", 30.005, 50.006))
	s, err := r.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ls := s.Layers[0]
	wantMerges := []Merge{
		{Imported: "gppd:WRI1", Into: "osm:way/1", Why: "cited by the site"},
		{Imported: "gppd:WRI2", Into: "osm:way/1", Why: "inside its outline"},
	}
	if len(ls.Merges) != len(wantMerges) {
		t.Fatalf("merges %+v, want %+v", ls.Merges, wantMerges)
	}
	for i, m := range wantMerges {
		if ls.Merges[i] != m {
			t.Errorf("merge %d: %+v, want %+v", i, ls.Merges[i], m)
		}
	}
	if len(ls.NearMisses) != 1 || ls.NearMisses[0].Imported != "gppd:WRI3" || ls.NearMisses[0].Near != "osm:way/1" ||
		ls.NearMisses[0].Meters < 400 || ls.NearMisses[0].Meters > 600 {
		t.Errorf("near misses %+v, want gppd:WRI3 about 500 m from osm:way/1", ls.NearMisses)
	}
	if ls.Added != 3 || ls.Kept != 1 || ls.Replaced != 0 {
		t.Errorf("summary %+v, want 3 added (WRI3, WRI4, the substation) and the site kept", ls)
	}
	l, err := geojson.LoadFile("energy", filepath.Join(dir, "energy.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	site, _, _ := l.Lookup("osm:way/1")
	var props struct {
		GPPD   string `json:"gppd_idnr"`
		Merged string `json:"merged_ids"`
	}
	if err := json.Unmarshal(site.Properties, &props); err != nil || props.GPPD != "WRI1" || props.Merged != "gppd:WRI2" {
		t.Errorf("site properties %s: want it to keep gppd_idnr WRI1 and cite gppd:WRI2 in merged_ids", site.Properties)
	}
	for _, id := range []string{"gppd:WRI1", "gppd:WRI2"} {
		if _, _, ok := l.Lookup(id); ok {
			t.Errorf("%s was added beside the site it was merged into", id)
		}
	}

	// Importing the same point again finds the site citing it now.
	r = newResult()
	r.add("energy", point("gppd:WRI2", "plant", 30.005, 50.005))
	s, err = r.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ls := s.Layers[0]; len(ls.Merges) != 1 || ls.Merges[0].Why != "cited by the site" || ls.Added != 0 {
		t.Errorf("re-import: %+v, want gppd:WRI2 merged as cited and nothing added", ls)
	}
}

// TestCiting adds merged ids to properties, keeping their order and never
// listing an id twice.
func TestCiting(t *testing.T) {
	for _, tc := range []struct{ name, props, want string }{
		{"empty", `{}`, `{"merged_ids":"a:1;b:2"}`},
		{"appended last", `{"name":"X","kind":"plant"}`, `{"name":"X","kind":"plant","merged_ids":"a:1;b:2"}`},
		{"extends the list", `{"merged_ids":"a:1"}`, `{"merged_ids":"a:1;b:2"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(citing(json.RawMessage(tc.props), []string{"a:1", "b:2"})); got != tc.want {
				t.Errorf("citing(%s) = %s, want %s", tc.props, got, tc.want)
			}
		})
	}
}
