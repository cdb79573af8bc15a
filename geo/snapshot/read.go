package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
)

// ReadFile reads the snapshot in file; errors name the file.
func ReadFile(file string) (*Data, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return d, nil
}

// Read reads a snapshot of size bytes from r and rebuilds its layers.
// Every section's checksum is verified before it is used; a damaged,
// truncated or unknown file is an error saying which, never a panic.
func Read(r io.Reader, size int64) (*Data, error) {
	rd := &reader{r: bufio.NewReaderSize(r, 1<<16), left: size}
	head, err := rd.bytes(len(magic) + 4)
	if err != nil {
		if errors.Is(err, ErrTruncated) {
			return nil, ErrNotSnapshot
		}
		return nil, err
	}
	if string(head[:len(magic)]) != magic {
		return nil, ErrNotSnapshot
	}
	if v := binary.LittleEndian.Uint32(head[len(magic):]); v != Version {
		return nil, fmt.Errorf("%w %d; this protectmap reads version %d: write the snapshot again with it", ErrVersion, v, Version)
	}
	meta, err := rd.section(tagData)
	if err != nil {
		return nil, err
	}
	d := &Data{}
	var layers uint64
	d.Version = meta.string()
	d.AgreementsFrom = meta.string()
	d.Agreements = []byte(meta.string())
	layers = meta.uvarint()
	if err := meta.done(); err != nil {
		return nil, err
	}
	for k := range layers {
		l, err := rd.layer()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", k+1, err)
		}
		d.Layers = append(d.Layers, l)
	}
	if _, err := rd.section(tagEnd); err != nil {
		return nil, err
	}
	return d, nil
}

// reader reads sections, knowing how many bytes are left, so a length
// beyond the end is refused before anything is allocated for it.
type reader struct {
	r    *bufio.Reader
	left int64
}

func (rd *reader) bytes(n int) ([]byte, error) {
	b, _, err := rd.summed(n)
	return b, err
}

// summed reads n bytes and their CRC-32C, summing each piece as soon as
// it is read, while it is still in the CPU's cache.
func (rd *reader) summed(n int) ([]byte, uint32, error) {
	if int64(n) > rd.left {
		return nil, 0, ErrTruncated
	}
	b := make([]byte, n)
	var sum uint32
	for at := 0; at < n; {
		piece := b[at:min(n, at+1<<20)]
		if _, err := io.ReadFull(rd.r, piece); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, 0, ErrTruncated
			}
			return nil, 0, err
		}
		sum = crc32.Update(sum, castagnoli, piece)
		at += len(piece)
	}
	rd.left -= int64(n)
	return b, sum, nil
}

// section reads the next section, which must be tag, and checks its sum.
func (rd *reader) section(tag string) (*decoder, error) {
	name := sectionName(tag)
	h, err := rd.bytes(sectionHeader)
	if err != nil {
		return nil, fmt.Errorf("%w: %s section missing", err, name)
	}
	if string(h[:4]) != tag {
		return nil, fmt.Errorf("%w: expected the %s section, found tag %q", ErrCorrupt, name, h[:4])
	}
	n := binary.LittleEndian.Uint64(h[4:])
	if n > uint64(rd.left) {
		return nil, fmt.Errorf("%w: %s section holds %d bytes, the file has %d left", ErrTruncated, name, n, rd.left)
	}
	b, sum, err := rd.summed(int(n))
	if err != nil {
		return nil, fmt.Errorf("%w: %s section", err, name)
	}
	if sum != binary.LittleEndian.Uint32(h[12:]) {
		return nil, fmt.Errorf("%w: %s section", ErrChecksum, name)
	}
	return &decoder{b: b, what: name}, nil
}

func sectionName(tag string) string {
	switch tag {
	case tagData:
		return "data"
	case tagLayer:
		return "layer"
	case tagText:
		return "text"
	case tagProps:
		return "properties"
	case tagFeats:
		return "features"
	case tagChunks:
		return "chunk index"
	}
	return "end"
}

// layer reads one layer's sections and rebuilds it.
func (rd *reader) layer() (*geo.Layer, error) {
	var secs [5]*decoder
	for i, tag := range []string{tagLayer, tagText, tagProps, tagFeats, tagChunks} {
		var err error
		if secs[i], err = rd.section(tag); err != nil {
			return nil, err
		}
	}
	meta, text, props, feats, index := secs[0], secs[1], secs[2], secs[3], secs[4]
	name, source := meta.string(), meta.string()
	n64 := meta.uvarint()
	kinds := make([]string, meta.count(1))
	for i := range kinds {
		kinds[i] = meta.string()
	}
	if err := meta.done(); err != nil {
		return nil, err
	}
	if !geo.ValidLayerName(name) {
		return nil, fmt.Errorf("%w: %q is not a layer name", ErrCorrupt, name)
	}
	// A feature takes at least minFeature bytes of the features section.
	if n64 > uint64(len(feats.b)/minFeature) {
		return nil, fmt.Errorf("%w: %d features cannot fit in %d bytes", ErrCorrupt, n64, len(feats.b))
	}
	n := int(n64)
	chunk := index.uvarint()
	if chunk == 0 || chunk > math.MaxInt32 {
		return nil, fmt.Errorf("%w: chunk index: %d features a chunk", ErrCorrupt, chunk)
	}
	runs := make([]run, (uint64(n)+chunk-1)/chunk)
	for i := range runs {
		r := &runs[i]
		r.first, r.last = i*int(chunk), min(n, (i+1)*int(chunk))
		r.feat, r.text, r.props = index.uvarint(), index.uvarint(), index.uvarint()
	}
	if err := index.done(); err != nil {
		return nil, err
	}
	// Each run ends where the next begins, the last at the sections' ends.
	ends := make([]run, len(runs))
	for i := range runs {
		e := run{feat: uint64(len(feats.b)), text: uint64(len(text.b)), props: uint64(len(props.b))}
		if i+1 < len(runs) {
			e = runs[i+1]
		}
		if r := runs[i]; r.feat > e.feat || r.text > e.text || r.props > e.props || e.feat > uint64(len(feats.b)) ||
			e.text > uint64(len(text.b)) || e.props > uint64(len(props.b)) {
			return nil, fmt.Errorf("%w: chunk index: chunk %d lies outside its sections", ErrCorrupt, i)
		}
		ends[i] = e
	}
	// The text is kept as one string the features' ids and names point
	// into; its buffer is never written again.
	var all string
	if len(text.b) > 0 {
		all = unsafe.String(&text.b[0], len(text.b))
	}
	l := &layerText{text: all, props: props.b, kinds: kinds}
	features := make([]geo.Feature, n)
	bounds := make([]orb.Bound, n)
	// A worker a core, each taking the next run not taken.
	var wg sync.WaitGroup
	var taken atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(taken.Add(1) - 1); i < len(runs); i = int(taken.Add(1) - 1) {
				runs[i].err = l.decode(feats.b, &runs[i], ends[i], features, bounds)
			}
		})
	}
	wg.Wait()
	points := 0
	for _, r := range runs {
		if r.err != nil {
			return nil, fmt.Errorf("layer %s: %w", name, r.err)
		}
		points += r.points
	}
	return geo.NewOwnedLayer(name, source, features, bounds, points)
}

// run is a chunk of a layer's features: where they start in each section,
// and what decoding them found.
type run struct {
	first, last       int
	feat, text, props uint64
	points            int
	err               error
}

// layerText is what a layer's features point into.
type layerText struct {
	text  string
	props []byte
	kinds []string
}

// decode reads the features of r, which ends where end begins, into
// features and bounds.
func (l *layerText) decode(feats []byte, r *run, end run, features []geo.Feature, bounds []orb.Bound) error {
	d := decoder{b: feats[r.feat:end.feat], what: "features"}
	text, props := r.text, r.props
	for i := r.first; i < r.last; i++ {
		idLen, nameLen, kind, propsLen := d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint()
		if d.err != nil {
			return fmt.Errorf("feature %d: %w", i, d.err)
		}
		if idLen == 0 || idLen > end.text-text || nameLen > end.text-text-idLen || kind >= uint64(len(l.kinds)) ||
			propsLen > 0 && propsLen-1 > end.props-props {
			return fmt.Errorf("feature %d: %w: its text lies outside its chunk", i, ErrCorrupt)
		}
		f := &features[i]
		f.ID = l.text[text : text+idLen]
		f.Name = l.text[text+idLen : text+idLen+nameLen]
		text += idLen + nameLen
		f.Kind = l.kinds[kind]
		if propsLen > 0 {
			f.Properties = l.props[props : props+propsLen-1 : props+propsLen-1]
			props += propsLen - 1
		}
		f.Geometry = d.geometry(0)
		bounds[i] = orb.Bound{Min: d.point(), Max: d.point()}
		if d.err != nil {
			return fmt.Errorf("feature %d (%s): %w", i, f.ID, d.err)
		}
		if err := geo.ValidGeometry(f.Geometry); err != nil {
			return fmt.Errorf("feature %d (%s): %w: %w", i, f.ID, ErrCorrupt, err)
		}
		if b := bounds[i]; !(b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]) {
			return fmt.Errorf("feature %d (%s): %w: envelope %v", i, f.ID, ErrCorrupt, b)
		}
		r.points += geo.RelocatedPoints(f.Geometry)
	}
	if len(d.b) != 0 || text != end.text || props != end.props {
		return fmt.Errorf("%w: chunk of features %d to %d does not end where the next begins", ErrCorrupt, r.first, r.last-1)
	}
	return nil
}

// decoder reads the values of one section; its first error sticks and
// every later read returns zero values.
type decoder struct {
	b    []byte
	what string
	err  error
	// free is a block that the positions of many geometries are read
	// into, one allocation rather than one a line or ring.
	free []orb.Point
}

// pointBlock is how many positions a block of decoder.free holds.
const pointBlock = 1 << 14

// minFeature is the fewest bytes a feature takes in the features section:
// four lengths, an empty MultiPoint and its envelope.
const minFeature = 4 + 2 + 32

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s section: %s", ErrCorrupt, d.what, why)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad length or count")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a count of items that take at least size bytes each.
func (d *decoder) count(size int) int {
	v := d.uvarint()
	if v > uint64(len(d.b)/size) {
		d.fail(fmt.Sprintf("a count of %d is more than the section holds", v))
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count(1)
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// done checks the section was read to its end.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d bytes left over", len(d.b)))
	}
	return d.err
}

func (d *decoder) point() orb.Point {
	if len(d.b) < 16 {
		d.fail("a position is cut short")
		return orb.Point{}
	}
	p := orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(d.b)), math.Float64frombits(binary.LittleEndian.Uint64(d.b[8:]))}
	d.b = d.b[16:]
	if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
		d.fail(fmt.Sprintf("position %v is not a longitude and latitude", p))
	}
	return p
}

func (d *decoder) points() []orb.Point {
	n := d.count(16)
	if n > len(d.free) {
		d.free = make([]orb.Point, max(n, pointBlock))
	}
	pts := d.free[:n:n]
	d.free = d.free[n:]
	for i := range pts {
		pts[i] = d.point()
	}
	return pts
}

// readRings reads a count of point lists, each as points reads it, into
// the slice type the geometry holds (orb.Polygon's rings, a
// MultiLineString's lines), as appendRings writes them.
func readRings[R ~[]orb.Point](d *decoder) []R {
	rings := make([]R, d.count(1))
	for i := range rings {
		rings[i] = d.points()
	}
	return rings
}

func (d *decoder) geometry(nesting int) orb.Geometry {
	if len(d.b) == 0 {
		d.fail("a geometry is cut short")
		return nil
	}
	typ := d.b[0]
	d.b = d.b[1:]
	switch typ {
	case typePoint:
		return d.point()
	case typeMultiPoint:
		return orb.MultiPoint(d.points())
	case typeLineString:
		return orb.LineString(d.points())
	case typeMultiLineString:
		return orb.MultiLineString(readRings[orb.LineString](d))
	case typePolygon:
		return orb.Polygon(readRings[orb.Ring](d))
	case typeMultiPolygon:
		m := make(orb.MultiPolygon, d.count(1))
		for i := range m {
			m[i] = readRings[orb.Ring](d)
		}
		return m
	case typeCollection:
		if nesting >= maxNesting {
			d.fail("geometry collections nested too deep")
			return nil
		}
		c := make(orb.Collection, d.count(1))
		for i := range c {
			c[i] = d.geometry(nesting + 1)
		}
		return c
	}
	d.fail(fmt.Sprintf("unknown geometry type %d", typ))
	return nil
}
