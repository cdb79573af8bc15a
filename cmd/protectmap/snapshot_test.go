package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/geo/snapshot"
)

// TestSnapshot guards that serving a snapshot serves the data it was
// written from, under the same data version, and that a damaged one is
// refused with the reason.
func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data.snapshot")
	data, agreements := "../../testdata/layers", "../../testdata/agreements/agreements.json"
	code, out, errOut := runCLI(t, "snapshot", "--out", file, "--data", data, "--agreements", agreements)
	if code != 0 || !strings.Contains(out, "wrote "+file) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want, wantFrom, err := loadDataset(data, nil, agreements)
	if err != nil {
		t.Fatal(err)
	}
	got, from, err := loadSnapshot(file)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != want.Version || from != wantFrom {
		t.Errorf("data version %s from %s, want %s from %s", got.Version, from, want.Version, wantFrom)
	}
	if g, w := mustMarshal(t, got.Agreements), mustMarshal(t, want.Agreements); g != w {
		t.Errorf("agreements:\n got %s\nwant %s", g, w)
	}
	if g, w := strings.Join(got.Index.Names(), ","), strings.Join(want.Index.Names(), ","); g != w || got.Index.Len() != want.Index.Len() {
		t.Errorf("layers %s (%d features), want %s (%d)", g, got.Index.Len(), w, want.Index.Len())
	}

	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	damaged := filepath.Join(dir, "damaged.snapshot")
	if err := os.WriteFile(damaged, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadSnapshot(damaged); !errors.Is(err, snapshot.ErrChecksum) || !strings.Contains(err.Error(), damaged) {
		t.Errorf("damaged snapshot: %v", err)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"snapshot", "--data", data}, "--out FILE is required"},
		{[]string{"snapshot", "--out", file, "--snapshot", file}, "flag provided but not defined: -snapshot"},
		{[]string{"serve", "--snapshot", file, "--data", data}, "goes without --data"},
	} {
		if code, _, errOut := runCLI(t, tc.args...); code != 2 || !strings.Contains(errOut, tc.says) {
			t.Errorf("%v: exit %d, %q", tc.args, code, errOut)
		}
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
