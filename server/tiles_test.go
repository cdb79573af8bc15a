package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/tile"
	"github.com/protectmap/protectmap/server"
)

func tileOf(ix *geo.Index, layer string, z maptile.Zoom) (maptile.Tile, []string) {
	l, _ := ix.Layer(layer)
	c := l.Feature(0).Geometry.Bound().Center()
	t := maptile.At(orb.Point{c[0], c[1]}, z)
	b := t.Bound()
	var ids []string
	l.Search(geo.BBox{MinLon: b.Min[0], MinLat: b.Min[1], MaxLon: b.Max[0], MaxLat: b.Max[1]}, func(i int) bool {
		ids = append(ids, l.Feature(i).ID)
		return true
	})
	return t, ids
}

func TestTiles(t *testing.T) {
	f := newFixture(t)
	tl, want := tileOf(f.ix, "energy", 6)
	if len(want) == 0 {
		t.Fatal("no energy feature in the test tile")
	}
	path := "/collections/energy/tiles/" + itoa(uint32(tl.Z)) + "/" + itoa(tl.X) + "/" + itoa(tl.Y)
	for _, suffix := range []string{"", ".mvt", ".pbf"} {
		rec := f.get(t, path+suffix, "Accept-Encoding: gzip")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != tile.ContentType ||
			rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("ETag") == "" {
			t.Fatalf("%s: %d %v", suffix, rec.Code, rec.Header())
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		layers, err := mvt.Unmarshal(body)
		if err != nil || len(layers) != 1 || layers[0].Name != "energy" {
			t.Fatalf("%s: %v %v", suffix, layers, err)
		}
		got := map[string]bool{}
		for _, ft := range layers[0].Features {
			id, _ := ft.Properties["id"].(string)
			got[id] = true
		}
		for _, id := range want {
			if !got[id] {
				t.Errorf("tile lacks %s", id)
			}
		}
		// The same tile again is a 304 for its tag.
		again := f.get(t, path+suffix, "Accept-Encoding: gzip", "If-None-Match: "+rec.Header().Get("ETag"))
		if again.Code != http.StatusNotModified {
			t.Errorf("conditional GET: %d", again.Code)
		}
	}
	// Clients without gzip get the plain tile.
	plain := f.get(t, path+".mvt")
	if plain.Code != http.StatusOK || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d %v", plain.Code, plain.Header())
	}
	if _, err := mvt.Unmarshal(plain.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Open ocean: no features, 204.
	if rec := f.get(t, "/collections/energy/tiles/10/0/0.mvt"); rec.Code != http.StatusNoContent {
		t.Errorf("empty tile: %d", rec.Code)
	}
	errs := []struct {
		path   string
		status int
		detail string
	}{
		{"/collections/energy/tiles/3/8/0", http.StatusNotFound, "no tile"},
		{"/collections/energy/tiles/23/0/0", http.StatusNotFound, "no tile"},
		{"/collections/energy/tiles/a/0/0", http.StatusBadRequest, "z/x/y"},
		{"/collections/energy/tiles/3/0/0.png", http.StatusBadRequest, "z/x/y"},
		{"/collections/nope/tiles/3/0/0", http.StatusNotFound, "no collection"},
		{"/collections/energy/tiles/3/0/0?x=1", http.StatusBadRequest, "unknown parameter"},
	}
	for _, e := range errs {
		rec := f.get(t, e.path)
		if rec.Code != e.status || rec.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(rec.Body.String(), e.detail) {
			t.Errorf("%s: %d %s %s", e.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

func TestTileJSON(t *testing.T) {
	f := newFixture(t)
	rec := f.get(t, "/collections/energy/tiles", "Host: maps.example", "X-Forwarded-Proto: https")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	doc := decode(t, rec.Body.Bytes())
	tiles, _ := doc["tiles"].([]any)
	if doc["tilejson"] != "3.0.0" || len(tiles) != 1 || !strings.HasSuffix(tiles[0].(string), "/collections/energy/tiles/{z}/{x}/{y}.mvt") {
		t.Errorf("tilejson %v", doc)
	}
}

// TestItemsExports: f= and Accept choose CSV, KML or newline-delimited
// GeoJSON, which stream every matching feature.
func TestItemsExports(t *testing.T) {
	f := newFixture(t)
	l, _ := f.ix.Layer("energy")
	want := map[string]bool{}
	for i := range l.Len() {
		want[l.Feature(i).ID] = true
	}
	rec := f.get(t, "/collections/energy/items?f=csv")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v", rec.Code, rec.Header())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "id" || rows[0][1] != "wkt" || len(rows)-1 != l.Len() {
		t.Fatalf("csv header %v, %d rows for %d features", rows[0], len(rows)-1, l.Len())
	}
	for _, r := range rows[1:] {
		if !want[r[0]] {
			t.Errorf("csv row for unknown id %q", r[0])
		}
	}
	rec = f.get(t, "/collections/energy/items", "Accept: application/vnd.google-earth.kml+xml")
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), "<Placemark>") != l.Len() {
		t.Fatalf("kml: %d, %d placemarks for %d features", rec.Code, strings.Count(rec.Body.String(), "<Placemark>"), l.Len())
	}
	// Filters apply to exports: a box and a kind.
	c := l.Bound().Center()
	box := geo.BBox{MinLon: c[0] - 50, MinLat: -90, MaxLon: c[0] + 50, MaxLat: 90}
	n := 0
	l.Search(box, func(int) bool { n++; return true })
	rec = f.get(t, "/collections/energy/items?f=ndjson&bbox="+box.String())
	lines := bytes.Count(rec.Body.Bytes(), []byte("\n"))
	if rec.Code != http.StatusOK || lines != n {
		t.Fatalf("ndjson with bbox: %d, %d lines, want %d", rec.Code, lines, n)
	}
	if rec := f.get(t, "/collections/energy/items?f=shp"); rec.Code != http.StatusNotAcceptable || !strings.Contains(rec.Body.String(), "not offered") {
		t.Errorf("f=shp: %d %s", rec.Code, rec.Body)
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// TestTilesWarm: with WarmTileZoom set, every layer's low zooms are
// rendered in the background at start, and again for new data after a
// swap of the index.
func TestTilesWarm(t *testing.T) {
	logs := &logBuffer{}
	f := newFixture(t, logTo(logs), func(c *server.Config) { c.WarmTileZoom = 3 })
	warmed := func(times int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			done := true
			for _, l := range f.ix.Layers() {
				// The empty layer has no tiles to warm.
				re := regexp.MustCompile(`msg="tiles warmed" layer=` + l.Name() + ` tiles=[1-9]`)
				if l.Len() == 0 {
					re = regexp.MustCompile(`msg="tiles warmed" layer=` + l.Name() + ` tiles=0`)
				}
				done = done && len(re.FindAllString(logs.String(), -1)) >= times
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not every layer warmed %d times:\n%s", times, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	warmed(1)
	// An index stored anew is served, and warmed, under a new version.
	ix, err := geo.NewIndex(f.ix.Layers()...)
	if err != nil {
		t.Fatal(err)
	}
	f.current.Store(ix)
	if rec := f.get(t, "/collections/energy/tiles/3/4/2.mvt"); rec.Code != 200 && rec.Code != 204 {
		t.Fatalf("tile after the swap: %d", rec.Code)
	}
	warmed(2)
}
