package agreement

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/tidwall/geodesic"
)

// toward is the point meters from p along the geodesic at azimuth degrees.
func toward(p orb.Point, azimuth, meters float64) orb.Point {
	var lat, lon float64
	geodesic.WGS84.Direct(p[1], p[0], azimuth, meters, &lat, &lon, nil)
	return orb.Point{lon, lat}
}

// siteSummary is a site of a verdict as "collection/id:agreement!,agreement?",
// with "!" marking a hit and "?" a possible hit, for compact comparisons.
func siteSummary(sv SiteVerdict) string {
	s := sv.Collection + "/" + sv.ID + ":"
	for i, p := range sv.ProtectedBy {
		if i > 0 {
			s += ","
		}
		s += p.Agreement
		switch {
		case p.Hit:
			s += "!"
		case p.PossibleHit:
			s += "?"
		}
	}
	return s
}

func TestVerdict(t *testing.T) {
	set := fixtureSet(t)
	end := moratoriumEnd
	during := moratoriumT.Add(24 * time.Hour)
	april := time.Date(2025, 4, 2, 12, 0, 0, 0, time.UTC) // both agreements in force
	north300, north800 := toward(plantPoint, 0, 300), toward(plantPoint, 0, 800)
	nearHospital := toward(hospital1, 90, 200)
	tests := []struct {
		name         string
		q            VerdictQuery
		want         Outcome
		withoutScope Outcome
		inForce      []string
		radius       float64
		sites        []string
	}{
		{name: "one second before start",
			q:    NewVerdictQuery(strikeAt(north300, moratoriumT.Add(-time.Second), 0)),
			want: NoProtectedSite, inForce: []string{}, radius: 1000, sites: []string{"energy/plant-1:"}},
		{name: "at start",
			q:    NewVerdictQuery(strikeAt(north300, moratoriumT, 0)),
			want: ProtectedSiteHit, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"energy/plant-1:moratorium!"}},
		{name: "one nanosecond before end",
			q:    NewVerdictQuery(strikeAt(north300, end.Add(-1), 0)),
			want: ProtectedSiteHit, inForce: []string{"moratorium", "hospital-one"}, radius: 1000, sites: []string{"energy/plant-1:moratorium!"}},
		{name: "at end",
			q:    NewVerdictQuery(strikeAt(north300, end, 0)),
			want: NoProtectedSite, inForce: []string{"hospital-one"}, radius: 1000, sites: []string{"energy/plant-1:"}},
		{name: "outside the buffer, inside the radius",
			q:    NewVerdictQuery(strikeAt(north800, during, 0)),
			want: ProtectedSiteNearby, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"energy/plant-1:moratorium"}},
		{name: "uncertainty reaches the buffer",
			q:    NewVerdictQuery(strikeAt(north800, during, 350)),
			want: PossibleProtectedSiteHit, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"energy/plant-1:moratorium?"}},
		{name: "uncertainty within tolerance reaches the buffer",
			q:    NewVerdictQuery(strikeAt(toward(plantPoint, 0, 590), during, HitToleranceMeters)),
			want: ProtectedSiteHit, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"energy/plant-1:moratorium!"}},
		{name: "whole uncertainty disc within the buffer",
			q:    NewVerdictQuery(strikeAt(toward(plantPoint, 0, 100), during, 350)),
			want: ProtectedSiteHit, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"energy/plant-1:moratorium!"}},
		{name: "radius grows to uncertainty plus buffer",
			q:    NewVerdictQuery(strikeAt(toward(plantPoint, 0, 1150), during, 700)),
			want: PossibleProtectedSiteHit, inForce: []string{"moratorium"}, radius: 1200, sites: []string{"energy/plant-1:moratorium?"}},
		{name: "too coarse on the site itself",
			q:    NewVerdictQuery(strikeAt(plantPoint, during, MaxJudgedUncertaintyMeters+1)),
			want: LocationTooCoarse, inForce: []string{"moratorium"}, radius: MaxJudgedUncertaintyMeters + 501,
			sites: []string{"energy/plant-1:moratorium?", "bridges/bridge-1:", "hospitals/hosp-1:", "energy/sub-1:moratorium?", "energy/line-1:"}},
		{name: "explicit radius",
			q:    VerdictQuery{Strike: strikeAt(toward(plantPoint, 0, 1150), during, 0), RadiusMeters: 2000},
			want: ProtectedSiteNearby, inForce: []string{"moratorium"}, radius: 2000, sites: []string{"energy/plant-1:moratorium"}},
		{name: "zero radius reaches the buffer alone",
			q:    VerdictQuery{Strike: strikeAt(north800, during, 0)},
			want: NoProtectedSite, inForce: []string{"moratorium"}, radius: 500, sites: []string{}},
		{name: "beyond the radius",
			q:    NewVerdictQuery(strikeAt(toward(plantPoint, 0, 1150), during, 0)),
			want: NoProtectedSite, inForce: []string{"moratorium"}, radius: 1000, sites: []string{}},
		{name: "inside a protected polygon",
			q:    NewVerdictQuery(strikeAt(orb.Point{30.605, 50.405}, during, 0)),
			want: ProtectedSiteHit, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"energy/sub-1:moratorium!"}},
		{name: "filtered out of the agreement",
			q:    NewVerdictQuery(strikeAt(powerLine[0], during, 0)),
			want: NoProtectedSite, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"energy/line-1:"}},
		{name: "named site before its agreement",
			q:    NewVerdictQuery(strikeAt(nearHospital, during, 0)),
			want: NoProtectedSite, inForce: []string{"moratorium"}, radius: 1000, sites: []string{"hospitals/hosp-1:"}},
		{name: "named site, no buffer, strike 200 m off",
			q:    NewVerdictQuery(strikeAt(nearHospital, april, 0)),
			want: ProtectedSiteNearby, inForce: []string{"moratorium", "hospital-one"}, radius: 1000, sites: []string{"hospitals/hosp-1:hospital-one"}},
		{name: "named site within uncertainty",
			q:    NewVerdictQuery(strikeAt(nearHospital, april, 250)),
			want: PossibleProtectedSiteHit, inForce: []string{"moratorium", "hospital-one"}, radius: 1000, sites: []string{"hospitals/hosp-1:hospital-one?"}},
		{name: "other named sites are not protected",
			q:    NewVerdictQuery(strikeAt(hospital2, april, 0)),
			want: NoProtectedSite, inForce: []string{"moratorium", "hospital-one"}, radius: 1000, sites: []string{"hospitals/hosp-2:"}},
		{name: "scope covers a bridge",
			q:    VerdictQuery{Strike: strikeAt(bridgeLine[1], during, 0), Scope: []string{"bridges"}, RadiusMeters: DefaultVerdictRadiusMeters},
			want: ProtectedSiteHit, withoutScope: NoProtectedSite, inForce: []string{"moratorium"}, radius: 1000,
			sites: []string{"bridges/bridge-1:scope!"}},
		{name: "scope has no buffer",
			q:    VerdictQuery{Strike: strikeAt(toward(bridgeLine[1], 0, 300), during, 0), Scope: []string{"bridges"}, RadiusMeters: DefaultVerdictRadiusMeters},
			want: ProtectedSiteNearby, withoutScope: NoProtectedSite, inForce: []string{"moratorium"}, radius: 1000,
			sites: []string{"bridges/bridge-1:scope"}},
		{name: "scope beside a real agreement",
			q: VerdictQuery{Strike: strikeAt(nearHospital, april, 250), Scope: []string{"hospitals", "bridges", "hospitals"},
				RadiusMeters: 5000},
			want: PossibleProtectedSiteHit, withoutScope: PossibleProtectedSiteHit, inForce: []string{"moratorium", "hospital-one"}, radius: 5000,
			sites: []string{"hospitals/hosp-1:hospital-one?,scope?", "bridges/bridge-1:scope"}},
		{name: "scope adds nothing where the real deal already protects",
			q:    VerdictQuery{Strike: strikeAt(north300, during, 0), Scope: []string{"energy"}, RadiusMeters: DefaultVerdictRadiusMeters},
			want: ProtectedSiteHit, withoutScope: ProtectedSiteHit, inForce: []string{"moratorium"}, radius: 1000,
			sites: []string{"energy/plant-1:moratorium!,scope"}},
		{name: "limit lists the nearest, the outcome counts all",
			q:    VerdictQuery{Strike: strikeAt(bridgeLine[1], april, 0), RadiusMeters: 5000, Limit: 1},
			want: ProtectedSiteNearby, inForce: []string{"moratorium", "hospital-one"}, radius: 5000, sites: []string{"bridges/bridge-1:"}},
		{name: "layers restrict the question",
			q:    VerdictQuery{Strike: strikeAt(bridgeLine[1], april, 0), RadiusMeters: 5000, Layers: []string{"bridges"}},
			want: NoProtectedSite, inForce: []string{"moratorium", "hospital-one"}, radius: 5000, sites: []string{"bridges/bridge-1:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := set.Verdict(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var sites []string
			for _, sv := range v.Sites {
				sites = append(sites, siteSummary(sv))
			}
			if v.Outcome != tt.want || v.WithoutScope != tt.withoutScope {
				t.Errorf("outcome %q without scope %q, want %q and %q; sites %v", v.Outcome, v.WithoutScope, tt.want, tt.withoutScope, sites)
			}
			if !slices.Equal(v.InForce, tt.inForce) || v.InForce == nil {
				t.Errorf("in force %#v, want %v", v.InForce, tt.inForce)
			}
			if v.RadiusMeters != tt.radius {
				t.Errorf("radius %v m, want %v", v.RadiusMeters, tt.radius)
			}
			if !slices.Equal(sites, tt.sites) && !(len(sites) == 0 && len(tt.sites) == 0) {
				t.Errorf("sites %q, want %q", sites, tt.sites)
			}
		})
	}
}

// TestVerdictTooCoarse: a strike placed at region precision, right on
// protected sites, is never a hit under any reading; the verdict counts the
// protected sites its disc reaches instead.
func TestVerdictTooCoarse(t *testing.T) {
	set := fixtureSet(t)
	april := time.Date(2025, 4, 2, 12, 0, 0, 0, time.UTC)
	for _, u := range []float64{MaxJudgedUncertaintyMeters + 1, 100_000} {
		v, err := set.Verdict(VerdictQuery{Strike: strikeAt(plantPoint, april, u), Scope: []string{"bridges"}, RadiusMeters: DefaultVerdictRadiusMeters})
		if err != nil {
			t.Fatal(err)
		}
		if v.Outcome != LocationTooCoarse || v.WithoutScope != LocationTooCoarse {
			t.Errorf("uncertainty %v m: verdict %q without scope %q, want %q", u, v.Outcome, v.WithoutScope, LocationTooCoarse)
		}
		if v.ProtectedSitesInDisc == nil || *v.ProtectedSitesInDisc != 4 {
			t.Errorf("uncertainty %v m: protected sites in disc %v, want 4 (plant, substation, hospital, bridge by scope)", u, v.ProtectedSitesInDisc)
		}
		for _, rv := range v.Readings {
			if rv.Verdict != LocationTooCoarse && rv.Verdict != NotInForce {
				t.Errorf("uncertainty %v m: reading %s/%s verdict %q", u, rv.Agreement, rv.Reading, rv.Verdict)
			}
		}
		for _, sv := range v.Sites {
			for _, p := range sv.ProtectedBy {
				if p.Hit {
					t.Errorf("uncertainty %v m: %s hit under %s", u, siteSummary(sv), p.Agreement)
				}
			}
		}
	}
	v, err := set.Verdict(NewVerdictQuery(strikeAt(plantPoint, april, MaxJudgedUncertaintyMeters)))
	if err != nil {
		t.Fatal(err)
	}
	if v.Outcome != PossibleProtectedSiteHit || v.ProtectedSitesInDisc != nil {
		t.Errorf("uncertainty at the bound: verdict %q, sites in disc %v; want %q and none", v.Outcome, v.ProtectedSitesInDisc, PossibleProtectedSiteHit)
	}
}

// TestVerdictBufferBoundary: the uncertainty disc reaches a site exactly
// uncertainty plus buffer away; a hair further it does not.
func TestVerdictBufferBoundary(t *testing.T) {
	set := fixtureSet(t)
	p := toward(plantPoint, 33, 812.5)
	at := moratoriumT.Add(time.Hour)
	v, err := set.Verdict(NewVerdictQuery(strikeAt(p, at, 0)))
	if err != nil {
		t.Fatal(err)
	}
	d := v.Sites[0].Hit.Meters
	if math.Abs(d-812.5) > 1e-6 {
		t.Fatalf("distance %v, want 812.5", d)
	}
	for _, c := range []struct {
		uncertainty float64
		hit         bool
	}{{d - 500, true}, {math.Nextafter(d-500, 0), false}} {
		v, err := set.Verdict(NewVerdictQuery(strikeAt(p, at, c.uncertainty)))
		if err != nil {
			t.Fatal(err)
		}
		pr := v.Sites[0].ProtectedBy[0]
		if pr.Hit || pr.PossibleHit != c.hit || pr.ReachMeters != c.uncertainty+500 || pr.BufferMeters != 500 {
			t.Errorf("uncertainty %v m, site at %v m: %+v, want hit %v", c.uncertainty, d, pr, c.hit)
		}
	}
}

func TestVerdictRejects(t *testing.T) {
	set := fixtureSet(t)
	ok := strikeAt(plantPoint, moratoriumT, 0)
	tests := []struct {
		name   string
		q      VerdictQuery
		target error
		want   string
	}{
		{"negative uncertainty", NewVerdictQuery(strikeAt(plantPoint, moratoriumT, -1)), geo.ErrBadQuery, "uncertainty -1 m"},
		{"NaN uncertainty", NewVerdictQuery(strikeAt(plantPoint, moratoriumT, math.NaN())), geo.ErrBadQuery, "uncertainty NaN m"},
		{"latitude out of range", NewVerdictQuery(strikeAt(orb.Point{30, 95}, moratoriumT, 0)), geo.ErrBadQuery, "latitude"},
		{"reach beyond the largest radius", NewVerdictQuery(strikeAt(plantPoint, moratoriumT, 199_800)), geo.ErrBadQuery,
			"plus buffer reach 200300 m"},
		{"negative radius", VerdictQuery{Strike: ok, RadiusMeters: -5}, geo.ErrBadQuery, "radius"},
		{"negative limit", VerdictQuery{Strike: ok, Limit: -1, RadiusMeters: DefaultVerdictRadiusMeters}, geo.ErrBadQuery, "limit"},
		{"unknown scope", VerdictQuery{Strike: ok, Scope: []string{"schools"}, RadiusMeters: DefaultVerdictRadiusMeters}, geo.ErrUnknownLayer, `scope: geo: unknown layer "schools"`},
		{"unknown layer", VerdictQuery{Strike: ok, Layers: []string{"schools"}, RadiusMeters: DefaultVerdictRadiusMeters}, geo.ErrUnknownLayer, `"schools"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := set.Verdict(tt.q)
			if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one wrapping %v and mentioning %q", err, tt.target, tt.want)
			}
		})
	}
}

// TestVerdictJSON pins the encoding the HTTP layer serves.
func TestVerdictJSON(t *testing.T) {
	set := fixtureSet(t)
	v, err := set.Verdict(VerdictQuery{Strike: strikeAt(toward(plantPoint, 0, 300), moratoriumT, 25), Scope: []string{"hospitals"}, RadiusMeters: DefaultVerdictRadiusMeters})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"verdict":"protected_site_hit","verdict_without_scope":"protected_site_hit",` +
		`"datetime":"2025-03-18T00:00:00+02:00","uncertainty_m":25,"radius_m":1000,"scope":["hospitals"],` +
		`"agreements_in_force":["moratorium"],"readings":[{"agreement":"moratorium","reading":"terms","party":"all",` +
		`"verdict":"protected_site_hit","status":"in_force","why":"hit energy/plant-1 (power_plant) at 300 m, within its reach of 525 m"},` +
		`{"agreement":"hospital-one","reading":"terms","party":"all","verdict":"not_in_force","status":"not_in_force",` +
		`"why":"not yet in force: starts 2025-04-01T00:00:00+03:00"}],"agreement_status":"agreed",` +
		`"sites_within_radius":1,"sites":[{"collection":"energy","id":"plant-1",` +
		`"name":"Plant One","distance_m":300,"protected_by":[{"agreement":"moratorium","reading":"terms","party":"all","buffer_m":500,"reach_m":525,"hit":true}]}]}`
	if string(got) != want {
		t.Errorf("got\n\t%s\nwant\n\t%s", got, want)
	}
	empty, err := set.Verdict(NewVerdictQuery(strikeAt(orb.Point{35, 48}, moratoriumT, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(empty); !strings.Contains(string(got), `"sites":[]`) {
		t.Errorf("no sites encodes as %s, want an empty array", got)
	}
	// A site's GeoJSON members: the proximity ones and protected_by.
	f := geojson.AppendHit(nil, v.Sites[0].Hit.Feature, &v.Sites[0].Hit, geojson.Member{Key: "protected_by", Value: v.Sites[0].ProtectedBy})
	var decoded struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(f, &decoded); err != nil {
		t.Fatalf("%v: %s", err, f)
	}
	if got := string(decoded.Properties["protected_by"]); got != `[{"agreement":"moratorium","reading":"terms","party":"all","buffer_m":500,"reach_m":525,"hit":true}]` {
		t.Errorf("protected_by member %s", got)
	}
	if _, ok := decoded.Properties["distance_m"]; !ok {
		t.Errorf("feature %s lacks distance_m", f)
	}
}

// bruteVerdict decides a query the slow, obvious way: every site's distance
// through Nearest, every agreement through Covers. Its outcome and sites
// must match Verdict's.
func bruteVerdict(set *AgreementSet, q VerdictQuery) (Outcome, []string) {
	ix := set.Index()
	radius := math.Max(q.RadiusMeters, q.UncertaintyMeters)
	outcome := NoProtectedSite
	for _, a := range set.Agreements() {
		for _, r := range a.Readings {
			if r.Status != Suspended && r.InForce(q.Time) {
				radius = math.Max(radius, q.UncertaintyMeters+r.BufferMeters)
			}
		}
	}
	all, _ := ix.Nearest(q.Point, ix.Len())
	var sites []string
	for _, h := range all {
		if h.Meters > radius {
			break
		}
		sv := SiteVerdict{Collection: h.Layer.Name(), ID: h.Feature.ID}
		for _, a := range set.Agreements() {
			for _, r := range a.Readings {
				if r.Covers(h.Layer, h.Feature, q.Time) {
					u, d, b := q.UncertaintyMeters, h.Meters, r.BufferMeters
					reached := d <= u+b
					hit := reached && u <= MaxJudgedUncertaintyMeters && (u <= HitToleranceMeters || d+u <= b)
					p := Protection{Agreement: a.ID, Hit: hit, PossibleHit: reached && !hit}
					sv.ProtectedBy = append(sv.ProtectedBy, p)
					outcome = worse(outcome, p.outcome())
				}
			}
		}
		sites = append(sites, siteSummary(sv))
	}
	if q.UncertaintyMeters > MaxJudgedUncertaintyMeters {
		outcome = LocationTooCoarse
	}
	return outcome, sites
}

// TestVerdictAgreesWithBruteForce compares verdicts at random strikes,
// times and uncertainties with bruteVerdict, over the fixture and over the
// default data.
func TestVerdictAgreesWithBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 3))
	for _, set := range []*AgreementSet{fixtureSet(t), defaultData(t)} {
		energy, _ := set.Index().Layer("energy")
		for range 400 {
			c := energy.Feature(r.IntN(energy.Len())).Geometry.Bound().Center()
			q := NewVerdictQuery(Strike{
				Point:             orb.Point{c[0] + r.NormFloat64()*0.01, c[1] + r.NormFloat64()*0.007},
				Time:              moratoriumT.Add(time.Duration(r.NormFloat64() * 40 * 24 * float64(time.Hour))),
				UncertaintyMeters: math.Round(r.ExpFloat64() * 300),
			})
			v, err := set.Verdict(q)
			if err != nil {
				t.Fatal(err)
			}
			var sites []string
			for _, sv := range v.Sites {
				sites = append(sites, siteSummary(sv))
			}
			outcome, want := bruteVerdict(set, q)
			if v.Outcome != outcome || !reflect.DeepEqual(sites, want) {
				t.Fatalf("strike %+v: %s %v, brute force %s %v", q.Strike, v.Outcome, sites, outcome, want)
			}
		}
	}
}

// BenchmarkVerdict: verdicts for strikes near the default energy sites
// during the March 2025 moratorium, with uncertainties up to a few km,
// beside the brute force of bruteVerdict.
func BenchmarkVerdict(b *testing.B) {
	set := defaultData(b)
	energy, _ := set.Index().Layer("energy")
	r := rand.New(rand.NewPCG(2025, 3))
	qs := make([]VerdictQuery, 1024)
	for i := range qs {
		c := energy.Feature(r.IntN(energy.Len())).Geometry.Bound().Center()
		qs[i] = NewVerdictQuery(Strike{
			Point:             orb.Point{c[0] + r.NormFloat64()*0.01, c[1] + r.NormFloat64()*0.007},
			Time:              moratoriumT.Add(time.Duration(r.IntN(30*24)) * time.Hour),
			UncertaintyMeters: math.Round(r.ExpFloat64() * 1000),
		})
	}
	b.Run("set", func(b *testing.B) {
		b.ReportAllocs()
		sites := 0
		for i := range b.N {
			v, err := set.Verdict(qs[i%len(qs)])
			if err != nil {
				b.Fatal(err)
			}
			sites += v.SitesWithinRadius
		}
		b.ReportMetric(float64(sites)/float64(b.N), "sites/op")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	})
	b.Run("brute", func(b *testing.B) {
		for i := range b.N {
			bruteVerdict(set, qs[i%len(qs)])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	})
}

// strikeAt is a strike at an instant.
func strikeAt(p orb.Point, t time.Time, uncertaintyMeters float64) Strike {
	return Strike{Point: p, Time: t, UncertaintyMeters: uncertaintyMeters}
}

// TestVerdictWindow: an event reported over a window is judged under every
// reading in force at any instant of it, and each reading says whether it
// covered all of the window, part of it, or none.
func TestVerdictWindow(t *testing.T) {
	set := fixtureSet(t)
	north300 := toward(plantPoint, 0, 300)
	day := 24 * time.Hour
	tests := []struct {
		name       string
		start, end time.Time
		want       Outcome
		window     WindowCover
		why        string
	}{
		{"ends as the moratorium starts", moratoriumT.Add(-2 * day), moratoriumT, NotInForce, NoWindow, "not yet in force"},
		{"straddles the start", moratoriumT.Add(-day), moratoriumT.Add(day), ProtectedSiteHit, PartWindow, "in force for part of the event's window only; hit energy/"},
		{"within", moratoriumT, moratoriumT.Add(2 * day), ProtectedSiteHit, WholeWindow, "hit energy/"},
		{"straddles the end", moratoriumEnd.Add(-day), moratoriumEnd.Add(day), ProtectedSiteHit, PartWindow, "in force for part of the event's window only"},
		{"starts as it ends", moratoriumEnd, moratoriumEnd.Add(day), NotInForce, NoWindow, "ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := set.Verdict(NewVerdictQuery(Strike{Point: north300, Time: tt.start, End: tt.end}))
			if err != nil {
				t.Fatal(err)
			}
			if v.End == nil || !v.End.Equal(tt.end) {
				t.Errorf("end %v, want %v", v.End, tt.end)
			}
			var rv *ReadingVerdict
			for i := range v.Readings {
				if v.Readings[i].Agreement == "moratorium" {
					rv = &v.Readings[i]
				}
			}
			if rv == nil {
				t.Fatalf("no reading of the moratorium in %+v", v.Readings)
			}
			if rv.Verdict != tt.want || rv.Window != tt.window || !strings.Contains(rv.Why, tt.why) {
				t.Errorf("verdict %q window %q why %q; want %q %q %q", rv.Verdict, rv.Window, rv.Why, tt.want, tt.window, tt.why)
			}
		})
	}
	// A strike at an instant has no window to speak of.
	v, err := set.Verdict(NewVerdictQuery(strikeAt(north300, moratoriumT, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if v.End != nil || v.Readings[0].Window != "" {
		t.Errorf("an instant: end %v, window %q", v.End, v.Readings[0].Window)
	}
}
