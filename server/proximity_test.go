package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server"
)

// compareHits compares the features of a proximity answer with the hits the
// index gives for the same question.
func compareHits(t *testing.T, features []any, want []geo.Hit, uncertainty float64) {
	t.Helper()
	if len(features) != len(want) {
		t.Fatalf("%d sites, want %d", len(features), len(want))
	}
	for k, raw := range features {
		f := raw.(map[string]any)
		p := f["properties"].(map[string]any)
		h := want[k]
		if f["id"] != h.Feature.ID || p["collection"] != h.Layer.Name() {
			t.Errorf("site %d is %v/%v, want %s/%s", k, p["collection"], f["id"], h.Layer.Name(), h.Feature.ID)
		}
		if d := p["distance_m"].(float64); math.Abs(d-h.Meters) > 0.0005 {
			t.Errorf("site %s: distance_m %v, want %v", h.Feature.ID, d, h.Meters)
		}
		if math.IsNaN(h.Bearing) != (p["bearing_deg"] == nil) {
			t.Errorf("site %s: bearing_deg %v for bearing %v", h.Feature.ID, p["bearing_deg"], h.Bearing)
		}
		np := p["nearest_point"].([]any)
		if np[0] != h.Nearest[0] || np[1] != h.Nearest[1] {
			t.Errorf("site %s: nearest_point %v, want %v", h.Feature.ID, np, h.Nearest)
		}
		ph, given := p["possibly_hit"]
		if math.IsNaN(uncertainty) && given {
			t.Errorf("site %s: possibly_hit without an uncertainty", h.Feature.ID)
		}
		if !math.IsNaN(uncertainty) && ph != (h.Meters <= uncertainty) {
			t.Errorf("site %s at %v m: possibly_hit %v with uncertainty %v", h.Feature.ID, h.Meters, ph, uncertainty)
		}
	}
}

// TestProximity asks about random strikes around Kyiv and checks each
// answer against the index itself, with the query echoed and summarised.
func TestProximity(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 60 {
		p := orb.Point{30.3 + r.Float64()*0.6, 50.3 + r.Float64()*0.4}
		radius := []float64{500, 3000, 20000, 200000}[n%4]
		limit := 1 + r.IntN(12)
		unc := math.NaN()
		target := fmt.Sprintf("/proximity?lon=%v&lat=%v&radius=%v&limit=%d", p[0], p[1], radius, limit)
		var names []string
		if n%3 == 0 {
			names = []string{"hospitals", "bridges"}
			target += "&collections=hospitals,bridges"
		}
		if n%2 == 0 {
			unc = float64(r.IntN(int(radius)))
			target += fmt.Sprintf("&uncertainty=%v", unc)
		}
		want, err := f.ix.Nearby(p, radius, limit, names...)
		if err != nil {
			t.Fatal(err)
		}
		rec := f.get(t, target)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		doc := decode(t, rec.Body.Bytes())
		compareHits(t, doc["features"].([]any), want, unc)

		q := doc["query"].(map[string]any)
		if q["lon"] != p[0] || q["lat"] != p[1] || q["radius"] != radius || q["limit"] != float64(limit) {
			t.Errorf("GET %s: query echoed as %v", target, q)
		}
		s := doc["summary"].(map[string]any)
		if s["count"] != float64(len(want)) {
			t.Errorf("summary count %v, want %d", s["count"], len(want))
		}
		if len(want) == 0 && s["nearest_m"] != nil || len(want) > 0 && math.Abs(s["nearest_m"].(float64)-want[0].Meters) > 0.0005 {
			t.Errorf("summary nearest_m %v, want the first site's distance", s["nearest_m"])
		}
		possibly := 0
		for _, h := range want {
			if h.Meters <= unc {
				possibly++
			}
		}
		if math.IsNaN(unc) && s["possibly_hit"] != nil || !math.IsNaN(unc) && s["possibly_hit"] != float64(possibly) {
			t.Errorf("summary possibly_hit %v, want %d (uncertainty %v)", s["possibly_hit"], possibly, unc)
		}
	}
}

// TestProximityDefaults: radius 1000 m, widened to a larger uncertainty.
func TestProximityDefaults(t *testing.T) {
	f := newFixture(t)
	for target, radius := range map[string]float64{
		"/proximity?lon=30.5&lat=50.4":                      1000,
		"/proximity?lon=30.5&lat=50.4&uncertainty=2500":     2500,
		"/proximity?lon=30.5&lat=50.4&uncertainty=300":      1000,
		"/proximity?lon=30.5&lat=50.4&radius=0":             0,
		"/proximity?lon=30.5&lat=50.4&radius=200000&f=json": 200000,
	} {
		doc := decode(t, f.get(t, target).Body.Bytes())
		if q := doc["query"].(map[string]any); q["radius"] != radius || q["limit"] != 100.0 {
			t.Errorf("GET %s: query %v, want radius %v and limit 100", target, q, radius)
		}
	}
}

// TestProximityGeometry: geometry=none writes every site's geometry as
// null, geometry=simplified a subset of its vertices with the same ends,
// fewer for some sites, and both leave the rest of the answer as whole
// geometries have it. The default layers' plant outlines, drawn from OSM,
// have vertices a few metres apart.
func TestProximityGeometry(t *testing.T) {
	f := newFixture(t, defaultDataset(t))
	const target = "/proximity?lon=30.5234&lat=50.4501&radius=50000&limit=300"
	full := decode(t, f.get(t, target).Body.Bytes())["features"].([]any)
	if len(full) < 50 {
		t.Fatalf("%d sites near Kyiv: too few to compare", len(full))
	}
	simplified, shorter := 0, 0
	for _, mode := range []string{"none", "simplified", "full"} {
		rec := f.get(t, target+"&geometry="+mode)
		if rec.Code != 200 {
			t.Fatalf("geometry=%s: %d %s", mode, rec.Code, rec.Body)
		}
		got := decode(t, rec.Body.Bytes())["features"].([]any)
		if len(got) != len(full) {
			t.Fatalf("geometry=%s: %d sites, want %d", mode, len(got), len(full))
		}
		for k := range got {
			g, w := got[k].(map[string]any), full[k].(map[string]any)
			if g["id"] != w["id"] || !reflect.DeepEqual(g["properties"], w["properties"]) {
				t.Errorf("geometry=%s: site %d is %v %v, want %v %v", mode, k, g["id"], g["properties"], w["id"], w["properties"])
			}
			switch mode {
			case "none":
				if g["geometry"] != nil {
					t.Errorf("geometry=none: site %v has geometry %v", g["id"], g["geometry"])
				}
			case "full":
				if !reflect.DeepEqual(g["geometry"], w["geometry"]) {
					t.Errorf("geometry=full: site %v differs from the default", g["id"])
				}
			case "simplified":
				sg, wg := g["geometry"].(map[string]any), w["geometry"].(map[string]any)
				if sg["type"] != wg["type"] {
					t.Errorf("geometry=simplified: site %v is a %v, want a %v", g["id"], sg["type"], wg["type"])
					continue
				}
				sv, wv := vertexRuns(sg["coordinates"]), vertexRuns(wg["coordinates"])
				if !subsequences(sv, wv) {
					t.Errorf("geometry=simplified: site %v: %v is not its vertices %v thinned, ends kept", g["id"], sv, wv)
				}
				simplified++
				if !reflect.DeepEqual(sv, wv) {
					shorter++
				}
			}
		}
	}
	if shorter == 0 {
		t.Errorf("geometry=simplified thinned none of %d sites", simplified)
	}
	checkProblem(t, f.get(t, target+"&geometry=outline"), 400, "geometry", `"outline" is not full, simplified or none`)
}

// vertexRuns are the runs of positions in GeoJSON coordinates: one for a
// Point's, one a line or ring.
func vertexRuns(coords any) [][]any {
	c := coords.([]any)
	if _, isNumber := c[0].(float64); isNumber {
		return [][]any{c}
	}
	if _, isPosition := c[0].([]any)[0].(float64); isPosition {
		return [][]any{c}
	}
	var out [][]any
	for _, part := range c {
		out = append(out, vertexRuns(part)...)
	}
	return out
}

// subsequences reports whether each run of got is the same run of want
// with some inner positions left out.
func subsequences(got, want [][]any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if len(g) == 0 || !reflect.DeepEqual(g[0], w[0]) || !reflect.DeepEqual(g[len(g)-1], w[len(w)-1]) {
			return false
		}
		k := 0
		for _, p := range w {
			if k < len(g) && reflect.DeepEqual(g[k], p) {
				k++
			}
		}
		if k != len(g) {
			return false
		}
	}
	return true
}

// TestNearest checks k nearest sites against the index, whatever their distance.
func TestNearest(t *testing.T) {
	f := newFixture(t)
	for _, k := range []int{1, 4, 50} {
		p := orb.Point{33.1, 48.2}
		want, err := f.ix.Nearest(p, k)
		if err != nil {
			t.Fatal(err)
		}
		doc := decode(t, f.get(t, fmt.Sprintf("/nearest?lon=%v&lat=%v&k=%d&uncertainty=100000", p[0], p[1], k)).Body.Bytes())
		compareHits(t, doc["features"].([]any), want, 100000)
		if q := doc["query"].(map[string]any); q["k"] != float64(k) {
			t.Errorf("query %v does not echo k=%d", q, k)
		}
	}
}

// strikes builds a POST /proximity body of n random strikes around Kyiv.
func strikes(n int, seed uint64) ([]byte, []orb.Point, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	b.WriteString(`{"type": "FeatureCollection", "name": "strikes", "features": [`)
	pts := make([]orb.Point, n)
	unc := make([]float64, n)
	for i := range n {
		pts[i] = orb.Point{30.3 + r.Float64()*0.6, 50.3 + r.Float64()*0.4}
		unc[i] = math.NaN()
		if i > 0 {
			b.WriteString(",\n")
		}
		props := fmt.Sprintf(`{"source": "report %d", "datetime": "2024-03-%02dT04:%02d:00Z"`, i, 1+i%28, i%60)
		if i%2 == 0 {
			unc[i] = float64(r.IntN(2000))
			props += fmt.Sprintf(`, "uncertainty_m": %v`, unc[i])
		}
		fmt.Fprintf(&b, `{"type": "Feature", "id": %d, "geometry": {"type": "Point", "coordinates": [%v, %v]}, "properties": %s}}`, i, pts[i][0], pts[i][1], props)
	}
	b.WriteString("]}")
	return b.Bytes(), pts, unc
}

// TestProximityBatch posts strikes and checks each against the index, with
// the strike's own properties kept and the summary counted.
func TestProximityBatch(t *testing.T) {
	f := newFixture(t)
	body, pts, unc := strikes(300, 1)
	rec := f.do(t, http.MethodPost, "/proximity?radius=2000&limit=5", bytes.NewReader(body), "Content-Type: application/geo+json")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/geo+json" {
		t.Fatalf("POST /proximity: %d %s\n%s", rec.Code, rec.Header(), rec.Body.String()[:min(rec.Body.Len(), 2000)])
	}
	doc := decode(t, rec.Body.Bytes())
	features := doc["features"].([]any)
	if len(features) != len(pts) {
		t.Fatalf("%d strikes answered, want %d", len(features), len(pts))
	}
	withHits, possibly := 0, 0
	for i, raw := range features {
		s := raw.(map[string]any)
		if s["id"] != float64(i) {
			t.Fatalf("strike %d came back as %v", i, s["id"])
		}
		g := s["geometry"].(map[string]any)["coordinates"].([]any)
		if g[0] != pts[i][0] || g[1] != pts[i][1] {
			t.Errorf("strike %d: geometry %v, want %v", i, g, pts[i])
		}
		p := s["properties"].(map[string]any)
		if p["source"] != fmt.Sprintf("report %d", i) {
			t.Errorf("strike %d lost its properties: %v", i, p)
		}
		want, _ := f.ix.Nearby(pts[i], 2000, 5)
		compareHits(t, p["hits"].([]any), want, unc[i])
		for k, h := range p["hits"].([]any) {
			hg := h.(map[string]any)["geometry"].(map[string]any)["coordinates"].([]any)
			if hg[0] != want[k].Nearest[0] || hg[1] != want[k].Nearest[1] {
				t.Errorf("strike %d: hit %d placed at %v, want its nearest point %v", i, k, hg, want[k].Nearest)
			}
		}
		sum := p["summary"].(map[string]any)
		if sum["count"] != float64(len(want)) {
			t.Errorf("strike %d: summary %v for %d hits", i, sum, len(want))
		}
		if len(want) > 0 {
			withHits++
		}
		for _, h := range want {
			if h.Meters <= unc[i] {
				possibly++
				break
			}
		}
	}
	s := doc["summary"].(map[string]any)
	if s["strikes"] != float64(len(pts)) || s["with_hits"] != float64(withHits) || s["possibly_hit"] != float64(possibly) {
		t.Errorf("summary %v, want %d strikes, %d with hits, %d possibly hit", s, len(pts), withHits, possibly)
	}
	if q := doc["query"].(map[string]any); q["radius"] != 2000.0 || q["limit"] != 5.0 {
		t.Errorf("query echoed as %v", q)
	}
}

// TestProximityBatchLarge streams 100,000 strikes through one request,
// gzipped, and counts them back.
func TestProximityBatchLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 strikes take a few seconds")
	}
	f := newFixture(t)
	const n = 100_000
	body, _, _ := strikes(n, 2)
	rec := f.do(t, http.MethodPost, "/proximity?radius=2000&limit=3&collections=energy", bytes.NewReader(body), "Accept-Encoding: gzip")
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("POST: %d %v", rec.Code, rec.Header())
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	var doc struct {
		Features []json.RawMessage `json:"features"`
		Summary  struct{ Strikes int }
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Features) != n || doc.Summary.Strikes != n {
		t.Errorf("%d features, summary %d strikes; want %d", len(doc.Features), doc.Summary.Strikes, n)
	}
}

// TestProximityBatchErrors: a bad strike is named by its index and field.
func TestProximityBatchErrors(t *testing.T) {
	f := newFixture(t)
	point := `{"type":"Feature","geometry":{"type":"Point","coordinates":[30.5,50.4]},"properties":null}`
	tests := []struct {
		name, query, body, param, detail string
	}{
		{"empty body", "", "", "body", "ends early"},
		{"array", "", `[]`, "body", "FeatureCollection"},
		{"not a collection", "", `{"type":"Feature","features":[]}`, "type", "FeatureCollection"},
		{"no features", "", `{"type":"FeatureCollection"}`, "features", "missing"},
		{"features not an array", "", `{"type":"FeatureCollection","features":{}}`, "body", "must be an array"},
		{"polygon", "", `{"type":"FeatureCollection","features":[` + point + `,{"type":"Feature","geometry":{"type":"Polygon","coordinates":[]}}]}`, "features[1].geometry", "Point"},
		{"no geometry", "", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{}}]}`, "features[0].geometry", "Point"},
		{"latitude 91", "", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30,91]}}]}`, "features[0].geometry", "latitude 91"},
		{"not a feature", "", `{"type":"FeatureCollection","features":[{"type":"Point","coordinates":[30,50]}]}`, "features[0].type", "Feature"},
		{"coordinates not numbers", "", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":["30","50"]}}]}`, "features[0]", "invalid JSON"},
		{"id an object", "", `{"type":"FeatureCollection","features":[{"type":"Feature","id":{},"geometry":{"type":"Point","coordinates":[30,50]}}]}`, "features[0].id", "string or a number"},
		{"properties an array", "", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":[1]}]}`, "features[0].properties", "object"},
		{"uncertainty negative", "", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"uncertainty_m":-4}}]}`, "features[0].properties.uncertainty_m", "outside"},
		{"uncertainty a string", "", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"uncertainty_m":"far"}}]}`, "features[0].properties.uncertainty_m", "not a finite number"},
		{"uncertainty beyond radius", "radius=100", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"uncertainty_m":500}}]}`, "features[0].properties.uncertainty_m", "exceeds the radius"},
		{"datetime not a time", "", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50]},"properties":{"datetime":"last night"}}]}`, "features[0].properties.datetime", "RFC 3339"},
		{"truncated", "", `{"type":"FeatureCollection","features":[` + point, "body", "ends early"},
		{"lon is not a batch parameter", "lon=30", `{"type":"FeatureCollection","features":[]}`, "lon", "unknown parameter"},
		{"unknown collection", "collections=tanks", `{"type":"FeatureCollection","features":[]}`, "collections", "no collection"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodPost, "/proximity?"+tc.query, strings.NewReader(tc.body))
			checkProblem(t, rec, 400, tc.param, tc.detail)
		})
	}
}

// TestProximityBatchRefusedWhole: a bad strike after thousands of good
// ones is a 400 naming it, never a 200 cut short.
func TestProximityBatchRefusedWhole(t *testing.T) {
	f := newFixture(t)
	body, _, _ := strikes(3000, 3)
	tests := []struct{ name, tail, param, detail string }{
		{"bad last strike", `,{"type":"Feature","geometry":{"type":"Point","coordinates":[30,95]}}]}`, "features[3000].geometry", "latitude 95"},
		{"data after the collection", `]} {}`, "body", "data after"},
		{"cut short", `,{"type":"Feature"`, "features[3000]", "ends early"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := append(slices.Clip(body[:len(body)-2]), tc.tail...)
			rec := f.do(t, http.MethodPost, "/proximity?radius=20000", bytes.NewReader(bad))
			checkProblem(t, rec, 400, tc.param, tc.detail)
		})
	}
}

// TestProximityBatchStreamedBody posts batches as clients send them, the
// body streaming in chunks of unknown length over a real connection, and
// reads the whole answer back: every strike once and in order, the summary
// counting them all; or, for a bad strike at the end, a 400 with nothing
// of an answer before it.
func TestProximityBatchStreamedBody(t *testing.T) {
	n := 250_000
	if testing.Short() {
		n = 20_000
	}
	addr := liveServer(t, server.Limits{})
	body, _, _ := strikes(n, 5)
	post := func(t *testing.T, body []byte) *http.Response {
		pr, pw := io.Pipe()
		go func() {
			for rest := body; len(rest) > 0; {
				k := min(len(rest), 32<<10)
				if _, err := pw.Write(rest[:k]); err != nil {
					return
				}
				rest = rest[k:]
			}
			pw.Close()
		}()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/proximity?radius=2000&limit=2&collections=energy", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/geo+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	t.Run("whole", func(t *testing.T) {
		res := post(t, body)
		if res.StatusCode != 200 {
			t.Fatalf("status %d\n%s", res.StatusCode, readAll(t, res))
		}
		var doc struct {
			Features []struct {
				ID int `json:"id"`
			} `json:"features"`
			Problem *json.RawMessage `json:"problem"`
			Summary struct{ Strikes int }
		}
		if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
			t.Fatalf("the answer is not whole JSON: %v", err)
		}
		if doc.Problem != nil || len(doc.Features) != n || doc.Summary.Strikes != n {
			t.Fatalf("%d strikes answered, summary %d, problem %s; want %d", len(doc.Features), doc.Summary.Strikes, doc.Problem, n)
		}
		for i, s := range doc.Features {
			if s.ID != i {
				t.Fatalf("answer %d is strike %d", i, s.ID)
			}
		}
	})
	t.Run("bad last strike", func(t *testing.T) {
		last := bytes.LastIndex(body, []byte(`{"type": "Feature"`))
		bad := append(slices.Clip(body[:last]), `{"type":"Feature","geometry":{"type":"Point","coordinates":[30,95]}}]}`...)
		checkProblem(t, responseOf{res: post(t, bad)}, 400, fmt.Sprintf("features[%d].geometry", n-1), "latitude 95")
	})
}

// responseOf gives a live response to checks written for recorders.
type responseOf struct{ res *http.Response }

func (r responseOf) Result() *http.Response { return r.res }

// TestProximityBatchBodyLimit refuses a body beyond the limit with 413.
func TestProximityBatchBodyLimit(t *testing.T) {
	f := newFixture(t)
	huge := io.MultiReader(strings.NewReader(`{"type":"FeatureCollection","name":"`), neverEnding('x'))
	rec := f.do(t, http.MethodPost, "/proximity", io.LimitReader(huge, 200<<20))
	checkProblem(t, rec, http.StatusRequestEntityTooLarge, "", "exceeds")
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// FuzzProximityBatch: whatever the body, the answer is a 200 with JSON or
// a 4xx problem, never a 500 or a panic.
func FuzzProximityBatch(f *testing.F) {
	body, _, _ := strikes(3, 4)
	for _, s := range []string{string(body), `{"type":"FeatureCollection","features":[]}`, `{"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]},"properties":{"uncertainty_m":1e9}}]}`, `{`, `[]`, `{"type":"FeatureCollection","features":[{"type":"Feature","id":1.5e300,"geometry":{"type":"Point","coordinates":[-180,-90]}}],"type":"x"}`} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		rec := fx.do(t, http.MethodPost, "/proximity?radius=5000", strings.NewReader(body))
		switch {
		case rec.Code == 200:
			decode(t, rec.Body.Bytes())
		case rec.Code >= 400 && rec.Code < 500:
			if rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%q: %d without a problem", body, rec.Code)
			}
		default:
			t.Fatalf("%q: status %d\n%s", body, rec.Code, rec.Body)
		}
	})
}
