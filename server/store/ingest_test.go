package store

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/testenv"
)

func testdata(t testing.TB, name string) *os.File {
	t.Helper()
	fh, err := os.Open(filepath.Join("..", "..", "testdata", "strikes", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	return fh
}

// drain reads dec to the end: the strikes, and each bad record's message.
func drain(t testing.TB, dec Decoder) ([]Strike, []string) {
	t.Helper()
	var strikes []Strike
	var bad []string
	for {
		s, err := dec.Next()
		if err == io.EOF {
			return strikes, bad
		}
		var re *RecordError
		if !errors.As(err, &re) && err != nil {
			t.Fatalf("not a record error: %v", err)
		}
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		strikes = append(strikes, s)
	}
}

// sameStrikes compares decoded strikes with the expected, times as instants.
func sameStrikes(t *testing.T, got, want []Strike) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d strikes, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("strike %d: time %v, want %v", i, got[i].Time, want[i].Time)
		}
		got[i].Time = want[i].Time
		sameContent(t, got[i], want[i])
	}
}

func TestGeoJSONDecoder(t *testing.T) {
	got, bad := drain(t, NewGeoJSONDecoder(testdata(t, "strikes.geojson")))
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	want := []Strike{
		{Point: orb.Point{30.5234, 50.4501}, Time: time.Date(2025, 3, 20, 2, 10, 0, 0, time.UTC), UncertaintyMeters: 250,
			Source: "field report", SourceEventID: "FR-2025-0001", Weapon: "Shahed-type drone", Notes: "Synthetic test record.",
			Extra: json.RawMessage(`{"damage":{"level":"moderate","photos":3},"verified":true}`)},
		{Point: orb.Point{36.2304, 49.9935}, Time: time.Date(2025, 3, 21, 23, 59, 59, 5e8, time.UTC),
			Source: "field report", SourceEventID: "42"},
		{Point: orb.Point{35.1396, 47.8388}, Time: time.Date(2025, 4, 16, 20, 59, 59, 0, time.UTC), Notes: "members in any order"},
	}
	sameStrikes(t, got, want)
}

func TestGeoJSONDecoderLoneFeature(t *testing.T) {
	for _, doc := range []string{
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"datetime":"2025-03-20T04:10:00Z","n":1}}`,
		`{"properties":{"n":1,"datetime":"2025-03-20T04:10:00Z"},"bbox":[30,50,30,50],"geometry":{"coordinates":[30,50],"type":"Point"},"type":"Feature"}`,
	} {
		got, bad := drain(t, NewGeoJSONDecoder(strings.NewReader(doc)))
		if len(bad) > 0 || len(got) != 1 {
			t.Fatalf("%s: %d strikes, problems %v", doc, len(got), bad)
		}
		sameContent(t, got[0], Strike{Point: orb.Point{30, 50}, Time: time.Date(2025, 3, 20, 4, 10, 0, 0, time.UTC),
			Extra: json.RawMessage(`{"n":1}`)})
	}
}

// TestGeoJSONDecoderReportsEveryBadFeature: each bad feature is reported
// with the line it starts on and the member at fault, and the good ones
// around them still decode.
func TestGeoJSONDecoderReportsEveryBadFeature(t *testing.T) {
	got, bad := drain(t, NewGeoJSONDecoder(testdata(t, "bad.geojson")))
	want := []string{
		`line 3: features[1].properties.datetime: "2025-03-20" is not an RFC 3339 time with an offset (like 2025-03-20T04:10:00+02:00)`,
		`line 4: features[2].geometry: a strike is a Point, not a Polygon`,
		`line 6: features[3].geometry.coordinates: latitude 95 is outside [-90, 90]`,
		`line 7: features[4].properties.uncertainty_m: -10 is outside [0, 200000] metres`,
		`line 9: features[5].properties.datetime: required (RFC 3339, like 2025-03-20T04:10:00+02:00)`,
		`line 10: features[6].geometry: required: a GeoJSON Point`,
		`line 13: features[8].properties.event_id: the same source and event id as line 11`,
		`line 15: features[9].properties.weapon: 7 is not text`,
		`line 16: features[10].type: is "Point", want "Feature"`,
	}
	if strings.Join(bad, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 3 {
		t.Errorf("%d good strikes, want 3", len(got))
	}
}

// TestGeoJSONDecoderReadsAcrossReads decodes documents read a byte at a
// time, and half a read at a time, as it decodes them read whole: values,
// numbers among them, cut anywhere by a read, a feature far longer than a
// read, bad features and broken JSON give the same strikes and problems
// on the same lines.
func TestGeoJSONDecoderReadsAcrossReads(t *testing.T) {
	long := `{"type":"Feature","geometry":{"type":"Point","coordinates":[30.25,50.125]},"properties":{"datetime":"2025-03-20T04:10:00Z","event_id":12345,"notes":"` +
		strings.Repeat("n", 3*minStreamRead) + `","tags":[1.5e2,true,null,{"a":"б"}]}}`
	short := `{"type":"FeatureCollection","count":2000,"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},` +
		`"properties":{"datetime":"2025-03-20T04:10:00Z"}}],"total":-1.5e3}`
	docs := map[string][]byte{"long": []byte(`{"type":"FeatureCollection","features":[` + long + ",\n" + long + `], "count": 2000}`), "short": []byte(short)}
	for _, name := range []string{"strikes.geojson", "bad.geojson"} {
		b, err := io.ReadAll(testdata(t, name))
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = b
		docs[name+" cut short"] = b[:len(b)*2/3]
		docs[name+" broken"] = bytes.Replace(b, []byte(`"geometry"`), []byte(`"geometry" }`), 2)
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			want, wantBad := drain(t, NewGeoJSONDecoder(bytes.NewReader(doc)))
			if len(want)+len(wantBad) == 0 {
				t.Fatal("nothing decoded")
			}
			for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(doc)), iotest.HalfReader(bytes.NewReader(doc))} {
				got, bad := drain(t, NewGeoJSONDecoder(r))
				sameStrikes(t, got, want)
				if !slices.Equal(bad, wantBad) {
					t.Errorf("problems read in pieces:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(wantBad, "\n"))
				}
			}
		})
	}
}

func TestGeoJSONDecoderRejectsDocuments(t *testing.T) {
	feature := `{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"datetime":"2025-03-20T04:10:00Z"}}`
	tests := []struct{ name, doc, want string }{
		{"empty", ``, "line 1: invalid JSON: unexpected end of input"},
		{"not an object", `[1,2]`, "line 1: want a GeoJSON Feature or FeatureCollection object, found ["},
		{"broken JSON", "{\"type\":\"FeatureCollection\",\n\"features\":[\n" + feature + ",\n{\"type\": }]}", "line 4: invalid JSON"},
		{"cut short", `{"type":"FeatureCollection","features":[` + feature, "invalid JSON: unexpected end of input"},
		{"no type", `{"features":[]}`, `line 1: type: required: "Feature" or "FeatureCollection"`},
		{"other type", `{"type":"GeometryCollection","geometries":[]}`, `line 1: type: is "GeometryCollection"`},
		{"collection without features", `{"type":"FeatureCollection"}`, `line 1: features: required in a FeatureCollection`},
		{"features in a Feature", `{"type":"Feature","features":[]}`, "features: a Feature has none"},
		{"features not an array", `{"type":"FeatureCollection","features":{}}`, `want an array of features in "features", found {`},
		{"trailing data", `{"type":"FeatureCollection","features":[]} {}`, "data after the GeoJSON object"},
		{"duplicate property", strings.Replace(feature, `"datetime"`, `"notes":"a","notes":"b","datetime"`, 1), "properties.notes: given twice"},
		{"extra shadows nothing: created_at is dropped", strings.Replace(feature, `"datetime"`, `"created_at":5,"datetime"`, 1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, bad := drain(t, NewGeoJSONDecoder(strings.NewReader(tt.doc)))
			if got := strings.Join(bad, "\n"); tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCSVDecoder(t *testing.T) {
	got, bad := drain(t, NewCSVDecoder(testdata(t, "acled.csv")))
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	day := func(d, m int) time.Time { return time.Date(2025, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	acled := func(s string) json.RawMessage { return json.RawMessage(`{"acled":{` + s + `}}`) }
	want := []Strike{
		{Point: orb.Point{30.5234, 50.4501}, Time: day(20, 3), UncertaintyMeters: 5000, Source: "ACLED", SourceEventID: "TST0001",
			Weapon: "Air/drone strike", Notes: "Synthetic test record.",
			Extra: acled(`"year":"2025","time_precision":"1","disorder_type":"Political violence","event_type":"Explosions/Remote violence",` +
				`"sub_event_type":"Air/drone strike","actor1":"Synthetic actor","admin1":"Kyiv City","location":"Kyiv","geo_precision":"1",` +
				`"source":"Synthetic source","fatalities":"0"`)},
		{Point: orb.Point{36.2304, 49.9935}, Time: day(21, 3), UncertaintyMeters: 25000, Source: "ACLED", SourceEventID: "TST0002",
			Weapon: "Shelling/artillery/missile attack", Notes: "Synthetic test record, with a comma\nand a second line.",
			Extra: acled(`"year":"2025","time_precision":"1","disorder_type":"Political violence","event_type":"Explosions/Remote violence",` +
				`"sub_event_type":"Shelling/artillery/missile attack","actor1":"Synthetic actor","admin1":"Kharkiv","location":"Kharkiv",` +
				`"geo_precision":"2","source":"Synthetic source","fatalities":"1"`)},
		{Point: orb.Point{35.1396, 47.8388}, Time: day(16, 4), UncertaintyMeters: 100000, Source: "ACLED", SourceEventID: "TST0003",
			Weapon: "Air/drone strike",
			Extra: acled(`"year":"2025","time_precision":"2","disorder_type":"Political violence","event_type":"Explosions/Remote violence",` +
				`"sub_event_type":"Air/drone strike","admin1":"Zaporizhia","location":"Zaporizhzhia","geo_precision":"3"`)},
		{Point: orb.Point{30.7233, 46.4825}, Time: time.Date(2025, 4, 16, 22, 30, 0, 0, time.UTC), UncertaintyMeters: 5000,
			Source: "ACLED", SourceEventID: "TST0004", Weapon: "Air/drone strike", Notes: "Synthetic test record with a time.",
			Extra: acled(`"year":"2025","time_precision":"1","disorder_type":"Political violence","event_type":"Explosions/Remote violence",` +
				`"sub_event_type":"Air/drone strike","actor1":"Synthetic actor","admin1":"Odesa","location":"Odesa","geo_precision":"1",` +
				`"source":"Synthetic source","fatalities":"0"`)},
	}
	sameStrikes(t, got, want)
}

// TestCSVDecoderUCDP reads UCDP GED rows as published: both date styles,
// the event's window, where_prec's radius and the other columns in Extra.
func TestCSVDecoderUCDP(t *testing.T) {
	got, bad := drain(t, NewCSVDecoder(testdata(t, "ucdp.csv")))
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	want := []struct {
		id          string
		point       orb.Point
		start, end  time.Time
		uncertainty float64
		extra       string
	}{
		{"900001", orb.Point{30.5234, 50.4501}, day(2022, 3, 20), day(2022, 3, 21), 5_000, `"code_status":"Clear"`},
		{"900002", orb.Point{39.02, 48.92}, day(2023, 2, 27), day(2023, 3, 6), 100_000, `"code_status":"Check deaths"`},
		{"900003", orb.Point{36.2304, 49.9935}, day(2022, 10, 10), day(2022, 10, 11), 25_000, `"side_b":"Civilians"`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d strikes, want %d", len(got), len(want))
	}
	for i, w := range want {
		s := got[i]
		if s.Source != UCDPSource || s.SourceEventID != w.id || s.Point != w.point || !s.Time.Equal(w.start) ||
			!s.End.Equal(w.end) || s.UncertaintyMeters != w.uncertainty {
			t.Errorf("strike %d: %s %s %v %v to %v ±%v, want %s %v %v to %v ±%v", i, s.Source, s.SourceEventID, s.Point,
				s.Time, s.End, s.UncertaintyMeters, w.id, w.point, w.start, w.end, w.uncertainty)
		}
		for _, part := range []string{`{"ucdp":{"relid":`, w.extra, `"side_a":"Synthetic side A"`, `"where_prec":`} {
			if !strings.Contains(string(s.Extra), part) {
				t.Errorf("strike %d: extra %s lacks %s", i, s.Extra, part)
			}
		}
		if strings.Contains(string(s.Extra), `"date_start"`) || strings.Contains(string(s.Extra), `"latitude"`) {
			t.Errorf("strike %d: extra %s repeats the strike's own fields", i, s.Extra)
		}
	}
}

// TestCSVDecoderUCDPBadRows: each bad UCDP row is reported by line and column.
func TestCSVDecoderUCDPBadRows(t *testing.T) {
	got, bad := drain(t, NewCSVDecoder(testdata(t, "ucdp_bad.csv")))
	want := []string{
		`line 3: where_prec: "9" is not a whole number from 1 to 7`,
		`line 4: date_start: "27/02/2023 00:00" is not a date like 2022-03-20 or 3/20/2022 12:00:00 AM`,
		`line 5: date_end: 2022-03-19 is before date_start`,
		`line 6: latitude: "north" is not a number`,
		`line 7: id: required`,
		`line 8: id: the same event as line 2`,
	}
	if strings.Join(bad, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 2 || got[0].SourceEventID != "900101" || got[1].SourceEventID != "900108" {
		t.Errorf("good rows %v", got)
	}
}

// TestCSVDecoderReportsEveryBadRow: each bad row is reported with its line
// (a quoted field across lines counts its lines) and column.
func TestCSVDecoderReportsEveryBadRow(t *testing.T) {
	got, bad := drain(t, NewCSVDecoder(testdata(t, "bad.csv")))
	want := []string{
		`line 3: geo_precision: "4" is not 1, 2 or 3`,
		`line 4: event_date: "20/03/2025" is not a date like 2025-03-20 or 20 March 2025`,
		`line 5: latitude: "north" is not a number`,
		`line 6: longitude: longitude 190 is outside [-180, 180]`,
		`line 8: event_id_cnty: required`,
		`line 9: event_id_cnty: the same event as line 2`,
		`line 10: 6 fields, but the header has 8`,
	}
	if strings.Join(bad, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 2 || got[0].SourceEventID != "TST0101" || got[1].SourceEventID != "TST0109" {
		t.Errorf("good rows %v", got)
	}
}

func TestCSVDecoderRejectsHeaders(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"empty", "", "line 1: empty: want a header row"},
		{"missing columns", "event_id_cnty,event_date,latitude\n", "line 1: the header lacks longitude, geo_precision for ACLED"},
		{"missing UCDP columns", "id,date_start,latitude,longitude,where_prec\n", "line 1: the header lacks date_end for UCDP"},
		{"neither", "lat,lon,time\n", "line 1: the header has neither ACLED's (event_id_cnty, event_date, latitude, longitude, geo_precision) nor UCDP's"},
		{"repeated column", "event_id_cnty,event_date,latitude,longitude,geo_precision,Latitude\n", "line 1: latitude: column given twice"},
		{"bare quote", "event_id_cnty,event_date,latitude,longitude,geo_precision\nA,2025-03-20,50,30,1\nB\"x,2025-03-20,50,30,1\n",
			`line 3: bare " in non-quoted-field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, bad := drain(t, NewCSVDecoder(strings.NewReader(tt.doc)))
			if len(bad) != 1 || !strings.Contains(bad[0], tt.want) {
				t.Errorf("problems %q, want one with %q", bad, tt.want)
			}
		})
	}
}

// TestAppendFeature: what AppendFeature writes, GeoJSONDecoder reads back
// as the same strike; computed members win over recorded ones.
func TestAppendFeature(t *testing.T) {
	s := sampleStrike(3)
	s.ID, s.Notes = "ABC", "quote \" backslash \\ control \x01 line\nend"
	s.Extra = json.RawMessage(`{"verdict":"recorded","keep":[1,{"a":null}]}`)
	s.CreatedAt, s.UpdatedAt = time.Unix(1, 0), time.Unix(2, 0)
	f := AppendFeature(nil, &s, geojson.Member{Key: "verdict", Value: "computed"})
	var doc struct {
		ID         string          `json:"id"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(f, &doc); err != nil {
		t.Fatalf("%v: %s", err, f)
	}
	if strings.Count(string(doc.Properties), `"verdict"`) != 1 || !strings.Contains(string(doc.Properties), `"verdict":"computed"`) {
		t.Errorf("properties %s: want the computed verdict alone", doc.Properties)
	}
	if doc.ID != "ABC" || !strings.Contains(string(doc.Properties), `"created_at":"1970-01-01T00:00:01Z"`) {
		t.Errorf("feature %s", f)
	}
	// A verdict recorded among the extra properties, as a log written
	// before they were refused may hold, is never served.
	if p := AppendFeature(nil, &s); strings.Contains(string(p), `"verdict"`) {
		t.Errorf("served %s: the recorded verdict shows", p)
	}
	back, bad := drain(t, NewGeoJSONDecoder(strings.NewReader(string(AppendFeature(nil, &s)))))
	if len(bad) > 0 || len(back) != 1 {
		t.Fatalf("%v", bad)
	}
	s.Extra = json.RawMessage(`{"keep":[1,{"a":null}]}`)
	sameContent(t, back[0], s)
}

// TestComputedAndDeepProperties: properties the server computes are
// dropped on write, and properties nested deeper than MaxPropertyDepth are
// refused, naming the strike, before anything is stored.
func TestComputedAndDeepProperties(t *testing.T) {
	deep := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	feature := func(props string) string {
		return `{"type":"Feature","id":"mine","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"datetime":"2025-03-20T00:00:00Z",` + props + `}}`
	}
	computed := `"id":"x","verdict":"protected_site_hit","verdict_now":{},"hits":[],"summary":{},"protected_sites":[],"created_at":"x","updated_at":"y","kept":1`
	got, bad := drain(t, NewGeoJSONDecoder(strings.NewReader(feature(computed))))
	if len(bad) > 0 || len(got) != 1 || string(got[0].Extra) != `{"kept":1}` {
		t.Errorf("computed properties: %+v, %v; want only kept", got, bad)
	}
	// The properties object is one level: a member MaxPropertyDepth-1 deep fits.
	if got, bad := drain(t, NewGeoJSONDecoder(strings.NewReader(feature(`"n":`+deep(MaxPropertyDepth-1))))); len(bad) > 0 || len(got) != 1 {
		t.Errorf("properties %d deep: %v", MaxPropertyDepth, bad)
	}
	_, bad = drain(t, NewGeoJSONDecoder(strings.NewReader(feature(`"n":`+deep(MaxPropertyDepth)))))
	if len(bad) != 1 || !strings.Contains(bad[0], fmt.Sprintf("nested %d deep, more than %d", MaxPropertyDepth+1, MaxPropertyDepth)) {
		t.Errorf("properties %d deep: %v", MaxPropertyDepth+1, bad)
	}
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		for _, extra := range []string{`{"verdict":"hit"}`, `{"n":` + deep(MaxPropertyDepth) + `}`} {
			s := sampleStrike(1)
			s.Extra = json.RawMessage(extra)
			if _, err := st.Put(ctx, "tester", []Strike{s}); !errors.Is(err, ErrInvalid) {
				t.Errorf("Put with extra %.40s: %v, want ErrInvalid", extra, err)
			}
		}
	})
}

// TestImportRecordsVerdicts: an import records each strike with the verdict
// judged for it, canonical, in its row and in its create event, as Put does.
func TestImportRecordsVerdicts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		judged := time.Date(2025, 3, 20, 4, 0, 0, 123456789, time.UTC)
		judge := func(s *Strike) (*Verdict, error) {
			body := fmt.Sprintf(`{"verdict":"no_protected_site", "lon":%v}`, s.Point[0])
			return &Verdict{DataVersion: "v-import", JudgedAt: judged, Body: json.RawMessage(body)}, nil
		}
		if _, err := st.Import(ctx, "importer", NewGeoJSONDecoder(testdata(t, "strikes.geojson")), judge); err != nil {
			t.Fatal(err)
		}
		strikes := listAll(t, st, Query{})
		if len(strikes) != 3 {
			t.Fatalf("%d strikes recorded, want 3", len(strikes))
		}
		for _, s := range strikes {
			want := fmt.Sprintf(`{"lon":%v,"verdict":"no_protected_site"}`, s.Point[0])
			if s.Verdict == nil || s.Verdict.DataVersion != "v-import" || string(s.Verdict.Body) != want || !s.Verdict.JudgedAt.Equal(judged.Truncate(time.Microsecond)) {
				t.Fatalf("strike %s: verdict %+v, want %s on v-import", s.ID, s.Verdict, want)
			}
			events, err := st.History(ctx, s.ID)
			if err != nil || len(events) != 1 || events[0].Actor != "importer" || !bytes.Contains(events[0].Record, []byte(`"verdict":`+want)) {
				t.Errorf("strike %s: history %+v, %v", s.ID, events, err)
			}
		}
		if _, err := st.VerifyChain(ctx, nil); err != nil {
			t.Error(err)
		}
	})
}

func TestImport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st *sqlStore) {
		for _, c := range []struct {
			file string
			dec  func(io.Reader) Decoder
			n    int
		}{
			{"strikes.geojson", func(r io.Reader) Decoder { return NewGeoJSONDecoder(r) }, 3},
			{"acled.csv", func(r io.Reader) Decoder { return NewCSVDecoder(r) }, 4},
		} {
			res, err := st.Import(ctx, "tester", c.dec(testdata(t, c.file)), nil)
			if err != nil || res != (ImportResult{Created: c.n}) {
				t.Fatalf("%s: %+v, %v", c.file, res, err)
			}
			// Only strikes with an event id are recognised again.
			res, err = st.Import(ctx, "tester", c.dec(testdata(t, c.file)), nil)
			want := ImportResult{Unchanged: 2, Created: 1}
			if c.file == "acled.csv" {
				want = ImportResult{Unchanged: 4}
			}
			if err != nil || res != want {
				t.Errorf("%s again: %+v, %v, want %+v", c.file, res, err, want)
			}
		}
		before := len(listAll(t, st, Query{}))
		for _, file := range []string{"bad.csv", "bad.geojson"} {
			dec := Decoder(NewCSVDecoder(testdata(t, file)))
			if strings.HasSuffix(file, ".geojson") {
				dec = NewGeoJSONDecoder(testdata(t, file))
			}
			_, err := st.Import(ctx, "tester", dec, nil)
			if err == nil || !errors.Is(err, ErrInvalid) || strings.Count(err.Error(), "\n") < 6 {
				t.Errorf("%s: %v, want every bad record listed", file, err)
			}
		}
		if n := len(listAll(t, st, Query{})); n != before {
			t.Errorf("%d strikes after failed imports, want %d", n, before)
		}
	})
}

// TestImportStopsAfterManyProblems: a file of nothing but bad rows is
// reported up to maxReported, and then the import stops reading.
func TestImportStopsAfterManyProblems(t *testing.T) {
	st := openStore(t, freshDSN(t, "sqlite"))
	var b strings.Builder
	b.WriteString("event_id_cnty,event_date,latitude,longitude,geo_precision\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "E%d,2025-03-20,50,30,9\n", i)
	}
	_, err := st.Import(ctx, "tester", NewCSVDecoder(strings.NewReader(b.String())), nil)
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxReported+1 || lines[maxReported] != "stopped reading after 100 bad records" || !strings.HasPrefix(lines[0], "line 2: ") {
		t.Errorf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

// TestImportRealEvents imports the real UCDP events in Ukraine, 2014 to
// 2023, as published (49 columns, month-first dates) and as the slim copy
// with ISO dates, on both backends, twice: every row is recorded with its
// event id, where_prec's radius and its window of whole days; the second
// import changes nothing.
func TestImportRealEvents(t *testing.T) {
	for _, name := range []string{"ucdp_ged_ukraine_2014_2023.csv", "ucdp_ged_ukraine_slim_isodates.csv"} {
		t.Run(name, func(t *testing.T) {
			file := testenv.SharedData(t, "ucdp_ged_ukraine/"+name)
			rows := readCSV(t, file)
			col := map[string]int{}
			for i, name := range rows[0] {
				col[name] = i
			}
			events := len(rows) - 1
			forEachBackend(t, func(t *testing.T, st *sqlStore) {
				for _, want := range []ImportResult{{Created: events}, {Unchanged: events}} {
					fh, err := os.Open(file)
					if err != nil {
						t.Fatal(err)
					}
					res, err := st.Import(ctx, "tester", NewCSVDecoder(fh), nil)
					fh.Close()
					if err != nil || res != want {
						t.Fatalf("import: %+v, %v, want %+v", res, err, want)
					}
				}
				byID := map[string]Strike{}
				for _, s := range listAll(t, st, Query{Limit: MaxLimit}) {
					byID[s.SourceEventID] = s
				}
				multiDay := 0
				for _, r := range rows[1:] {
					s, ok := byID[r[col["id"]]]
					if !ok || s.Source != UCDPSource {
						t.Fatalf("event %s: %+v, want it recorded from UCDP", r[col["id"]], s)
					}
					if want := wherePrecMeters[r[col["where_prec"]]]; s.UncertaintyMeters != want || want == 0 {
						t.Errorf("event %s: uncertainty %v for where_prec %s", s.SourceEventID, s.UncertaintyMeters, r[col["where_prec"]])
					}
					switch days := s.End.Sub(s.Time).Hours() / 24; {
					case days > 1:
						multiDay++
					case days != 1:
						t.Errorf("event %s: %v to %v", s.SourceEventID, s.Time, s.End)
					}
				}
				if len(byID) != events {
					t.Errorf("%d strikes, the file has %d events", len(byID), events)
				}
				if want := multiDayEvents(t, file); multiDay != want || want == 0 {
					t.Errorf("%d strikes over more than a day, %d events over several days", multiDay, want)
				}
			})
		})
	}
}

func readCSV(t *testing.T, file string) [][]string {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// multiDayEvents counts the events over more than one day, by the ISO
// dates of the slim copy of the UCDP events (which holds the same events
// as the full file), so that the count does not rest on the decoder's
// reading of month-first dates.
func multiDayEvents(t *testing.T, file string) int {
	rows := readCSV(t, filepath.Join(filepath.Dir(file), "ucdp_ged_ukraine_slim_isodates.csv"))
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	n := 0
	for _, r := range rows[1:] {
		if r[col["date_start_iso"]] != r[col["date_end_iso"]] {
			n++
		}
	}
	return n
}

// TestDecodersStream: decoding a large input keeps memory flat, however
// long the input.
func TestDecodersStream(t *testing.T) {
	const n = 200_000
	gen := map[string]func(w io.Writer){
		"geojson": func(w io.Writer) {
			io.WriteString(w, `{"type":"FeatureCollection","features":[`)
			for i := range n {
				if i > 0 {
					io.WriteString(w, ",\n")
				}
				fmt.Fprintf(w, `{"type":"Feature","geometry":{"type":"Point","coordinates":[30.%06d,50.1]},`+
					`"properties":{"datetime":"2025-03-20T04:10:00Z","notes":"%s"}}`, i, strings.Repeat("n", 200))
			}
			io.WriteString(w, "]}")
		},
		"csv": func(w io.Writer) {
			io.WriteString(w, "event_id_cnty,event_date,latitude,longitude,geo_precision,notes\n")
			for i := range n {
				fmt.Fprintf(w, "E%d,2025-03-20,50.1,30.%06d,1,%s\n", i, i, strings.Repeat("n", 200))
			}
		},
	}
	for name, write := range gen {
		t.Run(name, func(t *testing.T) {
			r, w := io.Pipe()
			go func() { write(w); w.Close() }()
			dec := Decoder(NewGeoJSONDecoder(r))
			if name == "csv" {
				dec = NewCSVDecoder(r)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base, peak := ms.HeapAlloc, uint64(0)
			for i := 0; ; i++ {
				_, err := dec.Next()
				if err == io.EOF {
					if i != n {
						t.Fatalf("%d strikes, want %d", i, n)
					}
					break
				} else if err != nil {
					t.Fatal(err)
				}
				if i%20_000 == 0 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
			}
			t.Logf("heap grew by %.1f MB", float64(int64(peak)-int64(base))/(1<<20))
			// The input is some 60 MB; the decoder keeps the ids it has seen
			// (a hash, about 40 B each with the map, for CSV) and little else.
			if grown := int64(peak) - int64(base); grown > 16<<20 {
				t.Errorf("heap grew by %d MB while decoding", grown>>20)
			}
		})
	}
}

// TestCSVDecoderACLEDExport reads an export with every column ACLED
// publishes: each kept, but those read into the strike's fields.
func TestCSVDecoderACLEDExport(t *testing.T) {
	got, bad := drain(t, NewCSVDecoder(testdata(t, "acled_export.csv")))
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	want := []struct {
		id          string
		day         time.Time
		uncertainty float64
		weapon      string
		extra       []string
	}{
		{"TST1001", time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC), 5_000, "Air/drone strike",
			[]string{`"actor2":"Civilians (Synthetic)"`, `"civilian_targeting":"Civilian targeting"`, `"tags":"casualties: none; target: energy"`, `"timestamp":"1742860800"`}},
		{"TST1002", time.Date(2025, 3, 21, 0, 0, 0, 0, time.UTC), 25_000, "Shelling/artillery/missile attack",
			[]string{`"admin3":"Kharkivska"`, `"source_scale":"National"`, `"fatalities":"1"`}},
		{"TST1003", time.Date(2025, 4, 16, 0, 0, 0, 0, time.UTC), 100_000, "Armed clash",
			[]string{`"actor2":"Other synthetic armed forces"`, `"interaction":"88"`}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d strikes, want %d", len(got), len(want))
	}
	for i, w := range want {
		s := got[i]
		if s.Source != ACLEDSource || s.SourceEventID != w.id || !s.Time.Equal(w.day) || !s.End.IsZero() ||
			s.UncertaintyMeters != w.uncertainty || s.Weapon != w.weapon {
			t.Errorf("strike %d: %+v", i, s)
		}
		for _, part := range append(w.extra, `"geo_precision":`, `"actor1":"Synthetic armed forces"`) {
			if !strings.Contains(string(s.Extra), part) {
				t.Errorf("strike %d: extra %s lacks %s", i, s.Extra, part)
			}
		}
		if strings.Contains(string(s.Extra), `"latitude"`) || strings.Contains(string(s.Extra), `"notes"`) {
			t.Errorf("strike %d: extra %s repeats the strike's fields", i, s.Extra)
		}
	}
	if got[0].Notes != `On 20 March 2025, a synthetic drone hit "a substation" in Kyiv.` {
		t.Errorf("notes %q", got[0].Notes)
	}
}

func TestParseColumns(t *testing.T) {
	tests := []struct {
		name, spec string
		want       Columns
		err        string
	}{
		{"the three required", "lat=Y,lon=X,time=When", Columns{Lat: "y", Lon: "x", Time: "when"}, ""},
		{"every field", " lat = y ,lon=x,time=t,end=e,id=i,uncertainty=u,source=s,weapon=w,notes=n",
			Columns{Lat: "y", Lon: "x", Time: "t", End: "e", ID: "i", Uncertainty: "u", Source: "s", Weapon: "w", Notes: "n"}, ""},
		{"missing", "lat=y,id=i", Columns{}, "no column for lon, time"},
		{"unknown field", "lat=y,lon=x,time=t,colour=c", Columns{}, `no field "colour"`},
		{"twice", "lat=y,lat=z,lon=x,time=t", Columns{}, `field "lat" given twice`},
		{"no column", "lat=,lon=x,time=t", Columns{}, `"lat=": want field=column`},
		{"empty", "", Columns{}, `"": want field=column`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseColumns(tt.spec)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseColumns(%q) = %+v, %v; want %+v, %q", tt.spec, got, err, tt.want, tt.err)
			}
		})
	}
}

// TestMappedCSVDecoder reads a CSV of its own layout through a mapping:
// the mapped columns into the strike, the rest kept under "csv", and bad
// rows named by line and the mapped column.
func TestMappedCSVDecoder(t *testing.T) {
	doc := "Y,X,When,Until,Ref,Err_m,Who,Comment\n" +
		"50.45,30.52,2025-03-20 04:10:00,,R1,500,Monitor A,first\n" +
		"50.46,30.53,2025-03-21,2025-03-23,R2,,Monitor B,\n" +
		"50.47,30.54,03/22/2025,,R3,,Monitor A,slashed date\n" +
		"north,30.54,2025-03-22,,R4,,Monitor A,\n" +
		"50.47,30.54,2025-03-22,2025-03-21,R5,,Monitor A,ends before it starts\n" +
		"50.47,30.54,2025-03-22,,R6,,,no source\n" +
		"50.47,30.54,2025-03-22,,R7,far,Monitor A,\n"
	c, err := ParseColumns("lat=y,lon=x,time=when,end=until,id=ref,uncertainty=err_m,source=who")
	if err != nil {
		t.Fatal(err)
	}
	got, bad := drain(t, NewMappedCSVDecoder(strings.NewReader(doc), c))
	wantBad := []string{
		`line 4: when: "03/22/2025" is not a date like ` + mappedDateLike,
		`line 5: y: "north" is not a number`,
		`line 6: until: 2025-03-21T00:00:00Z is not after the start, 2025-03-22T00:00:00Z`,
		`line 7: who: required: the source of the strike`,
		`line 8: err_m: "far" is not a number of metres`,
	}
	if strings.Join(bad, "\n") != strings.Join(wantBad, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(wantBad, "\n"))
	}
	if len(got) != 2 {
		t.Fatalf("%d strikes, want 2", len(got))
	}
	first, second := got[0], got[1]
	if first.Source != "Monitor A" || first.SourceEventID != "R1" || first.UncertaintyMeters != 500 ||
		!first.Time.Equal(time.Date(2025, 3, 20, 4, 10, 0, 0, time.UTC)) || string(first.Extra) != `{"csv":{"comment":"first"}}` {
		t.Errorf("first: %+v, extra %s", first, first.Extra)
	}
	if second.Source != "Monitor B" || !second.End.Equal(time.Date(2025, 3, 23, 0, 0, 0, 0, time.UTC)) || second.Extra != nil {
		t.Errorf("second: %+v", second)
	}
	// Without a source column every row is SourceName's.
	c.Source, c.SourceName = "", "Monitor C"
	got, _ = drain(t, NewMappedCSVDecoder(strings.NewReader(doc), c))
	if len(got) == 0 || got[0].Source != "Monitor C" || !strings.Contains(string(got[0].Extra), `"who":"Monitor A"`) {
		t.Errorf("with SourceName: %+v", got)
	}
	_, bad = drain(t, NewMappedCSVDecoder(strings.NewReader("y,x\n"), c))
	if len(bad) != 1 || bad[0] != "line 1: the header lacks when, until, ref, err_m for the columns given" {
		t.Errorf("header: %q", bad)
	}
}
