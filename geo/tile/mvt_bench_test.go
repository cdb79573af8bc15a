package tile

import (
	"testing"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/maptile"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

// encodeCase is one rendered tile, ready to be encoded again by either
// encoder: as the calls render makes on layerWriter, and as the layers
// orb's encoder takes.
type encodeCase struct {
	name     string
	features []*vectortile.Tile_Feature
	keys     []string
	values   []*vectortile.Tile_Value
	layers   mvt.Layers
}

// encodeCases renders tiles of l at zoom z around its features and
// decodes them into both encoders' input.
func encodeCases(b *testing.B, l *geo.Layer, z maptile.Zoom, n int) []encodeCase {
	var out []encodeCase
	var w layerWriter
	for _, t := range benchTiles(l, z, n) {
		body, _, err := render(l, uint32(t.Z), t.X, t.Y)
		if err != nil {
			b.Fatal(err)
		}
		if body == nil {
			continue
		}
		var vt vectortile.Tile
		if err := vt.Unmarshal(body); err != nil {
			b.Fatal(err)
		}
		layers, err := mvt.Unmarshal(body)
		if err != nil {
			b.Fatal(err)
		}
		ly := vt.Layers[0]
		c := encodeCase{ly.GetName(), ly.Features, ly.Keys, ly.Values, layers}
		if again := handEncode(&w, &c); string(again) != string(body) {
			b.Fatalf("tile %v encoded again differs from the one rendered", t)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		b.Fatal("no tile drawn")
	}
	return out
}

// handEncode encodes c with layerWriter as render does: ids as values
// known to be new, other strings and counts interned.
func handEncode(w *layerWriter, c *encodeCase) []byte {
	w.reset()
	var tags []uint32
	for _, f := range c.features {
		tags = tags[:0]
		for k := 0; k+1 < len(f.Tags); k += 2 {
			key, v := c.keys[f.Tags[k]], c.values[f.Tags[k+1]]
			var value uint32
			switch {
			case v.StringValue == nil:
				value = w.uint(v.GetUintValue())
			case key == "id":
				value = w.unique(*v.StringValue)
			default:
				value = w.str(*v.StringValue)
			}
			tags = append(tags, w.key(key), value)
		}
		w.feature(f.GetId(), tags, byte(f.GetType()), f.Geometry)
	}
	return w.tile(c.name)
}

// BenchmarkEncodeMVT encodes tiles rendered from the 1M generated set and
// from real layers again, with the hand-written layerWriter and with
// orb's encoding/mvt, and reports the time per tile and bytes written.
// The hand-written one is kept for what it wins: see layerWriter.
func BenchmarkEncodeMVT(b *testing.B) {
	sets := []struct {
		name string
		load func(b *testing.B) *geo.Layer
	}{
		{"synth1M", benchLayer},
		{"grid", sharedLayer("grid", "osm_hv_grid_2016/hv_lines_ukraine_bbox.geojson")},
		{"stations", sharedLayer("stations", "osm_power_stations/power_stations_with_oblasts.geojson")},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			l := set.load(b)
			for _, z := range []maptile.Zoom{6, 10, 14} {
				cases := encodeCases(b, l, z, 200)
				b.Run("z"+itoa(uint32(z))+"/hand", func(b *testing.B) {
					var w layerWriter
					size := 0
					b.ReportAllocs()
					for i := range b.N {
						size += len(handEncode(&w, &cases[i%len(cases)]))
					}
					b.ReportMetric(float64(size)/float64(b.N), "B/tile")
				})
				b.Run("z"+itoa(uint32(z))+"/orb", func(b *testing.B) {
					size := 0
					b.ReportAllocs()
					for i := range b.N {
						body, err := mvt.Marshal(cases[i%len(cases)].layers)
						if err != nil {
							b.Fatal(err)
						}
						size += len(body)
					}
					b.ReportMetric(float64(size)/float64(b.N), "B/tile")
				})
			}
		})
	}
}

// sharedLayer loads a layer from the shared data, or skips without it.
func sharedLayer(name, rel string) func(b *testing.B) *geo.Layer {
	return func(b *testing.B) *geo.Layer {
		l, err := geojson.LoadFile(name, testenv.SharedData(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
}
