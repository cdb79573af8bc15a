package importer

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/paulmach/osm"
	"github.com/protectmap/protectmap/geo"
)

//go:embed default_mapping.json
var defaultMappingJSON []byte

// DefaultMappingJSON is the default tag mapping as a mapping file, a
// starting point for a custom one.
func DefaultMappingJSON() []byte { return bytes.Clone(defaultMappingJSON) }

// DefaultMapping returns the default tag mapping: power plants, generators,
// substations and power lines into "energy", hospitals (and, with the
// optional group "clinics", clinics) into "hospitals", and bridges into
// "bridges".
func DefaultMapping() *Mapping {
	m, err := ReadMapping(bytes.NewReader(defaultMappingJSON))
	if err != nil {
		panic("importer: the embedded default mapping is invalid: " + err.Error())
	}
	return m
}

// Mapping says which OpenStreetMap elements become features of which layer.
// An element is tested against the rules in order; in each layer the first
// rule that matches wins, so one element can feed several layers but never
// appears twice in one.
type Mapping struct {
	Rules []Rule `json:"rules"`
}

// Rule maps matching OSM elements to features of one kind in one layer.
type Rule struct {
	// Layer is the output layer; its file is Layer + ".geojson".
	Layer string `json:"layer"`
	// Kind is the feature's kind property.
	Kind string `json:"kind"`
	// Elements lists the element types the rule applies to: "n" nodes (as
	// points), "w" ways (lines or polygons), "r" multipolygon relations. The
	// default is "nwr".
	Elements string `json:"elements,omitempty"`
	// Match holds tag conditions that must all hold. A condition is one or
	// more alternatives separated by "|", any of which may hold; an
	// alternative is "key" (present, value not "no"), "key=v1,v2" (value is
	// one of those) or "key!=v1,v2" (present, value none of those).
	Match []string `json:"match"`
	// Keep lists tags copied to properties under their own keys. "name" and
	// "kind" are always set; "energy_class", "source", "licence" and
	// "osm_ways" are reserved.
	Keep []string `json:"keep,omitempty"`
	// Area decides whether a closed way is a polygon: "yes" unless it is
	// tagged area=no, "no" unless tagged area=yes, or "" for the usual
	// rules (area=*, then the OSM wiki's list of polygon features).
	Area string `json:"area,omitempty"`
	// Merge joins this rule's line features that share an end node and have
	// the same name and ref (at least one of them set) into one feature.
	Merge bool `json:"merge,omitempty"`
	// Optional names a group that is off unless enabled, as "clinics" is.
	Optional string `json:"optional,omitempty"`

	match []condition
}

// reservedProperties are set by the importer itself and cannot be kept tags.
var reservedProperties = []string{"name", "kind", "energy_class", "source", "licence", "osm_ways"}

// ReadMapping reads a mapping file (JSON, see Mapping) and checks every rule;
// an error names the rule and the field at fault.
func ReadMapping(r io.Reader) (*Mapping, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	if len(m.Rules) == 0 {
		return nil, errors.New("mapping: no rules")
	}
	for i := range m.Rules {
		if err := m.Rules[i].compile(); err != nil {
			return nil, fmt.Errorf("mapping: rule %d (layer %q, kind %q): %w", i, m.Rules[i].Layer, m.Rules[i].Kind, err)
		}
	}
	return &m, nil
}

// LoadMapping reads a mapping file from disk.
func LoadMapping(file string) (*Mapping, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadMapping(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

func (r *Rule) compile() error {
	if !geo.ValidLayerName(r.Layer) {
		return fmt.Errorf("layer: %q is not a valid layer name (letters, digits, '_', '-', '.')", r.Layer)
	}
	if r.Kind == "" {
		return errors.New("kind: missing")
	}
	if r.Elements == "" {
		r.Elements = "nwr"
	}
	if strings.Trim(r.Elements, "nwr") != "" {
		return fmt.Errorf("elements: %q has letters other than n, w and r", r.Elements)
	}
	switch r.Area {
	case "", "yes", "no":
	default:
		return fmt.Errorf(`area: %q is not "yes", "no" or ""`, r.Area)
	}
	if len(r.Match) == 0 {
		return errors.New("match: no conditions; a rule would take every element")
	}
	r.match = nil
	for j, s := range r.Match {
		c, err := parseCondition(s)
		if err != nil {
			return fmt.Errorf("match %d: %w", j, err)
		}
		r.match = append(r.match, c)
	}
	for _, k := range r.Keep {
		if k == "" {
			return errors.New("keep: empty tag key")
		}
		if slices.Contains(reservedProperties, k) {
			return fmt.Errorf("keep: %q is set by the importer", k)
		}
	}
	return nil
}

func (r *Rule) applies(elem byte) bool { return strings.IndexByte(r.Elements, elem) >= 0 }

func (r *Rule) matches(tags osm.Tags) bool {
	for _, c := range r.match {
		if !c.holds(tags) {
			return false
		}
	}
	return true
}

// condition holds when any of its alternatives does.
type condition []alternative

type alternative struct {
	key    string
	values []string // nil: any value but "no"
	negate bool     // value must be none of values
}

func parseCondition(s string) (condition, error) {
	var c condition
	for part := range strings.SplitSeq(s, "|") {
		part = strings.TrimSpace(part)
		key, vals, hasValues := strings.Cut(part, "=")
		a := alternative{key: key}
		if hasValues {
			a.key, a.negate = strings.CutSuffix(key, "!")
			if vals == "" {
				return nil, fmt.Errorf("%q: no value after '='", part)
			}
			for v := range strings.SplitSeq(vals, ",") {
				if v = strings.TrimSpace(v); v == "" {
					return nil, fmt.Errorf("%q: empty value in the list", part)
				}
				a.values = append(a.values, v)
			}
		}
		a.key = strings.TrimSpace(a.key)
		if a.key == "" {
			return nil, fmt.Errorf("%q: no tag key", part)
		}
		c = append(c, a)
	}
	return c, nil
}

func (c condition) holds(tags osm.Tags) bool {
	for _, a := range c {
		if a.holds(tags) {
			return true
		}
	}
	return false
}

func (a alternative) holds(tags osm.Tags) bool {
	v := tags.Find(a.key)
	switch {
	case v == "":
		return false
	case a.values == nil:
		return v != "no"
	default:
		return slices.Contains(a.values, v) != a.negate
	}
}

// matcher is a mapping compiled for one import: optional groups resolved
// and rules split by element type. It is read-only, so the PBF decoders may
// call it from several goroutines.
type matcher struct {
	byElem map[byte][]*Rule
}

func newMatcher(m *Mapping, with []string) (*matcher, error) {
	if m == nil {
		m = DefaultMapping()
	}
	mt := &matcher{byElem: map[byte][]*Rule{}}
	used := map[string]bool{}
	rules := slices.Clone(m.Rules) // compiled here, so the caller's mapping is never changed
	for i := range rules {
		r := &rules[i]
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("mapping: rule %d: %w", i, err)
		}
		if r.Optional != "" {
			used[r.Optional] = true
			if !slices.Contains(with, r.Optional) {
				continue
			}
		}
		for _, e := range []byte("nwr") {
			if r.applies(e) {
				mt.byElem[e] = append(mt.byElem[e], r)
			}
		}
	}
	for _, w := range with {
		if !used[w] {
			return nil, fmt.Errorf("mapping: no rule belongs to the optional group %q", w)
		}
	}
	return mt, nil
}

// any reports whether some rule takes an element of this type with these tags.
func (mt *matcher) any(elem byte, tags osm.Tags) bool {
	if len(tags) == 0 {
		return false
	}
	for _, r := range mt.byElem[elem] {
		if r.matches(tags) {
			return true
		}
	}
	return false
}

// match returns the first matching rule of each layer, in mapping order.
func (mt *matcher) match(elem byte, tags osm.Tags) []*Rule {
	if len(tags) == 0 {
		return nil
	}
	var hits []*Rule
	for _, r := range mt.byElem[elem] {
		if !r.matches(tags) || slices.ContainsFunc(hits, func(h *Rule) bool { return h.Layer == r.Layer }) {
			continue
		}
		hits = append(hits, r)
	}
	return hits
}
