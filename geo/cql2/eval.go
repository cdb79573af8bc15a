package cql2

import (
	"slices"
	"strings"

	"github.com/paulmach/orb"
)

// Feature is what a filter is evaluated against.
type Feature interface {
	// Property is the named property; Kind Null when absent or null.
	Property(name string) Value
	// Geometry is the feature's geometry in longitude/latitude degrees.
	Geometry() orb.Geometry
	// WithinMeters reports whether the geometry comes within meters of p,
	// measured geodesically.
	WithinMeters(p orb.Point, meters float64) bool
}

// truth is a three-valued logic value: a comparison with a null or with a
// value of another type is unknown, and only true selects a feature.
type truth int8

const (
	unknown truth = iota
	no
	yes
)

func truthOf(b bool) truth {
	if b {
		return yes
	}
	return no
}

func (t truth) not() truth {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// Matches reports whether f satisfies e.
func Matches(e Expr, f Feature) bool { return eval(e, f) == yes }

func eval(e Expr, f Feature) truth {
	switch e := e.(type) {
	case And:
		t := yes
		for _, a := range e.Args {
			switch eval(a, f) {
			case no:
				return no
			case unknown:
				t = unknown
			}
		}
		return t
	case Or:
		t := no
		for _, a := range e.Args {
			switch eval(a, f) {
			case yes:
				return yes
			case unknown:
				t = unknown
			}
		}
		return t
	case Not:
		return eval(e.Arg, f).not()
	case BoolLiteral:
		return truthOf(bool(e))
	case Comparison:
		c, ok := compare(resolve(e.Left, f), resolve(e.Right, f))
		if !ok {
			return unknown
		}
		if c == incomparable {
			// Booleans, and strings against times, only equal or not.
			switch e.Op {
			case "=":
				return no
			case "<>":
				return yes
			}
			return unknown
		}
		switch e.Op {
		case "=":
			return truthOf(c == 0)
		case "<>":
			return truthOf(c != 0)
		case "<":
			return truthOf(c < 0)
		case "<=":
			return truthOf(c <= 0)
		case ">":
			return truthOf(c > 0)
		}
		return truthOf(c >= 0)
	case Like:
		s, p := resolve(e.Subject, f), resolve(e.Pattern, f)
		if s.Kind != String || p.Kind != String {
			return unknown
		}
		return flip(truthOf(like(s.Str, p.Str)), e.Not)
	case Between:
		v := resolve(e.Subject, f)
		lo, ok1 := compare(v, resolve(e.Low, f))
		hi, ok2 := compare(v, resolve(e.High, f))
		if !ok1 || !ok2 || lo == incomparable || hi == incomparable {
			return unknown
		}
		return flip(truthOf(lo >= 0 && hi <= 0), e.Not)
	case In:
		v := resolve(e.Subject, f)
		t := no
		for _, o := range e.List {
			c, ok := compare(v, resolve(o, f))
			switch {
			case !ok:
				t = unknown
			case c == 0:
				return flip(yes, e.Not)
			}
		}
		return flip(t, e.Not)
	case IsNull:
		return flip(truthOf(resolve(e.Subject, f).Kind == Null), e.Not)
	case Spatial:
		g := f.Geometry()
		if g == nil {
			return unknown
		}
		switch e.Op {
		case Intersects:
			return truthOf(Intersect(g, e.Geometry))
		case Disjoint:
			return truthOf(!Intersect(g, e.Geometry))
		case Within:
			return truthOf(WithinGeometry(g, e.Geometry))
		case Equals:
			return truthOf(Equal(g, e.Geometry))
		case Touches:
			return truthOf(Touch(g, e.Geometry))
		case Overlaps:
			return truthOf(Overlap(g, e.Geometry))
		case Crosses:
			return truthOf(Cross(g, e.Geometry))
		}
		return truthOf(WithinGeometry(e.Geometry, g))
	case Temporal:
		return evalTemporal(e, f)
	case DWithin:
		if f.Geometry() == nil {
			return unknown
		}
		return truthOf(f.WithinMeters(e.Point, e.Meters))
	}
	return unknown
}

func flip(t truth, not bool) truth {
	if not {
		return t.not()
	}
	return t
}

func resolve(o Operand, f Feature) Value {
	v := o.Literal
	if o.Property != "" {
		v = f.Property(o.Property)
	}
	if o.CaseI && v.Kind == String {
		v.Str = strings.ToLower(v.Str)
	}
	return v
}

// incomparable marks values of one type that only equal or differ.
const incomparable = 2

// compare orders a and b: -1, 0, 1, or incomparable for two different
// booleans; ok is false when either is null or their types differ. A
// string compares with a time as the time it reads as.
func compare(a, b Value) (c int, ok bool) {
	if a.Kind == Time && b.Kind == String {
		b, ok = readTime(b.Str)
	} else if a.Kind == String && b.Kind == Time {
		a, ok = readTime(a.Str)
	} else {
		ok = a.Kind == b.Kind && a.Kind != Null
	}
	if !ok {
		return 0, false
	}
	switch a.Kind {
	case Bool:
		if a.Bool == b.Bool {
			return 0, true
		}
		return incomparable, true
	case Number:
		return cmp3(a.Num < b.Num, a.Num > b.Num), true
	case String:
		return strings.Compare(a.Str, b.Str), true
	}
	// Times: equal when they span the same instants, else ordered when
	// one ends before the other starts.
	switch {
	case a.Start == b.Start && a.End == b.End:
		return 0, true
	case a.End < b.Start:
		return -1, true
	case b.End < a.Start:
		return 1, true
	}
	return incomparable, true
}

func cmp3(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}

// readTime reads a property's RFC 3339 date-time or date.
func readTime(s string) (Value, bool) {
	v, err := readInstant(s)
	return v, err == nil
}

// like matches s against a LIKE pattern, rune by rune.
func like(s, pattern string) bool {
	sr, pr := []rune(s), []rune(pattern)
	// Backtracking over the last % keeps this linear in practice and
	// O(len(s)·len(pattern)) at worst.
	si, pi, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		if pi < len(pr) {
			switch c := pr[pi]; {
			case c == '%':
				star, mark = pi, si
				pi++
				continue
			case c == '\\' && pi+1 < len(pr):
				if pr[pi+1] == sr[si] {
					si, pi = si+1, pi+2
					continue
				}
			case c == '_' || c == sr[si]:
				si, pi = si+1, pi+1
				continue
			}
		}
		if star < 0 {
			return false
		}
		mark++
		si, pi = mark, star+1
	}
	for pi < len(pr) && pr[pi] == '%' {
		pi++
	}
	return pi == len(pr)
}

// Bound is a box every feature e selects has its geometry's bounding box
// meet, so an index can find the candidates; false when e bounds nothing.
func Bound(e Expr) (orb.Bound, bool) {
	switch e := e.(type) {
	case Spatial:
		if e.Op != Disjoint {
			return e.Geometry.Bound(), true
		}
	case And:
		var best orb.Bound
		found := false
		for _, a := range e.Args {
			if b, ok := Bound(a); ok && (!found || area(b) < area(best)) {
				best, found = b, true
			}
		}
		return best, found
	}
	return orb.Bound{}, false
}

func area(b orb.Bound) float64 { return (b.Max[0] - b.Min[0]) * (b.Max[1] - b.Min[1]) }

// Walk calls fn on e and every expression within it.
func Walk(e Expr, fn func(Expr)) {
	fn(e)
	switch e := e.(type) {
	case And:
		for _, a := range e.Args {
			Walk(a, fn)
		}
	case Or:
		for _, a := range e.Args {
			Walk(a, fn)
		}
	case Not:
		Walk(e.Arg, fn)
	}
}

// Properties lists the properties e reads.
func Properties(e Expr) []string {
	var names []string
	add := func(o Operand) {
		if o.Property != "" {
			names = append(names, o.Property)
		}
	}
	Walk(e, func(e Expr) {
		switch e := e.(type) {
		case Comparison:
			add(e.Left)
			add(e.Right)
		case Like:
			add(e.Subject)
			add(e.Pattern)
		case Between:
			add(e.Subject)
			add(e.Low)
			add(e.High)
		case In:
			add(e.Subject)
			for _, o := range e.List {
				add(o)
			}
		case IsNull:
			add(e.Subject)
		case Temporal:
			for _, p := range [...]Period{e.Left, e.Right} {
				add(p.Start)
				add(p.End)
			}
		}
	})
	return names
}

// SplitBox finds, among the conjuncts of e, an S_INTERSECTS with a box (a
// BBOX, or a polygon that is an axis-aligned rectangle) and returns the
// box and what remains of e without it: an index that tests each
// feature's real geometry against a box then does that conjunct's work
// exactly, and only rest needs evaluating. rest is TRUE when nothing
// remains.
func SplitBox(e Expr) (box orb.Bound, rest Expr, ok bool) {
	conjuncts := []Expr{e}
	if and, isAnd := e.(And); isAnd {
		conjuncts = and.Args
	}
	for i, c := range conjuncts {
		s, isSpatial := c.(Spatial)
		if !isSpatial || s.Op != Intersects {
			continue
		}
		b, isBox := rectangle(s.Geometry)
		if !isBox {
			continue
		}
		others := append(slices.Clone(conjuncts[:i]), conjuncts[i+1:]...)
		switch len(others) {
		case 0:
			return b, BoolLiteral(true), true
		case 1:
			return b, others[0], true
		}
		return b, And{Args: others}, true
	}
	return orb.Bound{}, e, false
}

// rectangle reports whether g is an axis-aligned rectangle, and which.
func rectangle(g orb.Geometry) (orb.Bound, bool) {
	p, ok := g.(orb.Polygon)
	if !ok || len(p) != 1 || len(p[0]) != 5 || p[0][0] != p[0][4] {
		return orb.Bound{}, false
	}
	b := p.Bound()
	for i := range 4 {
		a, c := p[0][i], p[0][i+1]
		corner := (a[0] == b.Min[0] || a[0] == b.Max[0]) && (a[1] == b.Min[1] || a[1] == b.Max[1])
		if !corner || a[0] != c[0] && a[1] != c[1] {
			return orb.Bound{}, false
		}
	}
	return b, b.Min[0] < b.Max[0] && b.Min[1] < b.Max[1]
}
