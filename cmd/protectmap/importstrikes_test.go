package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server/store"
)

// TestImportStrikesCommand records the UCDP events in Ukraine as published,
// then again (nothing changes), and refuses a file with bad rows whole.
func TestImportStrikesCommand(t *testing.T) {
	file := testenv.SharedData(t, "ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2023.csv")
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(fh).ReadAll()
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	events := len(rows) - 1
	dsn := filepath.Join(t.TempDir(), "strikes.db")
	for _, want := range []string{
		fmt.Sprintf("%d strikes recorded, 0 updated, 0 unchanged", events),
		fmt.Sprintf("0 strikes recorded, 0 updated, %d unchanged", events),
	} {
		code, out, errOut := runCLI(t, "import", "strikes", file, "--store", dsn)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("exit %d, %q %q; want %q", code, out, errOut, want)
		}
	}
	code, _, errOut := runCLI(t, "import", "strikes", "../../testdata/strikes/ucdp_bad.csv", "--store", dsn)
	for _, want := range []string{"nothing recorded", `line 3: where_prec: "9" is not a whole number from 1 to 7`, "line 8: id: the same event as line 2"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("bad file: exit %d, %q; want exit 1 and %q", code, errOut, want)
		}
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.List(context.Background(), store.Query{Count: true, Limit: 1})
	if err != nil || page.Matched != events || page.Strikes[0].Source != store.UCDPSource {
		t.Errorf("the store holds %d strikes (%v), want the file's %d from UCDP", page.Matched, err, events)
	}
}

// TestImportStrikesColumns imports a CSV of its own layout through --columns.
func TestImportStrikesColumns(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "monitor.csv")
	if err := os.WriteFile(file, []byte("Y,X,When,Ref\n50.45,30.52,2025-03-20,R1\n50.46,30.53,2025-03-21,R2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "strikes", file, "--store", filepath.Join(dir, "s.db"), "--columns", "lat=y,lon=x,time=when,id=ref", "--source", "Monitor"}
	for _, want := range []string{"2 strikes recorded", "2 unchanged"} {
		if code, out, errOut := runCLI(t, args...); code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, %q %q; want %q", code, out, errOut, want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--columns", "lat=y"}, "--columns: no column for lon, time"},
		{[]string{"--source", "Monitor"}, "--source names the source of a CSV read through --columns"},
	} {
		code, _, errOut := runCLI(t, append([]string{"import", "strikes", file, "--store", filepath.Join(dir, "s.db")}, c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

// TestImportStrikesJudges: an imported strike is recorded with its verdict
// against the data named, as POST /strikes records it, that data version is
// kept, and the audit log names the actor.
func TestImportStrikesJudges(t *testing.T) {
	dir, _ := evidenceData(t)
	removeSite(t, dir, struckSite)
	file := filepath.Join(t.TempDir(), "strikes.geojson")
	dsn := filepath.Join(t.TempDir(), "strikes.db")
	ctx := context.Background()
	var versions []string
	for i, c := range []struct {
		args []string
		hit  bool
	}{
		{nil, true},                      // the embedded data holds the site struck
		{[]string{"--data", dir}, false}, // this data no longer does
	} {
		strike := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":%s},`+
			`"properties":{"datetime":"2025-03-20T04:00:00Z","source":"field report","event_id":"I-%d"}}]}`, struckAt, i)
		if err := os.WriteFile(file, []byte(strike), 0o644); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"import", "strikes", file, "--store", dsn, "--actor", analyst}, c.args...)
		if code, out, errOut := runCLI(t, args...); code != 0 || !strings.Contains(out, "1 strikes recorded") {
			t.Fatalf("%v: exit %d, %q %q", c.args, code, out, errOut)
		}
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.List(ctx, store.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got *store.Strike
		for k := range page.Strikes {
			if page.Strikes[k].SourceEventID == fmt.Sprintf("I-%d", i) {
				got = &page.Strikes[k]
			}
		}
		if got == nil || got.Verdict == nil {
			t.Fatalf("%v: strike I-%d recorded with no verdict: %+v", c.args, i, got)
		}
		if hit := strings.Contains(string(got.Verdict.Body), `"verdict":"protected_site_hit"`); hit != c.hit {
			t.Errorf("%v: verdict %s, want a protected site hit: %t", c.args, got.Verdict.Body, c.hit)
		}
		versions = append(versions, got.Verdict.DataVersion)
		events, err := st.History(ctx, got.ID)
		if err != nil || len(events) != 1 || events[0].Actor != analyst || !strings.Contains(string(events[0].Record), got.Verdict.DataVersion) {
			t.Errorf("%v: history %+v, %v", c.args, events, err)
		}
		kept, err := st.Versions(ctx)
		st.Close()
		if err != nil || len(kept) != i+1 || kept[0].Version != got.Verdict.DataVersion {
			t.Errorf("%v: versions kept %+v, %v; want %d, the newest %s", c.args, kept, err, i+1, got.Verdict.DataVersion)
		}
	}
	if versions[0] == versions[1] {
		t.Errorf("both imports judged on data version %s", versions[0])
	}
}
