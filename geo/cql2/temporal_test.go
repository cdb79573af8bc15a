package cql2

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// allenRelations are the thirteen relations of two proper intervals
// (start before end): exactly one of them holds for any pair.
var allenRelations = []string{TBefore, TMeets, TOverlaps, TStarts, TDuring, TFinishes, TEquals,
	TAfter, TMetBy, TOverlappedBy, TStartedBy, TContains, TFinishedBy}

// TestAllenRelationsPartition: on random proper intervals with many
// shared ends, exactly one of the thirteen relations holds, each one's
// converse holds with the arguments swapped, and T_INTERSECTS is the
// negation of T_DISJOINT.
func TestAllenRelationsPartition(t *testing.T) {
	converse := map[string]string{TBefore: TAfter, TMeets: TMetBy, TOverlaps: TOverlappedBy, TStarts: TStartedBy,
		TDuring: TContains, TFinishes: TFinishedBy, TEquals: TEquals}
	for k, v := range converse {
		converse[v] = k
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	for range 20_000 {
		// Ends among a few values, so that equal ends are common.
		as, bs := r.Int64N(6), r.Int64N(6)
		ae, be := as+1+r.Int64N(5), bs+1+r.Int64N(5)
		var holding []string
		for _, op := range allenRelations {
			if holds, _ := relate(op, as, ae, bs, be); holds {
				holding = append(holding, op)
				if back, _ := relate(converse[op], bs, be, as, ae); !back {
					t.Errorf("[%d,%d] %s [%d,%d] but not its converse %s", as, ae, op, bs, be, converse[op])
				}
			}
		}
		if len(holding) != 1 {
			t.Fatalf("[%d,%d] and [%d,%d]: %v hold, want exactly one", as, ae, bs, be, holding)
		}
		seen[holding[0]]++
		in, _ := relate(TIntersects, as, ae, bs, be)
		out, _ := relate(TDisjoint, as, ae, bs, be)
		if in == out {
			t.Errorf("[%d,%d] and [%d,%d]: T_INTERSECTS %v, T_DISJOINT %v", as, ae, bs, be, in, out)
		}
	}
	if len(seen) != len(allenRelations) {
		t.Errorf("only %d relations ever held: %v", len(seen), seen)
	}
}

// TestTemporal: the temporal functions on a strike-like feature with an
// instant and a window, as cql2-text and as cql2-json, and their errors.
func TestTemporal(t *testing.T) {
	strike := newFeature(t, `{"datetime":"2025-03-20T04:00:00Z","start":"2025-03-19","end":"2025-03-21","note":"x"}`, orb.Point{30.5, 50.4})
	tests := []struct {
		filter string
		want   bool
	}{
		{"T_AFTER(datetime, TIMESTAMP('2025-03-18T00:00:00Z'))", true},
		{"T_BEFORE(datetime, DATE('2025-03-20'))", false}, // within the day, not before it
		{"T_DURING(datetime, INTERVAL('2025-03-18', '2025-04-18'))", true},
		{"T_DURING(datetime, INTERVAL('2025-03-20T04:00:00Z', '..'))", false}, // starts with it
		{"T_STARTS(datetime, INTERVAL('2025-03-20T04:00:00Z', '..'))", true},
		{"T_INTERSECTS(datetime, INTERVAL('2025-03-20T04:00:00Z', '..'))", true},
		{"T_INTERSECTS(datetime, INTERVAL('..', '2025-03-19'))", false},
		{"T_INTERSECTS(INTERVAL(start, end), DATE('2025-03-21'))", true},
		{"T_CONTAINS(INTERVAL(start, end), datetime)", true},
		{"T_OVERLAPS(INTERVAL(start, end), INTERVAL('2025-03-20', '2025-03-25'))", true},
		{"T_MEETS(INTERVAL(start, end), INTERVAL(TIMESTAMP('2025-03-21T23:59:59.999999999Z'), '..'))", true},
		{"T_EQUALS(datetime, TIMESTAMP('2025-03-20T06:00:00+02:00'))", true},
		{"T_DISJOINT(datetime, INTERVAL('2025-04-01', '..'))", true},
		{"T_INTERSECTS(missing, DATE('2025-03-20'))", false},  // unknown
		{"NOT T_INTERSECTS(note, DATE('2025-03-20'))", false}, // not a time: unknown
		{"t_finishedby(INTERVAL(start, end), DATE('2025-03-21'))", true},
	}
	for _, tc := range tests {
		e, err := ParseText(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := Matches(e, strike); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.filter, got, tc.want)
		}
	}
	for _, tc := range []struct {
		json string
		want bool
	}{
		{`{"op":"t_during","args":[{"property":"datetime"},{"interval":["2025-03-18","2025-04-18"]}]}`, true},
		{`{"op":"t_after","args":[{"property":"datetime"},{"interval":["..",{"date":"2025-03-19"}]}]}`, true},
		{`{"op":"t_contains","args":[{"interval":[{"property":"start"},{"property":"end"}]},{"timestamp":"2025-03-22T00:00:00Z"}]}`, false},
	} {
		e, err := ParseJSON([]byte(tc.json))
		if err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if got := Matches(e, strike); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.json, got, tc.want)
		}
	}
	for _, bad := range []struct{ filter, expected string }{
		{"T_AFTER(datetime, 5)", "a property, TIMESTAMP(...), DATE(...) or INTERVAL(...)"},
		{"T_AFTER(datetime, INTERVAL('yesterday', '..'))", "'..' or an RFC 3339 date or date-time"},
		{"T_AFTER(datetime INTERVAL('..', '..'))", ","},
		{"T_AFTER(datetime, INTERVAL('..', '..')", ")"},
	} {
		_, err := ParseText(bad.filter)
		se, ok := err.(*SyntaxError)
		if !ok || se.Expected != bad.expected {
			t.Errorf("%s: %v, want a syntax error expecting %q", bad.filter, err, bad.expected)
		}
	}
	if _, err := ParseJSON([]byte(`{"op":"t_after","args":[{"property":"datetime"},{"interval":["..."]}]}`)); err == nil {
		t.Error("an interval of one end parsed")
	}
	if got := Properties(mustParse(t, "T_DURING(INTERVAL(start, end), INTERVAL(opened, '..'))")); len(got) != 3 {
		t.Errorf("properties %v, want start, end, opened", got)
	}
}

func mustParse(t *testing.T, s string) Expr {
	t.Helper()
	e, err := ParseText(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
