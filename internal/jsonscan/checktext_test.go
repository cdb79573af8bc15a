package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, json string
		want       error
	}{
		{"plain", `{"a":"Kyiv","b":[1,"x"]}`, nil},
		{"pair", `{"a":"\ud83d\ude00"}`, nil},
		{"escaped backslash then u", `{"a":"\\u0000"}`, nil},
		{"NUL", `{"a":"x\u0000y"}`, ErrNUL},
		{"NUL in a key", `{"\u0000":1}`, ErrNUL},
		{"lone high", `{"a":"\ud83d"}`, ErrLoneSurrogate},
		{"high then other escape", `{"a":"\ud83d\n"}`, ErrLoneSurrogate},
		{"high then high", `{"a":"\ud83d\ud83d"}`, ErrLoneSurrogate},
		{"lone low", `["\ude00"]`, ErrLoneSurrogate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckText([]byte(tc.json)); !errors.Is(err, tc.want) {
				t.Errorf("CheckText(%s) = %v, want %v", tc.json, err, tc.want)
			}
		})
	}
}

// FuzzCheckText: valid JSON that CheckText passes decodes to strings that
// are valid UTF-8 without NUL, the same as they were sent.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{`"a"`, `"\u0000"`, `"\ud83d\ude00"`, `"\ud83d"`, `["\\u0000"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckText(b)
		var v any
		if err != nil || !utf8.Valid(b) || json.Unmarshal(b, &v) != nil {
			return
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				for _, r := range v {
					// U+FFFD is only acceptable when sent as itself.
					if r == 0 || r == utf8.RuneError && !sentAsItself(b) {
						t.Fatalf("CheckText passed %q, which decodes to %q", b, v)
					}
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for k, e := range v {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}

// sentAsItself reports whether b holds U+FFFD, raw or escaped.
func sentAsItself(b []byte) bool {
	return bytes.ContainsRune(b, utf8.RuneError) || bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`))
}
