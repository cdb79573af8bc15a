package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// layersDir holds the small fixture layers: every geometry type, numeric
// and string ids, timed features, an empty layer and two sites beside the
// antimeridian.
const layersDir = "../testdata/layers"

func loadIndex(t testing.TB) *geo.Index {
	t.Helper()
	layers, err := geojson.LoadDir(layersDir)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.NewIndex(layers...)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// fixture is a server over the fixture layers.
type fixture struct {
	ix      *geo.Index
	current *atomic.Pointer[geo.Index]
	e       *echo.Echo
}

func newFixture(t testing.TB, configure ...func(*server.Config)) *fixture {
	t.Helper()
	f := &fixture{ix: loadIndex(t), current: new(atomic.Pointer[geo.Index])}
	f.current.Store(f.ix)
	// A fixed data version keeps golden files stable.
	cfg := server.Config{Index: f.current, DataVersion: "fixture", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range configure {
		c(&cfg)
	}
	f.e = server.New(cfg)
	return f
}

// do sends a request through the server; header is "Name: value" pairs.
func (f *fixture) do(t testing.TB, method, target string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for _, h := range header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) get(t testing.TB, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return f.do(t, http.MethodGet, target, nil, header...)
}

// decode parses a JSON body, failing the test if it is not JSON.
func decode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, body)
	}
	return v
}

// canonical re-encodes JSON with sorted keys and indentation, so golden
// files compare meaning, not formatting.
func canonical(t testing.TB, body []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// golden compares body with testdata/golden/<Test>/<name>.json, or
// rewrites it under -update.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	test, _, _ := strings.Cut(t.Name(), "/")
	path := filepath.Join("..", "testdata", "golden", test, name+".json")
	got := canonical(t, body)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server -run %s -update to create it)", err, test)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test ./server -run %s -update rewrites it):\n%s", name, path, test, diffLines(string(want), string(got)))
	}
}

// diffLines shows the first lines that differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 12; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want " + wl + "\n  got  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

// links returns a document's links by rel.
func links(t testing.TB, doc map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	ls, _ := doc["links"].([]any)
	for _, l := range ls {
		m := l.(map[string]any)
		out[m["rel"].(string)] = m
	}
	return out
}

// featureIDs lists the ids of a FeatureCollection's features.
func featureIDs(t testing.TB, doc map[string]any) []string {
	t.Helper()
	var ids []string
	fs, ok := doc["features"].([]any)
	if !ok {
		t.Fatalf("no features array in %v", doc)
	}
	for _, f := range fs {
		ids = append(ids, f.(map[string]any)["id"].(string))
	}
	return ids
}

// logBuffer collects the server's log for tests that read it while the
// server runs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func logTo(l *logBuffer) func(*server.Config) {
	return func(c *server.Config) { c.Logger = slog.New(slog.NewTextHandler(l, nil)) }
}
