package importer

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file writes synthetic OpenStreetMap PBF files (the format of
// wiki.openstreetmap.org/wiki/PBF_Format: zlib blobs of protobuf
// PrimitiveBlocks with dense nodes), shaped like a country extract: mostly
// data no rule takes, with a known number of elements each rule takes.

type synthNode struct {
	id       int64
	lon, lat float64
	tags     [][2]string
}

type synthWay struct {
	id    int64
	nodes []int64
	tags  [][2]string
}

type synthMember struct {
	way  int64
	role string
}

type synthRelation struct {
	id      int64
	members []synthMember
	tags    [][2]string
}

// synthCounts is what the default mapping should import from a synthetic file.
type synthCounts struct {
	nodes, ways, relations           int
	generators, plants, multipolygon int // generator nodes, plant ways, plant multipolygons
	lines, bridges, hospitals        int // power line ways, bridge ways, hospital ways
}

// synthExtract lays width×height nodes on a grid over Ukraine and builds
// ways and relations on it. One node in 100 is a generator, one in 50 has
// an unrelated tag; 90% of the ways are plain streets.
func synthExtract(width, height int, seed uint64) ([]synthNode, []synthWay, []synthRelation, synthCounts) {
	r := rand.New(rand.NewPCG(seed, seed))
	var c synthCounts
	nodes := make([]synthNode, 0, width*height)
	// Ids rise with gaps and positions wander off the grid, as in real data,
	// so the file compresses as a real one does.
	ids := make([]int64, width*height)
	next := int64(1000)
	for i := range ids {
		next += 1 + int64(r.IntN(8))
		ids[i] = next
	}
	id := func(x, y int) int64 { return ids[y*width+x] }
	cellLon, cellLat := 18/float64(width), 7.5/float64(height)
	for y := range height {
		for x := range width {
			n := synthNode{id: id(x, y),
				lon: 22 + cellLon*(float64(x)+0.4*r.Float64()),
				lat: 44.5 + cellLat*(float64(y)+0.4*r.Float64())}
			switch k := r.IntN(100); {
			case k == 0:
				n.tags = [][2]string{{"power", "generator"}, {"generator:source", "solar"}}
				c.generators++
			case k <= 2:
				n.tags = [][2]string{{"highway", "crossing"}}
			}
			nodes = append(nodes, n)
		}
	}
	var ways []synthWay
	var rels []synthRelation
	wayID := int64(1)
	add := func(nodes []int64, tags ...[2]string) int64 {
		ways = append(ways, synthWay{wayID, nodes, tags})
		wayID++
		return wayID - 1
	}
	for y := 0; y+4 < height; y += 5 {
		for x := 0; x+8 < width; x += 9 {
			row := make([]int64, 8)
			for i := range row {
				row[i] = id(x+i, y)
			}
			square := []int64{id(x, y+1), id(x+1, y+1), id(x+1, y+2), id(x, y+2), id(x, y+1)}
			switch k := r.IntN(1000); {
			case k < 20:
				add(row, [2]string{"highway", "primary"}, [2]string{"bridge", "yes"}, [2]string{"name", fmt.Sprintf("Bridge %d", k)})
				c.bridges++
			case k < 35:
				add(row, [2]string{"power", "line"}, [2]string{"voltage", "330000"})
				c.lines++
			case k < 40:
				add(square, [2]string{"power", "plant"}, [2]string{"plant:source", "gas"}, [2]string{"name", "Plant"})
				c.plants++
			case k < 42:
				add(square, [2]string{"amenity", "hospital"}, [2]string{"name", "Hospital"})
				c.hospitals++
			case k < 45:
				// A plant drawn as a multipolygon: a 3×3 cell outline of two
				// untagged ways around a one-cell hole.
				a, b, cc, d := id(x+2, y), id(x+5, y), id(x+5, y+3), id(x+2, y+3)
				w1 := add([]int64{a, b, cc})
				w2 := add([]int64{cc, d, a})
				hole := add([]int64{id(x+3, y+1), id(x+3, y+2), id(x+4, y+2), id(x+4, y+1), id(x+3, y+1)})
				rels = append(rels, synthRelation{int64(len(rels) + 1), []synthMember{{w1, "outer"}, {w2, "outer"}, {hole, "inner"}},
					[][2]string{{"type", "multipolygon"}, {"power", "plant"}, {"name", "Big plant"}}})
				c.multipolygon++
			default:
				add(row, [2]string{"highway", "residential"}, [2]string{"name", "Street"})
			}
		}
	}
	c.nodes, c.ways, c.relations = len(nodes), len(ways), len(rels)
	return nodes, ways, rels, c
}

// writeSynthPBF writes the elements as a PBF file, 8,000 to a block.
func writeSynthPBF(file string, nodes []synthNode, ways []synthWay, rels []synthRelation) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := &pbfWriter{w: bufio.NewWriter(f)}
	var hb []byte
	for _, feat := range []string{"OsmSchema-V0.6", "DenseNodes"} {
		hb = protowire.AppendTag(hb, 4, protowire.BytesType)
		hb = protowire.AppendString(hb, feat)
	}
	hb = protowire.AppendTag(hb, 16, protowire.BytesType)
	hb = protowire.AppendString(hb, "protectmap tests")
	w.blob("OSMHeader", hb)
	const perBlock = 8000
	for i := 0; i < len(nodes); i += perBlock {
		w.nodeBlock(nodes[i:min(i+perBlock, len(nodes))])
	}
	for i := 0; i < len(ways); i += perBlock {
		w.wayBlock(ways[i:min(i+perBlock, len(ways))])
	}
	for i := 0; i < len(rels); i += perBlock {
		w.relationBlock(rels[i:min(i+perBlock, len(rels))])
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if err := f.Close(); w.err == nil {
		w.err = err
	}
	return w.err
}

type pbfWriter struct {
	w   *bufio.Writer
	err error
}

// blob writes one file block: BlobHeader length, BlobHeader, zlib Blob.
func (p *pbfWriter) blob(typ string, data []byte) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	var blob []byte
	blob = protowire.AppendTag(blob, 2, protowire.VarintType)
	blob = protowire.AppendVarint(blob, uint64(len(data)))
	blob = protowire.AppendTag(blob, 3, protowire.BytesType)
	blob = protowire.AppendBytes(blob, z.Bytes())
	var hdr []byte
	hdr = protowire.AppendTag(hdr, 1, protowire.BytesType)
	hdr = protowire.AppendString(hdr, typ)
	hdr = protowire.AppendTag(hdr, 3, protowire.VarintType)
	hdr = protowire.AppendVarint(hdr, uint64(len(blob)))
	if p.err == nil {
		p.err = binary.Write(p.w, binary.BigEndian, uint32(len(hdr)))
	}
	if p.err == nil {
		_, p.err = p.w.Write(append(hdr, blob...))
	}
}

// strtab is a block's string table; index 0 is the empty string.
type strtab struct {
	index map[string]uint64
	list  []string
}

func newStrtab() *strtab { return &strtab{index: map[string]uint64{"": 0}, list: []string{""}} }

func (s *strtab) id(v string) uint64 {
	if i, ok := s.index[v]; ok {
		return i
	}
	s.index[v] = uint64(len(s.list))
	s.list = append(s.list, v)
	return s.index[v]
}

// block writes one primitive group as a PrimitiveBlock with its strings.
func (p *pbfWriter) block(st *strtab, group []byte) {
	var tab []byte
	for _, s := range st.list {
		tab = protowire.AppendTag(tab, 1, protowire.BytesType)
		tab = protowire.AppendString(tab, s)
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, tab)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, group)
	p.blob("OSMData", b)
}

func packed(dst []byte, num protowire.Number, vals []uint64) []byte {
	var body []byte
	for _, v := range vals {
		body = protowire.AppendVarint(body, v)
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, body)
}

// deltas zigzag-encodes the differences between consecutive values.
func deltas(vals []int64) []uint64 {
	out := make([]uint64, len(vals))
	prev := int64(0)
	for i, v := range vals {
		out[i] = protowire.EncodeZigZag(v - prev)
		prev = v
	}
	return out
}

func (p *pbfWriter) nodeBlock(nodes []synthNode) {
	st := newStrtab()
	ids, lats, lons := make([]int64, len(nodes)), make([]int64, len(nodes)), make([]int64, len(nodes))
	var kv []uint64
	for i, n := range nodes {
		// granularity 100 nanodegrees: the stored values are degrees × 1e7
		ids[i], lats[i], lons[i] = n.id, int64(math.Round(n.lat*1e7)), int64(math.Round(n.lon*1e7))
		for _, t := range n.tags {
			kv = append(kv, st.id(t[0]), st.id(t[1]))
		}
		kv = append(kv, 0)
	}
	var dense []byte
	dense = packed(dense, 1, deltas(ids))
	dense = packed(dense, 8, deltas(lats))
	dense = packed(dense, 9, deltas(lons))
	dense = packed(dense, 10, kv)
	group := protowire.AppendTag(nil, 2, protowire.BytesType)
	p.block(st, protowire.AppendBytes(group, dense))
}

// element starts a Way or Relation message: its id and tags.
func element(st *strtab, id int64, tags [][2]string) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(id))
	keys, vals := make([]uint64, len(tags)), make([]uint64, len(tags))
	for i, t := range tags {
		keys[i], vals[i] = st.id(t[0]), st.id(t[1])
	}
	b = packed(b, 2, keys)
	return packed(b, 3, vals)
}

func (p *pbfWriter) wayBlock(ways []synthWay) {
	st := newStrtab()
	var group []byte
	for _, w := range ways {
		b := element(st, w.id, w.tags)
		b = packed(b, 8, deltas(w.nodes))
		group = protowire.AppendTag(group, 3, protowire.BytesType)
		group = protowire.AppendBytes(group, b)
	}
	p.block(st, group)
}

func (p *pbfWriter) relationBlock(rels []synthRelation) {
	st := newStrtab()
	var group []byte
	for _, r := range rels {
		b := element(st, r.id, r.tags)
		roles, ids, types := make([]uint64, len(r.members)), make([]int64, len(r.members)), make([]uint64, len(r.members))
		for i, m := range r.members {
			roles[i], ids[i], types[i] = st.id(m.role), m.way, 1 // 1: way
		}
		b = packed(b, 8, roles)
		b = packed(b, 9, deltas(ids))
		b = packed(b, 10, types)
		group = protowire.AppendTag(group, 4, protowire.BytesType)
		group = protowire.AppendBytes(group, b)
	}
	p.block(st, group)
}
