package geojson

import (
	"sync"
	"sync/atomic"

	"github.com/protectmap/protectmap/geo"
)

// Bodies keeps the GeoJSON Feature each feature of an index is written as,
// so an answer copies ready bytes instead of formatting coordinates again:
// the layers of an index never change, so a body never goes stale. A body
// is kept the first time its feature is written, until the bytes allowed
// are used up; after that, features not kept are formatted each time. The
// bytes live in a few large chunks, not one allocation each, so the
// garbage collector has next to nothing to scan. A body is kept packed
// (see pack), without the parts every body of its geometry type shares.
//
// A Bodies is safe for concurrent use; a nil *Bodies keeps nothing.
type Bodies struct {
	slots map[*geo.Layer][]atomic.Uint64 // each feature's body, packed (see slot)
	// deflated holds each kept body's deflated segment (see AppendGzip),
	// packed as slots are; nil when segments are not kept.
	deflated map[*geo.Layer][]atomic.Uint64
	plain    arena // the bodies
	packed   arena // their deflated segments
	// deflaters keep the compressors that make segments.
	deflaters sync.Pool
}

// arena keeps byte strings in a few large chunks, pointed at by slots.
type arena struct {
	chunk int        // the size of each chunk
	mu    sync.Mutex // orders writes to chunks
	// chunks has room for every chunk allowed; a reader reads an entry
	// only after loading a slot stored after it was set.
	chunks [][]byte
	// made counts the chunks allocated and used the bytes used in the
	// last of them; mu guards both.
	made, used int
	full       atomic.Bool // no more strings are kept
}

// The layout of a slot: a set bit, the chunk, the offset in it and the length.
const (
	offsetBits = 20
	lengthBits = offsetBits + 1
	chunkBits  = 63 - offsetBits - lengthBits
	// maxChunk is the size of a chunk; a body longer than that is never
	// kept.
	maxChunk = 1 << offsetBits
)

// NewBodies returns a cache of the bodies of ix's features holding at most
// maxBytes of them, and at most segmentBytes of their deflated segments
// (see AppendGzip); below one feature's worth of either it keeps none of
// it. Its index of which bodies are kept takes 8 bytes a feature more, and
// as many again when it keeps segments.
func NewBodies(ix *geo.Index, maxBytes, segmentBytes int) *Bodies {
	if maxBytes < minBytes || ix == nil {
		return nil
	}
	b := &Bodies{slots: newSlots(ix), plain: newArena(maxBytes)}
	if segmentBytes >= minBytes {
		b.packed = newArena(segmentBytes)
		b.deflated = newSlots(ix)
	}
	return b
}

// newSlots returns an empty slot for each feature of each of ix's layers.
func newSlots(ix *geo.Index) map[*geo.Layer][]atomic.Uint64 {
	slots := make(map[*geo.Layer][]atomic.Uint64, len(ix.Layers()))
	for _, l := range ix.Layers() {
		slots[l] = make([]atomic.Uint64, l.Len())
	}
	return slots
}

// minBytes is the least a cache keeps anything in.
const minBytes = 1 << 10

// newArena returns an arena of at most maxBytes.
func newArena(maxBytes int) arena {
	chunk := min(maxBytes, maxChunk)
	return arena{chunk: chunk, chunks: make([][]byte, min(maxBytes/chunk, 1<<chunkBits))}
}

// AppendFeature appends the i-th feature of l as the package's
// AppendFeature does.
func (b *Bodies) AppendFeature(dst []byte, l *geo.Layer, i int) []byte {
	return b.appendFeature(dst, l, i, nil)
}

// appendFeature is AppendFeature, recording a kept body copied in copies
// unless nil.
func (b *Bodies) appendFeature(dst []byte, l *geo.Layer, i int, copies *Copies) []byte {
	if b == nil {
		return AppendFeature(dst, l.Feature(i))
	}
	slots := b.slots[l]
	if slots == nil {
		return AppendFeature(dst, l.Feature(i))
	}
	start := len(dst)
	if s := slots[i].Load(); s != 0 {
		dst = unpack(dst, b.plain.at(s))
		if b.deflated != nil && copies != nil {
			// The body's bytes in dst stay as they are until the answer
			// is sent, but for the two braces AppendHit reopens, which
			// its segment leaves out.
			copies.add(start, dst[start:len(dst):len(dst)], &b.deflated[l][i])
		}
		return dst
	}
	dst = AppendFeature(dst, l.Feature(i))
	if !b.plain.full.Load() { // as keep would tell, before packing for nothing
		b.plain.keep(&slots[i], pack(nil, dst[start:]))
	}
	return dst
}

// AppendFeatures appends the features of l at the given indexes as
// AppendFeature does, separated by commas, recording the kept bodies it
// copies in copies (which may be nil).
func (b *Bodies) AppendFeatures(dst []byte, l *geo.Layer, at []int32, copies *Copies) []byte {
	b.touch(l, at)
	for k, i := range at {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = b.appendFeature(dst, l, int(i), copies)
	}
	return dst
}

// AppendHit appends the site h found as the package's AppendHit does for
// h's own feature: its body, with the members of the answer added to its
// properties. It records its body in copies (which may be nil) when that
// was kept.
func (b *Bodies) AppendHit(dst []byte, h *geo.Hit, copies *Copies, extra ...Member) []byte {
	dst = b.appendFeature(dst, h.Layer, h.Index, copies)
	// A body ends with the closing braces of its properties and itself.
	dst = dst[:len(dst)-2]
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = appendMembers(dst, h, extra)
	return append(dst, "}}"...)
}

// touch reads each cache line of each feature's body, or what
// geo.Layer.Touch reads when its body is not kept, a block of slots at a
// time before their bodies, as TouchHits does: a page's features lie
// scattered over a large layer.
func (b *Bodies) touch(l *geo.Layer, at []int32) {
	var slots []atomic.Uint64
	if b != nil {
		slots = b.slots[l]
	}
	if slots == nil {
		l.Touch(at)
		return
	}
	var x byte
	var kept [touchBlock]uint64
	var unkept [touchBlock]int32
	for from := 0; from < len(at); from += touchBlock {
		block := at[from:min(from+touchBlock, len(at))]
		for k, i := range block {
			kept[k] = slots[i].Load()
		}
		x += b.touchKept(kept[:len(block)])
		// The features not kept are touched in one call, whose loop
		// waits for all of them at once.
		n := 0
		for k, i := range block {
			if kept[k] == 0 {
				unkept[n] = i
				n++
			}
		}
		l.Touch(unkept[:n])
	}
	keepByte(x)
}

// TouchHits reads each cache line of the kept bodies of the sites found,
// or what geo.Layer.Touch reads when a body is not kept, before AppendHit
// copies them: the sites lie scattered over a large layer, and reads that
// do not wait on each other wait for memory side by side rather than one
// after another. So the slots of a block of sites are read first, in a
// loop of their own, and then their bodies: a loop that read a body after
// each slot kept few slots' reads in flight at once.
func (b *Bodies) TouchHits(hits []geo.Hit) {
	var x byte
	var kept [touchBlock]uint64
	for from := 0; from < len(hits); from += touchBlock {
		block := hits[from:min(from+touchBlock, len(hits))]
		var l *geo.Layer
		var slots []atomic.Uint64
		for k := range block {
			h := &block[k]
			if h.Layer != l && b != nil {
				l, slots = h.Layer, b.slots[h.Layer]
			}
			kept[k] = 0
			if slots != nil {
				kept[k] = slots[h.Index].Load()
			}
		}
		x += b.touchKept(kept[:len(block)])
		for k := range block {
			if kept[k] == 0 {
				block[k].Layer.Touch([]int32{int32(block[k].Index)})
			}
		}
	}
	keepByte(x)
}

// touchKept reads each cache line of the bodies the slots in kept point
// at, passing over those that point at none, and returns the sum of the
// bytes read, for keepByte.
func (b *Bodies) touchKept(kept []uint64) byte {
	var x byte
	for _, s := range kept {
		if s != 0 {
			x += b.touchBody(s)
		}
	}
	return x
}

// touchBlock is how many features TouchHits and touch read the slots of
// before their bodies: more than a proximity answer's usual 20.
const touchBlock = 32

// touchBody reads a byte of each cache line of the body a slot points at,
// and returns their sum for keepByte.
func (b *Bodies) touchBody(s uint64) byte {
	var x byte
	body := b.plain.at(s)
	for i := 0; i < len(body); i += 64 {
		x += body[i]
	}
	return x
}

// keepByte makes its argument needed, so the compiler keeps the reads
// that produce it.
//
//go:noinline
func keepByte(byte) {}

// at is the string a slot points at.
func (a *arena) at(s uint64) []byte {
	n := int(s & (1<<lengthBits - 1))
	off := int(s >> lengthBits & (1<<offsetBits - 1))
	c := int(s >> (lengthBits + offsetBits) & (1<<chunkBits - 1))
	return a.chunks[c][off : off+n : off+n]
}

// keep copies body into the chunks and points slot at it, unless the
// arena is full or another request kept it first.
func (a *arena) keep(slot *atomic.Uint64, body []byte) {
	if a.full.Load() || len(body) > a.chunk {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if slot.Load() != 0 {
		return
	}
	if a.made == 0 || a.used+len(body) > a.chunk {
		if a.made == len(a.chunks) {
			a.full.Store(true)
			return
		}
		a.chunks[a.made] = make([]byte, a.chunk)
		a.made++
		a.used = 0
	}
	c := a.made - 1
	copy(a.chunks[c][a.used:], body)
	slot.Store(1<<63 | uint64(c)<<(lengthBits+offsetBits) | uint64(a.used)<<lengthBits | uint64(len(body)))
	a.used += len(body)
}
