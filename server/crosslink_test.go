package server_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/internal/testenv"
)

// linkRecord is a strike as the linking oracle sees it.
type linkRecord struct {
	id, source  string
	point       orb.Point
	start, end  time.Time // end zero: a strike at one instant
	uncertainty float64
}

// linkOracle is the README's linking rule worked out pair by pair over
// every record: what each is linked to, the candidates it matched without
// linking, and the record each one's event is counted by.
type linkOracle struct {
	linked, candidates map[string][]string
	event              map[string]string
	byID               map[string]linkRecord
}

func newLinkOracle(recs []linkRecord) *linkOracle {
	span := func(r linkRecord) (time.Time, time.Time) {
		if r.end.IsZero() {
			d := time.Date(r.start.UTC().Year(), r.start.UTC().Month(), r.start.UTC().Day(), 0, 0, 0, 0, time.UTC)
			return d, d.AddDate(0, 0, 1)
		}
		return r.start, r.end
	}
	match := func(a, b linkRecord) bool {
		as, ae := span(a)
		bs, be := span(b)
		week := 7 * 24 * time.Hour
		return a.source != b.source && ae.Sub(as) <= week && be.Sub(bs) <= week && as.Before(be) && bs.Before(ae) &&
			geodesy.Distance(a.point, b.point) <= a.uncertainty+b.uncertainty+100
	}
	matches := map[string][]string{}
	o := &linkOracle{linked: map[string][]string{}, candidates: map[string][]string{}, event: map[string]string{}, byID: map[string]linkRecord{}}
	for i, a := range recs {
		o.byID[a.id] = a
		for _, b := range recs[i+1:] {
			if match(a, b) {
				matches[a.id] = append(matches[a.id], b.id)
				matches[b.id] = append(matches[b.id], a.id)
			}
		}
	}
	of := func(id, source string) (n int) {
		for _, m := range matches[id] {
			if o.byID[m].source == source {
				n++
			}
		}
		return n
	}
	for _, a := range recs {
		o.event[a.id] = a.id
		for _, m := range matches[a.id] {
			if of(a.id, o.byID[m].source) == 1 && of(m, a.source) == 1 {
				o.linked[a.id] = append(o.linked[a.id], m)
			} else {
				o.candidates[a.id] = append(o.candidates[a.id], m)
			}
		}
		slices.Sort(o.linked[a.id])
		slices.Sort(o.candidates[a.id])
	}
	// Each event is counted by its best located record, then earliest, then least id.
	for changed := true; changed; {
		changed = false
		for id, links := range o.linked {
			for _, m := range links {
				if e, f := o.event[id], o.event[m]; e != f {
					best := e
					if o.before(f, e) {
						best = f
					}
					o.event[id], o.event[m], changed = best, best, true
				}
			}
		}
	}
	return o
}

// before orders the records of an event as they are counted.
func (o *linkOracle) before(a, b string) bool {
	ra, rb := o.byID[a], o.byID[b]
	return cmp.Or(cmp.Compare(ra.uncertainty, rb.uncertainty), ra.start.Compare(rb.start), cmp.Compare(a, b)) < 0
}

// counted marks, of the ids selected, those their event is counted by.
func (o *linkOracle) counted(selected []string) map[string]bool {
	best := map[string]string{}
	for _, id := range selected {
		e := o.event[id]
		if b, ok := best[e]; !ok || o.before(id, b) {
			best[e] = id
		}
	}
	out := map[string]bool{}
	for _, id := range best {
		out[id] = true
	}
	return out
}

// refIDs reads the ids of a linked_to or link_candidates property.
func refIDs(t *testing.T, v any) []string {
	t.Helper()
	if v == nil {
		return nil
	}
	var ids []string
	for _, r := range v.([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	return ids
}

// linkRecords reads every strike of the log as the oracle takes it, with
// the links the server gives each on /strikes.
func linkRecords(t *testing.T, f *strikeFixture) ([]linkRecord, map[string][2][]string) {
	t.Helper()
	served := map[string][2][]string{}
	var recs []linkRecord
	for target := "/strikes?limit=10000"; target != ""; {
		page := f.getJSON(t, target)
		for _, ft := range page["features"].([]any) {
			ft := ft.(map[string]any)
			p := ft["properties"].(map[string]any)
			c := ft["geometry"].(map[string]any)["coordinates"].([]any)
			r := linkRecord{id: ft["id"].(string), source: p["source"].(string), point: orb.Point{c[0].(float64), c[1].(float64)}}
			r.uncertainty, _ = p["uncertainty_m"].(float64)
			var err error
			if r.start, err = time.Parse(time.RFC3339Nano, p["datetime"].(string)); err != nil {
				t.Fatal(err)
			}
			if end, ok := p["end"].(string); ok {
				if r.end, err = time.Parse(time.RFC3339Nano, end); err != nil {
					t.Fatal(err)
				}
			}
			recs = append(recs, r)
			served[r.id] = [2][]string{refIDs(t, p["linked_to"]), refIDs(t, p["link_candidates"])}
		}
		target = nextLink(t, page)
	}
	return recs, served
}

// checkLinks compares the links served with the oracle's, and the events
// counted by /strikes, /strikes/summary and /report, for the whole log and
// for query.
func checkLinks(t *testing.T, f *strikeFixture, query string, keep func(linkRecord) bool) *linkOracle {
	t.Helper()
	recs, served := linkRecords(t, f)
	o := newLinkOracle(recs)
	wrong := 0
	for _, r := range recs {
		got := served[r.id]
		if !slices.Equal(got[0], o.linked[r.id]) || !slices.Equal(got[1], o.candidates[r.id]) {
			if wrong++; wrong <= 5 {
				t.Errorf("%s: linked to %v, candidates %v; want %v and %v", r.id, got[0], got[1], o.linked[r.id], o.candidates[r.id])
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d records linked otherwise than the rule says", wrong, len(recs))
	}
	var selected []string
	for _, r := range recs {
		if keep(r) {
			selected = append(selected, r.id)
		}
	}
	events := float64(len(o.counted(selected)))
	page := f.getJSON(t, "/strikes?limit=1&"+query)
	if page["numberMatched"] != float64(len(selected)) || page["numberEvents"] != events {
		t.Errorf("/strikes?%s: numberMatched %v, numberEvents %v; want %d and %v", query, page["numberMatched"], page["numberEvents"], len(selected), events)
	}
	sum := f.getJSON(t, "/strikes/summary?by=month&"+query)
	total := 0.0
	for _, r := range sum["rows"].([]any) {
		total += r.(map[string]any)["count"].(float64)
	}
	if sum["strikes"] != events || total != events || sum["records"] != float64(len(selected)) {
		t.Errorf("/strikes/summary?%s: strikes %v, rows add up to %v, records %v; want %v events of %d records", query, sum["strikes"], total, sum["records"], events, len(selected))
	}
	report := f.getJSON(t, "/report?"+query)["summary"].(map[string]any)
	if report["strikes"] != events || report["records"] != float64(len(selected)) {
		t.Errorf("/report?%s: strikes %v, records %v; want %v events of %d records", query, report["strikes"], report["records"], events, len(selected))
	}
	return o
}

// nextLink is the href of a page's next link, as a request target; "" on the last.
func nextLink(t *testing.T, page map[string]any) string {
	t.Helper()
	for _, l := range page["links"].([]any) {
		if l := l.(map[string]any); l["rel"] == "next" {
			u, err := url.Parse(l["href"].(string))
			if err != nil {
				t.Fatal(err)
			}
			return u.RequestURI()
		}
	}
	return ""
}

// TestCrossSourcePairs: pairs of records that must be linked as one event
// (same day, or overlapping windows, within their uncertainties), and
// pairs and groups that must not (one source, another day, too far apart,
// a window longer than a week, one record matching two of a source), each
// checked on both records and in the counts.
func TestCrossSourcePairs(t *testing.T) {
	d := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	type rec struct {
		lon, lat float64
		when     time.Time
		extra    string
	}
	for _, tc := range []struct {
		name  string
		recs  []rec
		links [][2]int // pairs linked; every other pair is not
		cands [][2]int // pairs that matched without linking
	}{
		{"same day within uncertainties", []rec{
			{30.5, 50.45, d.Add(3 * time.Hour), `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.55, 50.45, d.Add(20 * time.Hour), `"source":"UCDP","event_id":"U1","uncertainty_m":1000`}}, [][2]int{{0, 1}}, nil},
		{"window overlapping a day", []rec{
			{30.5, 50.45, d.Add(48 * time.Hour), `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.5, 50.45, d, `"source":"UCDP","event_id":"U1","uncertainty_m":25000,"end":"` + d.AddDate(0, 0, 3).Format(time.RFC3339) + `"`}}, [][2]int{{0, 1}}, nil},
		{"points placed exactly, 80 m apart", []rec{
			{30.5, 50.45, d, `"source":"ACLED","event_id":"A1"`},
			{30.5, 50.45072, d, `"source":"press","event_id":"P1"`}}, [][2]int{{0, 1}}, nil},
		{"one source", []rec{
			{30.5, 50.45, d, `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.5, 50.45, d, `"source":"ACLED","event_id":"A2","uncertainty_m":5000`}}, nil, nil},
		{"the next day", []rec{
			{30.5, 50.45, d.Add(23 * time.Hour), `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.5, 50.45, d.Add(25 * time.Hour), `"source":"UCDP","event_id":"U1","uncertainty_m":5000`}}, nil, nil},
		{"a window ending as the day starts", []rec{
			{30.5, 50.45, d.AddDate(0, 0, 3), `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.5, 50.45, d, `"source":"UCDP","event_id":"U1","uncertainty_m":5000,"end":"` + d.AddDate(0, 0, 3).Format(time.RFC3339) + `"`}}, nil, nil},
		{"farther apart than the uncertainties", []rec{
			{30.5, 50.45, d, `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.5, 50.55, d, `"source":"UCDP","event_id":"U1","uncertainty_m":5000`}}, nil, nil},
		{"a window longer than a week", []rec{
			{30.5, 50.45, d.AddDate(0, 0, 2), `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.5, 50.45, d, `"source":"UCDP","event_id":"U1","uncertainty_m":5000,"end":"` + d.AddDate(0, 0, 8).Format(time.RFC3339) + `"`}}, nil, nil},
		{"one record matching two of a source", []rec{
			{30.5, 50.45, d, `"source":"ACLED","event_id":"A1","uncertainty_m":25000`},
			{30.45, 50.45, d, `"source":"UCDP","event_id":"U1","uncertainty_m":1000`},
			{30.6, 50.45, d, `"source":"UCDP","event_id":"U2","uncertainty_m":1000`}}, nil, [][2]int{{0, 1}, {0, 2}}},
		{"three sources", []rec{
			{30.5, 50.45, d, `"source":"ACLED","event_id":"A1","uncertainty_m":5000`},
			{30.51, 50.45, d, `"source":"UCDP","event_id":"U1","uncertainty_m":5000`},
			{30.52, 50.45, d, `"source":"press","event_id":"P1","uncertainty_m":100`}}, [][2]int{{0, 1}, {0, 2}, {1, 2}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStrikeFixture(t, sqliteStore(t))
			var b strings.Builder
			b.WriteString(`{"type":"FeatureCollection","features":[`)
			for i, r := range tc.recs {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strikeAt(r.lon, r.lat, r.when, r.extra))
			}
			b.WriteString("]}")
			var ids []string
			for _, res := range f.post(t, "application/geo+json", b.String(), http.StatusCreated)["strikes"].([]any) {
				ids = append(ids, res.(map[string]any)["id"].(string))
			}
			want := func(pairs [][2]int) map[string][]string {
				out := map[string][]string{}
				for _, p := range pairs {
					out[ids[p[0]]] = append(out[ids[p[0]]], ids[p[1]])
					out[ids[p[1]]] = append(out[ids[p[1]]], ids[p[0]])
				}
				for _, v := range out {
					slices.Sort(v)
				}
				return out
			}
			wantLinks, wantCands := want(tc.links), want(tc.cands)
			_, served := linkRecords(t, f)
			for _, id := range ids {
				if got := served[id]; !slices.Equal(got[0], wantLinks[id]) || !slices.Equal(got[1], wantCands[id]) {
					t.Errorf("%s: linked to %v, candidates %v; want %v and %v", id, got[0], got[1], wantLinks[id], wantCands[id])
				}
				doc := decode(t, f.get(t, "/strikes/"+id).Body.Bytes())
				if got := refIDs(t, props(t, doc)["linked_to"]); !slices.Equal(got, wantLinks[id]) {
					t.Errorf("GET /strikes/%s: linked to %v, want %v", id, got, wantLinks[id])
				}
			}
			events := len(ids)
			if len(tc.links) > 0 {
				events = 1
			}
			checkLinks(t, f, "", func(linkRecord) bool { return true })
			if page := f.getJSON(t, "/strikes"); page["numberEvents"] != float64(events) {
				t.Errorf("numberEvents %v, want %d", page["numberEvents"], events)
			}
		})
	}
}

// TestCrossSourceOracle: a dense log of three sources, instants and
// windows, precise and coarse, is linked record by record as the rule
// worked out pair by pair says, and counted so, whole and by source.
func TestCrossSourceOracle(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	rng := rand.New(rand.NewPCG(7, 11))
	sources := []string{"ACLED", "UCDP", "press"}
	uncertainties := []float64{0, 50, 1000, 5000, 25000}
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	// Events across a country, each recorded by some of the sources, near
	// where it happened and dated to its day or a window around it.
	n := 0
	for range 250 {
		lon, lat := 29.5+rng.Float64()*3, 49.5+rng.Float64()*1.5
		day := base.AddDate(0, 0, rng.IntN(90))
		for _, source := range sources {
			if rng.IntN(5) < 2 {
				continue
			}
			u := uncertainties[rng.IntN(len(uncertainties))]
			shift := u / 111_000 * 0.7
			when := day.Add(time.Duration(rng.IntN(24*60)) * time.Minute)
			extra := fmt.Sprintf(`"source":%q,"event_id":"E%d","uncertainty_m":%v`, source, n, u)
			if rng.IntN(4) == 0 {
				when = day.AddDate(0, 0, -rng.IntN(3))
				extra += fmt.Sprintf(`,"end":%q`, when.AddDate(0, 0, 1+rng.IntN(9)).Format(time.RFC3339))
			}
			if n > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strikeAt(lon+(rng.Float64()-0.5)*shift, lat+(rng.Float64()-0.5)*shift, when, extra))
			n++
		}
	}
	b.WriteString("]}")
	f.post(t, "application/geo+json", b.String(), http.StatusCreated)
	o := checkLinks(t, f, "", func(linkRecord) bool { return true })
	linked, ambiguous := 0, 0
	for id := range o.byID {
		if len(o.linked[id]) > 0 {
			linked++
		}
		if len(o.candidates[id]) > 0 {
			ambiguous++
		}
	}
	if linked < 20 || ambiguous < 20 {
		t.Fatalf("%d records linked, %d with candidates: the log tells too little", linked, ambiguous)
	}
	checkLinks(t, f, "source=ACLED,press", func(r linkRecord) bool { return r.source != "UCDP" })
	checkLinks(t, f, "from=2024-03-10&to=2024-03-19", func(r linkRecord) bool {
		return !r.start.Before(base.AddDate(0, 0, 9)) && r.start.Before(base.AddDate(0, 0, 19))
	})
}

// TestCrossSourceUCDP: the UCDP events in Ukraine as published, and a
// monitor's records of some of them (each near the event's place, on a
// day of its window, located to 1 km), are linked as the rule worked out
// pair by pair says: UCDP's own events never to each other, and each
// monitor record to its event unless another UCDP event matches it, or
// another monitor record its event, when they are named as candidates.
func TestCrossSourceUCDP(t *testing.T) {
	body, err := os.ReadFile(testenv.SharedData(t, "ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2023.csv"))
	if err != nil {
		t.Fatal(err)
	}
	f := newStrikeFixture(t, sqliteStore(t))
	f.post(t, "text/csv", string(body), http.StatusCreated)
	ucdp, _ := linkRecords(t, f)
	// /strikes orders records of one instant by id, whose tail is random:
	// the records copied are picked in an order the data alone fixes.
	slices.SortStableFunc(ucdp, func(a, b linkRecord) int {
		return cmp.Or(a.start.Compare(b.start), a.end.Compare(b.end), cmp.Compare(a.point[0], b.point[0]),
			cmp.Compare(a.point[1], b.point[1]), cmp.Compare(a.uncertainty, b.uncertainty))
	})
	rng := rand.New(rand.NewPCG(3, 5))
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	copied := map[string]string{} // monitor event id: UCDP record id
	for i, r := range ucdp {
		if i%11 != 0 || r.uncertainty > 25_000 || (!r.end.IsZero() && r.end.Sub(r.start) > 7*24*time.Hour) {
			continue
		}
		if len(copied) > 0 {
			b.WriteByte(',')
		}
		id := fmt.Sprintf("M%d", i)
		copied[id] = r.id
		shift := r.uncertainty / 111_000 * 0.5
		b.WriteString(strikeAt(r.point[0]+(rng.Float64()-0.5)*shift, r.point[1]+(rng.Float64()-0.5)*shift, r.start.Add(12*time.Hour),
			fmt.Sprintf(`"source":"monitor","event_id":%q,"uncertainty_m":1000`, id)))
	}
	b.WriteString("]}")
	f.post(t, "application/geo+json", b.String(), http.StatusCreated)
	o := checkLinks(t, f, "", func(linkRecord) bool { return true })
	checkLinks(t, f, "source=UCDP", func(r linkRecord) bool { return r.source == "UCDP" })
	linked, ambiguous, shared := 0, 0, 0
	for _, id := range pagedIDs(t, f, "/strikes?source=monitor&limit=1000") {
		switch c := o.candidates[id]; {
		case len(o.linked[id]) == 1:
			linked++
		case len(c) > 1:
			ambiguous++
		case len(c) == 1 && len(o.candidates[c[0]]) > 1:
			// Its event is matched by another monitor record as well.
			shared++
		default:
			t.Errorf("monitor record %s: linked to %v, candidates %v", id, o.linked[id], c)
		}
	}
	t.Logf("%d UCDP events, %d monitor records: %d linked, %d matching several UCDP events, %d matching one that another monitor record matches too",
		len(ucdp), len(copied), linked, ambiguous, shared)
	if linked == 0 || ambiguous == 0 {
		t.Errorf("%d linked, %d ambiguous: the data tells too little", linked, ambiguous)
	}
}
