package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// GeoJSONDecoder reads strikes from a GeoJSON Feature or FeatureCollection
// (RFC 7946), feature by feature. Each feature has a Point geometry and these
// properties:
//
//	datetime       required, RFC 3339 with an offset ("2025-03-20T04:10:00+02:00")
//	end            the end of an event reported over a window starting at datetime
//	uncertainty_m  metres, default 0
//	source, weapon, notes   text
//	event_id       the source's id for the event, text or number
//
// Every other property is kept in Extra, in order, but those the server
// computes (IsComputedProperty), which are dropped, as is the feature's
// "id", so a strike exported by the server can be imported again.
// Properties nest at most MaxPropertyDepth deep.
type GeoJSONDecoder struct {
	in      *jsonStream
	state   int
	more    bool // in the object or the features, past a member or a feature
	typ     string
	members map[string]json.RawMessage // of a lone Feature
	line    int                        // where the document starts
	n       int                        // features read
	seen    seenKeys
}

// GeoJSONDecoder states.
const (
	atStart = iota
	inMembers
	inFeatures
	atEnd
)

// NewGeoJSONDecoder reads GeoJSON from r.
func NewGeoJSONDecoder(r io.Reader) *GeoJSONDecoder {
	return &GeoJSONDecoder{in: &jsonStream{r: r, line: 1}, members: map[string]json.RawMessage{}}
}

// Next implements Decoder.
func (d *GeoJSONDecoder) Next() (Strike, error) {
	for {
		switch d.state {
		case atStart:
			if err := d.delim('{', "a GeoJSON Feature or FeatureCollection object"); err != nil {
				return Strike{}, err
			}
			d.line = d.in.lineAt(d.in.offset() - 1)
			d.state = inMembers
		case inMembers:
			more, err := d.next('}')
			if err != nil {
				return Strike{}, err
			}
			if !more {
				return d.finish()
			}
			raw, err := d.value()
			if err != nil {
				return Strike{}, err
			}
			if raw[0] != '"' {
				return Strike{}, d.invalid(d.in.offset()-int64(len(raw)), "invalid character "+jsonscan.QuoteByte(raw[0])+" looking for beginning of object key string")
			}
			key, _ := jsonscan.String(raw)
			if c, err := d.peek(); err != nil {
				return Strike{}, err
			} else if c != ':' {
				return Strike{}, d.invalid(d.in.offset(), "invalid character "+jsonscan.QuoteByte(c)+" after object key")
			}
			d.in.pos++
			if key == "features" {
				if err := d.delim('[', `an array of features in "features"`); err != nil {
					return Strike{}, err
				}
				d.state, d.more = inFeatures, false
				continue
			}
			if raw, err = d.value(); err != nil {
				return Strike{}, err
			}
			if _, dup := d.members[key]; !dup {
				d.members[key] = bytes.Clone(raw) // raw lies in the stream's buffer
			}
			if key == "type" && json.Unmarshal(raw, &d.typ) != nil {
				return Strike{}, d.fatal(d.line, "type", errors.New("is not a string"))
			}
		case inFeatures:
			more, err := d.next(']')
			if err != nil {
				return Strike{}, err
			}
			if !more {
				d.members["features"] = nil // seen: the document is not a lone Feature
				d.state, d.more = inMembers, true
				continue
			}
			raw, err := d.value()
			if err != nil {
				return Strike{}, err
			}
			line := d.in.lineAt(d.in.offset() - int64(len(raw)))
			d.n++
			if raw[0] != '{' {
				return Strike{}, &RecordError{Line: line, Field: "features[" + strconv.Itoa(d.n-1) + "]",
					Err: errors.New("not a GeoJSON Feature object")}
			}
			var typ, geometry, properties []byte
			jsonscan.EachMember(raw, func(key, value []byte) bool {
				switch string(key) {
				case "type":
					typ = value
				case "geometry":
					geometry = value
				case "properties":
					properties = value
				}
				return true
			})
			return d.feature(typ, geometry, properties, line, d.n-1)
		default:
			return Strike{}, io.EOF
		}
	}
}

// next moves past the comma before the next member or element of the
// object or array at hand, and reports whether there is one; false once
// it has moved past end, which closes it.
func (d *GeoJSONDecoder) next(end byte) (bool, error) {
	c, err := d.peek()
	if err != nil {
		return false, err
	}
	switch {
	case c == end && !d.more:
		d.in.pos++
		return false, nil
	case !d.more:
		d.more = true
		return true, nil
	case c == end:
		d.in.pos++
		return false, nil
	case c == ',':
		d.in.pos++
		return true, nil
	}
	what := "object key:value pair"
	if end == ']' {
		what = "array element"
	}
	return false, d.invalid(d.in.offset(), "invalid character "+jsonscan.QuoteByte(c)+" after "+what)
}

// peek is the next byte but white space, failing at the end of the input.
func (d *GeoJSONDecoder) peek() (byte, error) {
	c, ok := d.in.peek()
	if !ok {
		return 0, d.ended()
	}
	return c, nil
}

// value reads the next value, checked, failing on one that is not JSON.
func (d *GeoJSONDecoder) value() ([]byte, error) {
	if _, err := d.peek(); err != nil {
		return nil, err
	}
	raw, err := d.in.value()
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		if se.At == d.in.end() && d.in.err != nil {
			return nil, d.ended()
		}
		return nil, d.invalid(int64(se.At)+d.in.base, se.Msg)
	}
	return raw, err
}

// ended reports the input ending early, or the reader's error.
func (d *GeoJSONDecoder) ended() error {
	if err := d.in.err; err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		d.state = atEnd
		return err
	}
	return d.invalid(int64(d.in.end())+d.in.base, "unexpected end of input")
}

// invalid reports input that is not JSON at offset.
func (d *GeoJSONDecoder) invalid(offset int64, msg string) error {
	return d.fatal(d.in.lineAt(offset), "", errors.New("invalid JSON: "+msg))
}

// finish checks the document once its object is closed; a lone Feature is
// decoded now that all its members are known.
func (d *GeoJSONDecoder) finish() (Strike, error) {
	d.state = atEnd
	if _, ok := d.in.peek(); ok {
		return Strike{}, d.fatal(d.in.lineAt(d.in.offset()), "", errors.New("data after the GeoJSON object"))
	} else if err := d.in.err; err != io.EOF {
		return Strike{}, d.ended()
	}
	_, collection := d.members["features"]
	switch {
	case d.typ == "FeatureCollection" && collection:
		return Strike{}, io.EOF
	case d.typ == "FeatureCollection":
		return Strike{}, d.fatal(d.line, "features", errors.New("required in a FeatureCollection"))
	case d.typ == "Feature" && collection:
		return Strike{}, d.fatal(d.line, "features", errors.New(`a Feature has none: is this a FeatureCollection?`))
	case d.typ == "Feature":
		return d.feature(d.members["type"], d.members["geometry"], d.members["properties"], d.line, -1)
	case d.typ == "":
		return Strike{}, d.fatal(d.line, "type", errors.New(`required: "Feature" or "FeatureCollection"`))
	}
	return Strike{}, d.fatal(d.line, "type", fmt.Errorf(`is %q, want "Feature" or "FeatureCollection"`, d.typ))
}

// Lone reports whether the document was a single Feature rather than a
// FeatureCollection; it is known once Next has returned io.EOF.
func (d *GeoJSONDecoder) Lone() bool { return d.typ == "Feature" }

// delim moves past the delimiter want, described as what.
func (d *GeoJSONDecoder) delim(want byte, what string) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c == want {
		d.in.pos++
		return nil
	}
	at := d.in.offset()
	found := string(c)
	if c != '{' && c != '[' {
		raw, err := d.value()
		if err != nil {
			return err
		}
		if s, ok := jsonscan.String(raw); ok {
			found = s
		} else {
			found = string(raw)
		}
	}
	return d.fatal(d.in.lineAt(at), "", fmt.Errorf("want %s, found %s", what, found))
}

// fatal ends the input with a problem at line.
func (d *GeoJSONDecoder) fatal(line int, field string, err error) error {
	d.state = atEnd
	return &RecordError{Line: line, Field: field, Err: err}
}

// jsonStream holds the JSON text read from r that is not yet past, the
// value at hand whole: the decoder finds where a value ends by its quotes
// and brackets, reading on until it has, then checks it in one pass.
// encoding/json's Decoder scanned each feature twice over, byte by byte
// through its state machine, and copied it.
type jsonStream struct {
	r    io.Reader
	buf  []byte
	pos  int   // the next byte of buf
	base int64 // the offset of buf[0] in the input
	err  error // the reader's, once it failed or ended (io.EOF)
	// line is the line of offset lined, up to which newlines were counted.
	line  int
	lined int64
}

// minStreamRead is the least room jsonStream reads into.
const minStreamRead = 64 << 10

func (s *jsonStream) offset() int64 { return s.base + int64(s.pos) }

// end is the offset in buf of the end of the input read so far.
func (s *jsonStream) end() int { return len(s.buf) }

// lineAt is the 1-based line of offset, at or after the value at hand;
// offsets asked about must not decrease.
func (s *jsonStream) lineAt(offset int64) int {
	if offset > s.lined {
		s.line += bytes.Count(s.buf[s.lined-s.base:offset-s.base], []byte{'\n'})
		s.lined = offset
	}
	return s.line
}

// fill reads at least want bytes more, or to the end of the input, first
// dropping what lies before pos; false when nothing more could be read.
func (s *jsonStream) fill(want int) bool {
	if s.err != nil {
		return false
	}
	if s.pos > 0 {
		s.lineAt(s.offset())
		s.base += int64(s.pos)
		s.buf = s.buf[:copy(s.buf, s.buf[s.pos:])]
		s.pos = 0
	}
	s.buf = slices.Grow(s.buf, max(want, minStreamRead))
	read := 0
	for read < want && s.err == nil {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf, read, s.err = s.buf[:len(s.buf)+n], read+n, err
	}
	return read > 0
}

// peek moves past white space and returns the next byte; ok is false at
// the end of the input.
func (s *jsonStream) peek() (c byte, ok bool) {
	for {
		for ; s.pos < len(s.buf); s.pos++ {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
			default:
				return c, true
			}
		}
		if !s.fill(1) {
			return 0, false
		}
	}
}

// value returns the value at pos, checked, and moves past it; a value
// that is not JSON is a *jsonscan.SyntaxError at its offset in buf.
func (s *jsonStream) value() ([]byte, error) {
	for {
		// A value ending where the input read so far does may be a
		// number cut short. One not ended is looked for again in twice
		// the text, so a long one is skipped a few times, not once a read.
		t := jsonscan.Text{B: s.buf[s.pos:], Checked: true}
		err := t.Value()
		if err == nil && (s.pos+t.I < len(s.buf) || s.err != nil) || err != nil && s.pos+t.I < len(s.buf) {
			break
		}
		if !s.fill(len(s.buf) - s.pos) {
			break
		}
	}
	t := jsonscan.Text{B: s.buf[s.pos:]}
	if err := t.Value(); err != nil {
		var se *jsonscan.SyntaxError
		if errors.As(err, &se) {
			se.At += s.pos
		}
		return nil, err
	}
	raw := s.buf[s.pos : s.pos+t.I]
	s.pos += t.I
	return raw, nil
}

// feature decodes one Feature's members: features[index] of a collection,
// or the lone Feature when index is -1.
func (d *GeoJSONDecoder) feature(typ, geometry, properties []byte, line, index int) (Strike, error) {
	fail := func(field string, err error) (Strike, error) {
		if index >= 0 {
			field = "features[" + strconv.Itoa(index) + "]." + field
		}
		return Strike{}, &RecordError{Line: line, Field: field, Err: err}
	}
	if string(typ) != `"Feature"` {
		return fail("type", fmt.Errorf("is %s, want \"Feature\"", orMissing(typ)))
	}
	var s Strike
	var gtype, coordinates []byte
	if len(geometry) > 0 && geometry[0] == '{' {
		jsonscan.EachMember(geometry, func(key, value []byte) bool {
			switch string(key) {
			case "type":
				gtype = value
			case "coordinates":
				coordinates = value
			}
			return true
		})
	}
	if gtype == nil {
		return fail("geometry", errors.New("required: a GeoJSON Point"))
	}
	if string(gtype) != `"Point"` {
		name, ok := jsonscan.String(gtype)
		if !ok {
			name = string(gtype)
		}
		return fail("geometry", fmt.Errorf("a strike is a Point, not a %s", name))
	}
	position, ok := parsePosition(coordinates)
	if !ok {
		return fail("geometry.coordinates", errors.New("want [longitude, latitude]"))
	}
	s.Point = position
	if err := checkLongitude(s.Point[0]); err != nil {
		return fail("geometry.coordinates", err)
	}
	if err := checkLatitude(s.Point[1]); err != nil {
		return fail("geometry.coordinates", err)
	}
	fe := readProperties(&s, properties)
	if fe == nil {
		fe = check(&s)
	}
	if fe != nil {
		// Fields are properties, but for the geometry and the properties object itself.
		if fe.field != "properties" && fe.field != "geometry" {
			fe.field = "properties." + fe.field
		}
		return fail(fe.field, fe.err)
	}
	if first, dup := d.seen.repeat(&s, line); dup {
		return fail("properties."+propEventID, fmt.Errorf("the same source and event id as line %d", first))
	}
	return s, nil
}

func orMissing(raw []byte) string {
	if raw == nil {
		return "missing"
	}
	return string(raw)
}

// parsePosition reads a GeoJSON position, [longitude, latitude] with an
// optional height, which is dropped.
func parsePosition(raw []byte) (p orb.Point, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return p, false
	}
	inner := raw[1 : len(raw)-1]
	n := 0
	for part := range bytes.SplitSeq(inner, []byte{','}) {
		v, err := geo.ParseNumber(string(part))
		if err != nil || n == 3 {
			return p, false
		}
		if n < 2 {
			p[n] = v
		}
		n++
	}
	return p, n >= 2
}

// readProperties fills s from a properties object, keeping the properties
// it has no field for in Extra.
func readProperties(s *Strike, properties json.RawMessage) *fieldError {
	if len(properties) == 0 || properties[0] != '{' {
		return failf(propTime, "required, and there is no properties object")
	}
	if d := jsonscan.Depth(properties); d > MaxPropertyDepth {
		return failf("properties", "nested %d deep, more than %d", d, MaxPropertyDepth)
	}
	if err := jsonscan.CheckText(properties); err != nil {
		return &fieldError{"properties", err}
	}
	var extra []byte
	seen := make([]string, 0, 8) // a strike's fields fit, on the stack
	var bad *fieldError
	jsonscan.EachMember(properties, func(k, raw []byte) bool {
		key := propertyName(k)
		if slices.Contains(seen, key) {
			bad = failf(key, "given twice")
			return false
		}
		seen = append(seen, key)
		bad = readProperty(s, key, raw, &extra)
		return bad == nil
	})
	if bad != nil {
		return bad
	}
	// By presence, not by a zero Time: 0001-01-01T00:00:00Z is a time too.
	if !slices.Contains(seen, propTime) {
		return failf(propTime, "required (RFC 3339, like 2025-03-20T04:10:00+02:00)")
	}
	if len(extra) > 0 {
		s.Extra = append(extra, '}')
	}
	return nil
}

// propertyName is key as a string: a strike field's name is the constant,
// which takes no allocation, as every key of most strikes is.
func propertyName(key []byte) string {
	for _, name := range reservedProperties {
		if string(key) == name {
			return name
		}
	}
	return string(key)
}

// readProperty reads one property into s, or appends it to extra, the
// object of those before it less its closing brace (empty before the first).
func readProperty(s *Strike, key string, raw []byte, extra *[]byte) *fieldError {
	var err error
	switch key {
	case propTime, propEnd:
		dst := &s.Time
		if key == propEnd {
			if string(raw) == "null" {
				return nil
			}
			dst = &s.End
		}
		var text string
		if err = textProperty(raw, &text); err == nil {
			*dst, err = time.Parse(time.RFC3339, text)
		}
		if err != nil {
			return failf(key, "%s is not an RFC 3339 time with an offset (like 2025-03-20T04:10:00+02:00)", raw)
		}
	case propUncertainty:
		if string(raw) != "null" && json.Unmarshal(raw, &s.UncertaintyMeters) != nil {
			return failf(key, "%s is not a number of metres", raw)
		}
	case propSource:
		err = textProperty(raw, &s.Source)
	case propWeapon:
		err = textProperty(raw, &s.Weapon)
	case propNotes:
		err = textProperty(raw, &s.Notes)
	case propEventID:
		if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
			s.SourceEventID = string(raw)
		} else if textProperty(raw, &s.SourceEventID) != nil {
			return failf(key, "%s is neither text nor a number", raw)
		}
	default:
		if IsComputedProperty(key) {
			return nil // the server's to compute, never stored
		}
		if len(*extra) == 0 {
			*extra = append(*extra, '{')
		} else {
			*extra = append(*extra, ',')
		}
		*extra = geojson.AppendJSONString(*extra, key)
		*extra = append(*extra, ':')
		*extra = appendCompact(*extra, raw)
	}
	if err != nil {
		return &fieldError{key, err}
	}
	return nil
}

// textProperty reads a string property; null is empty.
func textProperty(raw []byte, dst *string) error {
	switch {
	case string(raw) == "null":
		*dst = ""
	default:
		text, ok := jsonscan.String(raw)
		if !ok {
			return fmt.Errorf("%s is not text", raw)
		}
		*dst = text
	}
	return nil
}

// appendCompact appends valid JSON without the whitespace between tokens.
func appendCompact(dst, raw []byte) []byte {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString && c == '\\':
			dst = append(dst, c, raw[i+1])
			i++
			continue
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
