package agreement

import (
	"slices"
	"testing"
	"time"
)

// TestVerdictAtTheEdgesOfTime: the zero time is the first instant of the
// year 1, judged like any other (regression: it was refused as "no time"),
// and no instant wraps into or out of an agreement's window: before every
// start none is in force, long after the moratorium only the open-ended one.
func TestVerdictAtTheEdgesOfTime(t *testing.T) {
	set := fixtureSet(t)
	for _, tt := range []struct {
		at   time.Time
		want []string
	}{
		{time.Time{}, nil},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{time.Date(2609, 10, 1, 0, 0, 0, 0, time.UTC), []string{"hospital-one"}},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), []string{"hospital-one"}},
	} {
		v, err := set.Verdict(NewVerdictQuery(Strike{Point: plantPoint, Time: tt.at}))
		if err != nil {
			t.Fatalf("%v: %v", tt.at, err)
		}
		if !slices.Equal(v.InForce, tt.want) || v.Outcome == ProtectedSiteHit {
			t.Errorf("%v: %s with %v in force, want %v", tt.at, v.Outcome, v.InForce, tt.want)
		}
	}
}
