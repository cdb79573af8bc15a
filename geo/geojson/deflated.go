package geojson

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// Copies records where an answer holds bodies copied from a Bodies, so
// AppendGzip can build the answer's gzip form from their deflated
// segments. A nil *Copies records nothing.
type Copies struct {
	list []copied
}

// copied is a kept body at an offset of an answer.
type copied struct {
	at   int
	body []byte
	seg  *atomic.Uint64 // the slot of its deflated segment
}

// Reset empties c for another answer, keeping its room.
func (c *Copies) Reset() { c.list = c.list[:0] }

func (c *Copies) add(at int, body []byte, seg *atomic.Uint64) {
	c.list = append(c.list, copied{at: at, body: body, seg: seg})
}

// A segment is a body but its closing two bytes (the braces AppendHit
// reopens) as raw DEFLATE blocks, none final, compressed on their own at
// the best level, since that happens once, and ending on a byte boundary
// (a sync flush): stitched between stored blocks it decodes as itself
// wherever it lies in a stream.
const segmentLevel = flate.BestCompression

// deflater makes segments.
type deflater struct {
	w   *flate.Writer
	buf bytes.Buffer
}

// gapCoders keep the coders of gaps, so an answer's hash table is
// cleared rather than allocated.
var gapCoders = sync.Pool{New: func() any { return new(gapCoder) }}

// gzipHeader is a gzip member's header with no name, time or flags: the
// DEFLATE method and an unknown operating system, as compress/gzip writes.
var gzipHeader = [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// AppendGzip appends answer as one gzip member, its bytes decoding to
// answer exactly, and reports true, when at least half of answer is kept
// bodies whose deflated segments are kept (each is made and kept the first
// time it is asked for); otherwise it appends nothing and reports false,
// and the answer is better compressed whole. The segments are copied in;
// every other byte is coded as it is written (see gapCoder). So the answer
// is compressed about as fast as it is copied, at the price of the bytes a
// single stream would share across bodies and of the numbers each answer
// computes, left as 8-bit literals. copies must have been recorded by b
// while answer was written.
func (b *Bodies) AppendGzip(dst, answer []byte, copies *Copies) ([]byte, bool) {
	if b == nil || copies == nil {
		return dst, false
	}
	covered := 0
	for _, c := range copies.list {
		if b.segment(c.body[:len(c.body)-2], c.seg) != nil {
			covered += len(c.body)
		}
	}
	if 2*covered < len(answer) {
		return dst, false
	}
	g := gapCoders.Get().(*gapCoder)
	defer gapCoders.Put(g)
	clear(g.seen[:])
	g.dst = append(dst, gzipHeader[:]...)
	from := 0
	for _, c := range copies.list {
		n := len(c.body) - 2
		seg := b.segment(c.body[:n], c.seg)
		if seg == nil {
			continue
		}
		g.gap(answer, from, c.at, false)
		g.dst = append(g.dst, seg...)
		from = c.at + n
	}
	g.gap(answer, from, len(answer), true)
	dst = binary.LittleEndian.AppendUint32(g.dst, crc32.ChecksumIEEE(answer))
	g.dst = nil
	return binary.LittleEndian.AppendUint32(dst, uint32(len(answer))), true
}

// appendStored appends p as stored DEFLATE blocks, at a byte boundary;
// with final, the last of them ends the stream (an empty one when p is
// empty), and without it, an empty p takes no block.
func appendStored(dst, p []byte, final bool) []byte {
	const most = 1<<16 - 1
	for len(p) > 0 || final {
		n := min(len(p), most)
		last := final && n == len(p)
		head := byte(0)
		if last {
			head = 1
		}
		dst = append(dst, head, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		dst = append(dst, p[:n]...)
		p = p[n:]
		if last {
			break
		}
	}
	return dst
}

// segment returns body's deflated segment, keeping it in slot the first
// time; nil when no more segments are kept.
func (b *Bodies) segment(body []byte, slot *atomic.Uint64) []byte {
	if s := slot.Load(); s != 0 {
		return b.packed.at(s)
	}
	if b.packed.full.Load() {
		return nil
	}
	d, _ := b.deflaters.Get().(*deflater)
	if d == nil {
		w, _ := flate.NewWriter(nil, segmentLevel)
		d = &deflater{w: w}
	}
	defer b.deflaters.Put(d)
	d.buf.Reset()
	d.w.Reset(&d.buf)
	d.w.Write(body) //nolint:errcheck // a bytes.Buffer never fails
	d.w.Flush()     //nolint:errcheck // a bytes.Buffer never fails
	b.packed.keep(slot, d.buf.Bytes())
	if s := slot.Load(); s != 0 {
		return b.packed.at(s)
	}
	return nil
}
