package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDepth(t *testing.T) {
	tests := []struct {
		name, json string
		want       int
	}{
		{"scalar", `12`, 0},
		{"string with brackets", `"{[{["`, 0},
		{"empty object", `{}`, 1},
		{"array in object", `{"a":[1,2]}`, 2},
		{"siblings count once", `{"a":[1],"b":{"c":0}}`, 2},
		{"brackets in keys and values", `{"[[":"]]","b":[{"x":"{"}]}`, 3},
		{"escaped quote", `{"a":"\"[","b":[]}`, 2},
		{"400 deep", strings.Repeat("[", 400) + strings.Repeat("]", 400), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Depth([]byte(tc.json)); got != tc.want {
				t.Errorf("Depth(%.40s) = %d, want %d", tc.json, got, tc.want)
			}
		})
	}
}

// FuzzDepth: on valid JSON, Depth agrees with a count from encoding/json's
// tokens; on anything, it never panics.
func FuzzDepth(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":"]"}]}`, `[[[]]]`, `"x"`, `{"a":"\\"}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Depth(b)
		if !json.Valid(b) {
			return
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		depth, want := 0, 0
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
				want = max(want, depth)
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
		}
		if got != want {
			t.Fatalf("Depth(%q) = %d, want %d", b, got, want)
		}
	})
}
