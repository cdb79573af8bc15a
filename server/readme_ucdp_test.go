package server_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/internal/testenv"
	"github.com/protectmap/protectmap/server"
)

// TestREADMEUCDPShares judges the UCDP events in Ukraine, posted as
// published, against the embedded default data and agreements, and under
// scope=energy,hospitals,bridges, and fails unless README.md's table of
// their verdicts says what it finds: the table to paste is in the failure.
func TestREADMEUCDPShares(t *testing.T) {
	body, err := os.ReadFile(testenv.SharedData(t, "ucdp_ged_ukraine/ucdp_ged_ukraine_2014_2023.csv"))
	if err != nil {
		t.Fatal(err)
	}
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
		c.Index.Store(webDefaultIndex(t))
		c.Agreements = webDefaultAgreements(t)
	})
	f.post(t, "text/csv", string(body), http.StatusCreated)
	var summaries []map[string]any
	for _, q := range []string{"/report", "/report?scope=energy,hospitals,bridges"} {
		summaries = append(summaries, f.getJSON(t, q)["summary"].(map[string]any))
	}
	share := func(s map[string]any, o agreement.Outcome) string {
		n, all := s[string(o)].(float64), s["strikes"].(float64)
		return fmt.Sprintf("%s (%.1f %%)", thousands(int(n)), 100*n/all)
	}
	var table strings.Builder
	table.WriteString("| verdict | default agreements | `scope=energy,hospitals,bridges` |\n|---|---|---|\n")
	for _, o := range agreement.Outcomes() {
		fmt.Fprintf(&table, "| `%s` | %s | %s |\n", o, share(summaries[0], o), share(summaries[1], o))
	}
	fmt.Fprintf(&table, "| all | %s | %s |\n", thousands(int(summaries[0]["strikes"].(float64))), thousands(int(summaries[1]["strikes"].(float64))))
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), table.String()) {
		t.Errorf("README.md's table of the UCDP events' verdicts differs from what they are judged now; it should read:\n\n%s", table.String())
	}
	t.Logf("\n%s", table.String())
}

// thousands writes n with commas between its thousands, as the README does.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
