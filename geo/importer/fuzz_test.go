package importer

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// FuzzCSV feeds arbitrary CSV text and column choices to the CSV importer:
// it must never panic, every row is either a feature or a skip naming its
// line, and whatever it accepts geo accepts too.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("name,lon,lat\nA,30.5,50.4\nB,x,1\n"), "", "", "", "", false)
	f.Add([]byte("id;geom\n1;POINT(30 50)\n2;LINESTRING(30 50, 31 51)\n3;POLYGON((0 0,1 0,1 1,0 0))\n"), "", "", "geom", "id", true)
	f.Add([]byte("\ufeffLon,Lat,kind\n200,0,plant\n0,NaN,line\n\"1\",\"2\"\n"), "Lon", "Lat", "", "", false)
	f.Add([]byte("x,y\n1,2,3\n179.9,-89\n"), "x", "y", "", "x", false)
	f.Fuzz(func(t *testing.T, data []byte, lon, lat, wktCol, id string, semicolon bool) {
		m := CSVMapping{Layer: "sites", Lon: lon, Lat: lat, WKT: wktCol, ID: id, Kind: "site"}
		if semicolon {
			m.Comma = ';'
		}
		res, err := readCSV(context.Background(), bytes.NewReader(data), m, &meter{})
		if err != nil {
			return // a header or column mapping problem, reported as such
		}
		for _, s := range res.skipped {
			if !strings.HasPrefix(s.Item, "line ") || s.Reason == "" {
				t.Fatalf("skip %q does not name its line and reason", s)
			}
		}
		for _, nf := range res.byName["sites"].feats {
			if wktCol == "" {
				p := nf.Geometry.(orb.Point)
				if math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90 || p[0] != p[0] || p[1] != p[1] {
					t.Fatalf("%s: accepted point %v", nf.origin, p)
				}
			}
		}
		if _, err := res.validate(res.byName["sites"]); err != nil {
			t.Fatalf("geo refuses what the importer built: %v", err)
		}
	})
}

// FuzzOSMXML runs the whole OSM import over arbitrary XML: no panic, every
// skipped item names an element, and every feature it keeps is one geo
// accepts.
func FuzzOSMXML(f *testing.F) {
	for _, name := range []string{"areas.osm", "multipolygon.osm", "bridges.osm"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<osm><node id="1" lat="91" lon="0"><tag k="power" v="plant"/></node></osm>`))
	f.Add([]byte(`<osm><way id="1"><nd ref="1"/><tag k="power" v="line"/></way><relation id="2"><member type="way" ref="1" role=""/><tag k="type" v="multipolygon"/><tag k="amenity" v="hospital"/></relation></osm>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isXML(bufio.NewReader(bytes.NewReader(data))) {
			return // the PBF reader is paulmach/osm's to fuzz; it is slow on noise
		}
		src := osmSource{name: "fuzz.osm", size: int64(len(data)), open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}
		res, err := importOSM(context.Background(), src, OSMOptions{})
		if err != nil {
			return // unreadable XML is an error, not a panic
		}
		for _, s := range res.skipped {
			if !strings.HasPrefix(s.Item, "osm:") || s.Reason == "" {
				t.Fatalf("skip %q does not name its element and reason", s)
			}
		}
		for _, p := range res.layers {
			if _, err := res.validate(p); err != nil {
				t.Fatalf("geo refuses what the importer built: %v", err)
			}
		}
	})
}
