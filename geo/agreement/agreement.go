package agreement

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// Agreement is a commitment not to strike certain sites for a time: a
// ceasefire that covers categories of sites (whole collections, optionally
// narrowed by property filters or energy classes), named sites, zones, or
// some of them, each with a protection buffer around it.
//
// The parties often read one agreement differently: Readings then hold each
// party's window, scope and status, and verdicts are given under each. An
// agreement written without readings has one, ImplicitReadingID, made of its
// own terms.
type Agreement struct {
	// ID names the agreement in URLs and verdicts: letters, digits, '_', '-'
	// and '.', starting with a letter or digit. ScopeAgreementID is reserved.
	ID    string `json:"id"`
	Title string `json:"title"`
	// Source cites where the terms come from: a URL or a reference. Required
	// without readings; with them each reading cites its own sources.
	Source string `json:"source,omitempty"`
	// Notes say how the terms were read from the source where that took judgement.
	Notes string `json:"notes,omitempty"`
	// Terms are the agreement's own window and scope: those of its implicit
	// reading. With readings of its own, it has no scope, and its window
	// spans theirs: the earliest start, the latest end.
	Terms
	// Readings are the parties' readings, in the order written. An
	// AgreementSet always lists at least one (the implicit one when the
	// agreement was written without).
	Readings []Reading `json:"readings,omitempty"`
}

// readings are the agreement's readings, or its implicit one.
func (a *Agreement) readings() []Reading {
	if len(a.Readings) > 0 {
		return a.Readings
	}
	var sources []Source
	if a.Source != "" {
		sources = []Source{{Title: a.Source}}
	}
	return []Reading{{ID: ImplicitReadingID, Party: ImplicitParty, Terms: a.Terms, Status: InForce, Sources: sources}}
}

// normalized is a with its readings spelt out and, with readings of its
// own, its window spanning theirs.
func (a Agreement) normalized() Agreement {
	implicit := len(a.Readings) == 0
	a.Readings = a.readings()
	if implicit {
		return a
	}
	a.Start, a.End = a.Readings[0].Start, a.Readings[0].End
	for _, r := range a.Readings[1:] {
		if r.Start.Before(a.Start) {
			a.Start = r.Start
		}
		if a.End != nil && (r.End == nil || r.End.After(*a.End)) {
			a.End = r.End
		}
	}
	return a
}

// Filter passes a site whose property Property is one of In: a string equal
// to an element, or a number or boolean written exactly as one ("750",
// "true"). A site without the property does not pass.
type Filter struct {
	Property string   `json:"property"`
	In       []string `json:"in"`
}

// SiteRef names one site: a feature id within a collection.
type SiteRef struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
}

// ScopeAgreementID is the id under which verdicts list the hypothetical
// agreement a scope describes; no real agreement may use it.
const ScopeAgreementID = "scope"

// InForce reports whether the agreement is in force at t under any of its
// readings, suspended ones aside. Each window is half-open, [Start, End): in
// force at Start, no longer at End.
func (a *Agreement) InForce(t time.Time) bool {
	for _, r := range a.readings() {
		if r.Status != Suspended && r.InForce(t) {
			return true
		}
	}
	return false
}

// Covers reports whether feature f of layer l is protected at t under any
// of the agreement's readings (see Reading.Covers).
func (a *Agreement) Covers(l *geo.Layer, f *geo.Feature, t time.Time) bool {
	for _, r := range a.readings() {
		if r.Covers(l, f, t) {
			return true
		}
	}
	return false
}

// Covers reports whether the reading protects feature f of layer l at t: it
// is in force at t and not suspended, and its terms cover f (see Terms).
func (r *Reading) Covers(l *geo.Layer, f *geo.Feature, t time.Time) bool {
	return r.Status != Suspended && r.InForce(t) && r.covers(l, f)
}

// covers reports whether the terms cover f of l, whatever the time.
func (t *Terms) covers(l *geo.Layer, f *geo.Feature) bool {
	ref := SiteRef{Collection: l.Name(), ID: f.ID}
	if slices.Contains(t.Sites, ref) || l.Name() == geojson.ZonesLayer && slices.Contains(t.Zones, f.ID) {
		return true
	}
	if !slices.Contains(t.Collections, l.Name()) || !passes(t.Filters, f.Properties) {
		return false
	}
	return len(t.EnergyClasses) == 0 || l.Name() != EnergyLayer ||
		slices.Contains(t.EnergyClasses, EnergyClass(f.Kind, f.Properties))
}

// passes reports whether properties pass every filter.
func passes(filters []Filter, properties json.RawMessage) bool {
	if len(filters) == 0 {
		return true
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(properties, &props) != nil {
		return false
	}
	for _, f := range filters {
		if !f.match(props[f.Property]) {
			return false
		}
	}
	return true
}

func (f *Filter) match(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	v := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &v) != nil {
			return false
		}
	} else if raw[0] == '{' || raw[0] == '[' || v == "null" {
		return false
	}
	return slices.Contains(f.In, v)
}

// AgreementError says what is wrong with an agreement: where it was read
// from, its position in the list, its id when known, the reading at fault
// (its id; empty for the agreement itself), the member at fault (such as
// "end", "sites[2].id" or "readings[1].energy_classes[0]"; empty for the
// agreement or the document as a whole) and why.
type AgreementError struct {
	File    string
	Index   int // -1 for the document as a whole
	ID      string
	Reading string
	Field   string
	Err     error
}

func (e *AgreementError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Index >= 0 {
		b.WriteString("agreement " + strconv.Itoa(e.Index))
		if e.ID != "" {
			b.WriteString(" (id " + strconv.Quote(e.ID) + ")")
		}
		if e.Reading != "" {
			b.WriteString(", reading " + strconv.Quote(e.Reading))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *AgreementError) Unwrap() error { return e.Err }

// agreementJSON is an Agreement as written, times still text, so that a bad
// time is reported against its member.
type agreementJSON struct {
	ID            string        `json:"id"`
	Title         string        `json:"title"`
	Source        string        `json:"source"`
	Notes         string        `json:"notes"`
	Start         *string       `json:"start"`
	End           *string       `json:"end"`
	Collections   []string      `json:"collections"`
	Filters       []Filter      `json:"filters"`
	EnergyClasses []string      `json:"energy_classes"`
	Sites         []SiteRef     `json:"sites"`
	Zones         []string      `json:"zones"`
	BufferMeters  *float64      `json:"buffer_m"`
	Readings      []readingJSON `json:"readings"`
}

// DecodeAgreements reads a document {"agreements": [...]} and checks what
// can be checked without the layers: required members, ids, times in RFC 3339
// with an offset, end after start, buffers, energy classes, readings,
// duplicates. Unknown members are errors, so a misspelt one never silently
// widens or narrows an agreement. An agreement with readings gives its
// window and scope in each reading, never beside them. Every problem is
// reported, each an *AgreementError naming file, agreement, reading and
// member; NewAgreementSet then checks against the layers.
func DecodeAgreements(file string, r io.Reader) ([]Agreement, error) {
	docErr := func(err error) error { return &AgreementError{File: file, Index: -1, Err: err} }
	var doc struct {
		Agreements *[]json.RawMessage `json:"agreements"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, docErr(jsonscan.Reword(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, docErr(errors.New("invalid JSON: data after the document"))
	}
	if doc.Agreements == nil {
		return nil, docErr(errors.New(`missing the "agreements" array`))
	}
	var errs []error
	out := make([]Agreement, 0, len(*doc.Agreements))
	for i, raw := range *doc.Agreements {
		a, bad := decodeAgreement(raw)
		for _, fe := range bad {
			errs = append(errs, a.errorAt(file, i, fe))
		}
		out = append(out, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := checkAgreements(file, out); err != nil {
		return nil, err
	}
	return out, nil
}

type fieldError struct {
	field string
	err   error
}

// errorAt is fe as an *AgreementError for a at position index of file,
// naming the reading a "readings[k]..." field points into.
func (a *Agreement) errorAt(file string, index int, fe fieldError) *AgreementError {
	e := &AgreementError{File: file, Index: index, ID: a.ID, Field: fe.field, Err: fe.err}
	var k int
	if n, _ := fmt.Sscanf(fe.field, "readings[%d]", &k); n == 1 && k >= 0 && k < len(a.Readings) {
		e.Reading = a.Readings[k].ID
	}
	return e
}

func decodeAgreement(raw json.RawMessage) (Agreement, []fieldError) {
	var aj agreementJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Agreement{ID: aj.ID}, []fieldError{{te.Field, fmt.Errorf("is a JSON %s, want %s", te.Value, jsonKind(te.Type.String()))}}
		}
		return Agreement{ID: aj.ID}, []fieldError{{"", err}}
	}
	a := Agreement{ID: aj.ID, Title: aj.Title, Source: aj.Source, Notes: aj.Notes, Terms: Terms{
		Collections: aj.Collections, Filters: aj.Filters, EnergyClasses: aj.EnergyClasses,
		Sites: aj.Sites, Zones: aj.Zones}}
	if aj.BufferMeters != nil {
		a.BufferMeters = *aj.BufferMeters
	}
	if aj.Readings == nil {
		start := ""
		if aj.Start != nil {
			start = *aj.Start
		}
		return a, a.parseWindow("", start, aj.End)
	}
	var bad []fieldError
	if len(aj.Readings) == 0 {
		bad = append(bad, fieldError{"readings", errors.New("empty: give at least one reading, or leave readings out")})
	}
	for k := range aj.Readings {
		r, rbad := decodeReading(fmt.Sprintf("readings[%d].", k), &aj.Readings[k])
		a.Readings = append(a.Readings, r)
		bad = append(bad, rbad...)
	}
	if len(bad) > 0 {
		return a, bad
	}
	implicit := Agreement{Source: a.Source, Terms: a.Terms}
	if aj.Start != nil {
		bad = implicit.parseWindow("", *aj.Start, aj.End)
	}
	if len(a.Readings) == 1 && a.Readings[0].ID == ImplicitReadingID && sameJSON(implicit.readings()[0], a.Readings[0]) {
		// A listing of an agreement written without readings: its terms
		// and its implicit reading, which repeats them.
		implicit.ID, implicit.Title, implicit.Notes = a.ID, a.Title, a.Notes
		return implicit, bad
	}
	beside := map[string]bool{"collections": aj.Collections != nil, "filters": aj.Filters != nil,
		"energy_classes": aj.EnergyClasses != nil, "sites": aj.Sites != nil, "zones": aj.Zones != nil,
		"buffer_m": aj.BufferMeters != nil && *aj.BufferMeters != 0} // a listing writes 0
	for _, member := range slices.Sorted(maps.Keys(beside)) {
		if beside[member] {
			bad = append(bad, fieldError{member, errors.New("give it in each reading: an agreement with readings has no terms of its own")})
		}
	}
	// A listing gives the span of the readings as start and end: it must be theirs.
	span := a.normalized()
	if aj.Start != nil && !span.Start.Equal(implicit.Start) {
		bad = append(bad, fieldError{"start", fmt.Errorf("%s is not the earliest start of the readings, %s; leave it out", *aj.Start, span.Start.Format(time.RFC3339))})
	}
	if aj.End != nil && (implicit.End == nil) != (span.End == nil) || implicit.End != nil && span.End != nil && !span.End.Equal(*implicit.End) {
		bad = append(bad, fieldError{"end", errors.New("is not the latest end of the readings; leave it out")})
	}
	a.Start, a.End = span.Start, span.End
	return a, bad
}

// sameJSON reports whether a and b encode alike.
func sameJSON(a, b any) bool {
	ja, err := json.Marshal(a)
	if err != nil {
		return false
	}
	jb, err := json.Marshal(b)
	return err == nil && bytes.Equal(ja, jb)
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "string", strings.HasSuffix(goType, "Status"):
		return "a string"
	case goType == "float64":
		return "a number"
	}
	return "an object"
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time with an offset (like 2025-03-18T00:00:00+02:00)", s)
	}
	return t, nil
}

// checkAgreements checks a list without the layers; see DecodeAgreements.
func checkAgreements(file string, as []Agreement) error {
	var errs []error
	first := make(map[string]int, len(as))
	for i := range as {
		a := &as[i]
		for _, fe := range a.check() {
			errs = append(errs, a.errorAt(file, i, fe))
		}
		if j, dup := first[a.ID]; dup && a.ID != "" {
			errs = append(errs, a.errorAt(file, i, fieldError{"id", fmt.Errorf("duplicate: agreement %d has the same id", j)}))
		} else {
			first[a.ID] = i
		}
	}
	return errors.Join(errs...)
}

func (a *Agreement) check() []fieldError {
	var bad []fieldError
	fail := func(field, format string, args ...any) {
		bad = append(bad, fieldError{field, fmt.Errorf(format, args...)})
	}
	switch {
	case a.ID == "":
		fail("id", "required")
	case a.ID == ScopeAgreementID:
		fail("id", "%q is reserved for the hypothetical agreement of a scope", a.ID)
	case !geo.ValidLayerName(a.ID):
		fail("id", "%q must be letters, digits, '_', '-' and '.', starting with a letter or digit", a.ID)
	}
	if strings.TrimSpace(a.Title) == "" {
		fail("title", "required")
	}
	if len(a.Readings) == 0 {
		if strings.TrimSpace(a.Source) == "" {
			fail("source", "required: cite where the terms come from")
		}
		r := a.readings()[0]
		return append(bad, r.check("", true)...)
	}
	for k := range a.Readings {
		r := &a.Readings[k]
		field := fmt.Sprintf("readings[%d].", k)
		bad = append(bad, r.check(field, false)...)
		if j := slices.IndexFunc(a.Readings, func(o Reading) bool { return o.ID == r.ID }); j < k && r.ID != "" {
			fail(field+"id", "duplicate: reading %d has the same id", j)
		}
	}
	return bad
}

// AgreementSet is a list of agreements checked against an index and ready
// to answer verdicts on it. Like the Index it is immutable: when the layers
// are reloaded, build a new set over the new index from Agreements.
type AgreementSet struct {
	ix    *geo.Index
	list  []Agreement
	byID  map[string]int
	layer map[*geo.Layer]int // position in ix.Layers()
	// readings are every agreement's readings, agreement by agreement in
	// the order of list, each with what it covers.
	readings []setReading
	// classes[i] is the energy class of feature i of the energy layer, as
	// 1 + its position in EnergyClasses(); 0 for none, classOther for a
	// class outside the vocabulary. A byte a site: a verdict names classes
	// without reading properties.
	classes []uint8
}

const classOther = math.MaxUint8

// classOf is the energy class of feature i of l; "" outside the energy layer.
func (s *AgreementSet) classOf(l *geo.Layer, i int) string {
	if l.Name() != EnergyLayer || i >= len(s.classes) {
		return ""
	}
	switch c := s.classes[i]; c {
	case 0:
		return ""
	case classOther:
		return EnergyClass(l.Feature(i).Kind, l.Feature(i).Properties)
	default:
		return EnergyClasses()[c-1]
	}
}

// layerPos is the position of the layer name in the index.
func (s *AgreementSet) layerPos(name string) (int, bool) {
	l, ok := s.ix.Layer(name)
	if !ok {
		return 0, false
	}
	return s.layer[l], true
}

// setReading is one reading of the agreement at list[agreement], resolved
// against the index.
type setReading struct {
	agreement int
	*Reading
	cover []siteSet // cover[layer]: the sites the reading covers
	// notYet and ended say why the reading is not in force before and
	// after its window.
	notYet, ended string
}

// siteSet is the sites of one layer an agreement covers.
type siteSet struct {
	all  bool     // the whole layer
	bits []uint64 // else bit i for feature i; nil when none
}

func (s *siteSet) has(i int) bool {
	return s.all || (s.bits != nil && s.bits[i>>6]&(1<<(i&63)) != 0)
}

func (s *siteSet) add(i, n int) {
	if s.bits == nil {
		s.bits = make([]uint64, (n+63)/64)
	}
	s.bits[i>>6] |= 1 << (i & 63)
}

// NewAgreementSet checks agreements against the layers of ix, on top of what
// DecodeAgreements checks: every collection, named site and zone must exist,
// a zone must be an area (a polygon, or a corridor: a line with width_m),
// and filters must pass at least one site (a filter that passes none is
// almost always a misspelt value). Every problem is reported as an
// *AgreementError. The set lists the agreements by start, then id, each with
// its readings spelt out (see Agreement.Readings).
func NewAgreementSet(ix *geo.Index, agreements []Agreement) (*AgreementSet, error) {
	return newAgreementSet(ix, "", agreements)
}

// LoadAgreements decodes an agreements document and checks it against ix;
// errors name file.
func LoadAgreements(ix *geo.Index, file string, r io.Reader) (*AgreementSet, error) {
	as, err := DecodeAgreements(file, r)
	if err != nil {
		return nil, err
	}
	return newAgreementSet(ix, file, as)
}

func newAgreementSet(ix *geo.Index, file string, agreements []Agreement) (*AgreementSet, error) {
	if err := checkAgreements(file, agreements); err != nil {
		return nil, err
	}
	s := &AgreementSet{ix: ix, layer: make(map[*geo.Layer]int, len(ix.Layers()))}
	for i, l := range ix.Layers() {
		s.layer[l] = i
	}
	if energy, ok := ix.Layer(EnergyLayer); ok {
		vocabulary := EnergyClasses()
		s.classes = make([]uint8, energy.Len())
		for i := range energy.Len() {
			f := energy.Feature(i)
			if c := EnergyClass(f.Kind, f.Properties); c != "" {
				s.classes[i] = classOther
				if k := slices.Index(vocabulary, c); k >= 0 {
					s.classes[i] = uint8(k + 1)
				}
			}
		}
	}
	order := make([]int, len(agreements))
	normal := make([]Agreement, len(agreements))
	for i := range order {
		order[i] = i
		normal[i] = agreements[i].normalized()
	}
	slices.SortStableFunc(order, func(i, j int) int {
		if c := normal[i].Start.Compare(normal[j].Start); c != 0 {
			return c
		}
		return strings.Compare(normal[i].ID, normal[j].ID)
	})
	s.list = make([]Agreement, len(order))
	s.byID = make(map[string]int, len(order))
	for k, i := range order {
		s.list[k], s.byID[normal[i].ID] = normal[i], k
	}
	var errs []*AgreementError
	for k, i := range order {
		a := &s.list[k]
		for r := range a.Readings {
			field := ""
			if len(agreements[i].Readings) > 0 {
				field = fmt.Sprintf("readings[%d].", r)
			}
			cov, bad := s.coverage(&a.Readings[r].Terms)
			for _, fe := range bad {
				errs = append(errs, a.errorAt(file, i, fieldError{field + fe.field, fe.err}))
			}
			sr := setReading{agreement: k, Reading: &a.Readings[r], cover: cov,
				notYet: "not yet in force: starts " + a.Readings[r].Start.Format(time.RFC3339)}
			if end := a.Readings[r].End; end != nil {
				sr.ended = "no longer in force: ended " + end.Format(time.RFC3339)
			}
			s.readings = append(s.readings, sr)
		}
	}
	if len(errs) > 0 {
		// Report in the order of the document, not of the set.
		slices.SortStableFunc(errs, func(a, b *AgreementError) int { return a.Index - b.Index })
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = e
		}
		return nil, errors.Join(joined...)
	}
	return s, nil
}

// coverage resolves what t covers in the index, feature by feature, so that
// a verdict never has to look at properties again.
func (s *AgreementSet) coverage(t *Terms) ([]siteSet, []fieldError) {
	cov := make([]siteSet, len(s.ix.Layers()))
	var bad []fieldError
	passed := 0
	narrowed := len(t.Filters) > 0 || len(t.EnergyClasses) > 0
	for i, name := range t.Collections {
		l, ok := s.ix.Layer(name)
		if !ok {
			bad = append(bad, fieldError{fmt.Sprintf("collections[%d]", i), s.unknownLayer(name)})
			continue
		}
		set := &cov[s.layer[l]]
		if !narrowed || len(t.Filters) == 0 && name != EnergyLayer {
			set.all = true
			passed += l.Len()
			continue
		}
		for k := range l.Len() {
			if passes(t.Filters, l.Feature(k).Properties) &&
				(name != EnergyLayer || len(t.EnergyClasses) == 0 || slices.Contains(t.EnergyClasses, s.classOf(l, k))) {
				set.add(k, l.Len())
				passed++
			}
		}
	}
	if len(bad) == 0 && narrowed && passed == 0 {
		field := "filters"
		if len(t.Filters) == 0 {
			field = "energy_classes"
		}
		bad = append(bad, fieldError{field, fmt.Errorf("no site of %s passes them", strings.Join(t.Collections, ", "))})
	}
	refs := slices.Clone(t.Sites)
	for _, z := range t.Zones {
		refs = append(refs, SiteRef{Collection: geojson.ZonesLayer, ID: z})
	}
	for i, ref := range refs {
		field := fmt.Sprintf("sites[%d]", i)
		if i >= len(t.Sites) {
			field = fmt.Sprintf("zones[%d]", i-len(t.Sites))
		}
		l, ok := s.ix.Layer(ref.Collection)
		if !ok {
			if i < len(t.Sites) {
				field += ".collection"
			}
			bad = append(bad, fieldError{field, s.unknownLayer(ref.Collection)})
			continue
		}
		f, k, ok := l.Lookup(ref.ID)
		if !ok {
			if i < len(t.Sites) {
				field += ".id"
			}
			bad = append(bad, fieldError{field, fmt.Errorf("no site %q in collection %q", ref.ID, ref.Collection)})
			continue
		}
		if i >= len(t.Sites) && !isArea(f.Geometry) {
			bad = append(bad, fieldError{field, fmt.Errorf("zone %q is a %s: a zone is a Polygon or MultiPolygon, or a corridor (a line with a positive width_m)", ref.ID, f.Geometry.GeoJSONType())})
			continue
		}
		if set := &cov[s.layer[l]]; !set.all {
			set.add(k, l.Len())
		}
	}
	return cov, bad
}

// isArea reports whether g covers an area.
func isArea(g orb.Geometry) bool {
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		return true
	}
	return false
}

func (s *AgreementSet) unknownLayer(name string) error {
	names := make([]string, len(s.ix.Layers()))
	for i, l := range s.ix.Layers() {
		names[i] = l.Name()
	}
	return fmt.Errorf("%w %q (the collections are %s)", geo.ErrUnknownLayer, name, strings.Join(names, ", "))
}

// Agreements returns the agreements by start, then id, each with its
// readings. The slice must not be modified.
func (s *AgreementSet) Agreements() []Agreement { return s.list }

// Agreement returns the agreement with the given id.
func (s *AgreementSet) Agreement(id string) (*Agreement, bool) {
	i, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return &s.list[i], true
}

// Index is the index the set was checked against.
func (s *AgreementSet) Index() *geo.Index { return s.ix }
