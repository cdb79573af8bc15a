package cql2

import (
	"math"
	"strings"
)

// The temporal functions of CQL2 (Temporal Functions conformance class),
// relations of two periods. An instant is a period whose start and end are
// equal; a date is its whole day, from its first nanosecond to its last.
const (
	TAfter        = "t_after"
	TBefore       = "t_before"
	TContains     = "t_contains"
	TDisjoint     = "t_disjoint"
	TDuring       = "t_during"
	TEquals       = "t_equals"
	TFinishedBy   = "t_finishedby"
	TFinishes     = "t_finishes"
	TIntersects   = "t_intersects"
	TMeets        = "t_meets"
	TMetBy        = "t_metby"
	TOverlappedBy = "t_overlappedby"
	TOverlaps     = "t_overlaps"
	TStartedBy    = "t_startedby"
	TStarts       = "t_starts"
)

// relate reports whether periods a and b, each [start, end] in Unix
// nanoseconds, stand in the relation of temporal function op; known is
// false for a name that is none.
func relate(op string, as, ae, bs, be int64) (holds, known bool) {
	switch op {
	case TAfter:
		return as > be, true
	case TBefore:
		return ae < bs, true
	case TContains:
		return as < bs && ae > be, true
	case TDisjoint:
		return ae < bs || as > be, true
	case TDuring:
		return as > bs && ae < be, true
	case TEquals:
		return as == bs && ae == be, true
	case TFinishedBy:
		return as < bs && ae == be, true
	case TFinishes:
		return as > bs && ae == be, true
	case TIntersects:
		return as <= be && ae >= bs, true
	case TMeets:
		return ae == bs, true
	case TMetBy:
		return as == be, true
	case TOverlappedBy:
		return as > bs && as < be && ae > be, true
	case TOverlaps:
		return as < bs && ae > bs && ae < be, true
	case TStartedBy:
		return as == bs && ae > be, true
	case TStarts:
		return as == bs && ae < be, true
	}
	return false, false
}

// IsTemporal reports whether name (any case) is a temporal function.
func IsTemporal(name string) bool {
	_, known := relate(strings.ToLower(name), 0, 0, 0, 0)
	return known
}

// Temporal is a temporal function of two periods: "T_DURING(datetime,
// INTERVAL('2025-03-18', '2025-04-18'))".
type Temporal struct {
	Op          string
	Left, Right Period
}

// Period is a temporal function's argument: an instant (a property or a
// TIMESTAMP or DATE literal), or INTERVAL(start, end) of two of them,
// either end of which may be open ('..').
type Period struct {
	Start, End Operand
	Interval   bool
	// OpenStart and OpenEnd mark an interval's '..' ends.
	OpenStart, OpenEnd bool
}

func (Temporal) node() {}

// span resolves p on f to its first and last instants; ok is false when
// an operand is null or not a time.
func (p Period) span(f Feature) (start, end int64, ok bool) {
	if !p.Interval {
		v, ok := instant(p.Start, f)
		return v.Start, v.End, ok
	}
	start, end = math.MinInt64, math.MaxInt64
	if !p.OpenStart {
		v, ok := instant(p.Start, f)
		if !ok {
			return 0, 0, false
		}
		start = v.Start
	}
	if !p.OpenEnd {
		v, ok := instant(p.End, f)
		if !ok {
			return 0, 0, false
		}
		end = v.End
	}
	return start, end, start <= end
}

// instant resolves o on f as a time: a Time, or a string read as one.
func instant(o Operand, f Feature) (Value, bool) {
	v := resolve(o, f)
	switch v.Kind {
	case Time:
		return v, true
	case String:
		return readTime(v.Str)
	}
	return Value{}, false
}

func evalTemporal(e Temporal, f Feature) truth {
	as, ae, ok1 := e.Left.span(f)
	bs, be, ok2 := e.Right.span(f)
	if !ok1 || !ok2 {
		return unknown
	}
	holds, _ := relate(e.Op, as, ae, bs, be)
	return truthOf(holds)
}
