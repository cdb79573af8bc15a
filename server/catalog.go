package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// catalog is what the server learns about the collections of one index by
// reading their properties: which properties can filter items and when the
// features are. It is built lazily, once per layer and index version.
type catalog struct {
	ix    *geo.Index
	metas map[*geo.Layer]*layerMeta
}

// layerMeta describes one collection beyond what geo.Layer knows.
type layerMeta struct {
	once sync.Once
	// queryables are the properties items can be filtered by, sorted by name.
	queryables []queryable
	// fields are every property any feature carries, sorted by name: the
	// collection's schema.
	fields []field
	// geometryTypes are the GeoJSON geometry types of the features, sorted.
	geometryTypes []string
	// spans[i] is when feature i is; nil when no feature carries time.
	spans []span
	// extent covers every span; valid when spans is not nil.
	extent span
	// ranks holds, by property, each feature's rank for sortby; built on
	// the first sort by that property.
	ranksMu sync.Mutex
	ranks   map[string][]int32
}

// queryable is a property whose values are all of one JSON type.
type queryable struct {
	Name string
	// Type is a JSON Schema type: string, number, integer or boolean.
	Type string
}

// field is a property as the collection's schema describes it.
type field struct {
	Name string
	// Type is a JSON Schema type: string, number, integer, boolean, object
	// or array; empty when the values mix types other than integer and
	// number, or are all null.
	Type string
	// Format is "date-time" or "date" when every string value is one.
	Format string
}

// Properties that give a feature its time, as STAC and OGC API use them.
const (
	propDatetime = "datetime"
	propStart    = "start_datetime"
	propEnd      = "end_datetime"
)

// catalogFor returns the catalog of ix, making a new one when the index
// has been reloaded.
func (h *handlers) catalogFor(ix *geo.Index) *catalog {
	if c := h.catalog.Load(); c != nil && c.ix == ix {
		return c
	}
	c := &catalog{ix: ix, metas: make(map[*geo.Layer]*layerMeta, len(ix.Layers()))}
	for _, l := range ix.Layers() {
		c.metas[l] = &layerMeta{}
	}
	h.catalog.Store(c)
	return c
}

// meta describes l, reading its features the first time it is asked for.
func (c *catalog) meta(l *geo.Layer) *layerMeta {
	m := c.metas[l]
	m.once.Do(func() { m.build(l) })
	return m
}

// JSON types seen for a property, as a bit set.
const (
	seenString = 1 << iota
	seenInteger
	seenNumber
	seenBool
	seenObject
	seenArray
	seenOther
	// seenDateTime and seenDate mark strings that are RFC 3339 date-times
	// or full dates, seenText other strings.
	seenDateTime
	seenDate
	seenText
)

func (m *layerMeta) build(l *geo.Layer) {
	seen := map[string]int{}
	geoms := map[string]bool{}
	var times bool
	for i := range l.Len() {
		f := l.Feature(i)
		if f.Geometry != nil {
			geoms[f.Geometry.GeoJSONType()] = true
		}
		jsonscan.EachMember(f.Properties, func(key, raw []byte) bool {
			switch string(key) {
			case propDatetime, propStart, propEnd:
				times = true
			}
			// Looked up by string(key), the map copies a key only when it is new.
			if kinds, ok := seen[string(key)]; ok {
				seen[string(key)] = kinds | jsonKind(raw)
			} else {
				seen[string(key)] = jsonKind(raw)
			}
			return true
		})
	}
	m.geometryTypes = slices.Sorted(maps.Keys(geoms))
	for name, kinds := range seen {
		f := fieldOf(name, kinds)
		m.fields = append(m.fields, f)
		if reservedParams[name] {
			continue
		}
		switch f.Type {
		case "string", "integer", "number", "boolean":
			m.queryables = append(m.queryables, queryable{Name: name, Type: f.Type})
		}
		// Mixed, objects, arrays or only nulls: no equality test makes sense.
	}
	slices.SortFunc(m.fields, func(a, b field) int { return compareStrings(a.Name, b.Name) })
	slices.SortFunc(m.queryables, func(a, b queryable) int { return compareStrings(a.Name, b.Name) })
	if times {
		m.spans = make([]span, l.Len())
		m.extent = noSpan
		for i := range m.spans {
			m.spans[i] = featureSpan(l.Feature(i).Properties)
			if !m.spans[i].empty() {
				m.extent.start = minOf(m.extent.start, m.spans[i].start)
				m.extent.end = maxOf(m.extent.end, m.spans[i].end)
			}
		}
	}
}

// fieldOf types a property from the kinds of JSON value it was seen with.
func fieldOf(name string, kinds int) field {
	f := field{Name: name}
	text := kinds & (seenDateTime | seenDate | seenText)
	switch kinds &^ (seenDateTime | seenDate | seenText) {
	case seenString:
		f.Type = "string"
		switch text {
		case seenDateTime:
			f.Format = "date-time"
		case seenDate:
			f.Format = "date"
		}
	case seenInteger:
		f.Type = "integer"
	case seenNumber, seenNumber | seenInteger:
		f.Type = "number"
	case seenBool:
		f.Type = "boolean"
	case seenObject:
		f.Type = "object"
	case seenArray:
		f.Type = "array"
	}
	return f
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// hasField reports whether any feature carries property name.
func (m *layerMeta) hasField(name string) bool {
	_, ok := slices.BinarySearchFunc(m.fields, name, func(f field, n string) int { return compareStrings(f.Name, n) })
	return ok
}

// queryable returns the queryable property called name.
func (m *layerMeta) queryable(name string) (queryable, bool) {
	i, ok := slices.BinarySearchFunc(m.queryables, name, func(q queryable, n string) int { return compareStrings(q.Name, n) })
	if !ok {
		return queryable{}, false
	}
	return m.queryables[i], true
}

// reservedParams are the items parameters; a property of the same name
// cannot be a filter.
var reservedParams = map[string]bool{
	"f": true, "bbox": true, "bbox-crs": true, "crs": true, "limit": true, "cursor": true, "offset": true, "filter": true, "filter-lang": true, "filter-crs": true,
	"sortby": true, "properties": true, "skipGeometry": true,
	propDatetime: true, propStart: true, propEnd: true,
}

// jsonKind classifies a JSON value by its first byte (and, for numbers,
// whether it is integral).
func jsonKind(raw []byte) int {
	if len(raw) == 0 {
		return seenOther
	}
	switch raw[0] {
	case '"':
		return seenString | stringKind(raw)
	case '{':
		return seenObject
	case '[':
		return seenArray
	case 't', 'f':
		return seenBool
	case 'n':
		return 0
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if bytes.ContainsAny(raw, ".eE") {
			return seenNumber
		}
		return seenInteger
	}
	return seenOther
}

// stringKind tells date-times and dates from other text, so the schema can
// give their format and clients their type.
func stringKind(raw []byte) int {
	// The shortest date is 12 bytes quoted; a cheap look at the dashes
	// spares parsing the rest.
	if len(raw) < 12 || raw[5] != '-' || raw[8] != '-' {
		return seenText
	}
	s, ok := jsonscan.String(raw)
	if !ok {
		return seenText
	}
	if len(s) == len(time.DateOnly) {
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			return seenDate
		}
		return seenText
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return seenDateTime
	}
	return seenText
}

// featureSpan reads a feature's time: its datetime property (an instant,
// or a whole day for a date), else start_datetime and end_datetime, either
// of which may be open (null or absent).
func featureSpan(props json.RawMessage) span {
	var dt, start, end []byte
	jsonscan.EachMember(props, func(key, raw []byte) bool {
		switch string(key) {
		case propDatetime:
			dt = raw
		case propStart:
			start = raw
		case propEnd:
			end = raw
		}
		return true
	})
	if s, ok := jsonscan.String(dt); ok {
		if sp, err := parseInstant(s); err == nil {
			return sp
		}
	}
	if start == nil && end == nil {
		return noSpan
	}
	sp := openSpan
	if s, ok := jsonscan.String(start); ok {
		t, err := parseInstant(s)
		if err != nil {
			return noSpan
		}
		sp.start = t.start
	}
	if s, ok := jsonscan.String(end); ok {
		t, err := parseInstant(s)
		if err != nil {
			return noSpan
		}
		sp.end = t.end
	}
	return sp
}

// propFilter is one property=value filter on items.
type propFilter struct {
	name string
	typ  string
	text string  // string and boolean values
	num  float64 // number and integer values
}

// newPropFilter checks a filter value against the property's type.
func newPropFilter(q queryable, v string) (propFilter, error) {
	f := propFilter{name: q.Name, typ: q.Type, text: v}
	switch q.Type {
	case "number", "integer":
		n, err := parseFloat(v)
		if err != nil {
			return f, err
		}
		f.num = n
	case "boolean":
		if v != "true" && v != "false" {
			return f, fmt.Errorf("%q is not a boolean (true or false)", v)
		}
	}
	return f, nil
}

// matches is match for f, the i-th feature of l, reading a kind that is
// a string from the layer's column (geo.Layer.KindOf) rather than out of
// the feature's properties, which the loader took it from.
func (f *propFilter) matches(l *geo.Layer, feature *geo.Feature, i int) bool {
	if f.byKind() {
		if k := l.KindOf(i); k != "" {
			return k == f.text
		}
	}
	return f.match(feature.Properties)
}

// byKind reports whether f reads the layer's kind column.
func (f *propFilter) byKind() bool { return f.name == "kind" && f.typ == "string" }

// match reports whether a feature's properties satisfy the filter.
func (f *propFilter) match(props json.RawMessage) bool {
	found := false
	jsonscan.EachMember(props, func(key, raw []byte) bool {
		if string(key) != f.name {
			return true
		}
		switch f.typ {
		case "string":
			s, ok := jsonscan.String(raw)
			found = ok && s == f.text
		case "boolean":
			found = string(raw) == f.text
		default:
			n, err := strconv.ParseFloat(string(raw), 64)
			found = err == nil && n == f.num
		}
		return false
	})
	return found
}
