package server_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/server"
)

// siteLayer writes a layer of n points, each a version's own, as the
// only layer of dir.
func siteLayer(t testing.TB, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"Feature","id":"s%d","geometry":{"type":"Point","coordinates":[%g,%g]},"properties":{"n":%d}}`,
			i, 30+float64(i)*0.001, 50+float64(i)*0.001, n)
	}
	b.WriteString("]}")
	writeFile(t, filepath.Join(dir, "sites.geojson"), b.String())
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	// Written beside and renamed, as a careful operator does; the broken
	// versions below are broken in content, not half-written.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// dirSource loads dir as a Dataset versioned by its generation, and
// remembers how many features each version has.
type dirSource struct {
	dir   string
	gen   atomic.Int64
	mu    sync.Mutex
	count map[string]int // features of each version ever served
}

func (s *dirSource) load(context.Context) (*server.Dataset, error) {
	layers, err := geojson.LoadDir(s.dir)
	if err != nil {
		return nil, err
	}
	ix, err := geo.NewIndex(layers...)
	if err != nil {
		return nil, err
	}
	v := "gen" + strconv.FormatInt(s.gen.Add(1), 10)
	s.mu.Lock()
	s.count[v] = ix.Len()
	s.mu.Unlock()
	return &server.Dataset{Index: ix, Version: v}, nil
}

func (s *dirSource) features(version string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.count[version]
	return n, ok
}

const adminToken = "reload-secret"

// reloadServer serves the dataset of src with a Reloader on a loopback
// listener.
func reloadServer(t *testing.T, src *dirSource) (*httptest.Server, *server.Reloader) {
	t.Helper()
	d, err := src.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	current := new(atomic.Pointer[geo.Index])
	current.Store(d.Index)
	r := server.NewReloader(src.load)
	h := server.New(server.Config{Index: current, DataVersion: d.Version, Reloader: r, Tokens: []string{adminToken},
		Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts, r
}

// TestReloadUnderLoad replaces the layers 20 times, every third time with a
// broken file, while clients query without pause: no request fails, and
// every answer is wholly of one version: the version its ETag or body
// names has exactly the features it reports.
func TestReloadUnderLoad(t *testing.T) {
	src := &dirSource{dir: t.TempDir(), count: map[string]int{}}
	siteLayer(t, src.dir, 1)
	ts, reloader := reloadServer(t, src)

	var (
		stop              atomic.Bool
		requests, checked atomic.Int64
		wg                sync.WaitGroup
		failures          = make(chan string, 100)
	)
	fail := func(format string, a ...any) {
		select {
		case failures <- fmt.Sprintf(format, a...):
		default:
		}
	}
	client := ts.Client()
	get := func(target string) (*http.Response, []byte, bool) {
		requests.Add(1)
		res, err := client.Get(ts.URL + target)
		if err != nil {
			fail("GET %s: %v", target, err)
			return nil, nil, false
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			fail("GET %s: %d %v %s", target, res.StatusCode, err, body)
			return nil, nil, false
		}
		return res, body, true
	}
	check := func(what, version string, got int) {
		want, ok := src.features(version)
		switch {
		case !ok:
			fail("%s: version %q was never loaded", what, version)
		case got != want:
			fail("%s: version %s has %d features, the answer %d", what, version, want, got)
		default:
			checked.Add(1)
		}
	}
	for w := range 4 {
		wg.Go(func() {
			for !stop.Load() {
				if w%2 == 0 {
					res, body, ok := get("/collections/sites/items?limit=1000")
					if !ok {
						continue
					}
					version, _, _ := strings.Cut(strings.Trim(strings.TrimPrefix(res.Header.Get("ETag"), "W/"), `"`), ".")
					var doc struct {
						NumberMatched int `json:"numberMatched"`
						Features      []struct {
							Properties struct{ N int } `json:"properties"`
						} `json:"features"`
					}
					if err := json.Unmarshal(body, &doc); err != nil {
						fail("items: %v", err)
						continue
					}
					check("items ETag", version, doc.NumberMatched)
					for _, f := range doc.Features {
						if f.Properties.N != doc.NumberMatched {
							fail("items of version %s mix in a feature of the %d-feature version", version, f.Properties.N)
						}
					}
				} else {
					_, body, ok := get("/collections")
					if !ok {
						continue
					}
					var doc struct {
						DataVersion string `json:"data_version"`
						Collections []struct {
							Links []struct{ Rel, Title string } `json:"links"`
						} `json:"collections"`
					}
					if err := json.Unmarshal(body, &doc); err != nil || len(doc.Collections) != 1 {
						fail("collections: %v %s", err, body)
						continue
					}
					for _, l := range doc.Collections[0].Links {
						if l.Rel == "items" {
							var n int
							fmt.Sscanf(l.Title[strings.Index(l.Title, "(")+1:], "%d", &n)
							check("collections data_version", doc.DataVersion, n)
						}
					}
				}
			}
		})
	}

	// Each replacement waits for answers checked since the last, not for
	// a fixed time: a busy machine may answer none in a few milliseconds.
	answered := func() bool {
		want := checked.Load() + 5
		for deadline := time.Now().Add(time.Minute); checked.Load() < want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("%d answers checked, and no more for a minute", checked.Load())
				return false
			}
		}
		return true
	}
	broken := 0
	for i := 1; i <= 20 && answered(); i++ {
		if i%3 == 0 {
			broken++
			writeFile(t, filepath.Join(src.dir, "sites.geojson"), `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[200,50]}}]}`)
		} else {
			siteLayer(t, src.dir, 10*i)
		}
		var err error
		if i%2 == 0 {
			_, err = reloader.Reload(context.Background())
		} else {
			reason := ""
			if i%3 == 0 {
				reason = "longitude 200 out of range"
			}
			err = postReload(t, ts, reason)
		}
		if (err != nil) != (i%3 == 0) {
			t.Errorf("replacement %d: reload error %v", i, err)
		}
	}
	answered()
	stop.Store(true)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	t.Logf("%d requests, %d checked across 20 replacements (%d broken)", requests.Load(), checked.Load(), broken)

	// The last replacement (20) loaded; the broken one before it is gone
	// from /readyz, which reports the last outcome.
	var ready struct {
		Status     string
		LastReload struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		} `json:"last_reload"`
	}
	_, body, _ := get("/readyz")
	if err := json.Unmarshal(body, &ready); err != nil || ready.Status != "ready" || !ready.LastReload.OK {
		t.Errorf("readyz after the last reload: %s", body)
	}
	_, body, _ = get("/metrics")
	for _, want := range []string{
		`protectmap_reloads_total{result="ok"} ` + strconv.Itoa(20-broken),
		`protectmap_reloads_total{result="error"} ` + strconv.Itoa(broken),
		`protectmap_layer_features{layer="sites"} 200`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// postReload asks for a reload over HTTP; a broken reload must answer 422
// with the reason, which contains reason.
func postReload(t *testing.T, ts *httptest.Server, reason string) error {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusOK:
		return nil
	case res.StatusCode == http.StatusUnprocessableEntity && reason != "" && strings.Contains(string(body), reason):
		return fmt.Errorf("%s", body)
	}
	t.Fatalf("POST /admin/reload: %d %s", res.StatusCode, body)
	return nil
}

// TestReloadBroken: a broken file keeps the old data serving and is
// reported by /readyz; a reload needs a token.
func TestReloadBroken(t *testing.T) {
	src := &dirSource{dir: t.TempDir(), count: map[string]int{}}
	siteLayer(t, src.dir, 3)
	ts, _ := reloadServer(t, src)

	res, err := ts.Client().Post(ts.URL+"/admin/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("reload without a token: %d", res.StatusCode)
	}

	writeFile(t, filepath.Join(src.dir, "sites.geojson"), `{"type":"FeatureCollection","features":[`)
	if err := postReload(t, ts, "sites.geojson: invalid JSON"); err == nil {
		t.Fatal("a broken file reloaded")
	}
	res, err = ts.Client().Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var ready struct {
		Status      string `json:"status"`
		DataVersion string `json:"data_version"`
		Features    int    `json:"features"`
		LastReload  struct {
			OK      bool   `json:"ok"`
			Error   string `json:"error"`
			Version string `json:"data_version"`
		} `json:"last_reload"`
	}
	if err := json.Unmarshal(body, &ready); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || ready.Status != "ready" || ready.Features != 3 || ready.DataVersion != "gen1" ||
		ready.LastReload.OK || !strings.Contains(ready.LastReload.Error, "sites.geojson") || ready.LastReload.Version != "gen1" {
		t.Errorf("readyz after a broken reload: %d %s", res.StatusCode, body)
	}
}
