package cql2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// SyntaxError is a filter that does not parse: where, in bytes from 1,
// what was expected there and what was found instead.
type SyntaxError struct {
	Pos      int
	Expected string
	Found    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("at position %d: expected %s, found %s", e.Pos, e.Expected, e.Found)
}

// MaxDepth bounds the nesting of parentheses and NOTs, so a hostile
// filter cannot exhaust the stack.
const MaxDepth = 100

// MaxLength bounds a filter's text, in bytes.
const MaxLength = 64 << 10

// GeometryProperty is the name filters give the feature's geometry.
const GeometryProperty = "geometry"

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQuoted // a "double-quoted" identifier
	tString
	tNumber
	tOp // = <> < <= > >=
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset
}

// describe names a token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the filter"
	case tString:
		return "'" + t.text + "'"
	case tQuoted:
		return `"` + t.text + `"`
	}
	return strconvQuote(t.text)
}

func strconvQuote(s string) string { return "\u201c" + s + "\u201d" }

type textParser struct {
	src   string
	pos   int
	tok   token // the current token
	depth int
	in    Coordinates
}

// ParseText reads a cql2-text filter whose geometries are in
// longitude/latitude (CRS84).
func ParseText(src string) (Expr, error) { return ParseTextIn(src, nil) }

// ParseTextIn reads a cql2-text filter whose geometries are in the
// coordinates in converts; nil for longitude/latitude.
func ParseTextIn(src string, in Coordinates) (Expr, error) {
	if len(src) > MaxLength {
		return nil, &SyntaxError{Pos: MaxLength + 1, Expected: fmt.Sprintf("at most %d bytes", MaxLength), Found: fmt.Sprintf("%d bytes", len(src))}
	}
	if !utf8.ValidString(src) {
		return nil, &SyntaxError{Pos: 1, Expected: "UTF-8 text", Found: "invalid UTF-8"}
	}
	p := &textParser{src: src, in: in}
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.expected("AND, OR or the end of the filter")
	}
	return e, nil
}

func (p *textParser) expected(what string) error {
	return &SyntaxError{Pos: p.tok.pos + 1, Expected: what, Found: p.tok.describe()}
}

// advance reads the next token.
func (p *textParser) advance() error {
	s := p.src
	for p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '\n' || s[p.pos] == '\r') {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(s) {
		p.tok = token{kind: tEOF, pos: start}
		return nil
	}
	c := s[p.pos]
	switch {
	case c == '(':
		p.pos++
		p.tok = token{tLParen, "(", start}
	case c == ')':
		p.pos++
		p.tok = token{tRParen, ")", start}
	case c == ',':
		p.pos++
		p.tok = token{tComma, ",", start}
	case c == '=':
		p.pos++
		p.tok = token{tOp, "=", start}
	case c == '<' || c == '>':
		p.pos++
		if p.pos < len(s) && (s[p.pos] == '=' || c == '<' && s[p.pos] == '>') {
			p.pos++
		}
		p.tok = token{tOp, s[start:p.pos], start}
	case c == '\'':
		var b strings.Builder
		for p.pos++; ; p.pos++ {
			if p.pos >= len(s) {
				return &SyntaxError{Pos: len(s) + 1, Expected: "' closing the string begun at position " + strconv.Itoa(start+1), Found: "the end of the filter"}
			}
			if s[p.pos] == '\'' {
				if p.pos+1 < len(s) && s[p.pos+1] == '\'' {
					b.WriteByte('\'')
					p.pos++
					continue
				}
				p.pos++
				break
			}
			b.WriteByte(s[p.pos])
		}
		p.tok = token{tString, b.String(), start}
	case c == '"':
		end := strings.IndexByte(s[p.pos+1:], '"')
		if end < 0 {
			return &SyntaxError{Pos: len(s) + 1, Expected: "\" closing the identifier begun at position " + strconv.Itoa(start+1), Found: "the end of the filter"}
		}
		p.pos += end + 2
		p.tok = token{tQuoted, s[start+1 : p.pos-1], start}
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		p.pos++
		for p.pos < len(s) && (s[p.pos] >= '0' && s[p.pos] <= '9' || s[p.pos] == '.' || s[p.pos] == 'e' || s[p.pos] == 'E' ||
			(s[p.pos] == '-' || s[p.pos] == '+') && (s[p.pos-1] == 'e' || s[p.pos-1] == 'E')) {
			p.pos++
		}
		p.tok = token{tNumber, s[start:p.pos], start}
	default:
		r, size := utf8.DecodeRuneInString(s[p.pos:])
		if !unicode.IsLetter(r) && r != '_' {
			return &SyntaxError{Pos: start + 1, Expected: "a property, a literal, a function or (", Found: strconvQuote(string(r))}
		}
		p.pos += size
		for p.pos < len(s) {
			r, size := utf8.DecodeRuneInString(s[p.pos:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != ':' && r != '.' {
				break
			}
			p.pos += size
		}
		p.tok = token{tIdent, s[start:p.pos], start}
	}
	return nil
}

// keyword reports whether the current token is the keyword kw.
func (p *textParser) keyword(kw string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *textParser) expect(kind tokKind, what string) error {
	if p.tok.kind != kind {
		return p.expected(what)
	}
	return p.advance()
}

func (p *textParser) expectKeyword(kw string) error {
	if !p.keyword(kw) {
		return p.expected(kw)
	}
	return p.advance()
}

func (p *textParser) nest() error {
	p.depth++
	if p.depth > MaxDepth {
		return &SyntaxError{Pos: p.tok.pos + 1, Expected: fmt.Sprintf("at most %d levels of nesting", MaxDepth), Found: "more"}
	}
	return nil
}

func (p *textParser) orExpr() (Expr, error) {
	args, err := p.joined("OR", p.andExpr)
	if err != nil || len(args) == 1 {
		return args[0], err
	}
	return Or{Args: args}, nil
}

func (p *textParser) andExpr() (Expr, error) {
	args, err := p.joined("AND", p.notExpr)
	if err != nil || len(args) == 1 {
		return args[0], err
	}
	return And{Args: args}, nil
}

// joined reads terms separated by the keyword kw.
func (p *textParser) joined(kw string, term func() (Expr, error)) ([]Expr, error) {
	var args []Expr
	for {
		e, err := term()
		if err != nil {
			return []Expr{nil}, err
		}
		args = append(args, e)
		if !p.keyword(kw) {
			return args, nil
		}
		if err := p.advance(); err != nil {
			return []Expr{nil}, err
		}
	}
}

func (p *textParser) notExpr() (Expr, error) {
	if !p.keyword("NOT") {
		return p.primary()
	}
	if err := p.nest(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	return Not{Arg: e}, nil
}

func (p *textParser) primary() (Expr, error) {
	if p.tok.kind == tLParen {
		if err := p.nest(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		e, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		return e, p.expect(tRParen, "AND, OR or )")
	}
	if p.tok.kind == tIdent {
		switch strings.ToLower(p.tok.text) {
		case Intersects, Disjoint, Within, Contains, Equals, Touches, Overlaps, Crosses:
			return p.spatial()
		case "dwithin":
			return p.dwithin()
		case TAfter, TBefore, TContains, TDisjoint, TDuring, TEquals, TFinishedBy, TFinishes, TIntersects,
			TMeets, TMetBy, TOverlappedBy, TOverlaps, TStartedBy, TStarts:
			return p.temporal()
		case "true", "false":
			v := p.keyword("true")
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tOp {
				return BoolLiteral(v), nil
			}
			return p.predicate(Operand{Literal: Value{Kind: Bool, Bool: v}})
		}
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	return p.predicate(left)
}

// predicate reads what follows a predicate's first operand.
func (p *textParser) predicate(left Operand) (Expr, error) {
	if p.tok.kind == tOp {
		op := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.operand()
		if err != nil {
			return nil, err
		}
		return Comparison{Op: op, Left: left, Right: right}, nil
	}
	if p.keyword("IS") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		not := p.keyword("NOT")
		if not {
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		return IsNull{Not: not, Subject: left}, p.expectKeyword("NULL")
	}
	not := p.keyword("NOT")
	if not {
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	switch {
	case p.keyword("LIKE"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		pattern, err := p.operand()
		if err != nil {
			return nil, err
		}
		return Like{Not: not, Subject: left, Pattern: pattern}, nil
	case p.keyword("BETWEEN"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.expectKeyword("AND"); err != nil {
			return nil, err
		}
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return Between{Not: not, Subject: left, Low: lo, High: hi}, nil
	case p.keyword("IN"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expect(tLParen, "( opening the IN list"); err != nil {
			return nil, err
		}
		var list []Operand
		for {
			v, err := p.operand()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			if p.tok.kind != tComma {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		return In{Not: not, Subject: left, List: list}, p.expect(tRParen, ", or ) closing the IN list")
	}
	if not {
		return nil, p.expected("LIKE, BETWEEN or IN after NOT")
	}
	return nil, p.expected("a comparison operator (= <> < <= > >=), LIKE, BETWEEN, IN or IS")
}

// operand reads a scalar: a literal, a property, CASEI(...),
// TIMESTAMP('...') or DATE('...').
func (p *textParser) operand() (Operand, error) {
	t := p.tok
	switch t.kind {
	case tString:
		return Operand{Literal: Value{Kind: String, Str: t.text}}, p.advance()
	case tNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(n, 0) {
			return Operand{}, p.expected("a finite number")
		}
		return Operand{Literal: Value{Kind: Number, Num: n}}, p.advance()
	case tQuoted:
		if t.text == "" {
			return Operand{}, p.expected("a property name")
		}
		return Operand{Property: t.text}, p.advance()
	case tIdent:
	default:
		return Operand{}, p.expected("a property, a literal or a function")
	}
	if err := p.advance(); err != nil {
		return Operand{}, err
	}
	if p.tok.kind != tLParen {
		switch strings.ToLower(t.text) {
		case "true", "false":
			return Operand{Literal: Value{Kind: Bool, Bool: strings.EqualFold(t.text, "true")}}, nil
		case "and", "or", "not", "like", "between", "in", "is", "null":
			return Operand{}, &SyntaxError{Pos: t.pos + 1, Expected: "a property, a literal or a function", Found: "the keyword " + strings.ToUpper(t.text)}
		}
		return Operand{Property: t.text}, nil
	}
	if err := p.nest(); err != nil {
		return Operand{}, err
	}
	defer func() { p.depth-- }()
	if err := p.advance(); err != nil {
		return Operand{}, err
	}
	var o Operand
	switch strings.ToLower(t.text) {
	case "casei":
		inner, err := p.operand()
		if err != nil {
			return Operand{}, err
		}
		inner.CaseI = true
		o = inner
	case "timestamp", "date":
		s := p.tok
		if s.kind != tString {
			return Operand{}, p.expected("a quoted " + strings.ToLower(t.text))
		}
		v, err := timeValue(strings.ToLower(t.text), s.text)
		if err != nil {
			return Operand{}, &SyntaxError{Pos: s.pos + 1, Expected: "an RFC 3339 " + strings.ToLower(t.text), Found: s.describe()}
		}
		if err := p.advance(); err != nil {
			return Operand{}, err
		}
		o = Operand{Literal: v}
	default:
		return Operand{}, &SyntaxError{Pos: t.pos + 1, Expected: "CASEI, TIMESTAMP or DATE (the scalar functions offered)", Found: strconvQuote(t.text) + "("}
	}
	return o, p.expect(tRParen, ")")
}

// readInstant reads an RFC 3339 date-time, or a date as its whole day.
func readInstant(s string) (Value, error) {
	if len(s) == len(time.DateOnly) {
		return timeValue("date", s)
	}
	return timeValue("timestamp", s)
}

// timeValue reads a TIMESTAMP or DATE literal.
func timeValue(kind, s string) (Value, error) {
	if kind == "date" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: Time, Start: d.UnixNano(), End: d.AddDate(0, 0, 1).UnixNano() - 1}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Value{}, err
	}
	return Value{Kind: Time, Start: t.UnixNano(), End: t.UnixNano()}, nil
}

// spatial reads S_xxx(a, b), one of them the geometry property.
func (p *textParser) spatial() (Expr, error) {
	op := strings.ToLower(p.tok.text)
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.expect(tLParen, "("); err != nil {
		return nil, err
	}
	first, firstIsProp, err := p.geomArg()
	if err != nil {
		return nil, err
	}
	if err := p.expect(tComma, ","); err != nil {
		return nil, err
	}
	secondPos := p.tok.pos
	second, secondIsProp, err := p.geomArg()
	if err != nil {
		return nil, err
	}
	if err := p.expect(tRParen, ")"); err != nil {
		return nil, err
	}
	switch {
	case firstIsProp && !secondIsProp:
		return Spatial{Op: op, Geometry: second}, nil
	case secondIsProp && !firstIsProp:
		return Spatial{Op: converse(op), Geometry: first}, nil
	}
	return nil, &SyntaxError{Pos: secondPos + 1, Expected: "one argument the geometry property and the other a geometry literal", Found: "two of a kind"}
}

// temporal reads T_xxx(a, b).
func (p *textParser) temporal() (Expr, error) {
	op := strings.ToLower(p.tok.text)
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.expect(tLParen, "("); err != nil {
		return nil, err
	}
	left, err := p.period()
	if err != nil {
		return nil, err
	}
	if err := p.expect(tComma, ","); err != nil {
		return nil, err
	}
	right, err := p.period()
	if err != nil {
		return nil, err
	}
	return Temporal{Op: op, Left: left, Right: right}, p.expect(tRParen, ")")
}

// period reads a temporal function's argument: INTERVAL(start, end), or
// an instant (a property, TIMESTAMP(...) or DATE(...)).
func (p *textParser) period() (Period, error) {
	if p.tok.kind != tIdent || !strings.EqualFold(p.tok.text, "interval") {
		o, err := p.instant()
		return Period{Start: o}, err
	}
	if err := p.advance(); err != nil {
		return Period{}, err
	}
	if err := p.expect(tLParen, "( opening the INTERVAL"); err != nil {
		return Period{}, err
	}
	per := Period{Interval: true}
	var err error
	if per.Start, per.OpenStart, err = p.intervalEnd(); err != nil {
		return Period{}, err
	}
	if err := p.expect(tComma, ","); err != nil {
		return Period{}, err
	}
	if per.End, per.OpenEnd, err = p.intervalEnd(); err != nil {
		return Period{}, err
	}
	return per, p.expect(tRParen, ") closing the INTERVAL")
}

// intervalEnd reads one end of an INTERVAL: '..' (open), a quoted date or
// date-time, or an instant.
func (p *textParser) intervalEnd() (o Operand, open bool, err error) {
	if t := p.tok; t.kind == tString {
		if t.text == ".." {
			return Operand{}, true, p.advance()
		}
		v, err := readInstant(t.text)
		if err != nil {
			return Operand{}, false, &SyntaxError{Pos: t.pos + 1, Expected: "'..' or an RFC 3339 date or date-time", Found: t.describe()}
		}
		return Operand{Literal: v}, false, p.advance()
	}
	o, err = p.instant()
	return o, false, err
}

// instant reads an operand that must be a property or a time literal.
func (p *textParser) instant() (Operand, error) {
	t := p.tok
	o, err := p.operand()
	if err != nil {
		return Operand{}, err
	}
	if o.Property == "" && o.Literal.Kind != Time {
		return Operand{}, &SyntaxError{Pos: t.pos + 1, Expected: "a property, TIMESTAMP(...), DATE(...) or INTERVAL(...)", Found: t.describe()}
	}
	return o, nil
}

// converse is the relation with its arguments swapped.
func converse(op string) string {
	switch op {
	case Within:
		return Contains
	case Contains:
		return Within
	}
	return op
}

// dwithin reads DWITHIN(geometry, POINT(lon lat), meters).
func (p *textParser) dwithin() (Expr, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.expect(tLParen, "("); err != nil {
		return nil, err
	}
	if _, isProp, err := p.geomArg(); err != nil || !isProp {
		if err == nil {
			err = &SyntaxError{Pos: p.tok.pos + 1, Expected: "the geometry property first", Found: "a literal"}
		}
		return nil, err
	}
	if err := p.expect(tComma, ","); err != nil {
		return nil, err
	}
	at := p.tok
	g, isProp, err := p.geomArg()
	if err != nil {
		return nil, err
	}
	pt, ok := g.(orb.Point)
	if isProp || !ok {
		return nil, &SyntaxError{Pos: at.pos + 1, Expected: "a POINT", Found: at.describe()}
	}
	if err := p.expect(tComma, ","); err != nil {
		return nil, err
	}
	dist := p.tok
	m, err := strconv.ParseFloat(dist.text, 64)
	if dist.kind != tNumber || err != nil || !(m >= 0) || math.IsInf(m, 0) {
		return nil, p.expected("a distance in metres, 0 or more")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return DWithin{Point: pt, Meters: m}, p.expect(tRParen, ")")
}

// geomArg reads a spatial function's argument: the geometry property, a
// WKT literal or BBOX(...).
func (p *textParser) geomArg() (orb.Geometry, bool, error) {
	t := p.tok
	if t.kind == tQuoted || t.kind == tIdent && strings.EqualFold(t.text, GeometryProperty) {
		if t.text != GeometryProperty && !strings.EqualFold(t.text, GeometryProperty) {
			return nil, false, p.expected(`the geometry property "` + GeometryProperty + `"`)
		}
		return nil, true, p.advance()
	}
	if t.kind != tIdent {
		return nil, false, p.expected("the geometry property, a WKT geometry or BBOX(...)")
	}
	kw := strings.ToUpper(t.text)
	if kw == "BBOX" {
		return p.bbox()
	}
	switch kw {
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
	default:
		return nil, false, p.expected("the geometry property, a WKT geometry or BBOX(...)")
	}
	// The WKT runs to the parenthesis closing its first one.
	open := strings.IndexByte(p.src[p.pos:], '(')
	if open < 0 || strings.TrimSpace(p.src[p.pos:p.pos+open]) != "" {
		if err := p.advance(); err != nil {
			return nil, false, err
		}
		return nil, false, p.expected("( after " + kw)
	}
	depth, end := 0, -1
	for i := p.pos + open; i < len(p.src) && end < 0; i++ {
		switch p.src[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				end = i + 1
			}
		}
	}
	if end < 0 {
		return nil, false, &SyntaxError{Pos: len(p.src) + 1, Expected: ") closing the " + kw + " begun at position " + strconv.Itoa(t.pos+1), Found: "the end of the filter"}
	}
	g, err := wkt.Unmarshal(kw + p.src[p.pos:end])
	if err != nil || !finite(g) {
		return nil, false, &SyntaxError{Pos: t.pos + 1, Expected: "a well-formed WKT " + kw + " of finite coordinates", Found: strconvQuote(p.src[t.pos:end])}
	}
	if g, err = lonLatIn(g, p.in); err != nil {
		return nil, false, &SyntaxError{Pos: t.pos + 1, Expected: p.coordinates(), Found: err.Error()}
	}
	p.pos = end
	return g, false, p.advance()
}

// coordinates names what geometry literals are written in.
func (p *textParser) coordinates() string {
	if p.in == nil {
		return "longitude, latitude in degrees (CRS84)"
	}
	return "the filter-crs's coordinates"
}

// bbox reads BBOX(minLon, minLat, maxLon, maxLat); a box whose minLon
// exceeds its maxLon crosses the antimeridian.
func (p *textParser) bbox() (orb.Geometry, bool, error) {
	start := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, false, err
	}
	if err := p.expect(tLParen, "( after BBOX"); err != nil {
		return nil, false, err
	}
	var n []float64
	for {
		v, err := strconv.ParseFloat(p.tok.text, 64)
		if p.tok.kind != tNumber || err != nil || math.IsInf(v, 0) {
			return nil, false, p.expected("a number")
		}
		n = append(n, v)
		if err := p.advance(); err != nil {
			return nil, false, err
		}
		if p.tok.kind != tComma {
			break
		}
		if err := p.advance(); err != nil {
			return nil, false, err
		}
	}
	if err := p.expect(tRParen, ", or )"); err != nil {
		return nil, false, err
	}
	g, err := boxIn(n, p.in)
	if err != nil {
		expected := "BBOX(minLon, minLat, maxLon, maxLat) in degrees"
		if p.in != nil {
			expected = "BBOX(lower corner, upper corner) in the filter-crs's coordinates"
		}
		return nil, false, &SyntaxError{Pos: start + 1, Expected: expected, Found: err.Error()}
	}
	return g, false, nil
}
