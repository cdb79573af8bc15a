// Package cql2 reads OGC Common Query Language (CQL2) filters, as text
// (cql2-text) or JSON (cql2-json), and evaluates them against features.
//
// It implements the conformance classes Basic CQL2, Advanced Comparison
// Operators (LIKE, BETWEEN, IN), Case-insensitive Comparison (CASEI), Basic
// Spatial Functions with any geometry literal (S_INTERSECTS) and Spatial
// Functions (S_DISJOINT, S_WITHIN, S_CONTAINS, and S_EQUALS, S_TOUCHES,
// S_OVERLAPS, S_CROSSES on the DE-9IM of Simple Features), plus DWITHIN, a
// distance in geodesic metres as pg_featureserv offers it. Spatial tests
// are exact on the real geometry, in longitude/latitude (CRS84), edges
// and boundaries included. The DE-9IM relations hold between geometries
// of one dimension each: a collection mixing points, lines and polygons
// equals, touches, overlaps and crosses nothing. Times compare as instants: TIMESTAMP('...')
// and DATE('...') literals against RFC 3339 strings.
//
// The package knows nothing of HTTP; a *SyntaxError says where a filter
// stops making sense and what was expected there.
package cql2

import (
	"github.com/paulmach/orb"
)

// Expr is a parsed filter: a boolean expression.
type Expr interface{ node() }

// Kinds of scalar operands and values.
type Kind uint8

const (
	Null Kind = iota
	Bool
	Number
	String
	Time // an instant, or a date as its whole day
)

// Value is a scalar: a literal, or a feature's property.
type Value struct {
	Kind Kind
	Bool bool
	Num  float64
	Str  string
	// Start and End bound a Time in Unix nanoseconds, both included; equal
	// for an instant.
	Start, End int64
}

// Operand is a scalar expression: a literal, a property or CASEI of one.
type Operand struct {
	// Property names a feature property; empty for a literal.
	Property string
	Literal  Value
	// CaseI lowercases the operand (CASEI).
	CaseI bool
}

// Comparison is a binary comparison: = <> < <= > >=.
type Comparison struct {
	Op          string
	Left, Right Operand
}

// Like is "a LIKE pattern": % any run of characters, _ one character,
// \ escapes the next.
type Like struct {
	Not     bool
	Subject Operand
	Pattern Operand
}

// Between is "a BETWEEN lo AND hi", both ends included.
type Between struct {
	Not       bool
	Subject   Operand
	Low, High Operand
}

// In is "a IN (v, ...)".
type In struct {
	Not     bool
	Subject Operand
	List    []Operand
}

// IsNull is "a IS NULL": the property is absent or null.
type IsNull struct {
	Not     bool
	Subject Operand
}

// And, Or and Not combine expressions.
type (
	And struct{ Args []Expr }
	Or  struct{ Args []Expr }
	Not struct{ Arg Expr }
)

// BoolLiteral is TRUE or FALSE.
type BoolLiteral bool

// Spatial relations of S_ functions.
const (
	Intersects = "s_intersects"
	Disjoint   = "s_disjoint"
	Within     = "s_within"
	Contains   = "s_contains"
	Equals     = "s_equals"
	Touches    = "s_touches"
	Overlaps   = "s_overlaps"
	Crosses    = "s_crosses"
)

// Spatial is a spatial function of the feature's geometry and a literal,
// in that order: "S_WITHIN(geometry, POLYGON(...))". A literal given
// first is swapped, and the relation with it (S_WITHIN becomes S_CONTAINS).
type Spatial struct {
	Op string
	// Geometry is the literal, in longitude/latitude degrees; a BBOX that
	// crosses the antimeridian is two polygons.
	Geometry orb.Geometry
}

// DWithin holds features whose geometry comes within Meters of Point,
// measured geodesically on WGS84.
type DWithin struct {
	Point  orb.Point
	Meters float64
}

func (Comparison) node()  {}
func (Like) node()        {}
func (Between) node()     {}
func (In) node()          {}
func (IsNull) node()      {}
func (And) node()         {}
func (Or) node()          {}
func (Not) node()         {}
func (BoolLiteral) node() {}
func (Spatial) node()     {}
func (DWithin) node()     {}
