package geojson

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// bodiesIndex is a layer whose features have properties, empty properties
// and none, with bodies of a few hundred bytes, and one feature too long
// for a chunk of a small cache.
func bodiesIndex(t *testing.T) (*geo.Index, *geo.Layer) {
	t.Helper()
	var fs []geo.Feature
	for i := range 40 {
		f := geo.Feature{ID: fmt.Sprint("f", i), Geometry: orb.LineString{{30 + float64(i)*0.001, 50}, {30.123456789, 50.1 + float64(i)*1e-7}}}
		switch i % 3 {
		case 0:
			f.Properties = []byte(`{"name":"Bridge \"` + fmt.Sprint(i) + `\"","kind":"bridge"}`)
		case 1:
			f.Properties = []byte(`{}`)
		}
		fs = append(fs, f)
	}
	long := make(orb.LineString, 200)
	for i := range long {
		long[i] = orb.Point{31 + float64(i)*1e-3, 49.123456789}
	}
	fs = append(fs, geo.Feature{ID: "long", Geometry: long, Properties: []byte(`{"kind":"line"}`)})
	l, err := geo.NewLayer("sites", "test", fs)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(l)
	if err != nil {
		t.Fatal(err)
	}
	return ix, l
}

// bodiesCase is a cache of the bodies of bodiesIndex.
type bodiesCase struct {
	name   string
	bodies *Bodies
}

// bodiesCases are caches that keep nothing, fill up, hold everything, and
// hold every body but no deflated segment.
func bodiesCases(ix *geo.Index) []bodiesCase {
	return []bodiesCase{
		{"none kept", nil},
		// 2 KiB: a few bodies and 1 KiB of segments fit, then both are full.
		{"fills up", NewBodies(ix, 2<<10, 1<<10)},
		{"holds all", NewBodies(ix, 1<<20, 1<<20)},
		{"no segments", NewBodies(ix, 1<<20, 0)},
	}
}

// TestBodies: features and hits written from kept bodies are what the
// package's writer makes, byte for byte, whether the body was kept, is
// being kept, or did not fit once the cache was full.
func TestBodies(t *testing.T) {
	ix, l := bodiesIndex(t)
	other, err := geo.NewLayer("other", "test", []geo.Feature{{ID: "o", Geometry: orb.Point{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range bodiesCases(ix) {
		t.Run(tt.name, func(t *testing.T) {
			all := make([]int32, l.Len())
			for i := range all {
				all[i] = int32(i)
			}
			var want []byte
			for i := range all {
				if i > 0 {
					want = append(want, ',')
				}
				want = AppendFeature(want, l.Feature(i))
			}
			for pass := range 2 {
				if got := tt.bodies.AppendFeatures([]byte("["), l, all, nil); !bytes.Equal(got[1:], want) {
					t.Fatalf("pass %d: AppendFeatures wrote\n%s\nwant\n%s", pass, got[1:], want)
				}
				// Reading ahead takes hits of any layer, the cache's or
				// not, with their bodies kept or not.
				tt.bodies.TouchHits([]geo.Hit{{Layer: l, Feature: l.Feature(0)}, {Layer: other, Feature: other.Feature(0)}, {Layer: l, Feature: l.Feature(l.Len() - 1), Index: l.Len() - 1}})
				for i := range all {
					h := geo.Hit{Layer: l, Feature: l.Feature(i), Index: i, Meters: 12.3456, Nearest: orb.Point{30.5, 50.5}, Bearing: 45}
					extra := []Member{{Key: "possibly_hit", Value: true}, {Key: "protected_by", Value: []string{"a"}}}
					if got, want := tt.bodies.AppendHit(nil, &h, nil, extra...), AppendHit(nil, h.Feature, &h, extra...); !bytes.Equal(got, want) {
						t.Fatalf("pass %d: AppendHit wrote\n%s\nwant\n%s", pass, got, want)
					}
					if got, want := tt.bodies.AppendHit(nil, &h, nil), AppendHit(nil, h.Feature, &h); !bytes.Equal(got, want) {
						t.Fatalf("pass %d: AppendHit without extra wrote\n%s\nwant\n%s", pass, got, want)
					}
				}
			}
			if got, want := tt.bodies.AppendFeature(nil, other, 0), AppendFeature(nil, other.Feature(0)); !bytes.Equal(got, want) {
				t.Errorf("a layer of another index: wrote %s, want %s", got, want)
			}
			if tt.bodies == nil {
				return
			}
			kept, fit := 0, 0
			for i := range tt.bodies.slots[l] {
				if tt.bodies.slots[l][i].Load() != 0 {
					kept++
				}
				if len(AppendFeature(nil, l.Feature(i))) <= tt.bodies.plain.chunk {
					fit++
				}
			}
			switch {
			case tt.bodies.plain.full.Load() && kept == fit:
				t.Errorf("full with every body that fits a chunk kept")
			case !tt.bodies.plain.full.Load() && kept != fit:
				t.Errorf("not full, yet %d of the %d bodies that fit a chunk kept", kept, fit)
			}
		})
	}
}

// TestBodiesConcurrent: requests writing the same features at once each
// get them whole (run with -race).
func TestBodiesConcurrent(t *testing.T) {
	ix, l := bodiesIndex(t)
	b := NewBodies(ix, 4<<10, 2<<10)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for k := range 200 {
				i := (k*7 + w) % l.Len()
				got, want := b.AppendFeature(nil, l, i), AppendFeature(nil, l.Feature(i))
				if !bytes.Equal(got, want) {
					t.Errorf("feature %d written as %s, want %s", i, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := strings.Count(string(b.AppendFeatures(nil, l, []int32{0, 1}, nil)), `"type":"Feature"`); n != 2 {
		t.Errorf("two features written as %d", n)
	}
}
