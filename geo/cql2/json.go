package cql2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// JSONError is a cql2-json filter that does not fit the grammar: Path
// names the member at fault, as "args[1].op".
type JSONError struct {
	Path   string
	Reason string
}

func (e *JSONError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return "at " + e.Path + ": " + e.Reason
}

// ParseJSON reads a cql2-json filter whose geometries are in
// longitude/latitude (CRS84).
func ParseJSON(src []byte) (Expr, error) { return ParseJSONIn(src, nil) }

// ParseJSONIn reads a cql2-json filter whose geometries are in the
// coordinates in converts; nil for longitude/latitude.
func ParseJSONIn(src []byte, in Coordinates) (Expr, error) {
	if len(src) > MaxLength {
		return nil, &JSONError{Reason: fmt.Sprintf("the filter has %d bytes, more than %d", len(src), MaxLength)}
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &JSONError{Reason: "not JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &JSONError{Reason: "more than one JSON value"}
	}
	return (&jsonParser{in: in}).jsonBool(v, "", 0)
}

// jsonParser reads a decoded cql2-json filter.
type jsonParser struct{ in Coordinates }

func jsonErr(path, format string, args ...any) error {
	return &JSONError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

func child(path string, i int) string { return fmt.Sprintf("%sargs[%d]", dot(path), i) }

func dot(path string) string {
	if path == "" {
		return ""
	}
	return path + "."
}

// jsonOp reads {"op": ..., "args": [...]}.
func jsonOp(v any, path string) (string, []any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", nil, false
	}
	op, ok := m["op"].(string)
	if !ok {
		return "", nil, false
	}
	args, _ := m["args"].([]any)
	return strings.ToLower(op), args, true
}

func (p *jsonParser) jsonBool(v any, path string, depth int) (Expr, error) {
	if depth > MaxDepth {
		return nil, jsonErr(path, "nested more than %d deep", MaxDepth)
	}
	if b, ok := v.(bool); ok {
		return BoolLiteral(b), nil
	}
	op, args, ok := jsonOp(v, path)
	if !ok {
		return nil, jsonErr(path, `expected a boolean expression: {"op": ..., "args": [...]} or true or false`)
	}
	arity := func(n int) error {
		if len(args) != n {
			return jsonErr(path, "%s takes %d arguments, not %d", op, n, len(args))
		}
		return nil
	}
	switch op {
	case "and", "or":
		if len(args) < 2 {
			return nil, jsonErr(path, "%s takes 2 or more arguments, not %d", op, len(args))
		}
		es := make([]Expr, len(args))
		for i, a := range args {
			e, err := p.jsonBool(a, child(path, i), depth+1)
			if err != nil {
				return nil, err
			}
			es[i] = e
		}
		if op == "and" {
			return And{Args: es}, nil
		}
		return Or{Args: es}, nil
	case "not":
		if err := arity(1); err != nil {
			return nil, err
		}
		e, err := p.jsonBool(args[0], child(path, 0), depth+1)
		return Not{Arg: e}, err
	case "=", "<>", "<", "<=", ">", ">=":
		if err := arity(2); err != nil {
			return nil, err
		}
		ops, err := jsonOperands(args, path)
		if err != nil {
			return nil, err
		}
		return Comparison{Op: op, Left: ops[0], Right: ops[1]}, nil
	case "like":
		if err := arity(2); err != nil {
			return nil, err
		}
		ops, err := jsonOperands(args, path)
		if err != nil {
			return nil, err
		}
		return Like{Subject: ops[0], Pattern: ops[1]}, nil
	case "between":
		if err := arity(3); err != nil {
			return nil, err
		}
		ops, err := jsonOperands(args, path)
		if err != nil {
			return nil, err
		}
		return Between{Subject: ops[0], Low: ops[1], High: ops[2]}, nil
	case "in":
		if err := arity(2); err != nil {
			return nil, err
		}
		list, ok := args[1].([]any)
		if !ok || len(list) == 0 {
			return nil, jsonErr(child(path, 1), "expected a non-empty array of values")
		}
		subject, err := jsonOperand(args[0], child(path, 0))
		if err != nil {
			return nil, err
		}
		in := In{Subject: subject}
		for i, a := range list {
			o, err := jsonOperand(a, fmt.Sprintf("%s[%d]", child(path, 1), i))
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, o)
		}
		return in, nil
	case "isnull":
		if err := arity(1); err != nil {
			return nil, err
		}
		o, err := jsonOperand(args[0], child(path, 0))
		return IsNull{Subject: o}, err
	case Intersects, Disjoint, Within, Contains, Equals, Touches, Overlaps, Crosses:
		if err := arity(2); err != nil {
			return nil, err
		}
		g0, p0, err := p.jsonGeometry(args[0], child(path, 0))
		if err != nil {
			return nil, err
		}
		g1, p1, err := p.jsonGeometry(args[1], child(path, 1))
		if err != nil {
			return nil, err
		}
		switch {
		case p0 && !p1:
			return Spatial{Op: op, Geometry: g1}, nil
		case p1 && !p0:
			return Spatial{Op: converse(op), Geometry: g0}, nil
		}
		return nil, jsonErr(path, "expected one argument the geometry property and the other a geometry literal")
	case TAfter, TBefore, TContains, TDisjoint, TDuring, TEquals, TFinishedBy, TFinishes, TIntersects,
		TMeets, TMetBy, TOverlappedBy, TOverlaps, TStartedBy, TStarts:
		if err := arity(2); err != nil {
			return nil, err
		}
		left, err := jsonPeriod(args[0], child(path, 0))
		if err != nil {
			return nil, err
		}
		right, err := jsonPeriod(args[1], child(path, 1))
		return Temporal{Op: op, Left: left, Right: right}, err
	case "dwithin":
		if err := arity(3); err != nil {
			return nil, err
		}
		if _, isProp, err := p.jsonGeometry(args[0], child(path, 0)); err != nil || !isProp {
			return nil, jsonErr(child(path, 0), `expected {"property": "geometry"}`)
		}
		g, _, err := p.jsonGeometry(args[1], child(path, 1))
		pt, ok := g.(orb.Point)
		if err != nil || !ok {
			return nil, jsonErr(child(path, 1), "expected a GeoJSON Point")
		}
		m, ok := jsonNumber(args[2])
		if !ok || !(m >= 0) {
			return nil, jsonErr(child(path, 2), "expected a distance in metres, 0 or more")
		}
		return DWithin{Point: pt, Meters: m}, nil
	}
	return nil, jsonErr(dot(path)+"op", "%q is not an operator offered: and, or, not, =, <>, <, <=, >, >=, like, between, in, isNull, s_intersects, s_disjoint, s_within, s_contains, s_equals, s_touches, s_overlaps, s_crosses, dwithin, and the t_ temporal functions", op)
}

// jsonPeriod reads a temporal function's argument: {"interval": [start,
// end]}, each end ".." (open), a date or date-time string, or an instant;
// or an instant ({"property": ...}, {"timestamp": ...}, {"date": ...}).
func jsonPeriod(v any, path string) (Period, error) {
	m, ok := v.(map[string]any)
	if ends, isInterval := m["interval"]; ok && isInterval {
		list, ok := ends.([]any)
		if !ok || len(list) != 2 {
			return Period{}, jsonErr(dot(path)+"interval", "expected an array of two ends")
		}
		per := Period{Interval: true}
		var err error
		if per.Start, per.OpenStart, err = jsonIntervalEnd(list[0], dot(path)+"interval[0]"); err != nil {
			return Period{}, err
		}
		per.End, per.OpenEnd, err = jsonIntervalEnd(list[1], dot(path)+"interval[1]")
		return per, err
	}
	o, err := jsonInstant(v, path)
	return Period{Start: o}, err
}

func jsonIntervalEnd(v any, path string) (o Operand, open bool, err error) {
	if s, ok := v.(string); ok {
		if s == ".." {
			return Operand{}, true, nil
		}
		t, err := readInstant(s)
		if err != nil {
			return Operand{}, false, jsonErr(path, "%q is not '..' or an RFC 3339 date or date-time", s)
		}
		return Operand{Literal: t}, false, nil
	}
	o, err = jsonInstant(v, path)
	return o, false, err
}

// jsonInstant reads an operand that must be a property or a time literal.
func jsonInstant(v any, path string) (Operand, error) {
	o, err := jsonOperand(v, path)
	if err == nil && o.Property == "" && o.Literal.Kind != Time {
		err = jsonErr(path, `expected {"property": name}, {"timestamp": ...}, {"date": ...} or {"interval": [...]}`)
	}
	return o, err
}

func jsonOperands(args []any, path string) ([]Operand, error) {
	out := make([]Operand, len(args))
	for i, a := range args {
		o, err := jsonOperand(a, child(path, i))
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

func jsonNumber(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil && !math.IsInf(f, 0)
}

func jsonOperand(v any, path string) (Operand, error) {
	switch v := v.(type) {
	case string:
		return Operand{Literal: Value{Kind: String, Str: v}}, nil
	case bool:
		return Operand{Literal: Value{Kind: Bool, Bool: v}}, nil
	case json.Number:
		f, ok := jsonNumber(v)
		if !ok {
			return Operand{}, jsonErr(path, "%s is not a finite number", v)
		}
		return Operand{Literal: Value{Kind: Number, Num: f}}, nil
	case map[string]any:
		if p, ok := v["property"].(string); ok && p != "" {
			return Operand{Property: p}, nil
		}
		for _, kind := range []string{"timestamp", "date"} {
			if s, ok := v[kind].(string); ok {
				t, err := timeValue(kind, s)
				if err != nil {
					return Operand{}, jsonErr(path, "%q is not an RFC 3339 %s", s, kind)
				}
				return Operand{Literal: t}, nil
			}
		}
		if op, args, ok := jsonOp(v, path); ok && op == "casei" && len(args) == 1 {
			o, err := jsonOperand(args[0], child(path, 0))
			o.CaseI = true
			return o, err
		}
	}
	return Operand{}, jsonErr(path, `expected a string, number or boolean, {"property": name}, {"timestamp": ...}, {"date": ...} or {"op": "casei", "args": [...]}`)
}

// jsonGeometry reads {"property": "geometry"}, a GeoJSON geometry or
// {"bbox": [...]}; isProp is true for the property.
func (p *jsonParser) jsonGeometry(v any, path string) (g orb.Geometry, isProp bool, err error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, jsonErr(path, "expected the geometry property, a GeoJSON geometry or a bbox")
	}
	if p, ok := m["property"].(string); ok {
		if p != GeometryProperty {
			return nil, false, jsonErr(path, "%q is not the geometry property %q", p, GeometryProperty)
		}
		return nil, true, nil
	}
	if box, ok := m["bbox"].([]any); ok {
		n := make([]float64, len(box))
		for i, x := range box {
			if n[i], ok = jsonNumber(x); !ok {
				return nil, false, jsonErr(path+".bbox", "expected numbers")
			}
		}
		g, err := boxIn(n, p.in)
		if err != nil {
			return nil, false, jsonErr(path+".bbox", "%v", err)
		}
		return g, false, nil
	}
	raw, _ := json.Marshal(m)
	geom, err := geojson.UnmarshalGeometry(raw)
	if err != nil || geom.Geometry() == nil || !finite(geom.Geometry()) {
		return nil, false, jsonErr(path, "expected the geometry property, a GeoJSON geometry or a bbox")
	}
	if g, err = lonLatIn(geom.Geometry(), p.in); err != nil {
		return nil, false, jsonErr(path, "%v", err)
	}
	return g, false, nil
}
