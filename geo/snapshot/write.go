package snapshot

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geodesy"
)

// WriteFile writes d to file, whole or not at all: it writes a temporary
// file beside it and renames that over file, so a server reloading file
// never reads one half written.
func WriteFile(file string, d *Data) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp")
	if err != nil {
		return err
	}
	if err = Write(tmp, d); err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Write writes d as a snapshot to f. Each section's length and checksum
// precede it, so f is seeked back to fill them in once it is written.
func Write(f io.WriteSeeker, d *Data) error {
	w := &writer{f: f, bw: bufio.NewWriterSize(f, 1<<20)}
	w.bw.WriteString(magic)
	w.bw.Write(binary.LittleEndian.AppendUint32(nil, Version))
	w.pos = int64(len(magic) + 4)
	w.begin(tagData)
	b := appendString(nil, d.Version)
	b = appendString(b, d.AgreementsFrom)
	b = appendString(b, string(d.Agreements))
	w.write(binary.AppendUvarint(b, uint64(len(d.Layers))))
	w.end()
	for _, l := range d.Layers {
		if err := w.layer(l); err != nil {
			return err
		}
	}
	w.begin(tagEnd)
	w.end()
	return w.err
}

// writer streams sections to f through bw, keeping the running checksum
// and length of the one being written; its first error sticks.
type writer struct {
	f   io.WriteSeeker
	bw  *bufio.Writer
	pos int64 // where in f the next byte of bw lands
	at  int64 // where the open section's header starts
	n   int64 // the open section's payload bytes so far
	crc uint32
	tag string
	err error
}

const sectionHeader = 16

func (w *writer) begin(tag string) {
	w.tag, w.at, w.n, w.crc = tag, w.pos, 0, 0
	w.bw.Write(make([]byte, sectionHeader))
	w.pos += sectionHeader
}

func (w *writer) write(p []byte) {
	w.bw.Write(p)
	w.crc = crc32.Update(w.crc, castagnoli, p)
	w.n += int64(len(p))
	w.pos += int64(len(p))
}

// end fills in the open section's header.
func (w *writer) end() {
	if w.err != nil {
		return
	}
	if w.err = w.bw.Flush(); w.err != nil {
		return
	}
	h := append([]byte(w.tag), make([]byte, 12)...)
	binary.LittleEndian.PutUint64(h[4:], uint64(w.n))
	binary.LittleEndian.PutUint32(h[12:], w.crc)
	if _, w.err = w.f.Seek(w.at, io.SeekStart); w.err != nil {
		return
	}
	if _, w.err = w.f.Write(h); w.err != nil {
		return
	}
	_, w.err = w.f.Seek(w.pos, io.SeekStart)
}

// layer writes l's sections: its features in source order, each with the
// envelope the layer was built from.
func (w *writer) layer(l *geo.Layer) error {
	kinds := map[string]uint64{}
	var kindList []string
	for i := range l.Len() {
		k := l.Feature(i).Kind
		if _, ok := kinds[k]; !ok {
			kinds[k] = uint64(len(kindList))
			kindList = append(kindList, k)
		}
	}
	w.begin(tagLayer)
	b := appendString(nil, l.Name())
	b = appendString(b, l.Source())
	b = binary.AppendUvarint(b, uint64(l.Len()))
	b = binary.AppendUvarint(b, uint64(len(kindList)))
	for _, k := range kindList {
		b = appendString(b, k)
	}
	w.write(b)
	w.end()

	w.begin(tagText)
	for i := range l.Len() {
		f := l.Feature(i)
		w.write([]byte(f.ID))
		w.write([]byte(f.Name))
	}
	w.end()
	w.begin(tagProps)
	for i := range l.Len() {
		w.write(l.Feature(i).Properties)
	}
	w.end()

	w.begin(tagFeats)
	var chunks []uint64
	var text, props uint64
	for i := range l.Len() {
		f := l.Feature(i)
		if i%chunkFeatures == 0 {
			chunks = append(chunks, uint64(w.n), text, props)
		}
		b = binary.AppendUvarint(b[:0], uint64(len(f.ID)))
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = binary.AppendUvarint(b, kinds[f.Kind])
		n := uint64(0)
		if f.Properties != nil {
			n = uint64(len(f.Properties)) + 1
		}
		b = binary.AppendUvarint(b, n)
		var err error
		if b, err = appendGeometry(b, f.Geometry); err != nil {
			return fmt.Errorf("snapshot: layer %s, feature %q: %w", l.Name(), f.ID, err)
		}
		env := geodesy.Envelope(f.Geometry)
		b = appendPoint(appendPoint(b, env.Min), env.Max)
		w.write(b)
		text += uint64(len(f.ID) + len(f.Name))
		props += uint64(len(f.Properties))
	}
	w.end()

	w.begin(tagChunks)
	b = binary.AppendUvarint(b[:0], chunkFeatures)
	for _, c := range chunks {
		b = binary.AppendUvarint(b, c)
	}
	w.write(b)
	w.end()
	return w.err
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendPoint(b []byte, p orb.Point) []byte {
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[0]))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(p[1]))
}

func appendPoints(b []byte, pts []orb.Point) []byte {
	b = binary.AppendUvarint(b, uint64(len(pts)))
	for _, p := range pts {
		b = appendPoint(b, p)
	}
	return b
}

func appendRings[R ~[]orb.Point](b []byte, rings []R) []byte {
	b = binary.AppendUvarint(b, uint64(len(rings)))
	for _, r := range rings {
		b = appendPoints(b, r)
	}
	return b
}

// appendGeometry appends g's type byte and coordinates.
func appendGeometry(b []byte, g orb.Geometry) ([]byte, error) {
	switch g := g.(type) {
	case orb.Point:
		return appendPoint(append(b, typePoint), g), nil
	case orb.MultiPoint:
		return appendPoints(append(b, typeMultiPoint), g), nil
	case orb.LineString:
		return appendPoints(append(b, typeLineString), g), nil
	case orb.MultiLineString:
		return appendRings(append(b, typeMultiLineString), g), nil
	case orb.Polygon:
		return appendRings(append(b, typePolygon), g), nil
	case orb.MultiPolygon:
		b = binary.AppendUvarint(append(b, typeMultiPolygon), uint64(len(g)))
		for _, p := range g {
			b = appendRings(b, p)
		}
		return b, nil
	case orb.Collection:
		b = binary.AppendUvarint(append(b, typeCollection), uint64(len(g)))
		for _, m := range g {
			var err error
			if b, err = appendGeometry(b, m); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	return b, fmt.Errorf("geometry of type %T has no snapshot form", g)
}
