package geo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// IDProperty is the property that gives a feature its id when the feature
// has no top-level "id" member.
const IDProperty = "site_id"

// maxGeometryNesting bounds GeometryCollections inside GeometryCollections,
// so hostile input cannot exhaust the stack.
const maxGeometryNesting = 8

// maxReportedErrors caps the problems listed per file; the last entry says
// how many more there were, so nothing is silently dropped.
const maxReportedErrors = 100

// DecodeLayer reads a GeoJSON FeatureCollection and indexes it as a layer.
//
// Every feature is validated. Its id is the feature's "id" member (string or
// number), else its IDProperty property, else "h-" and 16 hex digits of a
// SHA-256 over its geometry and properties, so ids never depend on the
// feature's position in the file. Any problem, whether with the file or a
// feature, fails the whole layer; the error lists each problem as a
// *ParseError naming file, feature index and reason.
func DecodeLayer(name, file string, r io.Reader) (*Layer, error) {
	features, err := decodeFeatures(file, r)
	if err != nil {
		return nil, err
	}
	return NewLayer(name, file, features)
}

type rawFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// batch is a run of consecutive features decoded by one worker.
type batch struct {
	first int
	raws  []json.RawMessage
	out   []Feature
	errs  []error
}

const batchSize = 512

func decodeFeatures(file string, r io.Reader) ([]Feature, error) {
	fileErr := func(err error) error { return &ParseError{File: file, Feature: -1, Err: err} }
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	if tok, err := dec.Token(); err != nil {
		return nil, fileErr(syntaxError(err))
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fileErr(errors.New("not a FeatureCollection: the document is not a JSON object"))
	}

	// Features are split off the stream here and decoded on every core.
	jobs := make(chan *batch)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				b.decode()
			}
		}()
	}
	var batches []*batch
	var typ string
	sawFeatures := false
	readErr := func() error {
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return syntaxError(err)
			}
			key, _ := tok.(string)
			switch key {
			case "type":
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return syntaxError(err)
				}
				if json.Unmarshal(raw, &typ) != nil {
					return errors.New(`not a FeatureCollection: "type" is not a string`)
				}
			case "features":
				sawFeatures = true
				if tok, err := dec.Token(); err != nil {
					return syntaxError(err)
				} else if d, ok := tok.(json.Delim); !ok || d != '[' {
					return errors.New(`not a FeatureCollection: "features" is not an array`)
				}
				n := 0
				cur := &batch{first: 0}
				for dec.More() {
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						return fmt.Errorf("feature %d: %w", n, syntaxError(err))
					}
					cur.raws = append(cur.raws, raw)
					n++
					if len(cur.raws) == batchSize {
						batches = append(batches, cur)
						jobs <- cur
						cur = &batch{first: n}
					}
				}
				batches = append(batches, cur)
				jobs <- cur
				if _, err := dec.Token(); err != nil {
					return syntaxError(err)
				}
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return syntaxError(err)
				}
			}
		}
		if _, err := dec.Token(); err != nil {
			return syntaxError(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return errors.New("unexpected data after the FeatureCollection")
		}
		return nil
	}()
	close(jobs)
	wg.Wait()
	if readErr != nil {
		return nil, fileErr(readErr)
	}
	if typ != "FeatureCollection" {
		return nil, fileErr(fmt.Errorf("not a FeatureCollection: type is %q", typ))
	}
	if !sawFeatures {
		return nil, fileErr(errors.New(`not a FeatureCollection: no "features" member`))
	}

	var errs []error
	total := 0
	for _, b := range batches {
		total += len(b.out)
		for _, err := range b.errs {
			pe := err.(*ParseError)
			pe.File = file
			errs = append(errs, pe)
		}
	}
	if len(errs) > 0 {
		if len(errs) > maxReportedErrors {
			more := len(errs) - maxReportedErrors
			errs = append(errs[:maxReportedErrors], fileErr(fmt.Errorf("%d more invalid features not listed", more)))
		}
		return nil, errors.Join(errs...)
	}
	features := make([]Feature, 0, total)
	kinds := map[string]string{}
	for _, b := range batches {
		for _, f := range b.out {
			// Kinds repeat across a layer: share one string per distinct kind.
			if k, ok := kinds[f.Kind]; ok {
				f.Kind = k
			} else {
				kinds[f.Kind] = f.Kind
			}
			features = append(features, f)
		}
	}
	return features, nil
}

func (b *batch) decode() {
	b.out = make([]Feature, 0, len(b.raws))
	for i, raw := range b.raws {
		f, err := decodeFeature(raw)
		if err != nil {
			b.errs = append(b.errs, &ParseError{Feature: b.first + i, ID: f.ID, Err: err})
			continue
		}
		b.out = append(b.out, f)
	}
	b.raws = nil
}

func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// decodeFeature parses one GeoJSON Feature object; on error the returned
// Feature carries the id when it could be read.
func decodeFeature(raw []byte) (Feature, error) {
	var rf rawFeature
	if err := json.Unmarshal(raw, &rf); err != nil {
		return Feature{}, fmt.Errorf("not a GeoJSON Feature: %v", err)
	}
	var f Feature
	id, err := scalarID(rf.ID)
	if err != nil {
		return f, fmt.Errorf("id: %w", err)
	}
	f.ID = id
	if rf.Type != "Feature" {
		return f, fmt.Errorf("type is %q, want \"Feature\"", rf.Type)
	}
	if props := bytes.TrimSpace(rf.Properties); len(props) > 0 && !bytes.Equal(props, []byte("null")) {
		if props[0] != '{' {
			return f, errors.New("properties must be a JSON object or null")
		}
		var buf bytes.Buffer
		buf.Grow(len(props))
		if err := json.Compact(&buf, props); err != nil {
			return f, fmt.Errorf("properties: %v", err)
		}
		f.Properties = buf.Bytes()
		var conv struct {
			Name   json.RawMessage `json:"name"`
			Kind   json.RawMessage `json:"kind"`
			SiteID json.RawMessage `json:"site_id"`
		}
		if err := json.Unmarshal(f.Properties, &conv); err != nil {
			return f, fmt.Errorf("properties: %v", err)
		}
		f.Name, f.Kind = stringValue(conv.Name), stringValue(conv.Kind)
		if f.ID == "" {
			if f.ID, err = scalarID(conv.SiteID); err != nil {
				return f, fmt.Errorf("property %s: %w", IDProperty, err)
			}
		}
	}
	geom := bytes.TrimSpace(rf.Geometry)
	if len(geom) == 0 || bytes.Equal(geom, []byte("null")) {
		return f, errors.New("feature has no geometry; a protected site needs a location")
	}
	if f.Geometry, err = decodeGeometry(geom, 0); err != nil {
		return f, err
	}
	if f.ID == "" {
		f.ID = contentID(f.Geometry, f.Properties)
	}
	return f, nil
}

// scalarID reads an id that is a JSON string or number; absent or null gives "".
func scalarID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if s == "" {
			return "", errors.New("empty string")
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return "", fmt.Errorf("invalid number %s", raw)
		}
		return string(raw), nil
	}
	return "", errors.New("must be a string or a number")
}

func stringValue(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// contentID hashes what a feature is, not where it sits in its file.
func contentID(g orb.Geometry, props []byte) string {
	h := sha256.New()
	body, _ := wkb.Marshal(g)
	h.Write(body)
	h.Write([]byte{0})
	h.Write(props)
	return "h-" + hex.EncodeToString(h.Sum(nil)[:8])
}

type rawGeometry struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometries  []json.RawMessage `json:"geometries"`
}

var coordDepths = map[string]int{
	"Point": 1, "MultiPoint": 2, "LineString": 2,
	"MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4,
}

// decodeGeometry parses and validates a GeoJSON geometry object.
func decodeGeometry(raw []byte, nesting int) (orb.Geometry, error) {
	var rg rawGeometry
	if err := json.Unmarshal(raw, &rg); err != nil {
		return nil, fmt.Errorf("geometry is not a GeoJSON geometry object: %v", err)
	}
	if rg.Type == "GeometryCollection" {
		if nesting >= maxGeometryNesting {
			return nil, fmt.Errorf("GeometryCollections nested deeper than %d", maxGeometryNesting)
		}
		if len(rg.Geometries) == 0 {
			return nil, errors.New("empty GeometryCollection")
		}
		gc := make(orb.Collection, 0, len(rg.Geometries))
		for i, m := range rg.Geometries {
			g, err := decodeGeometry(m, nesting+1)
			if err != nil {
				return nil, fmt.Errorf("GeometryCollection member %d: %w", i, err)
			}
			gc = append(gc, g)
		}
		return gc, nil
	}
	want, ok := coordDepths[rg.Type]
	if !ok {
		return nil, fmt.Errorf("unknown geometry type %q", rg.Type)
	}
	coords := bytes.TrimSpace(rg.Coordinates)
	if len(coords) == 0 || bytes.Equal(coords, []byte("null")) {
		return nil, fmt.Errorf("%s has no coordinates", rg.Type)
	}
	if got := coordDepth(coords); got != want && !(got < want && emptyArrayAt(coords, got)) {
		return nil, fmt.Errorf("%w: %s coordinates are arrays nested %d deep, found %d", errNesting, rg.Type, want, got)
	}
	g, err := parseCoordinates(rg.Type, coords)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rg.Type, err)
	}
	return g, validGeometry(g)
}

// emptyArrayAt tells an empty array (which has fewer brackets than its type's
// depth) from wrong nesting, so "[]" is reported as too few points.
func emptyArrayAt(coords []byte, depth int) bool {
	p := coordParser{b: coords}
	for range depth {
		p.peek()
		p.i++
	}
	return p.peek() == ']'
}

func parseCoordinates(typ string, coords []byte) (orb.Geometry, error) {
	p := coordParser{b: coords}
	var g orb.Geometry
	var err error
	switch typ {
	case "Point":
		g, err = p.position()
	case "MultiPoint":
		var pts []orb.Point
		pts, err = p.positions()
		g = orb.MultiPoint(pts)
	case "LineString":
		var pts []orb.Point
		pts, err = p.positions()
		g = orb.LineString(pts)
	case "MultiLineString":
		var lines [][]orb.Point
		lines, err = p.positions2()
		mls := make(orb.MultiLineString, len(lines))
		for i, l := range lines {
			mls[i] = l
		}
		g = mls
	case "Polygon":
		var rings [][]orb.Point
		rings, err = p.positions2()
		g = toPolygon(rings)
	case "MultiPolygon":
		var polys [][][]orb.Point
		polys, err = p.positions3()
		mp := make(orb.MultiPolygon, len(polys))
		for i, rings := range polys {
			mp[i] = toPolygon(rings)
		}
		g = mp
	}
	if err == nil {
		err = p.end()
	}
	return g, err
}

func toPolygon(rings [][]orb.Point) orb.Polygon {
	poly := make(orb.Polygon, len(rings))
	for i, r := range rings {
		poly[i] = r
	}
	return poly
}

// validGeometry checks what the coordinate parser cannot see alone: point
// counts, closed rings, hole placement and antimeridian-crossing edges.
func validGeometry(g orb.Geometry) error {
	switch g := g.(type) {
	case orb.Point:
		return nil
	case orb.MultiPoint:
		if len(g) == 0 {
			return errors.New("empty MultiPoint")
		}
	case orb.LineString:
		return validLine(g)
	case orb.MultiLineString:
		if len(g) == 0 {
			return errors.New("empty MultiLineString")
		}
		for i, l := range g {
			if err := validLine(l); err != nil {
				return fmt.Errorf("line %d: %w", i, err)
			}
		}
	case orb.Polygon:
		return validPolygon(g)
	case orb.MultiPolygon:
		if len(g) == 0 {
			return errors.New("empty MultiPolygon")
		}
		for i, p := range g {
			if err := validPolygon(p); err != nil {
				return fmt.Errorf("polygon %d: %w", i, err)
			}
		}
	}
	return nil
}

func validLine(l orb.LineString) error {
	if len(l) < 2 {
		return fmt.Errorf("too few points: a LineString needs at least 2 positions, has %d", len(l))
	}
	return crossesAntimeridian(l)
}

func validPolygon(p orb.Polygon) error {
	if len(p) == 0 {
		return errors.New("too few points: a Polygon needs an exterior ring")
	}
	for i, r := range p {
		which := "exterior ring"
		if i > 0 {
			which = "hole " + strconv.Itoa(i)
		}
		if len(r) < 4 {
			return fmt.Errorf("too few points: %s has %d positions, a ring needs at least 4", which, len(r))
		}
		if r[0] != r[len(r)-1] {
			return fmt.Errorf("unclosed ring: %s ends at %v, not at its first position %v", which, r[len(r)-1], r[0])
		}
		if err := crossesAntimeridian(r); err != nil {
			return fmt.Errorf("%s: %w", which, err)
		}
		if i > 0 && !p[0].Bound().Contains(r.Bound().Min) || i > 0 && !p[0].Bound().Contains(r.Bound().Max) {
			return fmt.Errorf("wrong nesting: %s lies outside the exterior ring", which)
		}
	}
	return nil
}

// crossesAntimeridian rejects edges that jump more than 180° of longitude:
// RFC 7946 §3.1.9 asks for such geometries to be cut at ±180.
func crossesAntimeridian(pts []orb.Point) error {
	for i := 1; i < len(pts); i++ {
		if math.Abs(pts[i][0]-pts[i-1][0]) > 180 {
			return fmt.Errorf("edge %d crosses the antimeridian; cut the geometry at ±180° (RFC 7946 §3.1.9)", i-1)
		}
	}
	return nil
}
