package geojson

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// TestPack: a body of each geometry type with coordinates is kept shorter
// by what every such body shares, and any other whole; each unpacks to
// itself, ids with escapes and quotes included.
func TestPack(t *testing.T) {
	ring := orb.Ring{{30, 50}, {30.1, 50}, {30.1, 50.1}, {30, 50}}
	for _, c := range []struct {
		g      orb.Geometry
		packed bool
	}{
		{orb.Point{30.5, 50.25}, true},
		{orb.MultiPoint{{30, 50}, {31, 51}}, true},
		{orb.LineString{{30, 50}, {30.123456789, 50.1}}, true},
		{orb.MultiLineString{{{30, 50}, {31, 51}}, {{32, 52}, {33, 53}}}, true},
		{orb.Polygon{ring}, true},
		{orb.MultiPolygon{{ring}, {ring}}, true},
		{orb.Collection{orb.Point{30, 50}, orb.LineString{{30, 50}, {31, 51}}}, false},
		{nil, false},
	} {
		for _, id := range []string{"s1", `quote " and \ back`, "київ-12", ""} {
			f := geo.Feature{ID: id, Geometry: c.g, Properties: []byte(`{"name":"Міст \"A\"","kind":"bridge"}`)}
			body := AppendFeature(nil, &f)
			p := pack([]byte("x"), body)
			if got := unpack([]byte("y"), p[1:]); !bytes.Equal(got[1:], body) || got[0] != 'y' {
				t.Errorf("%T, id %q: unpacks to %s, want %s", c.g, id, got[1:], body)
			}
			if saved := len(body) + 1 - len(p[1:]); c.packed != (saved > len(featureHead)) {
				t.Errorf("%T, id %q: packed %d bytes shorter", c.g, id, saved)
			}
		}
	}
}

// FuzzPack: whatever the bytes, packing and unpacking gives them back.
func FuzzPack(f *testing.F) {
	f.Add([]byte(`{"type":"Feature","id":"a\"b","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}`))
	f.Add([]byte(`{"type":"Feature","id":"a\\`))
	f.Add([]byte(`{"type":"Feature","id":`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if got := unpack(nil, pack(nil, body)); !bytes.Equal(got, body) {
			t.Fatalf("%q unpacks to %q", body, got)
		}
	})
}
