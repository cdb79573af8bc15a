package geojson

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/testenv"
)

// TestAppendGzip: answers written from kept bodies, as hits and as pages,
// decode from their stitched gzip form to themselves byte for byte,
// whether each body and its segment is kept, is being kept or did not fit.
func TestAppendGzip(t *testing.T) {
	ix, l := bodiesIndex(t)
	for _, tt := range bodiesCases(ix) {
		t.Run(tt.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(1, 2))
			var copies Copies
			stitched := 0
			for round := range 200 {
				copies.Reset()
				answer := []byte(`{"type":"FeatureCollection","features":[`)
				for k := range rnd.IntN(12) {
					if k > 0 {
						answer = append(answer, ',')
					}
					i := rnd.IntN(l.Len())
					if round%2 == 0 {
						answer = tt.bodies.AppendFeatures(answer, l, []int32{int32(i)}, &copies)
						continue
					}
					h := geo.Hit{Layer: l, Feature: l.Feature(i), Index: i, Meters: rnd.Float64() * 5000, Nearest: orb.Point{30.5, 50.5}}
					answer = tt.bodies.AppendHit(answer, &h, &copies, Member{Key: "possibly_hit", Value: round%3 == 0})
				}
				answer = append(answer, "]}\n"...)
				z, ok := tt.bodies.AppendGzip([]byte("prefix"), answer, &copies)
				if !bytes.HasPrefix(z, []byte("prefix")) {
					t.Fatal("AppendGzip did not append")
				}
				if !ok {
					if len(z) != len("prefix") {
						t.Fatalf("round %d: not stitched, yet %d bytes appended", round, len(z)-len("prefix"))
					}
					continue
				}
				stitched++
				if got := testenv.Gunzip(t, z[len("prefix"):]); !bytes.Equal(got, answer) {
					t.Fatalf("round %d: decoded\n%s\nwant\n%s", round, got, answer)
				}
			}
			if tt.bodies == nil || tt.bodies.deflated == nil {
				if stitched != 0 {
					t.Errorf("%d answers stitched with no segments kept", stitched)
				}
				return
			}
			if stitched == 0 {
				t.Error("no answer stitched")
			}
			kept := 0
			for i := range tt.bodies.deflated[l] {
				if tt.bodies.deflated[l][i].Load() != 0 {
					kept++
				}
			}
			if kept == 0 {
				t.Error("no segment kept")
			}
		})
	}
}

// TestAppendStored: a stored run longer than one block's 65,535 bytes is
// split into blocks, and an empty final run still ends the stream.
func TestAppendStored(t *testing.T) {
	for _, n := range []int{0, 1, 1<<16 - 1, 1 << 16, 200_000} {
		p := bytes.Repeat([]byte("0123456789"), n/10+1)[:n]
		if got := testenv.Gunzip(t, member(appendStored(nil, p, true), p)); !bytes.Equal(got, p) {
			t.Errorf("%d bytes decoded to %d", n, len(got))
		}
	}
}

// member wraps the DEFLATE stream of answer as a gzip member.
func member(deflated, answer []byte) []byte {
	z := append(gzipHeader[:len(gzipHeader):len(gzipHeader)], deflated...)
	z = binary.LittleEndian.AppendUint32(z, crc32.ChecksumIEEE(answer))
	return binary.LittleEndian.AppendUint32(z, uint32(len(answer)))
}

// FuzzGapCoder: any bytes, cut into gaps at any points, coded as the
// gaps between segments are, decode to themselves.
func FuzzGapCoder(f *testing.F) {
	f.Add([]byte(`{"type":"Feature","properties":{"distance_m":12.5,"bearing_deg":3,"nearest_point":[30.1,50.2]}},{"distance_m":1`), uint64(0x0f0f))
	f.Add(bytes.Repeat([]byte("a"), 70_000), uint64(1))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, answer []byte, cuts uint64) {
		var g gapCoder
		from := 0
		// Each set bit of cuts ends a gap 1/64 further on.
		for k := range 64 {
			if cuts&(1<<k) == 0 {
				continue
			}
			to := max(from, len(answer)*(k+1)/65)
			g.gap(answer, from, to, false)
			from = to
		}
		g.gap(answer, from, len(answer), true)
		if got := testenv.Gunzip(t, member(g.dst, answer)); !bytes.Equal(got, answer) {
			t.Fatalf("%d bytes decoded to %d", len(answer), len(got))
		}
	})
}
