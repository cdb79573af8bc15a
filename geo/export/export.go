// Package export writes features in the formats analysts move data with:
// GeoJSON, newline-delimited GeoJSON, CSV with a WKT geometry column, and
// KML for Google Earth. Every writer streams, one feature at a time, so a
// download of a million features needs no more memory than one.
package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	geomkml "github.com/twpayne/go-geom/encoding/kml"
	geomwkb "github.com/twpayne/go-geom/encoding/wkb"
	"github.com/twpayne/go-kml/v3"
)

// Format is an output format.
type Format string

// The formats, named as the f= query parameter and the CLI name them.
const (
	GeoJSON Format = "geojson"
	NDJSON  Format = "ndjson"
	CSV     Format = "csv"
	KML     Format = "kml"
	// GeoPackage and HTML are written whole, by the report alone; they are
	// not among the streaming Formats.
	GeoPackage Format = "gpkg"
	HTML       Format = "html"
)

// Formats lists every format, GeoJSON first; the slice is the caller's.
func Formats() []Format { return []Format{GeoJSON, NDJSON, CSV, KML} }

// ErrFormat reports an unknown format name.
var ErrFormat = errors.New("export: unknown format")

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	f := Format(s)
	if !slices.Contains(Formats(), f) {
		return "", fmt.Errorf("%w %q (want one of geojson, ndjson, csv, kml)", ErrFormat, s)
	}
	return f, nil
}

// ContentType is the media type of a format.
func (f Format) ContentType() string {
	switch f {
	case NDJSON:
		// Newline-delimited, not RFC 8142's record-separated
		// application/geo+json-seq.
		return "application/x-ndjson"
	case CSV:
		return "text/csv; charset=utf-8"
	case KML:
		return "application/vnd.google-earth.kml+xml"
	case GeoPackage:
		return "application/geopackage+sqlite3"
	case HTML:
		return "text/html; charset=utf-8"
	}
	return "application/geo+json"
}

// Ext is the usual file extension of a format.
func (f Format) Ext() string {
	switch f {
	case NDJSON:
		return ".geojsonl"
	case CSV:
		return ".csv"
	case KML:
		return ".kml"
	case GeoPackage:
		return ".gpkg"
	case HTML:
		return ".html"
	}
	return ".geojson"
}

// Writer streams features in one format. Call Write for each feature, then
// Close (which does not close the underlying writer).
type Writer interface {
	Write(f *geo.Feature, extra ...geojson.Member) error
	Close() error
}

// Options tune a writer.
type Options struct {
	// Name titles the document (KML) or collection.
	Name string
	// Columns are the property columns of a CSV, in order; features lacking
	// one leave it empty. Use Columns to find them from the features.
	Columns []string
	// Bare writes KML Placemarks alone, without the document around them,
	// for a caller that writes its own (and hashes the Placemarks' bytes).
	Bare bool
}

// NewWriter returns a writer of format f to w.
func NewWriter(w io.Writer, f Format, opts Options) (Writer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch f {
	case GeoJSON:
		return &geojsonWriter{w: bw, first: true}, nil
	case NDJSON:
		return &ndjsonWriter{w: bw}, nil
	case CSV:
		// The header is written with the first row, once extra members are known.
		return &csvWriter{w: bw, csv: NewCSVWriter(bw), columns: opts.Columns}, nil
	case KML:
		kw := &kmlWriter{w: bw, enc: xml.NewEncoder(bw), bare: opts.Bare}
		if opts.Bare {
			return kw, nil
		}
		return kw, kw.header(opts.Name)
	}
	return nil, fmt.Errorf("%w %q", ErrFormat, f)
}

type geojsonWriter struct {
	w     *bufio.Writer
	buf   []byte
	first bool
}

func (g *geojsonWriter) Write(f *geo.Feature, extra ...geojson.Member) error {
	g.buf = g.buf[:0]
	if g.first {
		g.buf = append(g.buf, `{"type":"FeatureCollection","features":[`+"\n"...)
		g.first = false
	} else {
		g.buf = append(g.buf, ",\n"...)
	}
	g.buf = geojson.AppendFeature(g.buf, f, extra...)
	_, err := g.w.Write(g.buf)
	return err
}

func (g *geojsonWriter) Close() error {
	if g.first {
		g.w.WriteString(`{"type":"FeatureCollection","features":[`)
	}
	g.w.WriteString("\n]}\n")
	return g.w.Flush()
}

type ndjsonWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (n *ndjsonWriter) Write(f *geo.Feature, extra ...geojson.Member) error {
	n.buf = append(geojson.AppendFeature(n.buf[:0], f, extra...), '\n')
	_, err := n.w.Write(n.buf)
	return err
}

func (n *ndjsonWriter) Close() error { return n.w.Flush() }

// Columns returns the union of the property keys of features, in order of
// first appearance, for a CSV header.
func Columns(features func(yield func(*geo.Feature) bool)) []string {
	seen := map[string]bool{}
	var cols []string
	for f := range features {
		for _, k := range propertyKeys(f.Properties) {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	return cols
}

// propertyKeys lists an object's keys in document order.
func propertyKeys(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

// csvWriter writes id, wkt, lon, lat (points only), then property columns;
// object and array values are written as JSON.
type csvWriter struct {
	w       *bufio.Writer
	csv     *CSVWriter
	columns []string
	extra   []string
	row     []string
}

func (c *csvWriter) Write(f *geo.Feature, extra ...geojson.Member) error {
	if c.row == nil {
		for _, m := range extra {
			c.extra = append(c.extra, m.Key)
		}
		head := append([]string{"id", "wkt", "lon", "lat"}, c.columns...)
		if err := c.csv.Write(append(head, c.extra...)); err != nil {
			return err
		}
	}
	var props map[string]json.RawMessage
	if len(f.Properties) > 0 {
		if err := json.Unmarshal(f.Properties, &props); err != nil {
			return fmt.Errorf("feature %s: %w", f.ID, err)
		}
	}
	row := append(c.row[:0], f.ID, wkt.MarshalString(f.Geometry), "", "")
	if p, ok := f.Geometry.(orb.Point); ok {
		row[2] = strconv.FormatFloat(p[0], 'f', -1, 64)
		row[3] = strconv.FormatFloat(p[1], 'f', -1, 64)
	}
	for _, k := range c.columns {
		row = append(row, cell(props[k]))
	}
	for _, m := range extra {
		b, _ := json.Marshal(m.Value)
		row = append(row, cell(b))
	}
	c.row = row
	if err := c.csv.Write(row); err != nil {
		return fmt.Errorf("feature %s: %w", f.ID, err)
	}
	return nil
}

// cell renders a JSON value for a CSV cell: strings unquoted, null empty,
// numbers, booleans, objects and arrays as their JSON text.
func cell(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

func (c *csvWriter) Close() error {
	if c.row == nil {
		c.csv.Write(append(append([]string{"id", "wkt", "lon", "lat"}, c.columns...), c.extra...))
	}
	c.csv.Flush()
	if err := c.csv.Error(); err != nil {
		return err
	}
	return c.w.Flush()
}

// kmlWriter writes a Document of Placemarks, one encoded at a time.
type kmlWriter struct {
	w    *bufio.Writer
	enc  *xml.Encoder
	bare bool
}

func (k *kmlWriter) header(name string) error {
	k.w.WriteString(xml.Header + `<kml xmlns="http://www.opengis.net/kml/2.2"><Document>`)
	if name != "" {
		if err := k.enc.Encode(kml.Name(name)); err != nil {
			return err
		}
	}
	return nil
}

func (k *kmlWriter) Write(f *geo.Feature, extra ...geojson.Member) error {
	g, err := toKML(f.Geometry)
	if err != nil {
		return fmt.Errorf("feature %s: %w", f.ID, err)
	}
	var data []kml.Element
	var props map[string]json.RawMessage
	if len(f.Properties) > 0 {
		if err := json.Unmarshal(f.Properties, &props); err != nil {
			return fmt.Errorf("feature %s: %w", f.ID, err)
		}
	}
	if err := checkXML(f.ID); err != nil {
		return fmt.Errorf("feature %s: id: %w", f.ID, err)
	}
	data = append(data, kml.Data("id", kml.Value(f.ID)))
	add := func(key, value string) error {
		if err := errors.Join(checkXML(key), checkXML(value)); err != nil {
			return fmt.Errorf("feature %s: property %q: %w", f.ID, key, err)
		}
		data = append(data, kml.Data(key, kml.Value(value)))
		return nil
	}
	for _, key := range propertyKeys(f.Properties) {
		if err := add(key, cell(props[key])); err != nil {
			return err
		}
	}
	for _, m := range extra {
		b, _ := json.Marshal(m.Value)
		if err := add(m.Key, cell(b)); err != nil {
			return err
		}
	}
	name := f.Name
	if name == "" {
		name = f.ID
	}
	if err := checkXML(name); err != nil {
		return fmt.Errorf("feature %s: name: %w", f.ID, err)
	}
	return k.enc.Encode(kml.Placemark(kml.Name(name), kml.ExtendedData(data...), g))
}

func (k *kmlWriter) Close() error {
	if err := k.enc.Flush(); err != nil {
		return err
	}
	if !k.bare {
		k.w.WriteString("</Document></kml>\n")
	}
	return k.w.Flush()
}

// toKML converts through WKB, which orb and go-geom both speak exactly.
func toKML(g orb.Geometry) (kml.Element, error) {
	body, err := wkb.Marshal(g)
	if err != nil {
		return nil, err
	}
	gg, err := geomwkb.Unmarshal(body)
	if err != nil {
		return nil, err
	}
	return geomkml.Encode(gg)
}
