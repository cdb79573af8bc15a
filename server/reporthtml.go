package server

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/agreement"
)

// htmlReportPage is the printable report: one self-contained page (no
// script, no request for anything: its map is inline SVG), whose policy
// forbids anything else, so a name in the data cannot make it run or load
// a thing. Every value goes through html/template's escaping.
var htmlReportPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{{.Title}}</title>
<style>
body { font: 11pt/1.35 system-ui, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 16pt; margin: 0 0 .4em; }
h2 { font-size: 12.5pt; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; margin: .3em 0; }
th, td { border: 1px solid #aaa; padding: .15em .4em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.digest { font-family: ui-monospace, monospace; font-size: 9pt; word-break: break-all; }
table.strikes { font-size: 8.5pt; width: 100%; }
table.strikes thead { display: table-header-group; }
table.strikes tr { break-inside: avoid; }
figure { margin: .5em 0; break-inside: avoid; }
figure svg { width: 100%; max-width: 18cm; height: auto; border: 1px solid #888; }
.legend span { display: inline-block; margin-right: 1em; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 50%; margin-right: .25em; vertical-align: -.05em; }
@media print { body { margin: 0; } a { color: inherit; } }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<h2>Manifest</h2>
<table class="manifest">
<tr><th>Data version</th><td class="digest">{{.Manifest.DataVersion}}</td></tr>
<tr><th>Agreements digest (SHA-256)</th><td class="digest">{{.Manifest.AgreementsDigest}}</td></tr>
<tr><th>protectmap version</th><td>{{.Manifest.ProgramVersion}}</td></tr>
<tr><th>Generated at</th><td>{{.Generated}}</td></tr>
<tr><th>Body SHA-256 (the CSV report of this query)</th><td class="digest" id="body-sha256">{{.Manifest.BodySHA256}}</td></tr>
<tr><th>Audit log head</th><td class="digest">{{.AuditHead}}</td></tr>
</table>
<h2>Query</h2>
<table class="query">
{{range .Query}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
<h2>Verdicts</h2>
<table class="verdicts">
<tr><th>Strikes (events)</th><td class="n" id="events">{{.Summary.events}}</td></tr>
<tr><th>Records</th><td class="n" id="records">{{.Summary.records}}</td></tr>
{{range .Verdicts}}<tr><th><span class="swatch" style="background: {{.Colour}}"></span>{{.Name}}</th><td class="n">{{.Count}}</td></tr>
{{end}}<tr><th>Disputed between readings</th><td class="n">{{.Summary.disputed}}</td></tr>
</table>
<h2>Map</h2>
{{if .Map}}<figure>{{.Map}}
<figcaption class="legend">Each strike a dot coloured by its verdict, inside its uncertainty disc; protected sites hit or possibly hit as squares{{if .Outlines}}; outlines of the oblasts from the offline basemap{{end}}.</figcaption>
</figure>{{else}}<p>No strike to draw.</p>{{end}}
<h2>Strikes</h2>
<table class="strikes">
<thead><tr><th>Strike</th><th>When (UTC)</th><th>Source</th><th>Verdict</th><th>Nearest site</th><th>Distance (m)</th><th>Nearest protected site</th><th>Precision</th><th>Recorded by</th><th>Linked to</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="strike" id="strike-{{.ID}}"><td>{{.ID}}</td><td>{{.When}}</td><td>{{.Source}}{{if .EventID}} {{.EventID}}{{end}}{{if .Link}}<br><a href="{{.Link}}">{{.Link}}</a>{{end}}</td><td>{{.Verdict}}</td><td>{{.Nearest}}</td><td class="n">{{.NearestM}}</td><td>{{.Protected}}</td><td>{{.Precision}}</td><td>{{.RecordedBy}}</td><td>{{.LinkedTo}}</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// verdictColours are the map's colours of the verdicts, as the web map draws them.
var verdictColours = map[agreement.Outcome]string{
	agreement.ProtectedSiteHit:         "#c0392b",
	agreement.PossibleProtectedSiteHit: "#e67e22",
	agreement.ProtectedSiteNearby:      "#f1c40f",
	agreement.NoProtectedSite:          "#27ae60",
	agreement.LocationTooCoarse:        "#7f8c8d",
}

// htmlRow is one strike of the printable report, as text.
type htmlRow struct {
	ID, When, Source, EventID, Link, Verdict string
	Nearest, NearestM, Protected, Precision  string
	RecordedBy, LinkedTo                     string
}

type namedValue struct{ Name, Value string }

type verdictCount struct {
	Name, Colour string
	Count        int
}

// sendReportHTML writes the printable report: the manifest (its
// body_sha256 that of the same rows as the CSV report, so f=csv checks
// it), the query, the verdicts counted, a map and a row a strike.
func (h *handlers) sendReportHTML(c echo.Context, q *reportQuery, m Manifest, lines []reportLine) error {
	body, err := reportCSVBody(lines)
	if err != nil {
		return err
	}
	m.BodySHA256 = digest(body)
	sum := summarize(lines)
	page := struct {
		Title, Generated, AuditHead string
		Manifest                    Manifest
		Query                       []namedValue
		Summary                     map[string]int
		Verdicts                    []verdictCount
		Map                         template.HTML
		Outlines                    bool
		Rows                        []htmlRow
	}{Title: reportTitle(m), Generated: m.GeneratedAt.Format(time.RFC3339), AuditHead: m.AuditHead.String(), Manifest: m,
		Query: q.echo().named(), Summary: map[string]int{"events": sum.events, "records": sum.records, "disputed": sum.disputed},
		Outlines: h.oblasts != nil}
	for _, o := range agreement.Outcomes() {
		page.Verdicts = append(page.Verdicts, verdictCount{Name: string(o), Colour: verdictColours[o], Count: sum.counts[o]})
	}
	if len(lines) > 0 {
		page.Map = h.reportMap(lines)
	}
	for i := range lines {
		page.Rows = append(page.Rows, htmlRowOf(&lines[i]))
	}
	var out bytes.Buffer
	if err := htmlReportPage.Execute(&out, page); err != nil {
		return err
	}
	return send(c, mediaHTML, out.Bytes(), false)
}

// named lists every filter of the query, "all" where none was applied.
func (e reportEcho) named() []namedValue {
	text := func(v any) string {
		switch v := v.(type) {
		case string:
			return v
		case *string:
			if v != nil {
				return *v
			}
		case []string:
			if v != nil {
				return strings.Join(v, ", ")
			}
		case []agreement.Outcome:
			if v != nil {
				return fmt.Sprint(v)
			}
		}
		return "all"
	}
	return []namedValue{{"from", text(e.From)}, {"to", text(e.To)}, {"agreement", text(e.Agreement)}, {"reading", text(e.Reading)},
		{"source", text(e.Source)}, {"scope", text(e.Scope)}, {"oblast", text(e.Oblast)}, {"verdict", text(e.Verdict)},
		{"collection", text(e.Collection)}, {"energy_class", text(e.EnergyClass)}}
}

// htmlRowOf is a report line as the printable report's row.
func htmlRowOf(l *reportLine) htmlRow {
	st := &l.strike
	r := htmlRow{ID: st.ID, When: st.Time.UTC().Format(time.RFC3339), Source: st.Source, EventID: st.SourceEventID,
		Link: l.facts.link, Verdict: string(l.verdict.Outcome), Precision: l.facts.precision, RecordedBy: l.facts.recordedBy,
		LinkedTo: refsCell(l.facts.links.linked())}
	if !st.End.IsZero() {
		r.When += " to " + st.End.UTC().Format(time.RFC3339)
	}
	if st.UncertaintyMeters > 0 {
		r.Precision = strings.TrimSpace(r.Precision + " ±" + strconv.FormatFloat(st.UncertaintyMeters, 'f', -1, 64) + " m")
	}
	if n := l.facts.nearest; n != nil {
		r.Nearest = siteText(n.Name, n.Collection, n.ID) + " (" + n.Kind + ")"
		r.NearestM = strconv.FormatFloat(n.DistanceMeters, 'f', 0, 64)
	}
	if len(l.sites) > 0 {
		s := l.sites[0]
		r.Protected = siteText(s.Name, s.Collection, s.ID) + ", " + strconv.FormatFloat(s.DistanceMeters, 'f', 0, 64) + " m"
	}
	return r
}

// siteText names a site by its name, collection and id.
func siteText(name, collection, id string) string {
	if name == "" {
		return collection + "/" + id
	}
	return name + " [" + collection + "/" + id + "]"
}

// Size of the report's map, in SVG user units (pixels at 96 dpi).
const reportMapWidth = 760.0

// reportMap draws the report's strikes as inline SVG over the basemap's
// outlines: each a dot in its verdict's colour within its uncertainty disc,
// and the protected sites hit or possibly hit as squares, framed on the
// strikes (at least a degree around them). Built by hand from numbers and
// escaped names only.
func (h *handlers) reportMap(lines []reportLine) template.HTML {
	var box orb.Bound
	for i := range lines {
		p := lines[i].strike.Point
		if i == 0 {
			box = orb.Bound{Min: p, Max: p}
		}
		box = box.Extend(p)
	}
	box = box.Pad(0.5)
	midLat := (box.Min[1] + box.Max[1]) / 2
	kx := math.Cos(midLat * math.Pi / 180)
	scale := reportMapWidth / ((box.Max[0] - box.Min[0]) * kx)
	height := (box.Max[1] - box.Min[1]) * scale
	xy := func(p orb.Point) (float64, float64) {
		return (p[0] - box.Min[0]) * kx * scale, (box.Max[1] - p[1]) * scale
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="Map of the report's strikes">`, reportMapWidth, height)
	b.WriteString(`<rect width="100%" height="100%" fill="#eef3f7"/>`)
	if h.oblasts != nil {
		b.WriteString(`<g fill="#fbfbf8" stroke="#777" stroke-width="0.6">`)
		l := h.oblasts.layer
		for i := range l.Len() {
			var polys orb.MultiPolygon
			switch g := l.Feature(i).Geometry.(type) {
			case orb.Polygon:
				polys = orb.MultiPolygon{g}
			case orb.MultiPolygon:
				polys = g
			}
			if len(polys) == 0 || !polys.Bound().Intersects(box) {
				continue
			}
			b.WriteString(`<path d="`)
			for _, poly := range polys {
				for _, ring := range poly {
					for k, p := range ring {
						x, y := xy(p)
						if k == 0 {
							fmt.Fprintf(&b, "M%.1f %.1f", x, y)
						} else {
							fmt.Fprintf(&b, "L%.1f %.1f", x, y)
						}
					}
					b.WriteByte('Z')
				}
			}
			b.WriteString(`"/>`)
		}
		b.WriteString(`</g>`)
	}
	const metersPerDegree = 111_320.0
	b.WriteString(`<g class="sites">`)
	for i := range lines {
		for _, s := range lines[i].verdict.Sites {
			if !slices.ContainsFunc(s.ProtectedBy, func(p agreement.Protection) bool { return p.Hit || p.PossibleHit }) {
				continue
			}
			x, y := xy(s.Hit.Nearest)
			fmt.Fprintf(&b, `<rect class="site" x="%.1f" y="%.1f" width="7" height="7" fill="#2c3e50"><title>%s</title></rect>`,
				x-3.5, y-3.5, template.HTMLEscapeString(siteText(s.Name, s.Collection, s.ID)))
		}
	}
	// Every disc first, so none hides another strike's dot.
	b.WriteString(`</g><g class="discs" fill-opacity="0.08" stroke-width="0.6">`)
	for i := range lines {
		l := &lines[i]
		if r := l.strike.UncertaintyMeters / metersPerDegree * scale; r > 2 {
			x, y := xy(l.strike.Point)
			colour := verdictColours[l.verdict.Outcome]
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="%s"/>`, x, y, r, colour, colour)
		}
	}
	b.WriteString(`</g><g class="strikes" stroke="#000" stroke-width="0.5">`)
	for i := range lines {
		l := &lines[i]
		x, y := xy(l.strike.Point)
		fmt.Fprintf(&b, `<circle class="strike" cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s</title></circle>`,
			x, y, verdictColours[l.verdict.Outcome], template.HTMLEscapeString(l.strike.ID+": "+string(l.verdict.Outcome)))
	}
	b.WriteString(`</g></svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text only
}
