package server

import (
	"errors"
	"testing"

	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/server/store"
)

// TestVerdictBodiesReuse: a request's verdict bodies, the last reused
// where it is the same, are each what encoding the verdict afresh writes,
// across verdicts that differ in a reading, in their agreements in force
// (nil among them, written null) and in an error between.
func TestVerdictBodiesReuse(t *testing.T) {
	reading := func(why string) []agreement.ReadingVerdict {
		return []agreement.ReadingVerdict{{Agreement: "a", Reading: "terms", Party: "all", Verdict: agreement.NoProtectedSite, Status: "in_force", Why: why}}
	}
	far := agreement.Verdict{Outcome: agreement.NoProtectedSite, InForce: []string{"a"}, Readings: reading("none within 1000 m"), AgreementStatus: agreement.Agreed}
	otherWhy := far
	otherWhy.Readings = reading("outside the window")
	noneInForce := far
	noneInForce.InForce = nil
	emptyInForce := far
	emptyInForce.InForce = []string{}
	disputed := far
	disputed.AgreementStatus = agreement.Disputed
	cases := []struct {
		v   *agreement.Verdict
		err error
	}{{&far, nil}, {&far, nil}, {&otherWhy, nil}, {&far, nil}, {&noneInForce, nil}, {&emptyInForce, nil},
		{&noneInForce, nil}, {nil, errors.New("too far")}, {&disputed, nil}, {&far, nil}}
	st := &store.Strike{}
	bodies := &verdictBodies{}
	for i, c := range cases {
		got := bodies.of(st, c.v, c.err)
		if want := (*verdictBodies)(nil).of(st, c.v, c.err); string(got) != string(want) {
			t.Errorf("verdict %d: body\n\t%s\nwant\n\t%s", i, got, want)
		}
	}
}
