package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testSettings is a flag set like serve's: a plain, a repeatable, a
// secret and a numeric setting.
func testSettings(t *testing.T) (*settings, *string, *layerFlags, *string, *int) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", ":8080", "listen address")
	var layers layerFlags
	fs.Var(&layers, "layer", "NAME=FILE")
	tokens := fs.String("tokens", "", "tokens")
	n := fs.Int("max-heavy", 2, "heavy requests")
	return newSettings(fs, "tokens"), addr, &layers, tokens, n
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func writeSettings(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSettingsPrecedence: flag over environment over file over default,
// for each format of the file.
func TestSettingsPrecedence(t *testing.T) {
	files := map[string]string{
		"json": `{"addr": ":1000", "max-heavy": 7, "layer": ["a=a.geojson", "b=b.geojson"], "tokens": "from-file"}`,
		"kv":   "# protectmap\naddr = :1000\nmax-heavy=7\n\nlayer=a=a.geojson\nlayer=b=b.geojson\ntokens=from-file\n",
	}
	for format, body := range files {
		t.Run(format, func(t *testing.T) {
			file := writeSettings(t, "settings", body)
			s, addr, layers, tokens, n := testSettings(t)
			err := s.parse([]string{"--addr", ":3000", "--config", file}, env(map[string]string{
				"PROTECTMAP_ADDR": ":2000", "PROTECTMAP_TOKENS": "from-env",
			}))
			if err != nil {
				t.Fatal(err)
			}
			if *addr != ":3000" || *tokens != "from-env" || *n != 7 || layers.String() != "a=a.geojson,b=b.geojson" {
				t.Errorf("addr %q tokens %q max-heavy %d layers %q", *addr, *tokens, *n, layers)
			}
			got := fmt.Sprint(s.describe())
			for _, want := range []string{"addr :3000 (flag)", "tokens [redacted] (env)", "max-heavy 7 (file)", "config " + file + " (flag)"} {
				if !strings.Contains(got, want) {
					t.Errorf("describe lacks %q: %s", want, got)
				}
			}
			if strings.Contains(got, "from-env") || strings.Contains(got, "from-file") {
				t.Errorf("a secret is printed: %s", got)
			}
		})
	}
	// Defaults stand when nothing sets them; the file may come from the
	// environment.
	s, addr, _, _, n := testSettings(t)
	file := writeSettings(t, "settings", "max-heavy=3\n")
	if err := s.parse(nil, env(map[string]string{"PROTECTMAP_CONFIG": file})); err != nil || *addr != ":8080" || *n != 3 {
		t.Errorf("defaults: %v %q %d", err, *addr, *n)
	}
	if !strings.Contains(fmt.Sprint(s.describe()), "addr :8080 (default)") {
		t.Errorf("describe: %v", s.describe())
	}
}

// TestSettingsErrors: a bad setting is a usage error naming where it is.
func TestSettingsErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, env, want string }{
		{"unknown key", "addr=:1\nfrobnicate=1\n", "", ":2: unknown setting \"frobnicate\""},
		{"bad value", "\nmax-heavy=many\n", "", ":2: max-heavy: "},
		{"not KEY=VALUE", "addr\n", "", "line 1: want KEY=VALUE"},
		{"bad JSON", `{"addr": }`, "", "not a JSON object of settings"},
		{"JSON object value", `{"addr": {"host": "x"}}`, "", `setting "addr": want a string`},
		{"bad environment", "", "many", "PROTECTMAP_MAX_HEAVY=\"many\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _, _, _ := testSettings(t)
			args := []string{}
			if tc.body != "" {
				args = append(args, "--config", writeSettings(t, "settings", tc.body))
			}
			err := s.parse(args, env(map[string]string{"PROTECTMAP_MAX_HEAVY": tc.env}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if !errors.As(err, new(usageError)) {
				t.Errorf("%v is not a usage error", err)
			}
		})
	}
}

// lockedWriter collects a log written from other goroutines.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestServeHelpDocumentsSettings: --help names every flag's environment
// variable and the precedence.
func TestServeHelpDocumentsSettings(t *testing.T) {
	code, _, out := runCLI(t, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"PROTECTMAP_ADDR", "PROTECTMAP_DATA", "PROTECTMAP_RATE_LIMIT", "PROTECTMAP_READ_HEADER_TIMEOUT",
		"PROTECTMAP_CONFIG", "PROTECTMAP_TOKENS", "wins over the environment", "SIGHUP"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

// FuzzParseSettingsFile: any settings file is parsed or refused with an
// error; parsed keys and values are trimmed and keys never empty.
func FuzzParseSettingsFile(f *testing.F) {
	for _, s := range []string{"addr=:8080\n", "# c\n\nlayer=a=b\n", `{"addr":":1","layer":["a=b"],"rate-limit":2.5,"allow-insecure-tokens":true}`,
		"=x", "k", `{"a":null}`, `{"a":[[1]]}`, "{", " { } x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		entries, err := parseSettingsFile([]byte(body))
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.key == "" {
				t.Fatalf("%q: empty key", body)
			}
			if !strings.HasPrefix(strings.TrimSpace(body), "{") && (e.key != strings.TrimSpace(e.key) || e.value != strings.TrimSpace(e.value)) {
				t.Fatalf("%q: untrimmed %q=%q", body, e.key, e.value)
			}
		}
	})
}

// sitesLayer is a layer of n points.
func sitesLayer(n int) string {
	var fs []string
	for i := range n {
		fs = append(fs, fmt.Sprintf(`{"type":"Feature","id":"p%d","geometry":{"type":"Point","coordinates":[30.%d,50]},"properties":{}}`, i, i))
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
}

// served is `protectmap serve` running in this process for a test.
type served struct {
	t    *testing.T
	done chan int
	logs *lockedWriter
}

// servingLine is the line serve logs once it listens, naming its address.
var servingLine = regexp.MustCompile(`msg=serving addr=(\S+)`)

// readiness is what a test reads of /readyz.
type readiness struct {
	Version  string `json:"data_version"`
	Features int    `json:"features"`
}

// startServe runs serve with args on a loopback port the kernel gives it:
// a port found free beforehand could be taken by another process's
// connection while serve loads its data, before it listens.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	s := &served{t: t, done: make(chan int, 1), logs: &lockedWriter{}}
	go func() {
		s.done <- run(append([]string{"serve", "--addr", "127.0.0.1:0", "--tile-url", "off", "--store", "off"}, args...), io.Discard, s.logs)
	}()
	return s
}

// ready reads /readyz; false until serve listens, or when it is not ready.
func (s *served) ready() (readiness, bool) {
	var r readiness
	m := servingLine.FindStringSubmatch(s.logs.String())
	if m == nil {
		return r, false
	}
	res, err := http.Get("http://" + m[1] + "/readyz")
	if err != nil {
		return r, false
	}
	defer res.Body.Close()
	return r, json.NewDecoder(res.Body).Decode(&r) == nil && res.StatusCode == 200
}

// waitFor polls /readyz until ok holds, for up to a minute.
func (s *served) waitFor(what string, ok func(readiness) bool) readiness {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if r, up := s.ready(); up && ok(r) {
			return r
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("waiting for %s\n%s", what, s.logs.String())
		case code := <-s.done:
			s.t.Fatalf("serve exited with %d", code)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends SIGINT and waits for a clean exit.
func (s *served) stop() {
	s.t.Helper()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case code := <-s.done:
		if code != 0 {
			s.t.Errorf("serve exited with %d after SIGINT", code)
		}
	case <-time.After(time.Minute):
		s.t.Fatal("serve did not stop on SIGINT")
	}
}

// noAgreements is an agreements file with none: the embedded agreements
// protect layers these tests' data directories lack.
const noAgreements = `{"agreements": []}`

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeReloadsOnHangup runs serve on a data directory, changes a layer
// and sends SIGHUP: the new data is served under a new data_version; a
// broken file then leaves it serving. SIGINT stops the server cleanly.
func TestServeReloadsOnHangup(t *testing.T) {
	dir := t.TempDir()
	layer := filepath.Join(dir, "sites.geojson")
	writeFile(t, layer, sitesLayer(1))
	writeFile(t, filepath.Join(dir, "agreements.json"), noAgreements)
	s := startServe(t, "--data", dir)
	first := s.waitFor("the server", func(r readiness) bool { return r.Features == 1 })
	writeFile(t, layer, sitesLayer(3))
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	second := s.waitFor("the reload", func(r readiness) bool { return r.Features == 3 })
	if second.Version == first.Version || len(second.Version) != 16 {
		t.Errorf("data versions %q then %q", first.Version, second.Version)
	}
	writeFile(t, layer, `{"type":"FeatureCollection","features":[{]}`)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	s.waitFor("the failed reload", func(r readiness) bool { return r.Features == 3 && strings.Contains(s.logs.String(), "reload failed") })
	s.stop()
	if !strings.Contains(s.logs.String(), "shutting down") || !strings.Contains(s.logs.String(), "msg=settings") {
		t.Errorf("log:\n%s", s.logs.String())
	}
}

// TestServeWatchesTheData: with --watch, changing a layer, adding one and
// removing it reload the data with no signal; a broken file keeps the data
// served until it is fixed.
func TestServeWatchesTheData(t *testing.T) {
	dir := t.TempDir()
	layer := filepath.Join(dir, "sites.geojson")
	writeFile(t, layer, sitesLayer(1))
	writeFile(t, filepath.Join(dir, "agreements.json"), noAgreements)
	s := startServe(t, "--data", dir, "--watch", "50ms")
	s.waitFor("the server", func(r readiness) bool { return r.Features == 1 })
	writeFile(t, layer, sitesLayer(2))
	s.waitFor("the changed layer", func(r readiness) bool { return r.Features == 2 })
	added := filepath.Join(dir, "more.geojson")
	writeFile(t, added, sitesLayer(5))
	s.waitFor("the added layer", func(r readiness) bool { return r.Features == 7 })
	writeFile(t, layer, `{"type":"FeatureCollection","features":[{]}`)
	s.waitFor("the failed reload", func(r readiness) bool { return strings.Contains(s.logs.String(), "reload failed") })
	if r, _ := s.ready(); r.Features != 7 {
		t.Errorf("after a broken file, %d features served, want the 7 before it", r.Features)
	}
	writeFile(t, layer, sitesLayer(3))
	s.waitFor("the fixed layer", func(r readiness) bool { return r.Features == 8 })
	if err := os.Remove(added); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the removed layer", func(r readiness) bool { return r.Features == 3 })
	s.stop()
}

// TestServeRefusesBadSettings: settings serve cannot honour stop it at
// once, saying which.
func TestServeRefusesBadSettings(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--watch", "1s"}, "--watch needs"}, // the embedded data cannot change
		{[]string{"--warm-tiles", "9"}, "--warm-tiles must be a zoom from 0 to 8"},
		{[]string{"--warm-tiles", "-1"}, "--warm-tiles must be"},
		{[]string{"--tile-cache-mib", "-5"}, "--tile-cache-mib must be 0 or more"},
		{[]string{"--feature-cache-mib", "-1"}, "--feature-cache-mib must be 0 or more"},
		{[]string{"--request-log-interval", "-1s"}, "--request-log-interval must be 0 or more"},
		{[]string{"--procs", "0"}, "--procs must be 1 or more"},
	} {
		var stderr bytes.Buffer
		if code := run(append([]string{"serve", "--store", "off"}, tt.args...), io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("serve %v: exit %d\n%s", tt.args, code, stderr.String())
		}
	}
}
