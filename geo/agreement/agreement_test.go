package agreement

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// The fixture: a few sites around Kyiv in three collections.
var (
	plantPoint = orb.Point{30.50, 50.40}
	substation = orb.Polygon{{{30.60, 50.40}, {30.61, 50.40}, {30.61, 50.41}, {30.60, 50.41}, {30.60, 50.40}}}
	powerLine  = orb.LineString{{30.70, 50.40}, {30.80, 50.45}}
	hospital1  = orb.Point{30.52, 50.45}
	hospital2  = orb.Point{30.90, 50.30}
	bridgeLine = orb.LineString{{30.55, 50.44}, {30.57, 50.45}}
	// The fixture moratorium's window, as in the default agreements.
	moratoriumT   = time.Date(2025, 3, 18, 0, 0, 0, 0, time.FixedZone("EET", 2*3600))
	moratoriumEnd = time.Date(2025, 4, 17, 0, 0, 0, 0, time.FixedZone("EEST", 3*3600))
)

type fixtureSite struct {
	id    string
	props string
	geom  orb.Geometry
}

func fixtureLayer(t testing.TB, name string, sites ...fixtureSite) *geo.Layer {
	t.Helper()
	fs := make([]geo.Feature, len(sites))
	for i, s := range sites {
		fs[i] = geo.Feature{ID: s.id, Geometry: s.geom, Properties: json.RawMessage(s.props)}
		var p struct{ Name, Kind string }
		if err := json.Unmarshal(fs[i].Properties, &p); err != nil {
			t.Fatal(err)
		}
		fs[i].Name, fs[i].Kind = p.Name, p.Kind
	}
	l, err := geo.NewLayer(name, name+".geojson", fs)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fixtureIndex(t testing.TB) *geo.Index {
	t.Helper()
	ix, err := geo.NewIndex(
		fixtureLayer(t, "energy",
			fixtureSite{"plant-1", `{"name":"Plant One","kind":"plant","capacity_mw":500}`, plantPoint},
			fixtureSite{"sub-1", `{"name":"Substation One","kind":"substation","voltage_kv":330}`, substation},
			fixtureSite{"line-1", `{"kind":"line","voltage_kv":750}`, powerLine}),
		fixtureLayer(t, "hospitals",
			fixtureSite{"hosp-1", `{"name":"Hospital One","kind":"hospital"}`, hospital1},
			fixtureSite{"hosp-2", `{"name":"Hospital Two","kind":"hospital"}`, hospital2}),
		fixtureLayer(t, "bridges",
			fixtureSite{"bridge-1", `{"name":"Bridge One","kind":"bridge"}`, bridgeLine}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// agreementJSONWith is a valid agreement, as JSON, with members replaced or
// (given nil) removed.
func agreementJSONWith(t testing.TB, over map[string]any) string {
	t.Helper()
	a := map[string]any{
		"id": "moratorium", "title": "Energy moratorium", "source": "https://example.org/readout",
		"start": "2025-03-18T00:00:00+02:00", "end": "2025-04-17T00:00:00+03:00",
		"collections": []string{"energy"}, "buffer_m": 500,
		"filters": []map[string]any{{"property": "kind", "in": []string{"plant", "substation"}}},
	}
	maps.Copy(a, over)
	for k, v := range over {
		if v == nil {
			delete(a, k)
		}
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func agreementsDoc(agreements ...string) string {
	return `{"agreements":[` + strings.Join(agreements, ",") + `]}`
}

func TestDecodeAgreementsRejects(t *testing.T) {
	with := func(over map[string]any) string { return agreementsDoc(agreementJSONWith(t, over)) }
	tests := []struct {
		name string
		doc  string
		want []string // each must appear in the error
	}{
		{"not JSON", `{"agreements": [`, []string{"agreements.json", "invalid JSON"}},
		{"trailing data", `{"agreements": []} {}`, []string{"data after the document"}},
		{"no agreements member", `{}`, []string{`missing the "agreements" array`}},
		{"unknown top-level member", `{"agreements": [], "version": 2}`, []string{`unknown field "version"`}},
		{"misspelt member", with(map[string]any{"colections": []string{"x"}}),
			[]string{"agreement 0", `unknown field "colections"`}},
		{"buffer as a string", with(map[string]any{"buffer_m": "500"}),
			[]string{"agreement 0", "buffer_m: is a JSON string, want a number"}},
		{"collections as a string", with(map[string]any{"collections": "energy"}),
			[]string{"collections: is a JSON string, want an array"}},
		{"missing start", with(map[string]any{"start": nil}), []string{`(id "moratorium"): start: required`}},
		{"start without offset", with(map[string]any{"start": "2025-03-18T00:00:00"}),
			[]string{`start: "2025-03-18T00:00:00" is not an RFC 3339 time`}},
		{"end as a date", with(map[string]any{"end": "2025-04-17"}), []string{`end: "2025-04-17" is not an RFC 3339 time`}},
		{"end before start", with(map[string]any{"end": "2025-03-01T00:00:00Z"}),
			[]string{`agreement 0 (id "moratorium"): end: 2025-03-01T00:00:00Z is not after start 2025-03-18T00:00:00+02:00`}},
		{"end equal to start", with(map[string]any{"end": "2025-03-17T22:00:00Z"}), []string{"end:", "is not after start"}},
		{"negative buffer", with(map[string]any{"buffer_m": -1}), []string{"buffer_m: -1 is outside [0, 200000] metres"}},
		{"huge buffer", with(map[string]any{"buffer_m": 1e6}), []string{"buffer_m: 1e+06 is outside"}},
		{"missing id", with(map[string]any{"id": nil}), []string{"agreement 0: id: required"}},
		{"id with a slash", with(map[string]any{"id": "a/b"}), []string{`id: "a/b" must be letters`}},
		{"reserved id", with(map[string]any{"id": "scope"}), []string{`id: "scope" is reserved`}},
		{"missing source", with(map[string]any{"source": " "}), []string{"source: required"}},
		{"missing title", with(map[string]any{"title": nil}), []string{"title: required"}},
		{"covers nothing", with(map[string]any{"collections": nil, "filters": nil}),
			[]string{"covers nothing: give collections, sites, zones or some of them"}},
		{"filters without collections", with(map[string]any{"collections": nil, "sites": []SiteRef{{"hospitals", "hosp-1"}}}),
			[]string{"filters: filters narrow collections, and there are none"}},
		{"filter without values", with(map[string]any{"filters": []Filter{{Property: "kind"}}}),
			[]string{"filters[0].in: required"}},
		{"filter without property", with(map[string]any{"filters": []Filter{{In: []string{"x"}}}}),
			[]string{"filters[0].property: required"}},
		{"site without id", with(map[string]any{"sites": []SiteRef{{Collection: "hospitals"}}}), []string{"sites[0].id: required"}},
		{"collection twice", with(map[string]any{"collections": []string{"energy", "energy"}}),
			[]string{`collections[1]: "energy" is listed twice`}},
		{"duplicate id", agreementsDoc(agreementJSONWith(t, nil), agreementJSONWith(t, nil)),
			[]string{`agreement 1 (id "moratorium"): id: duplicate: agreement 0 has the same id`}},
		{"every problem is reported", agreementsDoc(agreementJSONWith(t, map[string]any{"buffer_m": -2}),
			agreementJSONWith(t, map[string]any{"id": "second", "end": "2020-01-01T00:00:00Z"})),
			[]string{"agreement 0", "buffer_m", `agreement 1 (id "second"): end`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, err := DecodeAgreements("agreements.json", strings.NewReader(tt.doc))
			if err == nil {
				t.Fatalf("accepted %s as %+v", tt.doc, as)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n\t%v\nlacks %q", err, w)
				}
			}
			var ae *AgreementError
			if !errors.As(err, &ae) {
				t.Errorf("error %T is not an *AgreementError", err)
			}
		})
	}
}

func TestDecodeAgreements(t *testing.T) {
	doc := agreementsDoc(
		agreementJSONWith(t, map[string]any{"id": "later", "start": "2025-05-01T00:00:00Z", "end": nil}),
		agreementJSONWith(t, map[string]any{"notes": "read from the readout",
			"sites": []SiteRef{{"hospitals", "hosp-1"}}}))
	as, err := DecodeAgreements("agreements.json", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("%d agreements, want 2", len(as))
	}
	a := as[1]
	if !a.Start.Equal(moratoriumT) || a.End == nil || !a.End.Equal(moratoriumEnd) {
		t.Errorf("window %v to %v, want %v to %v", a.Start, a.End, moratoriumT, moratoriumEnd)
	}
	want := Agreement{ID: "moratorium", Title: "Energy moratorium", Source: "https://example.org/readout",
		Notes: "read from the readout", Terms: Terms{Start: a.Start, End: a.End, Collections: []string{"energy"},
			Filters: []Filter{{"kind", []string{"plant", "substation"}}}, Sites: []SiteRef{{"hospitals", "hosp-1"}}, BufferMeters: 500}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("decoded\n\t%+v\nwant\n\t%+v", a, want)
	}
	if as[0].End != nil {
		t.Errorf("open-ended agreement got end %v", as[0].End)
	}
}

// TestAgreementsRoundTrip: the JSON encoding of agreements (what a listing
// serves) is itself a valid agreements document that decodes to the same.
func TestAgreementsRoundTrip(t *testing.T) {
	set := fixtureSet(t)
	b, err := json.Marshal(map[string]any{"agreements": set.Agreements()})
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeAgreements("listing", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(again) != len(set.Agreements()) {
		t.Fatalf("%d agreements back, want %d", len(again), len(set.Agreements()))
	}
	for i := range again {
		a, b := again[i].normalized(), set.Agreements()[i]
		if !a.Start.Equal(b.Start) || (a.End == nil) != (b.End == nil) || (a.End != nil && !a.End.Equal(*b.End)) {
			t.Errorf("agreement %d: window %v..%v, want %v..%v", i, a.Start, a.End, b.Start, b.End)
		}
		a.Start, a.End, b.Start, b.End = time.Time{}, nil, time.Time{}, nil
		if !reflect.DeepEqual(a, b) {
			t.Errorf("agreement %d: %+v, want %+v", i, a, b)
		}
	}
}

func TestAgreementSetRejects(t *testing.T) {
	ix := fixtureIndex(t)
	tests := []struct {
		name string
		over map[string]any
		want string
	}{
		{"unknown collection", map[string]any{"collections": []string{"energy", "schools"}},
			`agreement 0 (id "moratorium"): collections[1]: geo: unknown layer "schools" (the collections are bridges, energy, hospitals)`},
		{"unknown site id", map[string]any{"sites": []SiteRef{{"hospitals", "hosp-1"}, {"hospitals", "hosp-9"}}},
			`sites[1].id: no site "hosp-9" in collection "hospitals"`},
		{"unknown site collection", map[string]any{"sites": []SiteRef{{"clinics", "hosp-1"}}},
			`sites[0].collection: geo: unknown layer "clinics"`},
		{"filter that passes nothing", map[string]any{"filters": []Filter{{"kind", []string{"plnt"}}}},
			"filters: no site of energy passes them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := agreementsDoc(agreementJSONWith(t, map[string]any{"id": "fine"}), agreementJSONWith(t, tt.over))
			_, err := LoadAgreements(ix, "agreements.json", strings.NewReader(doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if want := "agreements.json: agreement 1"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not name %q", err, want)
			}
			if !strings.Contains(err.Error(), strings.Replace(tt.want, "agreement 0", "agreement 1", 1)) {
				t.Errorf("error\n\t%v\nlacks\n\t%s", err, tt.want)
			}
		})
	}
	// Agreements built in code get the same checks as decoded ones.
	_, err := NewAgreementSet(ix, []Agreement{{ID: "x", Title: "x", Source: "x", Terms: Terms{Start: moratoriumT, BufferMeters: -1,
		Collections: []string{"energy"}}}})
	if err == nil || !strings.Contains(err.Error(), "buffer_m") {
		t.Errorf("negative buffer in code: error %v", err)
	}
}

// fixtureSet has an energy moratorium covering plants and substations with
// a 500 m buffer for 30 days, and an open-ended agreement protecting
// Hospital One by name from 1 April 2025.
func fixtureSet(t testing.TB) *AgreementSet {
	t.Helper()
	doc := agreementsDoc(
		agreementJSONWith(t, map[string]any{"id": "hospital-one", "start": "2025-04-01T00:00:00+03:00", "end": nil,
			"collections": nil, "filters": nil, "buffer_m": 0, "sites": []SiteRef{{"hospitals", "hosp-1"}}}),
		agreementJSONWith(t, nil))
	set, err := LoadAgreements(fixtureIndex(t), "fixture", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestAgreementSetOrderAndLookup(t *testing.T) {
	set := fixtureSet(t)
	var ids []string
	for _, a := range set.Agreements() {
		ids = append(ids, a.ID)
	}
	if want := []string{"moratorium", "hospital-one"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("order %v, want %v (by start)", ids, want)
	}
	if a, ok := set.Agreement("hospital-one"); !ok || a.Sites[0].ID != "hosp-1" {
		t.Errorf("Agreement(hospital-one) = %+v, %v", a, ok)
	}
	if _, ok := set.Agreement("nope"); ok {
		t.Error("found an agreement that does not exist")
	}
}

// TestInForceBoundaries: the interval is [start, end).
func TestInForceBoundaries(t *testing.T) {
	end := moratoriumEnd
	a := Agreement{Terms: Terms{Start: moratoriumT, End: &end}}
	open := Agreement{Terms: Terms{Start: moratoriumT}}
	tests := []struct {
		name       string
		t          time.Time
		want, open bool
	}{
		{"one second before start", moratoriumT.Add(-time.Second), false, false},
		{"one nanosecond before start", moratoriumT.Add(-1), false, false},
		{"at start", moratoriumT, true, true},
		{"at start in another zone", moratoriumT.UTC(), true, true},
		{"one nanosecond before end", end.Add(-1), true, true},
		{"at end", end, false, true},
		{"years later", end.AddDate(10, 0, 0), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.InForce(tt.t); got != tt.want {
				t.Errorf("InForce(%v) = %v, want %v", tt.t, got, tt.want)
			}
			if got := open.InForce(tt.t); got != tt.open {
				t.Errorf("open-ended InForce(%v) = %v, want %v", tt.t, got, tt.open)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	ix := fixtureIndex(t)
	energy, _ := ix.Layer("energy")
	hospitals, _ := ix.Layer("hospitals")
	feature := func(l *geo.Layer, id string) *geo.Feature {
		f, _, ok := l.Lookup(id)
		if !ok {
			t.Fatalf("no %s in %s", id, l.Name())
		}
		return f
	}
	in := moratoriumT.Add(time.Hour)
	tests := []struct {
		name  string
		a     Agreement
		layer *geo.Layer
		id    string
		at    time.Time
		want  bool
	}{
		{"collection without filters", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"}}}, energy, "line-1", in, true},
		{"filter passes a plant", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"},
			Filters: []Filter{{"kind", []string{"plant", "substation"}}}}}, energy, "plant-1", in, true},
		{"filter stops a line", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"},
			Filters: []Filter{{"kind", []string{"plant", "substation"}}}}}, energy, "line-1", in, false},
		{"number property written as text", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"},
			Filters: []Filter{{"voltage_kv", []string{"750"}}}}}, energy, "line-1", in, true},
		{"every filter must pass", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"},
			Filters: []Filter{{"voltage_kv", []string{"750"}}, {"kind", []string{"plant"}}}}}, energy, "line-1", in, false},
		{"missing property does not pass", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"},
			Filters: []Filter{{"capacity_mw", []string{"500"}}}}}, energy, "sub-1", in, false},
		{"other collection", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"}}}, hospitals, "hosp-1", in, false},
		{"named site", Agreement{Terms: Terms{Start: moratoriumT, Sites: []SiteRef{{"hospitals", "hosp-1"}}}}, hospitals, "hosp-1", in, true},
		{"named site ignores filters", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"},
			Filters: []Filter{{"kind", []string{"plant"}}}, Sites: []SiteRef{{"energy", "line-1"}}}}, energy, "line-1", in, true},
		{"other named site", Agreement{Terms: Terms{Start: moratoriumT, Sites: []SiteRef{{"hospitals", "hosp-1"}}}}, hospitals, "hosp-2", in, false},
		{"not yet in force", Agreement{Terms: Terms{Start: moratoriumT, Collections: []string{"energy"}}}, energy, "plant-1", moratoriumT.Add(-time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Covers(tt.layer, feature(tt.layer, tt.id), tt.at); got != tt.want {
				t.Errorf("Covers(%s/%s) = %v, want %v", tt.layer.Name(), tt.id, got, tt.want)
			}
		})
	}
}

// defaultData loads the embedded default layers and agreements from the
// data folder.
func defaultData(t testing.TB) *AgreementSet {
	t.Helper()
	layers, err := geojson.LoadDir(filepath.Join("..", "..", "data"))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(layers...)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(filepath.Join("..", "..", "data", "agreements.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	set, err := LoadAgreements(ix, "agreements.json", fh)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestDefaultAgreements: the default agreements load against the default
// layers; every energy site is covered by the moratorium under the Kremlin's
// reading, which runs 30 days from 18 March 2025, Moscow time, to the end
// every reading shares.
func TestDefaultAgreements(t *testing.T) {
	set := defaultData(t)
	a, ok := set.Agreement("energy-moratorium-2025-03")
	if !ok {
		t.Fatal("no energy-moratorium-2025-03")
	}
	ru := &a.Readings[slices.IndexFunc(a.Readings, func(r Reading) bool { return r.ID == "ru" })]
	if want := time.Date(2025, 3, 17, 21, 0, 0, 0, time.UTC); !ru.Start.Equal(want) || !a.Start.Equal(want) {
		t.Errorf("start %v (agreement %v), want %v", ru.Start, a.Start, want)
	}
	if ru.End == nil || ru.End.Sub(ru.Start) != 30*24*time.Hour || a.End == nil || !a.End.Equal(*ru.End) {
		t.Errorf("ru end %v, agreement end %v: want 30 days, which every reading ends with", ru.End, a.End)
	}
	energy, _ := set.Index().Layer("energy")
	var plant orb.Point
	for i := range energy.Len() {
		f := energy.Feature(i)
		if !ru.Covers(energy, f, ru.Start) {
			t.Fatalf("energy site %s is not covered", f.ID)
		}
		if p, ok := f.Geometry.(orb.Point); ok && f.Kind == "plant" {
			plant = p
		}
	}
	// A strike on a real plant at the boundaries of the Kremlin's reading.
	for _, c := range []struct {
		at   time.Time
		want Outcome
	}{
		{ru.Start.Add(-time.Second), NotInForce},
		{ru.Start, ProtectedSiteHit},
		{ru.End.Add(-time.Second), ProtectedSiteHit},
		{*ru.End, NotInForce},
	} {
		v, err := set.Verdict(NewVerdictQuery(Strike{Point: plant, Time: c.at}))
		if err != nil {
			t.Fatal(err)
		}
		got := readingVerdict(t, v, a.ID, "ru")
		if got.Verdict != c.want || len(v.Sites) == 0 || v.Sites[0].DistanceMeters != 0 {
			t.Errorf("strike on the plant at %v: %+v, sites %+v; want %s", c.at, got, v.Sites, c.want)
		}
	}
}

// FuzzDecodeAgreements: never panics; every accepted agreement passes the
// checks, and its JSON encoding decodes to the same agreement.
func FuzzDecodeAgreements(f *testing.F) {
	for _, over := range []map[string]any{nil, {"end": nil, "filters": nil, "sites": []SiteRef{{"a", "b"}}}, {"buffer_m": -1}} {
		f.Add([]byte(agreementsDoc(agreementJSONWith(f, over))))
	}
	f.Add([]byte(`{"agreements":[{"id":"x","start":"2025-13-01T00:00:00Z"}]}`))
	if doc, err := os.ReadFile(filepath.Join("..", "..", "data", "agreements.json")); err == nil {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		as, err := DecodeAgreements("fuzz.json", bytes.NewReader(doc))
		if err != nil {
			return
		}
		for i := range as {
			if bad := as[i].check(); len(bad) > 0 {
				t.Fatalf("accepted agreement %d with %s: %v", i, bad[0].field, bad[0].err)
			}
		}
		b, err := json.Marshal(map[string]any{"agreements": as})
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeAgreements("again", bytes.NewReader(b))
		if err != nil || len(again) != len(as) {
			t.Fatalf("%s does not decode again: %v", b, err)
		}
		for i := range as {
			if !again[i].Start.Equal(as[i].Start) || (again[i].End == nil) != (as[i].End == nil) {
				t.Fatalf("agreement %d: window changed from %v to %v", i, as[i].Start, again[i].Start)
			}
		}
	})
}
