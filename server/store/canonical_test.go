package store

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// formatTime is t as the canonical writers write times, as a string for
// encoding/json to write in their place.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// byEncodingJSON is v as encoding/json writes it without HTML escaping:
// what the canonical writers must match byte for byte.
func byEncodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// canonicalByEncodingJSON decodes raw with UseNumber and writes it again
// with encoding/json.
func canonicalByEncodingJSON(t testing.TB, raw string) []byte {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return byEncodingJSON(t, v)
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"s1", `a"b\c`, "\x00\x1f\x7f", "\b\f\n\r\t", "Київ", "\xff\xfe", "a\u2028b\u2029", "<&>", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, s), byEncodingJSON(t, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}

func FuzzAppendFloat(f *testing.F) {
	for _, x := range []float64{0, math.Copysign(0, -1), 30.5234, -180, 1e-7, 1e21, 123456789e20, 5e-324, math.MaxFloat64, 0.1} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return
		}
		if got, want := appendFloat(nil, x), byEncodingJSON(t, x); string(got) != string(want) {
			t.Fatalf("appendFloat(%v) = %s, encoding/json %s", x, got, want)
		}
	})
}

// TestRecordOfMatchesEncodingJSON: a record, its verdict and an event's
// canonical bytes are what encoding/json writes for them, so the log's
// hashes do not depend on which wrote them.
func TestRecordOfMatchesEncodingJSON(t *testing.T) {
	judged := time.Date(2025, 3, 18, 1, 2, 3, 456789000, time.UTC)
	for _, c := range []struct {
		name       string
		strike     Strike
		backfilled bool
	}{
		{"sample", sampleStrike(3), false},
		{"backfilled, deleted, judged", func() Strike {
			s := sampleStrike(4)
			s.DeletedAt = judged.Add(time.Hour)
			s.Verdict = &Verdict{DataVersion: "v1", JudgedAt: judged, Backfilled: true, Body: json.RawMessage(`{"verdict":"no_protected_site"}`)}
			return s
		}(), true},
		{"awkward text and numbers", Strike{ID: "s\u2028<1>", Point: orb.Point{-0.0000001, 1e21}, UncertaintyMeters: 1e-7,
			Source: "a\"b\\c\x01\b\f", SourceEventID: "\xff", Notes: "Київ\n\t", Weapon: "&", Extra: json.RawMessage(` {"b" : [1.50, "x"], "a":{"d":null,"c":true}} `),
			Verdict: &Verdict{DataVersion: "v2", JudgedAt: judged, Body: json.RawMessage(`{"z":1,"a":[{"y":2,"x":3}]}`)}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.strike
			if err := s.canonicalVerdict(&canonicalBodies{}); err != nil {
				t.Fatal(err)
			}
			got, err := recordOf(&s, c.backfilled)
			if err != nil {
				t.Fatal(err)
			}
			r := record{Backfilled: c.backfilled, CreatedAt: formatTime(s.CreatedAt), Time: formatTime(s.Time), EventID: s.SourceEventID,
				ID: s.ID, Lat: s.Point[1], Lon: s.Point[0], Notes: s.Notes, Source: s.Source, Uncertainty: s.UncertaintyMeters,
				UpdatedAt: formatTime(s.UpdatedAt), Weapon: s.Weapon}
			if !s.DeletedAt.IsZero() {
				r.DeletedAt = formatTime(s.DeletedAt)
			}
			if len(s.Extra) > 0 {
				r.Extra = canonicalByEncodingJSON(t, string(s.Extra))
			}
			if s.Verdict != nil {
				var body json.RawMessage
				if s.Verdict.Body != nil {
					body = canonicalByEncodingJSON(t, string(s.Verdict.Body))
				}
				r.Verdict = byEncodingJSON(t, verdictJSON{Backfilled: s.Verdict.Backfilled, DataVersion: s.Verdict.DataVersion,
					JudgedAt: formatTime(s.Verdict.JudgedAt), Body: body})
			}
			if want := byEncodingJSON(t, &r); string(got) != string(want) {
				t.Errorf("recordOf:\n%s\nencoding/json:\n%s", got, want)
			}
			e := Event{Seq: 12, Time: judged, Actor: "al\u2029ice", Action: ActionUpdate, Strike: s.ID, Record: got}
			want := byEncodingJSON(t, struct {
				Action string          `json:"action"`
				Actor  string          `json:"actor"`
				Record json.RawMessage `json:"record"`
				Seq    int64           `json:"seq"`
				Strike string          `json:"strike"`
				Time   string          `json:"time"`
			}{e.Action, e.Actor, e.Record, e.Seq, e.Strike, formatTime(e.Time)})
			if got := e.CanonicalBytes(); string(got) != string(want) {
				t.Errorf("CanonicalBytes:\n%s\nencoding/json:\n%s", got, want)
			}
		})
	}
}
