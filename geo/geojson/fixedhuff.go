package geojson

import (
	"encoding/binary"
	"math/bits"
)

// gapCoder writes the bytes of an answer between its deflated segments as
// DEFLATE blocks of the fixed Huffman code, which need no code table: the
// keys each site's answer repeats (`,"distance_m":`, `,"nearest_point":[`,
// ...) become back-references to where the previous site's had them, and
// numbers stay 8-bit literals. A short gap is cheaper stored.
type gapCoder struct {
	dst  []byte
	bits uint64 // pending bits, the first written in the lowest
	n    uint   // how many
	// seen holds, for a hash of 4 bytes, 1 + the last position in the
	// answer of a gap's byte with that hash.
	seen [1 << gapHashBits]int32
}

const (
	gapHashBits = 10
	// minCoded is the shortest gap worth a fixed-code block: below it,
	// the block's end and the empty stored block that aligns the next
	// segment cost more than a stored block's 5-byte header saves.
	minCoded = 16
	// window is how far back DEFLATE may refer.
	window = 1 << 15
	// minMatch and maxMatch bound a back-reference's length.
	minMatch, maxMatch = 4, 258
)

// put writes the n low bits of v, n at most 16.
func (g *gapCoder) put(v uint64, n uint) {
	g.bits |= v << g.n
	g.n += n
	if g.n >= 32 {
		g.dst = binary.LittleEndian.AppendUint32(g.dst, uint32(g.bits))
		g.bits >>= 32
		g.n -= 32
	}
}

// flush pads the pending bits to a byte with zeros.
func (g *gapCoder) flush() {
	for g.n > 0 {
		g.dst = append(g.dst, byte(g.bits))
		g.bits >>= 8
		g.n = max(g.n, 8) - 8
	}
	g.bits = 0
}

// symbol writes a literal/length symbol in the fixed code.
func (g *gapCoder) symbol(s int) {
	c := fixedCodes[s]
	g.put(uint64(c.code), uint(c.n))
}

// fixedCode is a symbol's code in the fixed code, its bits reversed so
// that they go out from the highest, as codes do.
type fixedCode struct {
	code uint16
	n    uint8
}

// fixedCodes are the literal/length codes of RFC 1951 §3.2.6.
var fixedCodes = func() (t [288]fixedCode) {
	for s := range t {
		var code, n int
		switch {
		case s < 144:
			code, n = 0x30+s, 8
		case s < 256:
			code, n = 0x190+s-144, 9
		case s < 280:
			code, n = s-256, 7
		default:
			code, n = 0xc0+s-280, 8
		}
		t[s] = fixedCode{bits.Reverse16(uint16(code)) >> (16 - n), uint8(n)}
	}
	return t
}()

// inNumber reports whether c may be part of a number, where a
// back-reference seldom starts: the coder looks for none there.
func inNumber(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-'
}

// Where each length and distance code starts, and its extra bits (RFC
// 1951 §3.2.5).
var (
	lengthBase  = [...]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [...]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [...]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [...]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// match writes a back-reference of length bytes, distance back.
func (g *gapCoder) match(length, distance int) {
	c := len(lengthBase) - 1
	for int(lengthBase[c]) > length {
		c--
	}
	g.symbol(257 + c)
	g.put(uint64(length-int(lengthBase[c])), uint(lengthExtra[c]))
	d := len(distBase) - 1
	for int(distBase[d]) > distance {
		d--
	}
	g.put(uint64(bits.Reverse8(uint8(d))>>3), 5)
	g.put(uint64(distance-int(distBase[d])), uint(distExtra[d]))
}

func gapHash(p []byte) uint32 {
	return (uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24) * 2654435761 >> (32 - gapHashBits)
}

// gap writes answer[from:to], at a byte boundary, and leaves the stream
// at one; with final, it ends the stream. It may refer back to any byte
// of answer before from, which the decoder has written by then.
func (g *gapCoder) gap(answer []byte, from, to int, final bool) {
	if to-from < minCoded {
		g.dst = appendStored(g.dst, answer[from:to], final)
		return
	}
	head := uint64(2) // the fixed code
	if final {
		head |= 1
	}
	g.put(head, 3)
	for p := from; p < to; {
		if c := answer[p]; inNumber(c) {
			g.symbol(int(c))
			p++
			continue
		}
		if p+minMatch <= to {
			h := gapHash(answer[p:])
			c := int(g.seen[h]) - 1
			g.seen[h] = int32(p + 1)
			if c >= 0 && p-c <= window {
				n := 0
				for n < maxMatch && p+n < to && answer[c+n] == answer[p+n] {
					n++
				}
				if n >= minMatch {
					g.match(n, p-c)
					p += n
					continue
				}
			}
		}
		g.symbol(int(answer[p]))
		p++
	}
	g.symbol(256) // the end of the block
	if final {
		g.flush()
		return
	}
	// An empty stored block brings the next segment to a byte boundary.
	g.put(0, 3)
	g.flush()
	g.dst = append(g.dst, 0, 0, 0xff, 0xff)
}
