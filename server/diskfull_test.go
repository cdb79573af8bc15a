package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiskFull puts a SQLite strike log on a 2 MiB tmpfs and records
// strikes until it is full: the write that does not fit gets 507 with
// Retry-After (regression: 500 without), /readyz says not ready while the
// disk stays full (regression: ready), and once space is freed both
// recover without a restart, with every acknowledged strike kept and no
// batch half written.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		if os.Getenv("PROTECTMAP_REQUIRE_TOOLS") == "" {
			t.Skipf("skipping: cannot mount a small tmpfs to fill: %v (set PROTECTMAP_REQUIRE_TOOLS to make this a failure)", err)
		}
		t.Fatalf("mounting a small tmpfs to fill: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Error(err)
		}
	})
	f := newStrikeFixture(t, filepath.Join(dir, "strikes.db"))
	notes := strings.Repeat("n", 2000)
	batch := func(n int) string {
		var features []string
		for i := range 50 {
			features = append(features, strikeAt(30.5, 50.4, moratoriumStart.Add(time.Duration(n*50+i)*time.Second),
				fmt.Sprintf(`"source":"disk","event_id":"B%dS%d","notes":%q`, n, i, notes)))
		}
		return collectionOf(features...)
	}
	ready := func() (int, string) {
		rec := f.get(t, "/readyz")
		return rec.Code, rec.Body.String()
	}

	acked, n := 0, 0
	for ; ; n++ {
		if n == 100 {
			t.Fatal("100 batches fit on a 2 MiB disk?")
		}
		rec := f.send(t, http.MethodPost, "/strikes", "application/geo+json", batch(n), true)
		if rec.Code == http.StatusCreated {
			acked += 50
			continue
		}
		if rec.Code != http.StatusInsufficientStorage || rec.Header().Get("Retry-After") == "" ||
			rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("batch %d on a full disk: %d, Retry-After %q: %s", n, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
		break
	}
	for range 2 { // and it stays so, probe after probe
		if code, body := ready(); code != http.StatusServiceUnavailable || !strings.Contains(body, "disk is full") {
			t.Errorf("/readyz on a full disk: %d %s", code, body)
		}
	}

	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=16m"); err != nil {
		t.Fatal(err)
	}
	if code, body := ready(); code != http.StatusOK {
		t.Errorf("/readyz with space again: %d %s", code, body)
	}
	if rec := f.send(t, http.MethodPost, "/strikes", "application/geo+json", batch(n), true); rec.Code != http.StatusCreated {
		t.Fatalf("the refused batch again, with space: %d %s", rec.Code, rec.Body)
	}
	acked += 50
	var got int
	for target := "/strikes?limit=1000"; target != ""; {
		doc := f.getJSON(t, target)
		got += len(doc["features"].([]any))
		target = ""
		if next, ok := links(t, doc)["next"]; ok {
			target = strings.TrimPrefix(next["href"].(string), "http://example.com")
		}
	}
	if got != acked {
		t.Errorf("%d strikes stored, %d acknowledged", got, acked)
	}
}
