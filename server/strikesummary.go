package server

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/server/store"
)

// summaryQuery is a parsed GET /strikes/summary request: the strike log's
// filters, and the periods to count by.
type summaryQuery struct {
	strikesQuery
	by string
	// group names what rows are counted by beside period and verdict:
	// oblast, collection or both.
	group []string
}

var summaryParams = lift(strikesParams, func(q *summaryQuery) *strikesQuery { return &q.strikesQuery },
	append([]string{"bbox", "bbox-crs", "datetime", "source", "filter", "filter-lang", "filter-crs"}, selectionNames...)...).with(params[summaryQuery]{
	"f": func(_ *summaryQuery, v string) error { return jsonFormat(v) },
	"by": func(q *summaryQuery, v string) error {
		if !slices.Contains(summaryPeriods, v) {
			return paramError("by", "%q is not a period; count by day, week or month", v)
		}
		q.by = v
		return nil
	},
	"group": func(q *summaryQuery, v string) (err error) {
		q.group, err = parseList(v, "grouping", summaryGroups)
		return err
	},
})

// summaryGroups are what a summary's rows may be grouped by beside period
// and verdict.
var summaryGroups = []string{"oblast", "collection"}

// summaryPeriods are the periods a summary counts by.
var summaryPeriods = []string{"day", "week", "month"}

// periodOf names the period of by holding t, in UTC: a day 2025-03-20, an
// ISO week 2025-W12, a month 2025-03.
func periodOf(t time.Time, by string) string {
	t = t.UTC()
	switch by {
	case "week":
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case "month":
		return t.Format("2006-01")
	}
	return t.Format(time.DateOnly)
}

// summaryKey is a row of a summary: the strikes of one period in one
// oblast (when grouped by oblast), hitting one set of collections (when
// grouped by collection), with one verdict.
type summaryKey struct {
	period, oblast, collections string
	verdict                     agreement.Outcome
}

// strikesSummary answers GET /strikes/summary: the strikes the log's
// filters select, counted by period, oblast and verdict (the verdict
// against the data served now, under the reading named, if any). A strike
// several sources recorded, linked, counts once, in the row of the record
// its event is counted by among those selected; so every strike is in
// exactly one row, and the counts add up to strikes (records counts the
// records selected).
func (h *handlers) strikesSummary(c echo.Context) error {
	q := summaryQuery{strikesQuery: newStrikesQuery()}
	if err := summaryParams.parse(c.QueryString(), &q, func(q *summaryQuery, name, v string) (bool, error) {
		return strikeEquality(&q.strikesQuery, name, v)
	}); err != nil {
		return err
	}
	if q.by == "" {
		return paramError("by", "is required: day, week or month")
	}
	if q.group == nil {
		q.group = []string{"oblast"}
	}
	byOblast, byCollection := slices.Contains(q.group, "oblast"), slices.Contains(q.group, "collection")
	if err := h.prepareStrikesQuery(c, &q.strikesQuery); err != nil {
		return err
	}
	sq := q.storeQuery()
	sq.Limit = store.MaxLimit
	var (
		selected []store.Strike
		keys     []summaryKey
		facts    strikeFindings
	)
	match := func(st *store.Strike) (ok bool, err error) {
		if !matchesStrike(q.where, st) {
			return false, nil
		}
		facts, ok, err = q.selection.examine(st, true)
		return ok, err
	}
	err := h.eachStrike(c, match, sq, func(st *store.Strike) {
		selected = append(selected, forLinking(st))
		k := summaryKey{period: periodOf(st.Time, q.by), verdict: facts.outcome}
		if byOblast {
			k.oblast = facts.oblast
		}
		if byCollection {
			k.collections = q.selection.collectionsHit(facts.verdict)
		}
		keys = append(keys, k)
	})
	if err != nil {
		return err
	}
	once, err := countedByEvent(c.Request().Context(), h.cfg.Store, selected)
	if err != nil {
		return err
	}
	counts := map[summaryKey]int{}
	total := 0
	for i, k := range keys {
		if once[i] {
			counts[k]++
			total++
		}
	}
	order := make([]summaryKey, 0, len(counts))
	for k := range counts {
		order = append(order, k)
	}
	slices.SortFunc(order, func(a, b summaryKey) int {
		return cmp.Or(cmp.Compare(a.period, b.period), cmp.Compare(a.oblast, b.oblast), cmp.Compare(a.collections, b.collections),
			cmp.Compare(verdictRank(a.verdict), verdictRank(b.verdict)))
	})
	rows := make([]map[string]any, len(order))
	for i, k := range order {
		r := map[string]any{"period": k.period, "verdict": k.verdict, "count": counts[k]}
		if byOblast {
			r["oblast"] = textOrNull(k.oblast)
		}
		if byCollection {
			r["collection"] = textOrNull(k.collections)
		}
		rows[i] = r
	}
	return sendJSON(c, mediaJSON, map[string]any{
		"by": q.by, "group": q.group, "strikes": total, "records": len(selected), "rows": rows,
		"links": []link{{Href: h.selfURL(c), Rel: "self", Type: mediaJSON, Title: "this summary"}},
	}, false)
}

// verdictRank orders verdicts gravest first, a reading's not_in_force last.
func verdictRank(o agreement.Outcome) int {
	if i := slices.Index(agreement.Outcomes(), o); i >= 0 {
		return i
	}
	return len(agreement.Outcomes())
}
