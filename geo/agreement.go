package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Agreement is a commitment not to strike certain sites for a time: a
// ceasefire that covers categories of sites (whole collections, optionally
// narrowed by property filters), named sites, or both, each with a
// protection buffer around it.
type Agreement struct {
	// ID names the agreement in URLs and verdicts: letters, digits, '_', '-'
	// and '.', starting with a letter or digit. ScopeAgreementID is reserved.
	ID    string `json:"id"`
	Title string `json:"title"`
	// Source cites where the terms come from: a URL or a reference.
	Source string `json:"source"`
	// Notes say how the terms were read from the source where that took judgement.
	Notes string `json:"notes,omitempty"`
	// Start is the first instant the agreement is in force.
	Start time.Time `json:"start"`
	// End is the first instant it is no longer in force; nil when open-ended.
	End *time.Time `json:"end"`
	// Collections are layers whose sites are covered, those passing every
	// filter in Filters.
	Collections []string `json:"collections,omitempty"`
	// Filters narrow Collections; they never apply to Sites.
	Filters []Filter `json:"filters,omitempty"`
	// Sites are covered by name, whatever their collection and properties.
	Sites []SiteRef `json:"sites,omitempty"`
	// BufferMeters is the protection zone around each covered site's real
	// geometry, in metres: a strike that close counts as hitting the site.
	BufferMeters float64 `json:"buffer_m"`
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

// InForce reports whether the agreement is in force at t. The interval is
// half-open, [Start, End): in force at Start, no longer at End, so an
// agreement that replaces another at the same instant never overlaps it.
func (a *Agreement) InForce(t time.Time) bool {
	return !t.Before(a.Start) && (a.End == nil || t.Before(*a.End))
}

// Covers reports whether the agreement protects feature f of layer l at t:
// it is in force at t (see InForce), and f is named in Sites or belongs to
// one of Collections and passes every filter.
func (a *Agreement) Covers(l *Layer, f *Feature, t time.Time) bool {
	if !a.InForce(t) {
		return false
	}
	if slices.Contains(a.Sites, SiteRef{Collection: l.Name(), ID: f.ID}) {
		return true
	}
	return slices.Contains(a.Collections, l.Name()) && a.passes(f.Properties)
}

// passes reports whether properties pass every filter.
func (a *Agreement) passes(properties json.RawMessage) bool {
	if len(a.Filters) == 0 {
		return true
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(properties, &props) != nil {
		return false
	}
	for _, f := range a.Filters {
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
// from, its position in the list, its id when known, the member at fault
// (such as "end" or "sites[2].id"; empty for the agreement or the document
// as a whole) and why.
type AgreementError struct {
	File  string
	Index int // -1 for the document as a whole
	ID    string
	Field string
	Err   error
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
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	Source       string    `json:"source"`
	Notes        string    `json:"notes"`
	Start        string    `json:"start"`
	End          *string   `json:"end"`
	Collections  []string  `json:"collections"`
	Filters      []Filter  `json:"filters"`
	Sites        []SiteRef `json:"sites"`
	BufferMeters float64   `json:"buffer_m"`
}

// DecodeAgreements reads a document {"agreements": [...]} and checks what
// can be checked without the layers: required members, ids, times in RFC 3339
// with an offset, end after start, buffers, duplicates. Unknown members are
// errors, so a misspelt one never silently widens or narrows an agreement.
// Every problem is reported, each an *AgreementError naming file,
// agreement and member; NewAgreementSet then checks against the layers.
func DecodeAgreements(file string, r io.Reader) ([]Agreement, error) {
	docErr := func(err error) error { return &AgreementError{File: file, Index: -1, Err: err} }
	var doc struct {
		Agreements *[]json.RawMessage `json:"agreements"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, docErr(syntaxError(err))
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
			errs = append(errs, &AgreementError{File: file, Index: i, ID: a.ID, Field: fe.field, Err: fe.err})
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
	a := Agreement{ID: aj.ID, Title: aj.Title, Source: aj.Source, Notes: aj.Notes,
		Collections: aj.Collections, Filters: aj.Filters, Sites: aj.Sites, BufferMeters: aj.BufferMeters}
	var bad []fieldError
	if aj.Start == "" {
		bad = append(bad, fieldError{"start", errors.New("required")})
	} else if t, err := parseTime(aj.Start); err != nil {
		bad = append(bad, fieldError{"start", err})
	} else {
		a.Start = t
	}
	if aj.End != nil {
		if t, err := parseTime(*aj.End); err != nil {
			bad = append(bad, fieldError{"end", err})
		} else {
			a.End = &t
		}
	}
	return a, bad
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "string":
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
		report := func(field string, err error) {
			errs = append(errs, &AgreementError{File: file, Index: i, ID: a.ID, Field: field, Err: err})
		}
		for _, fe := range a.check() {
			report(fe.field, fe.err)
		}
		if j, dup := first[a.ID]; dup && a.ID != "" {
			report("id", fmt.Errorf("duplicate: agreement %d has the same id", j))
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
	case !ValidLayerName(a.ID):
		fail("id", "%q must be letters, digits, '_', '-' and '.', starting with a letter or digit", a.ID)
	}
	if strings.TrimSpace(a.Title) == "" {
		fail("title", "required")
	}
	if strings.TrimSpace(a.Source) == "" {
		fail("source", "required: cite where the terms come from")
	}
	if a.Start.IsZero() {
		fail("start", "required")
	}
	if a.End != nil && !a.End.After(a.Start) {
		fail("end", "%s is not after start %s", a.End.Format(time.RFC3339), a.Start.Format(time.RFC3339))
	}
	if !(a.BufferMeters >= 0 && a.BufferMeters <= MaxRadiusMeters) {
		fail("buffer_m", "%v is outside [0, %d] metres", a.BufferMeters, MaxRadiusMeters)
	}
	if len(a.Collections) == 0 && len(a.Sites) == 0 {
		fail("", "covers nothing: give collections, sites or both")
	}
	for i, c := range a.Collections {
		if slices.Index(a.Collections, c) < i {
			fail(fmt.Sprintf("collections[%d]", i), "%q is listed twice", c)
		}
	}
	if len(a.Filters) > 0 && len(a.Collections) == 0 {
		fail("filters", "filters narrow collections, and there are none")
	}
	for i, f := range a.Filters {
		if f.Property == "" {
			fail(fmt.Sprintf("filters[%d].property", i), "required")
		}
		if len(f.In) == 0 {
			fail(fmt.Sprintf("filters[%d].in", i), "required: the values that pass")
		}
	}
	for i, s := range a.Sites {
		if s.Collection == "" {
			fail(fmt.Sprintf("sites[%d].collection", i), "required")
		}
		if s.ID == "" {
			fail(fmt.Sprintf("sites[%d].id", i), "required")
		}
	}
	return bad
}

// AgreementSet is a list of agreements checked against an index and ready
// to answer verdicts on it. Like the Index it is immutable: when the layers
// are reloaded, build a new set over the new index from Agreements.
type AgreementSet struct {
	ix    *Index
	list  []Agreement
	byID  map[string]int
	layer map[*Layer]int // position in ix.Layers()
	cover [][]siteSet    // cover[a][layer]: the sites agreement a covers
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
// DecodeAgreements checks: every collection and named site must exist, and
// filters must pass at least one site (a filter that passes none is almost
// always a misspelt value). Every problem is reported as an *AgreementError.
// The set lists the agreements by start, then id.
func NewAgreementSet(ix *Index, agreements []Agreement) (*AgreementSet, error) {
	return newAgreementSet(ix, "", agreements)
}

// LoadAgreements decodes an agreements document and checks it against ix;
// errors name file.
func LoadAgreements(ix *Index, file string, r io.Reader) (*AgreementSet, error) {
	as, err := DecodeAgreements(file, r)
	if err != nil {
		return nil, err
	}
	return newAgreementSet(ix, file, as)
}

func newAgreementSet(ix *Index, file string, agreements []Agreement) (*AgreementSet, error) {
	if err := checkAgreements(file, agreements); err != nil {
		return nil, err
	}
	s := &AgreementSet{ix: ix, layer: make(map[*Layer]int, len(ix.layers))}
	for i, l := range ix.layers {
		s.layer[l] = i
	}
	order := make([]int, len(agreements))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		if c := agreements[i].Start.Compare(agreements[j].Start); c != 0 {
			return c
		}
		return strings.Compare(agreements[i].ID, agreements[j].ID)
	})
	s.list = make([]Agreement, len(order))
	s.cover = make([][]siteSet, len(order))
	s.byID = make(map[string]int, len(order))
	var errs []*AgreementError
	for k, i := range order {
		a := &agreements[i]
		cov, bad := s.coverage(a)
		for _, fe := range bad {
			errs = append(errs, &AgreementError{File: file, Index: i, ID: a.ID, Field: fe.field, Err: fe.err})
		}
		s.list[k], s.cover[k], s.byID[a.ID] = *a, cov, k
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

// coverage resolves what a covers in the index, feature by feature, so that
// a verdict never has to look at properties again.
func (s *AgreementSet) coverage(a *Agreement) ([]siteSet, []fieldError) {
	cov := make([]siteSet, len(s.ix.layers))
	var bad []fieldError
	passed := 0
	for i, name := range a.Collections {
		l, ok := s.ix.byName[name]
		if !ok {
			bad = append(bad, fieldError{fmt.Sprintf("collections[%d]", i), s.unknownLayer(name)})
			continue
		}
		set := &cov[s.layer[l]]
		if len(a.Filters) == 0 {
			set.all = true
			passed += l.Len()
			continue
		}
		for k := range l.features {
			if a.passes(l.features[k].Properties) {
				set.add(k, l.Len())
				passed++
			}
		}
	}
	if len(bad) == 0 && len(a.Filters) > 0 && passed == 0 {
		bad = append(bad, fieldError{"filters", fmt.Errorf("no site of %s passes them", strings.Join(a.Collections, ", "))})
	}
	for i, ref := range a.Sites {
		l, ok := s.ix.byName[ref.Collection]
		if !ok {
			bad = append(bad, fieldError{fmt.Sprintf("sites[%d].collection", i), s.unknownLayer(ref.Collection)})
			continue
		}
		_, k, ok := l.Lookup(ref.ID)
		if !ok {
			bad = append(bad, fieldError{fmt.Sprintf("sites[%d].id", i), fmt.Errorf("no site %q in collection %q", ref.ID, ref.Collection)})
			continue
		}
		if set := &cov[s.layer[l]]; !set.all {
			set.add(k, l.Len())
		}
	}
	return cov, bad
}

func (s *AgreementSet) unknownLayer(name string) error {
	names := make([]string, len(s.ix.layers))
	for i, l := range s.ix.layers {
		names[i] = l.name
	}
	return fmt.Errorf("%w %q (the collections are %s)", ErrUnknownLayer, name, strings.Join(names, ", "))
}

// Agreements returns the agreements by start, then id. The slice must not be modified.
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
func (s *AgreementSet) Index() *Index { return s.ix }

// maxBuffer is the largest buffer among the agreements at positions in.
func (s *AgreementSet) maxBuffer(in []int) float64 {
	m := 0.0
	for _, i := range in {
		m = math.Max(m, s.list[i].BufferMeters)
	}
	return m
}
