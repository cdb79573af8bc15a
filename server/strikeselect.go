package server

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/server/store"
)

// strikeSelection is what an analyst asks of the strike log beyond its
// own fields: a window, the oblast a strike lies in, and what its verdict
// says. /strikes, /strikes/summary and /report read it alike.
type strikeSelection struct {
	window   span // from and to, both included
	oblasts  []string
	verdicts []agreement.Outcome
	// agreement judges by that agreement alone, within its window; reading
	// then takes the verdict under that one reading of it.
	agreement, reading string
	// collections and classes keep the strikes that hit, or possibly hit, a
	// protected site of one of these collections or energy classes.
	collections, classes []string
}

// selectionNames are the parameters of a strikeSelection.
var selectionNames = []string{"from", "to", "oblast", "verdict", "agreement", "reading", "collection", "energy_class"}

var selectionParams = params[strikeSelection]{
	"from":      func(q *strikeSelection, v string) error { return q.window.setStart(v) },
	"to":        func(q *strikeSelection, v string) error { return q.window.setEnd(v) },
	"agreement": func(q *strikeSelection, v string) error { q.agreement = v; return nil },
	"reading":   func(q *strikeSelection, v string) error { q.reading = v; return nil },
	"oblast": func(q *strikeSelection, v string) (err error) {
		q.oblasts, err = parseList(v, "oblast", nil)
		return err
	},
	"verdict": func(q *strikeSelection, v string) error {
		names, err := parseList(v, "verdict", verdictNames())
		q.verdicts = make([]agreement.Outcome, len(names))
		for i, n := range names {
			q.verdicts[i] = agreement.Outcome(n)
		}
		return err
	},
	"collection": func(q *strikeSelection, v string) (err error) { q.collections, err = parseNames(v); return err },
	"energy_class": func(q *strikeSelection, v string) (err error) {
		q.classes, err = parseList(v, "energy class", agreement.EnergyClasses())
		return err
	},
}

// verdictNames are the verdicts a selection may name: a strike's, and
// not_in_force, a reading's.
func verdictNames() []string {
	var out []string
	for _, o := range agreement.Outcomes() {
		out = append(out, string(o))
	}
	return append(out, string(agreement.NotInForce))
}

// maxListed bounds the values one list parameter names.
const maxListed = 50

// parseList reads comma-separated values, each one of choices when they
// are given.
func parseList(v, what string, choices []string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return nil, fmt.Errorf("an empty %s; name them comma-separated", what)
		case choices != nil && !slices.Contains(choices, s):
			return nil, fmt.Errorf("no %s %q; the %ss are %s", what, s, what, strings.Join(choices, ", "))
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	}
	if len(out) > maxListed {
		return nil, fmt.Errorf("%d values, more than %d", len(out), maxListed)
	}
	return out, nil
}

// strikeFilter is a selection checked against the data served: the
// agreements verdicts judge by and the outlines oblasts are found in.
type strikeFilter struct {
	strikeSelection
	set      *agreement.AgreementSet
	outlines *oblasts
	// scope, when given, adds a hypothetical agreement to each verdict (see
	// agreement.VerdictQuery).
	scope []string
}

// strikeFindings are what a filter learns of a strike: its oblast ("" outside
// every outline) and, when judged, its verdict and the outcome counted
// (the reading's when the selection names one).
type strikeFindings struct {
	oblast  string
	verdict *agreement.Verdict
	outcome agreement.Outcome
}

// filter checks sel against the data the request is answered from. An
// agreement narrows the window to its own (its end excluded) and the
// verdicts to itself.
func (h *handlers) filter(c echo.Context, sel strikeSelection) (*strikeFilter, error) {
	ix := h.index(c)
	set, err := h.agreementsFor(ix)
	if err != nil {
		return nil, err
	}
	f := &strikeFilter{strikeSelection: sel, set: set, outlines: h.oblasts}
	if sel.agreement != "" {
		a, ok := set.Agreement(sel.agreement)
		if !ok {
			return nil, paramError("agreement", "no agreement %q; GET /agreements lists them", sel.agreement)
		}
		if f.set, err = agreement.NewAgreementSet(ix, []agreement.Agreement{*a}); err != nil {
			return nil, err
		}
		f.window.start = maxOf(f.window.start, instantOf(a.Start))
		if a.End != nil {
			f.window.end = minOf(f.window.end, instantOf(a.End.Add(-time.Nanosecond)))
		}
		if sel.reading != "" && !slices.ContainsFunc(a.Readings, func(r agreement.Reading) bool { return r.ID == sel.reading }) {
			return nil, paramError("reading", "agreement %q has no reading %q; GET /agreements/%s lists them", sel.agreement, sel.reading, sel.agreement)
		}
	} else if sel.reading != "" {
		return nil, paramError("reading", "names a reading of the agreement given with agreement, which is missing")
	}
	if sel.reading == "" && slices.Contains(sel.verdicts, agreement.NotInForce) {
		return nil, paramError("verdict", "%s is a reading's verdict; name the reading with agreement and reading", agreement.NotInForce)
	}
	if f.window.empty() {
		return nil, paramError("to", "the window ends before it starts")
	}
	for _, name := range sel.collections {
		if _, ok := ix.Layer(name); !ok {
			return nil, paramError("collection", "no collection %q; GET /collections lists them", name)
		}
	}
	if len(sel.oblasts) > 0 {
		if h.oblasts == nil {
			return nil, paramError("oblast", "this server has no oblast outlines (they come with the offline basemap)")
		}
		known := h.oblasts.known()
		for _, o := range sel.oblasts {
			if !slices.Contains(known, o) {
				return nil, paramError("oblast", "no oblast %q; the ISO 3166-2 codes are %s", o, strings.Join(known, ", "))
			}
		}
	}
	return f, nil
}

// narrow applies the filter's window to a store query.
func (f *strikeFilter) narrow(sq *store.Query) {
	w := f.window
	if sq.From != nil {
		w.start = maxOf(w.start, instantOf(*sq.From))
	}
	if sq.To != nil {
		w.end = minOf(w.end, instantOf(*sq.To))
	}
	sq.From, sq.To = w.from(), w.to()
}

// judges reports whether the filter needs a strike's verdict to select it.
func (f *strikeFilter) judges() bool {
	return len(f.verdicts) > 0 || len(f.collections) > 0 || len(f.classes) > 0
}

// active reports whether the filter selects among the strikes the store
// finds, rather than taking them all.
func (f *strikeFilter) active() bool { return f.judges() || len(f.oblasts) > 0 }

// examine finds st's oblast and, when judge is set or the filter needs
// it, its verdict, and reports whether the filter selects st.
func (f *strikeFilter) examine(st *store.Strike, judge bool) (strikeFindings, bool, error) {
	var facts strikeFindings
	if f.outlines != nil {
		facts.oblast = f.outlines.at(st.Point)
	}
	if len(f.oblasts) > 0 && !slices.Contains(f.oblasts, facts.oblast) {
		return facts, false, nil
	}
	if !judge && !f.judges() {
		return facts, true, nil
	}
	vq := agreement.NewVerdictQuery(st.Geo())
	vq.Scope = f.scope
	v, err := f.set.Verdict(vq)
	if err != nil {
		return facts, false, fmt.Errorf("strike %s: %w", st.ID, err)
	}
	facts.verdict, facts.outcome = v, v.Outcome
	if f.reading != "" {
		if i := slices.IndexFunc(v.Readings, func(r agreement.ReadingVerdict) bool { return r.Reading == f.reading }); i >= 0 {
			facts.outcome = v.Readings[i].Verdict
		}
	}
	if len(f.verdicts) > 0 && !slices.Contains(f.verdicts, facts.outcome) {
		return facts, false, nil
	}
	if len(f.collections) > 0 || len(f.classes) > 0 {
		return facts, f.hitsKept(v), nil
	}
	return facts, true, nil
}

// hitsKept reports whether v hits, or possibly hits, a protected site of
// the collections and energy classes asked for (under the reading asked
// for, when one is).
func (f *strikeFilter) hitsKept(v *agreement.Verdict) bool {
	for i := range v.Sites {
		s := &v.Sites[i]
		if !f.hits(s) {
			continue
		}
		if len(f.collections) > 0 && !slices.Contains(f.collections, s.Collection) {
			continue
		}
		if len(f.classes) > 0 && !slices.Contains(f.classes, siteClass(s.Hit)) {
			continue
		}
		return true
	}
	return false
}

// siteClass is the energy class of a site; "" outside the energy layer.
func siteClass(h geo.Hit) string {
	if h.Layer == nil || h.Layer.Name() != agreement.EnergyLayer {
		return ""
	}
	return agreement.EnergyClass(h.Feature.Kind, h.Feature.Properties)
}

// hits reports whether a site is hit, or possibly hit, under the reading
// asked for (any, when none is).
func (f *strikeFilter) hits(s *agreement.SiteVerdict) bool {
	return slices.ContainsFunc(s.ProtectedBy, func(p agreement.Protection) bool {
		return (p.Hit || p.PossibleHit) && (f.reading == "" || p.Reading == f.reading)
	})
}

// collectionsHit names the collections of the sites v hits or possibly
// hits (see hits), sorted and comma-separated; "" when none.
func (f *strikeFilter) collectionsHit(v *agreement.Verdict) string {
	var names []string
	for i := range v.Sites {
		if s := &v.Sites[i]; f.hits(s) && !slices.Contains(names, s.Collection) {
			names = append(names, s.Collection)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
