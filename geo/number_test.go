package geo

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/internal/testenv"
)

func TestParseNumber(t *testing.T) {
	for _, tc := range testenv.NumberSyntax() {
		got, err := ParseNumber(tc.Text)
		if (err == nil) != tc.OK || tc.OK && got != tc.Value {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v, ok %v", tc.Text, got, err, tc.Value, tc.OK)
		}
	}
}

// FuzzParseNumber: ParseNumber takes exactly the numbers encoding/json
// takes (but those beyond a float64), with the same value.
func FuzzParseNumber(f *testing.F) {
	for _, tc := range testenv.NumberSyntax() {
		f.Add(tc.Text)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseNumber(s)
		t2 := strings.TrimSpace(s)
		var want float64
		jerr := json.Unmarshal([]byte(t2), &want)
		isNum := t2 != "" && strings.ContainsRune("-0123456789", rune(t2[0])) && strings.TrimSpace(t2) == t2
		switch {
		case err == nil && (jerr != nil || !isNum || got != want):
			t.Fatalf("ParseNumber(%q) = %v; encoding/json says %v, %v", s, got, want, jerr)
		case err != nil && jerr == nil && isNum && !strings.Contains(err.Error(), "beyond"):
			t.Fatalf("ParseNumber(%q) refused what encoding/json reads as %v: %v", s, want, err)
		}
	})
}
