package server

import (
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/cql2"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// Filter languages of the filter-lang parameter. cql-text is the name
// drafts of Features Part 3 gave cql2-text; GDAL before 3.7 sends filters
// under it, and only to servers whose API lists it.
const (
	langText    = "cql2-text"
	langJSON    = "cql2-json"
	langOldText = "cql-text"
)

// filterLangs are the filter-lang values accepted.
var filterLangs = []string{langText, langJSON, langOldText}

// cqlFilter is an items request's CQL2 filter and what evaluating it needs.
type cqlFilter struct {
	// expr is the filter; eval is what of it remains for each candidate
	// when the R-tree's search of box already applies the rest exactly.
	expr, eval cql2.Expr
	// near holds, for each DWITHIN of the filter, the features within its
	// distance, found by the index's exact proximity search.
	near map[cql2.DWithin]map[int32]struct{}
	// box, when set, is a box every match meets: the R-tree's to search.
	box    geo.BBox
	hasBox bool
	// split is true when eval leaves the box to the search.
	split bool
	// probe is the feature being evaluated, kept here so evaluating
	// allocates nothing.
	probe filterFeature
	// eachNear, when set, lists the only candidates: a DWITHIN every match
	// must satisfy.
	eachNear map[int32]struct{}
	// readsKind is whether eval reads a candidate's kind.
	readsKind bool
}

// parseFilter reads the filter in its language, its geometries in in (nil:
// longitude/latitude), and checks that every property it names is one the
// collection's features carry: one known accepts.
func parseFilter(text, lang string, in cql2.Coordinates, known func(name string) bool) (*cqlFilter, error) {
	var e cql2.Expr
	var err error
	switch lang {
	case "", langText, langOldText:
		e, err = cql2.ParseTextIn(text, in)
	case langJSON:
		e, err = cql2.ParseJSONIn([]byte(text), in)
	default:
		return nil, paramError("filter-lang", "%q is not offered; use %s or %s", lang, langText, langJSON)
	}
	if err != nil {
		if lang == "" {
			lang = langText
		}
		return nil, paramError("filter", "%s: %v", lang, err)
	}
	for _, name := range cql2.Properties(e) {
		if !known(name) {
			return nil, paramError("filter", "%q is not a property of this collection; its queryables and schema list them", name)
		}
	}
	return newCQLFilter(e), nil
}

// newCQLFilter prepares e for evaluation, with the box the R-tree can
// search for it.
func newCQLFilter(e cql2.Expr) *cqlFilter {
	f := &cqlFilter{expr: e, eval: e}
	b, ok := cql2.Bound(e)
	if box, rest, split := cql2.SplitBox(e); split {
		b, ok, f.eval, f.split = box, true, rest, true
	}
	if ok {
		f.box, f.hasBox = geo.BBox{MinLon: b.Min[0], MinLat: b.Min[1], MaxLon: b.Max[0], MaxLat: b.Max[1]}, true
	}
	f.readsKind = slices.Contains(cql2.Properties(f.eval), "kind")
	return f
}

// prepare finds the features near each DWITHIN's point in the index.
func (f *cqlFilter) prepare(ix *geo.Index, l *geo.Layer) error {
	var err error
	cql2.Walk(f.expr, func(e cql2.Expr) {
		d, ok := e.(cql2.DWithin)
		if !ok || err != nil || f.near[d] != nil {
			return
		}
		if d.Meters > geo.MaxRadiusMeters {
			err = paramError("filter", "DWITHIN distance %v m is above the maximum of %d", d.Meters, geo.MaxRadiusMeters)
			return
		}
		set := map[int32]struct{}{}
		if l.Len() > 0 {
			hits, nerr := ix.Nearby(d.Point, d.Meters, l.Len(), l.Name())
			if nerr != nil {
				err = paramError("filter", "DWITHIN: %v", userMessage(nerr))
				return
			}
			for _, h := range hits {
				set[int32(h.Index)] = struct{}{}
			}
		}
		if f.near == nil {
			f.near = map[cql2.DWithin]map[int32]struct{}{}
		}
		f.near[d] = set
	})
	if err != nil {
		return err
	}
	// A DWITHIN that every match satisfies bounds the candidates.
	conjuncts := []cql2.Expr{f.expr}
	if and, ok := f.expr.(cql2.And); ok {
		conjuncts = and.Args
	}
	for _, c := range conjuncts {
		if d, ok := c.(cql2.DWithin); ok && (f.eachNear == nil || len(f.near[d]) < len(f.eachNear)) {
			f.eachNear = f.near[d]
		}
	}
	return nil
}

// candidates visits, in any order, every feature of l that may match,
// the R-tree or the proximity search narrowing them first.
func (f *cqlFilter) candidates(l *geo.Layer, visit func(i int) bool) {
	switch {
	case f.eachNear != nil && !f.split:
		for i := range f.eachNear {
			if !visit(int(i)) {
				return
			}
		}
	case f.hasBox:
		l.Search(f.box, visit)
	default:
		for i := range l.Len() {
			if !visit(i) {
				return
			}
		}
	}
}

// matches evaluates the filter on feature i.
func (f *cqlFilter) matches(l *geo.Layer, i int) bool {
	f.probe = filterFeature{l: l, f: l.Feature(i), i: int32(i), near: f.near}
	return cql2.Matches(f.eval, &f.probe)
}

// filterFeature is a feature as the evaluator reads it.
type filterFeature struct {
	l    *geo.Layer
	f    *geo.Feature // not read unless needed: a cache miss on a large layer
	i    int32
	near map[cql2.DWithin]map[int32]struct{}
}

// Property reads name and kind from the feature when they are strings: the
// loader took them from the properties as propertyOf would, a feature
// naming a property twice being refused, and scanning each candidate's JSON
// for them is most of a filtered page's time.
func (x *filterFeature) Property(name string) cql2.Value {
	switch name {
	case "kind":
		if k := x.l.KindOf(int(x.i)); k != "" {
			return cql2.Value{Kind: cql2.String, Str: k}
		}
	case "name":
		if x.f.Name != "" {
			return cql2.Value{Kind: cql2.String, Str: x.f.Name}
		}
	}
	return propertyOf(x.f.Properties, name)
}

// propertyOf is the value of property name in props; null when absent.
func propertyOf(props []byte, name string) cql2.Value {
	var v cql2.Value
	jsonscan.EachMember(props, func(key, raw []byte) bool {
		if string(key) != name {
			return true
		}
		v = scalarValue(raw)
		return false
	})
	return v
}

// scalarValue reads a JSON scalar; objects and arrays read as null.
func scalarValue(raw []byte) cql2.Value {
	if len(raw) == 0 {
		return cql2.Value{}
	}
	switch raw[0] {
	case '"':
		if s, ok := jsonscan.String(raw); ok {
			return cql2.Value{Kind: cql2.String, Str: s}
		}
	case 't', 'f':
		return cql2.Value{Kind: cql2.Bool, Bool: raw[0] == 't'}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if n, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return cql2.Value{Kind: cql2.Number, Num: n}
		}
	}
	return cql2.Value{}
}

func (x *filterFeature) Geometry() orb.Geometry { return x.f.Geometry }

func (x *filterFeature) WithinMeters(p orb.Point, meters float64) bool {
	_, ok := x.near[cql2.DWithin{Point: p, Meters: meters}][x.i]
	return ok
}
