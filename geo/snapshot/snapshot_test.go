package snapshot_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/geo/snapshot"
	"github.com/protectmap/protectmap/internal/synth"
	"github.com/protectmap/protectmap/internal/synthlayer"
)

// odd holds every geometry type the decoder keeps, features with no
// properties and numeric ids, and a line cut at the antimeridian.
const odd = `{"type":"FeatureCollection","features":[
{"type":"Feature","id":7,"geometry":{"type":"MultiPoint","coordinates":[[30,50],[30.1,50.1]]},"properties":null},
{"type":"Feature","id":"ml","geometry":{"type":"MultiLineString","coordinates":[[[30,50],[30.2,50.2]],[[31,51],[31.1,51.3]]]},"properties":{"name":"two lines","kind":"line"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[30,50],[31,50],[31,51],[30,51],[30,50]],[[30.2,50.2],[30.4,50.2],[30.4,50.4],[30.2,50.2]]]},"properties":{"site_id":"holed","name":"Ж ∑","kind":"plant"}},
{"type":"Feature","id":"mp","geometry":{"type":"MultiPolygon","coordinates":[[[[32,50],[32.1,50],[32.1,50.1],[32,50]]],[[[33,50],[33.1,50],[33.1,50.1],[33,50]]]]},"properties":{}},
{"type":"Feature","id":"gc","geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[34,50]},{"type":"LineString","coordinates":[[34,50],[34.1,50.1]]}]},"properties":{"kind":"line"}},
{"type":"Feature","id":"am","geometry":{"type":"MultiLineString","coordinates":[[[179.5,60],[180,60.2]],[[-180,60.2],[-179.5,60.5]]]},"properties":{"kind":"line"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[-0.5,-10.25]},"properties":{"kind":"substation","name":""}}
]}`

// testData loads the embedded default layers (the zones layer's
// corridors among them), odd and 20,000 generated sites from GeoJSON.
func testData(t testing.TB) *snapshot.Data {
	t.Helper()
	layers, err := geojson.LoadFS(data.Layers())
	if err != nil {
		t.Fatal(err)
	}
	l, err := geojson.DecodeLayer("odd", "odd.geojson", strings.NewReader(odd))
	if err != nil {
		t.Fatal(err)
	}
	layers = append(layers, l)
	var buf bytes.Buffer
	if err := synthlayer.WriteGeoJSON(&buf, synth.Sites(20_000, 7)); err != nil {
		t.Fatal(err)
	}
	if l, err = geojson.DecodeLayer("sites", "sites.geojson", &buf); err != nil {
		t.Fatal(err)
	}
	layers = append(layers, l)
	return &snapshot.Data{Version: "0123456789abcdef", AgreementsFrom: "agreements.json (embedded)", Agreements: data.Agreements(), Layers: layers}
}

func write(t testing.TB, d *snapshot.Data) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "data.snapshot")
	if err := snapshot.WriteFile(file, d); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestRoundTrip guards what a server loading a snapshot serves: the same
// features in the same order, and the same answers to every query, as the
// GeoJSON it was written from.
func TestRoundTrip(t *testing.T) {
	want := testData(t)
	got, err := snapshot.ReadFile(write(t, want))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != want.Version || got.AgreementsFrom != want.AgreementsFrom || !bytes.Equal(got.Agreements, want.Agreements) {
		t.Fatalf("data: got %q %q, want %q %q", got.Version, got.AgreementsFrom, want.Version, want.AgreementsFrom)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%d layers, want %d", len(got.Layers), len(want.Layers))
	}
	for k, w := range want.Layers {
		g := got.Layers[k]
		if g.Name() != w.Name() || g.Source() != w.Source() || g.Len() != w.Len() || g.Bound() != w.Bound() {
			t.Fatalf("layer %s (%s, %d features, %v), want %s (%s, %d, %v)", g.Name(), g.Source(), g.Len(), g.Bound(), w.Name(), w.Source(), w.Len(), w.Bound())
		}
		for i := range w.Len() {
			if gf, wf := g.Feature(i), w.Feature(i); !reflect.DeepEqual(gf, wf) {
				t.Fatalf("layer %s feature %d:\n got %+v\nwant %+v", w.Name(), i, gf, wf)
			}
		}
		if _, i, ok := g.Lookup(w.Feature(w.Len() - 1).ID); !ok || i != w.Len()-1 {
			t.Errorf("layer %s: Lookup of its last feature gave %d, %v", w.Name(), i, ok)
		}
	}
	gix, err := geo.NewIndex(got.Layers...)
	if err != nil {
		t.Fatal(err)
	}
	wix, err := geo.NewIndex(want.Layers...)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for q := range 2000 {
		var p orb.Point
		if q%2 == 0 {
			p = orb.Point{22 + r.Float64()*18, 44 + r.Float64()*8} // over the sites
		} else {
			p = orb.Point{r.Float64()*360 - 180, r.Float64()*170 - 85}
		}
		meters := math.Pow(10, 2+r.Float64()*4)
		gh, gerr := gix.Nearby(p, meters, 50)
		wh, werr := wix.Nearby(p, meters, 50)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || hits(gh) != hits(wh) {
			t.Fatalf("Nearby(%v, %.0f m): got %s (%v), want %s (%v)", p, meters, hits(gh), gerr, hits(wh), werr)
		}
		box := geo.BBox{MinLon: p[0], MinLat: p[1], MaxLon: min(180, p[0]+r.Float64()), MaxLat: min(90, p[1]+r.Float64())}
		for k, w := range want.Layers {
			if g, w := found(got.Layers[k], box), found(w, box); g != w {
				t.Fatalf("layer %s: Search(%v): got %s, want %s", w, box, g, w)
			}
		}
	}
}

func hits(hs []geo.Hit) string {
	var b strings.Builder
	for _, h := range hs {
		fmt.Fprintf(&b, "%s/%s %v %v %v;", h.Layer.Name(), h.Feature.ID, h.Meters, h.Nearest, h.Bearing)
	}
	return b.String()
}

func found(l *geo.Layer, box geo.BBox) string {
	var b strings.Builder
	l.Search(box, func(i int) bool {
		fmt.Fprintf(&b, "%d,", i)
		return true
	})
	return b.String()
}

// small is a snapshot of the odd layer alone, for the damage tests and the
// fuzzer's seed.
func small(t testing.TB) []byte {
	t.Helper()
	l, err := geojson.DecodeLayer("odd", "odd.geojson", strings.NewReader(odd))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(write(t, &snapshot.Data{Version: "v", AgreementsFrom: "a.json", Agreements: []byte(`{"agreements":[]}`), Layers: []*geo.Layer{l}}))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func read(raw []byte) (*snapshot.Data, error) {
	return snapshot.Read(bytes.NewReader(raw), int64(len(raw)))
}

// TestDamage guards the messages of a file that cannot be served: each
// says what is wrong, and none is a panic.
func TestDamage(t *testing.T) {
	raw := small(t)
	if _, err := read(raw); err != nil {
		t.Fatalf("the undamaged file: %v", err)
	}
	newer := bytes.Clone(raw)
	binary.LittleEndian.PutUint32(newer[8:], snapshot.Version+1)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 0x10
	for _, tc := range []struct {
		name string
		raw  []byte
		want error
		says string
	}{
		{"GeoJSON", []byte(odd), snapshot.ErrNotSnapshot, "not a protectmap snapshot"},
		{"empty", nil, snapshot.ErrNotSnapshot, "not a protectmap snapshot"},
		{"a newer version", newer, snapshot.ErrVersion, "unsupported format version 2; this protectmap reads version 1"},
		{"a flipped bit", flipped, snapshot.ErrChecksum, "checksum mismatch"},
		{"cut before the end section", raw[:len(raw)-16], snapshot.ErrTruncated, "end section missing"},
		{"cut in a section", raw[:len(raw)/2], snapshot.ErrTruncated, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(tc.raw)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
	// Cut anywhere, the file is refused.
	for n := range len(raw) {
		if _, err := read(raw[:n]); err == nil {
			t.Fatalf("cut to %d of %d bytes: read without error", n, len(raw))
		}
	}
}

// FuzzRead feeds the reader damaged snapshots: it must refuse or read
// them, never panic, and what it reads must be whole layers. Each input
// is read as it is and again with its sections' checksums made right, so
// the damage reaches the sections' decoders.
func FuzzRead(f *testing.F) {
	raw := small(f)
	f.Add(raw)
	f.Add(raw[:len(raw)/3])
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, raw := range [][]byte{raw, resummed(raw)} {
			d, err := read(raw)
			if err != nil {
				continue
			}
			for _, l := range d.Layers {
				for i := range l.Len() {
					if f := l.Feature(i); f.ID == "" || f.Geometry == nil {
						t.Fatalf("layer %s feature %d: %+v", l.Name(), i, f)
					}
				}
			}
		}
	})
}

// resummed is raw with the checksum of every whole section it holds made
// right.
func resummed(raw []byte) []byte {
	raw = bytes.Clone(raw)
	for at := 12; at+16 <= len(raw); {
		n := binary.LittleEndian.Uint64(raw[at+4:])
		if n > uint64(len(raw)-at-16) {
			break
		}
		payload := raw[at+16 : at+16+int(n)]
		binary.LittleEndian.PutUint32(raw[at+12:], crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
		at += 16 + int(n)
	}
	return raw
}
