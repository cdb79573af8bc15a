package geojson

import (
	"bytes"
	"encoding/binary"

	"github.com/protectmap/protectmap/internal/jsonscan"
)

// A kept body is packed: the parts every Feature body of a geometry type
// shares, about a quarter of a body, are left out, so the bytes allowed
// for kept bodies hold a third as many more of them. Unpacked, a body is
//
//	{"type":"Feature","id":<id>,"geometry":{"type":"<type>","coordinates":<rest>
//
// and packed, the number of its type in geometryHeads, the length of its
// id as a uvarint, the id and the rest. A body of any other shape (a
// GeometryCollection, a null geometry) is kept whole after a 0.
const featureHead = `{"type":"Feature","id":`

// geometryHeads are what comes between a body's id and its coordinates,
// for each geometry type with coordinates; the first is never used.
var geometryHeads = func() [7]string {
	var heads [7]string
	for k, t := range []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"} {
		heads[k+1] = `,"geometry":{"type":"` + t + `","coordinates":`
	}
	return heads
}()

// pack appends body, as AppendFeature writes one, packed to dst.
func pack(dst, body []byte) []byte {
	if id := idEnd(body); id > 0 {
		for k := 1; k < len(geometryHeads); k++ {
			if rest := body[id:]; bytes.HasPrefix(rest, []byte(geometryHeads[k])) {
				dst = append(dst, byte(k))
				dst = binary.AppendUvarint(dst, uint64(id-len(featureHead)))
				dst = append(dst, body[len(featureHead):id]...)
				return append(dst, rest[len(geometryHeads[k]):]...)
			}
		}
	}
	return append(append(dst, 0), body...)
}

// unpack appends the body packed is to dst.
func unpack(dst, packed []byte) []byte {
	k := packed[0]
	if k == 0 {
		return append(dst, packed[1:]...)
	}
	n, w := binary.Uvarint(packed[1:])
	id := packed[1+w:]
	dst = append(dst, featureHead...)
	dst = append(dst, id[:n]...)
	dst = append(dst, geometryHeads[k]...)
	return append(dst, id[n:]...)
}

// idEnd is where the id of body, a JSON string after featureHead, ends
// (past its closing quote); 0 when body does not start so.
func idEnd(body []byte) int {
	t := jsonscan.Text{B: body, I: len(featureHead), Checked: true}
	if !bytes.HasPrefix(body, []byte(featureHead)) || t.Peek() != '"' || t.Value() != nil {
		return 0
	}
	return t.I
}
