package geojson

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/internal/jsonscan"
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
// feature's position in the file. In the ZonesLayer, a line with a width_m
// property is a corridor and becomes the area it covers (a Polygon, or a
// MultiPolygon for a MultiLineString). Any problem, whether with the file or a
// feature, fails the whole layer; the error lists each problem as a
// *ParseError naming file, feature index and reason.
func DecodeLayer(name, file string, r io.Reader) (*geo.Layer, error) {
	features, bounds, points, err := decodeFeatures(file, r)
	if err != nil {
		return nil, err
	}
	if name == ZonesLayer {
		grown, err := widenCorridors(file, features, bounds)
		if err != nil {
			return nil, err
		}
		points += grown
	}
	return geo.NewOwnedLayer(name, file, features, bounds, points)
}

// batch is a run of consecutive features, split off the input by the
// splitter and decoded by one worker.
type batch struct {
	first int    // index of the run's first feature in the collection
	base  int64  // offset in the file of data[0]
	data  []byte // the run's text
	spans []span // each feature's text in data

	out    []geo.Feature
	bounds []orb.Bound // bounds[k] is the envelope of out[k]
	points int         // positions in out that a relocation copies
	errs   []error
	syntax *fileSyntaxError // the run's first syntax error; decoding stops there
}

type span struct{ start, end int32 }

func decodeFeatures(file string, r io.Reader) ([]geo.Feature, []orb.Bound, int, error) {
	fileErr := func(err error) error { return &geo.ParseError{File: file, Feature: -1, Err: err} }
	// The splitter feeds runs of features to a worker per core.
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *batch, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d decoder
			for b := range jobs {
				d.run(b)
			}
		}()
	}
	var runs []*batch
	s := splitter{r: bufio.NewReaderSize(r, splitRun)}
	typ, sawFeatures, err := s.collection(func(b *batch) {
		runs = append(runs, b)
		jobs <- b
	})
	close(jobs)
	wg.Wait()
	// The first syntax error in the file is the one to report, whether the
	// splitter or a worker met it.
	for _, b := range runs {
		if b.syntax != nil {
			if se, ok := err.(*fileSyntaxError); !ok || b.syntax.Offset < se.Offset {
				err = b.syntax
			}
			break
		}
	}
	if err != nil {
		return nil, nil, 0, fileErr(err)
	}
	if typ != "FeatureCollection" {
		return nil, nil, 0, fileErr(fmt.Errorf("not a FeatureCollection: type is %q", typ))
	}
	if !sawFeatures {
		return nil, nil, 0, fileErr(errors.New(`not a FeatureCollection: no "features" member`))
	}

	var errs []error
	total, points := 0, 0
	for _, b := range runs {
		total += len(b.out)
		points += b.points
		for _, err := range b.errs {
			pe := err.(*geo.ParseError)
			pe.File = file
			errs = append(errs, pe)
		}
	}
	if len(errs) > 0 {
		if len(errs) > maxReportedErrors {
			more := len(errs) - maxReportedErrors
			errs = append(errs[:maxReportedErrors], fileErr(fmt.Errorf("%d more invalid features not listed", more)))
		}
		return nil, nil, 0, errors.Join(errs...)
	}
	features := make([]geo.Feature, 0, total)
	bounds := make([]orb.Bound, 0, total)
	kinds := map[string]string{}
	for _, b := range runs {
		for _, f := range b.out {
			// Kinds repeat across a layer: share one string per distinct kind.
			if k, ok := kinds[f.Kind]; ok {
				f.Kind = k
			} else {
				kinds[f.Kind] = f.Kind
			}
			features = append(features, f)
		}
		bounds = append(bounds, b.bounds...)
	}
	return features, bounds, points, nil
}

// decoder turns raw features into Features. Each worker has its own, so
// its scratch space is reused from feature to feature; a run's ids, names
// and properties are gathered there and then moved, all at once, to two
// blocks of exactly the size they need.
type decoder struct {
	coords coordParser
	strs   []byte        // the run's ids, names and kinds
	props  []byte        // the run's properties, compacted
	texts  []featureText // where each decoded feature's text lies
	name   []byte        // a geometry's type name, unescaped
	keys   [][]byte      // a feature's property names, to find one given twice
}

// featureText locates a feature's strings in decoder.strs and its
// properties in decoder.props (start -1 when it has none).
type featureText struct{ id, name, kind, props span }

// run decodes a run of features.
func (d *decoder) run(b *batch) {
	d.strs, d.props, d.texts = d.strs[:0], d.props[:0], d.texts[:0]
	for k, sp := range b.spans {
		f, err := d.feature(b.data[sp.start:sp.end])
		if err != nil {
			if se, ok := err.(*jsonscan.SyntaxError); ok {
				b.syntax = &fileSyntaxError{Offset: b.base + int64(sp.start) + int64(se.At), Msg: se.Msg}
				break
			}
			b.errs = append(b.errs, &geo.ParseError{Feature: b.first + k, ID: f.ID, Err: err})
			continue
		}
		b.out = append(b.out, f)
		b.bounds = append(b.bounds, geodesy.Envelope(f.Geometry))
		b.points += geo.RelocatedPoints(f.Geometry)
	}
	strs := string(d.strs)
	props := make([]byte, len(d.props))
	copy(props, d.props)
	for k := range b.out {
		f, t := &b.out[k], &d.texts[k]
		f.ID, f.Name, f.Kind = strs[t.id.start:t.id.end], strs[t.name.start:t.name.end], strs[t.kind.start:t.kind.end]
		if t.props.start >= 0 {
			f.Properties = props[t.props.start:t.props.end:t.props.end]
		}
	}
	b.data, b.spans = nil, nil
}

// feature decodes one GeoJSON Feature. Its strings are left in the
// decoder's scratch space, recorded in d.texts, except on error, when the
// Feature carries the id if it could be read.
func (d *decoder) feature(raw []byte) (geo.Feature, error) {
	var f geo.Feature
	t := jsonscan.Text{B: raw}
	if t.Peek() != '{' {
		if err := t.Whole(); err != nil {
			return f, err
		}
		return f, errors.New("not a GeoJSON Feature: a feature must be a JSON object")
	}
	var v [4][]byte
	if err := t.Fields(featureMembers, v[:]); err != nil {
		return f, err
	}
	typ, id, geom, props := v[0], v[1], v[2], v[3]
	if !jsonscan.IsNull(typ) && typ[0] != '"' {
		return f, errors.New(`not a GeoJSON Feature: "type" is not a string`)
	}
	strs, nprops := len(d.strs), len(d.props)
	var text featureText
	fail := func(err error) (geo.Feature, error) {
		f.ID = string(d.strs[text.id.start:text.id.end])
		d.strs, d.props = d.strs[:strs], d.props[:nprops]
		return f, err
	}
	var err error
	if err := jsonscan.CheckText(id); err != nil {
		return fail(fmt.Errorf("id: %w", err))
	}
	if d.strs, err = appendID(d.strs, id); err != nil {
		return fail(fmt.Errorf("id: %w", err))
	}
	text.id = span{int32(strs), int32(len(d.strs))}
	if jsonscan.IsNull(typ) || string(typ) != `"Feature"` && string(jsonscan.AppendUnquoted(d.name[:0], typ)) != "Feature" {
		var name string
		if !jsonscan.IsNull(typ) {
			name = string(jsonscan.AppendUnquoted(nil, typ))
		}
		return fail(fmt.Errorf("type is %q, want \"Feature\"", name))
	}
	text.props = span{-1, -1}
	text.name, text.kind = span{int32(len(d.strs)), int32(len(d.strs))}, span{int32(len(d.strs)), int32(len(d.strs))}
	if !jsonscan.IsNull(props) {
		if props[0] != '{' {
			return fail(errors.New("properties must be a JSON object or null"))
		}
		if err := jsonscan.CheckText(props); err != nil {
			return fail(fmt.Errorf("properties: %w", err))
		}
		d.props = jsonscan.AppendCompact(d.props, props)
		text.props = span{int32(nprops), int32(len(d.props))}
		var pv [3][]byte
		if err := d.properties(d.props[nprops:], pv[:]); err != nil {
			return fail(err)
		}
		name, kind, siteID := pv[0], pv[1], pv[2]
		text.name = d.appendString(name)
		text.kind = d.appendString(kind)
		if text.id.start == text.id.end {
			n := len(d.strs)
			if d.strs, err = appendID(d.strs, siteID); err != nil {
				return fail(fmt.Errorf("property %s: %w", IDProperty, err))
			}
			text.id = span{int32(n), int32(len(d.strs))}
		}
	}
	if jsonscan.IsNull(geom) {
		return fail(errors.New("feature has no geometry; a protected site needs a location"))
	}
	if f.Geometry, err = d.geometry(geom, 0, true); err != nil {
		return fail(err)
	}
	if text.id.start == text.id.end {
		n := len(d.strs)
		var body []byte
		if text.props.start >= 0 {
			body = d.props[text.props.start:text.props.end]
		}
		d.strs = append(d.strs, contentID(f.Geometry, body)...)
		text.id = span{int32(n), int32(len(d.strs))}
	}
	d.texts = append(d.texts, text)
	return f, nil
}

// The members read from features, their properties and geometries.
var (
	featureMembers  = []string{"type", "id", "geometry", "properties"}
	propertyMembers = []string{"name", "kind", IDProperty}
	geometryMembers = []string{"type", "coordinates", "geometries"}
)

// properties reads the members propertyMembers names out of a compacted
// properties object into values. A name given twice is refused: a filter,
// an export and the site's name must all read one value.
func (d *decoder) properties(obj []byte, values [][]byte) error {
	d.keys = d.keys[:0]
	var dup []byte
	jsonscan.EachMember(obj, func(key, value []byte) bool {
		for _, k := range d.keys {
			if len(k) == len(key) && string(k) == string(key) {
				dup = key
				return false
			}
		}
		d.keys = append(d.keys, key)
		for i, name := range propertyMembers {
			if string(key) == name {
				values[i] = value
			}
		}
		return true
	})
	if dup != nil {
		return fmt.Errorf("property %q appears twice; a property name must be unique within a feature", dup)
	}
	return nil
}

// appendString appends the value of a JSON string to d.strs; other
// values give an empty string.
func (d *decoder) appendString(raw []byte) span {
	n := len(d.strs)
	if len(raw) > 0 && raw[0] == '"' {
		d.strs = jsonscan.AppendUnquoted(d.strs, raw)
	}
	return span{int32(n), int32(len(d.strs))}
}

// appendID appends the text of an id that is a JSON string or number;
// absent or null appends nothing.
func appendID(dst, raw []byte) ([]byte, error) {
	if jsonscan.IsNull(raw) {
		return dst, nil
	}
	switch raw[0] {
	case '"':
		n := len(dst)
		if dst = jsonscan.AppendUnquoted(dst, raw); len(dst) == n {
			return dst, errors.New("empty string")
		}
		return dst, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return dst, fmt.Errorf("invalid number %s", raw)
		}
		return append(dst, raw...), nil
	}
	return dst, errors.New("must be a string or a number")
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

// geometryTypes are the GeoJSON geometry types with coordinates, and how
// deep their coordinate arrays nest.
var geometryTypes = [...]struct {
	name  string
	depth int
}{
	{"Point", 1}, {"MultiPoint", 2}, {"LineString", 2},
	{"MultiLineString", 3}, {"Polygon", 3}, {"MultiPolygon", 4},
}

// geometry parses and validates a GeoJSON geometry object; checked says
// its JSON syntax was checked already.
func (d *decoder) geometry(raw []byte, nesting int, checked bool) (orb.Geometry, error) {
	t := jsonscan.Text{B: raw, Checked: checked}
	notGeometry := func(why string) error {
		return fmt.Errorf("geometry is not a GeoJSON geometry object: %s", why)
	}
	if t.Peek() != '{' {
		return nil, notGeometry("not a JSON object")
	}
	var v [3][]byte
	if err := t.Fields(geometryMembers, v[:]); err != nil {
		return nil, notGeometry(err.Error())
	}
	typ, coords, members := v[0], v[1], v[2]
	d.name = d.name[:0]
	if !jsonscan.IsNull(typ) {
		if typ[0] != '"' {
			return nil, notGeometry(`"type" is not a string`)
		}
		d.name = jsonscan.AppendUnquoted(d.name, typ)
	}
	if string(d.name) == "GeometryCollection" {
		if !jsonscan.IsNull(members) && members[0] != '[' {
			return nil, notGeometry(`"geometries" is not an array`)
		}
		if nesting >= maxGeometryNesting {
			return nil, fmt.Errorf("GeometryCollections nested deeper than %d", maxGeometryNesting)
		}
		var gc orb.Collection
		var err error
		if !jsonscan.IsNull(members) {
			mt := jsonscan.Text{B: members, Checked: true}
			mt.Array(func(m []byte) {
				if err != nil {
					return
				}
				var g orb.Geometry
				if g, err = d.geometry(m, nesting+1, true); err != nil {
					err = fmt.Errorf("GeometryCollection member %d: %w", len(gc), err)
					return
				}
				gc = append(gc, g)
			})
		}
		if err != nil {
			return nil, err
		}
		if len(gc) == 0 {
			return nil, errors.New("empty GeometryCollection")
		}
		return gc, nil
	}
	typName, want := "", 0
	for _, gt := range geometryTypes {
		if string(d.name) == gt.name {
			typName, want = gt.name, gt.depth
		}
	}
	if want == 0 {
		return nil, fmt.Errorf("unknown geometry type %q", d.name)
	}
	if jsonscan.IsNull(coords) {
		return nil, fmt.Errorf("%s has no coordinates", typName)
	}
	if got := coordDepth(coords); got != want && !(got < want && emptyArrayAt(coords, got)) {
		return nil, fmt.Errorf("%w: %s coordinates are arrays nested %d deep, found %d", errNesting, typName, want, got)
	}
	g, err := d.coords.parse(typName, coords)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typName, err)
	}
	return g, geo.ValidGeometry(g)
}

// emptyArrayAt tells an empty array (which has fewer brackets than its type's
// depth) from wrong nesting, so "[]" is reported as too few points.
func emptyArrayAt(coords []byte, depth int) bool {
	p := jsonscan.Text{B: coords}
	for range depth {
		p.Peek()
		p.I++
	}
	return p.Peek() == ']'
}

// parse reads the coordinates of a geometry of type typ.
func (p *coordParser) parse(typ string, coords []byte) (orb.Geometry, error) {
	p.B, p.I = coords, 0
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
