package server_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/internal/testenv"
)

// slimCopy is a UCDP file cut to some of its columns, with the dates added
// in ISO form, as the slim copy of the UCDP events is made; change, when
// given, rewrites each row.
func slimCopy(t *testing.T, full []byte, keep []string, change func(col map[string]int, row []string)) string {
	rows, err := csv.NewReader(bytes.NewReader(full)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(append(slices.Clone(keep), "date_start_iso", "date_end_iso"))
	for _, r := range rows[1:] {
		out := make([]string, 0, len(keep)+2)
		for _, k := range keep {
			out = append(out, r[col[k]])
		}
		for _, d := range []string{"date_start", "date_end"} {
			var day time.Time
			for _, layout := range []string{"1/2/2006 3:04:05 PM", "01/02/2006 15:04", "2006-01-02 15:04:05.000", time.DateOnly} {
				if day, err = time.Parse(layout, r[col[d]]); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("%s %q: %v", d, r[col[d]], err)
			}
			out = append(out, day.Format(time.DateOnly))
		}
		if change != nil {
			change(col, out)
		}
		w.Write(out)
	}
	w.Flush()
	return b.String()
}

var slimColumns = []string{"id", "relid", "year", "type_of_violence", "conflict_name", "dyad_name", "side_a", "side_b", "where_prec",
	"where_description", "adm_1", "adm_2", "latitude", "longitude", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b",
	"deaths_civilians", "deaths_unknown", "best", "high", "low", "source_headline"}

// logSnapshot is every strike recorded, as served, in order.
func logSnapshot(t *testing.T, f *strikeFixture) string {
	page := f.getJSON(t, "/strikes?limit=10000")
	return fmt.Sprint(page["numberMatched"], page["features"])
}

// TestStrikeCopiesLink: a thinner copy of a UCDP file, posted after the
// file, links its events to those recorded rather than recording them
// again or stripping them of the columns it lacks; the file posted again
// then changes nothing. A copy that says something else of an event
// updates it, and one whose ISO dates contradict its dates is refused.
func TestStrikeCopiesLink(t *testing.T) {
	full, err := os.ReadFile("../testdata/strikes/ucdp.csv")
	if err != nil {
		t.Fatal(err)
	}
	events := float64(strings.Count(strings.TrimSpace(string(full)), "\n"))
	f := newStrikeFixture(t, sqliteStore(t))
	f.post(t, "text/csv", string(full), http.StatusCreated)
	before := logSnapshot(t, f)
	res := f.post(t, "text/csv", slimCopy(t, full, slimColumns, nil), http.StatusOK)
	if res["linked"] != events || res["created"] != 0.0 || res["updated"] != 0.0 || !strings.Contains(fmt.Sprint(res["strikes"]), "status:linked") {
		t.Errorf("the slim copy: %v", res)
	}
	if after := logSnapshot(t, f); after != before {
		t.Errorf("linking changed the log:\n%s\n%s", after, before)
	}
	if res := f.post(t, "text/csv", string(full), http.StatusOK); res["unchanged"] != events || res["linked"] != 0.0 {
		t.Errorf("the file again: %v", res)
	}
	other := slimCopy(t, full, slimColumns, func(col map[string]int, row []string) { row[slices.Index(slimColumns, "best")] = "999" })
	if res := f.post(t, "text/csv", other, http.StatusOK); res["updated"] != events || res["linked"] != 0.0 {
		t.Errorf("a copy with other death counts: %v", res)
	}
	wrong := slimCopy(t, full, slimColumns, func(col map[string]int, row []string) { row[len(row)-1] = "2001-01-01" })
	if rec := f.send(t, http.MethodPost, "/strikes", "text/csv", wrong, true); rec.Code != 400 ||
		!strings.Contains(rec.Body.String(), "date_end_iso: 2001-01-01 is not the day of date_end") {
		t.Errorf("contradicting ISO dates: %d %s", rec.Code, rec.Body)
	}
}

// TestStrikeCopiesLinkUCDP: the UCDP events in Ukraine, posted as
// published, then as the slim copy with ISO dates, then as published
// again: 3,883 strikes, linked the second time, unchanged the third.
func TestStrikeCopiesLinkUCDP(t *testing.T) {
	dir := testenv.SharedData(t, "ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2023.csv")
	full, err := os.ReadFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	slim, err := os.ReadFile(strings.TrimSuffix(dir, "ucdp_ged_ukraine_2014_2023.csv") + "ucdp_ged_ukraine_slim_isodates.csv")
	if err != nil {
		t.Fatal(err)
	}
	f := newStrikeFixture(t, sqliteStore(t))
	if res := f.post(t, "text/csv", string(full), http.StatusCreated); res["created"] != 3883.0 {
		t.Fatalf("the file: %v", res["created"])
	}
	before := logSnapshot(t, f)
	if res := f.post(t, "text/csv", string(slim), http.StatusOK); res["linked"] != 3883.0 {
		t.Errorf("the slim copy: created %v, updated %v, unchanged %v, linked %v", res["created"], res["updated"], res["unchanged"], res["linked"])
	}
	if res := f.post(t, "text/csv", string(full), http.StatusOK); res["unchanged"] != 3883.0 {
		t.Errorf("the file again: created %v, updated %v, unchanged %v, linked %v", res["created"], res["updated"], res["unchanged"], res["linked"])
	}
	if after := logSnapshot(t, f); after != before {
		t.Error("the log changed")
	}
}
