package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server/store/pgtest"
)

// mainArgsEnv makes the test binary run the protectmap command line it
// holds (arguments separated by newlines) instead of the tests, so a test
// can run, and kill, a real server process.
const mainArgsEnv = "PROTECTMAP_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(mainArgsEnv); args != "" {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

const crashToken = "crash-test-token"

// serverProcess is a protectmap serve process.
type serverProcess struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

// startServer runs protectmap serve on a free loopback port with store
// and any more flags, and waits until it listens.
func startServer(t *testing.T, store string, flags ...string) *serverProcess {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--store", store, "--tile-url", "off", "--warm-tiles", "0"}, flags...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), mainArgsEnv+"="+strings.Join(args, "\n"), "PROTECTMAP_TOKENS="+crashToken)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
			log.WriteString(sc.Text() + "\n")
		}
		p.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		p.base = "http://" + a
	case err := <-p.done:
		t.Fatalf("protectmap serve ended before serving: %v\n%s", err, log.String())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("protectmap serve did not start within a minute")
	}
	return p
}

// stop ends the server as an operator would, with SIGTERM, and waits for
// it; stopping it again does nothing.
func (p *serverProcess) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		t.Fatal("protectmap serve did not stop within a minute of SIGTERM")
	}
}

// crashFeature is the strike recorded under key: its content follows from
// the key, so a stored strike can be checked whole.
func crashFeature(key string, n int) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%d.5,48.25]},`+
		`"properties":{"datetime":"2025-03-20T04:%02d:00Z","source":"crash test","event_id":%q,"notes":%q}}`,
		22+n%18, n%60, key, strings.Repeat(key+" ", 40))
}

// TestCrashKeepsAcknowledgedStrikes records strikes through a protectmap
// serve process, one at a time with every fourth POST a batch of ten,
// SIGKILLs it mid-stream, restarts it on the same store, and checks that
// every strike answered 201 is there, whole, and that every batch is all
// there or not at all. Three rounds, on one store.
func TestCrashKeepsAcknowledgedStrikes(t *testing.T) {
	store := filepath.Join(t.TempDir(), "strikes.db")
	client := &http.Client{Timeout: 30 * time.Second}
	acked := map[string]string{} // id to event id
	for round := range 3 {
		p := startServer(t, store)
		var mu sync.Mutex
		stop := make(chan struct{})
		writerDone := make(chan struct{})
		go func() {
			defer close(writerDone)
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				n := 1
				if b%4 == 3 {
					n = 10
				}
				keys := make([]string, n)
				features := make([]string, n)
				for k := range keys {
					keys[k] = fmt.Sprintf("r%d-b%d-of%d-%d", round, b, n, k)
					features[k] = crashFeature(keys[k], b+k)
				}
				body := features[0]
				if n > 1 {
					body = `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
				}
				ids, err := postStrikes(client, p.base, body)
				if err != nil {
					return // the server is gone: this POST was never acknowledged
				}
				mu.Lock()
				for k, id := range ids {
					acked[id] = keys[k]
				}
				mu.Unlock()
			}
		}()
		// Kill once this round has some acknowledged strikes.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 40*(round+1) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d strikes acknowledged in a minute", n)
			}
		}
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		close(stop)
		<-writerDone
		var exit *exec.ExitError
		if err := <-p.done; !errors.As(err, &exit) || exit.String() != "signal: killed" {
			t.Fatalf("the server ended with %v, not by SIGKILL", err)
		}
		checkStrikesAfterCrash(t, client, store, acked)
	}
}

// postStrikes records body and returns the ids of the strikes recorded,
// in order, once the server has answered 201.
func postStrikes(client *http.Client, base, body string) ([]string, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/strikes", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/geo+json")
	req.Header.Set("Authorization", "Bearer "+crashToken)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("%d: %s", res.StatusCode, raw)
	}
	var doc struct {
		ID      string `json:"id"`
		Strikes []struct {
			ID string `json:"id"`
		} `json:"strikes"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc.ID != "" {
		return []string{doc.ID}, nil
	}
	ids := make([]string, len(doc.Strikes))
	for i, s := range doc.Strikes {
		ids[i] = s.ID
	}
	return ids, nil
}

// checkStrikesAfterCrash restarts the server on store and checks what it
// holds against what was acknowledged.
func checkStrikesAfterCrash(t *testing.T, client *http.Client, store string, acked map[string]string) {
	t.Helper()
	p := startServer(t, store)
	defer func() {
		p.cmd.Process.Kill()
		<-p.done
	}()
	res, err := client.Get(p.base + "/strikes?limit=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Features []struct {
			ID       string `json:"id"`
			Geometry struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				EventID string `json:"event_id"`
				Notes   string `json:"notes"`
			} `json:"properties"`
		} `json:"features"`
		Links []struct {
			Rel string `json:"rel"`
		} `json:"links"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	for _, l := range page.Links {
		if l.Rel == "next" {
			t.Fatal("more than one page of strikes: raise the limit")
		}
	}
	stored := map[string]string{}
	batches := map[string]int{}
	for _, f := range page.Features {
		key := f.Properties.EventID
		stored[f.ID] = key
		if f.Properties.Notes != strings.Repeat(key+" ", 40) || len(f.Geometry.Coordinates) != 2 {
			t.Errorf("strike %s (%s) is not whole: %+v", f.ID, key, f)
		}
		batches[key[:strings.LastIndexByte(key, '-')]]++
	}
	for id, key := range acked {
		if stored[id] != key {
			t.Errorf("acknowledged strike %s (%s) is missing after the crash", id, key)
		}
	}
	for batch, n := range batches {
		var want int
		fmt.Sscanf(batch[strings.LastIndex(batch, "of")+2:], "%d", &want)
		if n != want {
			t.Errorf("batch %s: %d of its %d strikes stored", batch, n, want)
		}
	}
	t.Logf("%d strikes acknowledged, %d stored (the rest committed as the server died, before it could answer)", len(acked), len(stored))
}

// TestServeRefusesBadAgreements: an agreement naming a site the layers lack
// stops the server before it listens, naming the file, agreement and member.
func TestServeRefusesBadAgreements(t *testing.T) {
	code, _, stderr := runCLI(t, "serve", "--addr", "127.0.0.1:0", "--store", "off", "--data", "../../testdata/layers",
		"--agreements", "../../testdata/agreements/unknown-site.json")
	want := `unknown-site.json: agreement 0 (id "misspelt"): sites[0].id: no site "hosp-nowhere" in collection "hospitals"`
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
	}
}
