// Package snapshot writes loaded layers, with the agreements and the data
// version served beside them, to one binary file that loads faster than
// the GeoJSON it came from: no text to parse, a few large allocations
// instead of several per feature, decoded on every core.
//
// The layout (version 1, all integers little-endian):
//
//	header   8 bytes "PMSNAP\r\n", then the format version as a uint32
//	section  4-byte tag, payload length (uint64), CRC-32C (Castagnoli) of the
//	         payload (uint32), then the payload
//
// The sections come in this order: DATA; for each layer LAYR, TEXT, PROP,
// FEAT and INDX; then END (empty), whose absence marks a truncated file.
// Strings and byte strings are a uvarint length and their bytes.
//
//	DATA  data version (string), where the agreements came from (string),
//	      the agreements JSON (bytes), number of layers (uvarint)
//	LAYR  name, source (strings), features (uvarint), the distinct kinds:
//	      a count, then each kind (string)
//	TEXT  each feature's id then its name, with no separators
//	PROP  each feature's properties JSON, with no separators
//	FEAT  per feature in source order: id length, name length, kind (index
//	      into LAYR's kinds), properties length + 1 (0: no properties), all
//	      uvarints; the geometry; its envelope as four float64s (min lon,
//	      min lat, max lon, max lat)
//	INDX  the chunk size c (uvarint), then for each run of c features the
//	      offsets in FEAT, TEXT and PROP of its first feature (uvarints), so
//	      the runs decode in parallel
//
// A geometry is a type byte and its coordinates, each position two
// float64s (longitude, latitude): 1 Point (a position); 2 MultiPoint and
// 3 LineString (a count, then positions); 4 MultiLineString and 5 Polygon
// (a count of lines or rings, each a count and positions); 6 MultiPolygon (a
// count of polygons, each as 5 without its type byte); 7 GeometryCollection
// (a count, then each member with its type byte).
//
// The layer is rebuilt by geo.NewOwnedLayer from exactly the features,
// envelopes and order it was built from, so it answers every query as the
// loaded GeoJSON did.
package snapshot

import (
	"errors"
	"hash/crc32"

	"github.com/protectmap/protectmap/geo"
)

// Version is the format version this package writes and reads.
const Version = 1

// magic opens every snapshot; the CR LF catches a file mangled as text.
const magic = "PMSNAP\r\n"

// Section tags, in file order.
const (
	tagData   = "DATA"
	tagLayer  = "LAYR"
	tagText   = "TEXT"
	tagProps  = "PROP"
	tagFeats  = "FEAT"
	tagChunks = "INDX"
	tagEnd    = "END\x00"
)

// Geometry type bytes.
const (
	typePoint = 1 + iota
	typeMultiPoint
	typeLineString
	typeMultiLineString
	typePolygon
	typeMultiPolygon
	typeCollection
)

// chunkFeatures is how many features a run that one worker decodes holds.
const chunkFeatures = 1 << 16

// maxNesting bounds GeometryCollections inside GeometryCollections, as
// the GeoJSON decoder does.
const maxNesting = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors a reader reports, wrapped with where the problem lies.
var (
	ErrNotSnapshot = errors.New("snapshot: not a protectmap snapshot (wrong magic bytes)")
	ErrVersion     = errors.New("snapshot: unsupported format version")
	ErrTruncated   = errors.New("snapshot: truncated")
	ErrChecksum    = errors.New("snapshot: checksum mismatch, the file is damaged")
	ErrCorrupt     = errors.New("snapshot: malformed")
)

// Data is what a snapshot holds: the layers served, the agreements that
// apply to them as the JSON they were read from, and the data version
// naming both.
type Data struct {
	// Version names the data; a server loading the snapshot serves it under
	// this version, so verdicts and downloads keep their names.
	Version string
	// AgreementsFrom names the file the agreements were read from.
	AgreementsFrom string
	Agreements     []byte
	Layers         []*geo.Layer
}
