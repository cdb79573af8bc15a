package importer

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestImportProvenance follows two features of a GeoJSON file through three
// imports: --source and --licence fill only what a feature lacks, every
// written feature records the day it was imported, an unchanged re-import
// keeps the first day, and a changed feature takes the new one.
func TestImportProvenance(t *testing.T) {
	dir, in := t.TempDir(), filepath.Join(t.TempDir(), "shelters.geojson")
	write := func(nameB string) {
		t.Helper()
		doc := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[30.5,50.4]},"properties":{"name":"A","source":"Own survey"}},
{"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[30.6,50.5]},"properties":{"name":"` + nameB + `"}}]}`
		if err := os.WriteFile(in, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	importOn := func(day time.Time) (*imported, LayerSummary) {
		t.Helper()
		res, err := GeoJSON(in, GeoJSONOptions{Layer: "shelters", Kind: "shelter", Source: "City list", Licence: "CC-BY-4.0"})
		if err != nil {
			t.Fatal(err)
		}
		res.Imported = day
		s, err := res.WriteDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return writeAndLoad(t, newResult(), dir), s.Layers[0]
	}
	day1 := time.Date(2025, 3, 18, 12, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 7)
	check := func(im *imported, id, source, licence, day string) {
		t.Helper()
		_, p := im.feature(t, "shelters", id)
		if p["source"] != source || p["licence"] != licence || p["imported"] != day || p["kind"] != "shelter" {
			t.Errorf("%s: properties %v, want source %q, licence %q, imported %q, kind shelter", id, p, source, licence, day)
		}
	}

	write("B")
	im, ls := importOn(day1)
	if ls.Added != 2 {
		t.Errorf("first import: %+v, want 2 added", ls)
	}
	check(im, "a", "Own survey", "CC-BY-4.0", "2025-03-18")
	check(im, "b", "City list", "CC-BY-4.0", "2025-03-18")

	im, ls = importOn(day2)
	if ls.Unchanged != 2 || ls.Replaced != 0 || ls.Added != 0 {
		t.Errorf("same file again: %+v, want 2 unchanged", ls)
	}
	check(im, "b", "City list", "CC-BY-4.0", "2025-03-18")

	write("B renamed")
	im, ls = importOn(day2)
	if ls.Unchanged != 1 || ls.Replaced != 1 {
		t.Errorf("one feature changed: %+v, want 1 unchanged, 1 replaced", ls)
	}
	check(im, "a", "Own survey", "CC-BY-4.0", "2025-03-18")
	check(im, "b", "City list", "CC-BY-4.0", "2025-03-25")
}

// TestCSVSourceNotInID: a row's hashed id is the same with and without
// --source, so naming the source later replaces the rows instead of adding
// them again; a row's own source, in a column kept by --columns, wins over
// the flag.
func TestCSVSourceNotInID(t *testing.T) {
	text := "lon,lat,name,source\n30.5,50.4,Central,\n30.6,50.5,North,Register 2024\n"
	plain, err := importCSVText(t, text, CSVMapping{Layer: "sites", Columns: []string{"source"}})
	if err != nil {
		t.Fatal(err)
	}
	cited, err := importCSVText(t, text, CSVMapping{Layer: "sites", Columns: []string{"source"}, Source: "Oblast list", Licence: "CC0-1.0"})
	if err != nil {
		t.Fatal(err)
	}
	for i, source := range []string{"Oblast list", "Register 2024"} {
		a, b := plain.layers["sites"].Feature(i), cited.layers["sites"].Feature(i)
		if a.ID != b.ID {
			t.Errorf("row %d: id %s with --source, %s without", i, b.ID, a.ID)
		}
		_, p := cited.feature(t, "sites", b.ID)
		if p["source"] != source || p["licence"] != "CC0-1.0" {
			t.Errorf("row %d: properties %v, want source %q and licence CC0-1.0", i, p, source)
		}
	}
}
