package server

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server/store"
)

// Two records of different sources are one event when they match: each
// dated to a span of at most linkMaxSpan (its window; a strike at one
// instant, its UTC day), the spans overlapping, and their points no
// farther apart than their uncertainties added, plus linkToleranceMeters.
// A record links to a match only when that match is the one record of its
// source it matches, and it the one of its own source the match matches;
// otherwise neither links, and both name what they matched as candidates.
const (
	// linkMaxSpan: a record dated no closer than a week says too little of
	// when it happened to be told from another event.
	linkMaxSpan = 7 * 24 * time.Hour
	// linkToleranceMeters lets two records placed exactly, a few metres
	// apart, still be one strike: the 100 m verdicts treat as exact.
	linkToleranceMeters = 100.0
	day                 = 24 * time.Hour
)

// linkRef names another record of the same event, or a candidate for it.
type linkRef struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	EventID string `json:"event_id,omitempty"`
}

// strikeLinks are what linking learns of one record.
type strikeLinks struct {
	// linkedTo are the records of other sources it is linked to.
	linkedTo []linkRef
	// candidates are the records it matches without being linked to them.
	candidates []linkRef
	// event is the id of the record its event is counted by: of those
	// linked, directly or through others, the most precisely located
	// (then the earliest, then the least id).
	event string
}

// linkSpan is the span a record is dated to, end excluded.
func linkSpan(s *store.Strike) (start, end time.Time) {
	if !s.End.IsZero() {
		return s.Time, s.End
	}
	d := s.Time.UTC().Truncate(day)
	return d, d.Add(day)
}

// linkable reports whether a record is dated closely enough to link.
func linkable(s *store.Strike) bool {
	start, end := linkSpan(s)
	return end.Sub(start) <= linkMaxSpan
}

// metersPerDegreeLatitude bounds from below the length of a degree of
// latitude on WGS84 (at the equator), so a latitude difference bounds the
// distance from below without a geodesic.
const metersPerDegreeLatitude = 110_574.0

// matchRecords reports whether a and b are one event by their sources,
// spans and places (see linkMaxSpan).
func matchRecords(a, b *store.Strike) bool {
	if a.Source == b.Source || !linkable(a) || !linkable(b) {
		return false
	}
	as, ae := linkSpan(a)
	bs, be := linkSpan(b)
	if !as.Before(be) || !bs.Before(ae) {
		return false
	}
	reach := a.UncertaintyMeters + b.UncertaintyMeters + linkToleranceMeters
	dLat := a.Point[1] - b.Point[1]
	if dLat*dLat*metersPerDegreeLatitude*metersPerDegreeLatitude > reach*reach {
		return false
	}
	return geodesy.Distance(a.Point, b.Point) <= reach
}

// linkRecords links the records of records that are one event. The
// answer is exact for a record when records holds every record whose span
// lies within two linkMaxSpan of its own (its matches, and theirs).
func linkRecords(records []store.Strike) map[string]*strikeLinks {
	order := make([]int, 0, len(records))
	starts := make([]time.Time, len(records))
	ends := make([]time.Time, len(records))
	for i := range records {
		if linkable(&records[i]) {
			starts[i], ends[i] = linkSpan(&records[i])
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return starts[a].Compare(starts[b]) })
	matches := map[int][]int{}
	for k, i := range order {
		for _, j := range order[k+1:] {
			if !starts[j].Before(ends[i]) {
				break
			}
			if matchRecords(&records[i], &records[j]) {
				matches[i] = append(matches[i], j)
				matches[j] = append(matches[j], i)
			}
		}
	}
	// fromSource counts i's matches of a source.
	fromSource := func(i int, source string) int {
		n := 0
		for _, j := range matches[i] {
			if records[j].Source == source {
				n++
			}
		}
		return n
	}
	parent := map[int]int{}
	var root func(int) int
	root = func(i int) int {
		p, ok := parent[i]
		if !ok || p == i {
			return i
		}
		r := root(p)
		parent[i] = r
		return r
	}
	out := make(map[string]*strikeLinks, len(matches))
	for i, js := range matches {
		l := &strikeLinks{}
		for _, j := range js {
			ref := linkRef{ID: records[j].ID, Source: records[j].Source, EventID: records[j].SourceEventID}
			if fromSource(i, records[j].Source) == 1 && fromSource(j, records[i].Source) == 1 {
				l.linkedTo = append(l.linkedTo, ref)
				parent[root(i)] = root(j)
			} else {
				l.candidates = append(l.candidates, ref)
			}
		}
		for _, refs := range [][]linkRef{l.linkedTo, l.candidates} {
			slices.SortFunc(refs, func(a, b linkRef) int { return cmp.Compare(a.ID, b.ID) })
		}
		out[records[i].ID] = l
	}
	// Each event is counted by its best located record.
	best := map[int]int{}
	for i := range matches {
		r := root(i)
		if b, ok := best[r]; !ok || countsBefore(&records[i], &records[b]) {
			best[r] = i
		}
	}
	for i := range matches {
		out[records[i].ID].event = records[best[root(i)]].ID
	}
	return out
}

// countsBefore orders the records of one event: the most precisely
// located first, then the earliest, then by id.
func countsBefore(a, b *store.Strike) bool {
	return cmp.Or(cmp.Compare(a.UncertaintyMeters, b.UncertaintyMeters), a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID)) < 0
}

// eventOf is the id of the record st's event is counted by.
func eventOf(links map[string]*strikeLinks, st *store.Strike) string {
	if l := links[st.ID]; l != nil {
		return l.event
	}
	return st.ID
}

// linksAround links the records of strikes to those of every source in
// the log, reading the records dated near them.
func linksAround(ctx context.Context, st store.Store, strikes []store.Strike) (map[string]*strikeLinks, error) {
	var from, to time.Time
	for i := range strikes {
		if !linkable(&strikes[i]) {
			continue
		}
		start, end := linkSpan(&strikes[i])
		if from.IsZero() || start.Before(from) {
			from = start
		}
		if end.After(to) {
			to = end
		}
	}
	if from.IsZero() {
		return nil, nil
	}
	// A match's span starts less than a span before a record's does and
	// ends less than one after; a match's match, less than two before and
	// within a span after. A strike at an instant is dated a day from its
	// span's start at most.
	from, to = from.Add(-2*linkMaxSpan), to.Add(linkMaxSpan+day)
	q := store.Query{From: &from, To: &to, Limit: store.MaxLimit}
	var records []store.Strike
	for {
		page, err := st.List(ctx, q)
		if err != nil {
			return nil, err
		}
		records = append(records, page.Strikes...)
		if page.Next == "" {
			return linkRecords(records), nil
		}
		if len(records) >= maxFilterScan {
			return nil, paramError("from", "more than %d strikes are dated near those asked for, too many to link; narrow the window", maxFilterScan)
		}
		q.Cursor = page.Next
	}
}

// linked are the records l is linked to; nil for none (served as null).
func (l *strikeLinks) linked() []linkRef {
	if l == nil {
		return nil
	}
	return l.linkedTo
}

// matched are the candidates l matched without linking; nil for none.
func (l *strikeLinks) matched() []linkRef {
	if l == nil {
		return nil
	}
	return l.candidates
}

// refsCell writes records in one CSV cell: their ids, ';'-separated.
func refsCell(refs []linkRef) string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ";")
}

// countedOnce marks, of n records selected, the one each event is counted
// by: the first, in countsBefore's order, of those selected of it.
func countedOnce(n int, record func(int) *store.Strike, event func(int) string) []bool {
	first := map[string]int{}
	for i := range n {
		e := event(i)
		if j, ok := first[e]; !ok || countsBefore(record(i), record(j)) {
			first[e] = i
		}
	}
	out := make([]bool, n)
	for _, i := range first {
		out[i] = true
	}
	return out
}

// linkMembers are a record's links as GeoJSON properties, null when none.
func linkMembers(l *strikeLinks) []geojson.Member {
	return []geojson.Member{{Key: propLinkedTo, Value: l.linked()}, {Key: propCandidates, Value: l.matched()}}
}

// countEvents counts the events among the matched strikes of a /strikes
// query, a strike several sources recorded, linked, once; -1 when they
// are too many to read (see maxFilterScan).
func (h *handlers) countEvents(c echo.Context, q *strikesQuery, sq store.Query, matched int) (int, error) {
	if matched > maxFilterScan {
		return -1, nil
	}
	sq.Cursor, sq.Offset, sq.Limit, sq.Count = "", 0, store.MaxLimit, false
	var selected []store.Strike
	err := h.eachStrike(c, q.matches, sq, func(st *store.Strike) { selected = append(selected, forLinking(st)) })
	if err != nil {
		return 0, err
	}
	once, err := countedByEvent(c.Request().Context(), h.cfg.Store, selected)
	events := 0
	for _, counted := range once {
		if counted {
			events++
		}
	}
	return events, err
}

// forLinking is a copy of st with only what linking and counting read.
func forLinking(st *store.Strike) store.Strike {
	s := *st
	s.Extra, s.Verdict = nil, nil
	return s
}

// countedByEvent links the selected records to the log and marks the one
// each event is counted by (see countedOnce).
func countedByEvent(ctx context.Context, st store.Store, selected []store.Strike) ([]bool, error) {
	links, err := linksAround(ctx, st, selected)
	if err != nil {
		return nil, err
	}
	return countedOnce(len(selected), func(i int) *store.Strike { return &selected[i] }, func(i int) string { return eventOf(links, &selected[i]) }), nil
}
