package server

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server/store"
)

// Bounds of one report: it is built whole, and lists for each strike the
// protected sites nearest to it.
const (
	maxReportStrikes = 100_000
	reportSites      = 5
)

// reportQuery is a parsed GET /report request.
type reportQuery struct {
	sel strikeSelection
	// window is sel's, narrowed to its agreement's.
	window  span
	sources []string
	// scope names collections a hypothetical agreement covers at all
	// times, judged beside the real ones (see /proximity).
	scope  []string
	format export.Format // asked for with f; empty: by Accept
	// html asks for the printable page (f=html, or Accept: text/html).
	html bool
}

var reportParams = params[reportQuery]{
	"source":       func(q *reportQuery, v string) (err error) { q.sources, err = parseSources(v); return err },
	"scope":        func(q *reportQuery, v string) (err error) { q.scope, err = parseNames(v); return err },
	"data_version": func(*reportQuery, string) error { return nil }, // read by atVersion
	"f": func(q *reportQuery, v string) (err error) {
		if v == asHTML.f {
			q.html = true
			return nil
		}
		q.format, err = reportFormat(v)
		return err
	},
}.with(lift(selectionParams, func(q *reportQuery) *strikeSelection { return &q.sel }, selectionNames...))

// reportSite is a protected site near a strike, in a report.
type reportSite struct {
	Collection     string                 `json:"collection"`
	ID             string                 `json:"id"`
	Name           string                 `json:"name,omitempty"`
	DistanceMeters float64                `json:"distance_m"`
	ProtectedBy    []agreement.Protection `json:"protected_by"`
}

// reportLine is one strike of a report with its verdict.
type reportLine struct {
	strike  store.Strike
	verdict *agreement.Verdict
	// breached are the agreements hit, in the verdict's order, without repeats.
	breached []string
	// sites are the protected sites nearest the strike, at most reportSites.
	sites []reportSite
	facts strikeFacts
}

// report answers GET /report: every recorded strike in a window, each with
// its verdict and the protected sites nearest to it, as GeoJSON or CSV
// (f=csv, or Accept: text/csv). With agreement, the window defaults to the
// agreement's and the verdicts consider that agreement alone.
func (h *handlers) report(c echo.Context) error {
	q := reportQuery{sel: strikeSelection{window: openSpan}}
	if err := reportParams.parse(c.QueryString(), &q, nil); err != nil {
		return err
	}
	ix := h.index(c)
	if err := checkCollections(ix, "scope", q.scope); err != nil {
		return err
	}
	filter, err := h.filter(c, q.sel)
	if err != nil {
		return err
	}
	filter.scope, q.window = q.scope, filter.window
	if q.format == "" && !q.html {
		if q.format, q.html, err = negotiatePage(c, reportOffer()); err != nil {
			return err
		}
	}
	lines, err := h.reportLines(c, filter, q)
	if err != nil {
		return err
	}
	m, err := h.manifest(c)
	if err != nil {
		return err
	}
	m.Agreement, m.Scope = q.sel.agreement, q.scope
	switch {
	case q.html:
		return h.sendReportHTML(c, &q, m, lines)
	case q.format == export.CSV:
		return sendReportCSV(c, m, lines)
	case q.format == export.KML:
		return sendReportKML(c, m, lines)
	case q.format == export.GeoPackage:
		return sendReportGeoPackage(c, m, lines)
	}
	return sendReportGeoJSON(c, &q, m, lines)
}

// reportLines reads every strike the filter selects, a store page at a
// time, and judges each.
func (h *handlers) reportLines(c echo.Context, filter *strikeFilter, q reportQuery) ([]reportLine, error) {
	var lines []reportLine
	sq := store.Query{Limit: store.MaxLimit, Sources: q.sources}
	filter.narrow(&sq)
	gone := newStopper(c.Request().Context())
	for {
		page, err := h.cfg.Store.List(c.Request().Context(), sq)
		if err != nil {
			return nil, err
		}
		if len(lines)+len(page.Strikes) > maxReportStrikes {
			return nil, paramError("from", "more than %d strikes in the window; narrow it with from and to", maxReportStrikes)
		}
		facts, err := factsOf(c.Request().Context(), h.cfg.Store, filter.set.Index(), q.scope, page.Strikes)
		if err != nil {
			return nil, err
		}
		for i, st := range page.Strikes {
			if gone.stop() {
				return nil, gone.err
			}
			found, ok, err := filter.examine(&st, true)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			l := judge(st, found.verdict, reportSites)
			l.facts = facts[i]
			lines = append(lines, l)
		}
		if page.Next == "" {
			return lines, nil
		}
		sq.Cursor = page.Next
	}
}

// members are what a report says of a strike beside the strike itself:
// its verdict, with the verdict of the real agreements alone when judged
// under a scope, and its facts.
func (l *reportLine) members() []geojson.Member {
	v := l.verdict
	ms := []geojson.Member{{Key: "verdict", Value: string(v.Outcome)}}
	if v.WithoutScope != "" {
		ms = append(ms, geojson.Member{Key: "verdict_without_scope", Value: string(v.WithoutScope)})
	}
	ms = append(ms,
		geojson.Member{Key: "agreements_in_force", Value: v.InForce},
		geojson.Member{Key: "agreements_breached", Value: l.breached},
		geojson.Member{Key: "agreement_status", Value: v.AgreementStatus},
		geojson.Member{Key: "readings", Value: v.Readings},
		geojson.Member{Key: "protected_sites", Value: l.sites})
	return append(ms, l.facts.members()...)
}

// judge sums up a verdict for a report, listing up to maxSites protected
// sites (0: all).
func judge(st store.Strike, v *agreement.Verdict, maxSites int) reportLine {
	l := reportLine{strike: st, verdict: v, sites: []reportSite{}, breached: []string{}}
	for _, s := range v.Sites {
		if len(s.ProtectedBy) == 0 {
			continue
		}
		if maxSites == 0 || len(l.sites) < maxSites {
			l.sites = append(l.sites, reportSite{Collection: s.Collection, ID: s.ID, Name: s.Name,
				DistanceMeters: s.DistanceMeters, ProtectedBy: s.ProtectedBy})
		}
		for _, p := range s.ProtectedBy {
			if p.Hit && !slices.Contains(l.breached, p.Agreement) {
				l.breached = append(l.breached, p.Agreement)
			}
		}
	}
	return l
}

// reportEcho is what a report says it was asked for: every filter
// applied, null where none was.
type reportEcho struct {
	From        any                 `json:"from"`
	To          any                 `json:"to"`
	Agreement   *string             `json:"agreement"`
	Reading     *string             `json:"reading"`
	Source      []string            `json:"source"`
	Scope       []string            `json:"scope"`
	Oblast      []string            `json:"oblast"`
	Verdict     []agreement.Outcome `json:"verdict"`
	Collection  []string            `json:"collection"`
	EnergyClass []string            `json:"energy_class"`
}

// echo is the query as a report states it; the window is the one applied,
// narrowed to the agreement's.
func (q *reportQuery) echo() reportEcho {
	orNull := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return reportEcho{From: formatTime(q.window.start), To: formatTime(q.window.end),
		Agreement: orNull(q.sel.agreement), Reading: orNull(q.sel.reading), Source: q.sources, Scope: q.scope,
		Oblast: q.sel.oblasts, Verdict: q.sel.verdicts, Collection: q.sel.collections, EnergyClass: q.sel.classes}
}

// reportSummary counts a report's events (a strike recorded by several
// sources, linked, once: by the record its event is counted by among the
// report's) by verdict, and its records.
type reportSummary struct {
	events, records, disputed int
	counts                    map[agreement.Outcome]int
}

func summarize(lines []reportLine) reportSummary {
	once := countedOnce(len(lines), func(i int) *store.Strike { return &lines[i].strike }, func(i int) string { return lines[i].facts.event })
	s := reportSummary{records: len(lines), counts: map[agreement.Outcome]int{}}
	for i, l := range lines {
		if !once[i] {
			continue
		}
		s.events++
		s.counts[l.verdict.Outcome]++
		if l.verdict.AgreementStatus == agreement.Disputed {
			s.disputed++
		}
	}
	return s
}

func sendReportGeoJSON(c echo.Context, q *reportQuery, m Manifest, lines []reportLine) error {
	sum := summarize(lines)
	buf := getBuffer()
	defer putBuffer(buf)
	b := append(*buf, `{"type":"FeatureCollection","query":`...)
	b = append(b, mustJSON(q.echo())...)
	b = append(b, `,"summary":{"strikes":`...)
	b = appendInt(b, sum.events)
	b = append(b, `,"records":`...)
	b = appendInt(b, sum.records)
	for _, o := range agreement.Outcomes() {
		b = append(b, ',')
		b = geojson.AppendJSONString(b, string(o))
		b = appendInt(append(b, ':'), sum.counts[o])
	}
	b = append(b, `,"disputed":`...)
	b = appendInt(b, sum.disputed)
	b = append(b, `},"features":`...)
	features := len(b)
	b = append(b, '[')
	for i := range lines {
		if i > 0 {
			b = append(b, ',')
		}
		l := &lines[i]
		b = store.AppendFeature(b, &l.strike, l.members()...)
	}
	b = append(b, ']')
	m.BodySHA256 = digest(b[features:])
	b = append(b, `,"manifest":`...)
	*buf = append(append(b, mustJSON(m)...), "}\n"...)
	return send(c, mediaGeoJSON, *buf, false)
}

// readingsCell writes the verdict under each reading in one CSV cell, as
// agreement/reading:verdict, conditional ones marked "(conditional)".
func readingsCell(rs []agreement.ReadingVerdict) string {
	cells := make([]string, len(rs))
	for i, r := range rs {
		cells[i] = r.Agreement + "/" + r.Reading + ":" + string(r.Verdict)
		if r.Status == agreement.Conditional {
			cells[i] += "(conditional)"
		}
	}
	return strings.Join(cells, ";")
}

// reportHeader names the columns of a CSV report: the strike's, then its
// verdict, the verdict under each reading, the nearest protected site, the
// real agreements' verdict when judged under a scope, and the strike's
// facts (the nearest site whether protected or not, and its source's).
var reportHeader = append(append(append([]string{}, strikeHeader...), "verdict", "agreements_in_force", "agreements_breached",
	"agreement_status", "readings", "nearest_protected_collection", "nearest_protected_id", "nearest_protected_name", "nearest_protected_m", "protected_sites",
	"verdict_without_scope"), factColumns...)

func sendReportCSV(c echo.Context, m Manifest, lines []reportLine) error {
	body, err := reportCSVBody(lines)
	if err != nil {
		return err
	}
	m.BodySHA256 = digest(body)
	m.setHeaders(c.Response().Header())
	return send(c, mediaCSV, body, false)
}

// reportCSVBody is a report as CSV: reportHeader, then a strike a row.
func reportCSVBody(lines []reportLine) ([]byte, error) {
	var out bytes.Buffer
	w := export.NewCSVWriter(&out)
	if err := w.Write(reportHeader); err != nil {
		return nil, err
	}
	rec := make([]string, 0, len(reportHeader))
	for i := range lines {
		rec = reportRecord(rec[:0], &lines[i])
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("strike %s: %w", lines[i].strike.ID, err)
		}
	}
	w.Flush()
	return out.Bytes(), nil
}

// reportRecord appends a report row's cells, in reportHeader's order.
func reportRecord(rec []string, l *reportLine) []string {
	rec = strikeRecord(rec, &l.strike)
	rec = append(rec, string(l.verdict.Outcome), strings.Join(l.verdict.InForce, ";"), strings.Join(l.breached, ";"),
		string(l.verdict.AgreementStatus), readingsCell(l.verdict.Readings))
	if len(l.sites) > 0 {
		s := l.sites[0]
		rec = append(rec, s.Collection, s.ID, s.Name, strconv.FormatFloat(s.DistanceMeters, 'f', -1, 64))
	} else {
		rec = append(rec, "", "", "", "")
	}
	// Every protected site listed, as collection/id@metres.
	sites := make([]string, len(l.sites))
	for k, s := range l.sites {
		sites[k] = s.Collection + "/" + s.ID + "@" + strconv.FormatFloat(s.DistanceMeters, 'f', -1, 64)
	}
	return l.facts.cells(append(rec, strings.Join(sites, ";"), string(l.verdict.WithoutScope)))
}
