package agreement

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geodesy"
	"github.com/protectmap/protectmap/geo/geojson"
)

// readingVerdict is v's verdict under reading of agreement.
func readingVerdict(t testing.TB, v *Verdict, agreement, reading string) ReadingVerdict {
	t.Helper()
	for _, rv := range v.Readings {
		if rv.Agreement == agreement && rv.Reading == reading {
			return rv
		}
	}
	t.Fatalf("no reading %s/%s in %+v", agreement, reading, v.Readings)
	return ReadingVerdict{}
}

// TestReadingsOfTheMoratorium: a strike on a power plant on 20 March 2025 is
// a hit under Russia's reading (from 18 March) and not in force under
// Ukraine's (from 25 March), so the agreement is disputed; on 27 March it is
// a hit under both, and agreed.
func TestReadingsOfTheMoratorium(t *testing.T) {
	set := defaultData(t)
	// Trypillia thermal power plant, whichever feature the default data
	// draws it with.
	plant := orb.Point{30.7468, 50.1344}
	near, err := set.Index().Nearest(plant, 1, EnergyLayer)
	if err != nil || len(near) != 1 || near[0].Meters > 500 {
		t.Fatalf("no energy site at Trypillia: %v, %v", near, err)
	}
	site := near[0].Feature.ID
	if c := EnergyClass(near[0].Feature.Kind, near[0].Feature.Properties); c != "power_plant" {
		t.Fatalf("the site at Trypillia, %s, is of class %q, want power_plant", site, c)
	}
	kyiv := time.FixedZone("EET", 2*3600)
	const moratorium = "energy-moratorium-2025-03"
	tests := []struct {
		name     string
		at       time.Time
		ru, ua   Outcome
		uaStatus ReadingStatus
		status   AgreementStatus
	}{
		{"20 March", time.Date(2025, 3, 20, 4, 10, 0, 0, kyiv), ProtectedSiteHit, NotInForce, OutsideWindow, Disputed},
		{"27 March", time.Date(2025, 3, 27, 4, 10, 0, 0, kyiv), ProtectedSiteHit, ProtectedSiteHit, InForce, Agreed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := set.Verdict(NewVerdictQuery(Strike{Point: plant, Time: tt.at}))
			if err != nil {
				t.Fatal(err)
			}
			ru, ua := readingVerdict(t, v, moratorium, "ru"), readingVerdict(t, v, moratorium, "ua")
			if ru.Verdict != tt.ru || ru.Status != InForce || !strings.Contains(ru.Why, site+" (power_plant)") {
				t.Errorf("ru: %+v, want %s in force, naming the plant and its class", ru, tt.ru)
			}
			if ua.Verdict != tt.ua || ua.Status != tt.uaStatus || ua.Party != "ua" {
				t.Errorf("ua: %+v, want %s, status %s", ua, tt.ua, tt.uaStatus)
			}
			if tt.ua == NotInForce && !strings.Contains(ua.Why, "not yet in force: starts 2025-03-25") {
				t.Errorf("ua why %q does not name the window", ua.Why)
			}
			if v.AgreementStatus != tt.status || v.Outcome != ProtectedSiteHit {
				t.Errorf("agreement status %s, outcome %s; want %s, a hit; disputes %+v", v.AgreementStatus, v.Outcome, tt.status, v.Disputes)
			}
			if tt.status == Disputed && (len(v.Disputes) != 1 || v.Disputes[0].Agreement != moratorium ||
				!strings.Contains(v.Disputes[0].How, "ru: protected_site_hit; ua: not_in_force")) {
				t.Errorf("disputes %+v do not say how the moratorium's readings differ", v.Disputes)
			}
			var readings []string
			for _, p := range v.Sites[0].ProtectedBy {
				readings = append(readings, p.Agreement+"/"+p.Reading)
			}
			if !strings.Contains(strings.Join(readings, ","), moratorium+"/ru") {
				t.Errorf("the plant's protected_by %v does not name the ru reading", readings)
			}
		})
	}
}

// classFixture is an energy layer with a plant, a refinery and a pumping
// station, and an agreement read two ways: one reading covering the
// Kremlin's list, one only power generation and transmission.
func classFixture(t testing.TB) *AgreementSet {
	t.Helper()
	ix, err := geo.NewIndex(fixtureLayer(t, "energy",
		fixtureSite{"plant-1", `{"kind":"plant","fuel":"coal"}`, orb.Point{30.0, 50.0}},
		fixtureSite{"refinery-1", `{"kind":"refinery","energy_class":"oil_refinery"}`, orb.Point{31.0, 50.0}},
		fixtureSite{"pump-1", `{"kind":"station","energy_class":"pumping_station"}`, orb.Point{32.0, 50.0}},
		fixtureSite{"line-1", `{"kind":"line"}`, orb.LineString{{33.0, 50.0}, {33.1, 50.1}}}))
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"agreements":[{"id":"m","title":"Moratorium","readings":[
	  {"id":"wide","party":"ru","start":"2025-03-18T00:00:00+03:00","end":"2025-04-17T00:00:00+03:00",
	   "collections":["energy"],"energy_classes":["oil_refinery","oil_gas_pipeline","oil_gas_storage","pumping_station","power_plant","substation","transmission_line"],
	   "sources":[{"title":"Kremlin","date":"2025-03-25"}]},
	  {"id":"power","party":"us","start":"2025-03-18T00:00:00+02:00","end":null,
	   "collections":["energy"],"energy_classes":["power_plant","substation","transmission_line","distribution"],
	   "sources":[{"title":"White House","date":"2025-03-18"}]}]}]}`
	set, err := LoadAgreements(ix, "classes.json", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestReadingClasses: a refinery or pumping station struck in the window is
// a hit under the reading whose classes name it, and not under the one
// covering power generation and transmission alone, which says why.
func TestReadingClasses(t *testing.T) {
	set := classFixture(t)
	at := time.Date(2025, 3, 28, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		site        orb.Point
		class       string
		wide, power Outcome
	}{
		{orb.Point{31.0, 50.0}, "oil_refinery", ProtectedSiteHit, NoProtectedSite},
		{orb.Point{32.0, 50.0}, "pumping_station", ProtectedSiteHit, NoProtectedSite},
		{orb.Point{30.0, 50.0}, "power_plant", ProtectedSiteHit, ProtectedSiteHit},
		{orb.Point{33.0, 50.0}, "transmission_line", ProtectedSiteHit, ProtectedSiteHit},
	} {
		t.Run(tt.class, func(t *testing.T) {
			v, err := set.Verdict(NewVerdictQuery(Strike{Point: tt.site, Time: at}))
			if err != nil {
				t.Fatal(err)
			}
			wide, power := readingVerdict(t, v, "m", "wide"), readingVerdict(t, v, "m", "power")
			if wide.Verdict != tt.wide || power.Verdict != tt.power {
				t.Fatalf("wide %+v, power %+v; want %s and %s", wide, power, tt.wide, tt.power)
			}
			if tt.power == NoProtectedSite {
				if !strings.Contains(power.Why, "("+tt.class+") at 0 m is outside its classes") {
					t.Errorf("power reading's why %q does not name the class left out", power.Why)
				}
				if v.AgreementStatus != Disputed {
					t.Errorf("status %s, want disputed", v.AgreementStatus)
				}
			}
		})
	}
}

// TestCorridor: a strike 2 km inside the Black Sea shipping corridor lies
// at distance 0 from it and is judged against the maritime arrangement:
// a hit under the readings of the United States and Ukraine, and under
// Russia's only conditionally.
func TestCorridor(t *testing.T) {
	set := defaultData(t)
	zones, _ := set.Index().Layer(geojson.ZonesLayer)
	corridor, _, ok := zones.Lookup("black-sea-corridor")
	if !ok {
		t.Fatal("no black-sea-corridor zone")
	}
	if _, ok := corridor.Geometry.(orb.Polygon); !ok {
		t.Fatalf("the corridor is served as a %s, want the Polygon it covers", corridor.Geometry.GeoJSONType())
	}
	// Off Constanta the centreline runs about south-south-west; 3 km east
	// of it is 2 km inside the 10 km corridor, 7 km east is 2 km outside.
	centre := orb.Point{28.9, 44.1}
	inside, outside := toward(centre, 100, 3000), toward(centre, 100, 7000)
	at := time.Date(2025, 3, 27, 12, 0, 0, 0, time.UTC)
	v, err := set.Verdict(NewVerdictQuery(Strike{Point: inside, Time: at}))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Sites) == 0 || v.Sites[0].ID != "black-sea-corridor" || v.Sites[0].DistanceMeters != 0 {
		t.Fatalf("sites %+v: want the corridor at 0 m first", v.Sites)
	}
	ru := readingVerdict(t, v, "black-sea-2025-03", "ru")
	if ru.Verdict != ProtectedSiteHit || ru.Status != Conditional || !strings.Contains(ru.Why, "inside it") ||
		!strings.Contains(ru.Why, "Rosselkhozbank") {
		t.Errorf("ru: %+v, want a conditional hit inside the corridor naming the condition", ru)
	}
	for _, party := range []string{"us", "ua"} {
		if rv := readingVerdict(t, v, "black-sea-2025-03", party); rv.Verdict != ProtectedSiteHit || rv.Status != InForce {
			t.Errorf("%s: %+v, want a hit in force", party, rv)
		}
	}
	if v.AgreementStatus != Disputed {
		t.Errorf("status %s: a hit outright and one conditional differ", v.AgreementStatus)
	}
	v, err = set.Verdict(VerdictQuery{Strike: Strike{Point: outside, Time: at}, RadiusMeters: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if rv := readingVerdict(t, v, "black-sea-2025-03", "us"); rv.Verdict != ProtectedSiteNearby {
		t.Errorf("2 km outside the corridor: %+v, want nearby", rv)
	}
}

// TestReadingsRejected: bad readings stop loading with the file, the
// agreement, the reading and the member at fault.
func TestReadingsRejected(t *testing.T) {
	reading := func(over string) string {
		return `{"agreements":[{"id":"m","title":"M","readings":[
		  {"id":"ru","party":"ru","start":"2025-03-18T00:00:00+03:00","collections":["energy"],"sources":[{"title":"Kremlin"}]},
		  {"id":"ua","party":"ua","start":"2025-03-25T00:00:00+02:00","sources":[{"title":"Zelensky"}],` + over + `}]}]}`
	}
	ix := fixtureIndex(t)
	zoneIndex := func(t *testing.T) *geo.Index {
		zones, err := geojson.DecodeLayer(geojson.ZonesLayer, "zones.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		  {"type":"Feature","id":"point","geometry":{"type":"Point","coordinates":[30,46]},"properties":{}},
		  {"type":"Feature","id":"road","geometry":{"type":"LineString","coordinates":[[30,46],[31,46]]},"properties":{}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		zix, err := geo.NewIndex(append(ix.Layers(), zones)...)
		if err != nil {
			t.Fatal(err)
		}
		return zix
	}
	tests := []struct {
		name string
		doc  string
		zix  bool
		want string
	}{
		{"unknown class", reading(`"collections":["energy"],"energy_classes":["power_plant","refinery"]`), false,
			`classes.json: agreement 0 (id "m"), reading "ua": readings[1].energy_classes[1]: unknown class "refinery"`},
		{"ends before it starts", reading(`"collections":["energy"],"end":"2025-03-20T00:00:00+02:00"`), false,
			`classes.json: agreement 0 (id "m"), reading "ua": readings[1].end: 2025-03-20T00:00:00+02:00 is not after start`},
		{"classes without energy", reading(`"collections":["hospitals"],"energy_classes":["power_plant"]`), false,
			`reading "ua": readings[1].energy_classes: energy classes narrow the "energy" collection`},
		{"unknown status", reading(`"collections":["energy"],"status":"maybe"`), false,
			`reading "ua": readings[1].status: "maybe" is not one of`},
		{"duplicate reading", strings.Replace(reading(`"collections":["energy"]`), `"id":"ua"`, `"id":"ru"`, 1), false,
			`readings[1].id: duplicate: reading 0 has the same id`},
		{"terms beside readings", strings.Replace(reading(`"collections":["energy"]`), `"title":"M",`, `"title":"M","buffer_m":5,`, 1), false,
			`agreement 0 (id "m"): buffer_m: give it in each reading`},
		{"zone that is a point", reading(`"zones":["point"]`), true,
			`classes.json: agreement 0 (id "m"), reading "ua": readings[1].zones[0]: zone "point" is a Point`},
		{"zone that is a line without width", reading(`"zones":["road"]`), true,
			`reading "ua": readings[1].zones[0]: zone "road" is a LineString`},
		{"unknown zone", reading(`"zones":["sea"]`), true, `readings[1].zones[0]: no site "sea" in collection "zones"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			use := ix
			if tt.zix {
				use = zoneIndex(t)
			}
			_, err := LoadAgreements(use, "classes.json", strings.NewReader(tt.doc))
			var ae *AgreementError
			if err == nil || !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want an *AgreementError saying %q", err, tt.want)
			}
		})
	}
}

// TestCorridorWidthRejected: a corridor whose width is not a positive
// number of metres fails its layer, naming the feature.
func TestCorridorWidthRejected(t *testing.T) {
	for _, width := range []string{`0`, `-5`, `"wide"`, `1e9`} {
		_, err := geojson.DecodeLayer(geojson.ZonesLayer, "zones.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		  {"type":"Feature","id":"lane","geometry":{"type":"LineString","coordinates":[[30,46],[31,46]]},"properties":{"width_m":`+width+`}}]}`))
		var pe *geo.ParseError
		if !errors.As(err, &pe) || pe.Feature != 0 || !strings.Contains(err.Error(), `zones.geojson: feature 0 (id "lane"): width_m: `+width) {
			t.Errorf("width %s: error %v, want a *geo.ParseError naming feature 0 and width_m", width, err)
		}
	}
}

// TestCorridorDistances: a corridor lies half its width either side of its
// centreline, measured exactly, and is drawn counterclockwise.
func TestCorridorDistances(t *testing.T) {
	line := orb.LineString{{30, 46}, {30.5, 46.2}, {31, 46.1}}
	l, err := geojson.DecodeLayer(geojson.ZonesLayer, "zones.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
	  {"type":"Feature","id":"lane","geometry":{"type":"LineString","coordinates":[[30,46],[30.5,46.2],[31,46.1]]},"properties":{"width_m":4000}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(l)
	if err != nil {
		t.Fatal(err)
	}
	ring := l.Feature(0).Geometry.(orb.Polygon)[0]
	if area := ringArea(ring); area <= 0 {
		t.Errorf("ring area %v: want counterclockwise", area)
	}
	for _, c := range []struct {
		offset, want float64
	}{{1900, 0}, {2100, 100}, {5000, 3000}} {
		for _, side := range []float64{90, -90} {
			// From the middle of the first edge, square to it.
			_, azi, _ := geodesy.Inverse(line[0], line[1])
			mid, aziMid := geodesy.Direct(line[0], azi, geodesy.Distance(line[0], line[1])/2)
			p, _ := geodesy.Direct(mid, aziMid+side, c.offset)
			hits, err := ix.Nearby(p, 10000, 1)
			if err != nil || len(hits) != 1 {
				t.Fatalf("offset %v: %v, %v", c.offset, hits, err)
			}
			if d := hits[0].Meters; d < c.want-1 || d > c.want+1 {
				t.Errorf("%v m off the centreline (side %v): %v m from the corridor, want %v", c.offset, side, d, c.want)
			}
		}
	}
}

// ringArea is twice the signed planar area of a ring in degrees: positive
// when counterclockwise.
func ringArea(r orb.Ring) float64 {
	a := 0.0
	for i := 1; i < len(r); i++ {
		a += r[i-1][0]*r[i][1] - r[i][0]*r[i-1][1]
	}
	return a
}

func TestEnergyClass(t *testing.T) {
	tests := []struct {
		kind, props, want string
	}{
		{"plant", `{"fuel":"coal"}`, "power_plant"},
		{"plant", `{"fuel":"nuclear"}`, "nuclear_plant"},
		{"plant", `{"fuel":"hydro"}`, "hydro_dam"},
		{"generator", `{"generator:source":"wind"}`, "power_plant"},
		{"plant", `{"plant:source":"nuclear"}`, "nuclear_plant"},
		{"substation", `{}`, "substation"},
		{"line", `{}`, "transmission_line"},
		{"minor_line", `{}`, "distribution"},
		{"refinery", ``, "oil_refinery"},
		{"plant", `{"energy_class":"oil_gas_storage","fuel":"coal"}`, "oil_gas_storage"},
		{"hospital", `{}`, ""},
		{"plant", `{"fuel":5}`, "power_plant"},
	}
	for _, tt := range tests {
		if got := EnergyClass(tt.kind, json.RawMessage(tt.props)); got != tt.want {
			t.Errorf("EnergyClass(%q, %s) = %q, want %q", tt.kind, tt.props, got, tt.want)
		}
	}
}

// TestREADMEAgreementsExample: the full example of the agreements file in
// the README decodes.
func TestREADMEAgreementsExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```json\n{\"agreements\"")
	if !ok {
		t.Fatal("README has no agreements example")
	}
	block, _, _ = strings.Cut(block, "```")
	as, err := DecodeAgreements("README.md", strings.NewReader(`{"agreements"`+block))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 || len(as[0].Readings) != 2 || as[1].Readings[0].Status != Conditional || len(as[2].Readings) != 0 {
		t.Errorf("decoded %+v", as)
	}
}
