package store

import (
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// timeEdges are instants where time arithmetic breaks: the first and last
// RFC 3339 can write for a strike, 1600, and either side of the range of
// Unix nanoseconds in an int64 (1677-09-21 to 2262-04-11).
var timeEdges = []struct {
	name string
	at   time.Time
}{
	{"0001", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"1600", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"before 1677", time.Date(1677, 9, 21, 0, 12, 43, 145224000, time.UTC)},
	{"after 1677", time.Date(1677, 9, 21, 0, 12, 43, 145225000, time.UTC)},
	{"before 2262", time.Date(2262, 4, 11, 23, 47, 16, 854775000, time.UTC)},
	{"after 2262", time.Date(2262, 4, 11, 23, 47, 16, 854776000, time.UTC)},
	{"9999", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
}

// TestTimeEdges: strikes at the edges of time are stored, read back and
// selected by From and To exactly, none wrapping into another century.
func TestTimeEdges(t *testing.T) {
	var strikes []Strike
	for _, e := range timeEdges {
		strikes = append(strikes, Strike{Point: orb.Point{30, 50}, Time: e.at, Notes: e.name})
	}
	notes := func(ss []Strike) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Notes)
		}
		return strings.Join(out, ", ")
	}
	at := func(i int) *time.Time { return &timeEdges[i].at }
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"all", Query{}, "0001, 1600, before 1677, after 1677, before 2262, after 2262, 9999"},
		{"to the first instant of the year 1", Query{To: at(0)}, "0001"},
		{"from the last microsecond of 9999", Query{From: at(6)}, "9999"},
		{"from 1600 to 2262", Query{From: at(1), To: at(5)}, "1600, before 1677, after 1677, before 2262, after 2262"},
		{"across 1677", Query{From: at(2), To: at(3)}, "before 1677, after 1677"},
		{"across 2262", Query{From: at(4), To: at(5)}, "before 2262, after 2262"},
		{"after 2262 only", Query{From: new(timeEdges[4].at.Add(time.Nanosecond))}, "after 2262, 9999"},
	}
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		res, err := st.Put(ctx, "tester", strikes)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			got, err := st.Get(ctx, r.ID)
			if err != nil || !got.Time.Equal(timeEdges[i].at) {
				t.Errorf("%s: read back %v, %v", timeEdges[i].name, got.Time, err)
			}
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, err := st.List(ctx, tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := notes(p.Strikes); got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			})
		}
		// Paging across the edges keeps every strike once, in order.
		if got := notes(listAll(t, st, Query{Limit: 2})); got != tests[0].want {
			t.Errorf("paged: %q", got)
		}
	})
}
